/**
 * Executes a plan: each action in order, each idempotent (the sessions re-check before they
 * write), with a line of progress per action. A failure midway says what was done and that
 * re-running resumes, because every action converges from whatever state it finds.
 */
import { isAwsAction, type AwsSession } from '../aws/session.js';
import { OperationError, RhacsStsError } from '../errors.js';
import { isKubeAction, type KubeSession } from '../kube/session.js';
import type { Action, Plan } from '../plan/model.js';

export type TaskState = 'pending' | 'running' | 'done' | 'unchanged' | 'failed' | 'skipped';

export interface ApplyProgress {
  task(action: Action, state: TaskState, detail?: string): void;
  rollout(namespace: string, name: string, message: string): void;
}

export interface ApplyDeps {
  aws?: AwsSession;
  /** Kubernetes sessions by context name ('' for the current context). */
  kube: Map<string, KubeSession>;
  progress: ApplyProgress;
  timeoutMs: number;
}

export interface ApplyResult {
  id: string;
  type: Action['type'];
  target: string;
  outcome: 'done' | 'unchanged' | 'skipped';
}

export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  const pending = plan.actions.filter((a) => a.status !== 'unchanged');
  for (const a of plan.actions) deps.progress.task(a, a.status === 'unchanged' ? 'unchanged' : 'pending');

  const kubeFor = (a: Action): KubeSession => {
    const ctx = 'ref' in a ? a.ref.context ?? '' : '';
    const s = deps.kube.get(ctx) ?? (deps.kube.size === 1 ? [...deps.kube.values()][0] : undefined);
    if (!s) throw new OperationError(`No Kubernetes connection for context "${ctx}".`);
    return s;
  };

  const toWait: { session: KubeSession; namespace: string; name: string }[] = [];
  for (const a of plan.actions) {
    if (a.status === 'unchanged') {
      results.push({ id: a.id, type: a.type, target: a.target, outcome: 'unchanged' });
      continue;
    }
    deps.progress.task(a, 'running');
    try {
      let wrote: boolean;
      if (isAwsAction(a)) {
        if (!deps.aws) throw new OperationError('No AWS session.');
        wrote = await deps.aws.apply(a, plan);
      } else if (isKubeAction(a)) {
        const session = kubeFor(a);
        if (a.type === 'restart' && a.deferred) {
          deps.progress.task(a, 'skipped', 'deferred (--no-restart)');
          results.push({ id: a.id, type: a.type, target: a.target, outcome: 'skipped' });
          continue;
        }
        wrote = await session.apply(a);
        if (a.type === 'restart') toWait.push({ session, namespace: a.ref.namespace, name: a.ref.name });
      } else {
        throw new OperationError(`Unknown action type ${(a as Action).type}.`);
      }
      deps.progress.task(a, wrote ? 'done' : 'unchanged', wrote ? undefined : 'already in place');
      results.push({ id: a.id, type: a.type, target: a.target, outcome: wrote ? 'done' : 'unchanged' });
    } catch (err) {
      deps.progress.task(a, 'failed', err instanceof Error ? err.message : String(err));
      for (const rest of pending.slice(pending.indexOf(a) + 1)) deps.progress.task(rest, 'skipped', 'not started');
      throw resumable(err, results, plan.command);
    }
  }

  // Wait for every restarted deployment, per cluster, with one watch each.
  const bySession = new Map<KubeSession, { namespace: string; name: string }[]>();
  for (const w of toWait) bySession.set(w.session, [...(bySession.get(w.session) ?? []), { namespace: w.namespace, name: w.name }]);
  try {
    await Promise.all([...bySession].map(([session, refs]) =>
      session.waitForRollouts(refs, deps.timeoutMs, (p) => deps.progress.rollout(p.namespace, p.name, p.message))));
  } catch (err) {
    throw resumable(err, results, plan.command, 'The AWS and Kubernetes changes are in place; the rollout did not finish.');
  }
  return results;
}

function resumable(err: unknown, results: ApplyResult[], command: Plan['command'], lead?: string): RhacsStsError {
  const done = results.filter((r) => r.outcome === 'done').map((r) => `  ✓ ${r.target} (${r.type})`);
  const base = err instanceof RhacsStsError ? err : new OperationError(err instanceof Error ? err.message : String(err), { cause: err });
  const what = done.length ? `\nDone before the failure:\n${done.join('\n')}` : '\nNothing was changed before the failure.';
  return new OperationError(`${lead ? `${lead} ` : ''}${base.message}${what}`, {
    exitCode: base.exitCode === 0 ? 1 : base.exitCode,
    hint: `${base.hint ? `${base.hint} ` : ''}Re-running "rhacs-sts ${command}" resumes: every step checks what is already in place.`,
    cause: base.cause ?? err,
  });
}
