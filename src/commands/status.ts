/**
 * `status`: what rhacs-sts manages in this account and these clusters, and whether each piece is
 * healthy — as a table, or one JSON document. It reads what uninstall reads (the same discovery,
 * and the role the wiring points at when none is named) and writes nothing: its cluster sessions
 * refuse writes. Exit 0 when everything it manages is healthy, 3 when something is not (as verify).
 */
import { ownRoleClusters, type Discovered, type Sessions } from '../discover.js';
import { handOverCloud, VerifyFailedError } from '../errors.js';
import { cloudOfRun } from '../clouds/registry.js';
import * as c from '../steps/cloud-init.js';
import { runSteps } from '../steps/run.js';
import type { Options } from '../options/options.js';
import { mergeStatus, statusOfDiscovered, type StatusReport } from '../status.js';
import type { Ui } from '../ui/ui.js';
import type { ChalkInstance } from 'chalk';
import { inferRole, openAndDiscover, perOwnRole } from '../steps/open.js';

export async function runStatus(options: Options, ui: Ui): Promise<void> {
  // The cloud of the run, as init finds it: a cloud other than AWS reports through its own steps.
  const cloud = cloudOfRun({
    ...(options.cloud ? { cloud: options.cloud } : {}), ...(options.provider ? { provider: options.provider } : { kubeconfigPlatform: await c.kubeconfigPlatform(options) }) });
  if (cloud && cloud !== 'aws') {
    await runSteps({ ui, answers: options, cloud }, [c.openClusters, c.planOnCloud, c.statusOnCloud]);
    return;
  }
  let opened: Awaited<ReturnType<typeof openAndDiscover>>;
  try {
    opened = await openAndDiscover(options, ui, { inferRole: false });
  } catch (err) {
    // Detection found OpenShift on Google Cloud or Azure (its Infrastructure object): the report is that cloud's.
    const to = handOverCloud(err);
    if (to !== 'azure' && to !== 'gcp') throw err;
    return runStatus({ ...options, provider: 'openshift', cloud: to }, ui);
  }
  const { sessions, found } = opened;
  // Secured clusters with a role of their own (--role-per-cluster, or read back from their wiring) are looked at with it.
  const own = options.rolePerCluster ? options.sensorContexts : await ownRoleClusters(options, found.facts, sessions.aws);
  const report = own.length ? mergeStatus(await perOwnRole(options, sessions, found, own, (o, f) => statusOf(o, ui, sessions, f, true))) : await statusOf(options, ui, sessions, found);
  ui.result(options.output === 'json' ? JSON.stringify(report, null, 2) : renderStatusText(report, ui.colors));
  if (!report.healthy) {
    const bad = report.managed.filter((r) => r.health !== 'healthy');
    throw new VerifyFailedError(
      `${bad.length} of ${report.managed.length} managed item${report.managed.length === 1 ? ' is' : 's are'} not healthy: ${bad.map((r) => `${r.kind} ${r.name}`).join(', ')}.`,
      'Apply the fix shown under each, then run "rhacs-sts status" again; "rhacs-sts verify" checks the whole chain.',
    );
  }
}

/** The report for the clusters of one role: the role named, or the one their wiring points at. */
async function statusOf(options: Options, ui: Ui, sessions: Sessions, found: Discovered, multi?: boolean): Promise<StatusReport> {
  await inferRole(options, sessions.aws, found, ui);
  return statusOfDiscovered(found, multi);
}

export function renderStatusText(report: StatusReport, c: ChalkInstance): string {
  const out: string[] = [];
  out.push(c.bold(`Status · account ${report.accountId} (${report.partition}) · region ${report.region}`));
  for (const r of report.roles ?? [{ ...report.role, contexts: [] }]) {
    out.push(`  Role: ${r.arn}${r.managed ? '' : ' (not managed by rhacs-sts here)'}${r.contexts.length ? ` (${r.contexts.map((x) => x ?? 'current context').join(', ')})` : ''}`);
  }
  for (const cl of report.clusters) out.push(`  ${cl.context ? `${cl.context}: ` : ''}${cl.provider === 'eks' ? 'EKS' : 'OpenShift'}, namespace ${cl.namespace} (${cl.components.join(', ')})`);
  out.push('');
  if (!report.managed.length) {
    out.push('rhacs-sts manages nothing here: no role, OIDC provider, association or wiring of its own (run "rhacs-sts plan" to see what init would create).');
    return out.join('\n');
  }
  const kindWidth = Math.max('KIND'.length, ...report.managed.map((r) => r.kind.length));
  const nameWidth = Math.max('NAME'.length, ...report.managed.map((r) => r.name.length));
  out.push(c.bold(`${'KIND'.padEnd(kindWidth)}  ${'NAME'.padEnd(nameWidth)}  ${'HEALTH'.padEnd(9)}  DETAIL`));
  for (const r of report.managed) {
    const health = r.health === 'healthy' ? c.green('healthy'.padEnd(9)) : c.red.bold('UNHEALTHY');
    out.push(`${r.kind.padEnd(kindWidth)}  ${r.name.padEnd(nameWidth)}  ${health}  ${r.detail}`);
    if (r.fix) out.push(`${' '.repeat(kindWidth + nameWidth + 4)}  ${c.dim('fix:')} ${r.fix}`);
  }
  out.push('');
  const bad = report.managed.filter((r) => r.health !== 'healthy').length;
  out.push(bad ? c.red(`${bad} of ${report.managed.length} not healthy.`) : c.green(`${report.managed.length} managed, all healthy.`));
  return out.join('\n');
}
