/**
 * Discovery: read-only facts from AWS (who am I, which partition) and from each cluster (provider,
 * issuer, region, RHACS install), then the current AWS state for the planned names. Independent
 * reads run concurrently. The SDK-backed sessions are imported lazily.
 *
 * Two phases, because the names the AWS state is read for (the role) may come from a prompt that
 * needs the cluster facts for its default: `detect` (clusters and caller), then `readAwsState`
 * (the AWS cloud's state reading, ./clouds/aws/state.ts).
 * `discover` runs both with the decisions from flags alone.
 */
import { decisionsFromOptions } from './decide.js';
import { handOverCloud, InputError, isInputError, OperationError, type InputProblem } from './errors.js';
import { OPENSHIFT_PUBLIC_ISSUER_HINT } from './messages.js';
import type { ClusterDiscovery, DiscoverInput, KubeSession } from './kube/session.js';
import type { Options } from './options/options.js';
import { clusterTargets, type ClusterTarget } from './targets.js';
import type { ClusterFacts, Component, Facts } from './plan/model.js';
import type { Ui } from './ui/ui.js';
import { issuerUrl, privateIssuerHost } from './validate.js';
import { readAwsState } from './clouds/aws/state.js';

import type { Discovered, Sessions } from './sessions.js';

export type { Discovered, Sessions } from './sessions.js';
/** The AWS state and what an earlier run left, under the names the pipeline knows (read in ../clouds/aws/state.ts). */
export { DEFAULT_OIDC_PROVIDER_QUOTA, ownRoleClusters, ownRoleFromWiring, readAwsState, readInPlace } from './clouds/aws/state.js';

/** A secured cluster's failure that leaves the others to go on (not a mistake in the flags). */
function isolatable(t: ClusterTarget, err: unknown): boolean {
  return t.role === 'sensor' && !isInputError(err);
}

export async function openSessions(options: Options, ui: Ui): Promise<Sessions> {
  // An unknown --profile is refused before anything is contacted.
  const { checkProfile } = await import('./clouds/aws/profile.js');
  checkProfile(options.profile ?? options.environment?.aws.profile, options.profile !== undefined, options.environment?.aws);
  // The clusters first: opening a session runs the kubeconfig's credential plugin (on EKS
  // `aws eks get-token`, a process of its own) and a first request; the AWS SDK loads meanwhile.
  const opening = openKubeSessions(options, ui);
  opening.catch(() => undefined); // reported below, once awaited
  const { createAwsSession } = await import('./clouds/aws/client.js');
  const aws = createAwsSession({ profile: options.profile, ...(options.environment ? { environment: options.environment.aws } : {}), region: options.region, log: ui.debug, warn: ui.warn, timeoutMs: options.requestTimeoutMs });
  const { kube, unreachable } = await opening;
  return { aws, kube, unreachable };
}

/** The cluster sessions of every cluster the options name; a secured cluster that cannot be reached is left out (said). */
export async function openKubeSessions(options: Options, ui: Ui): Promise<Pick<Sessions, 'kube'> & { unreachable: { context: string; message: string }[] }> {
  const { openKubeSession } = await import('./kube/client.js');
  const targets = clusterTargets(options);
  const settled = await Promise.allSettled(targets.map(async (t) =>
    [t.key, await openKubeSession({ kubeconfig: options.kubeconfig, context: t.context, flag: t.flag, ...(options.environment ? { environment: options.environment.kube } : {}) }, ui.debug, { readOnly: options.dryRun, allowInsecureSkipTlsVerify: options.allowInsecureSkipTlsVerify, warn: ui.warn })] as const));
  const kube = new Map<string, KubeSession>();
  const unreachable: { context: string; message: string }[] = [];
  settled.forEach((r, i) => {
    const t = targets[i]!;
    if (r.status === 'fulfilled') kube.set(r.value[0], r.value[1]);
    else if (isolatable(t, r.reason) && targets.length > 1) unreachable.push({ context: t.key, message: (r.reason as Error)?.message ?? String(r.reason) });
    else throw r.reason;
  });
  for (const u of unreachable) ui.warn(`Secured cluster ${u.context} is left out of this run: ${u.message}`);
  return { kube, unreachable };
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
  /** Called as each cluster is read (for a progress line per cluster). */
  onCluster?: (context: string, done: number, total: number, error?: unknown) => void;
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
      namespace: options.namespace, provider: options.provider, oidcIssuer: options.oidcIssuer, region: options.region, ...(options.cloud ? { cloud: options.cloud } : {}),
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

  let read = 0;
  const discovered = Promise.allSettled(targets.map(async (t) => {
    try {
      const r = await discoverOne(t);
      opts.onCluster?.(r.kubeContext, ++read, targets.length);
      return r;
    } catch (err) {
      opts.onCluster?.(t.key || 'current context', ++read, targets.length, err);
      throw err;
    }
  }));
  // Without a configured region, STS uses the one the cluster names: at once when its kubeconfig
  // entry does (an EKS context), else once discovery is done.
  const named = targets.map((t) => sessions.kube.get(t.key)?.regionHint).find(Boolean);
  const regionHint = async () =>
    options.region ?? named ?? (await discovered).flatMap((r) => (r.status === 'fulfilled' ? [r.value.d.region] : [])).find(Boolean);
  // When STS has no region because the cluster could not be read (or it is another cloud's), the cluster's error is the one to report.
  const [identity, settled] = await Promise.all([
    sessions.aws.identity(regionHint).catch(async (err: unknown) => {
      const rejected = (await discovered).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const failed = rejected.find((r) => handOverCloud(r.reason)) ?? rejected[0];
      throw failed && (handOverCloud(failed.reason) || (isInputError(err) && err.problems.some((p) => p.source === '--region'))) ? failed.reason : err;
    }),
    discovered,
  ]);
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

  const issuerWarnings = checkIssuers(options, found.map((f) => ({ context: f.kubeContext, provider: f.d.facts.provider, issuer: f.d.facts.issuer, tokenIssuer: f.d.tokenIssuer })));

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
    // --cluster-name names Central's cluster (or the only one); Sensor clusters keep their detected names.
    const name = (t.role !== 'sensor' && options.clusterName) || d.facts.name;
    return { target: t, kubeContext, facts: { ...d.facts, components, context: t.context, ...(name ? { name } : {}) } };
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
  return { facts, clusters, warnings: [...found.flatMap((f) => f.d.warnings), ...issuerWarnings] };
}

/**
 * Issuers AWS can use. A detected issuer that AWS can never reach (an in-cluster or private name)
 * stops the run: the cluster must get a public issuer first. --oidc-issuer must be the issuer the
 * cluster's tokens carry: AWS matches their `iss` against the OIDC provider, so trusting any other
 * issuer creates a provider and a role that no token of this cluster can use.
 */
export function checkIssuers(
  options: Pick<Options, 'oidcIssuer'> & Partial<Pick<Options, 'command'>>,
  clusters: { context: string; provider: ClusterFacts['provider']; issuer: string; tokenIssuer?: ClusterDiscovery['tokenIssuer'] }[],
): string[] {
  const warnings: string[] = [];
  const problems: InputProblem[] = [];
  let openshiftHint = false;
  for (const c of clusters) {
    const t = c.tokenIssuer;
    if (!options.oidcIssuer || !t) {
      // nothing to hold against
    } else if ('error' in t) {
      warnings.push(`Could not read which issuer the tokens of context "${c.context}" carry (${t.error}); --oidc-issuer ${options.oidcIssuer} is used as given: it must be the cluster's service-account issuer.`);
    } else if (t.issuer !== c.issuer && options.command === 'uninstall') {
      // Uninstall removes trust, it never adds any: a mismatch is said, not refused.
      warnings.push(`--oidc-issuer ${options.oidcIssuer} is not the issuer the tokens of context "${c.context}" carry (${t.issuer}); removing what rhacs-sts set up for ${options.oidcIssuer}.`);
    } else if (t.issuer !== c.issuer) {
      const unreachable = URL.canParse(t.issuer) ? privateIssuerHost(new URL(t.issuer).hostname) : undefined;
      openshiftHint ||= c.provider === 'openshift' || unreachable !== undefined;
      problems.push({
        source: '--oidc-issuer',
        message: `is ${options.oidcIssuer}, but the tokens of context "${c.context}" carry the issuer ${t.issuer} (${t.source}): AWS matches a token's iss against the OIDC provider, so it would reject every token of this cluster${unreachable ? `, and it can never reach ${t.issuer} itself` : ''}`,
      });
    }
    if (!options.oidcIssuer && options.command !== 'uninstall') {
      const bad = issuerUrl(c.issuer);
      if (bad) {
        throw new OperationError(`The service-account issuer of context "${c.context}" is ${c.issuer}, which AWS cannot use: ${bad}.`, {
          hint: c.provider === 'openshift'
            ? OPENSHIFT_PUBLIC_ISSUER_HINT
            : 'Serve the cluster\'s service-account issuer from a public https:// URL (the API server\'s --service-account-issuer, with its discovery document and keys published there), then re-run.',
        });
      }
    }
  }
  if (problems.length) {
    throw new InputError(problems, openshiftHint
      ? `Drop --oidc-issuer, or make the cluster issue its tokens as that issuer. ${OPENSHIFT_PUBLIC_ISSUER_HINT}`
      : 'Drop --oidc-issuer (the issuer is read from the cluster), or pass the issuer the cluster\'s tokens carry.');
  }
  return warnings;
}

/**
 * With Central and Sensor in different clusters, a secured cluster contributes its Sensor, and
 * Central's cluster its Central and, when Sensor runs there too, that Sensor: it is a secured
 * cluster as well, and naming secured clusters means delegated scanning, where every Sensor pulls.
 */
export function onlyRole(components: Component[], t: ClusterTarget, kubeContext: string, namespace: string): Component[] {
  if (t.role === 'both') return components;
  if (!components.includes(t.role)) {
    throw new InputError([{
      source: t.flag,
      message: `names context "${kubeContext}", where ${t.role === 'central' ? 'Central' : 'Sensor'} does not run in namespace ${namespace} (found: ${components.join(', ') || 'nothing'})`,
    }], 'Check which context runs Central and which runs Sensor: kubectl --context <ctx> get deployments -A -l "app in (central,sensor)"');
  }
  return t.role === 'central' ? components.filter((c) => c === 'central' || c === 'sensor') : [t.role];
}

/** Detection, decisions from the options alone (no prompts), and the AWS state (for verify and uninstall). */
export async function discover(options: Options, sessions: Sessions, ui: Ui): Promise<Discovered> {
  const detected = await detect(options, sessions, ui);
  const decisions = decisionsFromOptions(options, detected.facts);
  const { aws, warnings } = await readAwsState(detected.facts, decisions, sessions);
  return { facts: detected.facts, decisions, aws, warnings: [...detected.warnings, ...warnings] };
}
