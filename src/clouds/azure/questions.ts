/**
 * init's questions on AKS, at a terminal: only what the flags left open, each with the default a
 * script gets (the managed identity's name, delegated scanning where Sensor runs, the registry for
 * AcrPull). A flag beats a question; in a script, or with --yes or --dry-run, nothing is asked.
 */
import { acrProblem, azureIdentityProblem } from '../../options/azure.js';
import type { ClusterFacts } from '../../plan/model.js';
import type { Ui } from '../../ui/ui.js';
import type { AzureRunOptions } from './facts.js';
import { defaultIdentityName } from './identity.js';

export type AzureAnswers = Partial<Pick<AzureRunOptions, 'azureIdentity' | 'delegatedScanning' | 'acr'>>;

export async function askAzure(o: AzureRunOptions & { sensorContexts: readonly string[] }, clusters: readonly ClusterFacts[], ui: Ui): Promise<AzureAnswers> {
  const out: AzureAnswers = {};
  const central = clusters.find((c) => c.components.includes('central')) ?? clusters[0];
  if (o.azureIdentity === undefined) {
    const name = await ui.input({
      message: 'Managed identity RHACS acts as (created and tagged as rhacs-sts\'s if it does not exist)',
      default: defaultIdentityName(o.clusterName ?? central?.aks?.name ?? central?.name ?? 'central'),
      validate: (v) => azureIdentityProblem(v.trim()),
    });
    out.azureIdentity = name.trim();
  }
  const sensorRuns = clusters.some((c) => c.components.includes('sensor'));
  if (o.delegatedScanning === undefined && o.sensorContexts.length === 0 && sensorRuns) {
    const onlySensor = clusters.some((c) => c.components.includes('sensor') && !c.components.includes('central'));
    out.delegatedScanning = await ui.confirm('Delegated scanning: should Sensor pull images from the registry too? (only if it is turned on in RHACS)', onlySensor);
  }
  if (o.acr === undefined) {
    const acr = (await ui.input({
      message: 'Azure Container Registry RHACS reads (AcrPull): its name or resource id (Enter: none)',
      default: '',
      validate: (v) => (v.trim() === '' ? undefined : acrProblem(v.trim())),
    })).trim();
    if (acr) out.acr = acr;
  }
  return out;
}
