/**
 * `init` and `plan`: discover → decide → plan → render → confirm → apply.
 *
 * At a terminal, init is a wizard: it detects first (under a spinner), asks only what flags, the
 * config file and detection left open, shows the plan with the IAM changes called out, asks once,
 * applies with a live task list and ends with what to do next. In a script the same command never
 * waits for input: a missing answer is an input error naming its flag, and applying needs --yes.
 * With --plan it applies a saved plan, after checking that the live state still matches it.
 */
import { hasCentralCredentials } from '../central/flow.js';
import { checkInitOptions } from '../decide.js';
import { CancelledError, handOverCloud, InputError, OperationError, type RhacsStsError } from '../errors.js';
import { reportOnInterrupt } from '../apply/interrupt.js';
import type { Options } from '../options/options.js';
import { errorJson } from '../render/plan-json.js';
import { inTurn, runSteps, type Step } from '../steps/run.js';
import * as s from '../steps/init.js';
import * as c from '../steps/cloud-init.js';
import { integrateOnCloud, requireCentralCredentials } from '../steps/cloud-central.js';
import { askOnCloud } from '../steps/cloud-ask.js';
import { cloudOfRun, cloudTitle } from '../clouds/registry.js';
import { loadCloudSaved, matchCloudSaved, readCloudPlanFile, refuseOfflineSaved, type SavedCloudPlan } from '../steps/cloud-saved-plan.js';
import type { Ui } from '../ui/ui.js';

/** --offline: a plan from the flags alone. */
const OFFLINE: Step<s.InitRun>[] = [s.factsFromFlags, s.checkMechanismOnly, s.decide, s.buildPlan, s.showPlan];

/** A live run: detect, ask what is open, read what is in place, plan, then show or apply. */
const LIVE: Step<s.InitRun>[] = [
  s.openAndDetect(publishFirst), s.keepOwnRoles(runRolePerCluster), s.describe, s.continueWithOwnRole, s.ask, s.decide,
  s.readAws({ spinner: true }), s.integrate, s.buildPlan, s.askAboutPlan, s.noteLeftOut, s.deliverPlan, s.failIfIncomplete,
];

/** `init --plan <file>`: rebuild the saved plan from the live state; apply it only if nothing drifted. */
const SAVED: Step<s.InitRun>[] = [
  s.loadSaved,
  (r) => r.ui.spinner(`Checking ${r.saved!.path} against the live state…`, async () => inTurn(
    s.openSaved, s.checkMechanismOnly, s.decide, s.keepSavedEcrRole, s.readAws({ spinner: false }), s.integrate, s.buildPlan,
  )(r)),
  s.warn, s.matchSaved, s.applyPlan,
];

/** A live run on a cloud other than AWS (Google Cloud): the same delivery, the cloud's own facts and plan. */
const ON_CLOUD: Step<c.CloudRun>[] = [c.refuseOffline, requireCentralCredentials, c.openClusters, askOnCloud, c.planOnCloud, integrateOnCloud, c.deliverCloudPlan];

/** `init --plan <file>` on a cloud other than AWS: the saved choices, the plan rebuilt live, applied only if nothing drifted. */
const onCloudSaved = (saved: SavedCloudPlan): Step<c.CloudRun & { saved?: SavedCloudPlan }>[] => [
  loadCloudSaved(saved), requireCentralCredentials,
  (r) => r.ui.spinner(`Checking ${saved.path} against the live state…`, async () => inTurn(c.openClusters, c.planOnCloud, integrateOnCloud)(r)),
  matchCloudSaved, c.deliverCloudPlan,
];

export async function runInit(options: Options, ui: Ui): Promise<void> {
  // A saved plan of a cloud other than AWS says its cloud itself.
  const savedOnCloud = options.planFile ? readCloudPlanFile(options.planFile) : undefined;
  if (savedOnCloud) {
    refuseOfflineSaved(options);
    await runSteps({ ui, answers: options, cloud: savedOnCloud.inputs.cloud }, onCloudSaved(savedOnCloud));
    return;
  }
  // The cloud of the run: --provider, else a GKE-shaped kubeconfig context (read without a request); else AWS's detection.
  const cloud = cloudOfRun({
    ...(options.cloud ? { cloud: options.cloud } : {}),
    ...(options.provider ? { provider: options.provider } : {}),
    ...(!options.provider && !options.offline && !options.planFile ? { kubeconfigPlatform: await c.kubeconfigPlatform(options) } : {}),
  });
  if (cloud && cloud !== 'aws') {
    if (options.planFile) throw new InputError([{ source: '--plan', message: `${options.planFile} is a plan for AWS, not for ${cloudTitle(cloud)}: make one with "rhacs-sts plan --output json" on this cluster` }]);
    await runSteps({ ui, answers: options, cloud }, ON_CLOUD);
    return;
  }
  if (options.offline) {
    if (!options.dryRun) {
      throw new InputError(
        [{ source: '--offline', message: 'only plans (nothing can be applied without contacting AWS and the cluster)' }],
        `Use "rhacs-sts plan --offline …" or add --dry-run.`,
      );
    }
    await runSteps({ ui, answers: options }, OFFLINE);
    return;
  }
  checkInitOptions(options);
  // --- Central's ECR integration: credentials are input, checked before anything is contacted ---
  if (options.configureIntegration && !hasCentralCredentials(options)) {
    throw new InputError([{ source: '--configure-integration', message: 'needs Central credentials: set ROX_API_TOKEN (or ROX_API_TOKEN_FILE) or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password' }]);
  }
  if (options.planFile) {
    await runSteps({ ui, answers: options }, SAVED);
    return;
  }
  if (options.rolePerCluster) return runRolePerCluster(options, ui);
  if (options.publishIssuer && !options.dryRun && !ui.interactive) {
    throw new InputError(
      [{ source: '--publish-issuer', message: "points the cluster at a new issuer, which is confirmed a second time at a terminal: run init at a terminal, or run \"rhacs-sts issuer publish\" and set the cluster's issuer first" }],
    );
  }
  try {
    await runSteps({ ui, answers: options }, LIVE);
  } catch (err) {
    // Detection found OpenShift on Google Cloud or Azure (its Infrastructure object): the run is that cloud's.
    const to = handOverCloud(err);
    if (to !== 'azure' && to !== 'gcp') throw err;
    ui.debug(`the cluster is OpenShift on ${to === 'gcp' ? 'Google Cloud' : 'Azure'}: continuing as --provider openshift --cloud ${to}`);
    await runInit({ ...options, provider: 'openshift', cloud: to }, ui);
  }
}

/** OpenShift without STS, at a terminal: "issuer publish --set-cluster-issuer" first. */
async function publishFirst(options: Options, ui: Ui): Promise<boolean> {
  const { publishIssuer } = await import('./issuer.js');
  const { openOneCluster } = await import('../steps/open.js');
  return (await publishIssuer(options, ui, await openOneCluster(options, ui))).clusterIssuerSet;
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
