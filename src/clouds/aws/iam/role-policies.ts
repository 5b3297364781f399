/** The role's permissions: our inline ECR read policy, and managed policies we attach (recorded in a tag). */
import { AttachRolePolicyCommand, DeleteRolePolicyCommand, DetachRolePolicyCommand, PutRolePolicyCommand, TagRoleCommand, UntagRoleCommand } from '@aws-sdk/client-iam';
import { OperationError } from '../../../errors.js';
import type { Plan } from '../../../plan/model.js';
import { call } from '../errors.js';
import { samePolicy } from '../policies.js';
import type { AwsAction } from '../session.js';
import { toTags, type IamContext } from './context.js';
import { assertOwned } from './ownership.js';
import { readInlinePolicy, readRole, readRoleBasic } from './read.js';

type PermissionsAction = Extract<AwsAction, { type: 'permissions-policy' }>;
type ManagedPolicyAction = Extract<AwsAction, { type: 'managed-policy' }>;

export async function ensurePermissions(ctx: IamContext, a: PermissionsAction, plan: Plan): Promise<boolean> {
  const current = await readInlinePolicy(ctx, a.roleName);
  if (current && samePolicy(current, a.document)) return false;
  const role = await readRoleBasic(ctx, a.roleName);
  if (role) assertOwned(role, plan);
  await call(`writing the inline policy ${a.policyName} of ${a.roleName}`, () =>
    ctx.iam().send(new PutRolePolicyCommand({ RoleName: a.roleName, PolicyName: a.policyName, PolicyDocument: JSON.stringify(a.document) })));
  return true;
}

export async function deletePermissions(ctx: IamContext, a: PermissionsAction): Promise<boolean> {
  if (!(await readInlinePolicy(ctx, a.roleName))) return false;
  await call(`deleting the inline policy ${a.policyName} of ${a.roleName}`, () =>
    ctx.iam().send(new DeleteRolePolicyCommand({ RoleName: a.roleName, PolicyName: a.policyName })));
  return true;
}

/** Attach a managed policy and record on the role that rhacs-sts attached it. */
export async function attachPolicy(ctx: IamContext, a: ManagedPolicyAction, plan: Plan): Promise<boolean> {
  const role = await readRole(ctx, a.roleName);
  if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
  assertOwned(role, plan);
  let wrote = false;
  if (!role.attachedPolicyArns.includes(a.policyArn)) {
    await call(`attaching ${a.policyArn} to ${a.roleName}`, () => ctx.iam().send(new AttachRolePolicyCommand({ RoleName: a.roleName, PolicyArn: a.policyArn })));
    wrote = true;
  }
  if (role.tags[a.tagKey] !== a.policyArn) {
    await call(`tagging the role ${a.roleName}`, () => ctx.iam().send(new TagRoleCommand({ RoleName: a.roleName, Tags: toTags({ [a.tagKey]: a.policyArn }) })));
    wrote = true;
  }
  return wrote;
}

/** Detach a managed policy that rhacs-sts attached (its tag says so), and drop the tag. */
export async function detachPolicy(ctx: IamContext, a: ManagedPolicyAction): Promise<boolean> {
  const role = await readRole(ctx, a.roleName);
  if (!role || role.tags[a.tagKey] !== a.policyArn) return false;
  if (role.attachedPolicyArns.includes(a.policyArn)) {
    await call(`detaching ${a.policyArn} from ${a.roleName}`, () => ctx.iam().send(new DetachRolePolicyCommand({ RoleName: a.roleName, PolicyArn: a.policyArn })));
  }
  await call(`removing our tag from ${a.roleName}`, () => ctx.iam().send(new UntagRoleCommand({ RoleName: a.roleName, TagKeys: [a.tagKey] })));
  return true;
}
