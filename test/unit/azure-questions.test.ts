// init's questions on AKS (questions.ts), with a scripted Ui: only what the flags left open, each
// with its default; a bad answer is refused with the flag's own check and asked again.
import { describe, expect, it } from 'vitest';
import { askAzure } from '../../src/clouds/azure/questions.js';
import { createMemoryUi, DEFAULT } from '../../src/ui/memory.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import { clusterFacts, nothingInPlace } from './builders.js';

const cluster = (components: ClusterFacts['components']): ClusterFacts => clusterFacts({
  provider: 'aks', issuer: 'https://westeurope.oic.prod-aks.azure.com/t/i/', components, aks: { resourceGroup: 'rg', name: 'prod' }, current: nothingInPlace(),
});
const none = { restart: true, sensorContexts: [] as string[] };

describe('init\'s questions on AKS', () => {
  it('asks the identity (default from the cluster), delegated scanning where Sensor runs, and the registry', async () => {
    const ui = createMemoryUi({ interactive: true, answers: ['-bad', 'rhacs-team', true, 'not a registry!', 'rhacsimages'] });
    expect(await askAzure(none, [cluster(['central', 'sensor'])], ui)).toEqual({ azureIdentity: 'rhacs-team', delegatedScanning: true, acr: 'rhacsimages' });
    expect(ui.asked.map((q) => [q.kind, q.default])).toEqual([['input', 'rhacs-sts-prod'], ['confirm', false], ['input', '']]);
    expect(ui.asked[0]!.errors).toEqual([expect.stringMatching(/is not a managed identity name/)]);
    expect(ui.asked[2]!.errors).toEqual([expect.stringMatching(/is neither a registry name/)]);
  });

  it('asks nothing the flags answered; Enter at the registry is none', async () => {
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT] });
    expect(await askAzure({ ...none, azureIdentity: 'given' }, [cluster(['central'])], ui)).toEqual({});
    expect(ui.asked.map((q) => q.message)).toEqual([expect.stringMatching(/^Azure Container Registry RHACS reads/)]);
  });
});
