/** `init` and `plan`: discover → decide → plan → render → confirm → apply. */
import { applyPlan, type ApplyResult } from '../apply/apply.js';
import { decisionsFromOptions, offlineFacts } from '../decide.js';
import { discover, openSessions } from '../discover.js';
import { CancelledError, InputError, OperationError } from '../errors.js';
import type { Options } from '../options.js';
import { buildPlan } from '../plan/build.js';
import type { Plan } from '../plan/model.js';
import { planToJson } from '../render/plan-json.js';
import { helmValuesYaml, renderPlanText } from '../render/plan-text.js';
import { writeFileSync } from 'node:fs';
import { createTaskList } from '../ui/tasks.js';
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

  ui.step('Reading the cluster and the AWS account…');
  const sessions = await openSessions(options, ui);
  const found = await discover(options, sessions, ui);
  for (const w of found.warnings) ui.warn(w);
  const plan = buildPlan(found.facts, found.decisions, found.aws);
  for (const c of found.facts.clusters) {
    ui.info(`Detected ${c.provider === 'eks' ? 'EKS' : 'OpenShift'} cluster${c.context ? ` (${c.context})` : ''}: issuer ${c.issuer}; RHACS ${c.components.join(' and ')} in namespace ${c.namespace}${c.version ? ` (version ${c.version})` : ''}, installed by ${c.installMethod}${c.installEvidence ? ` — ${c.installEvidence}` : ''}.`);
  }

  const changes = plan.actions.filter((a) => a.status !== 'unchanged');
  if (options.dryRun) {
    printPlan(plan, options, ui);
    return;
  }
  if (options.output === 'text') ui.result(renderPlanText(plan, ui.colors));
  if (plan.blockers.length) {
    throw new OperationError(`Cannot apply: ${plan.blockers.map((b) => b.message).join(' ')}`, { hint: plan.blockers.map((b) => b.hint).join(' ') });
  }
  if (changes.length === 0) {
    writeHelmValues(plan, options, ui);
    if (options.output === 'json') ui.result(planToJson(plan, { applied: [] }));
    return;
  }
  await confirm(options, ui, changes.length);

  const tasks = createTaskList(ui);
  let applied: ApplyResult[];
  try {
    applied = await applyPlan(plan, { aws: sessions.aws, kube: sessions.kube, progress: tasks, timeoutMs: options.timeoutMs });
  } finally {
    tasks.stop();
  }
  const done = applied.filter((r) => r.outcome === 'done').length;
  writeHelmValues(plan, options, ui);
  if (options.output === 'json') {
    ui.result(planToJson(plan, { applied }));
  } else {
    ui.info('');
    ui.info(ui.logColors.green(`✓ Done: ${done} change${done === 1 ? '' : 's'} applied.`));
    printNextSteps(plan, ui);
  }
}

function writeHelmValues(plan: Plan, options: Options, ui: Ui): void {
  if (!options.helmValuesOut) return;
  if (!plan.helmValues?.length) {
    ui.info(`RHACS was not installed with Helm here, so there are no Helm values to write to ${options.helmValuesOut}.`);
    return;
  }
  writeFileSync(options.helmValuesOut, plan.helmValues.map(helmValuesYaml).join('---\n'));
  ui.info(`Wrote the Helm values that keep this change to ${options.helmValuesOut}.`);
}

async function confirm(options: Options, ui: Ui, count: number): Promise<void> {
  if (options.yes) return;
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${count} change${count === 1 ? '' : 's'} when not running at a terminal` }],
      'Review the plan with "rhacs-sts plan", then re-run with --yes.');
  }
  const ok = await ui.confirm(`Apply ${count} change${count === 1 ? '' : 's'}?`, false);
  if (!ok) throw new CancelledError('Cancelled: nothing was changed.');
}

function printNextSteps(plan: Plan, ui: Ui): void {
  ui.info('Next:');
  ui.info(`  1. In RHACS, open Platform Configuration → Integrations → Amazon ECR, and enable "Use container IAM role".`);
  ui.info('  2. Check the whole chain: rhacs-sts verify');
  const deferred = plan.actions.filter((a) => a.type === 'restart' && a.deferred);
  if (deferred.length) {
    ui.info('  3. Restart later so the pods pick up the role:');
    for (const a of deferred) if (a.type === 'restart') ui.info(`       kubectl -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}`);
  }
  if (plan.helmValues?.length) ui.info('  Add the Helm values shown above to your values file so "helm upgrade" keeps the change.');
}

export function printPlan(plan: Plan, options: Options, ui: Ui): void {
  if (options.output === 'json') ui.result(planToJson(plan));
  else ui.result(renderPlanText(plan, ui.colors));
}
