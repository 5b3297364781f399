/**
 * The AKS signals a reader of the cluster already has, collected for src/platforms/aks/facts.ts:
 * the kubeconfig context, its user (name and exec section) and server, one node's labels and
 * providerID, and the issuer from the API server's discovery document EXACTLY as published —
 * never normalised as AWS's IAM would have it: AKS's ends in `/` and Entra compares strings.
 * Read-only; a signal we may not read (403) is just missing.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { AksSignals } from '../platforms/aks/facts.js';
import { OperationError } from '../errors.js';
import type { KubeApi } from './api.js';
import { kubeStatus } from './errors.js';

/** A read we may not make is a missing signal; anything else fails as any read does. */
const forbiddenAsNull = (err: unknown): null => {
  if (err instanceof OperationError && kubeStatus(err.cause) === 403) return null;
  throw err;
};

/** The kubeconfig's part: context name, user name and exec, server. Pure. */
export function aksKubeconfigSignals(kc: KubeConfig): Pick<AksSignals, 'contextName' | 'userName' | 'exec' | 'server'> {
  const context = kc.getContextObject(kc.getCurrentContext());
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  return {
    ...(context ? { contextName: context.name } : {}),
    ...(user ? { userName: user.name } : {}),
    ...(user?.exec?.command ? { exec: { command: user.exec.command, args: user.exec.args ?? [] } } : {}),
    ...(cluster ? { server: cluster.server } : {}),
  };
}

/** The issuer of the API server's discovery document, byte for byte; undefined when it cannot be read. */
export async function publishedIssuer(api: KubeApi): Promise<string | undefined> {
  const raw = await api
    .optional({ verb: 'get', group: '', resource: '', nonResourceUrl: '/.well-known/openid-configuration' }, () => api.wellKnown.getServiceAccountIssuerOpenIDConfiguration())
    .catch(forbiddenAsNull);
  if (raw === null) return undefined;
  try {
    const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { issuer?: unknown };
    return typeof doc?.issuer === 'string' && doc.issuer ? doc.issuer : undefined;
  } catch {
    return undefined;
  }
}

/** Every AKS signal of the cluster `api` reaches. */
export async function readAksSignals(api: KubeApi): Promise<AksSignals> {
  const [issuer, nodes] = await Promise.all([
    publishedIssuer(api),
    api.optional({ verb: 'list', group: '', resource: 'nodes' }, () => api.core.listNode({ limit: 5 })).catch(forbiddenAsNull),
  ]);
  const node = nodes?.items.find((n) => n.spec?.providerID?.startsWith('azure://')) ?? nodes?.items[0];
  return {
    ...aksKubeconfigSignals(api.kc),
    ...(issuer ? { issuer } : {}),
    ...(node?.metadata?.labels ? { nodeLabels: node.metadata.labels } : {}),
    ...(node?.spec?.providerID ? { providerId: node.spec.providerID } : {}),
  };
}
