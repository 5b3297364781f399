/**
 * Discovery: read-only facts from AWS (who am I, which partition) and from each cluster (provider,
 * issuer, region, RHACS install), then the current AWS state for the planned names. Independent
 * reads run concurrently. The SDK-backed sessions are imported lazily.
 *
 * Two phases, because the names the AWS state is read for (the role) may come from a prompt that
 * needs the cluster facts for its default: `detect` (clusters and caller), then `readAwsState`.
 * `discover` runs both with the decisions from flags alone.
 */
import type { AwsSession } from './aws/session.js';
import { issuerThumbprint } from './aws/thumbprint.js';
import { decisionsFromOptions, defaultRoleName } from './decide.js';
import { InputError, isInputError, type InputProblem } from './errors.js';
import type { DiscoverInput, KubeSession } from './kube/session.js';
import type { Options } from './options.js';
import type { AwsState, ClusterFacts, Component, Decisions, Facts } from './plan/model.js';
import type { Ui } from './ui/ui.js';
import { isManaged } from './plan/build.js';
import { pointedRoleArn, roleInAccount } from './verify/pointers.js';

export interface Sessions {
  aws: AwsSession;
  /** By context name; '' for the current context. */
  kube: Map<string, KubeSession>;
  /**
   * Secured clusters (--sensor-context) that could not be reached or read: left out of this run,
   * so that one cluster down does not stop the others. The run then ends with exit code 1.
   */
  unreachable?: { context: string; message: string }[];
}

/** A secured cluster's failure that leaves the others to go on (not a mistake in the flags). */
function isolatable(t: ClusterTarget, err: unknown): boolean {
  return t.role === 'sensor' && !isInputError(err);
}

/** Which RHACS components a cluster contributes: both, or only one when Central and Sensor run apart. */
export type ClusterRole = 'both' | 'central' | 'sensor';

export interface ClusterTarget {
  /** Key in Sessions.kube. */
  key: string;
  /** Context as given (undefined: the kubeconfig's current context). */
  context?: string;
  role: ClusterRole;
  /** The flag that names this cluster, for messages. */
  flag: '--context' | '--central-context' | '--sensor-context';
}

/**
 * The clusters the options name: one (--context or the current context), or Central's (from
 * --central-context, else the current context) and each secured cluster's Sensor.
 */
export function clusterTargets(options: Pick<Options, 'context' | 'centralContext' | 'sensorContexts'>): ClusterTarget[] {
  if (options.sensorContexts.length) {
    return [
      { key: options.centralContext ?? '', context: options.centralContext, role: 'central', flag: '--central-context' },
      ...options.sensorContexts.map((c) => ({ key: c, context: c, role: 'sensor' as const, flag: '--sensor-context' as const })),
    ];
  }
  if (options.centralContext) return [{ key: options.centralContext, context: options.centralContext, role: 'both', flag: '--central-context' }];
  return [{ key: options.context ?? '', context: options.context, role: 'both', flag: '--context' }];
}

export async function openSessions(options: Options, ui: Ui): Promise<Sessions> {
  // The clusters first: opening a session runs the kubeconfig's credential plugin (on EKS
  // `aws eks get-token`, a process of its own) and a first request; the AWS SDK loads meanwhile.
  const { openKubeSession } = await import('./kube/client.js');
  const targets = clusterTargets(options);
  const opening = Promise.allSettled(targets.map(async (t) =>
    [t.key, await openKubeSession({ kubeconfig: options.kubeconfig, context: t.context }, ui.debug, { readOnly: options.dryRun })] as const));
  const { createAwsSession } = await import('./aws/client.js');
  const aws = createAwsSession({ profile: options.profile, region: options.region, log: ui.debug });
  const settled = await opening;
  const kube = new Map<string, KubeSession>();
  const unreachable: { context: string; message: string }[] = [];
  settled.forEach((r, i) => {
    const t = targets[i]!;
    if (r.status === 'fulfilled') kube.set(r.value[0], r.value[1]);
    else if (isolatable(t, r.reason) && targets.length > 1) unreachable.push({ context: t.key, message: (r.reason as Error)?.message ?? String(r.reason) });
    else throw r.reason;
  });
  for (const u of unreachable) ui.warn(`Secured cluster ${u.context} is left out of this run: ${u.message}`);
  return { aws, kube, unreachable };
}

/**
 * Asked when detection cannot decide alone (the provider, the namespace, the region). Returns what
 * to retry with, or undefined to give up with the original error. Only set at a terminal.
 */
export type DetectionResolver = (problem: InputProblem, target: ClusterTarget | undefined) => Promise<Partial<DiscoverInput> | undefined>;

export interface DetectOptions {
  /** Per cluster (by key): inputs that beat the options (e.g. a saved plan's namespaces). */
  perCluster?: Record<string, Partial<DiscoverInput>>;
  resolve?: DetectionResolver;
}

export interface DetectedCluster {
  target: ClusterTarget;
  /** The context name the kubeconfig resolved to. */
  kubeContext: string;
  facts: ClusterFacts;
}

export interface Detected {
  facts: Facts;
  clusters: DetectedCluster[];
  warnings: string[];
}

/** Questions detection may ask; more than this many rounds means the answers do not help. */
const MAX_RESOLVE_ROUNDS = 3;
const RESOLVABLE = new Set(['--provider', '--namespace', '--region']);

export async function detect(options: Options, sessions: Sessions, ui: Ui, opts: DetectOptions = {}): Promise<Detected> {
  const known = clusterTargets(options).filter((t) => sessions.kube.has(t.key));
  // Sessions opened some other way: one cluster per session, contributing what runs there.
  const targets: ClusterTarget[] = known.length === sessions.kube.size
    ? known
    : [...sessions.kube.keys()].map((key) => ({ key, context: key || undefined, role: 'both' as const, flag: '--context' as const }));

  // Prompts (if any) one at a time, even though clusters are read concurrently.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const discoverOne = async (t: ClusterTarget) => {
    const session = sessions.kube.get(t.key)!;
    let input: DiscoverInput = {
      namespace: options.namespace, provider: options.provider, oidcIssuer: options.oidcIssuer, region: options.region,
      ...opts.perCluster?.[t.key],
    };
    for (let round = 0; ; round++) {
      try {
        return { t, kubeContext: session.contextName, d: await session.discover(input) };
      } catch (err) {
        const problem = isInputError(err) && err.problems.length === 1 ? err.problems[0]! : undefined;
        const key = problem?.source.replace(/^--/, '') as keyof DiscoverInput | undefined;
        const given = key !== undefined && input[key] !== undefined;
        if (!opts.resolve || !problem || !RESOLVABLE.has(problem.source) || given || round >= MAX_RESOLVE_ROUNDS) throw err;
        const more = await serially(() => opts.resolve!(problem, t));
        if (!more) throw err;
        input = { ...input, ...more };
      }
    }
  };

  const discovered = Promise.allSettled(targets.map(discoverOne));
  // Without a configured region, STS uses the one the cluster names: at once when its kubeconfig
  // entry does (an EKS context), else once discovery is done.
  const named = targets.map((t) => sessions.kube.get(t.key)?.regionHint).find(Boolean);
  const regionHint = async () =>
    options.region ?? named ?? (await discovered).flatMap((r) => (r.status === 'fulfilled' ? [r.value.d.region] : [])).find(Boolean);
  const [identity, settled] = await Promise.all([sessions.aws.identity(regionHint), discovered]);
  const found: Awaited<ReturnType<typeof discoverOne>>[] = [];
  settled.forEach((r, i) => {
    const t = targets[i]!;
    if (r.status === 'fulfilled') found.push(r.value);
    else if (isolatable(t, r.reason) && targets.length > 1) {
      const message = (r.reason as Error)?.message ?? String(r.reason);
      (sessions.unreachable ??= []).push({ context: t.key, message });
      sessions.kube.delete(t.key);
      ui.warn(`Secured cluster ${t.key} is left out of this run: ${message}`);
    } else throw r.reason;
  });
  ui.debug(`caller ${identity.arn} (account ${identity.accountId}, partition ${identity.partition})`);

  if (options.accountId && options.accountId !== identity.accountId) {
    throw new InputError([{
      source: '--account-id',
      message: `is ${options.accountId}, but your AWS credentials are for account ${identity.accountId}; the role and OIDC provider are created in the credentials' account`,
    }], 'Use --profile (or AWS_PROFILE) for a principal in the intended account, or drop --account-id.');
  }

  // Central defaults to the current context: it must not be one of the Sensor clusters too.
  const byContext = new Map<string, ClusterTarget>();
  for (const f of found) {
    const other = byContext.get(f.kubeContext);
    if (other) {
      throw new InputError([{
        source: f.t.flag,
        message: `names context "${f.kubeContext}", which ${other.context === undefined ? 'is the current context, where Central is looked for' : `${other.flag} names too`}`,
      }], 'Name Central\'s cluster with --central-context, and each secured cluster once with --sensor-context.');
    }
    byContext.set(f.kubeContext, f.t);
  }

  const clusters: DetectedCluster[] = found.map(({ t, kubeContext, d }) => {
    const components = onlyRole(d.facts.components, t, kubeContext, d.facts.namespace);
    return { target: t, kubeContext, facts: { ...d.facts, components, context: t.context } };
  });

  let region = options.region ?? found.map((f) => f.d.region).find(Boolean);
  if (!region) {
    const problem: InputProblem = { source: '--region', message: 'could not be detected from the cluster; say which AWS region the cluster runs in' };
    region = opts.resolve ? (await opts.resolve(problem, undefined))?.region : undefined;
    if (!region) throw new InputError([problem]);
  }
  const central = found.find((f) => f.t.role !== 'sensor') ?? found[0];
  const facts: Facts = {
    partition: identity.partition,
    accountId: identity.accountId,
    region,
    clusterName: options.clusterName ?? central?.d.clusterName ?? found.map((f) => f.d.clusterName).find(Boolean),
    offline: false,
    clusters: clusters.map((c) => c.facts),
  };
  return { facts, clusters, warnings: found.flatMap((f) => f.d.warnings) };
}

/** With Central and Sensor in different clusters, each cluster contributes only its component. */
function onlyRole(components: Component[], t: ClusterTarget, kubeContext: string, namespace: string): Component[] {
  if (t.role === 'both') return components;
  if (!components.includes(t.role)) {
    throw new InputError([{
      source: t.flag,
      message: `names context "${kubeContext}", where ${t.role === 'central' ? 'Central' : 'Sensor'} does not run in namespace ${namespace} (found: ${components.join(', ') || 'nothing'})`,
    }], 'Check which context runs Central and which runs Sensor: kubectl --context <ctx> get deployments -A -l "app in (central,sensor)"');
  }
  return [t.role];
}

/**
 * The current AWS state for the planned names, and (unless `thumbprints` is false: verify and
 * uninstall never create a provider) TLS thumbprints for OIDC providers about to be created.
 */
export async function readAwsState(facts: Facts, decisions: Decisions, sessions: Sessions, thumbprints = true): Promise<{ aws: AwsState; warnings: string[] }> {
  const issuers = [...new Set(facts.clusters.map((c) => c.issuer))];
  const aws = await sessions.aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers, roleName: decisions.roleName });
  const warnings: string[] = [];
  // Thumbprints only matter for a provider we are about to create.
  const missing = thumbprints ? issuers.filter((i) => !aws.oidcProviders[i]) : [];
  await Promise.all(missing.map(async (issuer) => {
    const r = await issuerThumbprint(issuer, { timeoutMs: 4000 });
    if ('thumbprint' in r) decisions.thumbprints[issuer] = [r.thumbprint];
    else warnings.push(`Could not compute the TLS thumbprint of ${issuer} (${r.error}); creating the OIDC provider without one (IAM trusts issuers with public CA certificates without it).`);
  }));
  return { aws, warnings };
}

export interface Discovered {
  facts: Facts;
  decisions: Decisions;
  aws: AwsState;
  warnings: string[];
}

/** Detection, decisions from the options alone (no prompts), and the AWS state (for verify and uninstall). */
export async function discover(options: Options, sessions: Sessions, ui: Ui): Promise<Discovered> {
  const detected = await detect(options, sessions, ui);
  const decisions = decisionsFromOptions(options, detected.facts);
  const { aws, warnings } = await readAwsState(detected.facts, decisions, sessions, false);
  return { facts: detected.facts, decisions, aws, warnings: [...detected.warnings, ...warnings] };
}

/**
 * The role the clusters' wiring already names, when rhacs-sts created it (or adopted it): without
 * --role-name, init and plan continue with that role instead of proposing a new one. A role of
 * the default name needs no look-up (it is read anyway).
 */
export async function ownRoleFromWiring(options: Options, facts: Facts, aws: AwsSession): Promise<{ name: string; path: string; arn: string } | undefined> {
  if (options.roleName) return undefined;
  const arn = pointedRoleArn(facts.clusters);
  const r = roleInAccount(arn, facts.accountId);
  if (!arn || !r || r.name === defaultRoleName(options.clusterName ?? facts.clusterName)) return undefined;
  const state = await aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers: [], roleName: r.name });
  return state.role && isManaged(state.role.tags) ? { ...r, arn } : undefined;
}
