/**
 * `uninstall`: discover → plan the removal (buildUninstallPlan; pure) → render it like init's plan
 * → (--dry-run stops here) → confirm → apply → summary. Only what carries our tag is deleted, an
 * OIDC provider only when no other role trusts it; a second run finds nothing to change.
 */
import { alsoFound } from '../apply/apply.js';
import { defaultRoleName } from '../decide.js';
import { ownRoleClusters, type Discovered } from '../discover.js';
import { handOverCloud, OperationError } from '../errors.js';
import { cloudOfRun, loadCloud } from '../clouds/registry.js';
import * as c from '../steps/cloud-init.js';
import { integrateOnCloud } from '../steps/cloud-central.js';
import { runSteps } from '../steps/run.js';
import { writeHelmValues } from '../apply/helm-values.js';
import type { Options } from '../options/options.js';
import { buildUninstallPlan } from '../plan/uninstall.js';
import { errorJson, planToJson } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';
import { applyIntegration, centralTarget, hasCentralCredentials, planForUninstall, readCentral } from '../central/flow.js';
import { INTEGRATION_RECORD_ANNOTATION, parseRecord } from '../central/integration.js';
import { afterUninstall, printDeferred } from '../steps/deferred.js';
import { deliver } from '../steps/deliver.js';
import { inferRole, openAndDiscover } from '../steps/open.js';

export async function runUninstall(options: Options, ui: Ui): Promise<void> {
  // The cloud of the run, as init finds it: a cloud other than AWS runs its own steps.
  const cloud = cloudOfRun({
    ...(options.cloud ? { cloud: options.cloud } : {}),
    ...(options.provider ? { provider: options.provider } : { kubeconfigPlatform: await c.kubeconfigPlatform(options) }),
  });
  if (cloud && cloud !== 'aws') {
    await runSteps({ ui, answers: options, cloud }, [c.openClusters, c.planOnCloud, integrateOnCloud, c.deliverCloudPlan]);
    return;
  }
  let opened;
  try {
    opened = await openAndDiscover(options, ui, { inferRole: false, warnings: false });
  } catch (err) {
    // Detection found OpenShift on Google Cloud or Azure (its Infrastructure object): the run is that cloud's.
    const to = handOverCloud(err);
    if (to !== 'azure' && to !== 'gcp') throw err;
    return runUninstall({ ...options, provider: 'openshift', cloud: to }, ui);
  }
  const { sessions, found } = opened;
  // Secured clusters with a role of their own (from --role-per-cluster): each is undone with its role, in a run of its own.
  const own = await ownRoleClusters(options, found.facts, sessions.aws);
  if (own.length) return uninstallPerRole(options, ui, found, own);
  for (const w of found.warnings) ui.warn(w);
  await inferRole(options, sessions.aws, found, ui);

  const otherTrusters: Record<string, string[]> = {};
  await Promise.all(Object.entries(found.aws.oidcProviders).map(async ([issuer, p]) => {
    if (p) otherTrusters[issuer] = await sessions.aws.rolesTrusting(p.arn);
  }));
  const plan = buildUninstallPlan(found.facts, found.decisions, found.aws, { keepOidcProvider: options.keepOidcProvider, allClusters: options.allClusters, otherTrusters });

  // --- Central's ECR integration: the one rhacs-sts created goes, the one it adopted is switched back ---
  const target = centralTarget(found.facts, sessions);
  const record = parseRecord(target?.cluster.current?.central?.serviceAccount?.annotations[INTEGRATION_RECORD_ANNOTATION]);
  let central: Awaited<ReturnType<typeof readCentral>> | undefined;
  if (target && record) {
    if (hasCentralCredentials(options)) {
      central = await readCentral(options, target, ui);
      const action = planForUninstall(target, central);
      if (action) plan.actions.unshift(action);
    } else {
      plan.notes.push(`rhacs-sts ${record.created ? 'created' : 'changed'} the ECR integration ${record.id} in RHACS; without Central credentials (ROX_API_TOKEN, ROX_ADMIN_PASSWORD or --use-generated-admin-password) it is left as it is: it would use a role that is about to go.`);
    }
  }
  const leftOut = (sessions.unreachable ?? []).map((u) => u.context);
  const publishing = await (await loadCloud('aws')).issuerPublishing();
  const unpublish = () => publishing.removePublishedIssuers(options, ui, sessions, found, plan);

  if (options.dryRun) {
    ui.result(options.output === 'json' ? planToJson(plan) : renderPlanText(plan, ui.colors, { leftOut }));
    writeHelmValues(plan, options, ui);
    await unpublish();
    return;
  }
  const json = options.output === 'json';
  await deliver({
    plan, options, ui, leftOut,
    confirm: {
      question: (count, outage) => `Remove: apply ${count} change${count === 1 ? '' : 's'}?${outage ? ` (${outage})` : ''}`,
      review: 'rhacs-sts uninstall --dry-run',
      blankLine: false,
    },
    deps: {
      aws: sessions.aws, kube: sessions.kube,
      central: central && target
        ? (a) => applyIntegration(a, { client: central!.client, kube: target.kube, failure: { cluster: target.cluster, roleArn: plan.role.arn, initCommand: 'rhacs-sts init --configure-integration' } })
        : undefined,
    },
    nothingToChange: async () => {
      if (!json && options.quiet) ui.result(`nothing to remove for ${plan.role.arn}`);
      await unpublish();
    },
    afterApply: unpublish,
    done: (applied, files) => {
      if (json) return;
      const done = applied.filter((r) => r.outcome === 'done').length;
      if (options.quiet) ui.result(`removed for ${plan.role.arn}: ${done} change${done === 1 ? '' : 's'} applied`);
      ui.info('');
      ui.info(ui.logColors.green(`✓ Done: ${done} change${done === 1 ? '' : 's'} applied${alsoFound(plan, applied)}.`));
      for (const a of plan.actions.filter((x) => x.type === 'oidc-provider' && x.status === 'unchanged')) ui.info(`  Kept: ${a.summary.replace(/^Keep /, '')}.`);
      printDeferred(plan, files, ui, afterUninstall);
    },
  });
}

/**
 * A fleet whose secured clusters have roles of their own: Central's cluster (and secured clusters
 * on its role) with the run's role, then each of the others with its own role, rhacs-sts-<cluster>.
 * One failing does not stop the others; with --output json the runs are collected into one document.
 */
async function uninstallPerRole(options: Options, ui: Ui, found: Discovered, own: readonly string[]): Promise<void> {
  const shared = options.sensorContexts.filter((c) => !own.includes(c));
  const runs = [
    { cluster: options.centralContext ?? 'current context', options: { ...options, sensorContexts: shared } },
    ...found.facts.clusters.filter((c) => c.context !== undefined && own.includes(c.context)).map((c) => ({
      cluster: c.context!,
      options: { ...options, centralContext: undefined, context: c.context, sensorContexts: [], clusterName: undefined, roleName: defaultRoleName(c.name) },
    })),
  ];
  const json = options.output === 'json';
  if (!json) ui.info(`${own.join(', ')} ${own.length === 1 ? 'has a role of its own' : 'have roles of their own'} (from --role-per-cluster): each is undone with it, in a run of its own.`);
  const docs: Record<string, unknown>[] = [];
  const failures: { cluster: string; err: unknown }[] = [];
  for (const run of runs) {
    if (!json) ui.info(ui.logColors.bold(`\n── ${run.cluster} (role ${run.options.roleName ?? 'from its wiring'}) ──`));
    let out = '';
    const sub: Ui = json ? { ...ui, result: (text: string) => { out += text; } } : ui;
    try {
      await runUninstall(run.options, sub);
    } catch (err) {
      if ((err as { exitCode?: number }).exitCode === 130) throw err;
      failures.push({ cluster: run.cluster, err });
      if (!json) ui.warn(`${run.cluster}: ${(err as Error)?.message ?? String(err)}`);
    }
    if (json) docs.push({ cluster: run.cluster, ...(out.trim() ? (JSON.parse(out) as Record<string, unknown>) : { error: errorJson(failures.at(-1)?.err) }) });
  }
  const failed = failures.length
    ? new OperationError(`${failures.length} of ${runs.length} clusters failed:\n${failures.map((f) => `  ✗ ${f.cluster}: ${(f.err as Error)?.message?.split('\n')[0] ?? String(f.err)}`).join('\n')}`,
      { hint: 'Re-running the same command resumes: what is already removed stays removed.' })
    : undefined;
  if (json) ui.result(JSON.stringify({ rolePerCluster: true, runs: docs, ...(failed ? { error: errorJson(failed) } : {}) }, null, 2));
  if (failed) throw failed;
}
