/**
 * AWS's part of the uninstall plan (pure: no I/O, no clock, no randomness): remove the role (inline
 * policy first) — or, for a role rhacs-sts adopted, give it back by removing only our statements,
 * policy and tags — then each OIDC provider, only if we created it and no other role trusts it.
 * Anything without our tag is never deleted. The cluster side (src/plan/uninstall.ts) reverts the
 * wiring that points at the role.
 */
import {
  ADDED_CLIENT_IDS_TAG,
  ADOPTED_TAG,
  ATTACHED_TAG_PREFIX,
  CLUSTER_TAG,
  isOurStatement,
  MANAGED_TAG,
  ourTrustedHostPaths,
  oidcProviderArn,
  PERMISSIONS_POLICY_NAME,
  removeOurStatements,
  SERVES_TAG_PREFIX,
  POD_IDENTITY_PRINCIPAL,
  servesTag,
  withPodIdentityStatement,
  type PolicyDocument,
} from './policies.js';
import { isManaged } from './plan.js';
import type { Action, AwsState, Decisions, Facts, Plan } from '../../plan/model.js';
import { issuerHostPath } from '../../validate.js';

export interface UninstallDecisions {
  keepOidcProvider: boolean;
  /**
   * Take the whole set-up down: delete the role (or strip all our statements from an adopted one)
   * even when it still trusts clusters outside this run. Without it, uninstall removes only the
   * statements of the clusters in this run, and deletes a role of ours only when none remain.
   */
  allClusters?: boolean;
  /** Names of other roles that trust each issuer's provider (from ListRoles). */
  otherTrusters: Record<string, string[]>;
}

export interface AwsUninstallPlan {
  actions: Action[];
  notes: string[];
  oidcProviders: Plan['oidcProviders'];
  /** The role's inline ECR policy as it is (the plan shows what goes). */
  permissionsPolicy?: PolicyDocument;
}

/** What the steps of planAwsUninstall add to, in the order the plan shows them. */
interface Draft {
  actions: Action[];
  notes: string[];
}

/** What every step of planAwsUninstall is given. */
interface Run {
  facts: Facts;
  decisions: Decisions;
  u: UninstallDecisions;
  arn: string;
}

/** The IAM actions that undo a run for the role `arn` (the role read, or the one the decisions name). */
export function planAwsUninstall(facts: Facts, decisions: Decisions, aws: AwsState, u: UninstallDecisions, arn: string): AwsUninstallPlan {
  const { partition, accountId } = facts;
  const draft: Draft = { actions: [], notes: [] };
  const run: Run = { facts, decisions, u, arn };
  const role = aws.role;
  const policy = role?.inlinePolicies[PERMISSIONS_POLICY_NAME];
  // What the role's trust policy will be after uninstall (null: the role is deleted).
  const trustAfter = role ? planRoleRemoval(run, role, policy, draft) : null;

  // OIDC providers: each only if we created it and no role trusts it any more.
  const issuers = [...new Set(facts.clusters.map((c) => c.issuer))];
  const oidcProviders = issuers.map((issuer) => ({ arn: oidcProviderArn(partition, accountId, issuer), url: issuer, clientIds: [] as string[] }));
  for (const p of oidcProviders) {
    const cur = aws.oidcProviders[p.url];
    if (!cur) continue;
    p.clientIds = cur.clientIds;
    planProviderRemoval(run, p, cur, trustAfter, draft);
  }

  return { ...draft, oidcProviders, ...(policy ? { permissionsPolicy: policy } : {}) };
}

type Role = NonNullable<AwsState['role']>;

/**
 * The role: left alone when not ours; kept (without this run's statements and tags) while it serves
 * other clusters; given back when adopted; else deleted. Returns its trust policy afterwards (null: deleted).
 */
function planRoleRemoval(run: Run, role: Role, policy: PolicyDocument | undefined, draft: Draft): PolicyDocument | null {
  const { facts, decisions, u, arn } = run;
  if (!isManaged(role.tags)) {
    draft.notes.push(`The role ${role.arn} was not created by rhacs-sts (no ${MANAGED_TAG} tag); it and the cluster settings that point at it are left alone.`);
    return role.trustPolicy;
  }
  // Our statements for clusters outside this run: those clusters keep the role (unless --all-clusters).
  const scope = [...new Set(facts.clusters.map((c) => c.issuer))];
  // Clusters outside this run on Pod Identity (their serves tags): the one Pod Identity statement stays for them.
  const runServes = new Set(facts.clusters.flatMap((c) => (c.name ? [servesTag(c.name)] : [])));
  const othersOnPodIdentity = Object.entries(role.tags)
    .filter(([k, v]) => k.startsWith(SERVES_TAG_PREFIX) && v === POD_IDENTITY_PRINCIPAL && !runServes.has(k))
    .map(([k]) => k.slice(SERVES_TAG_PREFIX.length));
  const withoutRunIrsa = removeOurStatements(role.trustPolicy, scope);
  const withoutRun = !othersOnPodIdentity.length ? withPodIdentityStatement(withoutRunIrsa, undefined) : withoutRunIrsa;
  const othersServed = [...ourTrustedHostPaths(withoutRun), ...othersOnPodIdentity.map((n) => `${n} (EKS Pod Identity)`)];
  if (othersServed.length > 0 && !u.allClusters) return keepRoleForOthers(run, role, { withoutRun, othersServed, scope, runServes }, draft);
  draft.actions.push({
    id: 'permissions-policy', type: 'permissions-policy', status: policy ? 'delete' : 'unchanged',
    target: `${arn} (inline policy ${PERMISSIONS_POLICY_NAME})`,
    summary: policy ? `Delete the inline policy ${PERMISSIONS_POLICY_NAME}` : 'No inline policy of ours',
    current: policy ?? null, desired: null, roleName: decisions.roleName, policyName: PERMISSIONS_POLICY_NAME, document: policy ?? { Version: '2012-10-17', Statement: [] },
  });
  if (role.tags[ADOPTED_TAG] === 'true') return giveAdoptedRoleBack(run, role, scope, draft);
  deleteOwnRole(run, role, draft);
  return null;
}

/** A role of ours that still serves other clusters: only this run's trust statements and serves tags go. */
function keepRoleForOthers(
  { decisions, arn }: Run, role: Role,
  rest: { withoutRun: PolicyDocument; othersServed: string[]; scope: string[]; runServes: Set<string> }, draft: Draft,
): PolicyDocument {
  const { withoutRun, othersServed, scope, runServes } = rest;
  const hasRunStatements = withoutRun.Statement.length !== role.trustPolicy.Statement.length;
  draft.notes.push(`The role ${role.arn} still serves other clusters (issuers ${othersServed.join(', ')}): it stays, with its ECR policy; only this run's trust statements are removed. Pass --all-clusters to delete it anyway (those clusters then lose access).`);
  draft.actions.push({
    id: 'trust-policy', type: 'trust-policy', status: hasRunStatements ? 'update' : 'unchanged', target: arn,
    summary: hasRunStatements ? `Remove the trust statements for ${scope.join(', ')} (other clusters' statements stay)` : 'No trust statement of this run to remove',
    current: role.trustPolicy, desired: withoutRun, roleName: decisions.roleName, document: withoutRun, scope,
  });
  // The tags that say the role serves this run's clusters go with their statements.
  const runHostPaths = new Set(scope.map(issuerHostPath));
  const servedKeys = Object.keys(role.tags).filter((k) => k.startsWith(SERVES_TAG_PREFIX) && (runHostPaths.has(role.tags[k]!) || runServes.has(k)));
  if (servedKeys.length) {
    draft.actions.push({
      id: 'role-tags', type: 'role-tags', status: 'delete', target: arn,
      summary: `Remove the tags that say the role serves ${servedKeys.map((k) => k.slice(SERVES_TAG_PREFIX.length)).join(', ')}`,
      current: role.tags, desired: Object.fromEntries(Object.entries(role.tags).filter(([k]) => !servedKeys.includes(k))),
      roleName: decisions.roleName, tags: Object.fromEntries(servedKeys.map((k) => [k, role.tags[k]!])),
    });
  }
  return withoutRun;
}

/** An adopted role is given back: our trust statements (where IAM allows), the policies we attached, our tags. */
function giveAdoptedRoleBack({ decisions, u, arn }: Run, role: Role, scope: string[], draft: Draft): PolicyDocument {
  const kept = removeOurStatements(role.trustPolicy, u.allClusters ? undefined : scope);
  let trustAfter = kept;
  const hasOurs = role.trustPolicy.Statement.some(isOurStatement);
  // IAM rejects a trust policy without statements: if ours are all that is left, they stay.
  const canRemove = hasOurs && kept.Statement.length > 0;
  if (hasOurs && !canRemove) {
    trustAfter = role.trustPolicy;
    draft.notes.push(`The adopted role ${role.arn} has no trust statements but ours, and IAM requires at least one: our statements stay. Delete the role yourself if it is no longer used.`);
  }
  draft.actions.push({
    id: 'trust-policy', type: 'trust-policy', status: canRemove ? 'update' : 'unchanged', target: arn,
    summary: canRemove ? 'Remove our statements from the adopted role\'s trust policy (its own statements stay)' : 'Trust policy of the adopted role left as it is',
    current: role.trustPolicy, desired: kept, roleName: decisions.roleName, document: kept,
    scope: u.allClusters ? ourTrustedHostPaths(role.trustPolicy).map((hp) => `https://${hp}`) : scope,
  });
  // Managed policies we attached (our tag records each) are detached; the role's own stay.
  for (const [tagKey, policyArn] of Object.entries(role.tags).filter(([k]) => k.startsWith(ATTACHED_TAG_PREFIX))) {
    draft.actions.push({
      id: `managed-policy:${policyArn}`, type: 'managed-policy', status: 'delete', target: arn,
      summary: `Detach the managed policy ${policyArn} (attached by rhacs-sts)`,
      current: { attached: role.attachedPolicyArns.includes(policyArn) }, desired: null,
      roleName: decisions.roleName, policyArn, tagKey,
    });
  }
  const ourTagKeys = [MANAGED_TAG, CLUSTER_TAG, ADOPTED_TAG, ...Object.keys(role.tags).filter((k) => k.startsWith(SERVES_TAG_PREFIX))].filter((k) => k in role.tags);
  draft.actions.push({
    id: 'role-tags', type: 'role-tags', status: 'delete', target: arn,
    summary: `Give the adopted role back: remove our tags (${ourTagKeys.join(', ')})`,
    current: role.tags, desired: Object.fromEntries(Object.entries(role.tags).filter(([k]) => !ourTagKeys.includes(k))),
    roleName: decisions.roleName, tags: Object.fromEntries(ourTagKeys.map((k) => [k, role.tags[k]!])),
  });
  return trustAfter;
}

/** A role rhacs-sts created: deleted, saying exactly what goes with it (IAM needs every policy gone first). */
function deleteOwnRole({ decisions, arn }: Run, role: Role, draft: Draft): void {
  const inline = role.inlinePolicyNames ?? Object.keys(role.inlinePolicies);
  const foreignInline = inline.filter((n) => n !== PERMISSIONS_POLICY_NAME);
  if (foreignInline.length) draft.notes.push(`Deleting the role also deletes its other inline policies: ${foreignInline.join(', ')}.`);
  if (role.attachedPolicyArns.length) draft.notes.push(`Managed policies attached to the role are detached before it is deleted: ${role.attachedPolicyArns.join(', ')}.`);
  draft.actions.push({
    id: 'role', type: 'role', status: 'delete', target: arn, summary: `Delete the IAM role ${decisions.roleName}`,
    current: { path: role.path, tags: role.tags }, desired: null,
    name: decisions.roleName, path: role.path, arn, tags: {},
  });
}

/** One OIDC provider in place: kept (not ours, --keep-oidc-provider, still trusted), given back (adopted) or deleted. */
function planProviderRemoval(
  { decisions, u }: Run, p: Plan['oidcProviders'][number], cur: NonNullable<AwsState['oidcProviders'][string]>,
  trustAfter: PolicyDocument | null, draft: Draft,
): void {
  // Our role counts only if it stays and, after uninstall, still trusts the provider.
  const ourRoleStillTrusts = trustAfter !== null && trusts(trustAfter, p.arn);
  const others = (u.otherTrusters[p.url] ?? []).filter((n) => n !== decisions.roleName || ourRoleStillTrusts);
  const mine = isManaged(cur.tags);
  let reason: string | undefined;
  if (!mine) reason = 'not created by rhacs-sts';
  else if (u.keepOidcProvider) reason = 'kept (--keep-oidc-provider)';
  else if (others.length) reason = `still trusted by ${others.join(', ')}`;
  if (mine && !reason && cur.tags[ADOPTED_TAG] === 'true') {
    // An adopted provider is never deleted: give it back as it was (the audiences we added, our tags).
    const added = (cur.tags[ADDED_CLIENT_IDS_TAG] ?? '').split(' ').filter((id) => id && cur.clientIds.includes(id));
    // IAM keeps at least one client ID on a provider; one that had only ours keeps it.
    const removable = added.length < cur.clientIds.length ? added : added.slice(0, -1);
    const ourTags = [MANAGED_TAG, CLUSTER_TAG, ADOPTED_TAG, ADDED_CLIENT_IDS_TAG].filter((k) => k in cur.tags);
    if (removable.length < added.length) draft.notes.push(`The adopted OIDC provider ${p.arn} keeps the audience ${added.at(-1)}: it has no other, and IAM requires one.`);
    draft.actions.push({
      id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: 'update', target: p.arn,
      summary: `Give the adopted OIDC provider back (never deleted): ${removable.length ? `remove the audience${removable.length > 1 ? 's' : ''} we added (${removable.join(', ')}) and ` : ''}our tags`,
      current: { clientIds: cur.clientIds, tags: cur.tags },
      desired: { clientIds: cur.clientIds.filter((id) => !removable.includes(id)), tags: Object.fromEntries(Object.entries(cur.tags).filter(([k]) => !ourTags.includes(k))) },
      issuer: p.url, arn: p.arn, addClientIds: [], tags: {}, thumbprints: [], removeClientIds: removable, removeTags: ourTags,
    });
    return;
  }
  draft.actions.push({
    id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: reason ? 'unchanged' : 'delete', target: p.arn,
    summary: reason ? `Keep the OIDC provider for ${p.url}: ${reason}` : `Delete the OIDC provider for ${p.url}`,
    current: { clientIds: cur.clientIds, tags: cur.tags }, desired: reason ? undefined : null,
    issuer: p.url, arn: p.arn, addClientIds: [], tags: {}, thumbprints: [],
  });
}

/** True when a statement of the policy names the provider as its federated principal. */
function trusts(policy: PolicyDocument, providerArn: string): boolean {
  return policy.Statement.some((st) => {
    const fed = st.Principal && st.Principal !== '*' ? st.Principal.Federated : undefined;
    return (Array.isArray(fed) ? fed : [fed]).includes(providerArn);
  });
}
