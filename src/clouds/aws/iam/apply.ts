/** One planned IAM action, applied: each re-reads and re-checks before writing, so a re-run writes nothing. */
import { OperationError } from '../../../errors.js';
import type { Plan } from '../../../plan/model.js';
import type { AwsAction } from '../session.js';
import type { IamContext } from './context.js';
import { deleteProvider, ensureProvider } from './oidc-provider.js';
import { attachPolicy, deletePermissions, detachPolicy, ensurePermissions } from './role-policies.js';
import { deleteRole, ensureRole, ensureTags, untagRole } from './role.js';
import { ensureTrust } from './trust-policy.js';

export type IamAction = Exclude<AwsAction, { type: 'pod-identity-association' }>;

/** Returns true when it wrote. */
export async function applyIamAction(ctx: IamContext, action: IamAction, plan: Plan): Promise<boolean> {
  if (action.status === 'delete') {
    switch (action.type) {
      case 'oidc-provider': return deleteProvider(ctx, action);
      case 'role': return deleteRole(ctx, action);
      case 'role-tags': return untagRole(ctx, action);
      case 'permissions-policy': return deletePermissions(ctx, action);
      case 'trust-policy': throw new OperationError('A trust policy is never deleted on its own; the role is.');
      case 'managed-policy': return detachPolicy(ctx, action);
    }
  }
  switch (action.type) {
    case 'oidc-provider': return ensureProvider(ctx, action);
    case 'role': return ensureRole(ctx, action, plan);
    case 'role-tags': return ensureTags(ctx, action);
    case 'trust-policy': return ensureTrust(ctx, action, plan);
    case 'permissions-policy': return ensurePermissions(ctx, action, plan);
    case 'managed-policy': return attachPolicy(ctx, action, plan);
  }
}
