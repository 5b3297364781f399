/** Human rendering of verify's report on Azure: the subscription, the managed identity, the registry, the clusters, then the rows. */
import type { ChalkInstance } from 'chalk';
import type { AzureVerifyReport } from '../clouds/azure/verify-aks.js';
import { platform } from '../platforms/registry.js';
import { renderCheckTable } from './verify-text.js';

export function renderAzureVerifyText(report: AzureVerifyReport, c: ChalkInstance): string {
  const out: string[] = [];
  const platforms = [...new Set(report.clusters.map((x) => platform(x.provider).title))].join(' + ');
  out.push(c.bold(`Verify for ${platforms} · subscription ${report.subscriptionId} (tenant ${report.tenantId})`));
  const id = report.identity;
  out.push(`  Managed identity: ${id.name} in resource group ${id.resourceGroup}${id.exists ? ` (client id ${id.clientId})` : ' (does not exist)'}`);
  out.push(`  Registry: ${report.registry ?? '(none named: pass --acr to check the pull)'}`);
  for (const cl of report.clusters) {
    out.push(`  ${cl.context ? `${cl.context}: ` : ''}issuer ${cl.issuer}, namespace ${cl.namespace}, service account${cl.components.length === 1 ? '' : 's'} ${cl.components.join(', ') || '(none)'}`);
  }
  out.push('');
  out.push(renderCheckTable(report, c));
  return out.join('\n');
}
