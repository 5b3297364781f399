/**
 * `uninstall`: discover → plan the removal (buildUninstallPlan; pure) → render it like init's plan
 * → (--dry-run stops here) → confirm → apply → summary. Only what carries our tag is deleted, an
 * OIDC provider only when no other role trusts it; a second run finds nothing to change.
 */
import { alsoFound, applyPlan, type ApplyResult } from '../apply/apply.js';
import type { AwsSession } from '../aws/session.js';
import { discover, openSessions, type Discovered } from '../discover.js';
import { CancelledError, InputError } from '../errors.js';
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
  const extra = { leftOut: (sessions.unreachable ?? []).map((u) => u.context) };

  if (options.dryRun) {
    ui.result(options.output === 'json' ? planToJson(plan) : renderPlanText(plan, ui.colors, extra));
    return;
  }
  if (options.output === 'text') ui.result(renderPlanText(plan, ui.colors, extra));
  if (changes.length === 0) {
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
  if (options.output === 'json') {
    ui.result(planToJson(plan, { applied }));
    return;
  }
  const done = applied.filter((r) => r.outcome === 'done').length;
  ui.info('');
  ui.info(ui.logColors.green(`✓ Done: ${done} change${done === 1 ? '' : 's'} applied${alsoFound(plan, applied)}.`));
  printLeftovers(plan, ui);
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

async function confirm(options: Options, ui: Ui, count: number): Promise<void> {
  if (options.yes) return;
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${count} change${count === 1 ? '' : 's'} when not running at a terminal` }],
      'Review the plan with "rhacs-sts uninstall --dry-run", then re-run with --yes.');
  }
  const ok = await ui.confirm(`Remove: apply ${count} change${count === 1 ? '' : 's'}?`, false);
  if (!ok) throw new CancelledError('Cancelled: nothing was changed.');
}

function printLeftovers(plan: Plan, ui: Ui): void {
  const kept = plan.actions.filter((a) => a.type === 'oidc-provider' && a.status === 'unchanged');
  for (const a of kept) ui.info(`  Kept: ${a.summary.replace(/^Keep /, '')}.`);
  const deferred = plan.actions.filter((a) => a.type === 'restart' && a.deferred);
  if (deferred.length) {
    ui.info('Restart later so the pods stop using the role:');
    for (const a of deferred) if (a.type === 'restart') ui.info(`  kubectl -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}`);
  }
}
