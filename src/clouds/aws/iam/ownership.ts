/**
 * The re-checks at write time: whatever the plan saw, a role or provider found when writing is
 * changed only when rhacs-sts created it or this run adopts it.
 */
import { OperationError } from '../../../errors.js';
import { isManaged } from '../../../plan/build.js';
import type { OidcProviderState, Plan, RoleState } from '../../../plan/model.js';
import { ADDED_CLIENT_IDS_TAG, ADOPTED_TAG } from '../policies.js';
import type { AwsAction } from '../session.js';

/**
 * Last line of defence for providers, as for roles: a provider found at write time (it may have
 * appeared since the plan was read) is changed only when it is ours or this run adopts it. The
 * tags to write: an adopted provider is marked as such, with the audiences we add, so that
 * uninstall gives it back instead of deleting it.
 */
export function ownedOrAdopted(a: Extract<AwsAction, { type: 'oidc-provider' }>, current: OidcProviderState): Record<string, string> {
  if (a.status === 'delete' || isManaged(current.tags)) return a.tags;
  if (!a.adopt) {
    throw new OperationError(`The OIDC provider ${a.arn} exists and was not created by rhacs-sts (it was not there, or not as planned, when the plan was read); nothing was changed on it.`, {
      hint: 'Re-run with --adopt-oidc-provider to add our audience and tag to it (uninstall then gives it back, never deletes it), or re-run to see the new plan.',
    });
  }
  const added = [...new Set([...(current.tags[ADDED_CLIENT_IDS_TAG] ?? '').split(' ').filter(Boolean), ...a.addClientIds.filter((id) => !current.clientIds.includes(id))])].sort();
  return { ...a.tags, [ADOPTED_TAG]: 'true', ...(added.length ? { [ADDED_CLIENT_IDS_TAG]: added.join(' ') } : {}) };
}

/** Last line of defence: never write to a role that is not ours unless the plan adopts it. */
export function assertOwned(role: RoleState, plan: Plan): void {
  const adopting = plan.actions.some((x) => x.type === 'role-tags' && x.status !== 'unchanged');
  if (!isManaged(role.tags) && !adopting) {
    throw new OperationError(`The role ${role.arn} exists and was not created by rhacs-sts.`, {
      hint: 'Re-run with --adopt-role to take it over, or choose another --role-name.',
    });
  }
}
