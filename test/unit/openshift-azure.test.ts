// OpenShift on Azure in the CLI (pure parts): --provider openshift --cloud azure, the cluster's
// Azure facts from its Infrastructure and Authentication objects (resource group, cloud, the issuer
// exactly as written, the nodes' region), the plan (federated credentials with audience openshift;
// AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE on the deployment, durably; the
// rollout), a re-run that plans nothing, another identity's variables refused, and uninstall that
// removes only our variables.
import { describe, expect, it } from 'vitest';
import { planAks, PENDING_CLIENT_ID, type AzureDecisions, type AzureFacts, type AzureState } from '../../src/clouds/azure/plan.js';
import { planAksUninstall } from '../../src/clouds/azure/uninstall.js';
import { openShiftOnAzure } from '../../src/clouds/azure/openshift.js';
import { openShiftWiringRow } from '../../src/clouds/azure/verify-openshift.js';
import { openShiftAzureFacts } from '../../src/platforms/openshift/azure.js';
import { parseOptions } from '../../src/options/options.js';
import type { ClusterFacts, ComponentState } from '../../src/plan/model.js';
import { clusterFacts } from './builders.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SUB = '9b2e4c6a-1d3f-4a5b-8c7d-6e5f4a3b2c1d';
// As ccoctl writes it: a storage account's blob container, no trailing slash.
const ISSUER = 'https://rhacsoidc.blob.core.windows.net/rhacs-sts-x7k2p';
const IDENTITY = { id: 'x', name: 'rhacs-sts-x7k2p', location: 'eastus', tags: { 'rhacs-sts/managed': 'true' }, clientId: '0a1b2c3d-0000-4000-8000-00000000c1d2', principalId: 'p-1', tenantId: TENANT };
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';

function infra(over: Record<string, unknown> = {}) {
  return openShiftAzureFacts({ status: { infrastructureName: 'rhacs-sts-x7k2p', platformStatus: { type: 'Azure', azure: { resourceGroupName: 'rhacs-sts-x7k2p-rg', cloudName: 'AzurePublicCloud', ...over } } } })!;
}
function state(env: { name: string; value?: string }[] = [], hasTokenMount = true): Partial<Record<'central' | 'sensor', ComponentState>> {
  return { central: { serviceAccount: { annotations: {} }, deployment: { container: 'central', env, hasTokenMount, podTemplateAnnotations: {} } } };
}
function ocp(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return clusterFacts({
    provider: 'openshift', issuer: ISSUER, context: 'ocp', name: 'rhacs-sts-x7k2p', components: ['central'],
    openshift: { platformType: 'Azure', serviceAccountIssuer: ISSUER, azure: infra(), region: 'eastus' }, current: state(), ...over,
  });
}
function facts(cluster = ocp(), cloud: AzureFacts['cloud'] = 'public'): AzureFacts {
  const found = openShiftOnAzure(cluster, { cloud });
  if ('problems' in found) throw new Error(JSON.stringify(found.problems));
  return { subscriptionId: SUB, tenantId: TENANT, cloud, clusterName: found.facts.aks.name, offline: false, clusters: [found.facts] };
}
const decisions = (over: Partial<AzureDecisions> = {}): AzureDecisions => ({ identityName: 'rhacs-sts-x7k2p', identityResourceGroup: 'rhacs-sts-x7k2p-rg', delegatedScanning: false, restart: true, ...over });
const empty: AzureState = { identity: null, credentials: [], assignments: [] };
const ourEnv = [{ name: 'AZURE_CLIENT_ID', value: IDENTITY.clientId }, { name: 'AZURE_TENANT_ID', value: TENANT }, { name: 'AZURE_FEDERATED_TOKEN_FILE', value: TOKEN_FILE }];
const ourCredential = { name: 'rhacs-sts-rhacs-sts-x7k2p-stackrox-central', issuer: ISSUER, subject: 'system:serviceaccount:stackrox:central', audiences: ['openshift'] };

describe('--provider openshift --cloud azure', () => {
  it('is taken for init, plan, verify, uninstall and status', () => {
    for (const command of ['init', 'plan', 'verify', 'uninstall', 'status'] as const) expect(parseOptions(command, { provider: 'openshift', cloud: 'azure' }, {}).cloud).toBe('azure');
  });
});

describe('OpenShift on Azure: the cluster facts', () => {
  it('takes the resource group from the Infrastructure object, the issuer as written, the region of the nodes', () => {
    const found = openShiftOnAzure(ocp(), { cloud: 'public' });
    expect(found).toEqual({ facts: expect.objectContaining({ aks: { id: '', name: 'rhacs-sts-x7k2p', resourceGroup: 'rhacs-sts-x7k2p-rg', location: 'eastus', issuerUrl: ISSUER, problems: [] } }) });
    const flagged = openShiftOnAzure(ocp(), { cloud: 'public', resourceGroup: 'other-rg', clusterName: 'prod' });
    expect('facts' in flagged && flagged.facts.aks).toMatchObject({ resourceGroup: 'other-rg', name: 'prod' });
  });

  it('reports every problem at once: no resource group, no issuer, no region, another cloud than the credentials', () => {
    const bad = ocp({ openshift: { platformType: 'Azure', azure: infra({ resourceGroupName: undefined, cloudName: 'AzureUSGovernmentCloud' }) } });
    const found = openShiftOnAzure(bad, { cloud: 'public' });
    expect('problems' in found && found.problems.map((p) => p.source)).toEqual(['--resource-group', 'ocp', 'ocp']);
    const other = openShiftOnAzure(ocp({ openshift: { platformType: 'Azure', serviceAccountIssuer: ISSUER, region: 'usgovvirginia', azure: infra({ cloudName: 'AzureUSGovernmentCloud' }) } }), { cloud: 'public' });
    expect('problems' in other && other.problems[0]!.message).toContain('AzureUSGovernmentCloud');
    // --resource-group stands in for a missing one.
    const given = openShiftOnAzure(ocp({ openshift: { platformType: 'Azure', serviceAccountIssuer: ISSUER, region: 'eastus', azure: infra({ resourceGroupName: undefined }) } }), { cloud: 'public', resourceGroup: 'rg' });
    expect('facts' in given).toBe(true);
  });
});

describe('OpenShift on Azure: the plan', () => {
  it('trusts the issuer exactly as written with audience openshift, and sets the three variables on central with one rollout', () => {
    const plan = planAks(facts(), decisions(), empty);
    expect(plan.blockers).toEqual([]);
    expect(plan.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'azure-managed-identity:create', 'azure-federated-credential:create', 'deployment-env:create', 'restart:update',
    ]);
    expect(plan.federatedCredentials).toEqual([ourCredential]);
    const env = plan.actions.find((a) => a.type === 'deployment-env')!;
    expect(env).toMatchObject({ env: [{ name: 'AZURE_CLIENT_ID', value: PENDING_CLIENT_ID }, { name: 'AZURE_TENANT_ID', value: TENANT }, { name: 'AZURE_FEDERATED_TOKEN_FILE', value: TOKEN_FILE }] });
    expect(plan.actions.find((a) => a.type === 'restart')).toMatchObject({ method: 'rollout' });
  });

  it('keeps the variables durably: an operator overlay, or Helm values', () => {
    const cr = { kind: 'Central' as const, name: 'stackrox-central-services', overlays: [] };
    const operator = planAks(facts(ocp({ installMethod: 'operator', operatorCrs: { central: cr } })), decisions(), { ...empty, identity: IDENTITY });
    const overlay = operator.actions.find((a) => a.type === 'operator-overlay');
    expect(overlay).toMatchObject({ status: 'update', overlays: [{ kind: 'Deployment', name: 'central', patches: expect.arrayContaining([{ path: 'spec.template.spec.containers[name:central].env[-1]', value: `name: AZURE_CLIENT_ID\nvalue: ${IDENTITY.clientId}\n` }]) }] });
    const helm = planAks(facts(ocp({ installMethod: 'helm', helmReleases: { central: 'stackrox-central-services' } })), decisions(), { ...empty, identity: IDENTITY });
    expect(JSON.stringify(helm.helmValues)).toContain(`"AZURE_CLIENT_ID":"${IDENTITY.clientId}"`);
  });

  it('outside the public cloud also sets AZURE_AUTHORITY_HOST', () => {
    const cluster = ocp({ openshift: { platformType: 'Azure', serviceAccountIssuer: ISSUER, region: 'usgovvirginia', azure: infra({ cloudName: 'AzureUSGovernmentCloud' }) } });
    const plan = planAks(facts(cluster, 'usgov'), decisions(), { ...empty, identity: IDENTITY });
    expect(plan.actions.find((a) => a.type === 'deployment-env')).toMatchObject({ env: expect.arrayContaining([{ name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.us/' }]) });
  });

  it('plans nothing once everything is in place', () => {
    const plan = planAks(facts(ocp({ current: state(ourEnv) })), decisions(), { identity: IDENTITY, credentials: [ourCredential], assignments: [] });
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
  });

  it('refuses a deployment whose AZURE_CLIENT_ID names another identity, and mounts the token on an older install', () => {
    const foreign = planAks(facts(ocp({ current: state([{ name: 'AZURE_CLIENT_ID', value: 'someone-else' }]) })), decisions(), { ...empty, identity: IDENTITY });
    expect(foreign.blockers.map((b) => b.message)).toEqual([expect.stringContaining('already sets AZURE_CLIENT_ID=someone-else')]);
    const old = planAks(facts(ocp({ current: state([], false) })), decisions(), { ...empty, identity: IDENTITY });
    expect(old.actions.find((a) => a.type === 'deployment-env')).toMatchObject({ tokenVolume: { audience: 'openshift' } });
  });
});

describe('OpenShift on Azure: --no-restart', () => {
  it('is refused where setting the variables rolls the pods at once (manifests), naming them; Helm values wait for the upgrade', () => {
    const live = planAks(facts(), decisions({ restart: false }), { ...empty, identity: IDENTITY });
    expect(live.blockers.map((b) => b.message)).toEqual([expect.stringContaining('setting AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE on stackrox/central')]);
    const helm = planAks(facts(ocp({ installMethod: 'helm', helmReleases: { central: 'stackrox-central-services' } })), decisions({ restart: false }), { ...empty, identity: IDENTITY });
    expect(helm.blockers).toEqual([]);
    expect(helm.actions.find((a) => a.type === 'deployment-env')).toMatchObject({ status: 'unchanged', deferred: true });
  });
});

describe('OpenShift on Azure: uninstall', () => {
  const withCredential: AzureState = { identity: IDENTITY, credentials: [ourCredential], assignments: [] };

  it('removes our variables and credential, then the identity', () => {
    const plan = planAksUninstall(facts(ocp({ current: state(ourEnv) })), decisions(), withCredential);
    expect(plan.actions.map((a) => `${a.type}:${a.status}`)).toEqual(['deployment-env:delete', 'restart:update', 'azure-federated-credential:delete', 'azure-managed-identity:delete']);
    expect(plan.actions[0]).toMatchObject({ env: ourEnv });
  });

  it('keeps another identity\'s variables, and a value rhacs-sts did not set', () => {
    const other = planAksUninstall(facts(ocp({ current: state([{ name: 'AZURE_CLIENT_ID', value: 'someone-else' }]) })), decisions(), withCredential);
    expect(other.actions.some((a) => a.type === 'deployment-env')).toBe(false);
    expect(other.notes.join('\n')).toContain('AZURE_CLIENT_ID=someone-else');
    const mixed = planAksUninstall(facts(ocp({ current: state([ourEnv[0]!, { name: 'AZURE_TENANT_ID', value: 'their-tenant' }]) })), decisions(), withCredential);
    expect(mixed.actions[0]).toMatchObject({ type: 'deployment-env', status: 'delete', env: [ourEnv[0]] });
    expect(mixed.notes.join('\n')).toContain('AZURE_TENANT_ID holds a value rhacs-sts did not set: kept');
  });
});

describe('OpenShift on Azure: verify\'s wiring row', () => {
  const where = { cluster: ocp(), multi: false };
  const input = (env: { name: string; value?: string }[], hasTokenMount = true) => ({
    cluster: ocp({ current: state(env, hasTokenMount) }), component: 'central' as const,
    identity: { name: IDENTITY.name, clientId: IDENTITY.clientId, tenantId: TENANT }, cloud: 'public' as const, initCommand: 'rhacs-sts init --provider openshift --cloud azure',
  });

  it('passes when the deployment names the identity, its tenant and OpenShift\'s token', () => {
    expect(openShiftWiringRow(input(ourEnv), where).result).toBe('pass');
  });

  it('fails a missing variable, naming it and the init that sets it', () => {
    const r = openShiftWiringRow(input(ourEnv.filter((e) => e.name !== 'AZURE_FEDERATED_TOKEN_FILE')), where);
    expect(r).toMatchObject({ result: 'fail', detail: expect.stringContaining('has no AZURE_FEDERATED_TOKEN_FILE'), fix: expect.stringContaining('--provider openshift --cloud azure') });
    expect(openShiftWiringRow(input(ourEnv, false), where).detail).toContain('mounts no projected service-account token');
  });
});
