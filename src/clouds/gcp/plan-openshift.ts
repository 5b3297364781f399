/**
 * Google Cloud's plan for OpenShift (pure). The chain Central walks: the cluster's token (audience
 * `openshift`) → the cluster's OIDC provider in a workload identity pool (issuer = the cluster's
 * serviceAccountIssuer, `google.subject=assertion.sub`, audience `openshift`, the cluster's keys
 * inline as `jwksJson`) → `roles/iam.workloadIdentityUser` on the Google service account for
 * `principal://…/projects/<NUMBER>/locations/global/workloadIdentityPools/<pool>/subject/system:serviceaccount:<ns>:<sa>`
 * → `roles/artifactregistry.reader`. The cluster side: Secret `gcp-cloud-credentials` (key
 * `credentials`, the `external_account` configuration) in RHACS's namespace; Central watches it, so
 * nothing restarts.
 *
 * Ownership: the service account, the pool and the provider carry rhacs-sts's marker in their
 * description (Google gives them no labels); the Secret the label app.kubernetes.io/managed-by=rhacs-sts.
 * What is someone else's is a blocker naming the flag, never written.
 */
import { createHash } from 'node:crypto';
import type { Blocker, ClusterFacts, KubeAction } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { changeMember, describeResource, type IamPolicy, type IamResource } from './iam-policy.js';
import { externalAccountJson, openshiftMember, poolResourceName, providerResourceName, toProjectNumber, CREDENTIALS_SECRET, CREDENTIALS_SECRET_KEY, type PoolRef, type ProviderRef } from './external-account.js';
import { defaultProviderId, desiredProvider, markedDescription, providerDrift } from './pools.js';
import { ARTIFACT_READER, readerResources, WORKLOAD_IDENTITY_USER, type GcpAction, type GcpDecisions, type GcpFacts, type GcpPlan, type GcpState } from './plan.js';
import { accountEmail, ownershipDescription } from './service-account.js';

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The name a cluster goes by in Google's descriptions and the default ids. */
export function clusterLabel(c: ClusterFacts): string {
  return c.name ?? c.context ?? 'cluster';
}

/**
 * Pure: the default pool and provider ids for a cluster, within Google's rule (4–32 characters of
 * a-z, 0-9, "-", not starting with "gcp-"): the pool `rhacs-<cluster>`, the provider `<cluster>`.
 * A pool of its own per cluster: the subjects (`system:serviceaccount:<ns>:central`) do not say
 * which cluster they come from, so two clusters in one pool would be one principal. The two are
 * never the same id (the published example's member names the pool by the provider's id).
 */
export function defaultWorkloadIdentityIds(cluster: string): { poolId: string; providerId: string } {
  const poolId = defaultProviderId(`rhacs-${cluster}`, hash);
  const providerId = defaultProviderId(cluster, hash);
  return { poolId, providerId: providerId === poolId ? defaultProviderId(`${cluster}-oidc`, hash) : providerId };
}

const clusterKey = (c: ClusterFacts): string => c.context ?? '';

/** The provider id of a cluster: the one decided, else its default. */
export function providerIdOf(wi: NonNullable<GcpDecisions['workloadIdentity']>, c: ClusterFacts): string {
  return wi.providerIds[clusterKey(c)] ?? defaultWorkloadIdentityIds(clusterLabel(c)).providerId;
}

function members(policy: IamPolicy | null | undefined, role: string): string[] {
  return (policy?.bindings ?? []).find((b) => b.role === role && b.condition === undefined)?.members ?? [];
}

/** What the parts of the plan share. */
interface Ctx {
  facts: GcpFacts;
  decisions: GcpDecisions;
  state: GcpState | undefined;
  wi: NonNullable<GcpDecisions['workloadIdentity']>;
  pool: PoolRef;
  email: string;
  known: boolean;
  adopt: boolean;
  names: string[];
  actions: (GcpAction | KubeAction)[];
  blockers: Blocker[];
}

export function planOpenShiftGcp(facts: GcpFacts, decisions: GcpDecisions, state: GcpState | undefined): GcpPlan {
  const wi = decisions.workloadIdentity;
  if (!wi || facts.clusters.length === 0) throw new Error('planOpenShiftGcp: no cluster or pool');
  const { projectId } = facts;
  const projectNumber = toProjectNumber(facts.projectNumber, 'the project number Resource Manager gave');
  const pool: PoolRef = { projectNumber, poolId: wi.poolId };
  const email = accountEmail(decisions.accountId, projectId);
  const sa = state?.serviceAccount ?? null;
  const foreign = sa !== null && !sa.managed;
  const ctx: Ctx = {
    facts, decisions, state, wi, pool, email, known: state !== undefined, adopt: foreign && decisions.adoptServiceAccount,
    names: facts.clusters.map(clusterLabel), actions: [], blockers: [],
  };
  serviceAccountPart(ctx);
  poolPart(ctx);
  const providers = providerParts(ctx);
  const grants = grantParts(ctx);
  secretParts(ctx);
  const notes = [
    `Nothing restarts: Central watches Secret ${CREDENTIALS_SECRET} and takes up the new credentials by itself (rhacs-sts verify proves the chain).`,
    'The cluster\'s signing keys are held by Google inline (the provider\'s jwksJson), so the issuer need not be public; after a key rotation, verify reports them stale and init re-syncs them.',
    ...(decisions.repositories.length ? [] : [`The reader role is granted on the whole project ${projectId} (every Artifact Registry repository in it); --gar-repository <location>/<repository> narrows it.`]),
  ];
  return {
    planVersion: 1, command: 'init', cloud: 'gcp', provider: 'openshift',
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}), offline: facts.offline,
    heading: [
      `project ${projectId} (number ${projectNumber})`,
      `Service account: ${email}${foreign ? (ctx.adopt ? ' (adopted, not created by rhacs-sts)' : ' (not created by rhacs-sts)') : ''}`,
      `Pool:            ${poolResourceName(pool)}`,
    ],
    projectId, projectNumber, workloadPool: poolResourceName(pool),
    serviceAccount: { email, accountId: decisions.accountId, managed: !foreign },
    grants, workloadIdentity: { pool: poolResourceName(pool), providers },
    kubernetes: [], restarts: [], actions: ctx.actions, blockers: ctx.blockers, notes,
  };
}

/** The Google service account (as on GKE: ours by its description marker, or adopted). */
function serviceAccountPart(ctx: Ctx): void {
  const { email, known, adopt } = ctx;
  const sa = ctx.state?.serviceAccount ?? null;
  const foreign = sa !== null && !sa.managed;
  if (foreign && !adopt) {
    ctx.blockers.push({
      message: `The Google service account ${email} exists and rhacs-sts did not create it (its description carries no rhacs-sts marker).`,
      hint: 'Name another one with --gcp-service-account, or let rhacs-sts use this one with --adopt-service-account (it is not marked as ours: uninstall removes our grants and keeps the account).',
      fix: '--adopt-service-account',
    });
  }
  if (sa?.disabled) ctx.blockers.push({ message: `The Google service account ${email} is disabled.`, hint: `Enable it (gcloud iam service-accounts enable ${email}) or name another with --gcp-service-account.` });
  ctx.actions.push({
    id: 'gcp-service-account', type: 'gcp-service-account', label: 'Google service account',
    status: known && sa ? 'unchanged' : 'create', target: email,
    summary: !known || !sa ? 'Create the Google service account RHACS acts as (its description records that rhacs-sts manages it)'
      : foreign ? (adopt ? 'Use the existing service account (adopted: --adopt-service-account)' : 'Exists, not created by rhacs-sts') : 'Exists, managed by rhacs-sts',
    current: known ? (sa ? { email: sa.email, description: sa.description ?? null } : null) : undefined,
    desired: { email, description: sa?.description ?? ownershipDescription(ctx.names) },
    projectId: ctx.facts.projectId, accountId: ctx.decisions.accountId, email, clusters: ctx.names, ...(adopt ? { adopt: true } : {}),
  });
}

/** The pool: created, ours, or ours and deleted (undeleted: its id stays reserved 30 days); someone else's is a blocker. */
function poolPart(ctx: Ctx): void {
  const { pool, known } = ctx;
  const p = ctx.state?.pool ?? null;
  if (p && !p.managed) {
    ctx.blockers.push({
      message: `The workload identity pool ${poolResourceName(pool)} exists${p.state === 'DELETED' ? ' (deleted, its id reserved by Google for 30 days)' : ''} and rhacs-sts did not create it.`,
      hint: 'Name another pool with --workload-identity-pool (rhacs-sts puts each cluster\'s provider in a pool of its own making).',
    });
  }
  ctx.actions.push({
    id: 'gcp-workload-identity-pool', type: 'gcp-workload-identity-pool', label: 'Workload identity pool',
    status: !known || !p ? 'create' : p.managed && p.state === 'DELETED' ? 'update' : 'unchanged',
    target: poolResourceName(pool),
    summary: !known || !p ? 'Create the workload identity pool (its description records that rhacs-sts manages it)'
      : !p.managed ? 'Exists, not created by rhacs-sts'
      : p.state === 'DELETED' ? `Undelete it: rhacs-sts deleted it, and Google keeps its id reserved${p.expireTime ? ` until ${p.expireTime}` : ' for 30 days'}`
      : 'Exists, managed by rhacs-sts',
    current: known ? (p ? { state: p.state, description: p.description ?? null } : null) : undefined,
    desired: { state: 'ACTIVE', description: p?.description ?? markedDescription('RHACS (StackRox) clusters that read Google Cloud with short-lived credentials.', ctx.names) },
    ref: pool, clusters: ctx.names,
  });
}

/** Each cluster's OIDC provider: created, converged (stale keys re-synced: "update"), undeleted; someone else's is a blocker. */
function providerParts(ctx: Ctx): string[] {
  const providers: string[] = [];
  for (const c of ctx.facts.clusters) {
    const ref: ProviderRef = { ...ctx.pool, providerId: providerIdOf(ctx.wi, c) };
    providers.push(providerResourceName(ref));
    const input = { ref, issuer: c.issuer, keys: c.issuerKeys ?? [], cluster: clusterLabel(c) };
    const want = desiredProvider(input);
    const cur = ctx.state?.providers?.[ref.providerId] ?? null;
    const drift = cur && cur.managed && cur.state !== 'DELETED' ? providerDrift(cur, input) : [];
    if (cur && !cur.managed) {
      const differs = providerDrift(cur, input);
      ctx.blockers.push({
        message: `The OIDC provider ${providerResourceName(ref)} exists and rhacs-sts did not create it${differs.length ? ` (and it differs: ${differs.map((d) => d.why).join('; ')})` : ''}.`,
        hint: 'Name another provider with --workload-identity-provider.',
      });
    }
    if (!c.issuerKeys?.length) ctx.blockers.push({ message: `The cluster ${clusterLabel(c)} published no signing keys (/openid/v1/jwks through its API server).`, hint: 'Check that the kube-apiservers are rolled out and that you may read the issuer\'s keys, then run again.' });
    ctx.actions.push({
      id: `gcp-oidc-provider:${clusterKey(c)}`, type: 'gcp-oidc-provider', label: 'Workload identity provider',
      status: !ctx.known || !cur ? 'create' : !cur.managed ? 'unchanged' : cur.state === 'DELETED' || drift.length ? 'update' : 'unchanged',
      target: providerResourceName(ref),
      summary: !ctx.known || !cur ? `Create the OIDC provider for ${c.issuer} (audience openshift, google.subject=assertion.sub, the cluster's keys inline)`
        : !cur.managed ? 'Exists, not created by rhacs-sts'
        : cur.state === 'DELETED' ? 'Undelete it (Google keeps a deleted provider\'s id reserved for 30 days) and converge it'
        : drift.length ? `Re-sync it: ${drift.map((d) => d.why).join('; ')}` : 'Exists, managed by rhacs-sts; its keys are the cluster\'s',
      current: ctx.known ? (cur ? { state: cur.state, issuerUri: cur.issuerUri ?? null, allowedAudiences: cur.allowedAudiences, jwksJson: cur.jwksJson ?? null } : null) : undefined,
      desired: { state: 'ACTIVE', issuerUri: want.oidc?.issuerUri, allowedAudiences: want.oidc?.allowedAudiences, jwksJson: want.oidc?.jwksJson ?? null },
      ref, issuer: c.issuer, keys: c.issuerKeys ?? [], cluster: clusterLabel(c),
    });
  }
  return providers;
}

/** The reader role for the account, and workloadIdentityUser on it for each RHACS service account's principal in the pool (by project number). */
function grantParts(ctx: Ctx): GcpPlan['grants'] {
  const { email, known, adopt, state } = ctx;
  const grants: GcpPlan['grants'] = [];
  const grant = (resource: IamResource, policy: IamPolicy | null | undefined, role: string, member: string, why: string, id: string) => {
    const where = describeResource(resource);
    grants.push({ resource: where, role, member });
    const before = members(policy, role);
    const has = policy ? !changeMember(policy, { op: 'add', role, member }).changed : false;
    ctx.actions.push({
      id, type: 'gcp-iam-member', label: 'Google IAM binding', status: known && has ? 'unchanged' : 'create',
      target: `${where}: ${role}`, summary: `${why}: ${member}`,
      current: known ? { role, members: before } : undefined, desired: { role, members: has ? before : [...before, member] },
      resource, role, member, op: 'add', ...(adopt ? { adopt: true } : {}),
    });
  };
  for (const r of readerResources(ctx.facts.projectId, ctx.decisions.repositories)) {
    grant(r, state?.readerPolicies[describeResource(r)], ARTIFACT_READER, `serviceAccount:${email}`, 'Let the service account read images from Artifact Registry', `gcp-reader:${describeResource(r)}`);
  }
  for (const c of ctx.facts.clusters) {
    for (const comp of targetComponents(c, ctx.decisions.delegatedScanning)) {
      grant({ kind: 'serviceAccount', email }, state?.serviceAccountPolicy, WORKLOAD_IDENTITY_USER, openshiftMember(ctx.pool, c.namespace, comp),
        `Let ${comp} (Kubernetes service account ${c.namespace}/${comp}, through the pool) act as the service account`, `gcp-wi-user:${clusterKey(c)}:${c.namespace}:${comp}`);
    }
  }
  return grants;
}

/** The cluster side: Secret gcp-cloud-credentials with the external_account configuration; one rhacs-sts did not write is a blocker unless adopted. */
function secretParts(ctx: Ctx): void {
  for (const c of ctx.facts.clusters) {
    if (!targetComponents(c, ctx.decisions.delegatedScanning).length) continue;
    const value = externalAccountJson({ ...ctx.pool, providerId: providerIdOf(ctx.wi, c), serviceAccountEmail: ctx.email });
    const cur = c.credentialsSecret;
    const replace = cur?.ours === false && ctx.decisions.adoptCredentialsSecret === true;
    if (cur?.ours === false && !replace) {
      ctx.blockers.push({
        message: `Secret ${c.namespace}/${CREDENTIALS_SECRET} exists${c.context ? ` in ${c.context}` : ''} and rhacs-sts did not write it (it has no app.kubernetes.io/managed-by=rhacs-sts label); Central reads Google credentials from it.`,
        hint: 'Replace it with --adopt-credentials-secret (its content is replaced by the external_account configuration), or remove it first.',
      });
    }
    const status = !cur ? 'create' : cur.ours ? (cur.value === value ? 'unchanged' : 'update') : replace ? 'update' : 'unchanged';
    ctx.actions.push({
      id: `credentials-secret:${clusterKey(c)}:${c.namespace}`, type: 'credentials-secret', status,
      target: `${ctx.facts.clusters.length > 1 && c.context ? `${c.context}: ` : ''}${c.namespace}/secret/${CREDENTIALS_SECRET}`,
      summary: status === 'unchanged' && cur?.ours ? 'Holds the external_account configuration (written by rhacs-sts)'
        : cur?.ours === false ? (replace ? 'Replace it (--adopt-credentials-secret) with the external_account configuration' : 'Exists, not written by rhacs-sts')
        : `${status === 'create' ? 'Write' : 'Rewrite'} the external_account configuration Central reads (key ${CREDENTIALS_SECRET_KEY}); Central watches this Secret: no restart`,
      // A foreign Secret's data may hold a key: never in the plan.
      current: cur === undefined ? undefined : cur === null ? null : cur.ours ? { [CREDENTIALS_SECRET_KEY]: cur.value ?? null } : { writtenByRhacsSts: false },
      desired: { [CREDENTIALS_SECRET_KEY]: value },
      ref: { context: c.context, namespace: c.namespace, name: CREDENTIALS_SECRET }, key: CREDENTIALS_SECRET_KEY, value, ...(replace ? { adopt: true } : {}),
    });
  }
}
