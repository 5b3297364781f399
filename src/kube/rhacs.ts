/**
 * RHACS detection, read-only: the namespace (default `stackrox`; searched for when Central and
 * Sensor are not there), which of Central and Sensor run here, the version from the image tag,
 * the install method (operator: Central/SecuredCluster CRs; Helm: release labels/annotations;
 * else plain manifests), and the current state of each component's service account and deployment.
 */
import type { V1Container, V1Deployment, V1ManagedFieldsEntry, V1ObjectMeta, V1Pod, V1PodSpec, V1ServiceAccount } from '@kubernetes/client-node';
import { InputError, OperationError, RhacsStsError } from '../errors.js';
import type { Provider } from '../options/options.js';
import {
  AUDIENCE,
  COMPONENTS,
  EKS_ROLE_ANNOTATION,
  OPENSHIFT_TOKEN_DIR,
  type Component,
  type ComponentState,
  type DeploymentState,
  type InstallMethod,
  type OperatorCr,
  type PodRole,
} from '../plan/model.js';
import { FIELD_MANAGER, STACKROX_GROUP, STACKROX_VERSION, type KubeApi } from './api.js';
import { evaluateRollout, selectorString } from './rollout.js';
import { kubeStatus, mapKubeError } from './errors.js';

export const DEFAULT_NAMESPACE = 'stackrox';

/** The StackRox operator's custom resource for each component. */
export const OPERATOR_CR: Record<Component, { kind: OperatorCr['kind']; plural: string }> = {
  central: { kind: 'Central', plural: 'centrals' },
  sensor: { kind: 'SecuredCluster', plural: 'securedclusters' },
};

export interface RhacsDetection {
  namespace: string;
  components: Component[];
  installMethod: InstallMethod;
  installEvidence: string;
  operatorCrs?: Partial<Record<Component, OperatorCr>>;
  helmReleases?: Partial<Record<Component, string>>;
  helmChartVersions?: Partial<Record<Component, string>>;
  version?: string;
  current: Partial<Record<Component, ComponentState>>;
  warnings: string[];
}

/** The tag of an image reference (`repo/name:4.7.2@sha256:…` → `4.7.2`), if it has one. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const noDigest = image.split('@')[0]!;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const i = last.indexOf(':');
  return i >= 0 && i < last.length - 1 ? last.slice(i + 1) : undefined;
}

/** The container named like the component, else the only container. */
export function targetContainer(spec: V1PodSpec | undefined, name: string): V1Container | undefined {
  const containers = spec?.containers ?? [];
  return containers.find((c) => c.name === name) ?? (containers.length === 1 ? containers[0] : undefined);
}

/**
 * True when `container` mounts, at the OpenShift token directory, a projected volume with a
 * service-account token for the `openshift` audience.
 */
export function hasTokenMount(spec: V1PodSpec | undefined, container: V1Container | undefined, audience = AUDIENCE.openshift): boolean {
  const mount = container?.volumeMounts?.find((m) => m.mountPath.replace(/\/+$/, '') === OPENSHIFT_TOKEN_DIR);
  if (!mount) return false;
  const volume = spec?.volumes?.find((v) => v.name === mount.name);
  return !!volume?.projected?.sources?.some(
    (s) => s.serviceAccountToken && (s.serviceAccountToken.audience ?? '') === audience && s.serviceAccountToken.path === 'token',
  );
}

/** Label and annotation by which a pod opts out of the EKS pod identity webhook (its objectSelector; skip-containers). */
export const EKS_WEBHOOK_SKIP_LABEL = 'eks.amazonaws.com/skip-pod-identity-webhook';
export const EKS_SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

export function webhookOptOut(p: V1Pod, container: string | undefined): string | undefined {
  if (p.metadata?.labels?.[EKS_WEBHOOK_SKIP_LABEL] !== undefined) return `the pod has the label ${EKS_WEBHOOK_SKIP_LABEL}`;
  const skip = p.metadata?.annotations?.[EKS_SKIP_CONTAINERS_ANNOTATION];
  if (container && skip?.split(',').map((s) => s.trim()).includes(container)) {
    return `the pod's ${EKS_SKIP_CONTAINERS_ANNOTATION} annotation names container ${container}`;
  }
  return undefined;
}

export function deploymentState(d: V1Deployment, component: string): DeploymentState | null {
  const spec = d.spec?.template?.spec;
  const container = targetContainer(spec, component);
  if (!container) return null;
  return {
    container: container.name,
    env: (container.env ?? []).map((e) => (e.valueFrom || e.value === undefined ? { name: e.name } : { name: e.name, value: e.value })),
    hasTokenMount: hasTokenMount(spec, container),
    podTemplateAnnotations: { ...(d.spec?.template?.metadata?.annotations ?? {}) },
    podTemplateLabels: { ...(d.spec?.template?.metadata?.labels ?? {}) },
    annotations: { ...(d.metadata?.annotations ?? {}) },
    // The API server defaults an absent strategy to RollingUpdate.
    strategy: d.spec?.strategy?.type === 'Recreate' ? 'Recreate' : 'RollingUpdate',
    ...rolloutState(d),
  };
}

/** The rollout when it has not finished (a scaled-to-zero deployment has nothing to roll out). */
function rolloutState(d: V1Deployment): Pick<DeploymentState, 'rollout'> {
  if (!d.status || (d.spec?.replicas ?? 1) === 0) return {};
  const ev = evaluateRollout(d);
  return ev.state === 'done' ? {} : { rollout: { state: ev.state, message: ev.message } };
}

/**
 * EKS: what the deployment's running pods carry (AWS_ROLE_ARN of the component's container, as
 * the webhook injected it at their creation); null when pods may not be listed.
 */
async function podRoles(api: KubeApi, d: V1Deployment, component: string): Promise<PodRole[] | null> {
  const namespace = d.metadata!.namespace!;
  const name = d.metadata!.name!;
  let list;
  try {
    list = await api.core.listNamespacedPod({ namespace, labelSelector: selectorString(d.spec?.selector) || undefined });
  } catch (err) {
    if (kubeStatus(err) === 403) return null;
    throw mapKubeError(err, { verb: 'list', group: '', resource: 'pods', namespace }, api.endpoint);
  }
  return list.items
    // Pods of this deployment's ReplicaSets (`<name>-<hash>`) that are not on their way out.
    .filter((p) => !p.metadata?.deletionTimestamp && (p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'ReplicaSet' && o.name.startsWith(`${name}-`)))
    .map((p) => {
      const container = targetContainer(p.spec, component);
      const roleArn = container?.env?.find((e) => e.name === 'AWS_ROLE_ARN' && e.valueFrom === undefined)?.value;
      const optOut = webhookOptOut(p, container?.name);
      const names = new Set((container?.env ?? []).map((e) => e.name));
      const containerCredentials = names.has('AWS_CONTAINER_CREDENTIALS_FULL_URI') && names.has('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE');
      return {
        name: p.metadata?.name ?? '',
        ...(roleArn !== undefined ? { roleArn } : {}),
        ...(optOut ? { webhookOptOut: optOut } : {}),
        ...(containerCredentials ? { containerCredentials } : {}),
      };
    });
}

function isRhacsDeployment(d: V1Deployment): d is V1Deployment & { metadata: V1ObjectMeta & { name: Component; namespace: string } } {
  const name = d.metadata?.name;
  return (name === 'central' || name === 'sensor') && d.metadata?.labels?.app === name && !!d.metadata?.namespace;
}

async function readDeployment(api: KubeApi, namespace: string, name: string): Promise<V1Deployment | null> {
  return api.optional({ verb: 'get', group: 'apps', resource: 'deployments', namespace, name }, () =>
    api.apps.readNamespacedDeployment({ name, namespace }),
  );
}

/** Finds the namespace: the given one, else `stackrox`, else the one namespace that has Central or Sensor. */
async function findNamespace(api: KubeApi, given: string | undefined): Promise<{ namespace: string; deployments: Partial<Record<Component, V1Deployment>> }> {
  const ns = given ?? DEFAULT_NAMESPACE;
  const found: Partial<Record<Component, V1Deployment>> = {};
  const read = await Promise.all(COMPONENTS.map((comp) => readDeployment(api, ns, comp)));
  COMPONENTS.forEach((comp, i) => { if (read[i]) found[comp] = read[i]!; });
  if (found.central || found.sensor) return { namespace: ns, deployments: found };
  if (given) {
    // Say where RHACS does run, when the cluster lets us list (a typo in -n is the usual cause).
    const elsewhere = await api.call({ verb: 'list', group: 'apps', resource: 'deployments' }, () =>
      api.apps.listDeploymentForAllNamespaces({ labelSelector: 'app in (central,sensor)' }),
    ).then((l) => [...new Set(l.items.filter(isRhacsDeployment).map((d) => d.metadata.namespace))].sort(), () => [] as string[]);
    const near = elsewhere.filter((n) => editDistance(n, given) <= 2).sort((a, b) => editDistance(a, given) - editDistance(b, given))[0];
    const shown = elsewhere.slice(0, 5).map((n) => `"${n}"`).join(', ') + (elsewhere.length > 5 ? `, … (${elsewhere.length} in all)` : '');
    const found = near ? ` Did you mean --namespace ${near}? RHACS runs there.`
      : elsewhere.length ? ` RHACS runs in namespace${elsewhere.length === 1 ? '' : 's'} ${shown}.` : '';
    throw new InputError(
      [{ source: '--namespace', message: `no RHACS deployment (central or sensor) in namespace "${given}" of context "${api.endpoint.contextName}".${found}` }],
      'Check the namespace (kubectl get deployments -A -l "app in (central,sensor)"), or the --context.',
    );
  }
  api.log(`kube: no central or sensor in namespace ${DEFAULT_NAMESPACE}; searching all namespaces`);
  let list;
  try {
    list = await api.call({ verb: 'list', group: 'apps', resource: 'deployments' }, () =>
      api.apps.listDeploymentForAllNamespaces({ labelSelector: 'app in (central,sensor)' }),
    );
  } catch (err) {
    if (err instanceof RhacsStsError && !(err instanceof InputError)) {
      throw new OperationError(err.message, {
        exitCode: err.exitCode,
        hint: `${err.hint ?? ''} Or name the RHACS namespace with --namespace, which needs no cluster-wide list.`.trim(),
        cause: err.cause,
      });
    }
    throw err;
  }
  const byNs = new Map<string, Partial<Record<Component, V1Deployment>>>();
  for (const d of list.items.filter(isRhacsDeployment)) {
    const entry = byNs.get(d.metadata.namespace) ?? {};
    entry[d.metadata.name] = d;
    byNs.set(d.metadata.namespace, entry);
  }
  if (byNs.size === 0) {
    throw new InputError(
      [{ source: '--namespace', message: `RHACS was not found in the cluster of context "${api.endpoint.contextName}": no deployment central or sensor (label app=central/sensor) in namespace ${DEFAULT_NAMESPACE} or any other` }],
      'Install RHACS first, or point --context at the cluster that runs it.',
    );
  }
  if (byNs.size > 1) {
    const listed = [...byNs].map(([n, d]) => `${n} (${COMPONENTS.filter((c) => d[c]).join(', ')})`).join('; ');
    throw new InputError([{ source: '--namespace', message: `RHACS runs in several namespaces (${listed}); say which one with --namespace` }]);
  }
  const [namespace, deployments] = [...byNs][0]!;
  return { namespace, deployments };
}

/** Levenshtein distance, for "did you mean" (names are short: at most 63 characters). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

interface CustomObject {
  metadata?: { name?: string; uid?: string };
  spec?: { overlays?: unknown };
}

function operatorOwner(meta: V1ObjectMeta | undefined, kind: OperatorCr['kind']): string | undefined {
  return meta?.ownerReferences?.find((o) => o.apiVersion.startsWith(`${STACKROX_GROUP}/`) && o.kind === kind)?.name;
}

function helmRelease(meta: V1ObjectMeta | undefined): string | undefined {
  const release = meta?.annotations?.['meta.helm.sh/release-name'];
  if (release) return release;
  if (meta?.labels?.['app.kubernetes.io/managed-by'] === 'Helm') return meta.labels['app.kubernetes.io/instance'] ?? meta.labels['release'] ?? '';
  return undefined;
}

async function readCr(api: KubeApi, namespace: string, comp: Component, name: string): Promise<CustomObject | null> {
  const { plural } = OPERATOR_CR[comp];
  return api.optional({ verb: 'get', group: STACKROX_GROUP, resource: plural, namespace, name }, () =>
    api.custom.getNamespacedCustomObject({ group: STACKROX_GROUP, version: STACKROX_VERSION, namespace, plural, name }) as Promise<CustomObject>,
  );
}

async function listCrs(api: KubeApi, namespace: string, comp: Component): Promise<CustomObject[]> {
  const { plural } = OPERATOR_CR[comp];
  const list = await api.optional({ verb: 'list', group: STACKROX_GROUP, resource: plural, namespace }, () =>
    api.custom.listNamespacedCustomObject({ group: STACKROX_GROUP, version: STACKROX_VERSION, namespace, plural }) as Promise<{ items?: CustomObject[] }>,
  );
  return list?.items ?? [];
}

/** What one component's reads tell: its state and how it was installed. */
interface ComponentDetection {
  state: ComponentState;
  method: InstallMethod;
  evidence: string;
  operatorCr?: OperatorCr;
  helmRelease?: string;
  helmChartVersion?: string;
  warnings: string[];
}

/**
 * RHACS in the cluster: where, which components, their current state and how they were
 * installed. Reads only; the components are read concurrently, and reported in a fixed order.
 */
export async function detectRhacs(api: KubeApi, input: { namespace?: string; provider?: Provider | Promise<Provider> }): Promise<RhacsDetection> {
  const { namespace, deployments } = await findNamespace(api, input.namespace);
  const components = COMPONENTS.filter((c) => deployments[c]);
  const groups = await api.apiGroups();
  const operatorApi = groups.has(STACKROX_GROUP);
  const found = await Promise.all(components.map((comp) => detectComponent(api, namespace, comp, deployments[comp]!, operatorApi, input.provider)));

  const warnings: string[] = [];
  const current: Partial<Record<Component, ComponentState>> = {};
  const operatorCrs: Partial<Record<Component, OperatorCr>> = {};
  const helmReleases: Partial<Record<Component, string>> = {};
  const helmChartVersions: Partial<Record<Component, string>> = {};
  const methods: Partial<Record<Component, InstallMethod>> = {};
  const evidence: string[] = [];
  components.forEach((comp, i) => {
    const f = found[i]!;
    current[comp] = f.state;
    methods[comp] = f.method;
    evidence.push(f.evidence);
    warnings.push(...f.warnings);
    if (f.operatorCr) operatorCrs[comp] = f.operatorCr;
    if (f.helmRelease) helmReleases[comp] = f.helmRelease;
    if (f.helmChartVersion) helmChartVersions[comp] = f.helmChartVersion;
  });

  const used = new Set(Object.values(methods));
  const installMethod: InstallMethod = used.has('operator') ? 'operator' : used.has('helm') ? 'helm' : 'manifests';
  if (used.size > 1) {
    warnings.push(`Central and Sensor were installed differently (${components.map((c) => `${c}: ${methods[c]}`).join(', ')}); changes are made durable as for ${installMethod} where possible.`);
  }

  const versionSource = deployments.central ?? deployments.sensor;
  const container = targetContainer(versionSource?.spec?.template?.spec, versionSource?.metadata?.name ?? '');
  const version = imageTag(container?.image) ?? versionSource?.metadata?.labels?.['app.kubernetes.io/version'];

  if ((await input.provider) === 'openshift') {
    for (const comp of components) {
      const dep = current[comp]?.deployment;
      // Operator and Helm installs without it are refused by the plan (their copy cannot hold it), which says why.
      if (dep && !dep.hasTokenMount && methods[comp] === 'manifests') {
        warnings.push(
          `Deployment ${namespace}/${comp} does not mount a projected service-account token (audience openshift) at ${OPENSHIFT_TOKEN_DIR}` +
            (comp === 'sensor' ? ' (needed only with --delegated-scanning)' : '') + '; rhacs-sts adds it, in the same change as the environment.',
        );
      }
    }
  }

  return {
    namespace,
    components,
    installMethod,
    installEvidence: evidence.join('; '),
    ...(Object.keys(operatorCrs).length ? { operatorCrs } : {}),
    ...(Object.keys(helmReleases).length ? { helmReleases } : {}),
    ...(Object.keys(helmChartVersions).length ? { helmChartVersions } : {}),
    ...(version ? { version } : {}),
    current,
    warnings,
  };
}

async function detectComponent(
  api: KubeApi, namespace: string, comp: Component, d: V1Deployment, operatorApi: boolean, provider: Provider | Promise<Provider> | undefined,
): Promise<ComponentDetection> {
  const warnings: string[] = [];
  const sa: V1ServiceAccount | null = await api.optional({ verb: 'get', group: '', resource: 'serviceaccounts', namespace, name: comp }, () =>
    api.core.readNamespacedServiceAccount({ name: comp, namespace }),
  );
  const dep = deploymentState(d, comp);
  if (!dep) warnings.push(`Deployment ${namespace}/${comp} has no container named ${comp}; rhacs-sts cannot tell which container to configure.`);
  const state: ComponentState = {
    serviceAccount: sa ? { annotations: { ...(sa.metadata?.annotations ?? {}) }, roleAnnotationSetAt: fieldSetAt(sa.metadata?.managedFields, ROLE_ANNOTATION_FIELD, FIELD_MANAGER) } : null,
    deployment: dep,
  };
  // On EKS, whether the running pods carry the role (read once the provider is known; the reads
  // above do not wait for it).
  if ((await provider) === 'eks') {
    const pods = await podRoles(api, d, comp);
    if (pods === null) {
      warnings.push(`Cannot list the pods of ${namespace}/${comp} to see whether they carry the role; whether they need a restart is judged from when rhacs-sts last set the annotation.`);
    } else {
      state.pods = pods;
    }
  }

  // Install method: operator (owner reference to the CR, or the one CR of its kind here), Helm, manifests.
  const { kind } = OPERATOR_CR[comp];
  let crName = operatorOwner(d.metadata, kind) ?? operatorOwner(sa?.metadata, kind);
  let how = crName ? `deployment ${comp} is owned by ${kind} ${crName} (${STACKROX_GROUP})` : '';
  if (!crName && operatorApi) {
    const crs = await listCrs(api, namespace, comp);
    if (crs.length === 1 && crs[0]!.metadata?.name) {
      crName = crs[0]!.metadata.name;
      how = `the ${kind} resource ${crName} manages this namespace`;
    } else if (crs.length > 1) {
      warnings.push(`Several ${kind} resources in ${namespace} (${crs.map((c) => c.metadata?.name).join(', ')}) and none owns deployment ${comp}; treating ${comp} as not operator-managed.`);
    }
  }
  if (crName) {
    const cr = await readCr(api, namespace, comp, crName);
    if (cr) {
      const overlays = cr.spec?.overlays;
      return { state, method: 'operator', evidence: how, operatorCr: { kind, name: crName, overlays: Array.isArray(overlays) ? overlays : [] }, warnings };
    }
    warnings.push(`Deployment ${namespace}/${comp} refers to ${kind} ${crName}, which does not exist; treating it as not operator-managed.`);
  }
  const release = helmRelease(d.metadata) ?? helmRelease(sa?.metadata);
  // roxctl renders the same charts, so its manifests carry the Helm annotations too; only a Helm
  // install has the release record (sh.helm.release.v1.<release>.v<N>: a Secret, or a ConfigMap
  // with Helm's configmap storage driver).
  const recorded = release ? await helmReleaseRecorded(api, namespace, release) : release === undefined ? false : undefined;
  if (release !== undefined && recorded !== false) {
    if (release && recorded === undefined) warnings.push(`Cannot list Secrets and ConfigMaps in ${namespace} to confirm the Helm release ${release}; assuming ${comp} was installed with Helm.`);
    const chartVersion = helmChartVersion(d.metadata?.labels?.['helm.sh/chart']);
    return {
      state, method: 'helm', warnings, ...(release ? { helmRelease: release } : {}), ...(chartVersion ? { helmChartVersion: chartVersion } : {}),
      evidence: `deployment ${comp} carries Helm release labels/annotations${release ? ` (release ${release})` : ''}`,
    };
  }
  if (release) {
    return {
      state, method: 'manifests', warnings,
      evidence: `deployment ${comp} carries Helm annotations (release ${release}) but there is no Helm release record (Secret or ConfigMap sh.helm.release.v1.${release}.v*): rendered manifests (e.g. roxctl)`,
    };
  }
  return { state, method: 'manifests', warnings, evidence: `deployment ${comp} has neither an operator owner nor Helm release labels` };
}

/**
 * True when Helm's release record for `release` exists: objects labelled owner=helm,name=<release>
 * — Secrets (Helm 3's default storage driver) or ConfigMaps (HELM_DRIVER=configmap). False when
 * neither exists; undefined when Secrets may not be listed and no ConfigMap says so.
 */
async function helmReleaseRecorded(api: KubeApi, namespace: string, release: string): Promise<boolean | undefined> {
  const labelSelector = `owner=helm,name=${release}`;
  const found = async (resource: 'secrets' | 'configmaps'): Promise<boolean | undefined> => {
    try {
      const list = resource === 'secrets'
        ? await api.core.listNamespacedSecret({ namespace, labelSelector, limit: 1 })
        : await api.core.listNamespacedConfigMap({ namespace, labelSelector, limit: 1 });
      return list.items.length > 0;
    } catch (err) {
      if (kubeStatus(err) === 403) return undefined;
      throw mapKubeError(err, { verb: 'list', group: '', resource, namespace }, api.endpoint);
    }
  };
  const secrets = await found('secrets');
  if (secrets) return true;
  const configMaps = await found('configmaps');
  if (configMaps) return true;
  // Secrets are Helm's default storage: when they answer "none", a forbidden ConfigMap list does not make it Helm.
  return secrets === false ? false : undefined;
}

/** The chart version in a `helm.sh/chart` label (`stackrox-central-services-400.7.2` → `400.7.2`). */
export function helmChartVersion(label: string | undefined): string | undefined {
  return /-(v?\d+\.\d+\.\d+[^\s]*)$/.exec(label ?? '')?.[1];
}

const ROLE_ANNOTATION_FIELD = `f:${EKS_ROLE_ANNOTATION}`;

/**
 * When `manager` last wrote the field, from the object's managedFields (the API server records,
 * per manager, the time of its last change). Only that manager's entries count: Helm or the
 * operator touching other fields (or the same one) moves their own entries' times, not ours.
 * Undefined when no entry of the manager owns the field.
 */
export function fieldSetAt(managedFields: V1ManagedFieldsEntry[] | undefined, annotationField: string, manager: string): string | undefined {
  let latest: string | undefined;
  for (const m of managedFields ?? []) {
    if (m.manager !== manager) continue;
    const annotations = (m.fieldsV1 as { 'f:metadata'?: { 'f:annotations'?: Record<string, unknown> } } | undefined)?.['f:metadata']?.['f:annotations'];
    if (!annotations || !(annotationField in annotations) || !m.time) continue;
    const t = new Date(m.time).toISOString();
    if (!latest || t > latest) latest = t;
  }
  return latest;
}
