/**
 * Applies Google Cloud's actions, each idempotent: the service account is created only when it does
 * not exist (never overwritten), and every grant is one member on one role, read-modify-write with
 * the etag. Before a write on a service account's policy, the account is read again: it must carry
 * rhacs-sts's marker, or be adopted by this run.
 */
import { OperationError } from '../../errors.js';
import { isNotFound } from './errors.js';
import { updateMember } from './iam-policy.js';
import type { GcpAction } from './plan.js';
import { awaitGrants, type GrantWaitDeps } from './grant-wait.js';
import { convergeServiceAccount, readServiceAccount } from './service-account.js';
import type { GcpSession } from './session.js';
import { applyPoolAction, applyProviderAction } from './workload-identity-apply.js';

/** Applies one action; true when it wrote (or waited: IAM propagation). */
export async function applyGcpAction(session: GcpSession, a: GcpAction, wait?: GrantWaitDeps): Promise<boolean> {
  switch (a.type) {
    case 'gcp-propagation': {
      if (!wait) throw new OperationError('Cannot wait for IAM propagation: no connection to the clusters.');
      return awaitGrants(a, wait);
    }
    case 'gcp-service-account': {
      if (a.status === 'delete') return deleteServiceAccount(session, a.email);
      const out = await convergeServiceAccount(session, { projectId: a.projectId, accountId: a.accountId, clusters: a.clusters });
      if (out.status === 'foreign' && !a.adopt) throw foreignAccount(a.email);
      return out.status === 'created';
    }
    case 'gcp-iam-member': {
      if (a.resource.kind === 'serviceAccount') {
        const sa = await readServiceAccount(session, a.resource.email);
        if (!sa) throw new OperationError(`The Google service account ${a.resource.email} does not exist (deleted since the plan was made?).`, { hint: 'Run init again.' });
        if (!sa.managed && !a.adopt) throw foreignAccount(a.resource.email);
      }
      return (await updateMember(session, a.resource, { op: a.op, role: a.role, member: a.member })).changed;
    }
    case 'gcp-workload-identity-pool':
      return applyPoolAction(session, a);
    case 'gcp-oidc-provider':
      return applyProviderAction(session, a);
  }
}

/** Deletes the account only while it carries rhacs-sts's marker; one already gone is nothing to do. */
async function deleteServiceAccount(session: GcpSession, email: string): Promise<boolean> {
  const sa = await readServiceAccount(session, email);
  if (!sa) return false;
  if (!sa.managed) throw foreignAccount(email);
  try {
    await session.call({ api: 'iam', name: 'iam.projects.serviceAccounts.delete', method: 'DELETE', path: `v1/projects/-/serviceAccounts/${encodeURIComponent(email)}`, safe: false });
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  return true;
}

function foreignAccount(email: string): OperationError {
  return new OperationError(`The Google service account ${email} was not created by rhacs-sts: nothing was written to it.`, {
    hint: 'Name another one with --gcp-service-account, or use this one with --adopt-service-account.',
  });
}
