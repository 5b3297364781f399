/** `verify`: discover → check every link of the chain → a table (or JSON); exit 3 when a check fails. */
import { ownRoleClusters } from '../discover.js';
import { openAndDiscover, perOwnRole } from '../steps/open.js';
import { handOverCloud, VerifyFailedError } from '../errors.js';
import type { Options } from '../options/options.js';
import { verifyToJson } from '../render/verify-json.js';
import { renderVerifyText } from '../render/verify-text.js';
import type { Ui } from '../ui/ui.js';
import { mergeReports, runChecks } from '../verify/run.js';
import { centralTarget, centralTestRow, hasCentralCredentials } from '../central/flow.js';
import { cloudOfRun } from '../clouds/registry.js';
import * as c from '../steps/cloud-init.js';
import { verifyOnCloud } from '../steps/cloud-verify.js';
import { runSteps } from '../steps/run.js';

export async function runVerify(options: Options, ui: Ui): Promise<void> {
  // The cloud of the run, as init finds it: a cloud other than AWS walks its own chain.
  const cloud = cloudOfRun({
    ...(options.cloud ? { cloud: options.cloud } : {}),
    ...(options.provider ? { provider: options.provider } : { kubeconfigPlatform: await c.kubeconfigPlatform(options) }),
  });
  if (cloud && cloud !== 'aws') {
    await runSteps({ ui, answers: options, cloud }, [c.openClusters, verifyOnCloud]);
    return;
  }
  let opened;
  try {
    opened = await openAndDiscover(options, ui, { inferRole: false });
  } catch (err) {
    // Detection found OpenShift on Google Cloud or Azure (its Infrastructure object): the run is that cloud's.
    const to = handOverCloud(err);
    if (to !== 'azure' && to !== 'gcp') throw err;
    return runVerify({ ...options, provider: 'openshift', cloud: to }, ui);
  }
  const { sessions, found } = opened;
  ui.step(options.skipExchange ? 'Checking the chain (without the token exchange)…' : 'Checking the chain, including a real token exchange…');
  // Secured clusters with a role of their own (from --role-per-cluster) are checked with it.
  const own = await ownRoleClusters(options, found.facts, sessions.aws);
  const report = own.length ? mergeReports(await perOwnRole(options, sessions, found, own, (o, f) => runChecks(o, sessions, f, { log: ui.debug, multi: true }))) : await runChecks(options, sessions, found, { log: ui.debug });
  // --- Central's own test of the ECR integration, when Central can be asked (credentials given) ---
  const target = centralTarget(found.facts, sessions);
  if (target && !hasCentralCredentials(options)) {
    // Without credentials Central cannot be asked: the row says so, and how to enable it.
    report.checks.push({
      id: 'central-test', check: "Central's ECR test", result: 'warn',
      detail: 'Skipped: no Central credentials, so Central was not asked to test its ECR integration as its pod.',
      fix: 'Set ROX_API_TOKEN (or ROX_API_TOKEN_FILE) or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password (operator installs), and run verify again.',
    });
    report.summary.warn++;
  } else if (target) {
    ui.step("Asking Central to test the ECR integration as its pod…");
    const row = await centralTestRow(options, found.decisions, found.facts, target, ui, {
      cluster: target.cluster, roleArn: report.role.arn, initCommand: `rhacs-sts init --configure-integration --namespace ${target.cluster.namespace} --role-name ${report.role.name}`,
    });
    report.checks.push(row);
    report.summary[row.result]++;
    report.ok = report.summary.fail === 0;
  }
  ui.result(options.output === 'json' ? verifyToJson(report) : renderVerifyText(report, ui.colors));
  if (!report.ok) {
    const failed = report.checks.filter((c) => c.result === 'fail');
    throw new VerifyFailedError(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.check).join(', ')}.`,
      'Apply the fix shown under each failed check, then run "rhacs-sts verify" again.',
    );
  }
}

