/**
 * Saved plans on a cloud other than AWS (GKE, AKS), as on AWS: `rhacs-sts plan --output json >
 * p.json` carries the choices it was made with (`inputs`: the flags that decide what changes, and
 * the clusters as they were read); `rhacs-sts init --plan p.json` makes those choices the run's,
 * rebuilds the plan from the live state and applies it only if it still matches (planDrift), else
 * refuses with what changed and nothing written.
 */
import { readFileSync } from 'node:fs';
import { InputError, OperationError, ProblemList } from '../errors.js';
import type { Options } from '../options/options.js';
import { PLAN_VERSION, planDrift, type SavedAction, type SavedPlan } from '../options/plan-file.js';
import { dns1123Label, clusterName as clusterNameProblem, integrationName as integrationNameProblem, type Check } from '../validate.js';
import { planToJson } from '../render/plan-json.js';
import type { AnyPlan, ClusterFacts } from '../plan/model.js';
import type { Ui } from '../ui/ui.js';
import { shellWord } from './saved-plan.js';
import type { Step } from './run.js';

/** The part of a cloud run (cloud-init.ts's CloudRun) a saved plan reads and sets. */
interface CloudRun {
  ui: Ui;
  answers: Options;
  cloud: 'gcp' | 'azure';
  clusters?: ClusterFacts[];
  kubeContexts?: string[];
  plan?: AnyPlan;
}

/** The options that decide what a cloud's plan changes: a saved plan fixes them. */
const FIXED = [
  'provider', 'cloud', 'context', 'centralContext', 'sensorContexts', 'namespace', 'clusterName', 'delegatedScanning', 'restart',
  'configureIntegration', 'integrationName', 'adoptIntegration',
  'gcpProject', 'gcpServiceAccount', 'garRepositories', 'adoptServiceAccount',
  'azureSubscription', 'resourceGroup', 'azureIdentity', 'acr',
] as const satisfies readonly (keyof Options)[];
type Fixed = (typeof FIXED)[number];

/** The flag of each fixed option, as a person writes it. */
const FLAG: Record<Fixed, string> = {
  provider: '--provider', cloud: '--cloud', context: '--context', centralContext: '--central-context', sensorContexts: '--sensor-context',
  namespace: '--namespace', clusterName: '--cluster-name', delegatedScanning: '--delegated-scanning', restart: '--no-restart',
  configureIntegration: '--configure-integration', integrationName: '--integration-name', adoptIntegration: '--adopt-integration',
  gcpProject: '--gcp-project', gcpServiceAccount: '--gcp-service-account', garRepositories: '--gar-repository', adoptServiceAccount: '--adopt-service-account',
  azureSubscription: '--azure-subscription', resourceGroup: '--resource-group', azureIdentity: '--azure-identity', acr: '--acr',
};

/** Whether the command line (or config file) gave an option: a value other than its default. */
function given(o: Options, k: Fixed): boolean {
  const v = o[k];
  if (k === 'restart') return v === false;
  if (Array.isArray(v)) return v.length > 0;
  if (k === 'adoptIntegration' || k === 'adoptServiceAccount') return v === true;
  return v !== undefined;
}

export interface CloudPlanInputs {
  cloud: CloudRun['cloud'];
  /** The fixed options as given (absent: not given, so detected or defaulted again). */
  options: Partial<Pick<Options, Fixed>>;
  /** The clusters as they were read: a kubeconfig pointing elsewhere, or a new issuer, is drift. */
  clusters: { context?: string; kubeContext?: string; issuer: string; namespace: string; components: string[] }[];
}

/** The inputs a cloud's plan document carries, from the run that made it. */
export function cloudPlanInputs(r: CloudRun): CloudPlanInputs {
  const options = Object.fromEntries(FIXED.filter((k) => given(r.answers, k)).map((k) => [k, r.answers[k]])) as CloudPlanInputs['options'];
  return {
    cloud: r.cloud,
    options,
    clusters: (r.clusters ?? []).map((c, i) => ({
      ...(c.context !== undefined ? { context: c.context } : {}),
      ...(r.kubeContexts?.[i] ? { kubeContext: r.kubeContexts[i] } : {}),
      issuer: c.issuer, namespace: c.namespace, components: [...c.components],
    })),
  };
}

export interface SavedCloudPlan {
  path: string;
  doc: Record<string, unknown> & { actions: SavedAction[] };
  inputs: CloudPlanInputs;
}

const SOURCE = '--plan';
const RESAVE = 'Save the plan again with: rhacs-sts plan --output json > plan.json (with the same flags), review it, then run rhacs-sts init --plan plan.json.';
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

/** The saved plan at `path` when it is a cloud's (GKE, AKS); undefined for AWS's (its own reader checks it). */
export function readCloudPlanFile(path: string): SavedCloudPlan | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // AWS's reader says what is wrong with it.
  }
  if (!isObject(doc) || (doc.cloud !== 'gcp' && doc.cloud !== 'azure')) return undefined;
  return parseSavedCloudPlan(path, doc);
}

/** Checks a cloud's plan document; every problem at once, each naming --plan. */
export function parseSavedCloudPlan(path: string, d: Record<string, unknown>): SavedCloudPlan {
  const problems = new ProblemList();
  const bad = (message: string) => problems.add(SOURCE, `${path}: ${message}`);
  if (d.planVersion !== PLAN_VERSION) bad(`has planVersion ${JSON.stringify(d.planVersion)}; this version of rhacs-sts reads planVersion ${PLAN_VERSION}`);
  if (d.command !== 'init') bad(`is a plan for "${String(d.command)}", not for init`);
  if (d.applied !== undefined) bad('is the result of an init run, not a saved plan');
  if (Array.isArray(d.blockers) && d.blockers.length > 0) bad(`could not be applied when it was made: ${(d.blockers as { message?: string }[]).map((b) => b.message).join(' ')}`);
  if (!Array.isArray(d.actions) || !d.actions.every((a) => isObject(a) && isString(a.id) && isString(a.type) && isString(a.status))) bad('has no valid list of actions (each with id, type and status)');
  const inputs = d.inputs;
  if (!isObject(inputs) || inputs.cloud !== d.cloud || !isObject(inputs.options) || !Array.isArray(inputs.clusters) || inputs.clusters.length === 0
    || !inputs.clusters.every((c) => isObject(c) && isString(c.issuer) && isString(c.namespace) && (c.context === undefined || isString(c.context)) && (c.kubeContext === undefined || isString(c.kubeContext)))) {
    bad('has no valid "inputs" section (the cloud, the choices and the clusters it was built from)');
  } else {
    checkFixedValues(inputs.options, bad);
  }
  problems.throwIfAny(RESAVE);
  return { path, doc: d as SavedCloudPlan['doc'], inputs: inputs as unknown as CloudPlanInputs };
}

/** A saved plan is input like any flag: each fixed value of the right type, and the names pass the flags' checks. */
function checkFixedValues(o: Record<string, unknown>, bad: (message: string) => void): void {
  const strings: Check = (x) => (x.length <= 1024 ? undefined : 'is too long');
  const rules: Partial<Record<Fixed, Check>> = { namespace: dns1123Label, clusterName: clusterNameProblem, integrationName: integrationNameProblem };
  for (const [k, v] of Object.entries(o)) {
    if (!(FIXED as readonly string[]).includes(k)) {
      bad(`inputs.options.${k} is not a choice a saved plan fixes`);
      continue;
    }
    const key = k as Fixed;
    const kind = key === 'sensorContexts' ? 'strings' : key === 'garRepositories' ? 'repositories'
      : ['delegatedScanning', 'restart', 'configureIntegration', 'adoptIntegration', 'adoptServiceAccount'].includes(key) ? 'boolean' : 'string';
    const ok = kind === 'boolean' ? typeof v === 'boolean'
      : kind === 'strings' ? Array.isArray(v) && v.every(isString)
      : kind === 'repositories' ? Array.isArray(v) && v.every((r) => isObject(r) && isString(r.location) && isString(r.repository))
      : isString(v);
    if (!ok) {
      bad(`inputs.options.${key} is not ${kind === 'boolean' ? 'true or false' : kind === 'string' ? 'a string' : 'a list'}`);
      continue;
    }
    if (kind === 'string') {
      const problem = (rules[key] ?? strings)(v as string);
      if (problem) bad(`inputs.options.${key}: ${problem}`);
    }
  }
}

/**
 * The run's options from a saved plan: its choices over the command line's. A flag that would
 * change what the plan fixes is refused, naming it (the plan is what was reviewed).
 */
export function cloudOptionsFromPlan(options: Options, saved: SavedCloudPlan): Options {
  const fixed = saved.inputs.options;
  const problems = new ProblemList();
  for (const k of FIXED) {
    if (given(options, k) && JSON.stringify(options[k]) !== JSON.stringify(fixed[k])) {
      problems.add(FLAG[k], `is ${JSON.stringify(options[k])}, but ${saved.path} was planned with ${fixed[k] === undefined ? 'none' : JSON.stringify(fixed[k])}; the saved plan fixes it, so drop the flag (or make a new plan)`);
    }
  }
  problems.throwIfAny('Flags that choose what to change belong to "rhacs-sts plan"; with --plan, only flags about how to run (--yes, --output, --kubeconfig, --timeout, --request-timeout, --helm-values-out) apply.');
  const defaults: Partial<Options> = { sensorContexts: [], garRepositories: [], restart: true, adoptIntegration: false, adoptServiceAccount: false };
  const cleared = Object.fromEntries(FIXED.map((k) => [k, k in defaults ? defaults[k] : undefined]));
  return { ...options, ...cleared, ...fixed } as Options;
}

/** The plan command that makes the same choices (for the drift hint). */
export function cloudPlanCommand(saved: SavedCloudPlan, kubeconfig?: string): string {
  const parts = ['rhacs-sts plan'];
  if (kubeconfig) parts.push(`--kubeconfig ${shellWord(kubeconfig)}`);
  for (const k of FIXED) {
    const v = saved.inputs.options[k];
    if (v === undefined) continue;
    if (k === 'restart') { if (v === false) parts.push('--no-restart'); continue; }
    if (k === 'delegatedScanning') { parts.push(v ? '--delegated-scanning' : '--no-delegated-scanning'); continue; }
    if (typeof v === 'boolean') { if (v) parts.push(FLAG[k]); continue; }
    if (k === 'garRepositories') { for (const r of v as { location: string; repository: string }[]) parts.push(`${FLAG[k]} ${shellWord(`${r.location}/${r.repository}`)}`); continue; }
    if (Array.isArray(v)) { for (const x of v as string[]) parts.push(`${FLAG[k]} ${shellWord(x)}`); continue; }
    parts.push(`${FLAG[k]} ${shellWord(String(v))}`);
  }
  return parts.join(' ');
}

/** The top-level fields of a cloud's plan that name where it acts: one that changed is drift. */
const WHERE = ['cloud', 'provider', 'projectId', 'projectNumber', 'serviceAccount', 'subscriptionId', 'tenantId', 'identity', 'registry'] as const;

/** What differs between the saved plan and the live one, one sentence each; empty when they match. */
export function cloudPlanDrift(saved: SavedCloudPlan, r: Pick<CloudRun, 'plan' | 'clusters' | 'kubeContexts'>): string[] {
  const live = JSON.parse(planToJson(r.plan!)) as Record<string, unknown> & { actions: SavedAction[] };
  const out: string[] = [];
  for (const k of WHERE) {
    // A new identity's ids are learnt when it is made: only what the saved plan knew is compared.
    const was = k === 'identity' ? pickKnown(saved.doc[k]) : saved.doc[k];
    const now = k === 'identity' ? pickKnown(live[k]) : live[k];
    if (was !== undefined && JSON.stringify(was) !== JSON.stringify(now)) out.push(`${k}: was ${JSON.stringify(was)}, now ${JSON.stringify(now)}`);
  }
  for (const [i, c] of (r.clusters ?? []).entries()) {
    const was = saved.inputs.clusters.find((x) => (x.context ?? '') === (c.context ?? ''));
    const label = c.context ? `context ${c.context}` : 'the current context';
    if (!was) {
      out.push(`${label}: not a cluster of the saved plan`);
      continue;
    }
    const kubeContext = r.kubeContexts?.[i];
    if (was.kubeContext && kubeContext && was.kubeContext !== kubeContext) out.push(`${label}: was "${was.kubeContext}", the kubeconfig now selects "${kubeContext}"`);
    if (was.issuer !== c.issuer) out.push(`${label}: the cluster's issuer was ${was.issuer}, now ${c.issuer}`);
  }
  const asAws = { path: saved.path, doc: { ...saved.doc, accountId: '', region: '' }, inputs: {} } as unknown as SavedPlan;
  out.push(...planDrift(asAws, { doc: { ...live, accountId: '', region: '' } }));
  return out;
}

function pickKnown(x: unknown): unknown {
  if (!isObject(x)) return x;
  return Object.fromEntries(Object.entries(x).filter(([k, v]) => v !== undefined && v !== null && !/^(clientId|principalId)$/.test(k)));
}

/** Reads the saved plan and makes its choices the run's (before anything is contacted). */
export function loadCloudSaved(saved: SavedCloudPlan): Step<CloudRun & { saved?: SavedCloudPlan }> {
  return (r) => {
    r.saved = saved;
    r.answers = cloudOptionsFromPlan(r.answers, saved);
  };
}

/** Refuses, nothing changed, when the live plan differs from the saved one; says so when it matches. */
export const matchCloudSaved: Step<CloudRun & { saved?: SavedCloudPlan }> = (r) => {
  const saved = r.saved!;
  const drift = cloudPlanDrift(saved, r);
  if (drift.length) {
    const shown = drift.slice(0, 12).map((x) => `  - ${x}`);
    if (drift.length > shown.length) shown.push(`  - … and ${drift.length - shown.length} more`);
    throw new OperationError(
      `The live state has drifted since ${saved.path} was saved, so it no longer shows what would change. Nothing was changed. What differs:\n${shown.join('\n')}`,
      { hint: `Make and review a new plan with the same choices: ${cloudPlanCommand(saved, r.answers.kubeconfig)} --output json > ${shellWord(saved.path)}, then rhacs-sts init --plan ${shellWord(saved.path)}.` },
    );
  }
  r.ui.info(r.ui.logColors.green(`✓ The live state matches ${saved.path}.`));
};

/** --offline next to --plan is bad input: a saved plan is applied only after the live state is read and matched. */
export function refuseOfflineSaved(o: Options): void {
  if (o.offline) throw new InputError([{ source: '--offline', message: 'cannot be used with --plan: a saved plan is checked against the live state' }]);
}
