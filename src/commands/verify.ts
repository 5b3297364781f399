/** `verify`: discover → check every link of the chain → a table (or JSON); exit 3 when a check fails. */
import { discover, openSessions } from '../discover.js';
import { VerifyFailedError } from '../errors.js';
import type { Options } from '../options.js';
import { verifyToJson } from '../render/verify-json.js';
import { renderVerifyText } from '../render/verify-text.js';
import type { Ui } from '../ui/ui.js';
import { runChecks } from '../verify/run.js';

export async function runVerify(options: Options, ui: Ui): Promise<void> {
  ui.step('Reading the cluster and the AWS account…');
  const sessions = await openSessions(options, ui);
  const found = await discover(options, sessions, ui);
  for (const w of found.warnings) ui.warn(w);
  ui.step(options.skipExchange ? 'Checking the chain (without the token exchange)…' : 'Checking the chain, including a real token exchange…');
  const report = await runChecks(options, sessions, found, { log: ui.debug });
  ui.result(options.output === 'json' ? verifyToJson(report) : renderVerifyText(report, ui.colors));
  if (!report.ok) {
    const failed = report.checks.filter((c) => c.result === 'fail');
    throw new VerifyFailedError(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.check).join(', ')}.`,
      'Apply the fix shown under each failed check, then run "rhacs-sts verify" again.',
    );
  }
}
