/**
 * `init` and `plan`: discover → decide → plan → render → confirm → apply.
 *
 * At a terminal, init is a wizard: it detects first (under a spinner), asks only what flags, the
 * config file and detection left open, shows the plan with the IAM changes called out, asks once,
 * applies with a live task list and ends with what to do next. In a script the same command never
 * waits for input: a missing answer is an input error naming its flag, and applying needs --yes.
 * With --plan it applies a saved plan, after checking that the live state still matches it.
 */
import { alsoFound, type ApplyResult } from '../apply/apply.js';
import { blockersError, writeValuesAndApply, writeValuesOrFail } from '../apply/run.js';
import { AWS_ACTION_TYPES } from '../clouds/aws/session.js';
import {
  askAfterPlan,
  askDecisions,
  askDetection,
  checkInitOptions,
  checkMechanism,
  checkPartitions,
  decisionsFromOptions,
  defaultRoleName,
  offlineFacts,
} from '../decide.js';
import { detect, openSessions, ownRoleClusters, ownRoleFromWiring, readAwsState, readInPlace, type Detected, type Sessions } from '../discover.js';
import type { InPlace } from '../plan/in-place.js';
import { CancelledError, DeclinedError, InputError, OperationError, type RhacsStsError } from '../errors.js';
import { reportOnInterrupt } from '../apply/interrupt.js';
import { appliedCount, applyQuestion, NEXT_STEPS } from '../messages.js';
import type { Options } from '../options/options.js';
import { loadPlanFile, optionsFromPlan, planDrift, planInputs, type PlanInputs, type SavedPlan } from '../options/plan-file.js';
import { buildInitPlan } from '../plan/init-plan.js';
import type { Action, Decisions, Plan } from '../plan/model.js';
import { errorJson, planToJson, type JsonExtra } from '../render/plan-json.js';
import { renderPlanText, repositoryGrantLines } from '../render/plan-text.js';
import { helmUpgradeCommand } from '../plan/helm-values.js';
import { outageWarning } from '../plan/restarts.js';
import { writeHelmValues, type HelmValuesFile } from '../apply/helm-values.js';
import { hasCentralCredentials, prepareIntegration, type IntegrationContext } from '../central/flow.js';
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
    checkMechanism(options, facts, ui.warn);
    const decisions = decisionsFromOptions(options, facts);
    const plan = buildInitPlan(facts, decisions, undefined);
    const blocked = blockersError(plan);
    printPlan(plan, options, ui, planInputs(options, decisions, undefined, plan), blocked ? { error: errorJson(blocked) } : {});
    writeHelmValues(plan, options, ui);
    if (blocked) throw blocked;
    return;
  }
  checkInitOptions(options);
  // --- Central's ECR integration: credentials are input, checked before anything is contacted ---
  if (options.configureIntegration && !hasCentralCredentials(options)) {
    throw new InputError([{ source: '--configure-integration', message: 'needs Central credentials: set ROX_API_TOKEN (or ROX_API_TOKEN_FILE) or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password' }]);
  }
  if (options.planFile) return runSavedPlan(options, ui);
  if (options.rolePerCluster) return runRolePerCluster(options, ui);
  if (options.publishIssuer && !options.dryRun && !ui.interactive) {
    throw new InputError(
      [{ source: '--publish-issuer', message: "points the cluster at a new issuer, which is confirmed a second time at a terminal: run init at a terminal, or run \"rhacs-sts issuer publish\" and set the cluster's issuer first" }],
    );
  }

  let read;
  try {
    read = await readClusters(options, ui);
  } catch (err) {
    if (!(err as { openshiftWithoutSts?: boolean }).openshiftWithoutSts || options.dryRun || !ui.interactive || options.publishIssuer === false) throw err;
    // OpenShift without STS: offer to publish its issuer (as "issuer publish --set-cluster-issuer"), then go on.
    ui.warn((err as Error).message);
    const go = options.publishIssuer ?? await ui.confirm('Publish the cluster\'s issuer in an S3 bucket now and point the cluster at it ("rhacs-sts issuer publish --set-cluster-issuer")?', true);
    if (!go) throw err;
    const { openPublishSessions, publishIssuer } = await import('./issuer.js');
    const publishing: Options = { ...options, setClusterIssuer: true };
    const out = await publishIssuer(publishing, ui, await openPublishSessions(publishing, ui));
    if (!out.clusterIssuerSet) throw err;
    ui.info('');
    ui.info('Continuing with init.');
    read = await readClusters(options, ui);
  }
  return initWith(options, ui, read.sessions, read.detected);
}

/** Opens the sessions and detects the clusters under a spinner. */
async function readClusters(options: Options, ui: Ui): Promise<{ sessions: Sessions; detected: Detected }> {
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

async function initWith(options: Options, ui: Ui, sessions: Sessions, detected: Detected): Promise<void> {
  // Secured clusters an earlier --role-per-cluster run gave roles of their own keep them: each is
  // its own run again, as with the flag (--replace-role-wiring points them at this run's role instead).
  const own = await ownRoleClusters(options, detected.facts, sessions.aws);
  if (own.length) {
    ui.info(`${own.join(', ')} ${own.length === 1 ? 'has a role of its own' : 'have roles of their own'} (rhacs-sts-<cluster>, from --role-per-cluster): ${own.length === 1 ? 'it keeps it' : 'they keep them'}, each in a run of its own (--replace-role-wiring points ${own.length === 1 ? 'it' : 'them'} at this run's role instead).`);
    return runRolePerCluster({ ...options, rolePerCluster: true }, ui, own);
  }
  for (const w of detected.warnings) ui.warn(w);
  describeClusters(detected, ui);

  // A re-run without --role-name continues with the role the wiring already names, when it is ours
  // (not for a secured cluster of --role-per-cluster: its role is named after it).
  const wiredRole = options.ownRoleForCluster ? undefined : await ownRoleFromWiring(options, detected.facts, sessions.aws);
  if (wiredRole) ui.info(`The cluster's wiring already names ${wiredRole.arn}, a role rhacs-sts manages: continuing with it (pass --role-name to choose another).`);
  const base: Options = wiredRole ? { ...options, roleName: wiredRole.name, rolePath: wiredRole.path } : options;

  // What an earlier run set for the role (its policies, tags and trust, and the wiring): every
  // choice whose flag is not given keeps it, and the wizard offers it as the default.
  const inPlaceReads = new Map<string, Promise<InPlace>>();
  const inPlaceFor = (roleName: string): Promise<InPlace> => {
    if (!inPlaceReads.has(roleName)) inPlaceReads.set(roleName, readInPlace(detected.facts, roleName, sessions));
    return inPlaceReads.get(roleName)!;
  };

  // Questions with defaults (role name, delegated scanning, ECR scope) only for init at a terminal.
  checkPartitions(base, detected.facts);
  checkMechanism(base, detected.facts, ui.warn);
  let opts = await askDecisions(base, detected.facts, ui, inPlaceFor);
  checkMechanism(opts.mechanism === base.mechanism ? {} : opts, detected.facts, ui.warn);
  const inPlace = await inPlaceFor(opts.roleName ?? defaultRoleName(opts.clusterName ?? detected.facts.clusterName));
  const decisions = decisionsFromOptions(opts, detected.facts, {}, inPlace);
  const { aws, warnings } = await ui.spinner('Reading the IAM role and OIDC provider…', () => readAwsState(detected.facts, decisions, sessions, { connectTo: opts.connectTo }));
  for (const w of warnings) ui.warn(w);
  const integration = await prepareIntegration(opts, detected.facts, sessions, ui);
  let plan = buildInitPlan(detected.facts, decisions, aws);
  integration?.addTo(plan, decisions, detected.facts);

  // Questions that need the plan (adopting what blocks it, restarting now): rebuild with the answers.
  const answered = await askAfterPlan(opts, plan, ui);
  let final: Decisions = decisions;
  if (answered !== opts) {
    opts = answered;
    final = decisionsFromOptions(opts, detected.facts, decisions.thumbprints, inPlace);
    plan = buildInitPlan(detected.facts, final, aws);
    integration?.addTo(plan, final, detected.facts, opts);
  }

  const inputs = planInputs(opts, final, detected, plan);
  const leftOut = leftOutError(sessions, opts);
  if (opts.dryRun) {
    // A plan with a blocker cannot be applied as it stands: it is printed, and the run fails (exit 1) saying why.
    const failed = blockersError(plan) ?? leftOut;
    printPlan(plan, opts, ui, inputs, { leftOut: sessions.unreachable, ...(failed ? { error: errorJson(failed) } : {}) });
    writeHelmValues(plan, opts, ui);
    if (failed) throw failed;
  } else {
    await confirmAndApply(plan, opts, ui, sessions, inputs, leftOut, integration);
  }
  if (leftOut) throw leftOut;
}

/**
 * --role-per-cluster: Central's cluster keeps the run's role; each secured cluster gets its own,
 * rhacs-sts-<cluster>, trusted by its own issuer only — the way to scale a fleet past the trust
 * policy quota, and to keep one cluster's compromise from reaching another's images. Each cluster
 * is then its own run (its own plan and role); one failing does not stop the others. With
 * --output json the runs are collected into one document.
 */
async function runRolePerCluster(options: Options, ui: Ui, ownRoles: readonly string[] = options.sensorContexts): Promise<void> {
  // Secured clusters without a role of their own (read back from what is in place) stay with Central's run.
  const shared = options.sensorContexts.filter((c) => !ownRoles.includes(c));
  const base: Options = { ...options, rolePerCluster: false, sensorContexts: [] };
  const runs: { cluster: string; options: Options }[] = [
    { cluster: options.centralContext ?? 'current context', options: { ...base, sensorContexts: shared, ...(options.centralContext ? { centralContext: options.centralContext } : {}) } },
    ...ownRoles.map((c) => ({
      cluster: c,
      // Central's ECR integration belongs to the run of Central's cluster only.
      options: { ...base, centralContext: undefined, context: c, clusterName: undefined, roleName: undefined, delegatedScanning: true, ownRoleForCluster: true, configureIntegration: false },
    })),
  ];
  const json = options.output === 'json';
  const docs: Record<string, unknown>[] = [];
  const failures: { cluster: string; err: unknown }[] = [];
  const finished: string[] = [];
  const sofar = () => (finished.length ? `done: ${finished.join(', ')}` : 'none was done yet');
  // Between the runs some clusters may be done: Ctrl-C says which (within a run's apply, that run's handling answers).
  await reportOnInterrupt(() => (options.dryRun ? 'nothing was changed (a plan only).' : `of the ${runs.length} clusters, ${sofar()}; the others were not changed. Re-running the same command resumes: what is in place stays as it is.`), async () => {
    for (const run of runs) {
      if (!json) ui.info(ui.logColors.bold(`\n── ${run.cluster}${run.options.ownRoleForCluster ? ' (its own role)' : ''} ──`));
      if (!json && run.options.ownRoleForCluster && options.configureIntegration) ui.info(`Central's ECR integration is configured in the run of ${runs[0]!.cluster}, where Central runs.`);
      let out = '';
      const sub: Ui = json ? { ...ui, result: (text: string) => { out += text; } } : ui;
      try {
        await runInit(run.options, sub);
        finished.push(run.cluster);
      } catch (err) {
        if ((err as { exitCode?: number }).exitCode === 130) {
          const e = err as RhacsStsError;
          throw new CancelledError(`${run.cluster}: ${e.message}\nOf the other clusters, ${sofar()}; the rest were not started.`, e.hint);
        }
        failures.push({ cluster: run.cluster, err });
        if (!json) ui.warn(`${run.cluster}: ${(err as Error)?.message ?? String(err)}`);
      }
      if (json) docs.push({ cluster: run.cluster, ...(out.trim() ? (JSON.parse(out) as Record<string, unknown>) : { error: errorJson(failures.at(-1)?.err) }) });
    }
  });
  // A cluster whose wiring names another role (the shared one, when moving to a role per cluster)
  // stays as it is on every re-run: the way out is --replace-role-wiring, not running again.
  const wired = failures.filter((f) => /--replace-role-wiring/.test((f.err as { hint?: string })?.hint ?? '')).map((f) => f.cluster);
  const failed = failures.length
    ? new OperationError(`${failures.length} of ${runs.length} clusters failed:\n${failures.map((f) => `  ✗ ${f.cluster}: ${(f.err as Error)?.message?.split('\n')[0] ?? String(f.err)}`).join('\n')}`, {
      hint: wired.length
        ? `${wired.join(', ')} ${wired.length === 1 ? 'is' : 'are'} wired to another role (e.g. the shared one), which a re-run keeps: add --replace-role-wiring to the same command to point ${wired.length === 1 ? 'it' : 'them'} at ${wired.length === 1 ? 'its' : 'their'} own role (the previous role is recorded, and uninstall puts it back).${wired.length < failures.length ? ' For the others, re-running resumes.' : ''}`
        : 'Re-running the same command resumes: what is in place stays as it is.',
    })
    : undefined;
  if (json) ui.result(JSON.stringify({ rolePerCluster: true, runs: docs, ...(failed ? { error: errorJson(failed) } : {}) }, null, 2));
  if (failed) throw failed;
}

/** Secured clusters left out because they could not be reached: the run is not complete (exit 1). */
function leftOutError(sessions: Sessions, options: Options): OperationError | undefined {
  const left = sessions.unreachable ?? [];
  if (!left.length) return undefined;
  return new OperationError(
    `${left.length} secured cluster${left.length === 1 ? ' was' : 's were'} left out (the others are done):\n${left.map((u) => `  ✗ ${u.context}: ${u.message}`).join('\n')}`,
    { hint: `When ${left.length === 1 ? 'it is' : 'they are'} reachable, re-run "rhacs-sts ${options.dryRun ? 'plan' : 'init'}" with the same flags: what is in place stays as it is.` },
  );
}

/** `init --plan <file>`: rebuild the saved plan from the live state; apply it only if nothing drifted. */
async function runSavedPlan(options: Options, ui: Ui): Promise<void> {
  const saved: SavedPlan = loadPlanFile(options.planFile!);
  const fromPlan = optionsFromPlan(options, saved);
  const { perCluster } = fromPlan;
  // The saved plan fixes the ECR scope as a whole: "every repository, any region" is said, not left to what is in place.
  const opts: Options = { ...fromPlan.options, ecrRepositories: fromPlan.options.ecrRepositories.length ? fromPlan.options.ecrRepositories : ['*'], ecrRegion: fromPlan.options.ecrRegion ?? '*' };
  checkInitOptions(opts);

  const { sessions, detected, plan, decisions, integration } = await ui.spinner(`Checking ${saved.path} against the live state…`, async () => {
    const sessions = await openSessions(opts, ui);
    const detected = await detect(opts, sessions, ui, { perCluster });
    checkMechanism(opts, detected.facts, ui.warn);
    const inPlace = await readInPlace(detected.facts, opts.roleName ?? defaultRoleName(opts.clusterName ?? detected.facts.clusterName), sessions);
    const decisions = decisionsFromOptions(opts, detected.facts, {}, inPlace);
    // The saved plan fixes the cross-account ECR role too (kept from what was in place when it was saved).
    if (!opts.ecrAssumeRole) {
      const { assumeRoleArn: _drop, ...ecr } = decisions.ecr;
      decisions.ecr = { ...ecr, ...(saved.inputs.ecr.assumeRoleArn ? { assumeRoleArn: saved.inputs.ecr.assumeRoleArn } : {}) };
    }
    const { aws, warnings } = await readAwsState(detected.facts, decisions, sessions, { connectTo: opts.connectTo });
    detected.warnings.push(...warnings);
    const integration = await prepareIntegration(opts, detected.facts, sessions, ui);
    const plan = buildInitPlan(detected.facts, decisions, aws);
    integration?.addTo(plan, decisions, detected.facts);
    return { sessions, detected, decisions, plan, integration };
  });
  for (const w of detected.warnings) ui.warn(w);

  const inputs = planInputs(opts, decisions, detected, plan);
  const drift = planDrift(saved, { doc: JSON.parse(planToJson(plan, { inputs })), detected });
  if (drift.length > 0) {
    const shown = drift.slice(0, 12).map((d) => `  - ${d}`);
    if (drift.length > shown.length) shown.push(`  - … and ${drift.length - shown.length} more`);
    throw new OperationError(
      `The live state has drifted since ${saved.path} was saved, so it no longer shows what would change. Nothing was changed. What differs:\n${shown.join('\n')}`,
      { hint: `Make and review a new plan with the same choices: ${planCommand(hintOptions(opts, saved), saved.doc.accountId)} --output json > ${shellWord(saved.path)}, then rhacs-sts init --plan ${shellWord(saved.path)}.` },
    );
  }
  ui.info(ui.logColors.green(`✓ The live state matches ${saved.path}.`));
  await confirmAndApply(plan, opts, ui, sessions, inputs, undefined, integration);
}

/** The options a saved plan's drift hint names: its own, with the cross-account ECR role it kept from what was in place. */
function hintOptions(opts: Options, saved: SavedPlan): Options {
  const arn = saved.inputs.ecr.assumeRoleArn;
  return !opts.ecrAssumeRole && arn ? { ...opts, ecrAssumeRole: arn.slice(arn.lastIndexOf('/') + 1) } : opts;
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

async function confirmAndApply(plan: Plan, options: Options, ui: Ui, sessions: Sessions, inputs: PlanInputs, leftOut?: OperationError, integration?: IntegrationContext): Promise<void> {
  const changes = plan.actions.filter((a) => a.status !== 'unchanged');
  const json = options.output === 'json';
  const extra: JsonExtra = { inputs, leftOut: sessions.unreachable };
  // The whole run's JSON document, once, whatever the outcome.
  const fail = (err: unknown, applied: ApplyResult[] = []): never => {
    if (json) ui.result(planToJson(plan, { ...extra, applied, error: errorJson(err) }));
    throw err;
  };
  // --quiet never prints the plan: only the outcome, warnings and errors.
  if (options.output === 'text' && !options.quiet) ui.result(renderPlanText(plan, ui.colors, textExtra(sessions)));
  // With JSON on stdout, a person about to confirm still reads the plan (on stderr).
  else if (json && ui.interactive && !options.yes && changes.length > 0) ui.info(renderPlanText(plan, ui.logColors, textExtra(sessions)));
  const blocked = blockersError(plan);
  if (blocked) fail(blocked);
  if (changes.length === 0) {
    const unchanged = writeValuesOrFail(plan, options, ui, fail);
    if (leftOut) fail(leftOut);
    if (json) ui.result(planToJson(plan, { ...extra, applied: [], ...(unchanged ? { helmValuesFiles: unchanged } : {}) }));
    else if (options.quiet) printOutcome(plan, [], ui);
    if (!options.quiet) printDeferred(plan, unchanged, ui);
    return;
  }
  highlightIam(changes, ui);
  try {
    await confirm(options, ui, changes.length, outageWarning(plan));
  } catch (err) {
    fail(err);
  }

  ui.info('');
  const { applied, files } = await writeValuesAndApply(plan, options, ui,
    { aws: sessions.aws, kube: sessions.kube, central: integration?.apply(plan) }, fail);
  if (leftOut) fail(leftOut, applied);
  if (json) ui.result(planToJson(plan, { ...extra, applied, ...(files ? { helmValuesFiles: files } : {}) }));
  else if (options.quiet) printOutcome(plan, applied, ui);
  printSummary(plan, applied, options, ui, files);
}

/** --quiet: the outcome only, on stdout — the role, and a line per cluster. */
function printOutcome(plan: Plan, applied: ApplyResult[], ui: Ui): void {
  const done = applied.filter((r) => r.outcome === 'done').length;
  ui.result(`role ${plan.role.arn}: ${done ? `${done} change${done === 1 ? '' : 's'} applied` : 'already in place'}`);
  const contexts = new Map<string, string | undefined>();
  for (const a of plan.actions) {
    const ref = (a as { ref?: { context?: string } }).ref;
    if (ref) contexts.set(ref.context ?? '', ref.context);
  }
  for (const [key, context] of contexts) {
    const mine = applied.filter((r) => r.context === key || (r.context === undefined && key === ''));
    const n = mine.filter((r) => r.outcome === 'done').length;
    ui.result(`cluster ${context ?? 'current context'}: ${n ? `${n} change${n === 1 ? '' : 's'} applied` : 'already in place'}`);
  }
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

async function confirm(options: Options, ui: Ui, count: number, outage?: string): Promise<void> {
  if (options.yes) {
    if (outage) ui.info(`${outage}.`);
    return;
  }
  const what = `${count} change${count === 1 ? '' : 's'}`;
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${what} when not running at a terminal` }],
      'Review the plan with "rhacs-sts plan", then re-run with --yes.');
  }
  ui.info('');
  const ok = await ui.confirm(applyQuestion(count, outage), false);
  if (!ok) throw new DeclinedError();
}

function printSummary(plan: Plan, applied: ApplyResult[], options: Options, ui: Ui, files?: HelmValuesFile[]): void {
  const c = ui.logColors;
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  const done = applied.filter((r) => r.outcome === 'done');
  const iam = done.filter((r) => AWS_ACTION_TYPES.has(byId.get(r.id)!.type)).length;
  const rhacs = done.filter((r) => byId.get(r.id)!.type === 'central-integration').length;
  const kube = done.length - iam - rhacs;
  ui.info('');
  ui.info(c.green.bold(`✓ Done: ${appliedCount({ iam, kube, rhacs })}${alsoFound(plan, applied)}.`));
  ui.info(plan.mechanism === 'pod-identity'
    ? `  Role ${plan.role.arn}, trusted by EKS Pod Identity (pods.eks.amazonaws.com) through the service accounts' associations`
    : `  Role ${plan.role.arn}, trusted by ${plan.oidcProviders.map((p) => p.url).join(' and ')}`);
  const contexts = [...new Set(plan.actions.flatMap((a) => ('ref' in a && a.ref ? [a.ref.context ?? ''] : [])))];
  if (contexts.length > 1) {
    for (const ctx of contexts) {
      const n = applied.filter((r) => (r.context ?? '') === ctx && r.outcome === 'done').length;
      ui.info(`  ${c.green('✓')} cluster ${ctx || 'current context'}: ${n ? `${n} change${n === 1 ? '' : 's'} applied` : 'already in place'}`);
    }
  }
  ui.info('');
  ui.info(c.bold('Next:'));
  const integration = plan.actions.find((a) => a.type === 'central-integration');
  ui.info(integration ? NEXT_STEPS.integrationDone(integration.target) : NEXT_STEPS.enableRole);
  ui.info(NEXT_STEPS.verify(verifyCommand(options)));
  printDeferred(plan, files, ui, '  3. ');
  if (plan.helmValues?.length && !options.helmValuesOut) ui.info('  Add the Helm values shown in the plan to your values file, so that "helm upgrade" keeps the change.');
  if (plan.repositoryGrant) {
    ui.info('');
    for (const l of repositoryGrantLines(plan.repositoryGrant, c)) ui.info(l);
  }
}

/** What --no-restart left for later: restarts (EKS), or rollouts that "helm upgrade" makes (OpenShift). */
function printDeferred(plan: Plan, files: HelmValuesFile[] | undefined, ui: Ui, lead = ''): void {
  const deferred = plan.actions.filter((a): a is Extract<Action, { type: 'restart' }> => a.type === 'restart' && a.deferred);
  const restarts = deferred.filter((a) => a.method === 'restartedAt');
  const rollouts = deferred.filter((a) => a.method === 'rollout');
  const outage = (a: { outage?: boolean }) => (a.outage ? ' (Recreate strategy: a short outage)' : '');
  if (restarts.length) {
    ui.info(`${lead}Restart the pods so they pick up the role:`);
    for (const a of restarts) ui.info(`       kubectl${a.ref.context ? ` --context ${a.ref.context}` : ''} -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}${outage(a)}`);
  }
  if (rollouts.length) {
    const names = rollouts.map((a) => `${a.ref.name}${outage(a)}`).join(', ');
    ui.info(`${restarts.length ? '  ' : lead}When a rollout suits, apply the Helm values, which sets the environment and rolls ${names}:`);
    for (const h of plan.helmValues ?? []) {
      const file = files?.find((f) => f.release === h.release && f.context === h.context)?.file;
      ui.info(`       ${helmUpgradeCommand(h, file)}`);
    }
    if (!files?.length) ui.info('     (<file>: the values shown in the plan for that release; --helm-values-out writes them)');
  }
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./*-]+$/.test(s) && !s.includes('*') ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The plan command that makes the same choices as these options (a saved plan's, for its drift hint). */
export function planCommand(options: Options, accountId: string): string {
  const parts = ['rhacs-sts plan'];
  const add = (flag: string, value?: string) => { if (value !== undefined) parts.push(`${flag} ${shellWord(value)}`); };
  if (options.kubeconfig) add('--kubeconfig', options.kubeconfig);
  if (options.profile) add('--profile', options.profile);
  add('--context', options.context);
  add('--central-context', options.centralContext);
  for (const c of options.sensorContexts) add('--sensor-context', c);
  add('--namespace', options.namespace);
  add('--provider', options.provider);
  add('--oidc-issuer', options.oidcIssuer);
  add('--cluster-name', options.clusterName);
  add('--role-name', options.roleName);
  if (options.rolePath !== '/') add('--role-path', options.rolePath);
  add('--permissions-boundary', options.permissionsBoundary);
  for (const a of options.attachPolicyArns) add('--attach-policy-arn', a);
  add('--mechanism', options.mechanism);
  if (options.delegatedScanning !== undefined) parts.push(options.delegatedScanning ? '--delegated-scanning' : '--no-delegated-scanning');
  if (options.ecrRegistryId !== undefined && options.ecrRegistryId !== accountId) add('--ecr-registry-id', options.ecrRegistryId);
  add('--ecr-region', options.ecrRegion);
  for (const r of options.ecrRepositories) add('--ecr-repository', r);
  add('--ecr-assume-role', options.ecrAssumeRole);
  add('--ecr-assume-role-external-id', options.ecrAssumeRoleExternalId);
  add('--integration-name', options.integrationName);
  if (!options.restart) parts.push('--no-restart');
  if (options.adoptRole) parts.push('--adopt-role');
  if (options.adoptOidcProvider) parts.push('--adopt-oidc-provider');
  if (options.replaceRoleWiring) parts.push('--replace-role-wiring');
  return parts.join(' ');
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
function textExtra(sessions: Sessions): { leftOut: string[] } {
  return { leftOut: (sessions.unreachable ?? []).map((u) => u.context) };
}

export function printPlan(plan: Plan, options: Options, ui: Ui, inputs?: PlanInputs, extra: JsonExtra = {}): void {
  if (options.output === 'json') ui.result(planToJson(plan, { ...(inputs ? { inputs } : {}), ...extra }));
  else ui.result(renderPlanText(plan, ui.colors, { leftOut: (extra.leftOut ?? []).map((u) => u.context) }));
}

