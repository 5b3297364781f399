/** Human rendering of a verify report: a heading, then one table row per check, fixes under the failures. */
import type { ChalkInstance } from 'chalk';
import type { CheckResult } from '../verify/checks.js';
import type { VerifyReport } from '../verify/run.js';

function mark(c: ChalkInstance, r: CheckResult): string {
  switch (r) {
    case 'pass': return c.green('pass');
    case 'warn': return c.yellow('warn');
    default: return c.red.bold('FAIL');
  }
}

export function renderVerifyText(report: VerifyReport, c: ChalkInstance): string {
  const out: string[] = [];
  const providers = [...new Set(report.clusters.map((x) => (x.provider === 'eks' ? 'EKS' : 'OpenShift')))].join(' + ');
  out.push(c.bold(`Verify for ${providers} · account ${report.accountId} (${report.partition}) · region ${report.region}`));
  out.push(`  Role:   ${report.role.arn}`);
  const issuers = [...new Set(report.clusters.map((x) => x.issuer))];
  out.push(`  Issuer${issuers.length > 1 ? 's' : ''}: ${issuers.join(', ')}`);
  for (const cl of report.clusters) {
    out.push(`  ${cl.context ? `${cl.context}: ` : ''}namespace ${cl.namespace}, service account${cl.components.length === 1 ? '' : 's'} ${cl.components.join(', ') || '(none)'}`);
  }
  out.push('');
  out.push(renderCheckTable(report, c));
  return out.join('\n');
}

/** The table of rows (fixes under the failures) and the tally: the same on every cloud. */
export function renderCheckTable(report: Pick<VerifyReport, 'checks' | 'summary'>, c: ChalkInstance): string {
  const out: string[] = [];
  const width = Math.max('CHECK'.length, ...report.checks.map((r) => r.check.length));
  const pad = ' '.repeat(width + 2 + 6);
  out.push(c.bold(`${'CHECK'.padEnd(width)}  RESULT  DETAIL`));
  for (const r of report.checks) {
    out.push(`${r.check.padEnd(width)}  ${mark(c, r.result)}    ${r.detail}`);
    if (r.fix && r.result !== 'pass') out.push(`${pad}  ${c.dim('fix:')} ${r.fix}`);
  }
  out.push('');
  const { pass, warn, fail } = report.summary;
  const parts = [`${pass} passed`, ...(warn ? [`${warn} warning${warn === 1 ? '' : 's'}`] : []), ...(fail ? [`${fail} failed`] : [])];
  out.push(fail ? c.red(`${parts.join(', ')}.`) : c.green(`${parts.join(', ')}: the chain works.`));
  return out.join('\n');
}
