/**
 * OpenShift's cluster-wide issuer setting: `authentications.config.openshift.io/cluster`
 * `spec.serviceAccountIssuer` (empty: the internal https://kubernetes.default.svc), the
 * infrastructure's name and region (for a bucket's default name and region), and the
 * `kube-apiserver` ClusterOperator that reports the API servers rolling out after a change.
 */
import { OperationError } from '../errors.js';
import { OPENSHIFT_CONFIG_GROUP, patchOptions, type KubeApi } from './api.js';
import { kubeStatus } from './errors.js';

export const OPENSHIFT_DEFAULT_ISSUER = 'https://kubernetes.default.svc';

export interface OpenShiftIssuerState {
  /** spec.serviceAccountIssuer ('' when unset). */
  serviceAccountIssuer: string;
  infrastructureName?: string;
  region?: string;
  platform?: string;
}

export interface OperatorStatus {
  available?: string;
  progressing?: string;
  degraded?: string;
  /** The Progressing (or Degraded) condition's message. */
  message?: string;
}

async function readConfig<T>(api: KubeApi, plural: string, name: string): Promise<T | null> {
  try {
    return (await api.call({ verb: 'get', group: OPENSHIFT_CONFIG_GROUP, resource: plural, name }, () =>
      api.custom.getClusterCustomObject({ group: OPENSHIFT_CONFIG_GROUP, version: 'v1', plural, name }))) as T;
  } catch (err) {
    if (err instanceof OperationError && kubeStatus(err.cause) === 404) return null;
    throw err;
  }
}

/** null when the cluster is not OpenShift (no config.openshift.io Authentication). */
export async function readOpenShiftIssuer(api: KubeApi): Promise<OpenShiftIssuerState | null> {
  if (!(await api.apiGroups()).has(OPENSHIFT_CONFIG_GROUP)) return null;
  const [auth, infra] = await Promise.all([
    readConfig<{ spec?: { serviceAccountIssuer?: string } }>(api, 'authentications', 'cluster'),
    readConfig<{ status?: { infrastructureName?: string; platform?: string; platformStatus?: { type?: string; aws?: { region?: string } } } }>(api, 'infrastructures', 'cluster'),
  ]);
  if (!auth) return null;
  return {
    serviceAccountIssuer: auth.spec?.serviceAccountIssuer?.trim() ?? '',
    ...(infra?.status?.infrastructureName ? { infrastructureName: infra.status.infrastructureName } : {}),
    ...(infra?.status?.platformStatus?.aws?.region ? { region: infra.status.platformStatus.aws.region } : {}),
    ...((infra?.status?.platformStatus?.type ?? infra?.status?.platform) ? { platform: infra?.status?.platformStatus?.type ?? infra?.status?.platform } : {}),
  };
}

/** Sets spec.serviceAccountIssuer (a merge patch of that one field). */
export async function setServiceAccountIssuer(api: KubeApi, issuer: string): Promise<void> {
  await api.call({ verb: 'patch', group: OPENSHIFT_CONFIG_GROUP, resource: 'authentications', name: 'cluster' }, () =>
    api.custom.patchClusterCustomObject(
      { group: OPENSHIFT_CONFIG_GROUP, version: 'v1', plural: 'authentications', name: 'cluster', body: { spec: { serviceAccountIssuer: issuer } } },
      patchOptions.merge(),
    ));
}

/** The conditions of a ClusterOperator (null when there is none by that name). */
export async function clusterOperatorStatus(api: KubeApi, name: string): Promise<OperatorStatus | null> {
  const co = await readConfig<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>(api, 'clusteroperators', name);
  if (!co) return null;
  const c = (t: string) => co.status?.conditions?.find((x) => x.type === t);
  return {
    available: c('Available')?.status,
    progressing: c('Progressing')?.status,
    degraded: c('Degraded')?.status,
    message: (c('Degraded')?.status === 'True' ? c('Degraded')?.message : c('Progressing')?.message) ?? undefined,
  };
}
