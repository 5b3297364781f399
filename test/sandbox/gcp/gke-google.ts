// Google Cloud for a sandbox GKE cluster: the Google stand-ins (standins.ts) with the cluster as GKE
// knows it (workload identity on, its node pool on GKE_METADATA), gcloud's application default
// credentials for the seeded owner, and the environment that points rhacs-sts at them (gcloud's
// endpoint overrides, its token host, and the stand-ins' CA beside the public issuers' one).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { publicFetcher } from '../issuers/public-fetch.js';
import { GKE_PROJECT } from '../kube/kubeconfigs.js';
import type { ClusterInfo, SandboxInfo } from '../types.js';
import { startGkeCentralSide, type GkeCentralSide } from './gke-central-side.js';
import { startGcpStandins, type GcpStandins, type GkeClusterSpec } from './standins.js';

export interface GkeGoogle {
  standins: GcpStandins;
  /** GOOGLE_APPLICATION_CREDENTIALS, CLOUDSDK_API_ENDPOINT_OVERRIDES_* (STS and IAM Credentials too, for verify's chain), CLOUDSDK_AUTH_TOKEN_HOST, NODE_EXTRA_CA_CERTS. */
  env: Record<string, string>;
  /** The cluster as GKE knows it, with changes (e.g. workload identity off). */
  clusterSpec(over?: Partial<GkeClusterSpec>): GkeClusterSpec;
  stop(): Promise<void>;
}

/** The repository seeded in the cluster's region when Central's pods reach Google (`central: true`). */
export const GKE_CENTRAL_REPOSITORY = 'rhacs-images';

/**
 * `central`: Central's pods on the cluster reach these stand-ins (a GKE metadata server per node,
 * gke-central-side.ts) for Central's test of an Artifact Registry integration, and a repository is
 * seeded in the cluster's region. One test file at a time may ask for it.
 */
export async function startGkeGoogle(info: SandboxInfo, cluster: ClusterInfo, opts: { central?: boolean } = {}): Promise<GkeGoogle> {
  // Google STS reads the cluster's public issuer (its discovery document and keys) as from the internet.
  const standins = await startGcpStandins({ fetchPublic: publicFetcher(info) });
  const clusterSpec = (over: Partial<GkeClusterSpec> = {}): GkeClusterSpec => ({
    projectId: GKE_PROJECT, location: cluster.region, name: cluster.name, workloadIdentity: true,
    nodePools: [{ name: 'default-pool', metadataMode: 'GKE_METADATA' }], issuer: cluster.issuer, ...over,
  });
  standins.seedCluster(clusterSpec());
  const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-gke-google-'));
  const adc = join(dir, 'application_default_credentials.json');
  writeFileSync(adc, JSON.stringify(standins.adminCredentials()), { mode: 0o600 });
  const cas = join(dir, 'cas.pem');
  writeFileSync(cas, `${standins.ca}\n${readFileSync(info.awsEnv.NODE_EXTRA_CA_CERTS, 'utf8')}`);
  const env = {
    GOOGLE_APPLICATION_CREDENTIALS: adc,
    CLOUDSDK_AUTH_TOKEN_HOST: standins.urls.oauth2Token,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM: standins.urls.iam,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER: standins.urls.cloudresourcemanager,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: standins.urls.container,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY: standins.urls.artifactregistry,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STS: standins.urls.sts,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: standins.urls.iamcredentials,
    NODE_EXTRA_CA_CERTS: cas,
  };
  let central: GkeCentralSide | undefined;
  if (opts.central) {
    if (!info.centralControlUrl) throw new Error('the Central stand-ins do not run in this sandbox');
    await standins.seedRepository({ projectId: GKE_PROJECT, location: cluster.region, repository: GKE_CENTRAL_REPOSITORY });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    kc.setCurrentContext(cluster.context);
    central = await startGkeCentralSide({ standins, kc, controlUrl: info.centralControlUrl, cluster: { projectId: GKE_PROJECT, location: cluster.region, name: cluster.name }, dockerLocations: [cluster.region] });
  }
  return {
    standins, env, clusterSpec,
    stop: async () => {
      await central?.stop();
      await standins.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
