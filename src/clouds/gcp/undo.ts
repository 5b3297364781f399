/**
 * Uninstall on Google Cloud: take back only what rhacs-sts made.
 *
 * - Policies: our members are removed from the unconditional bindings of our roles (iam-policy.ts);
 *   other members, other roles and every conditional binding stay as they are.
 * - Grants go before the service account: once an account is deleted, Google shows its grants as
 *   `deleted:serviceAccount:…?uid=…`, which no longer match our member.
 * - The service account, the provider and the pool are deleted only when they carry our marker;
 *   the pool only once no live provider is left in it (another cluster of the fleet may use it).
 * - Something already gone is `absent`, not an error, so a second uninstall does nothing.
 */
import { isNotFound } from './errors.js';
import { providerResourceName, type PoolRef } from './external-account.js';
import { updateMember } from './iam-policy.js';
import { awaitOperation, type GoogleOperation } from './operation.js';
import { readPool, readProvider } from './pools.js';
import { changeReader, type GarRepository } from './registry-grant.js';
import { readServiceAccount } from './service-account.js';
import type { GcpSession } from './session.js';

export const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';

export interface UndoStep {
  what: string;
  outcome: 'removed' | 'absent' | 'kept';
  detail?: string;
}

export interface UndoInput {
  projectId: string;
  serviceAccountEmail: string;
  /** The Kubernetes service accounts' members rhacs-sts bound to `roles/iam.workloadIdentityUser`. */
  members: readonly string[];
  /** Where the reader role was granted (none: the project). */
  repositories: readonly GarRepository[];
  /**
   * Whether the reader grant is ours to take back. Default: when the service account is ours; an
   * adopted account's grants may have been made by its owner.
   */
  readerGrantIsOurs?: boolean;
  /** OpenShift: the cluster's provider (and the pool, deleted when it is ours and has no provider left). */
  workloadIdentity?: PoolRef & { providerId: string };
}

async function remove(session: GcpSession, name: string, path: string, call: string, awaitIt: boolean): Promise<boolean> {
  try {
    const op = await session.call<GoogleOperation>({ api: 'iam', name: call, method: 'DELETE', path: `v1/${path}`, safe: false });
    if (awaitIt) await awaitOperation(session, call, op);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Takes back what rhacs-sts made on Google Cloud, step by step (the steps say what was kept and why). */
export async function undoGoogle(session: GcpSession, i: UndoInput): Promise<UndoStep[]> {
  const steps: UndoStep[] = [];
  const account = await readServiceAccount(session, i.serviceAccountEmail);
  const accountName = `service account ${i.serviceAccountEmail}`;

  // 1. The reader role.
  const readerOurs = i.readerGrantIsOurs ?? account?.managed ?? false;
  const readerWhere = i.repositories.length ? i.repositories.map((r) => `${r.location}/${r.repository}`).join(', ') : `project ${i.projectId}`;
  if (!account) steps.push({ what: `roles/artifactregistry.reader on ${readerWhere}`, outcome: 'absent', detail: `${accountName} does not exist` });
  else if (!readerOurs) steps.push({ what: `roles/artifactregistry.reader on ${readerWhere}`, outcome: 'kept', detail: `${accountName} is not rhacs-sts's: its grants may be its owner's` });
  else {
    const results = await changeReader(session, { projectId: i.projectId, repositories: i.repositories, member: `serviceAccount:${i.serviceAccountEmail}`, op: 'remove' });
    steps.push({ what: `roles/artifactregistry.reader on ${readerWhere}`, outcome: results.some((r) => r.changed) ? 'removed' : 'absent' });
  }

  // 2. The workloadIdentityUser members on the account's own policy.
  for (const member of i.members) {
    const what = `${WORKLOAD_IDENTITY_USER} for ${member} on ${accountName}`;
    if (!account) {
      steps.push({ what, outcome: 'absent' });
      continue;
    }
    const r = await updateMember(session, { kind: 'serviceAccount', email: i.serviceAccountEmail }, { op: 'remove', role: WORKLOAD_IDENTITY_USER, member });
    steps.push({ what, outcome: r.changed ? 'removed' : 'absent' });
  }

  // 3. The account itself, only with our marker.
  if (!account) steps.push({ what: accountName, outcome: 'absent' });
  else if (!account.managed) steps.push({ what: accountName, outcome: 'kept', detail: 'its description carries no rhacs-sts marker: not ours' });
  else {
    const gone = await remove(session, accountName, `projects/-/serviceAccounts/${encodeURIComponent(i.serviceAccountEmail)}`, 'iam.projects.serviceAccounts.delete', false);
    steps.push({ what: accountName, outcome: gone ? 'removed' : 'absent' });
  }

  // 4. OpenShift: the provider, then the pool once it serves no one.
  if (i.workloadIdentity) steps.push(...(await undoWorkloadIdentity(session, i.workloadIdentity)));
  return steps;
}

async function undoWorkloadIdentity(session: GcpSession, ref: PoolRef & { providerId: string }): Promise<UndoStep[]> {
  const steps: UndoStep[] = [];
  const providerName = `workload identity provider ${providerResourceName(ref)}`;
  const provider = await readProvider(session, ref);
  if (!provider || provider.state === 'DELETED') steps.push({ what: providerName, outcome: 'absent' });
  else if (!provider.managed) steps.push({ what: providerName, outcome: 'kept', detail: 'its description carries no rhacs-sts marker: not ours' });
  else {
    const gone = await remove(session, providerName, provider.name, 'iam.projects.locations.workloadIdentityPools.providers.delete', true);
    steps.push({ what: providerName, outcome: gone ? 'removed' : 'absent', ...(gone ? { detail: 'Google keeps its id reserved for 30 days; init undeletes it' } : {}) });
  }

  const pool = await readPool(session, ref);
  const poolName = `workload identity pool ${pool?.name ?? ref.poolId}`;
  if (!pool || pool.state === 'DELETED') return [...steps, { what: poolName, outcome: 'absent' }];
  if (!pool.managed) return [...steps, { what: poolName, outcome: 'kept', detail: 'its description carries no rhacs-sts marker: not ours' }];
  const listed = await session.call<{ workloadIdentityPoolProviders?: { name?: string }[] }>({
    api: 'iam',
    name: 'iam.projects.locations.workloadIdentityPools.providers.list',
    method: 'GET',
    path: `v1/${pool.name}/providers`,
    safe: true,
  });
  const left = (listed.workloadIdentityPoolProviders ?? []).map((p) => p.name?.split('/').at(-1) ?? '?');
  if (left.length) return [...steps, { what: poolName, outcome: 'kept', detail: `it still serves provider(s) ${left.join(', ')}` }];
  const gone = await remove(session, poolName, pool.name, 'iam.projects.locations.workloadIdentityPools.delete', true);
  return [...steps, { what: poolName, outcome: gone ? 'removed' : 'absent', ...(gone ? { detail: 'Google keeps its id reserved for 30 days; init undeletes it' } : {}) }];
}
