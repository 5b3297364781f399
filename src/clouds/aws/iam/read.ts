/**
 * Reads of IAM (read-only): OIDC providers, roles with their policies, the account's quotas, and
 * the roles that trust a provider. What IAM answers is checked before anything is built on it.
 */
import {
  GetAccountSummaryCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { OperationError } from '../../../errors.js';
import type { OidcProviderState, RoleState } from '../../../plan/model.js';
import { PARTITIONS, type Partition } from '../../../validate.js';
import { call, isNoSuchEntity, mapAwsError } from '../errors.js';
import { parsePolicyDocument, PERMISSIONS_POLICY_NAME, type PolicyDocument } from '../policies.js';
import { fromTags, type IamContext } from './context.js';

export async function readProvider(ctx: IamContext, arn: string): Promise<OidcProviderState | null> {
  try {
    const out = await ctx.iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    return { arn, clientIds: out.ClientIDList ?? [], thumbprints: out.ThumbprintList ?? [], tags: fromTags(out.Tags) };
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw mapAwsError(err, `reading the OIDC provider ${arn}`);
  }
}

/** The role itself (one GetRole): trust policy, tags, boundary. Enough for every re-check before a write. */
export async function readRoleBasic(ctx: IamContext, name: string): Promise<RoleState | null> {
  let role;
  try {
    role = (await ctx.iam().send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw mapAwsError(err, `reading the role ${name}`);
  }
  if (!role) return null;
  // GetRole returns the tags; older endpoints did not, so fall back to ListRoleTags.
  const tags = role.Tags ?? (await call(`reading the tags of ${name}`, async () => (await ctx.iam().send(new ListRoleTagsCommand({ RoleName: name }))).Tags));
  const arnProblem = roleArnProblem(role.Arn);
  if (arnProblem) throw new OperationError(`IAM answered GetRole for ${name} with ${arnProblem}; nothing was changed.`, { hint: 'Check the AWS endpoint your configuration points at (AWS_ENDPOINT_URL, the profile\'s endpoint_url).' });
  return {
    arn: role.Arn!,
    path: role.Path ?? '/',
    trustPolicy: role.AssumeRolePolicyDocument ? policyDocument(role.AssumeRolePolicyDocument, `the trust policy of the role ${name}`) : { Version: '2012-10-17', Statement: [] },
    inlinePolicies: {},
    attachedPolicyArns: [],
    permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn,
    tags: fromTags(tags),
  };
}

/** The role with its inline policy of ours and its attached policies (discovery, deletion). */
export async function readRole(ctx: IamContext, name: string): Promise<RoleState | null> {
  const role = await readRoleBasic(ctx, name);
  if (!role) return null;
  const [policy, attached, inline] = await Promise.all([
    readInlinePolicy(ctx, name),
    call(`listing the managed policies of ${name}`, () => ctx.iam().send(new ListAttachedRolePoliciesCommand({ RoleName: name }))),
    call(`listing the inline policies of ${name}`, () => ctx.iam().send(new ListRolePoliciesCommand({ RoleName: name }))),
  ]);
  if (policy) role.inlinePolicies[PERMISSIONS_POLICY_NAME] = policy;
  role.inlinePolicyNames = inline.PolicyNames ?? [];
  role.attachedPolicyArns = (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn!).filter(Boolean);
  return role;
}

export async function readInlinePolicy(ctx: IamContext, roleName: string): Promise<PolicyDocument | undefined> {
  try {
    const out = await ctx.iam().send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: PERMISSIONS_POLICY_NAME }));
    return out.PolicyDocument ? policyDocument(out.PolicyDocument, `the inline policy ${PERMISSIONS_POLICY_NAME} of the role ${roleName}`) : undefined;
  } catch (err) {
    if (isNoSuchEntity(err)) return undefined;
    throw mapAwsError(err, `reading the inline policy of ${roleName}`);
  }
}

/**
 * The account's trust-policy size quota (raised quotas show here). Not every principal may call
 * iam:GetAccountSummary: then the plan measures against the default and says so.
 */
export async function readTrustPolicyQuota(ctx: IamContext): Promise<number | undefined> {
  try {
    const out = await ctx.iam().send(new GetAccountSummaryCommand({}));
    const q = out.SummaryMap?.AssumeRolePolicySizeQuota;
    return typeof q === 'number' && q > 0 ? q : undefined;
  } catch (err) {
    if (/AccessDenied/.test((err as { name?: string })?.name ?? '')) {
      ctx.log('iam:GetAccountSummary was denied: measuring the trust policy against the default quota');
      return undefined;
    }
    throw mapAwsError(err, 'reading the account\'s IAM quotas (iam:GetAccountSummary)');
  }
}

export async function oidcProviderCount(ctx: IamContext): Promise<number | undefined> {
  try {
    const out = await ctx.iam().send(new ListOpenIDConnectProvidersCommand({}));
    return (out.OpenIDConnectProviderList ?? []).length;
  } catch {
    return undefined; // a caller without iam:ListOpenIDConnectProviders: no warning, no failure
  }
}

/** Names of roles whose trust policy names this provider as a federated principal (unreadable ones too, with why). */
export async function rolesTrusting(ctx: IamContext, providerArn: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const page of paginateListRoles({ client: ctx.iam(), pageSize: 1000 }, {})) {
      for (const r of page.Roles ?? []) {
        if (!r.AssumeRolePolicyDocument || !r.RoleName) continue;
        let doc: PolicyDocument;
        try {
          doc = policyDocument(r.AssumeRolePolicyDocument, `the trust policy of the role ${r.RoleName}`);
        } catch (err) {
          // Unreadable: it may trust the provider, so the provider stays, and the reason is said.
          names.push(`${r.RoleName} (${(err as Error).message})`);
          continue;
        }
        const trusts = doc.Statement.some((st) => {
          const fed = st.Principal && st.Principal !== '*' ? st.Principal.Federated : undefined;
          return (Array.isArray(fed) ? fed : [fed]).includes(providerArn);
        });
        if (trusts) names.push(r.RoleName);
      }
    }
  } catch (err) {
    throw mapAwsError(err, 'listing the roles that trust the OIDC provider');
  }
  return names.sort();
}

export async function managedPolicy(ctx: IamContext, arn: string): Promise<PolicyDocument | null> {
  return call(`reading the managed policy ${arn}`, async () => {
    let version: string | undefined;
    try {
      version = (await ctx.iam().send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId;
    } catch (err) {
      if (isNoSuchEntity(err)) return null;
      throw err;
    }
    const out = await ctx.iam().send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version }));
    return out.PolicyVersion?.Document ? policyDocument(out.PolicyVersion.Document, `the managed policy ${arn}`) : null;
  });
}

/** Why a role ARN from IAM cannot be used, or undefined. */
function roleArnProblem(arn: string | undefined): string | undefined {
  const m = /^arn:([a-z-]+):iam::(\d{12}):role\/[\x21-\x7e]+$/.exec(arn ?? '');
  if (!m) return `the ARN "${arn ?? ''}", which is not the ARN of a role`;
  if (!PARTITIONS.includes(m[1] as Partition)) return `the ARN "${arn}", whose partition "${m[1]}" is not an AWS partition`;
  if (/[*?]/.test(arn!)) return `the ARN "${arn}", which has a wildcard`;
  return undefined;
}

/** A policy document IAM returned, or an error naming whose policy it is and what is wrong. */
function policyDocument(text: string, what: string): PolicyDocument {
  let doc: PolicyDocument;
  try {
    doc = parsePolicyDocument(text);
  } catch (err) {
    throw new OperationError(`IAM returned ${what} as something that is not a JSON policy document (${(err as Error).message}); nothing was changed.`, {
      hint: 'Look at it with "aws iam get-role" (or get-role-policy) and correct it, or check the AWS endpoint your configuration points at.',
    });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !doc.Statement.every((st) => typeof st === 'object' && st !== null && !Array.isArray(st))) {
    throw new OperationError(`IAM returned ${what} as JSON that is not a policy document (an object whose Statement is an object or a list of them); nothing was changed.`, {
      hint: 'Look at it with "aws iam get-role" (or get-role-policy) and correct it, or check the AWS endpoint your configuration points at.',
    });
  }
  return doc;
}
