/**
 * Opening a run: the sessions (every cluster the options name, and AWS), then what is there. init
 * detects under a spinner, asking at a terminal what detection cannot decide; uninstall and status
 * share one opening (discover, warnings, and the role the wiring points at when none is named);
 * issuer publish opens the one cluster.
 */
import { readAwsState, detect, discover, openSessions, type Detected, type Discovered, type Sessions } from '../discover.js';
import { askDetection, defaultRoleName } from '../decide.js';
import type { KubeSession } from '../kube/session.js';
import type { Options } from '../options/options.js';
import type { Ui } from '../ui/ui.js';
import { pointedRoleArn, roleInAccount } from '../verify/pointers.js';

/** Opens the sessions and detects the clusters under a spinner (init and plan). */
export async function readClusters(options: Options, ui: Ui): Promise<{ sessions: Sessions; detected: Detected }> {
  return ui.spinner('Reading the cluster and the AWS account…', async (setText) => {
    const sessions = await openSessions(options, ui);
    // Several clusters are read concurrently: the progress names each as it is read.
    const onCluster = sessions.kube.size > 1
      ? (context: string, done: number, total: number, error?: unknown) => {
        setText(`Reading the clusters and the AWS account… ${done} of ${total} read`);
        // Without a terminal there is no spinner to update: a line per cluster instead.
        if (!ui.interactive) ui.step(`cluster ${context}: ${error ? 'could not be read' : 'read'} (${done} of ${total})`);
      }
      : undefined;
    const detected = await detect(options, sessions, ui, { ...(ui.interactive ? { resolve: (problem, target) => askDetection(problem, target, ui) } : {}), ...(onCluster ? { onCluster } : {}) });
    return { sessions, detected };
  });
}

/**
 * The opening of verify, uninstall and status: the sessions, discovery and its warnings; for
 * uninstall and status also the role the wiring points at when none is named (`inferRole`).
 */
export async function openAndDiscover(options: Options, ui: Ui, how: { inferRole?: boolean; warnings?: boolean } = {}): Promise<{ sessions: Sessions; found: Discovered }> {
  ui.step('Reading the cluster and the AWS account…');
  const sessions = await openSessions(options, ui);
  const found = await discover(options, sessions, ui);
  if (how.warnings ?? true) for (const w of found.warnings) ui.warn(w);
  if (how.inferRole ?? true) await inferRole(options, sessions.aws, found, ui);
  return { sessions, found };
}

/**
 * Without --role-name, and no role of the default name: the role the cluster's configuration
 * points at (only a role tagged as ours is ever deleted, so this cannot reach anyone else's).
 */
export async function inferRole(options: Pick<Options, 'roleName'>, aws: Sessions['aws'], found: Discovered, ui: Ui): Promise<void> {
  if (options.roleName || found.aws.role) return;
  const pointed = pointedRoleArn(found.facts.clusters);
  const r = roleInAccount(pointed, found.facts.accountId);
  if (!r || r.name === found.decisions.roleName) return;
  ui.info(`No role named ${found.decisions.roleName}; the cluster points at ${pointed}, so that is the role uninstall looks at (pass --role-name to choose).`);
  found.decisions.roleName = r.name;
  found.decisions.rolePath = r.path;
  found.aws = await aws.readState({
    accountId: found.facts.accountId, partition: found.facts.partition,
    issuers: [...new Set(found.facts.clusters.map((c) => c.issuer))], roleName: r.name,
  });
}

/** The one cluster (--context) and AWS, for issuer publish: the same opening as every command's. */
export async function openOneCluster(options: Options, ui: Ui): Promise<{ kube: KubeSession; aws: Sessions['aws'] }> {
  // The cluster of --context (or the current one), also when init offers publishing in a fleet run.
  const sessions = await openSessions({ ...options, centralContext: undefined, sensorContexts: [] }, ui);
  return { kube: [...sessions.kube.values()][0]!, aws: sessions.aws };
}

/**
 * A fleet with a role per secured cluster (`own`: their contexts): `look` at Central's cluster (and
 * the secured clusters on its role) with the run's role, then at each of the others with its own,
 * rhacs-sts-<cluster>. status and verify merge the parts into one report.
 */
export async function perOwnRole<T>(
  options: Options, sessions: Sessions, found: Discovered, own: readonly string[],
  look: (options: Options, found: Discovered) => Promise<T>,
): Promise<T[]> {
  const isOwn = (c: { context?: string }) => c.context !== undefined && own.includes(c.context);
  const shared: Discovered = { ...found, facts: { ...found.facts, clusters: found.facts.clusters.filter((c) => !isOwn(c)) }, decisions: { ...found.decisions } };
  const parts = [await look(options, shared)];
  for (const c of found.facts.clusters.filter(isOwn)) {
    const facts = { ...found.facts, clusters: [c] };
    const decisions = { ...found.decisions, roleName: defaultRoleName(c.name) };
    const { aws } = await readAwsState(facts, decisions, sessions);
    parts.push(await look({ ...options, roleName: decisions.roleName }, { ...found, facts, decisions, aws }));
  }
  return parts;
}
