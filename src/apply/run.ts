/**
 * The part of init and uninstall after the confirmation, shared by both: the Helm values files
 * first (a path that cannot be written stops the run unchanged), then the plan under a task list,
 * with Ctrl-C finishing the step in progress. Every failure goes through the command's `fail`,
 * which writes the run's one JSON document before throwing.
 */
import type { AnyPlan as Plan } from '../plan/model.js';
import { OperationError } from '../errors.js';
import { createTaskList, spansClusters } from '../ui/tasks.js';
import type { Ui } from '../ui/ui.js';
import { ApplyError, applyPlan, type ApplyDeps, type ApplyResult } from './apply.js';
import { writeHelmValues, type HelmValuesFile } from './helm-values.js';
import { withInterruptHandling } from './interrupt.js';

/** Reports a failure (JSON document included) and throws it; `applied` is what was done before it. */
export type Fail = (err: unknown, applied?: ApplyResult[]) => never;

/** The plan's blockers as one error, or undefined when it can be applied. */
export function blockersError(plan: Plan): OperationError | undefined {
  if (!plan.blockers.length) return undefined;
  return new OperationError(`Cannot apply: ${plan.blockers.map((b) => b.message).join(' ')}`, { hint: plan.blockers.map((b) => b.hint).join(' ') });
}

/** Writes the Helm values (if asked), reporting a failure through `fail`. */
export function writeValuesOrFail(plan: Plan, options: { helmValuesOut?: string; dryRun?: boolean }, ui: Ui, fail: Fail): HelmValuesFile[] | undefined {
  try {
    return writeHelmValues(plan, options, ui);
  } catch (err) {
    return fail(err);
  }
}

/** Helm values first, then the plan with a task list and interrupt handling. */
export async function writeValuesAndApply(
  plan: Plan,
  options: { helmValuesOut?: string; timeoutMs: number },
  ui: Ui,
  deps: Omit<ApplyDeps, 'progress' | 'timeoutMs' | 'signal'>,
  fail: Fail,
): Promise<{ applied: ApplyResult[]; files: HelmValuesFile[] | undefined }> {
  const files = writeValuesOrFail(plan, options, ui, fail);
  const tasks = createTaskList(ui, { labelClusters: spansClusters(plan.actions) });
  try {
    const applied = await withInterruptHandling(ui, (signal) => applyPlan(plan, { ...deps, progress: tasks, timeoutMs: options.timeoutMs, signal }));
    return { applied, files };
  } catch (err) {
    return fail(err, err instanceof ApplyError ? err.applied : []);
  } finally {
    tasks.stop();
  }
}
