/**
 * Runs the checks of `verify`: reads everything it needs (issuer documents through the API server
 * and from the public URL, the role and OIDC provider, the components' configuration and pods),
 * requests a short-lived token per service account, evaluates it locally against the role, then
 * exchanges it with AWS and calls ECR with the result. Read-only, except for the token requests.
 * Tokens and credentials never leave this module: rows carry only non-secret facts.
 */
import { exchangeAndPullAuth, type ExchangeResult, type RegistryProbe, type RepositoryRead } from '../clouds/aws/exchange.js';
import type { Discovered, Sessions } from '../sessions.js';
import { isRhacsStsError } from '../errors.js';
import type { IssuerDocuments, KubeSession, WorkloadState } from '../kube/session.js';
import type { Options } from '../options/options.js';
import { associationOf, mechanismOf, targetComponents } from '../plan/build.js';
import { exchangePodIdentity, type PodIdentityExchangeResult } from '../clouds/aws/pod-identity.js';
import { associationCheck, podIdentityPodsCheck, podIdentityTrustCheck } from '../clouds/aws/verify/pod-identity-checks.js';
import type { PodState } from '../kube/session.js';
import { AUDIENCE, EKS_ROLE_ANNOTATION, POD_IDENTITY_AUDIENCE, type AwsState, type ClusterFacts, type Component, type RoleState } from '../plan/model.js';
import { ecrScopeOfPolicy, oidcProviderArn, PERMISSIONS_POLICY_NAME, repositoryGrant, roleArn as makeRoleArn, type EcrScope } from '../clouds/aws/policies.js';
import {
  durabilityCheck,
  expectedClaims,
  issuerApiCheck,
  issuerPublicCheck,
  localExchangeFailures,
  oidcProviderCheck,
  permissionsCheck,
  podsCheck,
  roleCheck,
  rowId,
  rowName,
  tokenVolumeCheck,
  trustCheck,
  wiringCheck,
  type BoundaryRead,
  type CheckRow,
  type Where,
} from './checks.js';
import { fetchPublicIssuer, publicGetter, type PublicIssuer } from '../clouds/aws/issuer/public.js';
import { pointedRoleArn, roleInAccount } from './pointers.js';
import { decodeJwtHeader, verifiesSignature } from './jwt.js';
import { decodeJwtClaims, evaluateTrust } from '../clouds/aws/verify/trust-eval.js';

export { pointedRoleArn, roleInAccount } from './pointers.js';

export interface VerifyReport {
  ok: boolean;
  partition: string;
  accountId: string;
  region: string;
  role: { name: string; arn: string; exists: boolean };
  /** A fleet with a role per secured cluster: each role, and the contexts checked with it (Central's first). */
  roles?: { name: string; arn: string; exists: boolean; contexts: (string | null)[] }[];
  clusters: { context?: string; provider: ClusterFacts['provider']; issuer: string; namespace: string; components: Component[] }[];
  summary: { pass: number; warn: number; fail: number };
  checks: CheckRow[];
}

export interface VerifyDeps {
  log: (message: string) => void;
  /** Replaceable for tests. */
  exchange?: typeof exchangeAndPullAuth;
  exchangePodIdentity?: typeof exchangePodIdentity;
  fetchPublicIssuer?: (issuer: string) => Promise<PublicIssuer>;
  /** Name each cluster in its rows even when this run checks one (a part of a fleet's report). */
  multi?: boolean;
}

const errorOf = (err: unknown): { error: string; hint?: string } =>
  isRhacsStsError(err) ? { error: err.message, hint: err.hint } : { error: err instanceof Error ? err.message : String(err) };

async function settle<T>(p: Promise<T>): Promise<T | { error: string; hint?: string }> {
  try {
    return await p;
  } catch (err) {
    return errorOf(err);
  }
}

const isError = (x: unknown): x is { error: string; hint?: string } => !!x && typeof x === 'object' && 'error' in x && typeof (x as { error: unknown }).error === 'string';

/** Sensor is expected when asked for, or when the role or the cluster already say so. */
function expectedComponents(cluster: ClusterFacts, options: Options, role: RoleState | null, arn: string, providerArn: string): Component[] {
  const sensor = cluster.components.includes('sensor') && (options.delegatedScanning ?? (() => {
    const trusted = role ? evaluateTrust(role.trustPolicy, expectedClaims(cluster, 'sensor'), providerArn).allowed : false;
    const s = cluster.current?.sensor;
    const wired = cluster.provider === 'eks'
      ? s?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] === arn || (s?.pods ?? []).some((p) => p.containerCredentials)
      : s?.deployment?.env.some((e) => e.name === 'AWS_ROLE_ARN' && e.value === arn) === true;
    return trusted || wired;
  })());
  return targetComponents(cluster, sensor);
}

/** The `rhacs-sts init` command line that converges what verify found missing. */
export function initCommand(options: Options, extra: { roleName?: string; delegated?: boolean } = {}): string {
  const parts = ['rhacs-sts init'];
  const flag = (name: string, value: string | undefined) => { if (value) parts.push(`${name} ${value}`); };
  flag('--context', options.context);
  flag('--central-context', options.centralContext);
  for (const c of options.sensorContexts) flag('--sensor-context', c);
  flag('--namespace', options.namespace);
  flag('--cluster-name', options.clusterName);
  flag('--role-name', options.roleName ?? extra.roleName);
  if (extra.delegated) parts.push('--delegated-scanning');
  return parts.join(' ');
}

/** The registry and repositories to check: each --ecr-* flag given, else what the role's policy of ours grants, else the defaults. */
export function ecrScopeToCheck(options: Options, decided: EcrScope, role: RoleState | null): EcrScope {
  const granted = ecrScopeOfPolicy(role?.inlinePolicies[PERMISSIONS_POLICY_NAME]);
  if (!granted) return decided;
  return {
    registryId: options.ecrRegistryId ?? granted.registryId,
    region: options.ecrRegion ?? granted.region,
    repositories: options.ecrRepositories.length ? options.ecrRepositories : granted.repositories,
  };
}

/** Exact repository names read at most per exchange. */
const MAX_PROBED_REPOSITORIES = 3;

/**
 * Which repositories verify reads with the role's credentials: the named ones; with every
 * repository in scope and the registry in the role's own account, the first the registry lists.
 * ECR does not list another account's registry (its grants are per repository), nor a prefix.
 */
export function registryProbe(scope: EcrScope, roleAccountId: string, region: string): RegistryProbe {
  return {
    registryId: scope.registryId,
    region: scope.region ?? region,
    repositories: scope.repositories.filter((r) => !r.includes('*')).slice(0, MAX_PROBED_REPOSITORIES),
    list: scope.repositories.length === 0 && scope.registryId === roleAccountId,
  };
}

export async function runChecks(options: Options, sessions: Sessions, found: Discovered, deps: VerifyDeps): Promise<VerifyReport> {
  const { facts } = found;
  let aws: AwsState = found.aws;
  let roleName = found.decisions.roleName;
  let rolePath = found.decisions.rolePath;
  const checks: CheckRow[] = [];

  // Without --role-name and no role of the default name: use the role the cluster points at.
  let inferredRole: string | undefined;
  if (!options.roleName && !aws.role) {
    const pointed = pointedRoleArn(facts.clusters);
    const r = roleInAccount(pointed, facts.accountId);
    if (r) {
      roleName = r.name;
      rolePath = r.path;
      inferredRole = roleName;
      deps.log(`no role ${found.decisions.roleName}; the cluster points at ${pointed}, checking that role`);
      aws = await sessions.aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers: [...new Set(facts.clusters.map((c) => c.issuer))], roleName });
    }
  }
  const role = aws.role;
  const arn = role?.arn ?? makeRoleArn(facts.partition, facts.accountId, roleName, rolePath);
  // The boundary caps what the role's policies grant: read it for the local permissions check.
  const boundaryArn = role?.permissionsBoundary;
  const boundary: Promise<BoundaryRead | undefined> = boundaryArn
    ? sessions.aws.managedPolicy(boundaryArn).then((document) => ({ arn: boundaryArn, document }), (err: unknown) => ({ arn: boundaryArn, error: errorOf(err).error }))
    : Promise.resolve(undefined);
  const scope = ecrScopeToCheck(options, found.decisions.ecr, role);
  const probe = registryProbe(scope, facts.accountId, facts.region);
  const grant = repositoryGrant(arn, facts.accountId, scope);
  const multi = deps.multi ?? facts.clusters.length > 1;
  const kubeFor = (c: ClusterFacts): KubeSession => sessions.kube.get(c.context ?? '') ?? [...sessions.kube.values()][0]!;

  const plans = facts.clusters.map((cluster) => {
    const providerArn = oidcProviderArn(facts.partition, facts.accountId, cluster.issuer);
    const components = expectedComponents(cluster, options, role, arn, providerArn);
    const podIdentity = mechanismOf(cluster, found.decisions.mechanism) === 'pod-identity';
    return { cluster, providerArn, components, podIdentity, w: { cluster, multi } as Where };
  });
  const delegated = plans.some((p) => p.components.includes('sensor'));
  const initFix = initCommand(options, { roleName: inferredRole, delegated });
  // A ready pod per component, for a token bound to it (Pod Identity: EKS tags the session with the pod).
  const boundPod = (wl: unknown): { name: string; uid: string } | undefined => {
    const pods = (wl as { pods?: PodState[] | null } | null)?.pods ?? [];
    const p = pods.find((x) => !x.terminating && x.ready && x.uid) ?? pods.find((x) => !x.terminating && x.uid);
    return p ? { name: p.name, uid: p.uid! } : undefined;
  };

  // --- read everything, concurrently ---------------------------------------------------------
  const get = publicGetter({ connectTo: options.connectTo });
  const publicFetch = deps.fetchPublicIssuer ?? ((issuer: string) => fetchPublicIssuer(issuer, { get, connectTo: options.connectTo }));
  const publicByIssuer = new Map<string, Promise<PublicIssuer>>();
  for (const p of plans) if (!publicByIssuer.has(p.cluster.issuer)) publicByIssuer.set(p.cluster.issuer, publicFetch(p.cluster.issuer));

  const reads = await Promise.all(plans.map(async (p) => {
    const kube = kubeFor(p.cluster);
    const ns = p.cluster.namespace;
    const [docs, pub, perComp] = await Promise.all([
      settle(kube.issuerDiscovery()),
      publicByIssuer.get(p.cluster.issuer)!,
      Promise.all(p.components.map(async (comp) => {
        if (p.podIdentity) {
          const workload = await settle(kube.pods(ns, comp));
          const pod = boundPod(workload);
          const token = options.skipExchange ? undefined
            : pod ? await settle(kube.requestToken(ns, comp, POD_IDENTITY_AUDIENCE, pod))
            : { error: `no running pod of ${comp} to bind the token to` };
          return { comp, workload, setAt: undefined, token };
        }
        const [workload, setAt, token] = await Promise.all([
          settle(kube.pods(ns, comp)),
          p.cluster.provider === 'eks' ? settle(kube.annotationSetAt(ns, comp, EKS_ROLE_ANNOTATION)) : Promise.resolve(undefined),
          options.skipExchange ? Promise.resolve(undefined) : settle(kube.requestToken(ns, comp, AUDIENCE[p.cluster.provider])),
        ]);
        return { comp, workload, setAt, token };
      })),
    ]);
    return { ...p, docs, pub, perComp };
  }));

  // --- issuer, OIDC provider, role -------------------------------------------------------------
  const seenIssuers = new Set<string>();
  for (const r of reads) {
    if (seenIssuers.has(r.cluster.issuer)) continue;
    seenIssuers.add(r.cluster.issuer);
    checks.push(issuerApiCheck(r.w, r.docs as IssuerDocuments | { error: string; hint?: string }));
    // The keys the cluster signs with now: the kid of each token just requested for this issuer.
    const signing = reads.filter((x) => x.cluster.issuer === r.cluster.issuer).flatMap((x) => x.perComp.map((c) => signingKid(c.token)).filter((k): k is string => !!k));
    // Pod Identity needs no public issuer and no IAM OIDC provider: EKS checks the tokens itself.
    if (!r.podIdentity) checks.push(issuerPublicCheck(r.w, r.pub, isError(r.docs) ? undefined : (r.docs as IssuerDocuments).keys, signing));
  }
  seenIssuers.clear();
  for (const r of reads) {
    if (seenIssuers.has(r.cluster.issuer) || r.podIdentity) continue;
    seenIssuers.add(r.cluster.issuer);
    checks.push(oidcProviderCheck(r.w, r.providerArn, aws.oidcProviders[r.cluster.issuer], initFix));
  }
  checks.push(roleCheck(roleName, arn, role, initFix));
  const podIdentityReads = reads.filter((r) => r.podIdentity && r.components.length > 0);
  if (podIdentityReads.length) {
    const clusterArns = podIdentityReads.flatMap((r) => (r.cluster.name ? [`arn:${facts.partition}:eks:${r.cluster.region ?? facts.region}:${facts.accountId}:cluster/${r.cluster.name}`] : []));
    checks.push(podIdentityTrustCheck(role, facts.accountId, [...new Set(clusterArns)], `${initFix} --mechanism pod-identity`));
  }
  for (const r of reads) {
    if (r.components.length === 0) {
      checks.push({
        id: rowId('components', r.w), check: rowName('RHACS components', r.w), result: 'fail',
        detail: `Nothing to check in namespace ${r.cluster.namespace}: Central does not run here, and Sensor needs AWS access only with delegated scanning.`,
        fix: 'Point --context at the cluster that runs Central, or pass --delegated-scanning.',
      });
      continue;
    }
    if (!r.podIdentity) checks.push(trustCheck(r.w, role, r.providerArn, r.components, initFix));
  }
  checks.push(permissionsCheck(role, initFix, await boundary));

  // --- Kubernetes ------------------------------------------------------------------------------
  for (const r of reads) {
    for (const c of r.perComp) {
      if (r.podIdentity) {
        const region = r.cluster.region ?? facts.region;
        checks.push(associationCheck({
          w: r.w, comp: c.comp, roleArn: arn, clusterName: r.cluster.name, state: r.cluster.current?.[c.comp],
          association: associationOf(aws, r.cluster, region, c.comp),
          ...(aws.associations === undefined ? { readError: 'not read (see the warnings above)' } : {}),
        }, initFix));
        checks.push(podIdentityPodsCheck(r.w, c.comp, c.workload as WorkloadState | null | { error: string }));
        continue;
      }
      const input = { w: r.w, comp: c.comp, roleArn: arn, state: r.cluster.current?.[c.comp] };
      checks.push(wiringCheck(input, initFix));
      const vol = tokenVolumeCheck(input, initFix);
      if (vol) checks.push(vol);
      const durable = durabilityCheck(input, initFix);
      if (durable) checks.push(durable);
      checks.push(podsCheck({
        ...input,
        workload: c.workload as WorkloadState | null | { error: string },
        annotationSetAt: c.setAt instanceof Date ? c.setAt : undefined,
      }));
    }
  }

  // --- end to end --------------------------------------------------------------------------------
  const exchange = deps.exchange ?? exchangeAndPullAuth;
  const e2e = await Promise.all(reads.flatMap((r) => r.perComp.map(async (c): Promise<CheckRow> => {
    const id = rowId('end-to-end', r.w, c.comp);
    const check = rowName(`End to end ${c.comp}`, r.w);
    const subject = `system:serviceaccount:${r.cluster.namespace}:${c.comp}`;
    const audience = r.podIdentity ? POD_IDENTITY_AUDIENCE : AUDIENCE[r.cluster.provider];
    if (r.podIdentity && !options.skipExchange && !isError(c.token) && c.token !== undefined) {
      return podIdentityEndToEnd({ id, check, subject, token: c.token as string, clusterName: r.cluster.name, region: r.cluster.region ?? facts.region });
    }
    if (options.skipExchange) return { id, check, result: 'warn', detail: 'Skipped (--skip-exchange): no token was requested or exchanged.', fix: 'Run without --skip-exchange to prove the whole chain.' };
    if (isError(c.token) || c.token === undefined) {
      const e = isError(c.token) ? c.token : { error: 'no token' };
      return {
        id, check, result: 'fail',
        detail: `Could not request a token for ${subject} (audience ${audience}) through the TokenRequest API: ${e.error}`,
        fix: `${e.hint ? `${e.hint} ` : ''}Or pass --skip-exchange to skip this check.`,
      };
    }
    const token = c.token as string;
    let claims;
    let kid: string | undefined;
    try {
      claims = decodeJwtClaims(token);
      kid = decodeJwtHeader(token).kid;
    } catch {
      return { id, check, result: 'fail', detail: `The API server returned a token for ${subject} that is not a JWT.`, fix: 'Check the API server\'s service-account token configuration.' };
    }
    const apiKeys = isError(r.docs) ? undefined : (r.docs as IssuerDocuments).keys;
    const key = apiKeys?.find((k) => k.kid === kid);
    const failures = localExchangeFailures({
      cluster: r.cluster, claims, kid, apiKeys, publicIssuer: r.pub,
      signatureVerified: key ? verifiesSignature(token, key) : undefined,
      provider: aws.oidcProviders[r.cluster.issuer], providerArn: r.providerArn, role,
    });
    const tokenSays = `token for ${claims.sub} (aud ${Array.isArray(claims.aud) ? claims.aud.join(', ') : claims.aud})`;
    if (failures.length) {
      return { id, check, result: 'fail', detail: `AWS would refuse the ${tokenSays}: ${failures.join('; ')}.`, fix: initFix };
    }
    let result: ExchangeResult;
    try {
      result = await exchange({ roleArn: arn, webIdentityToken: token, region: facts.region, registryId: scope.registryId, probe, log: deps.log, timeoutMs: options.requestTimeoutMs });
    } catch (err) {
      const cause = (err as { cause?: { name?: string; message?: string } }).cause;
      const why = cause?.message ? `${cause.name ? `${cause.name}: ` : ''}${cause.message}` : errorOf(err).error;
      // A refusal by AWS itself (the local checks passed): the role or provider changed meanwhile, or
      // AWS sees the issuer differently (e.g. cannot fetch its keys). Anything else (network,
      // throttling) has its own hint.
      const refused = /AccessDenied|InvalidIdentityToken|IDPRejectedClaim|IDPCommunicationError|ExpiredToken/.test(why);
      return {
        id, check, result: 'fail',
        detail: `The ${tokenSays} passed the local checks, but sts:AssumeRoleWithWebIdentity failed: ${why}`,
        fix: refused ? `${initFix}   (if it still fails, check that AWS can fetch ${r.cluster.issuer}/.well-known/openid-configuration and its keys)` : errorOf(err).hint ?? initFix,
      };
    }
    if (!result.ecr.ok) {
      return {
        id, check, result: 'fail',
        detail: `Assumed ${result.assumedRoleArn} with the ${tokenSays}, but ecr:GetAuthorizationToken failed: ${result.ecr.error}`,
        fix: initFix,
      };
    }
    const exchanged = `Exchanged a ${tokenSays} for ${result.assumedRoleArn}; ecr:GetAuthorizationToken succeeded${result.ecr.proxyEndpoint ? ` (${result.ecr.proxyEndpoint})` : ''}`;
    return ecrReadRow({ id, check, exchanged, reads: result.ecr.reads, scope, grant, initFix });
  })));
  checks.push(...e2e);

  /** Pod Identity end to end: EKS Auth with a pod-bound token (as the agent), then ECR with the credentials. */
  async function podIdentityEndToEnd(e: { id: string; check: string; subject: string; token: string; clusterName?: string; region: string }): Promise<CheckRow> {
    const fix = `${initFix} --mechanism pod-identity`;
    if (!e.clusterName) return { id: e.id, check: e.check, result: 'fail', detail: 'The EKS cluster\'s name is not known.', fix: 'Pass --cluster-name.' };
    let result: PodIdentityExchangeResult;
    try {
      result = await (deps.exchangePodIdentity ?? exchangePodIdentity)({
        clusterName: e.clusterName, region: e.region, token: e.token, profile: options.profile, ...(options.environment ? { environment: options.environment.aws } : {}), registryId: scope.registryId, probe, log: deps.log, timeoutMs: options.requestTimeoutMs,
      });
    } catch (err) {
      const why = errorOf(err).error;
      return {
        id: e.id, check: e.check, result: 'fail',
        detail: `EKS Auth (AssumeRoleForPodIdentity, what the Pod Identity Agent calls) refused a token of ${e.subject} (audience ${POD_IDENTITY_AUDIENCE}, bound to a running pod): ${why}`,
        fix: /AccessDeniedException.*(eks-auth:AssumeRoleForPodIdentity|not authorized to perform: eks-auth)/.test(why)
          ? 'Your AWS principal needs eks-auth:AssumeRoleForPodIdentity on the cluster to run this check (as the nodes\' role has); or pass --skip-exchange.'
          : fix,
      };
    }
    if (!result.ecr.ok) {
      return { id: e.id, check: e.check, result: 'fail', detail: `EKS Pod Identity gave ${e.subject} ${result.assumedRoleArn} (association ${result.associationId}), but ecr:GetAuthorizationToken failed: ${result.ecr.error}`, fix };
    }
    const exchanged = `EKS Pod Identity gave ${e.subject} ${result.assumedRoleArn} (association ${result.associationId}); ecr:GetAuthorizationToken succeeded${result.ecr.proxyEndpoint ? ` (${result.ecr.proxyEndpoint})` : ''}`;
    return ecrReadRow({ id: e.id, check: e.check, exchanged, reads: result.ecr.reads, scope, grant, initFix: fix });
  }

  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.result]++;
  return {
    ok: summary.fail === 0,
    partition: facts.partition,
    accountId: facts.accountId,
    region: facts.region,
    role: { name: roleName, arn, exists: role !== null },
    clusters: reads.map((r) => ({ context: r.cluster.context, provider: r.cluster.provider, issuer: r.cluster.issuer, namespace: r.cluster.namespace, components: r.components })),
    summary,
    checks,
  };
}

/** The end-to-end row once the token call worked: what reading the registry with the role's credentials showed. */
function ecrReadRow(i: {
  id: string; check: string; exchanged: string; reads: RepositoryRead[] | undefined; scope: EcrScope;
  grant: ReturnType<typeof repositoryGrant>; initFix: string;
}): CheckRow {
  const { id, check, exchanged, reads, scope, grant } = i;
  const registry = `registry ${scope.registryId}${scope.region ? ` (${scope.region})` : ''}`;
  if (!reads) {
    return {
      id, check, result: 'warn',
      detail: `${exchanged}, but no repository was read: ${grant ? `ECR does not list another account's repositories (grants are per repository)` : 'the role may read only repositories by prefix, which ECR cannot list'}, so read access to ${registry} is not proven.`,
      fix: 'Name a repository for verify to read: rhacs-sts verify --ecr-repository <name> (with the other flags as before)',
    };
  }
  const failed = reads.find((r): r is Extract<RepositoryRead, { ok: false }> => !r.ok);
  if (failed) {
    const what = failed.repository ? `repository ${failed.repository} in ${registry}` : registry;
    // Across accounts, a refusal that is not the role's own policies or boundary is the repository policy's.
    const byRepositoryPolicy = /AccessDenied/.test(failed.error) && !/identity-based polic|permissions boundary/.test(failed.error);
    return {
      id, check, result: 'fail',
      detail: `${exchanged}, but reading ${what} failed: ${failed.action}: ${failed.error}`,
      fix: grant && byRepositoryPolicy
        ? `The owner of registry ${grant.registryId} must add this statement to the repository policy of ${failed.repository ?? 'each repository RHACS reads'}: ${JSON.stringify(grant.statement)}`
        : /RepositoryNotFound/.test(failed.error)
          ? `Check the repository name (--ecr-repository) and the registry (--ecr-registry-id, --ecr-region).`
          : i.initFix,
    };
  }
  const done = reads.filter((r): r is Extract<RepositoryRead, { ok: true }> => r.ok);
  if (done.length === 0) return { id, check, result: 'pass', detail: `${exchanged}; ${registry} has no repository to read yet.` };
  const said = done.map((r) => `${r.repository} (${r.calls.join(', ')}${r.image ? ` of ${r.image}` : ', no image yet'})`).join('; ');
  return { id, check, result: 'pass', detail: `${exchanged}; read ${said} in ${registry}.` };
}

/** The key id in a token's header (never the token itself), or undefined. */
function signingKid(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    return decodeJwtHeader(token).kid;
  } catch {
    return undefined;
  }
}

/**
 * One report for a fleet whose clusters use different roles (Central's, and one per secured
 * cluster): each part checked with its own role. Rows about a role (not a cluster) say which.
 */
export function mergeReports(parts: VerifyReport[]): VerifyReport {
  const ids = new Set<string>();
  const checks = parts.flatMap((p, i) => p.checks.map((c) => {
    const clash = i > 0 && ids.has(c.id);
    ids.add(c.id);
    return clash ? { ...c, id: `${c.id}:${p.role.name}`, check: `${c.check} (${p.role.name})` } : c;
  }));
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.result]++;
  return { ...parts[0]!, roles: parts.map((p) => ({ ...p.role, contexts: p.clusters.map((c) => c.context ?? null) })), clusters: parts.flatMap((p) => p.clusters), checks, summary, ok: summary.fail === 0 };
}
