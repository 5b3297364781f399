/**
 * Applies one planned Kubernetes action. Each re-reads the object first and writes nothing when
 * the desired state is already there (returns false). Writes are patches that touch only our
 * fields:
 * - service-account annotations: JSON merge patch of metadata.annotations (other annotations stay);
 * - deployment env and token volume: one strategic merge patch (one pod-template change, so one
 *   rollout). Containers, env, volumes and volumeMounts are merged by key (name / mountPath), so
 *   other env vars, volumes and mounts stay. We chose it over server-side apply because SSA would make `rhacs-sts` a field manager
 *   competing with Helm's and the operator's managers (conflicts on fields they own would need
 *   --force-conflicts), while a strategic merge patch changes exactly the listed entries and leaves
 *   ownership as it was. The read's resourceVersion goes into the patch, so a concurrent change
 *   gives 409, and we re-read and retry (bounded);
 * - operator overlays: JSON merge patch of spec.overlays (the whole list, computed from the read
 *   one: our entries replaced in place or appended, all others kept) with the resourceVersion as a
 *   precondition, retried on conflict;
 * - restart: the pod-template `kubectl.kubernetes.io/restartedAt` annotation (strategic merge).
 *
 * Status 'delete' (uninstall) removes only what is ours, and only while it still holds our value:
 * our annotation key (merge patch with null, conditional on the resourceVersion read), our two env
 * vars (strategic-merge `$patch: delete` by name), our overlay entries (the list without them).
 * Anything else (other annotations, env vars, overlays, or our keys now holding another value) is
 * left as it is; when nothing of ours is left, nothing is written and the result is false.
 */
import type { V1Container, V1Deployment, V1EnvVar, V1Volume } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { OperationError } from '../errors.js';
import { sameOverlay } from '../plan/build.js';
import {
  OPENSHIFT_TOKEN_DIR,
  OPENSHIFT_TOKEN_VOLUME,
  RESTARTED_AT_ANNOTATION,
  TOKEN_EXPIRATION_SECONDS,
  type OperatorOverlay,
} from '../plan/model.js';
import { FIELD_MANAGER, patchOptions, STACKROX_GROUP, STACKROX_VERSION, type KubeApi } from './api.js';
import type { KubeCall } from './errors.js';
import { hasTokenMount, OPERATOR_CR, targetContainer } from './rhacs.js';
import type { KubeAction } from './session.js';
import { deleteCredentialsSecret, writeCredentialsSecret } from './secret.js';

type ActionOf<T extends KubeAction['type']> = Extract<KubeAction, { type: T }>;

export async function applyKubeAction(api: KubeApi, action: KubeAction): Promise<boolean> {
  if (action.status === 'delete') {
    switch (action.type) {
      case 'service-account-annotation':
        return removeServiceAccountAnnotations(api, action);
      case 'deployment-env':
        return removeDeploymentEnv(api, action);
      case 'operator-overlay':
        return removeOperatorOverlays(api, action);
      case 'pod-labels':
        return setPodLabels(api, action, true);
      case 'credentials-secret':
        return deleteCredentialsSecret(api, action);
      case 'restart':
        throw new OperationError(`Internal error: a ${action.type} action cannot have status delete.`);
    }
  }
  switch (action.type) {
    case 'service-account-annotation':
      return annotateServiceAccount(api, action);
    case 'deployment-env':
      return setDeploymentEnv(api, action);
    case 'operator-overlay':
      return mergeOperatorOverlays(api, action);
    case 'pod-labels':
      return setPodLabels(api, action, false);
    case 'credentials-secret':
      return writeCredentialsSecret(api, action);
    case 'restart':
      return restartDeployment(api, action);
  }
}

// --- service account ------------------------------------------------------------------------

async function annotateServiceAccount(api: KubeApi, a: ActionOf<'service-account-annotation'>): Promise<boolean> {
  const { namespace, name } = a.ref;
  const call: KubeCall = { verb: 'patch', group: '', resource: 'serviceaccounts', namespace, name };
  const sa = await api.optional({ ...call, verb: 'get' }, () => api.core.readNamespacedServiceAccount({ name, namespace }));
  if (!sa) {
    throw new OperationError(`Service account ${namespace}/${name} does not exist.`, {
      hint: 'RHACS creates it with the component; check the namespace (--namespace) and that the install is complete.',
    });
  }
  const current = sa.metadata?.annotations ?? {};
  const missing = Object.entries(a.annotations).filter(([k, v]) => current[k] !== v);
  const remove = (a.removeAnnotations ?? []).filter((k) => k in current);
  if (missing.length === 0 && remove.length === 0) return false;
  // A merge patch of the annotations map sets (or, with null, removes) only our keys; the others are untouched.
  const patch = { ...Object.fromEntries(missing), ...Object.fromEntries(remove.map((k) => [k, null])) };
  await api.call(call, () =>
    api.core.patchNamespacedServiceAccount({ name, namespace, body: { metadata: { annotations: patch } }, fieldManager: FIELD_MANAGER }, patchOptions.merge()),
  );
  return true;
}

async function removeServiceAccountAnnotations(api: KubeApi, a: ActionOf<'service-account-annotation'>): Promise<boolean> {
  const { namespace, name } = a.ref;
  const call: KubeCall = { verb: 'patch', group: '', resource: 'serviceaccounts', namespace, name };
  return api.retryOnConflict(call, async () => {
    const sa = await api.optional({ ...call, verb: 'get' }, () => api.core.readNamespacedServiceAccount({ name, namespace }));
    if (!sa) return false; // gone with the install: nothing of ours is left
    const current = sa.metadata?.annotations ?? {};
    // Only keys that still hold our value: a key someone pointed elsewhere since is theirs now.
    const ours = Object.entries(a.annotations).filter(([k, v]) => current[k] === v).map(([k]) => k);
    if (ours.length === 0) return false;
    // Raw call (a 409 must reach retryOnConflict); the resourceVersion makes the removal
    // conditional on the value we just checked.
    await api.core.patchNamespacedServiceAccount(
      { name, namespace, body: { metadata: { resourceVersion: sa.metadata?.resourceVersion, annotations: Object.fromEntries(ours.map((k) => [k, null])) } }, fieldManager: FIELD_MANAGER },
      patchOptions.merge(),
    );
    return true;
  });
}

// --- deployments ----------------------------------------------------------------------------

async function readDeploymentOrFail(api: KubeApi, namespace: string, name: string): Promise<V1Deployment> {
  const d = await api.optional({ verb: 'get', group: 'apps', resource: 'deployments', namespace, name }, () =>
    api.apps.readNamespacedDeployment({ name, namespace }),
  );
  if (!d) {
    throw new OperationError(`Deployment ${namespace}/${name} does not exist.`, {
      hint: 'Check the namespace (--namespace) and that RHACS is installed in this cluster (--context).',
    });
  }
  return d;
}

function containerOrFail(d: V1Deployment, wanted: string) {
  const c = targetContainer(d.spec?.template?.spec, wanted);
  if (!c) {
    const names = (d.spec?.template?.spec?.containers ?? []).map((x) => x.name).join(', ');
    throw new OperationError(`Deployment ${d.metadata?.namespace}/${d.metadata?.name} has no container named ${wanted} (it has: ${names || 'none'}).`);
  }
  return c;
}

function containerOrder(d: V1Deployment): { name: string }[] {
  return (d.spec?.template?.spec?.containers ?? []).map((c) => ({ name: c.name }));
}

function deploymentCall(a: { ref: { namespace: string; name: string } }): KubeCall {
  return { verb: 'patch', group: 'apps', resource: 'deployments', namespace: a.ref.namespace, name: a.ref.name };
}

async function patchDeployment(api: KubeApi, a: { ref: { namespace: string; name: string } }, body: object): Promise<void> {
  // Raw call: a 409 must reach retryOnConflict unmapped.
  await api.apps.patchNamespacedDeployment({ name: a.ref.name, namespace: a.ref.namespace, body, fieldManager: FIELD_MANAGER }, patchOptions.strategic());
}

async function setDeploymentEnv(api: KubeApi, a: ActionOf<'deployment-env'>): Promise<boolean> {
  return api.retryOnConflict(deploymentCall(a), async () => {
    const d = await readDeploymentOrFail(api, a.ref.namespace, a.ref.name);
    const container = containerOrFail(d, a.container);
    const env: V1EnvVar[] = container.env ?? [];
    // Deferred (--no-restart): the pod template stays as it is (a change would roll the pods);
    // only the deployment's own annotations (the record of a replaced role) are written.
    const changes = a.deferred ? [] : a.env.filter((want) => {
      const cur = env.find((e) => e.name === want.name);
      return !cur || cur.valueFrom !== undefined || cur.value !== want.value;
    });
    const curAnn = d.metadata?.annotations ?? {};
    const annotations = Object.entries(a.annotations ?? {}).filter(([k, v]) => (v === null ? k in curAnn : curAnn[k] !== v));
    const volume = a.tokenVolume && !a.deferred && !hasTokenMount(d.spec?.template?.spec, container, a.tokenVolume.audience)
      ? tokenVolumePatch(d, container, a.tokenVolume.audience)
      : undefined;
    if (changes.length === 0 && annotations.length === 0 && !volume) return false;
    // Merged into the container's env by name; a valueFrom of the same variable is cleared.
    const entries = changes.map((want) => {
      const cur = env.find((e) => e.name === want.name);
      return cur?.valueFrom !== undefined ? { name: want.name, value: want.value, valueFrom: null } : { name: want.name, value: want.value };
    });
    // $setElementOrder keeps the existing order and appends new entries (as kubectl does).
    const order = [...env.map((e) => e.name), ...changes.filter((c) => !env.some((e) => e.name === c.name)).map((c) => c.name)];
    const containerPatch: Record<string, unknown> = {
      name: container.name,
      ...(changes.length ? { '$setElementOrder/env': order.map((name) => ({ name })), env: entries } : {}),
      ...(volume?.container ?? {}),
    };
    // Env and token volume in one patch: one pod-template change, so one rollout.
    const podSpec = changes.length || volume
      ? { spec: { template: { spec: { ...(volume?.pod ?? {}), '$setElementOrder/containers': containerOrder(d), containers: [containerPatch] } } } }
      : {};
    await patchDeployment(api, a, {
      metadata: { resourceVersion: d.metadata?.resourceVersion, ...(annotations.length ? { annotations: Object.fromEntries(annotations) } : {}) },
      ...podSpec,
    });
    return true;
  });
}

async function removeDeploymentEnv(api: KubeApi, a: ActionOf<'deployment-env'>): Promise<boolean> {
  return api.retryOnConflict(deploymentCall(a), async () => {
    const d = await api.optional({ verb: 'get', group: 'apps', resource: 'deployments', namespace: a.ref.namespace, name: a.ref.name }, () =>
      api.apps.readNamespacedDeployment({ name: a.ref.name, namespace: a.ref.namespace }),
    );
    if (!d) return false;
    const container = targetContainer(d.spec?.template?.spec, a.container);
    if (!container) return false;
    const env: V1EnvVar[] = container.env ?? [];
    // Only our variables, and only while they hold the values the plan saw (never a valueFrom).
    const remove = a.env.filter((want) => env.some((e) => e.name === want.name && e.valueFrom === undefined && e.value === want.value)).map((e) => e.name);
    if (remove.length === 0) return false;
    await patchDeployment(api, a, {
      metadata: { resourceVersion: d.metadata?.resourceVersion },
      spec: { template: { spec: {
        '$setElementOrder/containers': containerOrder(d),
        containers: [{
          name: container.name,
          '$setElementOrder/env': env.filter((e) => !remove.includes(e.name)).map((e) => ({ name: e.name })),
          env: remove.map((name) => ({ name, $patch: 'delete' })),
        }],
      } } },
    });
    return true;
  });
}

/** The projected volume we add: a service-account token for `audience`, refreshed hourly. */
export function tokenVolume(audience: string): V1Volume {
  return {
    name: OPENSHIFT_TOKEN_VOLUME,
    projected: {
      defaultMode: 420,
      sources: [{ serviceAccountToken: { audience, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } }],
    },
  };
}

/**
 * The parts of a strategic merge patch that mount our projected token volume in `container`: the
 * volume (by name) in the pod spec, and the mount (by mountPath) in the container.
 */
function tokenVolumePatch(d: V1Deployment, container: V1Container, audience: string): { pod: Record<string, unknown>; container: Record<string, unknown> } {
  const spec = d.spec?.template?.spec;
  const volume: Record<string, unknown> = { ...tokenVolume(audience) };
  const sameName = spec?.volumes?.find((v) => v.name === OPENSHIFT_TOKEN_VOLUME);
  // A volume of ours by name but of another type: clear its other source (a volume has one).
  for (const key of Object.keys(sameName ?? {})) if (key !== 'name' && key !== 'projected') volume[key] = null;

  const existingMount = container.volumeMounts?.find((m) => m.mountPath.replace(/\/+$/, '') === OPENSHIFT_TOKEN_DIR);
  // volumeMounts merge by mountPath: an existing mount at the path is re-pointed to our volume.
  const mount: Record<string, unknown> = {
    name: OPENSHIFT_TOKEN_VOLUME,
    mountPath: existingMount?.mountPath ?? OPENSHIFT_TOKEN_DIR,
    readOnly: true,
    ...(existingMount?.subPath !== undefined ? { subPath: null } : {}),
    ...(existingMount?.subPathExpr !== undefined ? { subPathExpr: null } : {}),
  };
  const volumeOrder = [...(spec?.volumes ?? []).map((v) => v.name), ...(sameName ? [] : [OPENSHIFT_TOKEN_VOLUME])];
  const mountOrder = [...(container.volumeMounts ?? []).map((m) => m.mountPath), ...(existingMount ? [] : [OPENSHIFT_TOKEN_DIR])];
  return {
    pod: { '$setElementOrder/volumes': volumeOrder.map((name) => ({ name })), volumes: [volume] },
    container: { '$setElementOrder/volumeMounts': mountOrder.map((mountPath) => ({ mountPath })), volumeMounts: [mount] },
  };
}

/**
 * Sets (or, for uninstall, removes while they still hold our value) labels of the pod template, in
 * one strategic merge patch conditional on the resourceVersion read; other labels stay. Deferred
 * (--no-restart): nothing is written, as the change would roll the pods.
 */
async function setPodLabels(api: KubeApi, a: ActionOf<'pod-labels'>, remove: boolean): Promise<boolean> {
  if (a.deferred) return false;
  return api.retryOnConflict(deploymentCall(a), async () => {
    const d = await readDeploymentOrFail(api, a.ref.namespace, a.ref.name);
    const current = d.spec?.template?.metadata?.labels ?? {};
    const changes = Object.entries(a.labels).filter(([k, v]) => (remove ? current[k] === v : current[k] !== v));
    if (changes.length === 0) return false;
    const labels = Object.fromEntries(changes.map(([k, v]) => [k, remove ? null : v]));
    await patchDeployment(api, a, { metadata: { resourceVersion: d.metadata?.resourceVersion }, spec: { template: { metadata: { labels } } } });
    return true;
  });
}

async function restartDeployment(api: KubeApi, a: ActionOf<'restart'>): Promise<boolean> {
  // Deferred (--no-restart), or planned as not needed (nothing changed): no restart.
  if (a.deferred || a.status === 'unchanged') return false;
  const d = await readDeploymentOrFail(api, a.ref.namespace, a.ref.name);
  // An env or volume change has already rolled the pods: nothing to write, only to wait for.
  if (a.method === 'rollout') return false;
  api.log(`kube: restarting ${a.ref.namespace}/${a.ref.name} (generation ${d.metadata?.generation})`);
  // Removing the marker changes the pod template just as setting it does, so it restarts the
  // pods too, and leaves the template as it was before init restarted it.
  const clear = a.revertMarker === true && d.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] !== undefined;
  await api.call(deploymentCall(a), () =>
    patchDeployment(api, a, { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: clear ? null : new Date().toISOString() } } } } }),
  );
  return true;
}

// --- operator overlays ----------------------------------------------------------------------

/** What a patch sets: its path, and for an env append (`env[-1]`) also the variable's name. */
export function overlayPatchKey(p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return undefined;
  const { path, value } = p as { path?: unknown; value?: unknown };
  if (typeof path !== 'string') return undefined;
  if (!/\.env\[-1\]$/.test(path)) return path;
  let name: unknown;
  try {
    name = typeof value === 'string' ? (parseYaml(value) as { name?: unknown } | null)?.name : undefined;
  } catch {
    name = undefined;
  }
  return `${path}#${typeof name === 'string' ? name : ''}`;
}

/**
 * Our overlays merged into a CR's spec.overlays: an existing entry for the same object whose
 * patches all set things we set is ours (from an earlier run): it is replaced in place (any
 * further such entries dropped); otherwise ours is appended. All other entries are kept as they are.
 */
export function mergeOverlays(current: unknown[], ours: OperatorOverlay[]): unknown[] {
  let result = [...current];
  for (const o of ours) {
    const keys = new Set(o.patches.map((p) => overlayPatchKey(p)));
    const isOurs = (x: unknown): boolean => {
      if (!x || typeof x !== 'object') return false;
      const e = x as { apiVersion?: unknown; kind?: unknown; name?: unknown; patches?: unknown };
      return e.kind === o.kind && e.name === o.name && (e.apiVersion ?? o.apiVersion) === o.apiVersion
        && Array.isArray(e.patches) && e.patches.length > 0 && e.patches.every((p) => keys.has(overlayPatchKey(p)));
    };
    const at = result.findIndex(isOurs);
    if (at < 0) {
      result.push(o);
    } else {
      // Nothing before `at` is ours, so `at` is unchanged by the filter.
      result = result.filter((x, i) => i === at || !isOurs(x));
      result[at] = o;
    }
  }
  return result;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

interface StackRoxCr {
  metadata?: { resourceVersion?: string };
  spec?: { overlays?: unknown };
}

/** Our overlay entries (same object, same patches, our values) are removed; every other entry stays, in order. */
async function removeOperatorOverlays(api: KubeApi, a: ActionOf<'operator-overlay'>): Promise<boolean> {
  const comp = a.crKind === 'Central' ? 'central' : 'sensor';
  const { plural } = OPERATOR_CR[comp];
  const { namespace, name } = a.ref;
  const ref = { group: STACKROX_GROUP, version: STACKROX_VERSION, namespace, plural, name };
  const call: KubeCall = { verb: 'patch', group: STACKROX_GROUP, resource: plural, namespace, name };
  return api.retryOnConflict(call, async () => {
    const cr = await api.optional({ ...call, verb: 'get' }, () => api.custom.getNamespacedCustomObject(ref) as Promise<StackRoxCr>);
    if (!cr) return false;
    const current = Array.isArray(cr.spec?.overlays) ? (cr.spec!.overlays as unknown[]) : [];
    const kept = current.filter((x) => !a.overlays.some((o) => sameOverlay(x, o)));
    if (kept.length === current.length) return false;
    // An emptied list is removed, as it was before init added our entries.
    await api.custom.patchNamespacedCustomObject(
      { ...ref, body: { metadata: { resourceVersion: cr.metadata?.resourceVersion }, spec: { overlays: kept.length ? kept : null } } },
      patchOptions.merge(),
    );
    return true;
  });
}

async function mergeOperatorOverlays(api: KubeApi, a: ActionOf<'operator-overlay'>): Promise<boolean> {
  const comp = a.crKind === 'Central' ? 'central' : 'sensor';
  const { plural } = OPERATOR_CR[comp];
  const { namespace, name } = a.ref;
  const ref = { group: STACKROX_GROUP, version: STACKROX_VERSION, namespace, plural, name };
  const call: KubeCall = { verb: 'patch', group: STACKROX_GROUP, resource: plural, namespace, name };
  return api.retryOnConflict(call, async () => {
    const cr = await api.optional({ ...call, verb: 'get' }, () => api.custom.getNamespacedCustomObject(ref) as Promise<StackRoxCr>);
    if (!cr) throw new OperationError(`${a.crKind} ${namespace}/${name} does not exist.`, { hint: 'Re-run: rhacs-sts detects the install again.' });
    const current = Array.isArray(cr.spec?.overlays) ? (cr.spec!.overlays as unknown[]) : [];
    const merged = mergeOverlays(current, a.overlays);
    if (deepEqual(merged, current)) return false;
    // The list is replaced as a whole (merge patches replace lists); resourceVersion makes the
    // write conditional on the list we merged into, so nobody's concurrent edit is lost.
    await api.custom.patchNamespacedCustomObject(
      { ...ref, body: { metadata: { resourceVersion: cr.metadata?.resourceVersion }, spec: { overlays: merged } } },
      patchOptions.merge(),
    );
    return true;
  });
}
