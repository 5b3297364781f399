/**
 * Executes a plan: each action in order, each idempotent (the sessions re-check before they
 * write), with a line of progress per action. A failure midway says what was done and that
 * re-running resumes, because every action converges from whatever state it finds.
 */
import { isAwsAction, type AwsSession } from '../clouds/aws/session.js';
import { CancelledError, ExitCode, OperationError, RhacsStsError } from '../errors.js';
import { isKubeAction, type KubeAction, type KubeSession } from '../kube/session.js';
import type { AnyAction as Action, AnyPlan, Plan } from '../plan/model.js';

import type { ApplyProgress } from '../ui/progress.js';
import type { ApplyResult } from '../plan/apply-result.js';

export type { ApplyProgress, TaskState } from '../ui/progress.js';
export type { ApplyResult } from '../plan/apply-result.js';

export interface ApplyDeps {
  aws?: AwsSession;
  /**
   * The session of the plan's cloud, for a cloud other than AWS: its actions (neither Kubernetes's
   * nor Central's) go to its `apply`, in the plan's order.
   */
  cloud?: { apply(action: Action, plan: AnyPlan): Promise<boolean> };
  /** Kubernetes sessions by context name ('' for the current context). */
  kube: Map<string, KubeSession>;
  progress: ApplyProgress;
  timeoutMs: number;
  /** Aborted once the user asks to stop (Ctrl-C): the step in progress finishes, no new step starts, waiting stops. */
  signal?: AbortSignal;
  /** Applies Central's integration action (src/central/flow.ts), when the plan has one. */
  central?: (action: CentralAction) => Promise<boolean>;
}

/** A failed or interrupted apply: the error to report, and what was applied before it. */
export class ApplyError extends OperationError {
  constructor(message: string, readonly applied: ApplyResult[], options: { hint?: string; cause?: unknown; exitCode?: ExitCode }) {
    super(message, options);
  }
}

type CentralAction = Extract<Action, { type: 'central-integration' }>;


/**
 * How many clusters are changed at once: a Central cluster and several secured clusters side by side,
 * so that a fleet's writes and rollout waits overlap instead of waiting for a free slot.
 */
export const CLUSTER_CONCURRENCY = 8;

/**
 * Applies the plan: the account-wide AWS part, in order (a failure there stops the run), and each
 * cluster's Kubernetes part, clusters concurrently (a few at a time), each in order. init does
 * AWS first (the role must exist before a cluster names it); uninstall does the clusters first,
 * and AWS only when every cluster succeeded (nothing may still name the role when it goes).
 * A cluster that fails stops only itself: the others finish, and the error lists per cluster what
 * was done, so that a re-run finishes the rest.
 */
export async function applyPlan(plan: AnyPlan, deps: ApplyDeps): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const a of plan.actions) deps.progress.task(a, a.status === 'unchanged' ? 'unchanged' : 'pending');

  const central = plan.actions.filter((a): a is CentralAction => a.type === 'central-integration');
  const aws = plan.actions.filter((a) => !isKubeAction(a) && a.type !== 'central-integration');
  const kube = plan.actions.filter(isKubeAction);
  const pendingAws = aws.filter((a) => a.status !== 'unchanged');
  let roleCreated = false;
  const awsDone = new Set<string>();
  const applyAws = async (only?: (a: Action) => boolean): Promise<void> => {
    for (const a of aws) {
      if (awsDone.has(a.id) || (only && !only(a))) continue;
      awsDone.add(a.id);
      if (a.status === 'unchanged') {
        results.push({ id: a.id, type: a.type, target: a.target, outcome: 'unchanged' });
        continue;
      }
      if (deps.signal?.aborted) {
        const kubeNotStarted = plan.command === 'uninstall' ? [] : kube.filter((k) => k.status !== 'unchanged');
        for (const rest of [...pendingAws.slice(pendingAws.indexOf(a)), ...kubeNotStarted]) deps.progress.task(rest, 'skipped', 'interrupted');
        throw resumable(interruption(), results, plan.command);
      }
      deps.progress.task(a, 'running');
      try {
        const wrote = await applyCloud(a, plan, deps);
        if (a.type === 'role' && a.status === 'create' && wrote) roleCreated = true;
        // A new role is created with its trust policy: the planned trust change is done by then.
        const done = wrote || (a.type === 'trust-policy' && roleCreated);
        deps.progress.task(a, done ? 'done' : 'unchanged', done ? (wrote ? undefined : 'set when the role was created') : notWritten(a));
        results.push({ id: a.id, type: a.type, target: a.target, outcome: done ? 'done' : 'unchanged' });
      } catch (err) {
        deps.progress.task(a, 'failed', err instanceof Error ? err.message : String(err));
        const kubeNotStarted = plan.command === 'uninstall' ? [] : kube.filter((k) => k.status !== 'unchanged');
        for (const rest of [...pendingAws.slice(pendingAws.indexOf(a) + 1), ...kubeNotStarted]) {
          deps.progress.task(rest, 'skipped', 'not started');
        }
        throw resumable(err, results, plan.command);
      }
    }
  };
  // Central's integration: on init last (Central's pods need the role first), on uninstall first
  // (it must not outlive the role it uses).
  const applyCentral = async (): Promise<void> => {
    for (const a of central) {
      if (a.status === 'unchanged') {
        results.push({ id: a.id, type: a.type, target: a.target, outcome: 'unchanged' });
        continue;
      }
      deps.progress.task(a, 'running');
      try {
        if (!deps.central) throw new OperationError('No connection to Central.');
        await deps.central(a);
        deps.progress.task(a, 'done');
        results.push({ id: a.id, type: a.type, target: a.target, outcome: 'done' });
      } catch (err) {
        deps.progress.task(a, 'failed', err instanceof Error ? err.message : String(err));
        throw resumable(err, results, plan.command);
      }
    }
  };
  if (plan.command === 'uninstall') await applyCentral();

  // init: the account-wide AWS part first (the role must exist before a cluster names it);
  // uninstall: the clusters first (nothing may still name the role when it goes).
  if (plan.command !== 'uninstall') await applyAws();
  // Uninstall: the Pod Identity associations go before the restarts (EKS injects the credentials
  // env into every pod created while one exists); the rest of AWS after the clusters.
  if (plan.command === 'uninstall') await applyAws((a) => a.type === 'pod-identity-association');

  // Kubernetes, per cluster.
  const byContext = new Map<string, KubeAction[]>();
  for (const a of kube) {
    const ctx = a.ref.context ?? '';
    byContext.set(ctx, [...(byContext.get(ctx) ?? []), a]);
  }
  const kubeFor = (ctx: string): KubeSession => {
    const s = deps.kube.get(ctx) ?? (deps.kube.size === 1 ? [...deps.kube.values()][0] : undefined);
    if (!s) throw new OperationError(`No Kubernetes connection for context "${ctx}".`);
    return s;
  };
  const failures: { context: string; error: unknown; lead?: string }[] = [];
  const oneCluster = async (ctx: string, actions: KubeAction[]): Promise<void> => {
    const pending = actions.filter((a) => a.status !== 'unchanged');
    const toWait: { namespace: string; name: string }[] = [];
    // A restart is done when its rollout has completed, not when it was written: until then it runs.
    // Its result keeps its place in the plan's order and is settled when the wait ends.
    const restarting = new Map<string, { action: KubeAction; result: ApplyResult }>();
    let session: KubeSession | undefined;
    for (const a of actions) {
      if (a.status === 'unchanged') {
        results.push({ id: a.id, type: a.type, target: a.target, outcome: 'unchanged', context: ctx });
        continue;
      }
      if (deps.signal?.aborted) {
        for (const rest of pending.slice(pending.indexOf(a))) deps.progress.task(rest, 'skipped', 'interrupted');
        failures.push({ context: ctx, error: interruption() });
        return;
      }
      deps.progress.task(a, 'running');
      try {
        session ??= kubeFor(ctx);
        if (a.type === 'restart' && a.deferred) {
          deps.progress.task(a, 'skipped', 'deferred (--no-restart)');
          results.push({ id: a.id, type: a.type, target: a.target, outcome: 'skipped', context: ctx });
          continue;
        }
        const wrote = await session.apply(a);
        // A restart (or a rollout that the changes above start, which needs no write of its own)
        // is done when its rollout has completed: waited for below.
        if (a.type === 'restart') {
          toWait.push({ namespace: a.ref.namespace, name: a.ref.name });
          const result: ApplyResult = { id: a.id, type: a.type, target: a.target, outcome: 'skipped', context: ctx, error: 'the rollout was not waited for' };
          results.push(result);
          restarting.set(`${a.ref.namespace}/${a.ref.name}`, { action: a, result });
          continue;
        }
        const done = wrote;
        deps.progress.task(a, done ? 'done' : 'unchanged', done ? undefined : notWritten(a));
        results.push({ id: a.id, type: a.type, target: a.target, outcome: done ? 'done' : 'unchanged', context: ctx });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        deps.progress.task(a, 'failed', message);
        results.push({ id: a.id, type: a.type, target: a.target, outcome: 'failed', context: ctx, error: message });
        for (const rest of pending.slice(pending.indexOf(a) + 1)) deps.progress.task(rest, 'skipped', 'not started');
        failures.push({ context: ctx, error: err });
        return;
      }
    }
    if (toWait.length && session) {
      const finished = (key: string) => {
        const r = restarting.get(key);
        if (!r) return;
        restarting.delete(key);
        deps.progress.task(r.action, 'done');
        r.result.outcome = 'done';
        delete r.result.error;
      };
      try {
        await session.waitForRollouts(toWait, deps.timeoutMs, (p) => {
          deps.progress.rollout(p.namespace, p.name, p.message, ctx);
          if (p.done) finished(`${p.namespace}/${p.name}`);
        }, deps.signal);
        for (const key of [...restarting.keys()]) finished(key);
      } catch (err) {
        // Not done: the restart was made, its rollout has not completed (a re-run waits for it).
        const interrupted = err instanceof CancelledError;
        for (const { action, result } of restarting.values()) {
          const why = interrupted ? 'interrupted before the rollout finished' : 'the rollout did not finish';
          deps.progress.task(action, interrupted ? 'skipped' : 'failed', why);
          result.outcome = interrupted ? 'skipped' : 'failed';
          result.error = why;
        }
        failures.push({ context: ctx, error: err, lead: 'The AWS and Kubernetes changes are in place; the rollout did not finish.' });
      }
    }
  };
  await mapBounded([...byContext], CLUSTER_CONCURRENCY, ([ctx, actions]) => oneCluster(ctx, actions));

  // Interrupted: no further step anywhere; say what was done and that a re-run resumes.
  if (deps.signal?.aborted) {
    if (plan.command === 'uninstall' && failures.length === 0) for (const a of pendingAws) deps.progress.task(a, 'skipped', 'interrupted');
    // Interrupted while waiting for rollouts: say which have not finished, and why.
    const waits = failures.flatMap((f) => (f.lead && f.error instanceof CancelledError ? [f.error] : []));
    const stopped = waits.length === 0 ? interruption()
      : waits.length === 1 ? waits[0]!
      : new CancelledError(waits.map((w) => w.message).join('\n'), [...new Set(waits.map((w) => w.hint).filter(Boolean))].join(' '));
    throw resumable(stopped, results, plan.command);
  }
  if (plan.command === 'uninstall' && failures.length === 0) await applyAws();
  if (plan.command === 'uninstall' && failures.length) {
    for (const a of pendingAws) deps.progress.task(a, 'skipped', 'not started: a cluster still names the role');
  }
  if (failures.length === 1 && byContext.size === 1) {
    throw resumable(failures[0]!.error, results, plan.command, failures[0]!.lead);
  }
  if (failures.length) {
    const lines = failures.map((f) => `  ✗ ${f.context || 'current context'}: ${f.lead ? `${f.lead} ` : ''}${f.error instanceof Error ? f.error.message : String(f.error)}`);
    const ok = [...byContext.keys()].filter((c) => !failures.some((f) => f.context === c));
    const err = new OperationError(
      `${failures.length} of ${byContext.size} clusters failed:\n${lines.join('\n')}${ok.length ? `\nDone: ${ok.map((c) => c || 'current context').join(', ')}.` : ''}`,
    );
    throw resumable(err, results, plan.command);
  }
  if (plan.command !== 'uninstall') await applyCentral();
  return results;
}

/** One cloud action: to the plan's cloud's session (AWS's, for a plan of AWS). */
async function applyCloud(a: Action, plan: AnyPlan, deps: ApplyDeps): Promise<boolean> {
  if (deps.cloud) return deps.cloud.apply(a, plan);
  // Without another cloud's session, the plan is AWS's (the only one whose cloud is not named).
  const aws = a as Plan['actions'][number];
  if (!isAwsAction(aws)) throw new OperationError(`Unknown action type ${a.type}.`);
  if (!deps.aws) throw new OperationError('No AWS session.');
  return deps.aws.apply(aws, plan as Plan);
}

/**
 * Why a planned change wrote nothing: it was found done when re-read just before writing (another
 * run, a person, or an earlier action did it), or for a removal, nothing of ours was left.
 */
function notWritten(a: Action): string {
  return a.status === 'delete' ? 'nothing of ours left to remove' : 'already in place';
}

/**
 * Planned changes that wrote nothing because they were found done when applied (by another run
 * meanwhile): said, so that the applied count adds up to the planned one.
 */
export function alsoFound(plan: AnyPlan, applied: ApplyResult[]): string {
  const planned = new Set(plan.actions.filter((a) => a.status !== 'unchanged').map((a) => a.id));
  const found = applied.filter((r) => r.outcome === 'unchanged' && planned.has(r.id)).length;
  if (!found) return '';
  return `; ${found} ${found === 1 ? 'was' : 'were'} ${plan.command === 'uninstall' ? 'already removed' : 'already in place'}`;
}

/** Runs fn over items, at most `limit` at a time, waiting for all (fn handles its own errors). */
async function mapBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function interruption(): CancelledError {
  return new CancelledError('Interrupted: the step in progress was finished; no further step was started.');
}

function resumable(err: unknown, results: ApplyResult[], command: AnyPlan['command'], lead?: string): ApplyError {
  const done = results.filter((r) => r.outcome === 'done').map((r) => `  ✓ ${r.target} (${r.type})`);
  const base = err instanceof RhacsStsError ? err : new OperationError(err instanceof Error ? err.message : String(err), { cause: err });
  const interrupted = base.exitCode === ExitCode.Cancelled;
  const when = interrupted ? 'the interruption' : 'the failure';
  const what = done.length ? `\nDone before ${when}:\n${done.join('\n')}` : `\nNothing was changed before ${when}.`;
  // Something was contacted and failed: exit 1 (never "invalid input"), or 130 for an interrupt.
  return new ApplyError(`${lead ? `${lead} ` : ''}${base.message}${what}`, results, {
    exitCode: interrupted ? ExitCode.Cancelled : ExitCode.Failed,
    hint: `${base.hint ? `${base.hint} ` : ''}Re-running "rhacs-sts ${command}" resumes: every step checks what is already in place.`,
    cause: base.cause ?? err,
  });
}
