/**
 * The AWS documents rhacs-sts manages: the IRSA / web-identity trust policy and the least-privilege
 * ECR read policy. Pure functions; partition-aware ARNs everywhere.
 */
import { issuerHostPath, type Partition } from '../../validate.js';

export const TRUST_SID = 'RhacsStsWebIdentity';
export const OUR_SID_PREFIX = 'RhacsSts';
export const PERMISSIONS_POLICY_NAME = 'rhacs-sts-ecr-read';
export const MANAGED_TAG = 'rhacs-sts/managed';
export const CLUSTER_TAG = 'rhacs-sts/cluster';
/** Marks a role that existed before rhacs-sts adopted it: uninstall gives it back instead of deleting it. */
export const ADOPTED_TAG = 'rhacs-sts/adopted';
/** On an adopted OIDC provider: the audiences rhacs-sts added (space-separated), the only ones uninstall removes. */
export const ADDED_CLIENT_IDS_TAG = 'rhacs-sts/added-client-ids';
/**
 * Prefix of the role tags that say which clusters the role serves: `rhacs-sts/serves/<cluster>`,
 * the value being the host and path of that cluster's issuer (what its trust statement names).
 */
export const SERVES_TAG_PREFIX = 'rhacs-sts/serves/';
/** IAM's limits on a role's tags. */
export const MAX_ROLE_TAGS = 50;

/** The tag that records that the role serves this cluster (IAM tag keys: at most 128 of letters, digits, spaces and _.:/=+-@). */
export function servesTag(clusterName: string): string {
  return `${SERVES_TAG_PREFIX}${clusterName.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-')}`.slice(0, 128);
}

/** Prefix of the role tags that record a managed policy rhacs-sts attached (value: its ARN). */
export const ATTACHED_TAG_PREFIX = 'rhacs-sts/attached-';

/** The role tag that records that rhacs-sts attached this managed policy. */
export function attachedPolicyTag(policyArn: string): string {
  return `${ATTACHED_TAG_PREFIX}${shortHash(policyArn)}`;
}

/** The ECR actions that RHACS needs to scan images: read only. */
export const ECR_READ_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:DescribeImages',
  'ecr:DescribeRepositories',
  'ecr:GetDownloadUrlForLayer',
  'ecr:ListImages',
] as const;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]> | '*';
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  [extra: string]: unknown;
}

export interface PolicyDocument {
  Version: '2012-10-17' | string;
  Statement: PolicyStatement[];
}

export function oidcProviderArn(partition: Partition, accountId: string, issuer: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuerHostPath(issuer)}`;
}

export function roleArn(partition: Partition, accountId: string, name: string, path = '/'): string {
  return `arn:${partition}:iam::${accountId}:role${path}${name}`;
}

export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** One cluster's part of the trust: its issuer, the token audience, and the exact subjects. */
export interface TrustTarget {
  issuer: string;
  audience: string;
  subjects: string[];
}

/**
 * Sid of our statement for one issuer: stable across runs and clusters (a hash of the issuer), so a
 * run can replace its own issuers' statements and leave every other cluster's alone.
 */
export function trustSid(issuer: string): string {
  return `${TRUST_SID}${shortHash(issuer)}`;
}

/** Our trust statements: one per issuer, scoped to exact subjects and audience; never a wildcard. */
export function trustStatements(partition: Partition, accountId: string, targets: readonly TrustTarget[]): PolicyStatement[] {
  const byIssuer = new Map<string, TrustTarget>();
  for (const t of targets) {
    const prev = byIssuer.get(t.issuer);
    if (prev && prev.audience !== t.audience) {
      throw new Error(`issuer ${t.issuer} is used with two audiences (${prev.audience}, ${t.audience})`);
    }
    byIssuer.set(t.issuer, { issuer: t.issuer, audience: t.audience, subjects: [...new Set([...(prev?.subjects ?? []), ...t.subjects])] });
  }
  const merged = [...byIssuer.values()];
  return merged.map((t) => {
    const hp = issuerHostPath(t.issuer);
    return {
      Sid: trustSid(t.issuer),
      Effect: 'Allow',
      Principal: { Federated: oidcProviderArn(partition, accountId, t.issuer) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          [`${hp}:sub`]: [...t.subjects].sort(),
          [`${hp}:aud`]: t.audience,
        },
      },
    } satisfies PolicyStatement;
  });
}

/** Sid of our EKS Pod Identity statement (one per role, whatever the number of clusters). */
export const POD_IDENTITY_SID = 'RhacsStsPodIdentity';
/** The service principal EKS Pod Identity assumes roles as (EKS Auth, for the Pod Identity Agent). */
export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/**
 * The EKS Pod Identity trust statement (EKS User Guide, "Create IAM role with trust policy required
 * by EKS Pod Identity"): the service principal may sts:AssumeRole and sts:TagSession (it tags the
 * session with the cluster, namespace, service account and pod). Scoped to this account's EKS
 * clusters with aws:SourceAccount and aws:SourceArn; which service account may use the role is
 * said by its associations (creating one takes iam:PassRole on the role). Its size does not depend
 * on the number of clusters, so a fleet shares one role without growing its trust policy.
 */
export function podIdentityStatement(partition: Partition, accountId: string): PolicyStatement {
  return {
    Sid: POD_IDENTITY_SID,
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_PRINCIPAL },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: { 'aws:SourceAccount': accountId },
      ArnLike: { 'aws:SourceArn': `arn:${partition}:eks:*:${accountId}:cluster/*` },
    },
  };
}

/** True when the statement is our Pod Identity statement. */
export function isPodIdentityStatement(s: PolicyStatement): boolean {
  return s.Sid === POD_IDENTITY_SID;
}

/** The trust policy with our Pod Identity statement (in place, or appended) or without it; every other statement as it is. */
export function withPodIdentityStatement(current: PolicyDocument, statement: PolicyStatement | undefined): PolicyDocument {
  const out: PolicyStatement[] = [];
  let placed = false;
  for (const s of current.Statement) {
    if (!isPodIdentityStatement(s)) out.push(s);
    else if (statement && !placed) {
      out.push(statement);
      placed = true;
    }
  }
  if (statement && !placed) out.push(statement);
  return { Version: current.Version || '2012-10-17', Statement: out };
}

/** True when a statement lets the Pod Identity service principal assume the role (any Sid: ours or someone's). */
export function trustsPodIdentity(doc: PolicyDocument | undefined): boolean {
  return (doc?.Statement ?? []).some((s) => {
    if (s.Effect !== 'Allow' || !s.Principal || s.Principal === '*') return false;
    const svc = s.Principal.Service;
    const actions = [s.Action].flat();
    return [svc].flat().includes(POD_IDENTITY_PRINCIPAL) && actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*') && actions.some((a) => a === 'sts:TagSession' || a === 'sts:*' || a === '*');
  });
}

export function isOurStatement(s: PolicyStatement): boolean {
  return typeof s.Sid === 'string' && s.Sid.startsWith(OUR_SID_PREFIX);
}

/** Host paths of the OIDC providers a statement names as its federated principal. */
export function federatedHostPaths(s: PolicyStatement): string[] {
  const fed = s.Principal && s.Principal !== '*' ? s.Principal.Federated : undefined;
  const arns = Array.isArray(fed) ? fed : fed ? [fed] : [];
  return arns.flatMap((a) => {
    const m = /^arn:[^:]+:iam::[^:]*:oidc-provider\/(.+)$/.exec(a);
    return m?.[1] ? [m[1]] : [];
  });
}

/**
 * True when the statement is ours and belongs to one of the issuers in scope: its federated
 * principal is one of their providers (this also covers the single `RhacsStsWebIdentity` statement
 * that earlier versions wrote), or its Sid is one of theirs.
 */
function inScope(s: PolicyStatement, scope: readonly string[]): boolean {
  if (!isOurStatement(s)) return false;
  const paths = new Set(scope.map(issuerHostPath));
  const sids = new Set(scope.map(trustSid));
  const fed = federatedHostPaths(s);
  return (typeof s.Sid === 'string' && sids.has(s.Sid)) || (fed.length > 0 && fed.every((p) => paths.has(p)));
}

/**
 * The trust policy a role should have after a run for the issuers in `scope`: our statements for
 * those issuers are replaced by `ours` (in place, so a re-run compares equal); every other
 * statement stays as it is: ours for other clusters, and every statement we did not write.
 */
export function mergeTrustPolicy(current: PolicyDocument | undefined, ours: PolicyStatement[], scope: readonly string[]): PolicyDocument {
  // Each of ours takes the place of the statement it replaces (same Sid, or same issuer), so
  // that runs for different clusters never reorder each other's statements.
  const keyOf = (s: PolicyStatement) => federatedHostPaths(s).sort().join(' ');
  const pending = new Map(ours.map((s) => [keyOf(s), s]));
  const bySid = new Map(ours.filter((s) => typeof s.Sid === 'string').map((s) => [s.Sid as string, keyOf(s)]));
  const out: PolicyStatement[] = [];
  for (const s of current?.Statement ?? []) {
    if (!inScope(s, scope)) {
      out.push(s);
      continue;
    }
    const key = (typeof s.Sid === 'string' ? bySid.get(s.Sid) : undefined) ?? keyOf(s);
    const replacement = pending.get(key);
    if (replacement) {
      out.push(replacement);
      pending.delete(key);
    }
  }
  out.push(...pending.values());
  return { Version: '2012-10-17', Statement: out };
}

/**
 * The trust policy without our statements for the issuers in `scope` (every issuer when omitted):
 * what uninstall leaves behind.
 */
export function removeOurStatements(current: PolicyDocument, scope?: readonly string[]): PolicyDocument {
  return {
    Version: current.Version,
    Statement: current.Statement.filter((s) => (scope ? !inScope(s, scope) : !isOurStatement(s))),
  };
}

/** Host paths of the issuers our statements trust (what clusters the role serves). */
export function ourTrustedHostPaths(doc: PolicyDocument): string[] {
  return [...new Set(doc.Statement.filter(isOurStatement).flatMap(federatedHostPaths))].sort();
}

/** IAM's default quota for a trust policy (Service Quotas L-C07B4B0D), in non-whitespace characters. */
export const DEFAULT_TRUST_POLICY_QUOTA = 2048;

/** A policy's size as IAM counts it against its quotas: characters other than white space, as sent (minified). */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).replace(/\s/g, '').length;
}

export interface EcrScope {
  /** Account that owns the registry. */
  registryId: string;
  /** Region of the registry; undefined means any region. */
  region?: string;
  /** Repository names or prefixes ("team/*"); empty means all. */
  repositories: readonly string[];
  /**
   * Cross-account: the registry account's role that Central assumes (StackRox's useAssumeRole), as
   * StackRox builds it: arn:aws:iam::<registryId>:role/<name>. Our role may then assume it.
   */
  assumeRoleArn?: string;
}

export function ecrRepositoryArns(partition: Partition, scope: EcrScope): string[] {
  const region = scope.region ?? '*';
  const repos = scope.repositories.length === 0 ? ['*'] : [...scope.repositories].sort();
  return repos.map((r) => `arn:${partition}:ecr:${region}:${scope.registryId}:repository/${r}`);
}

/**
 * Least-privilege ECR read. GetAuthorizationToken has no resource-level permissions, so it takes
 * "*"; every read action is scoped to the registry's repositories.
 */
export function permissionsPolicy(partition: Partition, scope: EcrScope): PolicyDocument {
  const arns = ecrRepositoryArns(partition, scope);
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Sid: ECR_READ_SID, Effect: 'Allow', Action: [...ECR_READ_ACTIONS], Resource: arns.length === 1 ? arns[0]! : arns },
      ...(scope.assumeRoleArn ? [{ Sid: 'RhacsStsEcrAssumeRole', Effect: 'Allow' as const, Action: 'sts:AssumeRole', Resource: scope.assumeRoleArn }] : []),
    ],
  };
}

/** Our Sid for the permissions policy's read statement. */
export const ECR_READ_SID = 'RhacsStsEcrRead';

/** The ECR scope our permissions policy grants, read back from it (verify without --ecr-* flags); undefined when it is not one of ours. */
export function ecrScopeOfPolicy(doc: PolicyDocument | undefined): EcrScope | undefined {
  const st = doc?.Statement.find((s) => s.Sid === ECR_READ_SID && s.Effect === 'Allow');
  const parsed = [st?.Resource ?? []].flat().map((a) => /^arn:[^:]+:ecr:([^:]+):(\d{12}):repository\/(.+)$/.exec(a));
  if (parsed.length === 0 || parsed.some((m) => !m)) return undefined;
  const registries = new Set(parsed.map((m) => m![2]!));
  const regions = new Set(parsed.map((m) => m![1]!));
  if (registries.size !== 1 || regions.size !== 1) return undefined;
  const region = [...regions][0]!;
  const repositories = parsed.map((m) => m![3]!);
  return { registryId: [...registries][0]!, region: region === '*' ? undefined : region, repositories: repositories.includes('*') ? [] : repositories.sort() };
}

/**
 * What the owner of a registry in another account must add so the role can read it. ECR checks a
 * cross-account read against the repository's own policy as well as the role's: the role's policy
 * alone is not enough, and GetAuthorizationToken (which has no resource) succeeds without either.
 * A registry policy cannot grant it (it covers replication and pull-through cache only), so the
 * statement goes into the policy of each repository. It has no Resource: it applies to its
 * repository. The Sid names the role, so grants for several roles sit side by side.
 */
export interface RepositoryGrant {
  registryId: string;
  /** undefined: any region (the repositories' own). */
  region?: string;
  /** Exact names, or prefixes ("team/*"); empty: every repository RHACS reads. */
  repositories: string[];
  statement: PolicyStatement;
}

export function repositoryGrant(roleArn: string, roleAccountId: string, scope: EcrScope): RepositoryGrant | undefined {
  if (scope.registryId === roleAccountId) return undefined;
  return {
    registryId: scope.registryId,
    ...(scope.region ? { region: scope.region } : {}),
    repositories: [...scope.repositories].sort(),
    statement: { Sid: `RhacsStsRead${shortHash(roleArn)}`, Effect: 'Allow', Principal: { AWS: roleArn }, Action: [...ECR_READ_ACTIONS] },
  };
}

/**
 * A canonical form for comparing policy documents: keys sorted, single-element arrays folded to
 * strings, string arrays sorted (order has no meaning in IAM for Action, Resource or condition values).
 */
export function canonicalPolicy(doc: unknown): unknown {
  if (Array.isArray(doc)) {
    const items = doc.map(canonicalPolicy);
    if (items.length === 1 && typeof items[0] === 'string') return items[0];
    if (items.every((x) => typeof x === 'string')) return [...(items as string[])].sort();
    return items;
  }
  if (doc && typeof doc === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(doc).sort()) out[k] = canonicalPolicy((doc as Record<string, unknown>)[k]);
    return out;
  }
  return doc;
}

export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalPolicy(a)) === JSON.stringify(canonicalPolicy(b));
}

/** IAM returns policy documents URL-encoded; accept either form. */
export function parsePolicyDocument(text: string): PolicyDocument {
  const raw = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  const doc = JSON.parse(raw) as PolicyDocument;
  if (!Array.isArray(doc.Statement)) doc.Statement = doc.Statement ? [doc.Statement as unknown as PolicyStatement] : [];
  return doc;
}

function shortHash(s: string): string {
  // FNV-1a, 32 bit: stable, dependency-free, alphanumeric as a Sid requires.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
