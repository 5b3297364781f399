/**
 * `uninstall`: discover → plan the removal (buildUninstallPlan; pure) → render it like init's plan
 * → (--dry-run stops here) → confirm → apply → summary. Only what carries our tag is deleted, an
 * OIDC provider only when no other role trusts it; a second run finds nothing to change.
 */
import { applyPlan, type ApplyResult } from '../apply/apply.js';
import type { AwsSession } from '../aws/session.js';
import { discover, openSessions, type Discovered } from '../discover.js';
import { CancelledError, InputError, OperationError } from '../errors.js';
import { writeHelmValues, type HelmValuesFile } from '../apply/helm-values.js';
import { helmUpgradeCommand } from '../plan/helm-values.js';
import { outageWarning } from '../plan/restarts.js';
import type { Options } from '../options.js';
import type { Plan } from '../plan/model.js';
import { buildUninstallPlan } from '../plan/uninstall.js';
import { planToJson } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import { createTaskList } from '../ui/tasks.js';
import type { Ui } from '../ui/ui.js';
import { pointedRoleArn, roleInAccount } from '../verify/pointers.js';

export async function runUninstall(options: Options, ui: Ui): Promise<void> {
  ui.step('Reading the cluster and the AWS account…');
  const sessions = await openSessions(options, ui);
  const found = await discover(options, sessions, ui);
  for (const w of found.warnings) ui.warn(w);
  await inferRole(options, sessions.aws, found, ui);

  const otherTrusters: Record<string, string[]> = {};
  await Promise.all(Object.entries(found.aws.oidcProviders).map(async ([issuer, p]) => {
    if (p) otherTrusters[issuer] = await sessions.aws.rolesTrusting(p.arn);
  }));
  const plan = buildUninstallPlan(found.facts, found.decisions, found.aws, { keepOidcProvider: options.keepOidcProvider, allClusters: options.allClusters, otherTrusters });
  const changes = plan.actions.filter((a) => a.status !== 'unchanged');

  if (options.dryRun) {
    ui.result(options.output === 'json' ? planToJson(plan) : renderPlanText(plan, ui.colors));
    writeHelmValues(plan, options, ui);
    return;
  }
  if (options.output === 'text') ui.result(renderPlanText(plan, ui.colors));
  if (plan.blockers.length) {
    throw new OperationError(`Cannot apply: ${plan.blockers.map((b) => b.message).join(' ')}`, { hint: plan.blockers.map((b) => b.hint).join(' ') });
  }
  if (changes.length === 0) {
    const files = writeHelmValues(plan, options, ui);
    if (options.output === 'json') ui.result(planToJson(plan, { applied: [], ...(files ? { helmValuesFiles: files } : {}) }));
    return;
  }
  await confirm(options, ui, changes.length, outageWarning(plan));

  // Written before anything is applied: a path that cannot be written stops the run unchanged.
  const files = writeHelmValues(plan, options, ui);
  const tasks = createTaskList(ui);
  let applied: ApplyResult[];
  try {
    applied = await applyPlan(plan, { aws: sessions.aws, kube: sessions.kube, progress: tasks, timeoutMs: options.timeoutMs });
  } finally {
    tasks.stop();
  }
  if (options.output === 'json') {
    ui.result(planToJson(plan, { applied, ...(files ? { helmValuesFiles: files } : {}) }));
    return;
  }
  const done = applied.filter((r) => r.outcome === 'done').length;
  ui.info('');
  ui.info(ui.logColors.green(`✓ Done: ${done} change${done === 1 ? '' : 's'} applied.`));
  printLeftovers(plan, ui, files);
}

/**
 * Without --role-name, and no role of the default name: the role the cluster's configuration
 * points at (only a role tagged as ours is ever deleted, so this cannot reach anyone else's).
 */
async function inferRole(options: Options, aws: AwsSession, found: Discovered, ui: Ui): Promise<void> {
  if (options.roleName || found.aws.role) return;
  const pointed = pointedRoleArn(found.facts.clusters);
  const r = roleInAccount(pointed, found.facts.accountId);
  if (!r || r.name === found.decisions.roleName) return;
  ui.info(`No role named ${found.decisions.roleName}; the cluster points at ${pointed}, so that is the role uninstall looks at (pass --role-name to choose).`);
  found.decisions.roleName = r.name;
  found.decisions.rolePath = r.path;
  found.aws = await aws.readState({
    accountId: found.facts.accountId, partition: found.facts.partition,
    issuers: [...new Set(found.facts.clusters.map((c) => c.issuer))], roleName: r.name,
  });
}

async function confirm(options: Options, ui: Ui, count: number, outage?: string): Promise<void> {
  if (options.yes) {
    if (outage) ui.info(`${outage}.`);
    return;
  }
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${count} change${count === 1 ? '' : 's'} when not running at a terminal` }],
      'Review the plan with "rhacs-sts uninstall --dry-run", then re-run with --yes.');
  }
  const ok = await ui.confirm(`Remove: apply ${count} change${count === 1 ? '' : 's'}?${outage ? ` (${outage})` : ''}`, false);
  if (!ok) throw new CancelledError('Cancelled: nothing was changed.');
}

function printLeftovers(plan: Plan, ui: Ui, files?: HelmValuesFile[]): void {
  const kept = plan.actions.filter((a) => a.type === 'oidc-provider' && a.status === 'unchanged');
  for (const a of kept) ui.info(`  Kept: ${a.summary.replace(/^Keep /, '')}.`);
  const deferred = plan.actions.filter((a) => a.type === 'restart' && a.deferred);
  const restarts = deferred.filter((a) => a.type === 'restart' && a.method === 'restartedAt');
  if (restarts.length) {
    ui.info('Restart later so the pods stop using the role:');
    for (const a of restarts) if (a.type === 'restart') ui.info(`  kubectl${a.ref.context ? ` --context ${a.ref.context}` : ''} -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}`);
  }
  if (deferred.length > restarts.length) {
    ui.info('When a rollout suits, apply the Helm values that undo the wiring (this rolls the pods):');
    for (const h of plan.helmValues ?? []) ui.info(`  ${helmUpgradeCommand(h, files?.find((f) => f.release === h.release && f.context === h.context)?.file)}`);
  }
}
