/**
 * Applies the pool and provider actions of OpenShift on Google Cloud, each idempotent and each
 * re-checking ownership at Google before it writes: create, undelete ours (ids stay reserved 30
 * days after a delete), patch the provider's drifted fields (stale keys re-synced). Every create,
 * patch, undelete and delete is a long-running operation waited for (bounded: operation.ts).
 * Delete (uninstall): the provider only with our marker; the pool only with our marker and no live
 * provider left in it.
 */
import { OperationError } from '../../errors.js';
import { isNotFound } from './errors.js';
import { poolResourceName, providerResourceName } from './external-account.js';
import { awaitOperation, type GoogleOperation } from './operation.js';
import type { GcpAction } from './plan.js';
import { convergePool, convergeProvider, readPool, readProvider } from './pools.js';
import type { GcpSession } from './session.js';

type PoolAction = Extract<GcpAction, { type: 'gcp-workload-identity-pool' }>;
type ProviderAction = Extract<GcpAction, { type: 'gcp-oidc-provider' }>;

const POOLS = 'iam.projects.locations.workloadIdentityPools';

export async function applyPoolAction(session: GcpSession, a: PoolAction): Promise<boolean> {
  if (a.status === 'delete') return deletePool(session, a);
  const out = await convergePool(session, { ref: a.ref, clusters: a.clusters });
  if (out.status === 'foreign') throw notOurs(`The workload identity pool ${poolResourceName(a.ref)}`, '--workload-identity-pool');
  return out.status !== 'managed';
}

export async function applyProviderAction(session: GcpSession, a: ProviderAction): Promise<boolean> {
  if (a.status === 'delete') return deleteProvider(session, a);
  const out = await convergeProvider(session, { ref: a.ref, issuer: a.issuer, ...(a.keys ? { keys: a.keys } : {}), cluster: a.cluster });
  if (out.status === 'foreign') throw notOurs(`The OIDC provider ${providerResourceName(a.ref)}`, '--workload-identity-provider');
  return out.status !== 'unchanged';
}

async function remove(session: GcpSession, call: string, name: string): Promise<boolean> {
  try {
    const op = await session.call<GoogleOperation>({ api: 'iam', name: call, method: 'DELETE', path: `v1/${name}`, safe: false });
    await awaitOperation(session, call, op);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function deleteProvider(session: GcpSession, a: ProviderAction): Promise<boolean> {
  const p = await readProvider(session, a.ref);
  if (!p || p.state === 'DELETED' || !p.managed) return false;
  return remove(session, `${POOLS}.providers.delete`, p.name);
}

async function deletePool(session: GcpSession, a: PoolAction): Promise<boolean> {
  const pool = await readPool(session, a.ref);
  if (!pool || pool.state === 'DELETED' || !pool.managed) return false;
  const listed = await session.call<{ workloadIdentityPoolProviders?: { name?: string; state?: string }[] }>({
    api: 'iam', name: `${POOLS}.providers.list`, method: 'GET', path: `v1/${pool.name}/providers`, safe: true,
  });
  const left = (listed.workloadIdentityPoolProviders ?? []).filter((p) => p.state !== 'DELETED');
  if (left.length) return false;
  return remove(session, `${POOLS}.delete`, pool.name);
}

function notOurs(what: string, flag: string): OperationError {
  return new OperationError(`${what} was not created by rhacs-sts: nothing was written to it.`, { hint: `Name another one with ${flag}.` });
}
