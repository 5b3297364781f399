// The OpenShift flavour of a sandbox cluster: the config.openshift.io objects rhacs-sts reads
// (Authentication, Infrastructure, ClusterVersion) with their CRDs.
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { applyCrds, crd, createOrKeep, mergePatch } from './objects.js';

export interface OpenShiftSeedOptions {
  /** spec.serviceAccountIssuer of authentication.config.openshift.io/cluster (the cluster's issuer). */
  issuer: string;
  region?: string;
  /** status.infrastructureName (default `rhacs-sts-sandbox-x7k2p`). */
  infrastructureName?: string;
  /** status.desired.version of clusterversion/version (default 4.16.12). */
  version?: string;
  /**
   * OpenShift on Azure: the Infrastructure object says platform Azure with this resource group and
   * cloud (as the installer writes it), and the nodes carry the region label, as on Azure.
   */
  azure?: { resourceGroup: string; cloudName?: string };
  /** OpenShift on Google Cloud: the Infrastructure object says GCP with this project. */
  gcp?: { projectId: string };
}

const OPENSHIFT_CONFIG = 'config.openshift.io';

export const OPENSHIFT_CRDS: V1CustomResourceDefinition[] = [
  crd({ group: OPENSHIFT_CONFIG, kind: 'Authentication', plural: 'authentications', scope: 'Cluster', version: 'v1' }),
  crd({ group: OPENSHIFT_CONFIG, kind: 'Infrastructure', plural: 'infrastructures', scope: 'Cluster', version: 'v1' }),
  crd({ group: OPENSHIFT_CONFIG, kind: 'ClusterVersion', plural: 'clusterversions', scope: 'Cluster', version: 'v1' }),
];

/** Creates or replaces a cluster-scoped custom object with spec and (via the status subresource) status. */
async function upsertClusterObject(
  kc: KubeConfig,
  g: { group: string; version: string; plural: string; kind: string },
  name: string,
  spec: object,
  status?: object,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: g.group, version: g.version, plural: g.plural, name };
  const body = { apiVersion: `${g.group}/${g.version}`, kind: g.kind, metadata: { name }, spec };
  const created = await createOrKeep(() => api.createClusterCustomObject({ group: g.group, version: g.version, plural: g.plural, body }));
  if (!created) await api.patchClusterCustomObject({ ...ref, body: { spec } }, mergePatch());
  if (status) await api.patchClusterCustomObjectStatus({ ...ref, body: { status } }, mergePatch());
}

/**
 * Seeds the OpenShift flavour: the config.openshift.io CRDs and their `cluster` objects — the
 * Authentication with spec.serviceAccountIssuer, the Infrastructure on platform AWS in `region`,
 * and a ClusterVersion `version`.
 */
/** The infrastructure name seedOpenShift gives a cluster unless told otherwise. */
export const OPENSHIFT_INFRASTRUCTURE_NAME = 'rhacs-sts-sandbox-x7k2p';

export async function seedOpenShift(kc: KubeConfig, opts: OpenShiftSeedOptions): Promise<void> {
  const region = opts.region ?? 'eu-west-1';
  const infraName = opts.infrastructureName ?? OPENSHIFT_INFRASTRUCTURE_NAME;
  const version = opts.version ?? '4.16.12';
  await applyCrds(kc, OPENSHIFT_CRDS);
  const base = { group: OPENSHIFT_CONFIG, version: 'v1' };
  await upsertClusterObject(
    kc,
    { ...base, plural: 'authentications', kind: 'Authentication' },
    'cluster',
    { type: 'IntegratedOAuth', oauthMetadata: { name: '' }, serviceAccountIssuer: opts.issuer, webhookTokenAuthenticator: { kubeConfig: { name: 'webhook-authentication-integrated-oauth' } } },
    { integratedOAuthMetadata: { name: 'oauth-openshift' } },
  );
  await upsertClusterObject(
    kc,
    { ...base, plural: 'infrastructures', kind: 'Infrastructure' },
    'cluster',
    opts.azure ? { cloudConfig: { name: 'cloud-provider-config', key: 'config' }, platformSpec: { type: 'Azure', azure: {} } } : { cloudConfig: { name: '' }, platformSpec: opts.gcp ? { type: 'GCP', gcp: {} } : { type: 'AWS', aws: {} } },
    {
      apiServerInternalURI: `https://api-int.${infraName}.example.com:6443`,
      apiServerURL: `https://api.${infraName}.example.com:6443`,
      controlPlaneTopology: 'HighlyAvailable',
      cpuPartitioning: 'None',
      etcdDiscoveryDomain: '',
      infrastructureName: infraName,
      infrastructureTopology: 'HighlyAvailable',
      ...(opts.azure
        ? { platform: 'Azure', platformStatus: { type: 'Azure', azure: { resourceGroupName: opts.azure.resourceGroup, networkResourceGroupName: opts.azure.resourceGroup, cloudName: opts.azure.cloudName ?? 'AzurePublicCloud' } } }
        : opts.gcp ? { platform: 'GCP', platformStatus: { type: 'GCP', gcp: { projectID: opts.gcp.projectId, region } } }
        : { platform: 'AWS', platformStatus: { type: 'AWS', aws: { region } } }),
    },
  );
  await upsertClusterObject(
    kc,
    { ...base, plural: 'clusterversions', kind: 'ClusterVersion' },
    'version',
    { channel: `stable-${version.split('.').slice(0, 2).join('.')}`, clusterID: '5f6a7b8c-1d2e-4f3a-9b8c-7d6e5f4a3b2c' },
    { desired: { version, image: `quay.io/openshift-release-dev/ocp-release:${version}-x86_64` }, history: [{ state: 'Completed', version }] },
  );
  if (opts.azure) {
    // The installer's nodes carry their Azure region (rhacs-sts makes the managed identity there).
    const core = kc.makeApiClient(CoreV1Api);
    for (const node of (await core.listNode()).items) {
      await core.patchNode({ name: node.metadata!.name!, body: { metadata: { labels: { 'topology.kubernetes.io/region': region, 'node.kubernetes.io/instance-type': 'Standard_D4s_v3' } } } }, mergePatch());
    }
  }
}
