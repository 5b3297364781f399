/**
 * Reads for `verify`: the issuer's discovery document and JWKS through the API server, a
 * short-lived service-account token (TokenRequest), a deployment's rollout and pods, and when an
 * annotation was last set (metadata.managedFields). Tokens are returned to the caller only; the
 * request log (api.ts) records method and path, never bodies.
 */
import type { V1ManagedFieldsEntry, V1Pod } from '@kubernetes/client-node';
import { OperationError } from '../errors.js';
import type { KubeApi } from './api.js';
import { kubeStatus } from './errors.js';
import { normalizeIssuer } from './detect.js';
import { targetContainer, webhookOptOut } from './rhacs.js';
import { evaluateRollout, selectorString } from './rollout.js';
import type { IssuerDocuments, Jwk, PodState, WorkloadState } from './session.js';

/** TokenRequest's minimum lifetime; the token is used once, at once. */
export const VERIFY_TOKEN_SECONDS = 600;

function asObject(raw: unknown, what: string): Record<string, unknown> {
  let v = raw;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new OperationError(`The API server's ${what} is not JSON.`);
    }
  }
  if (!v || typeof v !== 'object') throw new OperationError(`The API server's ${what} is empty.`);
  return v as Record<string, unknown>;
}

export async function issuerDiscovery(api: KubeApi): Promise<IssuerDocuments> {
  const docPath = '/.well-known/openid-configuration';
  const jwksPath = '/openid/v1/jwks';
  const doc = asObject(
    await api.call({ verb: 'get', group: '', resource: '', nonResourceUrl: docPath }, () => api.wellKnown.getServiceAccountIssuerOpenIDConfiguration()),
    docPath,
  );
  const jwks = asObject(
    await api.call({ verb: 'get', group: '', resource: '', nonResourceUrl: jwksPath }, () => api.openid.getServiceAccountIssuerOpenIDKeyset()),
    jwksPath,
  );
  return {
    issuer: typeof doc.issuer === 'string' ? normalizeIssuer(doc.issuer) : undefined,
    jwksUri: typeof doc.jwks_uri === 'string' ? doc.jwks_uri : undefined,
    keys: Array.isArray(jwks.keys) ? (jwks.keys as Jwk[]) : [],
  };
}

export async function requestToken(api: KubeApi, namespace: string, serviceAccount: string, audience: string, pod?: { name: string; uid: string }): Promise<string> {
  const out = await api.call({ verb: 'create', group: '', resource: 'serviceaccounts/token', namespace, name: serviceAccount }, () =>
    api.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: [audience],
          expirationSeconds: VERIFY_TOKEN_SECONDS,
          // Bound to a pod, as the kubelet binds a projected token (EKS Pod Identity tags the session with the pod).
          ...(pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } } : {}),
        },
      },
    }),
  );
  const token = out.status?.token;
  if (!token) throw new OperationError(`The API server returned no token for service account ${namespace}/${serviceAccount}.`);
  return token;
}

function podState(p: V1Pod, component: string): PodState {
  const spec = p.spec;
  const container = targetContainer(spec, component);
  const tokenMounts: PodState['tokenMounts'] = [];
  for (const m of container?.volumeMounts ?? []) {
    const v = spec?.volumes?.find((x) => x.name === m.name);
    for (const s of v?.projected?.sources ?? []) {
      const t = s.serviceAccountToken;
      if (t) tokenMounts.push({ mountPath: m.mountPath.replace(/\/+$/, ''), path: t.path.replace(/^\/+/, ''), audience: t.audience ?? '' });
    }
  }
  const start = p.status?.startTime;
  const optOut = webhookOptOut(p, container?.name);
  return {
    name: p.metadata?.name ?? '',
    ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
    startTime: start ? new Date(start) : undefined,
    ready: !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    terminating: !!p.metadata?.deletionTimestamp,
    serviceAccountName: spec?.serviceAccountName,
    env: (container?.env ?? []).map((e) => (e.valueFrom || e.value === undefined ? { name: e.name } : { name: e.name, value: e.value })),
    tokenMounts,
    ...(optOut ? { webhookOptOut: optOut } : {}),
  };
}

export async function workloadState(api: KubeApi, namespace: string, name: string): Promise<WorkloadState | null> {
  const d = await api.optional({ verb: 'get', group: 'apps', resource: 'deployments', namespace, name }, () =>
    api.apps.readNamespacedDeployment({ name, namespace }),
  );
  if (!d) return null;
  const base = {
    generation: d.metadata?.generation,
    rollout: evaluateRollout(d),
    podTemplateAnnotations: { ...(d.spec?.template?.metadata?.annotations ?? {}) },
  };
  try {
    const list = await api.call({ verb: 'list', group: '', resource: 'pods', namespace }, () =>
      api.core.listNamespacedPod({ namespace, labelSelector: selectorString(d.spec?.selector) || undefined }),
    );
    // Pods of this deployment: those of its ReplicaSets (`<name>-<hash>`), or without an owner.
    const mine = list.items.filter((p) => {
      const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
      return !rs || rs.name.startsWith(`${name}-`);
    });
    return { ...base, pods: mine.map((p) => podState(p, name)) };
  } catch (err) {
    if (kubeStatus((err as { cause?: unknown }).cause) === 403) return { ...base, pods: null, podsError: (err as Error).message };
    throw err;
  }
}

function ownsAnnotation(entry: V1ManagedFieldsEntry, key: string): boolean {
  const f = entry.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined;
  return f?.['f:metadata']?.['f:annotations']?.[`f:${key}`] !== undefined;
}

export async function annotationSetAt(api: KubeApi, namespace: string, name: string, key: string): Promise<Date | undefined | null> {
  const sa = await api.optional({ verb: 'get', group: '', resource: 'serviceaccounts', namespace, name }, () =>
    api.core.readNamespacedServiceAccount({ name, namespace }),
  );
  if (!sa) return null;
  if (sa.metadata?.annotations?.[key] === undefined) return undefined;
  const times = (sa.metadata?.managedFields ?? [])
    .filter((e) => e.time && ownsAnnotation(e, key))
    .map((e) => new Date(e.time!).getTime())
    .filter((t) => Number.isFinite(t));
  return times.length ? new Date(Math.max(...times)) : undefined;
}
