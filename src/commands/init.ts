/**
 * `init` and `plan`: discover → decide → plan → render → confirm → apply.
 *
 * At a terminal, init is a wizard: it detects first (under a spinner), asks only what flags, the
 * config file and detection left open, shows the plan with the IAM changes called out, asks once,
 * applies with a live task list and ends with what to do next. In a script the same command never
 * waits for input: a missing answer is an input error naming its flag, and applying needs --yes.
 * With --plan it applies a saved plan, after checking that the live state still matches it.
 */
import { alsoFound, applyPlan, type ApplyResult } from '../apply/apply.js';
import { AWS_ACTION_TYPES } from '../aws/session.js';
import {
  askAfterPlan,
  askDecisions,
  askDetection,
  checkInitOptions,
  decisionsFromOptions,
  offlineFacts,
} from '../decide.js';
import { detect, openSessions, ownRoleFromWiring, readAwsState, type Detected, type Sessions } from '../discover.js';
import { CancelledError, InputError, OperationError } from '../errors.js';
import { NEXT_STEPS } from '../messages.js';
import type { Options } from '../options.js';
import { loadPlanFile, optionsFromPlan, planDrift, planInputs, type PlanInputs, type SavedPlan } from '../plan-file.js';
import { buildPlan } from '../plan/build.js';
import type { Action, Decisions, Plan } from '../plan/model.js';
import { planToJson } from '../render/plan-json.js';
import { helmValuesYaml, renderPlanText } from '../render/plan-text.js';
import { writeFileSync } from 'node:fs';
import { createTaskList } from '../ui/tasks.js';
import type { Ui } from '../ui/ui.js';

const PROVIDER_LABEL = { eks: 'EKS', openshift: 'OpenShift' } as const;

export async function runInit(options: Options, ui: Ui): Promise<void> {
  if (options.offline) {
    if (!options.dryRun) {
      throw new InputError(
        [{ source: '--offline', message: 'only plans (nothing can be applied without contacting AWS and the cluster)' }],
        `Use "rhacs-sts plan --offline …" or add --dry-run.`,
      );
    }
    const facts = offlineFacts(options);
    const decisions = decisionsFromOptions(options, facts);
    const plan = buildPlan(facts, decisions, undefined);
    printPlan(plan, options, ui, planInputs(options, decisions, undefined, plan));
    return;
  }
  checkInitOptions(options);
  if (options.planFile) return runSavedPlan(options, ui);

  const { sessions, detected } = await ui.spinner('Reading the cluster and the AWS account…', async () => {
    const sessions = await openSessions(options, ui);
    const detected = await detect(options, sessions, ui, ui.interactive ? { resolve: (problem, target) => askDetection(problem, target, ui) } : {});
    return { sessions, detected };
  });
  for (const w of detected.warnings) ui.warn(w);
  describeClusters(detected, ui);

  // A re-run without --role-name continues with the role the wiring already names, when it is ours.
  const own = await ownRoleFromWiring(options, detected.facts, sessions.aws);
  if (own) ui.info(`The cluster's wiring already names ${own.arn}, a role rhacs-sts manages: continuing with it (pass --role-name to choose another).`);
  const base: Options = own ? { ...options, roleName: own.name, rolePath: own.path } : options;

  // Questions with defaults (role name, delegated scanning, ECR scope) only for init at a terminal.
  let opts = await askDecisions(base, detected.facts, ui);
  const decisions = decisionsFromOptions(opts, detected.facts);
  const { aws, warnings } = await ui.spinner('Reading the IAM role and OIDC provider…', () => readAwsState(detected.facts, decisions, sessions));
  for (const w of warnings) ui.warn(w);
  let plan = buildPlan(detected.facts, decisions, aws);

  // Questions that need the plan (adopting what blocks it, restarting now): rebuild with the answers.
  const answered = await askAfterPlan(opts, plan, ui);
  let final: Decisions = decisions;
  if (answered !== opts) {
    opts = answered;
    final = decisionsFromOptions(opts, detected.facts, decisions.thumbprints);
    plan = buildPlan(detected.facts, final, aws);
  }

  const inputs = planInputs(opts, final, detected, plan);
  if (opts.dryRun) {
    printPlan(plan, opts, ui, inputs, leftOut(sessions));
  } else {
    await confirmAndApply(plan, opts, ui, sessions, inputs);
  }
  failForUnreachable(sessions, opts);
}

/** Secured clusters left out because they could not be reached: the run is not complete (exit 1). */
function failForUnreachable(sessions: Sessions, options: Options): void {
  const left = sessions.unreachable ?? [];
  if (!left.length) return;
  throw new OperationError(
    `${left.length} secured cluster${left.length === 1 ? ' was' : 's were'} left out (the others are done):\n${left.map((u) => `  ✗ ${u.context}: ${u.message}`).join('\n')}`,
    { hint: `When ${left.length === 1 ? 'it is' : 'they are'} reachable, re-run "rhacs-sts ${options.dryRun ? 'plan' : 'init'}" with the same flags: what is in place stays as it is.` },
  );
}

/** `init --plan <file>`: rebuild the saved plan from the live state; apply it only if nothing drifted. */
async function runSavedPlan(options: Options, ui: Ui): Promise<void> {
  const saved: SavedPlan = loadPlanFile(options.planFile!);
  const { options: opts, perCluster } = optionsFromPlan(options, saved);
  checkInitOptions(opts);

  const { sessions, detected, plan, decisions } = await ui.spinner(`Checking ${saved.path} against the live state…`, async () => {
    const sessions = await openSessions(opts, ui);
    const detected = await detect(opts, sessions, ui, { perCluster });
    const decisions = decisionsFromOptions(opts, detected.facts);
    const { aws, warnings } = await readAwsState(detected.facts, decisions, sessions);
    detected.warnings.push(...warnings);
    return { sessions, detected, decisions, plan: buildPlan(detected.facts, decisions, aws) };
  });
  for (const w of detected.warnings) ui.warn(w);

  const inputs = planInputs(opts, decisions, detected, plan);
  const drift = planDrift(saved, { doc: JSON.parse(planToJson(plan, { inputs })), detected });
  if (drift.length > 0) {
    const shown = drift.slice(0, 12).map((d) => `  - ${d}`);
    if (drift.length > shown.length) shown.push(`  - … and ${drift.length - shown.length} more`);
    throw new OperationError(
      `The live state has drifted since ${saved.path} was saved, so it no longer shows what would change. Nothing was changed. What differs:\n${shown.join('\n')}`,
      { hint: 'Make and review a new plan: rhacs-sts plan --output json > plan.json, then rhacs-sts init --plan plan.json.' },
    );
  }
  ui.info(ui.logColors.green(`✓ The live state matches ${saved.path}.`));
  await confirmAndApply(plan, opts, ui, sessions, inputs);
}

function describeClusters(detected: Detected, ui: Ui): void {
  const c = ui.logColors;
  for (const { facts: f, kubeContext, target } of detected.clusters) {
    const role = target.role === 'both' ? '' : ` for ${target.role === 'central' ? 'Central' : 'Sensor'}`;
    ui.info(`Detected ${PROVIDER_LABEL[f.provider]} cluster${role} (context ${kubeContext})`);
    ui.info(`  ${c.dim('issuer')}  ${f.issuer}`);
    ui.info(`  ${c.dim('RHACS')}   ${f.components.join(' and ')} in namespace ${f.namespace}${f.version ? `, version ${f.version}` : ''}, installed by ${f.installMethod}`);
    if (f.installEvidence) ui.debug(`install method: ${f.installEvidence}`);
  }
}

async function confirmAndApply(plan: Plan, options: Options, ui: Ui, sessions: Sessions, inputs: PlanInputs): Promise<void> {
  const changes = plan.actions.filter((a) => a.status !== 'unchanged');
  const extra = { leftOut: leftOut(sessions) };
  if (options.output === 'text') ui.result(renderPlanText(plan, ui.colors, extra));
  // With JSON on stdout, a person about to confirm still reads the plan (on stderr).
  else if (ui.interactive && !options.yes && changes.length > 0) ui.info(renderPlanText(plan, ui.logColors, extra));
  if (plan.blockers.length) {
    throw new OperationError(`Cannot apply: ${plan.blockers.map((b) => b.message).join(' ')}`, { hint: plan.blockers.map((b) => b.hint).join(' ') });
  }
  if (changes.length === 0) {
    writeHelmValues(plan, options, ui);
    if (options.output === 'json') ui.result(planToJson(plan, { inputs, applied: [] }));
    return;
  }
  highlightIam(changes, ui);
  await confirm(options, ui, changes.length);

  const tasks = createTaskList(ui);
  let applied: ApplyResult[];
  ui.info('');
  try {
    applied = await applyPlan(plan, { aws: sessions.aws, kube: sessions.kube, progress: tasks, timeoutMs: options.timeoutMs });
  } finally {
    tasks.stop();
  }
  writeHelmValues(plan, options, ui);
  if (options.output === 'json') ui.result(planToJson(plan, { inputs, applied }));
  printSummary(plan, applied, options, ui);
}

/** The IAM part of the plan, called out before the confirmation: who may assume the role, and what it may do. */
function highlightIam(changes: Action[], ui: Ui): void {
  const iam = changes.filter((a) => AWS_ACTION_TYPES.has(a.type));
  if (iam.length === 0) return;
  const c = ui.logColors;
  ui.info('');
  ui.info(c.bold.yellow(`IAM changes (${iam.length}):`));
  for (const a of iam) ui.info(`  ${a.status === 'create' ? c.green('+') : c.yellow('~')} ${a.summary}`);
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
  const what = `${count} change${count === 1 ? '' : 's'}`;
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${what} when not running at a terminal` }],
      'Review the plan with "rhacs-sts plan", then re-run with --yes.');
  }
  ui.info('');
  const ok = await ui.confirm(`Apply these ${what}?`, false);
  if (!ok) throw new CancelledError('Cancelled: nothing was changed.');
}

function printSummary(plan: Plan, applied: ApplyResult[], options: Options, ui: Ui): void {
  const c = ui.logColors;
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  const done = applied.filter((r) => r.outcome === 'done');
  const iam = done.filter((r) => AWS_ACTION_TYPES.has(byId.get(r.id)!.type)).length;
  const kube = done.length - iam;
  ui.info('');
  ui.info(c.green.bold(`✓ Done: ${done.length} change${done.length === 1 ? '' : 's'} applied (${iam} in IAM, ${kube} in Kubernetes)${alsoFound(plan, applied)}.`));
  ui.info(`  Role ${plan.role.arn}, trusted by ${plan.oidcProviders.map((p) => p.url).join(' and ')}`);
  ui.info('');
  ui.info(c.bold('Next:'));
  ui.info(NEXT_STEPS.enableRole);
  ui.info(NEXT_STEPS.verify(verifyCommand(options)));
  const deferred = plan.actions.filter((a): a is Extract<Action, { type: 'restart' }> => a.type === 'restart' && a.deferred);
  if (deferred.length) {
    ui.info('  3. Restart the pods so they pick up the role:');
    for (const a of deferred) ui.info(`       kubectl${a.ref.context ? ` --context ${a.ref.context}` : ''} -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}`);
  }
  if (plan.helmValues?.length && !options.helmValuesOut) ui.info('  Add the Helm values shown in the plan to your values file, so that "helm upgrade" keeps the change.');
}

/** The verify command for the same cluster(s) and role. */
function verifyCommand(options: Options): string {
  const parts = ['rhacs-sts verify'];
  if (options.context) parts.push(`--context ${options.context}`);
  if (options.centralContext) parts.push(`--central-context ${options.centralContext}`);
  for (const c of options.sensorContexts) parts.push(`--sensor-context ${c}`);
  if (options.namespace) parts.push(`--namespace ${options.namespace}`);
  if (options.roleName) parts.push(`--role-name ${options.roleName}`);
  return parts.join(' ');
}

/** Secured clusters left out of this run: their state is unknown, so a plan must not call it complete. */
function leftOut(sessions: Sessions): string[] {
  return (sessions.unreachable ?? []).map((u) => u.context);
}

export function printPlan(plan: Plan, options: Options, ui: Ui, inputs?: PlanInputs, unread: string[] = []): void {
  if (options.output === 'json') ui.result(planToJson(plan, inputs ? { inputs } : {}));
  else ui.result(renderPlanText(plan, ui.colors, { leftOut: unread }));
}

