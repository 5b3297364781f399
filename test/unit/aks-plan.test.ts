// Azure's plan for AKS (pure): the managed identity and its ownership, one federated credential per
// cluster and service account with the issuer exactly as AKS publishes it, the 21st credential
// stopped before any write, AcrPull on the registry, and the cluster side: the client-id annotation
// and the pod label the webhook selects by (one rollout), the new identity's client id filled in
// once Azure makes it; a re-run against what the first run left plans nothing.
import { describe, expect, it } from 'vitest';
import { planAks, PENDING_CLIENT_ID, resolvePendingClientId, type AzureDecisions, type AzureFacts, type AzureState } from '../../src/clouds/azure/plan.js';
import { ACR_PULL_ROLE_ID } from '../../src/clouds/azure/acr-pull.js';
import type { ClusterFacts, ComponentState } from '../../src/plan/model.js';
import { parseOptions } from '../../src/options/options.js';
import { InputError } from '../../src/errors.js';
import { clusterFacts } from './builders.js';
import { planAksUninstall } from '../../src/clouds/azure/uninstall.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ISSUER = `https://eastus.oic.prod-aks.azure.com/${TENANT}/2f1e9a0c-7d3b-4c5e-8a6f-1b2c3d4e5f60/`;
const SUB = '9b2e4c6a-1d3f-4a5b-8c7d-6e5f4a3b2c1d';
const REGISTRY = { id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/rhacs`, name: 'rhacs', loginServer: 'rhacs.azurecr.io' };
const IDENTITY = { id: 'x', name: 'rhacs-sts-prod', location: 'eastus', tags: { 'rhacs-sts/managed': 'true' }, clientId: '0a1b2c3d-0000-4000-8000-00000000c1d2', principalId: 'p-1', tenantId: TENANT };

function state(labels?: Record<string, string>, annotations: Record<string, string> = {}): Record<'central' | 'sensor', ComponentState> {
  const deployment = { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {}, ...(labels ? { podTemplateLabels: labels } : {}) };
  return { central: { serviceAccount: { annotations }, deployment }, sensor: { serviceAccount: { annotations: {} }, deployment: null } };
}
function aksCluster(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return clusterFacts({ provider: 'aks', issuer: ISSUER.slice(0, -1), context: 'prod', name: 'prod', components: ['central'], aks: { resourceGroup: 'rg', name: 'prod', tenant: TENANT }, current: state({}), ...over });
}
const facts = (clusters = [aksCluster()], registry: AzureFacts['registry'] | null = REGISTRY): AzureFacts => ({
  subscriptionId: SUB, tenantId: TENANT, cloud: 'public', clusterName: 'prod', offline: false,
  clusters: clusters.map((cluster) => ({ cluster, aks: { id: 'c', name: cluster.aks!.name!, resourceGroup: 'rg', location: 'eastus', issuerUrl: ISSUER, problems: [] } })),
  ...(registry ? { registry } : {}),
});
const decisions = (over: Partial<AzureDecisions> = {}): AzureDecisions => ({ identityName: 'rhacs-sts-prod', identityResourceGroup: 'rg', delegatedScanning: false, restart: true, ...over });
const empty: AzureState = { identity: null, credentials: [], assignments: [] };
const fic = (name: string, subject = 'system:serviceaccount:stackrox:central') => ({ name, issuer: ISSUER, subject, audiences: ['api://AzureADTokenExchange'] });

describe('AKS plan', () => {
  it('creates the identity, one exact credential, AcrPull; annotates and labels central with one rollout', () => {
    const plan = planAks(facts(), decisions(), empty);
    expect(plan.cloud).toBe('azure');
    expect(plan.blockers).toEqual([]);
    expect(plan.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'azure-managed-identity:create', 'azure-federated-credential:create', 'azure-acr-pull:create', 'service-account-annotation:create', 'pod-labels:update', 'restart:update',
    ]);
    // The issuer exactly as AKS publishes it (trailing slash), not as the cluster facts normalise it.
    expect(plan.federatedCredentials).toEqual([fic('rhacs-sts-prod-stackrox-central')]);
    const restart = plan.actions.find((a) => a.type === 'restart')!;
    expect(restart).toMatchObject({ method: 'rollout' });
    // The restarts list says what is done: the label's rollout is waited for, no restartedAt marker is set.
    expect(plan.restarts).toEqual([expect.objectContaining({ name: 'central', method: 'rollout', deferred: false })]);
    expect(plan.actions.find((a) => a.type === 'pod-labels')).toMatchObject({ labels: { 'azure.workload.identity/use': 'true' } });
    // Same tenant: the client id alone; unknown until Azure creates the identity.
    expect(plan.kubernetes[0]!.annotations).toEqual({ 'azure.workload.identity/client-id': PENDING_CLIENT_ID });
    resolvePendingClientId(plan, IDENTITY.clientId);
    expect(plan.kubernetes[0]!.annotations).toEqual({ 'azure.workload.identity/client-id': IDENTITY.clientId });
    expect(JSON.stringify(plan)).not.toContain(PENDING_CLIENT_ID);
  });

  it('adds sensor with delegated scanning, and the tenant annotation where the cluster is in another tenant', () => {
    const other = aksCluster({ components: ['central', 'sensor'], aks: { resourceGroup: 'rg', name: 'prod', tenant: '11111111-2222-4333-8444-555555555555' } });
    const plan = planAks(facts([other]), decisions({ delegatedScanning: true }), { ...empty, identity: IDENTITY });
    expect(plan.federatedCredentials.map((f) => f.subject)).toEqual(['system:serviceaccount:stackrox:central', 'system:serviceaccount:stackrox:sensor']);
    expect(plan.kubernetes[0]!.annotations).toEqual({ 'azure.workload.identity/client-id': IDENTITY.clientId, 'azure.workload.identity/tenant-id': TENANT });
  });

  it('plans nothing once everything is in place', () => {
    const done: AzureState = {
      identity: IDENTITY, credentials: [fic('rhacs-sts-prod-stackrox-central')],
      assignments: [{ id: 'a', name: 'a', scope: REGISTRY.id, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`, principalId: 'p-1' }],
    };
    const cluster = aksCluster({ current: state({ 'azure.workload.identity/use': 'true' }, { 'azure.workload.identity/client-id': IDENTITY.clientId }) });
    const plan = planAks(facts([cluster]), decisions(), done);
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
  });

  it('labels and rolls a pod template that lost the label, though the annotation is in place', () => {
    const cluster = aksCluster({ current: state({ app: 'central' }, { 'azure.workload.identity/client-id': IDENTITY.clientId }) });
    const plan = planAks(facts([cluster]), decisions(), { ...empty, identity: IDENTITY });
    expect(plan.actions.filter((a) => a.status !== 'unchanged' && !a.type.startsWith('azure-')).map((a) => a.type)).toEqual(['pod-labels', 'restart']);
  });

  it('with --no-restart, defers the label (it would roll the pods)', () => {
    const plan = planAks(facts(), decisions({ restart: false }), empty);
    expect(plan.actions.find((a) => a.type === 'pod-labels')).toMatchObject({ status: 'unchanged', deferred: true });
  });

  it('stops before the 21st credential, with the way out', () => {
    const full = Array.from({ length: 20 }, (_, i) => fic(`other-${i}`, `system:serviceaccount:app:sa${i}`));
    const plan = planAks(facts(), decisions(), { ...empty, identity: IDENTITY, credentials: full });
    expect(plan.blockers.map((b) => b.message)).toEqual(['The managed identity rhacs-sts-prod carries 20 federated credentials and this run needs 1 more (prod: central): Azure allows 20 per identity, so there is room for 0. Nothing was written.']);
    expect(plan.blockers[0]!.hint).toContain('--azure-identity');
    // 19 leave room for exactly one.
    expect(planAks(facts(), decisions(), { ...empty, identity: IDENTITY, credentials: full.slice(1) }).blockers).toEqual([]);
  });

  it('a fleet (one Central, secured clusters with --sensor-context) shares the identity: a credential per cluster and service account, each with its own issuer, counted together', () => {
    const ISSUER2 = `https://westeurope.oic.prod-aks.azure.com/${TENANT}/0c0c0c0c-7d3b-4c5e-8a6f-1b2c3d4e5f60/`;
    const hub = aksCluster();
    const spoke = aksCluster({ context: 'spoke', name: 'spoke', issuer: ISSUER2.slice(0, -1), components: ['sensor'], aks: { resourceGroup: 'rg', name: 'spoke', tenant: TENANT } });
    const fleet = (): AzureFacts => ({ ...facts([hub, spoke]), clusters: [facts([hub]).clusters[0]!, { cluster: spoke, aks: { id: 's', name: 'spoke', resourceGroup: 'rg', location: 'westeurope', issuerUrl: ISSUER2, problems: [] } }] });
    const plan = planAks(fleet(), decisions({ delegatedScanning: true }), { ...empty, identity: IDENTITY });
    expect(plan.federatedCredentials).toEqual([
      { name: 'rhacs-sts-prod-stackrox-central', issuer: ISSUER, subject: 'system:serviceaccount:stackrox:central', audiences: ['api://AzureADTokenExchange'] },
      { name: 'rhacs-sts-spoke-stackrox-sensor', issuer: ISSUER2, subject: 'system:serviceaccount:stackrox:sensor', audiences: ['api://AzureADTokenExchange'] },
    ]);
    expect(plan.actions.filter((a) => a.type === 'service-account-annotation').map((a) => a.target)).toEqual(['prod: stackrox/serviceaccount/central', 'spoke: stackrox/serviceaccount/sensor']);
    // 18 leave room for the fleet's 2; 19 do not: stopped before any write, with the ways out.
    const others = (n: number) => Array.from({ length: n }, (_, i) => fic(`other-${i}`, `system:serviceaccount:app:sa${i}`));
    expect(planAks(fleet(), decisions({ delegatedScanning: true }), { ...empty, identity: IDENTITY, credentials: others(18) }).blockers).toEqual([]);
    const full = planAks(fleet(), decisions({ delegatedScanning: true }), { ...empty, identity: IDENTITY, credentials: others(19) });
    expect(full.blockers).toEqual([{
      message: 'The managed identity rhacs-sts-prod carries 19 federated credentials and this run needs 2 more (prod: central; spoke: sensor): Azure allows 20 per identity, so there is room for 1. Nothing was written.',
      hint: expect.stringContaining('give secured clusters an identity of their own: leave them out of --sensor-context and run "rhacs-sts init --context <context> --azure-identity rhacs-sts-<cluster>" for each (e.g. --context spoke --azure-identity rhacs-sts-spoke)'),
    }]);
    expect(full.blockers[0]!.hint).toContain('az identity federated-credential list --identity-name rhacs-sts-prod --resource-group rg');
    // A re-run counts only what is missing: the fleet's own credentials in place leave nothing to add.
    const done = planAks(fleet(), decisions({ delegatedScanning: true }), { ...empty, identity: IDENTITY, credentials: [...others(18), ...plan.federatedCredentials] });
    expect(done.blockers).toEqual([]);
  });

  it('refuses an identity rhacs-sts did not create, and a service account naming another identity', () => {
    const foreign = { ...IDENTITY, tags: {} };
    expect(planAks(facts(), decisions(), { ...empty, identity: foreign }).blockers[0]!.message).toMatch(/was not created by rhacs-sts/);
    const cluster = aksCluster({ current: state({}, { 'azure.workload.identity/client-id': 'someone-else' }) });
    expect(planAks(facts([cluster]), decisions(), { ...empty, identity: IDENTITY }).blockers.map((b) => b.message).join(' ')).toMatch(/already has azure.workload.identity\/client-id=someone-else/);
  });

  it('without --acr, plans no role assignment and says how to add one', () => {
    const plan = planAks(facts(undefined, null), decisions(), empty);
    expect(plan.actions.some((a) => a.type === 'azure-acr-pull')).toBe(false);
    expect(plan.notes.join(' ')).toContain('--acr');
  });
});

describe('AKS uninstall plan', () => {
  const assignment = (principalId: string, description?: string) => ({ id: `${REGISTRY.id}/providers/Microsoft.Authorization/roleAssignments/${principalId}`, name: principalId, scope: REGISTRY.id, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`, principalId, ...(description ? { description } : {}) });
  const wired = () => aksCluster({ current: state({ 'azure.workload.identity/use': 'true' }, { 'azure.workload.identity/client-id': IDENTITY.clientId }) });

  it('removes the wiring, this run\'s credential, our AcrPull and the identity once nothing else trusts it', () => {
    const plan = planAksUninstall(facts([wired()]), decisions(), { identity: IDENTITY, credentials: [fic('rhacs-sts-prod-stackrox-central')], assignments: [assignment('p-1', 'rhacs-sts: AcrPull for rhacs-sts-prod'), assignment('p-1')] });
    expect(plan.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'service-account-annotation:delete', 'pod-labels:delete', 'restart:update', 'azure-federated-credential:delete', 'azure-acr-pull:delete', 'azure-managed-identity:delete',
    ]);
    // Only the assignment rhacs-sts made (its description) goes.
    expect(plan.actions.filter((a) => a.type === 'azure-acr-pull')).toHaveLength(1);
  });

  it('keeps the identity while another cluster\'s credential trusts it, and touches nothing on an identity not ours', () => {
    const kept = planAksUninstall(facts([wired()]), decisions(), { identity: IDENTITY, credentials: [fic('rhacs-sts-prod-stackrox-central'), fic('rhacs-sts-other-stackrox-central')], assignments: [assignment('p-1', 'rhacs-sts: x')] });
    expect(kept.actions.filter((a) => a.type.startsWith('azure-')).map((a) => a.type)).toEqual(['azure-federated-credential']);
    expect(kept.notes.join(' ')).toContain('rhacs-sts-other-stackrox-central');
    const foreign = planAksUninstall(facts([wired()]), decisions(), { identity: { ...IDENTITY, tags: {} }, credentials: [fic('rhacs-sts-prod-stackrox-central')], assignments: [] });
    expect(foreign.actions.filter((a) => a.type.startsWith('azure-'))).toEqual([]);
  });
});

describe('AKS flags', () => {
  const problems = (values: Record<string, unknown>, command: 'init' | 'verify' | 'status' = 'init') => {
    try {
      parseOptions(command, values, {});
      return [];
    } catch (err) {
      return (err as InputError).problems.map((p) => `${p.source}: ${p.message}`);
    }
  };
  it('names each bad value, all at once', () => {
    expect(problems({ provider: 'aks', acr: 'no', azureSubscription: 'sub', azureIdentity: '-x', resourceGroup: 'rg.' })).toEqual([
      '--azure-subscription: "sub" is not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)',
      '--resource-group: "rg." is not a resource group name (1–90 letters, digits, _ - . ( ), not ending in ".")',
      '--azure-identity: "-x" is not a managed identity name (3–128 letters, digits, "-" and "_", a letter or digit first)',
      '--acr: "no" is neither a registry name (5–50 letters and digits) nor a registry\'s resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>)',
    ]);
    expect(problems({ provider: 'aks', acr: REGISTRY.id, azureSubscription: SUB })).toEqual([]);
    expect(problems({ provider: 'aks', acr: 'rhacs.azurecr.io' })).toEqual([]);
  });
  it('offers AKS for status too; verify and status take the Azure flags', () => {
    expect(problems({ provider: 'aks', acr: 'rhacs', azureIdentity: 'rhacs-sts-aks', resourceGroup: 'rg', azureSubscription: SUB }, 'status')).toEqual([]);
    expect(problems({ provider: 'aks', acrRepository: 'Stackrox//main' }, 'verify')).toEqual(['--acr-repository: "Stackrox//main" is not a repository name (lower-case letters, digits, ".", "_", "-", components separated by "/", e.g. stackrox/main)']);
    expect(problems({ provider: 'aks', acr: 'rhacs', azureIdentity: 'rhacs-sts-aks', resourceGroup: 'rg', azureSubscription: SUB }, 'verify')).toEqual([]);
  });
});

describe('--configure-integration on AKS', () => {
  const problemsOf = async (answers: Record<string, unknown>) => {
    const { requireCentralCredentials } = await import('../../src/steps/cloud-central.js');
    try {
      await requireCentralCredentials({ answers, cloud: 'azure' } as unknown as Parameters<typeof requireCentralCredentials>[0]);
      return [];
    } catch (err) {
      return (err as { problems: { source: string; message: string }[] }).problems.map((p) => `${p.source}: ${p.message}`);
    }
  };
  it('needs the registry (--acr) and Central credentials: both named at once, before anything is contacted', async () => {
    expect(await problemsOf({ configureIntegration: true, centralCredentials: { kind: 'none' } })).toEqual([
      '--configure-integration: on Azure needs the registry the integration is for: pass --acr <name or resource id>',
      '--configure-integration: needs Central credentials: set ROX_API_TOKEN (or ROX_API_TOKEN_FILE) or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password',
    ]);
    expect(await problemsOf({ configureIntegration: true, acr: 'rhacs', centralCredentials: { kind: 'token', source: 'ROX_API_TOKEN' } })).toEqual([]);
  });
  it('is refused on OpenShift on Azure, where rhacs-sts does not configure it yet (named, with the way by hand)', async () => {
    expect(await problemsOf({ configureIntegration: true, provider: 'openshift', acr: 'rhacs', centralCredentials: { kind: 'token', source: 'ROX_API_TOKEN' } })).toEqual([
      '--configure-integration: is not available for OpenShift on Azure yet: configure the Azure Container Registry integration in RHACS by hand (type azure, workload identity), or run init without it',
    ]);
  });
});

describe("Central's Azure Container Registry integration from an AKS plan", () => {
  const cluster = { namespace: 'stackrox' } as Parameters<typeof import('../../src/steps/cloud-central.js').azureSide>[1];
  it('points at the registry as ARM names it (a sovereign cloud\'s suffix kept), names the identity and the converging command', async () => {
    const { azureSide } = await import('../../src/steps/cloud-central.js');
    const { integrationFor } = await import('../../src/central/kinds.js');
    const gov = azureSide({ integrationName: undefined }, cluster, { name: 'rhacs-sts-aks', clientId: 'c-1', loginServer: 'rhacsimages.azurecr.us' });
    expect(gov).toMatchObject({ kind: 'azure', identity: 'managed identity rhacs-sts-aks (client id c-1)', initCommand: 'rhacs-sts init --configure-integration --namespace stackrox --azure-identity rhacs-sts-aks --acr rhacsimages' });
    expect(integrationFor('azure', gov.inputs as { registry: string })).toEqual({
      name: 'Azure Container Registry rhacsimages.azurecr.us (rhacs-sts)', type: 'azure', categories: ['REGISTRY'], azure: { endpoint: 'rhacsimages.azurecr.us', wifEnabled: true },
    });
    expect(azureSide({ integrationName: 'team ACR' }, cluster, { name: 'x' })).toMatchObject({ inputs: undefined, identity: 'managed identity x' });
  });
});
