/** Human rendering of verify's report on Google Cloud: the project, the service account, the clusters, then the rows. */
import type { ChalkInstance } from 'chalk';
import type { GcpVerifyReport } from '../clouds/gcp/verify-gke.js';
import { platform } from '../platforms/registry.js';
import { renderCheckTable } from './verify-text.js';

export function renderGcpVerifyText(report: GcpVerifyReport, c: ChalkInstance): string {
  const out: string[] = [];
  const platforms = [...new Set(report.clusters.map((x) => platform(x.provider).title))].join(' + ');
  out.push(c.bold(`Verify for ${platforms} · project ${report.projectId} (number ${report.projectNumber})`));
  out.push(`  Service account: ${report.serviceAccount.email}${report.serviceAccount.exists ? '' : ' (does not exist)'}`);
  for (const cl of report.clusters) {
    out.push(`  ${cl.context ? `${cl.context}: ` : ''}issuer ${cl.issuer}, namespace ${cl.namespace}, service account${cl.components.length === 1 ? '' : 's'} ${cl.components.join(', ') || '(none)'}`);
  }
  out.push('');
  out.push(renderCheckTable(report, c));
  return out.join('\n');
}
