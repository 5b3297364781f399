/**
 * The delivery tail of init and uninstall, written once: show the plan → stop at a blocker → (nothing
 * to change: the values files, the outcome) → confirm → write the Helm values and apply with a task
 * list → one JSON document, whatever the outcome → the command's summary. Every failure writes the
 * run's JSON document (with --output json) before it is thrown.
 */
import type { ApplyDeps, ApplyResult } from '../apply/apply.js';
import type { HelmValuesFile } from '../apply/helm-values.js';
import { blockersError, writeValuesAndApply, writeValuesOrFail, type Fail } from '../apply/run.js';
import type { OperationError } from '../errors.js';
import type { Options } from '../options/options.js';
import type { AnyPlan as Plan } from '../plan/model.js';
import { outageWarning } from '../plan/restarts.js';
import { errorJson, planToJson, type JsonExtra } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';
import { confirmChanges, type ConfirmWording } from './confirm.js';

export type DeliverOptions = Pick<Options, 'output' | 'quiet' | 'yes' | 'helmValuesOut' | 'dryRun' | 'timeoutMs'>;

export interface Delivery<P extends Plan = Plan> {
  plan: P;
  options: DeliverOptions;
  ui: Ui;
  /** What the JSON document carries besides the plan (init: its inputs, the clusters left out). */
  json?: JsonExtra;
  /** Secured clusters left out of the run, named in the text plan. */
  leftOut: string[];
  /** The run is incomplete (clusters left out): reported after the rest is done (exit 1). */
  incomplete?: OperationError;
  /** With JSON on stdout, a person about to confirm still reads the plan (on stderr). */
  planOnStderr?: boolean;
  confirm: ConfirmWording;
  /** Said after the plan, before the question (init: the IAM changes). */
  beforeConfirm?(changes: P['actions']): void;
  /** A blank line between the answer and the task list. */
  blankBeforeApply?: boolean;
  /** The appliers of the plan's actions. */
  deps: Omit<ApplyDeps, 'progress' | 'timeoutMs' | 'signal'>;
  /** Nothing to change: said after the JSON document. */
  nothingToChange(files: HelmValuesFile[] | undefined): void | Promise<void>;
  /** Run once the plan is applied, before the JSON document (uninstall: the published issuers). */
  afterApply?(): Promise<void>;
  /** The summary, after the JSON document. */
  done(applied: ApplyResult[], files: HelmValuesFile[] | undefined): void;
}

export async function deliver<P extends Plan>(d: Delivery<P>): Promise<void> {
  const { plan, options, ui } = d;
  const changes = plan.actions.filter((a) => a.status !== 'unchanged');
  const json = options.output === 'json';
  const extra: JsonExtra = d.json ?? {};
  // The whole run's JSON document, once, whatever the outcome.
  const fail: Fail = (err, applied = []) => {
    if (json) ui.result(planToJson(plan, { ...extra, applied, error: errorJson(err) }));
    throw err;
  };
  // --quiet never prints the plan: only the outcome, warnings and errors.
  if (options.output === 'text' && !options.quiet) ui.result(renderPlanText(plan, ui.colors, { leftOut: d.leftOut }));
  else if (d.planOnStderr && json && ui.interactive && !options.yes && changes.length > 0) ui.info(renderPlanText(plan, ui.logColors, { leftOut: d.leftOut }));
  const blocked = blockersError(plan);
  if (blocked) fail(blocked);
  if (changes.length === 0) {
    const unchanged = writeValuesOrFail(plan, options, ui, fail);
    if (d.incomplete) fail(d.incomplete);
    if (json) ui.result(planToJson(plan, { ...extra, applied: [], ...(unchanged ? { helmValuesFiles: unchanged } : {}) }));
    await d.nothingToChange(unchanged);
    return;
  }
  d.beforeConfirm?.(changes);
  try {
    await confirmChanges(options, ui, changes.length, d.confirm, outageWarning(plan));
  } catch (err) {
    fail(err);
  }
  if (d.blankBeforeApply) ui.info('');
  const { applied, files } = await writeValuesAndApply(plan, options, ui, d.deps, fail);
  await d.afterApply?.();
  if (d.incomplete) fail(d.incomplete, applied);
  if (json) ui.result(planToJson(plan, { ...extra, applied, ...(files ? { helmValuesFiles: files } : {}) }));
  d.done(applied, files);
}
