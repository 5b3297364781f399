/**
 * AWS's part of init's plan (pure: no I/O, no clock, no randomness): the IAM OIDC providers, the
 * role with its trust and ECR permissions, attached managed policies, and the notes and blockers
 * they bring (quotas, ownership). The cluster side (src/plan/build.ts) wires the pods to the role.
 */
import {
  ADDED_CLIENT_IDS_TAG,
  ADOPTED_TAG,
  attachedPolicyTag,
  CLUSTER_TAG,
  MANAGED_TAG,
  MAX_ROLE_TAGS,
  SERVES_TAG_PREFIX,
  servesTag,
  DEFAULT_TRUST_POLICY_QUOTA,
  mergeTrustPolicy,
  ourTrustedHostPaths,
  policySize,
  oidcProviderArn,
  PERMISSIONS_POLICY_NAME,
  permissionsPolicy,
  roleArn,
  samePolicy,
  serviceAccountSubject,
  trustStatements,
  podIdentityStatement,
  POD_IDENTITY_PRINCIPAL,
  withPodIdentityStatement,
  federatedHostPaths,
  ecrScopeOfPolicy,
  type EcrScope,
  type PolicyDocument,
  type TrustTarget,
} from './policies.js';
import { AUDIENCE, type Action, type AssociationState, type AwsState, type ClusterFacts, type Component, type Decisions, type Facts, type Mechanism, type Plan, type RoleState } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { issuerHostPath } from '../../validate.js';

/** An ECR scope in the words of the plan. */
export function describeEcrScope(scope: EcrScope): string {
  return `${scope.repositories.length ? scope.repositories.join(', ') : 'all repositories'} in registry ${scope.registryId} (${scope.region ?? 'any region'})`;
}

export function ourTags(clusterName: string | undefined): Record<string, string> {
  return clusterName ? { [MANAGED_TAG]: 'true', [CLUSTER_TAG]: clusterName } : { [MANAGED_TAG]: 'true' };
}

export function isManaged(tags: Record<string, string> | undefined): boolean {
  return tags?.[MANAGED_TAG] === 'true';
}

/** How this cluster's pods get the role: Pod Identity only on EKS, when chosen. */
export function mechanismOf(cluster: ClusterFacts, mechanism: Mechanism | undefined): Mechanism {
  return cluster.provider === 'eks' && mechanism === 'pod-identity' ? 'pod-identity' : 'irsa';
}

/** The association of one service account, from what was read. */
export function associationOf(aws: AwsState | undefined, cluster: ClusterFacts, region: string, comp: Component): AssociationState | undefined {
  return aws?.associations?.find((a) => a.clusterName === cluster.name && a.region === region && a.namespace === cluster.namespace && a.serviceAccount === comp);
}

export function diffTags(current: Record<string, string>, wanted: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
}

/** The role name in a role ARN (the last path segment), or the ARN itself when it is not one. */
export function roleNameOf(arn: string): string {
  const m = /^arn:[^:]+:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m?.[1] ?? arn;
}

/** AWS's actions for a run, and what the cluster side and the plan's header need from them. */
export interface AwsIdentityPlan {
  tags: Record<string, string>;
  /** Whether a cluster's pods get the role through EKS Pod Identity (else web identity). */
  podId: (c: ClusterFacts) => boolean;
  oidcProviders: Plan['oidcProviders'];
  role: RoleState | null;
  arn: string;
  trustPolicy: PolicyDocument;
  permissions: PolicyDocument;
  actions: Action[];
  blockers: Plan['blockers'];
  notes: string[];
}

/** What the steps of planAwsIdentity add to, in the order the plan shows them. */
interface Draft {
  actions: Action[];
  blockers: Plan['blockers'];
  notes: string[];
}

/** What every step of planAwsIdentity is given. */
interface Run {
  facts: Facts;
  decisions: Decisions;
  aws: AwsState | undefined;
  /** Our tags (managed, cluster). */
  tags: Record<string, string>;
  podId: (c: ClusterFacts) => boolean;
}

export function planAwsIdentity(facts: Facts, decisions: Decisions, aws: AwsState | undefined): AwsIdentityPlan {
  const { partition, accountId } = facts;
  const tags = ourTags(facts.clusterName);
  const draft: Draft = { actions: [], blockers: [], notes: [] };
  const podId = (c: ClusterFacts) => mechanismOf(c, decisions.mechanism) === 'pod-identity';
  const run: Run = { facts, decisions, aws, tags, podId };

  // IAM OIDC providers, one per issuer (web identity only: Pod Identity needs none).
  const issuers = [...new Map(facts.clusters.map((c) => [c.issuer, c])).values()];
  const oidcProviders = issuers.map((c) => ({
    arn: oidcProviderArn(partition, accountId, c.issuer),
    url: c.issuer,
    clientIds: [AUDIENCE[c.provider]],
  }));
  const irsaIssuers = new Set(facts.clusters.filter((c) => !podId(c)).map((c) => c.issuer));
  for (const p of oidcProviders.filter((x) => irsaIssuers.has(x.url))) planProvider(run, p, draft);

  // The IAM role: its trust, its tags and who owns it, then its actions.
  const role = aws?.role ?? null;
  const arn = role?.arn ?? roleArn(partition, accountId, decisions.roleName, decisions.rolePath);
  const trust = planTrustPolicy(run, role, draft);
  const permissions = permissionsPolicy(partition, decisions.ecr);
  const roleTags = planRoleTags(run, role, draft);
  if (!role) draft.actions.push(roleCreation(run, arn, roleTags));
  else planExistingRole(run, role, arn, roleTags, draft);
  planPolicies(run, role, arn, trust, permissions, draft);
  for (const p of oidcProviders.filter((x) => !irsaIssuers.has(x.url))) planRetiredProvider(run, p, trust.document, draft);

  // Said once, plainly: what the role becomes.
  const wired = facts.clusters.flatMap((c) => targetComponents(c, decisions.delegatedScanning));
  if (wired.length) {
    const who = [...new Set(wired)].map((c) => (c === 'central' ? 'Central' : 'Sensor')).join(' and ');
    draft.notes.push(`This role becomes ${who}'s AWS identity for every integration that uses the container IAM role — ECR, S3 backups, the Security Hub notifier — not only for ECR: attach what those need with --attach-policy-arn.`);
  }

  return { tags, podId, oidcProviders, role, arn, trustPolicy: trust.document, permissions, ...draft };
}

/** The OIDC provider of an issuer on web identity: create it, or add what it lacks (audience, our tags). */
function planProvider({ decisions, aws, tags }: Run, p: Plan['oidcProviders'][number], draft: Draft): void {
  const current = aws?.oidcProviders[p.url];
  const thumbprints = decisions.thumbprints[p.url] ?? [];
  if (!current) {
    draft.actions.push({
      id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: 'create', target: p.arn,
      summary: `Create the IAM OIDC identity provider for ${p.url} (audience ${p.clientIds.join(', ')})`,
      desired: { url: p.url, clientIds: p.clientIds, thumbprints, tags }, current: aws ? null : undefined,
      issuer: p.url, arn: p.arn, addClientIds: p.clientIds, tags, thumbprints,
      ...(decisions.adoptOidcProvider ? { adopt: true } : {}),
    });
    return;
  }
  const missing = p.clientIds.filter((id) => !current.clientIds.includes(id));
  const owned = isManaged(current.tags);
  // Adopting marks the provider as adopted (uninstall never deletes it) and records the
  // audiences we add, so that uninstall removes exactly those.
  const adopting = !owned && decisions.adoptOidcProvider;
  const adopted = adopting || current.tags[ADOPTED_TAG] === 'true';
  const added = [...new Set([...(current.tags[ADDED_CLIENT_IDS_TAG] ?? '').split(' ').filter(Boolean), ...(adopted ? missing : [])])].sort();
  const wantTags = adopted ? { ...tags, [ADOPTED_TAG]: 'true', ...(added.length ? { [ADDED_CLIENT_IDS_TAG]: added.join(' ') } : {}) } : tags;
  const missingTags = owned || decisions.adoptOidcProvider ? diffTags(current.tags, wantTags) : {};
  if (missing.length > 0 && !owned && !decisions.adoptOidcProvider) {
    draft.blockers.push({
      message: `The OIDC provider ${p.arn} exists, was not created by rhacs-sts, and lacks the audience ${missing.join(', ')}.`,
      hint: 'Re-run with --adopt-oidc-provider to add the audience (and our tag), or add it yourself: aws iam add-client-id-to-open-id-connect-provider.',
      fix: '--adopt-oidc-provider',
    });
  }
  const changes = missing.length > 0 || Object.keys(missingTags).length > 0;
  draft.actions.push({
    id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: changes ? 'update' : 'unchanged', target: p.arn,
    summary: changes
      ? `Update the OIDC provider: ${[missing.length ? `add audience ${missing.join(', ')}` : '', Object.keys(missingTags).length ? 'add our tags' : ''].filter(Boolean).join(' and ')}`
      : `OIDC provider for ${p.url} is in place${owned ? '' : ' (not ours: used, never changed)'}`,
    current: { clientIds: current.clientIds, tags: current.tags },
    desired: { clientIds: [...new Set([...current.clientIds, ...p.clientIds])], tags: { ...current.tags, ...missingTags } },
    issuer: p.url, arn: current.arn, addClientIds: missing, tags: missingTags, thumbprints: [],
    ...(decisions.adoptOidcProvider ? { adopt: true } : {}),
  });
}

/** The role's trust policy: who it trusts (web identity per issuer, Pod Identity), measured against the account's quota. */
interface PlannedTrust {
  document: PolicyDocument;
  targets: TrustTarget[];
  podIdClusters: ClusterFacts[];
}

function planTrustPolicy({ facts, decisions, aws, podId }: Run, role: RoleState | null, draft: Draft): PlannedTrust {
  const { partition, accountId } = facts;
  const targets: TrustTarget[] = facts.clusters.filter((c) => !podId(c)).map((c) => ({
    issuer: c.issuer,
    audience: AUDIENCE[c.provider],
    subjects: targetComponents(c, decisions.delegatedScanning).map((comp) => serviceAccountSubject(c.namespace, comp)),
  })).filter((t) => t.subjects.length > 0);
  const podIdClusters = facts.clusters.filter((c) => podId(c) && targetComponents(c, decisions.delegatedScanning).length > 0);
  if (targets.length === 0 && podIdClusters.length === 0) {
    draft.blockers.push({
      message: 'No RHACS component to configure: Central does not run in the cluster, and Sensor is only configured with delegated scanning.',
      hint: 'Point --context (or --central-context) at the cluster that runs Central, or pass --delegated-scanning for a Sensor-only cluster.',
    });
  }
  // Our web-identity statements for this run's issuers are replaced (none for a cluster on Pod
  // Identity: switching removes its statement); the one Pod Identity statement stays while any
  // cluster the role serves (this run's, or another's by its serves tag) uses Pod Identity.
  const runServes = new Set(facts.clusters.flatMap((c) => (c.name ? [servesTag(c.name)] : [])));
  const othersOnPodIdentity = Object.entries(role?.tags ?? {}).some(([k, v]) => k.startsWith(SERVES_TAG_PREFIX) && v === POD_IDENTITY_PRINCIPAL && !runServes.has(k));
  const document = withPodIdentityStatement(
    mergeTrustPolicy(role?.trustPolicy, trustStatements(partition, accountId, targets), facts.clusters.map((c) => c.issuer)),
    podIdClusters.length > 0 || othersOnPodIdentity ? podIdentityStatement(partition, accountId) : undefined,
  );
  const quota = aws?.trustPolicySizeQuota ?? DEFAULT_TRUST_POLICY_QUOTA;
  const size = policySize(document);
  if (size > quota) {
    const issuerCount = ourTrustedHostPaths(document).length;
    draft.blockers.push({
      message: `The role's trust policy would be ${size} characters (IAM counts non-white-space characters), over the account's quota of ${quota}${aws?.trustPolicySizeQuota === undefined ? ' (the default; not read from the account)' : ''}: IAM would refuse it with LimitExceeded. It trusts ${issuerCount} cluster issuer${issuerCount === 1 ? '' : 's'}.`,
      hint: `Ask AWS for a larger trust policy quota (Service Quotas, IAM, code L-C07B4B0D), or give each secured cluster its own role with --role-per-cluster (each trusted by its own issuer only).${facts.clusters.some((c) => c.provider === 'eks') ? ' On EKS, --mechanism pod-identity lets a fleet share one role without growing its trust policy.' : ''}`,
    });
  } else if (size > quota * 0.75 && targets.some((t) => facts.clusters.find((c) => c.issuer === t.issuer)?.provider === 'eks')) {
    draft.notes.push(`The role's trust policy is ${size} of the account's ${quota} characters: each cluster on IRSA adds a statement. On EKS, Pod Identity (--mechanism pod-identity) lets a fleet share one role without growing its trust policy.`);
  }
  return { document, targets, podIdClusters };
}

/**
 * The role's tags: ours, and one per cluster it serves (valued with its issuer, or the Pod Identity
 * principal). Also what they say: a cluster changing mechanism, too many tags, a role not ours.
 */
function planRoleTags({ facts, decisions, tags, podId }: Run, role: RoleState | null, draft: Draft): Record<string, string> {
  const roleTags: Record<string, string> = { ...tags };
  for (const c of facts.clusters) {
    if (c.name && targetComponents(c, decisions.delegatedScanning).length) roleTags[servesTag(c.name)] = podId(c) ? POD_IDENTITY_PRINCIPAL : issuerHostPath(c.issuer);
  }
  // A cluster whose mechanism changes: said in the plan, as "was X, becomes Y".
  for (const c of facts.clusters) {
    const was = c.name ? role?.tags[servesTag(c.name)] : undefined;
    const now = c.name ? roleTags[servesTag(c.name)] : undefined;
    if (was && now && (was === POD_IDENTITY_PRINCIPAL) !== (now === POD_IDENTITY_PRINCIPAL)) {
      draft.notes.push(`${c.name}: was ${was === POD_IDENTITY_PRINCIPAL ? 'EKS Pod Identity' : 'IRSA'}, becomes ${now === POD_IDENTITY_PRINCIPAL ? 'EKS Pod Identity' : 'IRSA'} (--mechanism).`);
    }
  }
  const tagCount = Object.keys({ ...role?.tags, ...roleTags }).length + (role && !isManaged(role.tags) ? 1 : 0);
  if (tagCount > MAX_ROLE_TAGS) {
    draft.blockers.push({
      message: `The role would carry ${tagCount} tags, over IAM's limit of ${MAX_ROLE_TAGS} (rhacs-sts tags the role once per cluster it serves).`,
      hint: 'Give some secured clusters their own role (--role-per-cluster, or a different --role-name), or remove tags the role no longer needs.',
    });
  }
  if (role && !isManaged(role.tags) && !decisions.adoptRole) {
    draft.blockers.push({
      message: `The role ${role.arn} exists and was not created by rhacs-sts (it has no ${MANAGED_TAG} tag). rhacs-sts never changes a role it does not own.`,
      hint: 'Re-run with --adopt-role to take it over (our trust statements and inline policy are added; its other statements and policies are kept), or choose another --role-name.',
      fix: '--adopt-role',
    });
  }
  return roleTags;
}

function roleCreation({ decisions, aws }: Run, arn: string, roleTags: Record<string, string>): Action {
  return {
    id: 'role', type: 'role', status: 'create', target: arn,
    summary: `Create the IAM role ${decisions.roleName}${decisions.permissionsBoundary ? ' with a permissions boundary' : ''}`,
    desired: { name: decisions.roleName, path: decisions.rolePath, permissionsBoundary: decisions.permissionsBoundary, tags: roleTags },
    current: aws ? null : undefined,
    name: decisions.roleName, path: decisions.rolePath, arn, tags: roleTags, permissionsBoundary: decisions.permissionsBoundary,
  };
}

/** A role in place: its permissions boundary and path, and the tags it lacks (with ours, when adopted). */
function planExistingRole({ decisions }: Run, role: RoleState, arn: string, roleTags: Record<string, string>, draft: Draft): void {
  const roleOwned = isManaged(role.tags);
  const boundaryChange = decisions.permissionsBoundary !== undefined && decisions.permissionsBoundary !== role.permissionsBoundary;
  draft.actions.push({
    id: 'role', type: 'role', status: boundaryChange ? 'update' : 'unchanged', target: arn,
    summary: boundaryChange ? `Set the role's permissions boundary to ${decisions.permissionsBoundary}${role.permissionsBoundary ? ` (was ${role.permissionsBoundary})` : ''}` : `Role ${decisions.roleName} exists${roleOwned ? '' : decisions.adoptRole ? ' (adopting it)' : ' (not ours)'}`,
    current: { path: role.path, permissionsBoundary: role.permissionsBoundary },
    desired: { path: role.path, permissionsBoundary: decisions.permissionsBoundary ?? role.permissionsBoundary },
    name: decisions.roleName, path: role.path, arn, tags: {}, permissionsBoundary: boundaryChange ? decisions.permissionsBoundary : undefined,
  });
  if (role.path !== decisions.rolePath) draft.notes.push(`The role already exists at path ${role.path}; IAM cannot move a role, so it stays there.`);
  const missingTags = diffTags(role.tags, roleOwned ? roleTags : { ...roleTags, [ADOPTED_TAG]: 'true' });
  const served = Object.keys(missingTags).filter((k) => k.startsWith(SERVES_TAG_PREFIX)).map((k) => k.slice(SERVES_TAG_PREFIX.length));
  const other = Object.keys(missingTags).filter((k) => !k.startsWith(SERVES_TAG_PREFIX));
  draft.actions.push({
    id: 'role-tags', type: 'role-tags', status: Object.keys(missingTags).length ? 'update' : 'unchanged', target: arn,
    summary: Object.keys(missingTags).length
      ? `Tag the role: ${[other.length ? `managed by rhacs-sts (${other.join(', ')})` : '', served.length ? `serves ${served.join(', ')}` : ''].filter(Boolean).join('; ')}`
      : 'Role tags are in place',
    current: role.tags, desired: { ...role.tags, ...missingTags },
    roleName: decisions.roleName, tags: missingTags,
  });
}

/** The role's policies: its trust policy, our inline ECR policy, the managed policies to attach (and those it has besides). */
function planPolicies({ facts, decisions, aws }: Run, role: RoleState | null, arn: string, trust: PlannedTrust, permissions: PolicyDocument, draft: Draft): void {
  const currentPermissions = role?.inlinePolicies[PERMISSIONS_POLICY_NAME];
  const wasScope = ecrScopeOfPolicy(currentPermissions);
  draft.actions.push({
    id: 'trust-policy', type: 'trust-policy', target: arn,
    status: !role ? 'create' : samePolicy(role.trustPolicy, trust.document) ? 'unchanged' : 'update',
    summary: [
      trust.targets.length ? `Trust ${trust.targets.flatMap((t) => t.subjects).join(', ')} (audience ${[...new Set(trust.targets.map((t) => t.audience))].join(', ')}) to assume the role with a web identity` : '',
      trust.podIdClusters.length ? `Trust ${POD_IDENTITY_PRINCIPAL} (EKS Pod Identity) to assume the role for this account's EKS clusters` : '',
    ].filter(Boolean).join('; ') || 'Trust policy',
    current: role?.trustPolicy ?? (aws ? null : undefined), desired: trust.document,
    // Every issuer of this run: a cluster that moved to Pod Identity (or has nothing left to trust)
    // loses its web-identity statement, as the desired document says.
    roleName: decisions.roleName, document: trust.document, scope: [...new Set(facts.clusters.map((c) => c.issuer))],
  });
  draft.actions.push({
    id: 'permissions-policy', type: 'permissions-policy', target: `${arn} (inline policy ${PERMISSIONS_POLICY_NAME})`,
    status: !currentPermissions ? 'create' : samePolicy(currentPermissions, permissions) ? 'unchanged' : 'update',
    summary: `Grant read-only ECR access to ${describeEcrScope(decisions.ecr)}${wasScope && !samePolicy(currentPermissions, permissions) ? ` (was ${describeEcrScope(wasScope)})` : ''}`,
    current: currentPermissions ?? (aws ? null : undefined), desired: permissions,
    roleName: decisions.roleName, policyName: PERMISSIONS_POLICY_NAME, document: permissions,
  });
  for (const policyArn of decisions.attachPolicyArns ?? []) {
    const attached = role?.attachedPolicyArns.includes(policyArn) ?? false;
    const tagKey = attachedPolicyTag(policyArn);
    draft.actions.push({
      id: `managed-policy:${policyArn}`, type: 'managed-policy', target: arn,
      status: attached && role?.tags[tagKey] === policyArn ? 'unchanged' : attached ? 'update' : 'create',
      summary: attached ? `Managed policy ${policyArn} is attached${role?.tags[tagKey] === policyArn ? '' : ' (recording it as ours)'}` : `Attach the managed policy ${policyArn}`,
      current: role ? { attached } : undefined, desired: { attached: true },
      roleName: decisions.roleName, policyArn, tagKey,
    });
  }
  const othersAttached = (role?.attachedPolicyArns ?? []).filter((p) => !(decisions.attachPolicyArns ?? []).includes(p));
  if (othersAttached.length > 0) {
    draft.notes.push(`The role also has attached managed policies (${othersAttached.join(', ')}); rhacs-sts leaves them alone.`);
  }
}

/**
 * The OIDC provider of a cluster that moved to Pod Identity: one rhacs-sts created goes once no role
 * trusts it any more (as uninstall does); otherwise it stays, and the plan says why.
 */
function planRetiredProvider({ decisions, aws }: Run, p: Plan['oidcProviders'][number], trustPolicy: PolicyDocument, draft: Draft): void {
  const current = aws?.oidcProviders[p.url];
  if (!current) return;
  const trusters = aws?.oidcProviderTrusters?.[p.url];
  const stillOurs = trustPolicy.Statement.some((st) => federatedHostPaths(st).includes(issuerHostPath(p.url)));
  const others = (trusters ?? []).filter((n) => n !== decisions.roleName || stillOurs);
  const reason = !isManaged(current.tags) ? 'not created by rhacs-sts'
    : current.tags[ADOPTED_TAG] === 'true' ? 'adopted, not created, by rhacs-sts'
    : trusters === undefined ? 'could not list the roles that trust it'
    : others.length ? `still trusted by ${others.join(', ')}` : undefined;
  draft.actions.push({
    id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: reason ? 'unchanged' : 'delete', target: current.arn,
    summary: reason
      ? `Keep the OIDC provider for ${p.url} (EKS Pod Identity needs none): ${reason}`
      : `Delete the OIDC provider for ${p.url}: its cluster uses EKS Pod Identity now, and no role trusts it`,
    current: { clientIds: current.clientIds, tags: current.tags }, desired: reason ? undefined : null,
    issuer: p.url, arn: current.arn, addClientIds: [], tags: {}, thumbprints: [],
  });
}
