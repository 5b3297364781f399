/**
 * What is in place in the AWS account for a run: the role and OIDC providers for the planned names,
 * the EKS Pod Identity associations and who trusts each provider, each issuer as AWS will fetch it
 * (init and plan), and what an earlier run set (the role's tags, the clusters' wiring) as this run's
 * defaults. Read-only; the session (./session.ts) makes the calls. Reached as the cloud's `readState`
 * (./cloud.ts), and under its old names from src/discover.ts.
 */
import { defaultRoleName } from '../../decide.js';
import { OperationError } from '../../errors.js';
import type { Options } from '../../options/options.js';
import { targetComponents } from '../../plan/components.js';
import { ownRoleClustersInPlace, settingsInPlace, type InPlace } from '../../plan/in-place.js';
import type { AssociationState, AwsState, Decisions, Facts } from '../../plan/model.js';
import type { Sessions } from '../../sessions.js';
import { issuerPublicCheck } from '../../verify/checks.js';
import { pointedRoleArn, roleInAccount } from '../../verify/pointers.js';
import { fetchPublicIssuer, publicGetter, type PublicIssuer, type PublicNet } from './issuer/public.js';
import { isManaged, mechanismOf } from './plan.js';
import { POD_IDENTITY_PRINCIPAL, servesTag } from './policies.js';
import type { AwsSession } from './session.js';

/**
 * The current AWS state for the planned names. With `net` (init and plan: they may create an OIDC
 * provider), also each issuer as AWS will fetch it — its public discovery document and keys —
 * before any IAM write: an issuer that answers wrongly stops the run; one that cannot be reached
 * from here is a warning. And the thumbprint of each provider about to be created, where it can be
 * taken as IAM defines it.
 */
export async function readAwsState(facts: Facts, decisions: Decisions, sessions: Sessions, net?: PublicNet): Promise<{ aws: AwsState; warnings: string[] }> {
  const issuers = [...new Set(facts.clusters.map((c) => c.issuer))];
  const get = net ? publicGetter(net) : undefined;
  const [aws, published] = await Promise.all([
    sessions.aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers, roleName: decisions.roleName }),
    Promise.all(issuers.map(async (issuer) => (get ? fetchPublicIssuer(issuer, { get, connectTo: net?.connectTo }) : undefined))),
  ]);
  const warnings: string[] = [];
  await readAssociations(facts, decisions, aws, sessions, warnings);
  await readProviderTrusters(facts, decisions, aws, sessions);
  if (!net) return { aws, warnings };

  const wrong: { issuer: string; detail: string; fix?: string }[] = [];
  const usable = new Map<string, PublicIssuer & { reachable: true }>();
  issuers.forEach((issuer, i) => {
    const pub = published[i]!;
    const cluster = facts.clusters.find((c) => c.issuer === issuer)!;
    const row = issuerPublicCheck({ cluster, multi: false }, pub, undefined);
    if (row.result === 'fail') wrong.push({ issuer, detail: row.detail, fix: row.fix });
    else if (row.result === 'warn') warnings.push(`${row.detail} rhacs-sts goes on; if AWS cannot fetch it either, it will reject every token.`);
    else if (pub.reachable) usable.set(issuer, pub);
  });
  if (wrong.length) {
    throw new OperationError(
      `AWS cannot use ${wrong.length === 1 ? 'the issuer' : 'these issuers'}, so nothing was changed:\n${wrong.map((w) => `  ✗ ${w.issuer}: ${w.detail}`).join('\n')}`,
      { hint: [...new Set(wrong.map((w) => w.fix).filter(Boolean))].join(' ') || undefined },
    );
  }

  // Thumbprints only matter for a provider we are about to create (a cluster on web identity: Pod
  // Identity needs none), and only from a host whose keys we just fetched.
  const missing = issuers.filter((i) => !aws.oidcProviders[i] && facts.clusters.some((c) => c.issuer === i && mechanismOf(c, decisions.mechanism) !== 'pod-identity'));
  // The account's OIDC providers are limited (100 by default): say so before the last ones go.
  if (missing.length && sessions.aws.oidcProviderCount) {
    const count = await sessions.aws.oidcProviderCount();
    if (count !== undefined && count + missing.length > OIDC_PROVIDER_WARN_AT) {
      warnings.push(`The account has ${count} IAM OIDC providers; this run adds ${missing.length}. IAM allows ${DEFAULT_OIDC_PROVIDER_QUOTA} per account by default: ask for more in Service Quotas (IAM, "OpenID Connect providers per account") before the fleet grows further, or reuse issuers.`);
    }
  }
  await Promise.all(missing.map(async (issuer) => {
    // Taken from the verified connection that fetched the keys (never a second, unverified one).
    const r = usable.get(issuer)?.thumbprint;
    if (!r) return; // unreachable from here: said above; IAM takes the thumbprint itself
    if ('thumbprint' in r) decisions.thumbprints[issuer] = [r.thumbprint];
    else if ('omitted' in r) warnings.push(`No thumbprint for the OIDC provider of ${issuer}: ${r.omitted}, and a leaf certificate changes at every renewal. IAM takes the thumbprint itself (it needs none for hosts with certificates from CAs it trusts).`);
    else warnings.push(`Could not read the TLS certificates of ${r.host} (${r.error}); creating the OIDC provider of ${issuer} without a thumbprint (IAM takes it itself, and needs none for hosts with certificates from CAs it trusts).`);
  }));
  return { aws, warnings };
}

/**
 * EKS Pod Identity associations of the components' service accounts, where Pod Identity is or may
 * have been in use: chosen for this run, seen in the pods (the credentials env), or recorded on the
 * role (its serves tag). Pure IRSA set-ups make no EKS call. Not allowed to read them: a warning,
 * and the plan goes on without them (creating one would then fail with the missing permission).
 */
async function readAssociations(facts: Facts, decisions: Decisions, aws: AwsState, sessions: Sessions, warnings: string[]): Promise<void> {
  if (!sessions.aws.readAssociations) return;
  const queries = facts.clusters
    .filter((c) => c.provider === 'eks' && c.name)
    .filter((c) =>
      decisions.mechanism === 'pod-identity' ||
      Object.values(c.current ?? {}).some((st) => st?.pods?.some((p) => p.containerCredentials)) ||
      aws.role?.tags[servesTag(c.name!)] === POD_IDENTITY_PRINCIPAL,
    )
    .map((c) => ({ clusterName: c.name!, region: c.region ?? facts.region, namespace: c.namespace, serviceAccounts: targetComponents(c, true) as string[] }))
    .filter((q) => q.serviceAccounts.length > 0);
  if (!queries.length) return;
  try {
    aws.associations = await sessions.aws.readAssociations(queries);
  } catch (err) {
    if (decisions.mechanism === 'pod-identity') throw err;
    warnings.push(`Could not read the EKS Pod Identity associations (${(err as Error).message}); any association of an earlier Pod Identity set-up is left as it is.`);
  }
}

/**
 * Which roles trust the OIDC provider of each cluster on EKS Pod Identity (it needs none): one that
 * rhacs-sts created and nobody trusts any more goes. Not allowed to list roles: left undefined,
 * and the provider stays (the plan says why).
 */
async function readProviderTrusters(facts: Facts, decisions: Decisions, aws: AwsState, sessions: Sessions): Promise<void> {
  const issuers = [...new Set(facts.clusters.filter((c) => mechanismOf(c, decisions.mechanism) === 'pod-identity').map((c) => c.issuer))]
    .filter((i) => !facts.clusters.some((c) => c.issuer === i && mechanismOf(c, decisions.mechanism) !== 'pod-identity'))
    .filter((i) => isManaged(aws.oidcProviders[i]?.tags));
  if (!issuers.length) return;
  const trusters: Record<string, string[]> = {};
  try {
    await Promise.all(issuers.map(async (i) => { trusters[i] = await sessions.aws.rolesTrusting(aws.oidcProviders[i]!.arn); }));
  } catch {
    return;
  }
  aws.oidcProviderTrusters = trusters;
}

/**
 * What an earlier run set for these clusters, read back from the role (its tags, policies and
 * trust) and the wiring, as the defaults of this run. Nothing when the role is not one rhacs-sts manages.
 */
export async function readInPlace(facts: Facts, roleName: string, sessions: Sessions): Promise<InPlace> {
  const state = await sessions.aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers: [], roleName });
  const role = state.role;
  if (!role || !isManaged(role.tags)) return {};
  let associations: AssociationState[] = [];
  const queries = facts.clusters
    .filter((c) => c.provider === 'eks' && c.name && role.tags[servesTag(c.name)] === POD_IDENTITY_PRINCIPAL)
    .map((c) => ({ clusterName: c.name!, region: c.region ?? facts.region, namespace: c.namespace, serviceAccounts: [...c.components] as string[] }));
  if (queries.length && sessions.aws.readAssociations) {
    associations = await sessions.aws.readAssociations(queries).catch(() => []);
  }
  return settingsInPlace(facts, role, associations);
}

/** IAM's default quota of OIDC providers per account, and when to warn about it. */
export const DEFAULT_OIDC_PROVIDER_QUOTA = 100;
const OIDC_PROVIDER_WARN_AT = 90;

/**
 * EKS Pod Identity names no role in the cluster: the role our associations of the components'
 * service accounts name (read where the pods get container credentials), when they name one.
 */
async function associatedRoleArn(facts: Facts, aws: AwsSession): Promise<string | undefined> {
  const queries = facts.clusters
    .filter((c) => c.provider === 'eks' && c.name && Object.values(c.current ?? {}).some((st) => st?.pods?.some((p) => p.containerCredentials)))
    .map((c) => ({ clusterName: c.name!, region: c.region ?? facts.region, namespace: c.namespace, serviceAccounts: [...c.components] as string[] }));
  if (!queries.length || !aws.readAssociations) return undefined;
  const found = await aws.readAssociations(queries).catch(() => []);
  const arns = new Set(found.filter((a) => isManaged(a.tags)).map((a) => a.roleArn));
  return arns.size === 1 ? [...arns][0] : undefined;
}

/**
 * The role the clusters' wiring already names, when rhacs-sts created it (or adopted it): without
 * --role-name, init and plan continue with that role instead of proposing a new one. A role of
 * the default name needs no look-up (it is read anyway).
 */
export async function ownRoleFromWiring(options: Options, facts: Facts, aws: AwsSession): Promise<{ name: string; path: string; arn: string } | undefined> {
  if (options.roleName) return undefined;
  const arn = pointedRoleArn(facts.clusters) ?? await associatedRoleArn(facts, aws);
  const r = roleInAccount(arn, facts.accountId);
  if (!arn || !r || r.name === defaultRoleName(options.clusterName ?? facts.clusterName)) return undefined;
  const state = await aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers: [], roleName: r.name });
  return state.role && isManaged(state.role.tags) ? { ...r, arn } : undefined;
}

/**
 * The secured clusters (--sensor-context) that an earlier --role-per-cluster run gave a role of
 * their own, read back from their wiring (and, on EKS Pod Identity, our associations): without
 * --role-per-cluster, a re-run keeps them on their own roles. Nothing when the flag is given (it
 * says so already), or with --replace-role-wiring (which points the wiring at the run's role).
 */
export async function ownRoleClusters(options: Options, facts: Facts, aws: AwsSession): Promise<string[]> {
  if (!options.sensorContexts.length || options.replaceRoleWiring) return [];
  const secured = facts.clusters.filter((c) => c.context !== undefined && options.sensorContexts.includes(c.context));
  const queries = secured
    .filter((c) => c.provider === 'eks' && c.name && c.current?.sensor?.pods?.some((p) => p.containerCredentials))
    .map((c) => ({ clusterName: c.name!, region: c.region ?? facts.region, namespace: c.namespace, serviceAccounts: ['sensor'] }));
  const associations = queries.length && aws.readAssociations ? await aws.readAssociations(queries).catch(() => []) : [];
  return ownRoleClustersInPlace(facts, options.sensorContexts, options.roleName, (c) => defaultRoleName(c.name), associations);
}
