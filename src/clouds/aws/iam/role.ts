/** The IAM role: create (with the planned trust policy), permissions boundary, tags, and delete. */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { OperationError } from '../../../errors.js';
import { isManaged } from '../../../plan/build.js';
import type { Plan } from '../../../plan/model.js';
import { call, isAlreadyExists } from '../errors.js';
import type { AwsAction } from '../session.js';
import { retryPropagation, toTags, type IamContext } from './context.js';
import { assertOwned } from './ownership.js';
import { readRole, readRoleBasic } from './read.js';

export async function ensureRole(ctx: IamContext, a: Extract<AwsAction, { type: 'role' }>, plan: Plan): Promise<boolean> {
  let current = await readRoleBasic(ctx, a.name);
  if (!current) {
    try {
      await retryPropagation(ctx, `creating the role ${a.name}`, () => ctx.iam().send(new CreateRoleCommand({
        RoleName: a.name,
        Path: a.path,
        AssumeRolePolicyDocument: JSON.stringify(plan.role.trustPolicy),
        Description: 'RHACS short-lived AWS credentials (managed by rhacs-sts)',
        Tags: toTags(a.tags),
        ...(a.permissionsBoundary ? { PermissionsBoundary: a.permissionsBoundary } : {}),
      })), { trustPolicy: JSON.stringify(plan.role.trustPolicy) });
      return true;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (!isAlreadyExists(cause)) throw err;
      ctx.log(`the role ${a.name} was created concurrently; converging it`);
      current = await readRoleBasic(ctx, a.name);
      if (!current) throw new OperationError(`The role ${a.name} was reported as existing but cannot be read.`, { hint: 'Re-run "rhacs-sts init".' });
      assertOwned(current, plan);
    }
  }
  if (a.permissionsBoundary && current.permissionsBoundary !== a.permissionsBoundary) {
    assertOwned(current, plan);
    await call(`setting the permissions boundary of ${a.name}`, () =>
      ctx.iam().send(new PutRolePermissionsBoundaryCommand({ RoleName: a.name, PermissionsBoundary: a.permissionsBoundary })));
    return true;
  }
  return false;
}

export async function ensureTags(ctx: IamContext, a: Extract<AwsAction, { type: 'role-tags' }>): Promise<boolean> {
  const role = await readRoleBasic(ctx, a.roleName);
  if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
  const missing = Object.entries(a.tags).filter(([k, v]) => role.tags[k] !== v);
  if (missing.length === 0) return false;
  await call(`tagging the role ${a.roleName}`, () => ctx.iam().send(new TagRoleCommand({ RoleName: a.roleName, Tags: toTags(Object.fromEntries(missing)) })));
  return true;
}

export async function untagRole(ctx: IamContext, a: Extract<AwsAction, { type: 'role-tags' }>): Promise<boolean> {
  const role = await readRoleBasic(ctx, a.roleName);
  const keys = Object.keys(a.tags).filter((k) => role && k in role.tags);
  if (!role || keys.length === 0) return false;
  await call(`removing our tags from ${a.roleName}`, () => ctx.iam().send(new UntagRoleCommand({ RoleName: a.roleName, TagKeys: keys })));
  return true;
}

export async function deleteRole(ctx: IamContext, a: Extract<AwsAction, { type: 'role' }>): Promise<boolean> {
  const role = await readRole(ctx, a.name);
  if (!role) return false;
  if (!isManaged(role.tags)) throw new OperationError(`The role ${role.arn} is not tagged as created by rhacs-sts; it is not deleted.`);
  // IAM refuses to delete a role that still has policies: inline ones first, then attachments.
  // readRole has just listed them (after any write of this run).
  const inline = role.inlinePolicyNames ?? (await call(`listing the inline policies of ${a.name}`, () => ctx.iam().send(new ListRolePoliciesCommand({ RoleName: a.name })))).PolicyNames ?? [];
  for (const name of inline) {
    await call(`deleting the inline policy ${name} of ${a.name}`, () => ctx.iam().send(new DeleteRolePolicyCommand({ RoleName: a.name, PolicyName: name })));
  }
  for (const policyArn of role.attachedPolicyArns) {
    await call(`detaching ${policyArn} from ${a.name}`, () => ctx.iam().send(new DetachRolePolicyCommand({ RoleName: a.name, PolicyArn: policyArn })));
  }
  await call(`deleting the role ${a.name}`, () => ctx.iam().send(new DeleteRoleCommand({ RoleName: a.name })));
  return true;
}
