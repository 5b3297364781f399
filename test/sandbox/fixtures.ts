// Seed data for the sandbox API servers: the EKS and OpenShift flavours, RHACS installs (operator,
// Helm or plain manifests; Central and/or Sensor), restricted users for permission errors, and
// rollout helpers (the real controller-manager, scheduler and kwok run the rollouts: controllers.ts).
//
// All functions take a KubeConfig for the admin user (see kubeConfigFor() / sandbox.kubeConfig()).
// They use @kubernetes/client-node 1.x, whose API methods take one object parameter
// (`createNamespace({ body })`) and throw ApiException (`code`, `body` as a JSON string) on errors.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { createCa, issueCert, pemData } from './certs.js';
import { KWOK_NODE_ANNOTATION, nodeSchedulable, ROLLOUT_ANNOTATION } from './kube/controllers.js';
import { clusterInfo } from './observe.js';
import { createCrdsRaw, STACKROX_CRDS } from './central/stackrox-crds.js';
import type { SandboxInfo } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Generic helpers

/** HTTP status of a client-node error (ApiException), or undefined. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Runs `fn`, treating 409 AlreadyExists as success (for idempotent seeding). */
async function createOrKeep<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (apiStatus(err) === 409) return undefined;
    throw err;
  }
}

async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** Options for client-node patch calls: JSON merge patch instead of the default JSON patch. */
export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh, valid namespace name: `<prefix>-<time>-<random>` (at most 63 characters). */
export function uniqueNamespace(prefix = 'test'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'test';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function ensureNamespace(kc: KubeConfig, name: string, labels: Record<string, string> = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await createOrKeep(() => core.createNamespace({ body: { metadata: { name, labels } } }));
}

/** Creates CRDs (idempotent) and waits, bounded, until the API server reports them Established. */
export async function applyCrds(kc: KubeConfig, crds: V1CustomResourceDefinition[], timeoutMs = 20_000): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) await createOrKeep(() => ext.createCustomResourceDefinition({ body: crd }));
  await waitForCrds(kc, crds.map((c) => c.metadata!.name!), timeoutMs);
}

/** Waits, bounded, until the API server reports each named CRD Established. */
export async function waitForCrds(kc: KubeConfig, names: string[], timeoutMs = 20_000): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      const got = await ext.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline || attempt > 200) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  // Discovery (and so the custom-objects endpoints) can trail Established for a moment.
  await sleep(200);
}

/** Installs StackRox's real Central and SecuredCluster CRDs (derived schemas, see stackrox-crds.ts). */
export async function applyStackroxCrds(kc: KubeConfig): Promise<void> {
  await createCrdsRaw(kc, STACKROX_CRDS);
  await waitForCrds(kc, STACKROX_CRDS.map((c) => c.metadata.name));
}

function crd(opts: {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  scope: 'Cluster' | 'Namespaced';
  version: string;
  shortNames?: string[];
}): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${opts.plural}.${opts.group}` },
    spec: {
      group: opts.group,
      scope: opts.scope,
      names: {
        kind: opts.kind,
        listKind: `${opts.kind}List`,
        plural: opts.plural,
        singular: opts.singular ?? opts.kind.toLowerCase(),
        ...(opts.shortNames ? { shortNames: opts.shortNames } : {}),
      },
      versions: [
        {
          name: opts.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          // client-node serialises typed bodies through its models and silently drops keys it does
          // not know: the model's name for `x-kubernetes-preserve-unknown-fields` is
          // `x_kubernetes_preserve_unknown_fields`.
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          },
        },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// EKS

export interface EksSeedOptions {
  region?: string;
  /** Availability zones; one node per zone (default `<region>a`, `<region>b`). */
  zones?: string[];
  nodegroup?: string;
  instanceType?: string;
  /** Kubelet version as EKS reports it. */
  kubeletVersion?: string;
  /** Install the EKS Pod Identity Agent add-on's DaemonSet (default true; see seedPodIdentityAgent). */
  podIdentityAgent?: boolean;
}

export interface EksSeedResult {
  nodes: { name: string; providerID: string; zone: string; instanceId: string }[];
}

/**
 * Seeds EKS-looking worker nodes (providerID aws:///<az>/i-…, EKS labels, `-eks-` kubelet version),
 * managed by the sandbox's kwok (annotation), and waits (bounded) until kwok reports them Ready:
 * kwok fills in the conditions and capacity, as a kubelet would.
 */
export async function seedEks(kc: KubeConfig, opts: EksSeedOptions = {}): Promise<EksSeedResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const region = opts.region ?? 'eu-west-1';
  const zones = opts.zones ?? [`${region}a`, `${region}b`];
  const nodegroup = opts.nodegroup ?? 'ng-default';
  const instanceType = opts.instanceType ?? 'm5.xlarge';
  const kubeletVersion = opts.kubeletVersion ?? 'v1.34.4-eks-3025e55';
  const result: EksSeedResult = { nodes: [] };
  const statusPatches: (() => Promise<unknown>)[] = [];
  for (const [i, zone] of zones.entries()) {
    const ip = `10.0.${i + 1}.${20 + i}`;
    const name = `ip-${ip.replace(/\./g, '-')}.${region}.compute.internal`;
    const instanceId = `i-0${createHash('sha256').update(`${region}/${zone}/${i}`).digest('hex').slice(0, 16)}`;
    const providerID = `aws:///${zone}/${instanceId}`;
    await createOrKeep(() =>
      core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              'kubernetes.io/arch': 'amd64',
              'kubernetes.io/os': 'linux',
              'kubernetes.io/hostname': name,
              'node.kubernetes.io/instance-type': instanceType,
              'topology.kubernetes.io/region': region,
              'topology.kubernetes.io/zone': zone,
              'failure-domain.beta.kubernetes.io/region': region,
              'failure-domain.beta.kubernetes.io/zone': zone,
              'eks.amazonaws.com/nodegroup': nodegroup,
              'eks.amazonaws.com/nodegroup-image': 'ami-0c2d3e4f5a6b7c8d9',
              'eks.amazonaws.com/capacityType': 'ON_DEMAND',
              'eks.amazonaws.com/sourceLaunchTemplateVersion': '1',
              'k8s.io/cloud-provider-aws': createHash('md5').update(region).digest('hex'),
            },
            annotations: { 'alpha.kubernetes.io/provided-node-ip': ip, [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
          },
          spec: { providerID },
        },
      }),
    );
    // kwok's node-initialize stage keeps what the status already has, but one computed from a read
    // taken before this patch can still write kwok's own versions: the patch is repeated once kwok
    // reports the node Ready (it never initializes a Ready node again).
    const patchStatus = () =>
      core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: ip },
              { type: 'Hostname', address: name },
              { type: 'InternalDNS', address: name },
            ],
            nodeInfo: {
              architecture: 'amd64',
              bootID: '00000000-0000-0000-0000-000000000000',
              containerRuntimeVersion: 'containerd://1.7.27',
              kernelVersion: '6.1.141-155.222.amzn2023.x86_64',
              kubeProxyVersion: kubeletVersion,
              kubeletVersion,
              machineID: createHash('md5').update(name).digest('hex'),
              operatingSystem: 'linux',
              osImage: 'Amazon Linux 2023.8.20250808',
              systemUUID: 'ec2' + createHash('md5').update(instanceId).digest('hex').slice(3),
            },
          },
        },
      },
      mergePatch(),
    );
    await patchStatus();
    statusPatches.push(patchStatus);
    result.nodes.push({ name, providerID, zone, instanceId });
  }
  await waitForNodesReady(core, result.nodes.map((n) => n.name));
  for (const patch of statusPatches) await patch();
  if (opts.podIdentityAgent ?? true) await seedPodIdentityAgent(kc, { region, nodes: result.nodes.length });
  return result;
}

export const POD_IDENTITY_AGENT = { namespace: 'kube-system', name: 'eks-pod-identity-agent' } as const;

/**
 * The EKS Pod Identity Agent add-on as EKS installs it: DaemonSet `eks-pod-identity-agent` in
 * kube-system (host network, container `eks-pod-identity-agent`, `--port 80`, the add-on's labels).
 * No DaemonSet controller runs in the sandbox and the agent's work is done by a loopback stand-in
 * (pod-identity-agent.ts), so the status is written here: one ready agent per node.
 */
export async function seedPodIdentityAgent(kc: KubeConfig, opts: { region: string; nodes: number; ready?: number }): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const { namespace, name } = POD_IDENTITY_AGENT;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  await createOrKeep(() =>
    apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name, namespace, labels: { ...labels, 'app.kubernetes.io/managed-by': 'EKS', 'app.kubernetes.io/version': '0.1.29' } },
        spec: {
          selector: { matchLabels: labels },
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
          template: {
            metadata: { labels },
            spec: {
              hostNetwork: true,
              priorityClassName: 'system-node-critical',
              containers: [
                {
                  name,
                  image: `602401143452.dkr.ecr.${opts.region}.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29`,
                  command: ['/go-runner', '/eks-pod-identity-agent', 'server'],
                  args: ['--port', '80', '--cluster-name', 'sandbox', '--probe-port', '2703'],
                  ports: [{ name: 'proxy', containerPort: 80, protocol: 'TCP' }, { name: 'probes-port', containerPort: 2703, protocol: 'TCP' }],
                },
              ],
            },
          },
        },
      },
    }),
  );
  const ready = opts.ready ?? opts.nodes;
  await apps.patchNamespacedDaemonSetStatus(
    {
      name,
      namespace,
      body: {
        status: {
          currentNumberScheduled: opts.nodes,
          desiredNumberScheduled: opts.nodes,
          numberAvailable: ready,
          numberMisscheduled: 0,
          numberReady: ready,
          updatedNumberScheduled: opts.nodes,
          observedGeneration: 1,
        },
      },
    },
    mergePatch(),
  );
}

/** Removes the agent's DaemonSet (a cluster without the add-on). */
export async function removePodIdentityAgent(kc: KubeConfig): Promise<void> {
  await kc
    .makeApiClient(AppsV1Api)
    .deleteNamespacedDaemonSet(POD_IDENTITY_AGENT)
    .catch((err) => {
      if (apiStatus(err) !== 404) throw err;
    });
}

/** Waits (bounded) until every named node is Ready (kwok) and untainted (node lifecycle controller). */
async function waitForNodesReady(core: CoreV1Api, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      if (await nodeSchedulable(core, name)) break;
      if (Date.now() > deadline || attempt > timeoutMs / 100) {
        throw new Error(
          `node ${name} is not Ready and untainted after ${timeoutMs} ms: are the sandbox's kwok and kube-controller-manager running (logs/)?`,
        );
      }
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// OpenShift

export interface OpenShiftSeedOptions {
  /** spec.serviceAccountIssuer of authentication.config.openshift.io/cluster (the cluster's issuer). */
  issuer: string;
  region?: string;
  /** status.infrastructureName (default `rhacs-sts-sandbox-x7k2p`). */
  infrastructureName?: string;
  /** status.desired.version of clusterversion/version (default 4.16.12). */
  version?: string;
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
    { cloudConfig: { name: '' }, platformSpec: { type: 'AWS', aws: {} } },
    {
      apiServerInternalURI: `https://api-int.${infraName}.example.com:6443`,
      apiServerURL: `https://api.${infraName}.example.com:6443`,
      controlPlaneTopology: 'HighlyAvailable',
      cpuPartitioning: 'None',
      etcdDiscoveryDomain: '',
      infrastructureName: infraName,
      infrastructureTopology: 'HighlyAvailable',
      platform: 'AWS',
      platformStatus: { type: 'AWS', aws: { region } },
    },
  );
  await upsertClusterObject(
    kc,
    { ...base, plural: 'clusterversions', kind: 'ClusterVersion' },
    'version',
    { channel: `stable-${version.split('.').slice(0, 2).join('.')}`, clusterID: '5f6a7b8c-1d2e-4f3a-9b8c-7d6e5f4a3b2c' },
    { desired: { version, image: `quay.io/openshift-release-dev/ocp-release:${version}-x86_64` }, history: [{ state: 'Completed', version }] },
  );
}

// ---------------------------------------------------------------------------------------------------
// RHACS

export type RhacsComponent = 'central' | 'sensor';
export type InstallMethod = 'operator' | 'helm' | 'manifests';

export interface RhacsSeedOptions {
  namespace: string;
  method?: InstallMethod;
  components?: RhacsComponent[];
  /** Shape for OpenShift (no fixed runAsUser; projected token volume when tokenVolume). */
  openshift?: boolean;
  /**
   * On OpenShift: mount a projected SA token (audience `openshift`) at /var/run/secrets/openshift/serviceaccount.
   * Default: as the charts of `imageTag` do, i.e. from 4.4.0 on (see chartsMountToken()).
   */
  tokenVolume?: boolean;
  /** Image tag / product version (default 4.7.2). */
  imageTag?: string;
  /** Cluster name in the SecuredCluster CR (default `sandbox`). */
  clusterName?: string;
  /** Wait (bounded) until the real controllers have rolled the deployments out (default true). */
  waitForRollouts?: boolean;
  /** Helm installs: the release revision, i.e. the N of Secret sh.helm.release.v1.<release>.v<N> (default 1). */
  helmRevision?: number;
  /** Helm installs: where Helm keeps its release records (HELM_DRIVER): Secrets (default) or ConfigMaps. */
  helmDriver?: 'secret' | 'configmap';
  /**
   * Central's admin password. Operator installs generate one when none is given and keep it in
   * Secret central-htpasswd, key `password` (with the htpasswd entry); otherwise only the htpasswd
   * entry is there (Helm keeps a generated password in its own values). Default: generated.
   */
  adminPassword?: string;
  /** Central runs as a managed Central (ROX_MANAGED_CENTRAL=true, as the cloud service runs it). */
  managedCentral?: boolean;
}

export interface RhacsSeedResult {
  namespace: string;
  method: InstallMethod;
  deployments: string[];
  serviceAccounts: string[];
  /** Custom resources of an operator install, e.g. `centrals/stackrox-central-services`. */
  customResources: string[];
  /** With Central: its admin password (see RhacsSeedOptions.adminPassword) and its CA (PEM, Secret central-tls ca.pem). */
  adminPassword?: string;
  centralCa?: string;
}

export const RHACS_IMAGE_REPO = 'registry.redhat.io/advanced-cluster-security/rhacs-main-rhel8';
/** An unrelated annotation on every seeded deployment and service account, to test it is preserved. */
export const UNRELATED_ANNOTATION = { key: 'example.com/owner-team', value: 'platform-security' } as const;
/** An existing environment variable on every seeded container, to test it is preserved. */
export const EXISTING_ENV = { name: 'ROX_EXISTING_SETTING', value: 'keep-me' } as const;

export const STACKROX_GROUP = 'platform.stackrox.io';
export { STACKROX_CRDS } from './central/stackrox-crds.js';

/** Where OpenShift's STS flow mounts the bound service-account token for AWS web identity. */
export const OPENSHIFT_TOKEN_DIR = '/var/run/secrets/openshift/serviceaccount';

const RELEASES: Record<RhacsComponent, { release: string; chart: string; kind: string; plural: string }> = {
  central: { release: 'stackrox-central-services', chart: 'stackrox-central-services', kind: 'Central', plural: 'centrals' },
  sensor: { release: 'stackrox-secured-cluster-services', chart: 'stackrox-secured-cluster-services', kind: 'SecuredCluster', plural: 'securedclusters' },
};

/** Product version of a seeded install unless told otherwise. */
export const DEFAULT_IMAGE_TAG = '4.7.2';

/**
 * True when the StackRox charts of product version `tag` mount the projected token (audience
 * openshift, 3600 s) on OpenShift: from 4.4.0 on. Before that the token volume is not there.
 */
export function chartsMountToken(tag: string): boolean {
  const [major = 0, minor = 0] = tag.split(/[.-]/).map(Number);
  return major > 4 || (major === 4 && minor >= 4);
}

function chartVersion(tag: string): string {
  // The charts are versioned 400.<minor>.<patch> for product 4.<minor>.<patch>.
  const [major, minor = '0', patch = '0'] = tag.split('.');
  return `${Number(major) * 100}.${minor}.${patch}`;
}

function rhacsMetadata(component: RhacsComponent, namespace: string, tag: string) {
  const r = RELEASES[component];
  const labels: Record<string, string> = {
    app: component,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/instance': r.release,
    'app.kubernetes.io/name': 'stackrox',
    'app.kubernetes.io/part-of': r.release,
    'app.kubernetes.io/version': tag,
  };
  const annotations: Record<string, string> = { owner: 'stackrox', email: 'support@stackrox.com' };
  // Every install method renders the same Helm charts (Release.Service is "Helm"): the operator
  // does, and so does roxctl for its manifests, so all of them carry the Helm labels and
  // annotations. What tells them apart is the ownerReference to the Central/SecuredCluster CR
  // (operator) and Helm's release record, a Secret sh.helm.release.v1.<release>.v<N> (Helm only).
  labels['app.kubernetes.io/managed-by'] = 'Helm';
  labels['helm.sh/chart'] = `${r.chart}-${chartVersion(tag)}`;
  annotations['meta.helm.sh/release-name'] = r.release;
  annotations['meta.helm.sh/release-namespace'] = namespace;
  return { labels, annotations };
}

function rhacsDeployment(
  component: RhacsComponent,
  o: Required<Pick<RhacsSeedOptions, 'namespace' | 'method' | 'openshift' | 'tokenVolume' | 'imageTag'>> & { managedCentral?: boolean },
  owner?: { apiVersion: string; kind: string; name: string; uid: string },
): V1Deployment {
  const { labels, annotations } = rhacsMetadata(component, o.namespace, o.imageTag);
  const installMethod = o.method === 'manifests' ? 'manifest' : o.method;
  const env =
    component === 'central'
      ? [
          { name: 'ROX_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'ROX_INSTALL_METHOD', value: installMethod },
          { name: 'ROX_OFFLINE_MODE', value: 'false' },
          { name: EXISTING_ENV.name, value: EXISTING_ENV.value },
          { name: 'ROX_MEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
          ...(o.managedCentral ? [{ name: 'ROX_MANAGED_CENTRAL', value: 'true' }] : []),
        ]
      : [
          { name: 'ROX_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'ROX_CENTRAL_ENDPOINT', value: `central.${o.namespace}.svc:443` },
          { name: 'ROX_ADVERTISED_ENDPOINT', value: `sensor.${o.namespace}.svc:443` },
          { name: 'ROX_INSTALL_METHOD', value: installMethod },
          { name: EXISTING_ENV.name, value: EXISTING_ENV.value },
        ];
  const volumes: any[] = [
    { name: 'varlog', emptyDir: {} },
    { name: `${component}-tls-volume`, secret: { secretName: `${component}-tls`, optional: true } },
  ];
  const mounts: any[] = [
    { name: 'varlog', mountPath: '/var/log/stackrox/' },
    { name: `${component}-tls-volume`, mountPath: '/run/secrets/stackrox.io/certs/', readOnly: true },
  ];
  if (o.openshift && o.tokenVolume) {
    volumes.push({
      name: 'bound-sa-token',
      projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'openshift', expirationSeconds: 3600, path: 'token' } }] },
    });
    mounts.push({ name: 'bound-sa-token', mountPath: OPENSHIFT_TOKEN_DIR, readOnly: true });
  }
  const podLabels = { ...labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: component,
      namespace: o.namespace,
      labels,
      annotations: { ...annotations, [UNRELATED_ANNOTATION.key]: UNRELATED_ANNOTATION.value },
      ...(owner ? { ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      replicas: 1,
      minReadySeconds: component === 'central' ? 15 : 0,
      selector: { matchLabels: { app: component } },
      strategy: component === 'central' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: { ...annotations, 'traffic.sidecar.istio.io/excludeInboundPorts': '8443' },
        },
        spec: {
          serviceAccountName: component,
          ...(o.openshift ? {} : { securityContext: { fsGroup: 4000, runAsUser: 4000 } }),
          containers: [
            {
              name: component,
              image: `${RHACS_IMAGE_REPO}:${o.imageTag}`,
              imagePullPolicy: 'IfNotPresent',
              command: component === 'central' ? ['/stackrox/central-entrypoint.sh'] : ['/stackrox/stackrox', 'kubernetes-sensor'],
              ports: [{ name: component === 'central' ? 'api' : 'api', containerPort: 8443, protocol: 'TCP' }],
              env,
              resources:
                component === 'central'
                  ? { requests: { cpu: '1500m', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } }
                  : { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } },
              securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['NET_RAW'] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

/**
 * Helm 3's release record: Secret sh.helm.release.v1.<release>.v<revision> (its default storage),
 * type helm.sh/release.v1, labelled name/owner/status/version; or with HELM_DRIVER=configmap a
 * ConfigMap of the same name and labels. The payload is a placeholder.
 */
export async function createHelmReleaseSecret(kc: KubeConfig, namespace: string, release: string, revision = 1, driver: 'secret' | 'configmap' = 'secret'): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  if (driver === 'configmap') {
    // HELM_DRIVER=configmap: the same record as a ConfigMap, with the same name and labels.
    await createOrKeep(() =>
      core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: `sh.helm.release.v1.${release}.v${revision}`, namespace, labels: { name: release, owner: 'helm', status: 'deployed', version: String(revision) } },
          data: { release: 'sandbox placeholder, not a real release record' },
        },
      }),
    );
    return;
  }
  await createOrKeep(() =>
    core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: `sh.helm.release.v1.${release}.v${revision}`,
          namespace,
          labels: { name: release, owner: 'helm', status: 'deployed', version: String(revision) },
        },
        type: 'helm.sh/release.v1',
        data: { release: Buffer.from('sandbox placeholder, not a real release record').toString('base64') },
      },
    }),
  );
}

/**
 * Seeds a RHACS install in `namespace`: service accounts and deployments `central` and/or `sensor`
 * shaped like the StackRox charts, with the install method's marks. All carry the charts' Helm
 * labels and meta.helm.sh annotations; operator: CRDs, CRs and ownerReferences; helm: the release
 * Secret sh.helm.release.v1.<release>.v<N>; manifests (roxctl-rendered): nothing more.
 */
export async function seedRhacs(kc: KubeConfig, opts: RhacsSeedOptions): Promise<RhacsSeedResult> {
  const o = {
    namespace: opts.namespace,
    method: opts.method ?? 'helm',
    openshift: opts.openshift ?? false,
    tokenVolume: opts.tokenVolume ?? chartsMountToken(opts.imageTag ?? DEFAULT_IMAGE_TAG),
    imageTag: opts.imageTag ?? DEFAULT_IMAGE_TAG,
    managedCentral: opts.managedCentral ?? false,
  };
  const components = opts.components ?? ['central', 'sensor'];
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const result: RhacsSeedResult = { namespace: o.namespace, method: o.method, deployments: [], serviceAccounts: [], customResources: [] };

  await ensureNamespace(kc, o.namespace, o.openshift ? { 'openshift.io/cluster-monitoring': 'true' } : {});

  const owners: Partial<Record<RhacsComponent, { apiVersion: string; kind: string; name: string; uid: string }>> = {};
  if (o.method === 'operator') {
    await applyStackroxCrds(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const component of components) {
      const r = RELEASES[component];
      const spec =
        component === 'central'
          ? { central: { exposure: { loadBalancer: { enabled: false } } }, egress: { connectivityPolicy: 'Online' } }
          : { clusterName: opts.clusterName ?? 'sandbox', centralEndpoint: `central.${o.namespace}.svc:443` };
      const body = { apiVersion: `${STACKROX_GROUP}/v1alpha1`, kind: r.kind, metadata: { name: r.release, namespace: o.namespace }, spec };
      const ref = { group: STACKROX_GROUP, version: 'v1alpha1', namespace: o.namespace, plural: r.plural };
      await createOrKeep(() => custom.createNamespacedCustomObject({ ...ref, body }));
      const cr = (await custom.getNamespacedCustomObject({ ...ref, name: r.release })) as { metadata: { uid: string } };
      await custom.patchNamespacedCustomObjectStatus(
        {
          ...ref,
          name: r.release,
          body: {
            status: {
              conditions: [
                { type: 'Deployed', status: 'True', reason: 'InstallSuccessful', lastTransitionTime: new Date().toISOString() },
                { type: 'Initialized', status: 'True', lastTransitionTime: new Date().toISOString() },
                { type: 'Irreconcilable', status: 'False', lastTransitionTime: new Date().toISOString() },
                { type: 'ReleaseFailed', status: 'False', lastTransitionTime: new Date().toISOString() },
              ],
              productVersion: o.imageTag,
            },
          },
        },
        mergePatch(),
      );
      owners[component] = { apiVersion: `${STACKROX_GROUP}/v1alpha1`, kind: r.kind, name: r.release, uid: cr.metadata.uid };
      result.customResources.push(`${r.plural}/${r.release}`);
    }
  }

  for (const component of components) {
    const { labels, annotations } = rhacsMetadata(component, o.namespace, o.imageTag);
    await createOrKeep(() =>
      core.createNamespacedServiceAccount({
        namespace: o.namespace,
        body: {
          metadata: {
            name: component,
            namespace: o.namespace,
            labels,
            annotations: { ...annotations, [UNRELATED_ANNOTATION.key]: UNRELATED_ANNOTATION.value },
            ...(owners[component] ? { ownerReferences: [{ ...owners[component]!, controller: true, blockOwnerDeletion: true }] } : {}),
          },
          imagePullSecrets: [{ name: 'stackrox' }],
        },
      }),
    );
    result.serviceAccounts.push(component);
    // Central's Service and Secrets come with its chart, before its pods.
    if (component === 'central') Object.assign(result, await seedCentralAccess(kc, o.namespace, o.method, opts.adminPassword, owners.central));
    await createOrKeep(() => apps.createNamespacedDeployment({ namespace: o.namespace, body: rhacsDeployment(component, o, owners[component]) }));
    result.deployments.push(component);
    if (o.method === 'helm') await createHelmReleaseSecret(kc, o.namespace, RELEASES[component].release, opts.helmRevision ?? 1, opts.helmDriver);
  }
  if (opts.waitForRollouts ?? true) {
    await Promise.all(result.deployments.map((name) => waitForRollout(kc, o.namespace, name)));
  }
  return result;
}

/**
 * What the Central chart renders to reach Central and log in: Service `central` (443 → the pod's
 * `api` port 8443), Secret central-tls (the install's own CA and Central's certificate for
 * central.<ns>.svc), Secret central-default-tls-cert (the exposure's certificate, here for
 * 127.0.0.1, issued by the same CA) and Secret central-htpasswd (the admin's htpasswd entry; `password`
 * too when the operator generated it). The sandbox's htpasswd entry uses the {SHA} scheme (Central's
 * uses bcrypt; the Central stand-in checks {SHA}).
 */
async function seedCentralAccess(
  kc: KubeConfig, namespace: string, method: InstallMethod, givenPassword: string | undefined,
  owner?: { apiVersion: string; kind: string; name: string; uid: string },
): Promise<{ adminPassword: string; centralCa: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const ownerReferences = owner ? [{ ...owner, controller: true, blockOwnerDeletion: true }] : undefined;
  const meta = (name: string) => ({ name, namespace, labels: { app: 'central', 'app.kubernetes.io/name': 'stackrox' }, ...(ownerReferences ? { ownerReferences } : {}) });
  await createOrKeep(() => core.createNamespacedService({
    namespace,
    body: {
      metadata: meta('central'),
      spec: { selector: { app: 'central' }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'api' }] },
    },
  }));
  const dir = mkdtempSync(join(os.tmpdir(), 'rhacs-sts-central-'));
  try {
    // A certificate's common name has at most 64 characters; namespaces run up to 63.
    const ca = createCa(dir, `StackRox Certificate Authority ${namespace}`.slice(0, 64));
    const leaf = issueCert(ca, dir, 'central', {
      cn: 'CENTRAL_SERVICE: Central', usage: 'server',
      sans: [`DNS:central.${namespace}`, `DNS:central.${namespace}.svc`],
    });
    const exposed = issueCert(ca, dir, 'central-default', { cn: 'central-exposure', usage: 'server', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
    const b64 = (path: string) => readFileSync(path).toString('base64');
    await createOrKeep(() => core.createNamespacedSecret({
      namespace,
      body: { metadata: meta('central-tls'), data: { 'ca.pem': b64(ca.cert), 'ca-key.pem': b64(ca.key), 'cert.pem': b64(leaf.cert), 'key.pem': b64(leaf.key) } },
    }));
    await createOrKeep(() => core.createNamespacedSecret({
      namespace,
      body: { metadata: meta('central-default-tls-cert'), type: 'kubernetes.io/tls', data: { 'tls.crt': b64(exposed.cert), 'tls.key': b64(exposed.key) } },
    }));
    const password = givenPassword ?? randomBytes(18).toString('base64url');
    const htpasswd = `admin:{SHA}${createHash('sha1').update(password).digest('base64')}\n`;
    const generated = method === 'operator' && givenPassword === undefined;
    await createOrKeep(() => core.createNamespacedSecret({
      namespace,
      body: {
        metadata: meta('central-htpasswd'),
        data: { htpasswd: Buffer.from(htpasswd).toString('base64'), ...(generated ? { password: Buffer.from(password).toString('base64') } : {}) },
      },
    }));
    return { adminPassword: password, centralCa: readFileSync(ca.cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Restricted users

export interface RestrictedUserOptions {
  /** User name (certificate CN); not in system:masters. */
  name: string;
  /** Namespace of the Role/RoleBinding. */
  namespace: string;
  /** Namespaced rules (Role). */
  rules: V1PolicyRule[];
  /** Optional cluster-wide rules (ClusterRole + ClusterRoleBinding). */
  clusterRules?: V1PolicyRule[];
  /** Groups (certificate O); default none. */
  groups?: string[];
}

export interface RestrictedUser {
  name: string;
  kubeconfig: string;
  context: string;
}

/**
 * Creates a user that can do only `rules` in `namespace` (plus `clusterRules` cluster-wide): a client
 * certificate signed by the sandbox CA and a Role/RoleBinding. Returns a kubeconfig for it.
 */
export async function createRestrictedUser(
  sandbox: SandboxInfo | { info: SandboxInfo },
  cluster: string,
  opts: RestrictedUserOptions,
): Promise<RestrictedUser> {
  const info = 'info' in sandbox ? sandbox.info : sandbox;
  const c = clusterInfo(info, cluster);
  const admin = new KubeConfig();
  admin.loadFromFile(c.kubeconfig);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const roleName = `restricted-${opts.name}`.replace(/[^a-z0-9.-]/g, '-').slice(0, 63);
  await ensureNamespace(admin, opts.namespace);
  await createOrKeep(() =>
    rbac.createNamespacedRole({ namespace: opts.namespace, body: { metadata: { name: roleName }, rules: opts.rules } }),
  );
  await createOrKeep(() =>
    rbac.createNamespacedRoleBinding({
      namespace: opts.namespace,
      body: {
        metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.name }],
      },
    }),
  );
  if (opts.clusterRules?.length) {
    await createOrKeep(() => rbac.createClusterRole({ body: { metadata: { name: roleName }, rules: opts.clusterRules } }));
    await createOrKeep(() =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: roleName },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.name }],
        },
      }),
    );
  }
  const safe = opts.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const pair = issueCert({ cert: info.caCertPath, key: info.caKeyPath }, info.certDir, `user-${cluster}-${safe}`, {
    cn: opts.name,
    groups: opts.groups,
    usage: 'client',
  });
  const context = `${cluster}-${safe}`;
  const kubeconfig = join(info.workDir, `kubeconfig-${context}.yaml`);
  writeFileSync(
    kubeconfig,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster, cluster: { server: c.server, 'certificate-authority-data': pemData(info.caCertPath) } }],
      users: [{ name: safe, user: { 'client-certificate-data': pemData(pair.cert), 'client-key-data': pemData(pair.key) } }],
      contexts: [{ name: context, context: { cluster, user: safe, namespace: opts.namespace } }],
      'current-context': context,
    }),
    { mode: 0o600 },
  );
  return { name: opts.name, kubeconfig, context };
}

// ---------------------------------------------------------------------------------------------------
// Rollouts (run by the real deployment and ReplicaSet controllers; kwok makes the pods ready)

export interface RolloutState {
  /** True when the deployment controller would report the rollout complete (as `kubectl rollout status` checks). */
  complete: boolean;
  observedGeneration?: number;
  generation?: number;
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  reason?: string;
}

/** Reads a deployment's rollout state the way `kubectl rollout status` judges it. */
export async function rolloutState(kc: KubeConfig, namespace: string, name: string): Promise<RolloutState> {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const complete =
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
  return {
    complete,
    observedGeneration: s.observedGeneration,
    generation: d.metadata?.generation,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    reason: progressing?.reason,
  };
}

/**
 * Makes the next rollout of a deployment hang or fail, for timeout tests: marks its pod template with
 * `sandbox.rhacs-sts.test/rollout` (a template change, so a new rollout starts), whose pods kwok
 * starts but never reports ready. `fail` also sets a short progressDeadlineSeconds (it must exceed
 * minReadySeconds), after which the real deployment controller reports ProgressDeadlineExceeded.
 */
export async function setRolloutMode(kc: KubeConfig, namespace: string, name: string, mode: 'hang' | 'fail'): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const d = await apps.readNamespacedDeployment({ name, namespace });
  const spec: Record<string, unknown> = { template: { metadata: { annotations: { [ROLLOUT_ANNOTATION]: mode } } } };
  if (mode === 'fail') spec.progressDeadlineSeconds = (d.spec?.minReadySeconds ?? 0) + 1;
  await apps.patchNamespacedDeployment({ name, namespace, body: { spec } }, mergePatch());
}

/** Waits (bounded) until the deployment's rollout is complete. */
export async function waitForRollout(kc: KubeConfig, namespace: string, name: string, timeoutMs = 30_000): Promise<RolloutState> {
  const deadline = Date.now() + timeoutMs;
  let state: RolloutState | undefined;
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / 100) + 5 && Date.now() < deadline; attempt++) {
    state = await rolloutState(kc, namespace, name);
    if (state.complete) return state;
    await sleep(100);
  }
  throw new Error(`rollout of ${namespace}/${name} not complete after ${timeoutMs} ms: ${JSON.stringify(state)}`);
}

// ---------------------------------------------------------------------------------------------------
// Cleanup

/**
 * Empties a namespace of what tests create (deployments, pods, service accounts except `default`,
 * secrets, config maps except kube-root-ca.crt, roles, role bindings, StackRox CRs), keeping the
 * namespace. Namespaces can also be deleted (the namespace controller runs), but that takes a
 * moment; a fresh uniqueNamespace() per test is still the cheapest isolation.
 */
export async function resetCluster(kc: KubeConfig, namespace: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await ignoreNotFound(() => apps.deleteCollectionNamespacedDeployment({ namespace }));
  await ignoreNotFound(() => core.deleteCollectionNamespacedPod({ namespace }));
  await ignoreNotFound(() => core.deleteCollectionNamespacedSecret({ namespace }));
  await ignoreNotFound(() => core.deleteCollectionNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name!=kube-root-ca.crt' }));
  await ignoreNotFound(() => core.deleteCollectionNamespacedServiceAccount({ namespace, fieldSelector: 'metadata.name!=default' }));
  await ignoreNotFound(() => rbac.deleteCollectionNamespacedRole({ namespace }));
  await ignoreNotFound(() => rbac.deleteCollectionNamespacedRoleBinding({ namespace }));
  for (const plural of ['centrals', 'securedclusters']) {
    await ignoreNotFound(() => custom.deleteCollectionNamespacedCustomObject({ group: STACKROX_GROUP, version: 'v1alpha1', namespace, plural }));
  }
}
