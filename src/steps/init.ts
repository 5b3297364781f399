/**
 * init's and plan's pipeline, written once: open sessions → detect → ask → decide → read what is in
 * place → plan (Central's integration is one of its inputs) → deliver. The command picks the steps
 * for each way of running (offline, a saved plan, a live run); the steps share one context.
 */
import { blockersError } from '../apply/run.js';
import { writeHelmValues } from '../apply/helm-values.js';
import { prepareIntegration, type IntegrationContext } from '../central/flow.js';
import { loadCloud } from '../clouds/registry.js';
import {
  askAfterPlan,
  askDecisions,
  checkInitOptions,
  checkMechanism,
  checkPartitions,
  decisionsFromOptions,
  defaultRoleName,
  offlineFacts,
} from '../decide.js';
import { detect, openSessions, ownRoleClusters, ownRoleFromWiring, readAwsState, readInPlace, type Detected, type Sessions } from '../discover.js';
import { InputError, OperationError } from '../errors.js';
import { applyQuestion } from '../messages.js';
import type { Options } from '../options/options.js';
import { loadPlanFile, optionsFromPlan, planInputs, type PlanInputs, type SavedPlan } from '../options/plan-file.js';
import type { DiscoverInput } from '../kube/session.js';
import type { InPlace } from '../plan/in-place.js';
import { buildInitPlan } from '../plan/init-plan.js';
import type { AwsState, Decisions, Facts, Plan } from '../plan/model.js';
import { errorJson, planToJson, type JsonExtra } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';
import { deliver } from './deliver.js';
import { printDeferred, afterInit } from './deferred.js';
import { readClusters } from './open.js';
import type { Step } from './run.js';
import { checkDrift } from './saved-plan.js';
import { describeClusters, highlightIam, printOutcome, printSummary } from './summary.js';

/** What the steps of one init (or plan) run know, filled in as they go. */
export interface InitRun {
  ui: Ui;
  /**
   * The run's choices: the flags (or a saved plan's), then the wizard's answers. Each step that
   * asks returns a new sheet; the flags themselves are never changed.
   */
  answers: Options;
  sessions?: Sessions;
  detected?: Detected;
  facts?: Facts;
  /** What an earlier run set for a role, read once per role name. */
  inPlaceFor?: (roleName: string) => Promise<InPlace>;
  inPlace?: InPlace;
  decisions?: Decisions;
  aws?: AwsState;
  integration?: IntegrationContext;
  plan?: Plan;
  saved?: SavedPlan;
  perCluster?: Record<string, Partial<DiscoverInput>>;
  /** Secured clusters left out: the run is not complete (exit 1). */
  incomplete?: OperationError;
}

// --- Opening -------------------------------------------------------------------------------------

/** --offline: every fact from the flags. */
export const factsFromFlags: Step<InitRun> = (r) => {
  r.facts = offlineFacts(r.answers);
};

/**
 * Publishes an OpenShift cluster's issuer and points the cluster at it ("issuer publish
 * --set-cluster-issuer"); true when the cluster's tokens carry the published issuer now.
 */
export type PublishFirst = (options: Options, ui: Ui) => Promise<boolean>;

/**
 * Opens the sessions and detects the clusters. OpenShift without STS: at a terminal, offers to
 * publish its issuer first (`publish`), then reads again.
 */
export const openAndDetect = (publish: PublishFirst): Step<InitRun> => async (r) => {
  const { answers: options, ui } = r;
  let read;
  try {
    read = await readClusters(options, ui);
  } catch (err) {
    if (!(err as { openshiftWithoutSts?: boolean }).openshiftWithoutSts || options.dryRun || !ui.interactive || options.publishIssuer === false) throw err;
    ui.warn((err as Error).message);
    const go = options.publishIssuer ?? await ui.confirm('Publish the cluster\'s issuer in an S3 bucket now and point the cluster at it ("rhacs-sts issuer publish --set-cluster-issuer")?', true);
    if (!go) throw err;
    if (!(await publish({ ...options, setClusterIssuer: true }, ui))) throw err;
    ui.info('');
    ui.info('Continuing with init.');
    read = await readClusters(options, ui);
  }
  // A GKE cluster found only by its issuer or nodes (its kubeconfig looks like any other): its run is Google Cloud's.
  const gke = read.detected.clusters.find((c) => c.facts.provider === 'gke');
  if (gke) throw new InputError([{ source: '--provider', message: `the cluster of context ${gke.kubeContext} is GKE: run again with --provider gke` }]);
  const aks = read.detected.clusters.find((c) => c.facts.provider === 'aks');
  if (aks) throw new InputError([{ source: '--provider', message: `the cluster of context ${aks.kubeContext} is AKS: run again with --provider aks` }]);
  r.sessions = read.sessions;
  r.detected = read.detected;
  r.facts = read.detected.facts;
};

/** Runs a fleet whose secured clusters `own` have roles of their own: each in a run of its own. */
export type RunPerRole = (options: Options, ui: Ui, own: readonly string[]) => Promise<void>;

/**
 * Secured clusters an earlier --role-per-cluster run gave roles of their own keep them: each is its
 * own run again, as with the flag (--replace-role-wiring points them at this run's role instead).
 */
export const keepOwnRoles = (perRole: RunPerRole): Step<InitRun> => async (r) => {
  const own = await ownRoleClusters(r.answers, r.facts!, r.sessions!.aws);
  if (!own.length) return undefined;
  r.ui.info(`${own.join(', ')} ${own.length === 1 ? 'has a role of its own' : 'have roles of their own'} (rhacs-sts-<cluster>, from --role-per-cluster): ${own.length === 1 ? 'it keeps it' : 'they keep them'}, each in a run of its own (--replace-role-wiring points ${own.length === 1 ? 'it' : 'them'} at this run's role instead).`);
  await perRole({ ...r.answers, rolePerCluster: true }, r.ui, own);
  return 'done';
};

/** The detection's warnings, and what was detected. */
export const describe: Step<InitRun> = (r) => {
  for (const w of r.detected!.warnings) r.ui.warn(w);
  describeClusters(r.detected!, r.ui);
};

/**
 * A re-run without --role-name continues with the role the wiring already names, when it is ours
 * (not for a secured cluster of --role-per-cluster: its role is named after it).
 */
export const continueWithOwnRole: Step<InitRun> = async (r) => {
  const own = r.answers.ownRoleForCluster ? undefined : await ownRoleFromWiring(r.answers, r.facts!, r.sessions!.aws);
  if (!own) return;
  r.ui.info(`The cluster's wiring already names ${own.arn}, a role rhacs-sts manages: continuing with it (pass --role-name to choose another).`);
  r.answers = { ...r.answers, roleName: own.name, rolePath: own.path };
};

// --- Asking and deciding -------------------------------------------------------------------------

/**
 * What an earlier run set for the role (its policies, tags and trust, and the wiring): every choice
 * whose flag is not given keeps it, and the wizard offers it as the default.
 */
const inPlaceReader = (r: InitRun) => {
  if (!r.inPlaceFor) {
    const reads = new Map<string, Promise<InPlace>>();
    r.inPlaceFor = (roleName) => {
      if (!reads.has(roleName)) reads.set(roleName, readInPlace(r.facts!, roleName, r.sessions!));
      return reads.get(roleName)!;
    };
  }
  return r.inPlaceFor;
};

/** Questions with defaults (role name, mechanism, delegated scanning, ECR scope): only for init at a terminal. */
export const ask: Step<InitRun> = async (r) => {
  const base = r.answers;
  checkPartitions(base, r.facts!);
  checkMechanism(base, r.facts!, r.ui.warn);
  const answered = await askDecisions(base, r.facts!, r.ui, inPlaceReader(r));
  checkMechanism(answered.mechanism === base.mechanism ? {} : answered, r.facts!, r.ui.warn);
  r.answers = answered;
};

/** The mechanism asked for can work in these clusters (a saved plan's, or offline). */
export const checkMechanismOnly: Step<InitRun> = (r) => {
  checkMechanism(r.answers, r.facts!, r.ui.warn);
};

/** Decisions: a flag (or an answer) wins, else what is in place, else the default. */
export const decide: Step<InitRun> = async (r) => {
  const o = r.answers;
  r.inPlace = r.sessions ? await inPlaceReader(r)(o.roleName ?? defaultRoleName(o.clusterName ?? r.facts!.clusterName)) : undefined;
  r.decisions = decisionsFromOptions(o, r.facts!, {}, r.inPlace);
};

/** The AWS state for the decided names (the role, the OIDC providers); `spinner` says so at a terminal. */
export const readAws = (how: { spinner: boolean }): Step<InitRun> => async (r) => {
  const read = () => readAwsState(r.facts!, r.decisions!, r.sessions!, { connectTo: r.answers.connectTo });
  const { aws, warnings } = how.spinner ? await r.ui.spinner('Reading the IAM role and OIDC provider…', read) : await read();
  r.aws = aws;
  if (how.spinner) for (const w of warnings) r.ui.warn(w);
  else r.detected!.warnings.push(...warnings);
};

/** Central's ECR integration: whether init converges it (flag or question), and Central's state. */
export const integrate: Step<InitRun> = async (r) => {
  r.integration = await prepareIntegration(r.answers, r.facts!, r.sessions!, r.ui);
};

/** The plan, from the facts, the decisions, the AWS state and Central's integration. */
export const buildPlan: Step<InitRun> = (r) => {
  const plan = buildInitPlan(r.facts!, r.decisions!, r.aws);
  r.integration?.addTo(plan, r.decisions!, r.facts!, r.answers);
  r.plan = plan;
};

/** Questions that need the plan (adopting what blocks it, restarting now): the plan is rebuilt with the answers. */
export const askAboutPlan: Step<InitRun> = async (r) => {
  const answered = await askAfterPlan(r.answers, r.plan!, r.ui);
  if (answered === r.answers) return;
  r.answers = answered;
  r.decisions = decisionsFromOptions(answered, r.facts!, r.decisions!.thumbprints, r.inPlace);
  await buildPlan(r);
};

// --- A saved plan ---------------------------------------------------------------------------------

/** The saved plan's choices become the run's; it fixes the ECR scope as a whole ("every repository, any region" is said). */
export const loadSaved: Step<InitRun> = (r) => {
  const saved = loadPlanFile(r.answers.planFile!);
  const fromPlan = optionsFromPlan(r.answers, saved);
  const o = fromPlan.options;
  r.saved = saved;
  r.perCluster = fromPlan.perCluster;
  r.answers = { ...o, ecrRepositories: o.ecrRepositories.length ? o.ecrRepositories : ['*'], ecrRegion: o.ecrRegion ?? '*' };
  checkInitOptions(r.answers);
};

/** Opens the sessions and detects the clusters as the saved plan names them. */
export const openSaved: Step<InitRun> = async (r) => {
  r.sessions = await openSessions(r.answers, r.ui);
  r.detected = await detect(r.answers, r.sessions, r.ui, { perCluster: r.perCluster! });
  r.facts = r.detected.facts;
};

/** The saved plan fixes the cross-account ECR role too (kept from what was in place when it was saved). */
export const keepSavedEcrRole: Step<InitRun> = (r) => {
  if (r.answers.ecrAssumeRole) return;
  const d = r.decisions!;
  const { assumeRoleArn: _drop, ...ecr } = d.ecr;
  const arn = r.saved!.inputs.ecr.assumeRoleArn;
  d.ecr = { ...ecr, ...(arn ? { assumeRoleArn: arn } : {}) };
};

export const warn: Step<InitRun> = (r) => {
  for (const w of r.detected!.warnings) r.ui.warn(w);
};

/** The plan rebuilt from the live state must match the saved one. */
export const matchSaved: Step<InitRun> = (r) => {
  checkDrift(r.saved!, { plan: r.plan!, inputs: inputsOf(r), detected: r.detected!, options: r.answers }, r.ui);
};

// --- Delivering -------------------------------------------------------------------------------------

const inputsOf = (r: InitRun): PlanInputs => planInputs(r.answers, r.decisions!, r.detected, r.plan!);

/** Secured clusters left out because they could not be reached: the run is not complete (exit 1). */
export const noteLeftOut: Step<InitRun> = (r) => {
  const left = r.sessions?.unreachable ?? [];
  if (!left.length) return;
  r.incomplete = new OperationError(
    `${left.length} secured cluster${left.length === 1 ? ' was' : 's were'} left out (the others are done):\n${left.map((u) => `  ✗ ${u.context}: ${u.message}`).join('\n')}`,
    { hint: `When ${left.length === 1 ? 'it is' : 'they are'} reachable, re-run "rhacs-sts ${r.answers.dryRun ? 'plan' : 'init'}" with the same flags: what is in place stays as it is.` },
  );
};

/**
 * A plan only (plan, --dry-run, --offline): printed with the values files it would write. A plan
 * with a blocker cannot be applied as it stands: it is printed, and the run fails (exit 1) saying why.
 */
export const showPlan: Step<InitRun> = (r) => {
  const { plan, answers: options, ui } = r;
  const failed = blockersError(plan!) ?? r.incomplete;
  printPlan(plan!, options, ui, inputsOf(r), { ...(r.sessions ? { leftOut: r.sessions.unreachable } : {}), ...(failed ? { error: errorJson(failed) } : {}) });
  writeHelmValues(plan!, options, ui);
  if (failed) throw failed;
};

/** Show → confirm → apply → one JSON document → summary. */
export const applyPlan: Step<InitRun> = async (r) => {
  const { plan, answers: options, ui, sessions } = r;
  const leftOut = (sessions!.unreachable ?? []).map((u) => u.context);
  const { isAction } = await loadCloud('aws');
  await deliver({
    plan: plan!, options, ui, leftOut,
    json: { inputs: inputsOf(r), leftOut: sessions!.unreachable },
    incomplete: r.incomplete,
    planOnStderr: true,
    confirm: { question: applyQuestion, review: 'rhacs-sts plan', blankLine: true },
    beforeConfirm: (changes) => highlightIam(changes, ui, isAction),
    blankBeforeApply: true,
    deps: { aws: sessions!.aws, kube: sessions!.kube, central: r.integration?.apply(plan!) },
    nothingToChange: (files) => {
      if (options.output !== 'json' && options.quiet) printOutcome(plan!, [], ui);
      if (!options.quiet) printDeferred(plan!, files, ui, afterInit());
    },
    done: (applied, files) => {
      if (options.output !== 'json' && options.quiet) printOutcome(plan!, applied, ui);
      printSummary(plan!, applied, options, ui, isAction, files);
    },
  });
};

/** A plan only, or applied: as the run asks. */
export const deliverPlan: Step<InitRun> = (r) => (r.answers.dryRun ? showPlan(r) : applyPlan(r));

/** The incomplete run (clusters left out) fails once everything else is done. */
export const failIfIncomplete: Step<InitRun> = (r) => {
  if (r.incomplete) throw r.incomplete;
};

export function printPlan(plan: Plan, options: Pick<Options, 'output'>, ui: Ui, inputs?: PlanInputs, extra: JsonExtra = {}): void {
  if (options.output === 'json') ui.result(planToJson(plan, { ...(inputs ? { inputs } : {}), ...extra }));
  else ui.result(renderPlanText(plan, ui.colors, { leftOut: (extra.leftOut ?? []).map((u) => u.context) }));
}
