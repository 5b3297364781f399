/** `init` and `plan`: discover → decide → plan → render → confirm → apply. */
import { decisionsFromOptions, offlineFacts } from '../decide.js';
import { InputError, OperationError } from '../errors.js';
import type { Options } from '../options.js';
import { buildPlan } from '../plan/build.js';
import type { Plan } from '../plan/model.js';
import { planToJson } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';

export async function runInit(options: Options, ui: Ui): Promise<void> {
  if (options.offline) {
    if (!options.dryRun) {
      throw new InputError(
        [{ source: '--offline', message: 'only plans (nothing can be applied without contacting AWS and the cluster)' }],
        `Use "rhacs-sts plan --offline …" or add --dry-run.`,
      );
    }
    const facts = offlineFacts(options);
    const plan = buildPlan(facts, decisionsFromOptions(options, facts), undefined);
    printPlan(plan, options, ui);
    return;
  }
  throw new OperationError('Reading the live cluster and AWS account is not available in this build yet.', {
    hint: 'Run "rhacs-sts plan --offline …" to see the plan from flags.',
  });
}

export function printPlan(plan: Plan, options: Options, ui: Ui): void {
  if (options.output === 'json') ui.result(planToJson(plan));
  else ui.result(renderPlanText(plan, ui.colors));
}
