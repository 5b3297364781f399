// RHACS installs in the sandbox clusters (operator, Helm or plain manifests; Central and/or Sensor)
// as the StackRox charts and operator make them, with Central's access secrets; and the cleanup of
// what tests create in a namespace.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { createCa, issueCert } from '../certs.js';
import { createCrdsRaw, STACKROX_CRDS } from './stackrox-crds.js';
import { createOrKeep, ensureNamespace, ignoreNotFound, mergePatch, waitForCrds } from '../kube/objects.js';
import { waitForRollout } from '../kube/rollouts.js';

/** Installs StackRox's real Central and SecuredCluster CRDs (derived schemas, see stackrox-crds.ts). */
export async function applyStackroxCrds(kc: KubeConfig): Promise<void> {
  await createCrdsRaw(kc, STACKROX_CRDS);
  await waitForCrds(kc, STACKROX_CRDS.map((c) => c.metadata.name));
}

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
export { STACKROX_CRDS } from './stackrox-crds.js';

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
