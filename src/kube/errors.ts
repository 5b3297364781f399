/**
 * Kubernetes API errors → our typed errors. Every call we make is described by a `KubeCall`
 * (verb, resource, group, namespace, name), so that a 403 can name exactly what is missing and
 * the smallest RBAC rule that grants it, and an unreachable server or bad credentials can name
 * the context and the server (exit 1, with a hint to fix the kubeconfig or --context).
 */
import { ApiException } from '@kubernetes/client-node';
import { ExitCode, OperationError, RhacsStsError } from '../errors.js';

/** What a call does, in RBAC terms. `group` '' is the core group. */
export interface KubeCall {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** For non-resource URLs (e.g. /.well-known/openid-configuration). */
  nonResourceUrl?: string;
}

/** The cluster a session talks to, for messages. */
export interface KubeEndpoint {
  contextName: string;
  server: string;
  /** The cluster's name as the kubeconfig tells it (EKS context ARN, or the exec plugin's --cluster-name). */
  clusterName?: string;
  /** The AWS region the kubeconfig names for it (see regionFromKubeconfig). */
  region?: string;
  /** The command of the context's exec credential plugin (a detection signal: gke-gcloud-auth-plugin). */
  execCommand?: string;
}

/**
 * The cluster name a kubeconfig context carries: `aws eks update-kubeconfig` names the context
 * `arn:<partition>:eks:<region>:<account>:cluster/<name>` and runs
 * `aws eks get-token --cluster-name <name>` (eksctl and aws-iam-authenticator: `token -i <name>`).
 */
export function clusterNameFromKubeconfig(contextName: string, exec?: { args?: string[] | null }): string | undefined {
  const arn = /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(contextName);
  if (arn?.[1]) return arn[1];
  const args = exec?.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--cluster-name=')) return a.slice('--cluster-name='.length) || undefined;
    if ((a === '--cluster-name' || (a === '-i' && args.includes('token')) || a === '--cluster-id') && args[i + 1]) return args[i + 1];
  }
  return undefined;
}

/**
 * The AWS region a kubeconfig context names: the region of an EKS context ARN (as `aws eks
 * update-kubeconfig` names contexts), else the exec plugin's `--region` (`aws eks get-token`).
 */
export function regionFromKubeconfig(contextName: string, exec?: { args?: string[] | null }): string | undefined {
  const arn = /^arn:aws[a-z-]*:eks:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:cluster\//.exec(contextName);
  if (arn?.[1]) return arn[1];
  const args = exec?.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--region=')) return a.slice('--region='.length) || undefined;
    if (a === '--region' && args[i + 1]) return args[i + 1];
  }
  return undefined;
}

/** HTTP status of a client-node error, or undefined. */
export function kubeStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export const isNotFound = (err: unknown): boolean => kubeStatus(err) === 404;
export const isConflict = (err: unknown): boolean => kubeStatus(err) === 409;

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string };
}

/** The Kubernetes Status object in an error response, when there is one. */
export function statusBody(err: unknown): StatusBody | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as StatusBody) : undefined;
    } catch {
      return body ? { message: body } : undefined;
    }
  }
  return body && typeof body === 'object' ? (body as StatusBody) : undefined;
}

/** Cluster-scoped resources we read (everything else we touch is namespaced). */
const CLUSTER_SCOPED = new Set(['nodes', 'namespaces', 'customresourcedefinitions', 'authentications', 'infrastructures', 'clusterversions']);

/** `deployments.apps`, `serviceaccounts`, `centrals.platform.stackrox.io`. */
export function qualifiedResource(call: Pick<KubeCall, 'resource' | 'group'>): string {
  return call.group ? `${call.resource}.${call.group}` : call.resource;
}

/** The smallest RBAC rule that allows `call`, and where it goes. */
export function rbacRule(call: KubeCall): { rule: string; where: string; kubectl: string } {
  if (call.nonResourceUrl) {
    return {
      rule: `rules: [{nonResourceURLs: ["${call.nonResourceUrl}"], verbs: ["${call.verb}"]}]`,
      where: 'in a ClusterRole bound to you with a ClusterRoleBinding',
      kubectl: `kubectl create clusterrole rhacs-sts-${call.verb} --verb=${call.verb} --non-resource-url=${call.nonResourceUrl}`,
    };
  }
  const clusterWide = CLUSTER_SCOPED.has(call.resource) || call.namespace === undefined;
  const rule = `rules: [{apiGroups: ["${call.group}"], resources: ["${call.resource}"], verbs: ["${call.verb}"]}]`;
  const res = qualifiedResource(call);
  return clusterWide
    ? {
        rule,
        where: 'in a ClusterRole bound to you with a ClusterRoleBinding',
        kubectl: `kubectl create clusterrole rhacs-sts-${call.verb}-${call.resource} --verb=${call.verb} --resource=${res}`,
      }
    : {
        rule,
        where: `in a Role in namespace ${call.namespace} bound to you with a RoleBinding`,
        kubectl: `kubectl -n ${call.namespace} create role rhacs-sts-${call.verb}-${call.resource} --verb=${call.verb} --resource=${res}`,
      };
}

function describeCall(call: KubeCall): string {
  if (call.nonResourceUrl) return `${call.verb} ${call.nonResourceUrl}`;
  const what = `${qualifiedResource(call)}${call.name ? ` "${call.name}"` : ''}`;
  const scope = call.namespace !== undefined && !CLUSTER_SCOPED.has(call.resource) ? ` in namespace "${call.namespace}"` : call.verb === 'list' || call.verb === 'watch' ? ' cluster-wide' : '';
  return `${call.verb} ${what}${scope}`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EPIPE', 'EPROTO', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
]);

/** Network-level failure (nothing answered, TLS failed, timed out) rather than an HTTP error. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof ApiException) return false;
  const e = err as { name?: string; type?: string; code?: unknown; errno?: unknown; cause?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'FetchError' || e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if ((e as { syscall?: unknown }).syscall?.toString().startsWith('spawn')) return false; // an exec credential plugin
  if (e.type === 'request-timeout') return true;
  if (e.type === 'system' && e.cause === undefined && typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(e.code))) return true;
  return e.cause !== undefined && e.cause !== err && isConnectionError(e.cause);
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
}

/**
 * The cluster cannot be reached or we are not authenticated (fix kubeconfig or --context). Exit 1:
 * something was contacted and failed — whether at the start or mid-run, it is not an input error.
 * Exit 2 only when nothing could be sent (the kubeconfig itself is incomplete).
 */
export function connectionError(ep: KubeEndpoint, detail: string, hint?: string, cause?: unknown, exitCode: ExitCode = ExitCode.Failed): RhacsStsError {
  return new RhacsStsError(`Cannot use the Kubernetes cluster of context "${ep.contextName}" (server ${ep.server}): ${detail}`, {
    exitCode,
    hint: hint ?? 'Check that the cluster is up and reachable from here, and that --context / --kubeconfig (or KUBECONFIG) select the right cluster.',
    cause,
  });
}

/** Maps any error from a call to a typed error. Never includes tokens or request bodies. */
export function mapKubeError(err: unknown, call: KubeCall, ep: KubeEndpoint): RhacsStsError {
  if (err instanceof RhacsStsError) return err;
  const status = kubeStatus(err);
  const body = statusBody(err);
  if (status === 401) {
    return connectionError(ep, 'the server rejected the credentials (401 Unauthorized).',
      'Log in again or refresh the credentials of this context (for EKS: aws eks update-kubeconfig; for OpenShift: oc login), then re-run.', err);
  }
  if (status === 403) {
    const user = /User "([^"]+)"/.exec(body?.message ?? '')?.[1];
    if (user === 'system:anonymous') {
      return connectionError(ep, 'the request was sent without credentials (the server treated it as system:anonymous).',
        'Give the context a user with credentials (a token, client certificate or exec plugin) in your kubeconfig.', err);
    }
    const verb = (/cannot (\w+) /.exec(body?.message ?? '')?.[1] as KubeCall['verb'] | undefined) ?? call.verb;
    const effective = { ...call, verb };
    const r = rbacRule(effective);
    return new OperationError(
      `Kubernetes denied the request: ${user ? `user "${user}"` : 'you'} may not ${describeCall(effective)} (403 Forbidden). ` +
        `The smallest RBAC rule that grants it, ${r.where}: ${r.rule}`,
      { hint: `Ask a cluster administrator to grant it (e.g. ${r.kubectl}, plus a binding to your user), or use a --context with more rights.`, cause: err },
    );
  }
  if (status !== undefined) {
    const reason = body?.message ? `: ${body.message}` : '';
    return new OperationError(`Kubernetes request failed (${describeCall(call)}): HTTP ${status}${body?.reason ? ` ${body.reason}` : ''}${reason}`, { cause: err });
  }
  if (isConnectionError(err)) {
    const code = errorCode(err);
    const tls = code && /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO|ERR_TLS/.test(code);
    return connectionError(
      ep,
      tls ? `the server's TLS certificate is not trusted (${code}).` : `the server did not answer (${code ?? (err as Error).message}).`,
      tls ? "Check the cluster's certificate-authority data in your kubeconfig." : undefined,
      err,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OperationError(`Kubernetes request failed (${describeCall(call)}): ${message}`, { cause: err });
}
