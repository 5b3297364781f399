// The Central stand-in's Azure Container Registry integrations (4.7+ `azure` shape): held to
// StackRox's swagger, and its test doing what Central does — the pod's workload identity variables
// → Entra's token endpoint → the registry's token exchange → the registry — against the Azure
// stand-ins, failing as Central words it when a link is missing.
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ClientSecretCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAzureStandins, type AzureStandins } from '../azure/standins.js';
import { testIssuer } from '../azure/test-issuer.js';
import { centralPod, NS, startFakeCentral, type FakeCentral } from './test-central.js';

// AKS's issuer ends in a slash, and Entra matches it exactly.
const ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
const TOKEN_FILE = '/var/run/secrets/azure/tokens/azure-identity-token';
const SUBJECT = `system:serviceaccount:${NS}:central`;

const issuer = testIssuer(ISSUER);
let az: AzureStandins;
let msi: ManagedServiceIdentityClient;
let registry: { id: string; loginServer: string };
let central: FakeCentral;

const integration = (over: Record<string, unknown> = {}) => ({
  name: 'Azure Container Registry rhacsimages.azurecr.io (rhacs-sts)',
  type: 'azure',
  categories: ['REGISTRY'],
  azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: true },
  ...over,
});

/** A user-assigned identity with a federated credential for Central's service account, at `ficIssuer`. */
async function identity(name: string, ficIssuer = ISSUER): Promise<{ clientId: string; principalId: string }> {
  const id = await msi.userAssignedIdentities.createOrUpdate('rg', name, { location: 'eastus' });
  await msi.federatedIdentityCredentials.createOrUpdate('rg', name, 'central', { issuer: ficIssuer, subject: SUBJECT, audiences: ['api://AzureADTokenExchange'] });
  return { clientId: id.clientId!, principalId: id.principalId! };
}

/** Central's pod as the workload identity webhook leaves it. */
function wiredPod(clientId: string) {
  return centralPod({
    tokenFile: TOKEN_FILE,
    audience: 'api://AzureADTokenExchange',
    env: { AZURE_CLIENT_ID: clientId, AZURE_TENANT_ID: az.tenantId, AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/' },
  });
}

beforeAll(async () => {
  az = await startAzureStandins({ fetchPublic: issuer.fetchPublic });
  az.seed.resourceGroup('rg');
  registry = az.seed.registry({ resourceGroup: 'rg', name: 'rhacsimages', repositories: { 'stackrox/main': ['4.7.2'] } });
  const admin = new ClientSecretCredential(az.tenantId, az.admin.clientId, az.admin.clientSecret, { authorityHost: az.authorityHost, disableInstanceDiscovery: true, agent: az.agent });
  msi = new ManagedServiceIdentityClient(admin, az.subscriptionId, { endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent });
  central = await startFakeCentral(centralPod(), (subject, audience) => issuer.token({ subject, audience }));
});
afterAll(async () => {
  await central?.close();
  await az?.close();
});
beforeEach(() => {
  central.api.clouds = { azure: { ...az, pullCheckRepository: 'stackrox/main' } };
  central.pod = centralPod();
});

describe('Azure integrations against StackRox\'s contract', () => {
  it('refuses a malformed one as Central\'s gateway does, and stores nothing', async () => {
    const wrongType = await central.call('POST', '/v1/imageintegrations', integration({ azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: 1 } }));
    expect(wrongType).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining('invalid value for bool field azure.wifEnabled') } });
    const unknown = await central.call('POST', '/v1/imageintegrations', integration({ azure: { endpoint: 'rhacsimages.azurecr.io', clientId: 'x' } }));
    expect(unknown).toMatchObject({ status: 400, body: { message: expect.stringContaining('unknown field "clientId" in azure') } });
    const missing = await central.call('POST', '/v1/imageintegrations/test', integration({ azure: { username: 'puller' } }));
    expect(missing).toMatchObject({ status: 400, body: { message: 'registry integration: Azure Validation errors: [Endpoint must be specified], [Username and password must be specified if not using workload identity]: invalid arguments' } });
    expect((await central.call('GET', '/v1/imageintegrations')).body).toEqual({ integrations: [] });
  });
});

describe('Central\'s test: workload identity → Entra → ACR token exchange → the registry', () => {
  it('fails without AcrPull on the registry; passes with it; then the integration is saved, its secrets never returned', async () => {
    const id = await identity('central-pull');
    central.pod = wiredPod(id.clientId);
    const since = az.mark();
    const without = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(without).toMatchObject({ status: 400, body: { message: 'registry integration: error testing integration (code: 401). Please check Central logs for full error: invalid arguments' } });
    // Entra took the pod's token; the registry exchanged it; the pull was refused.
    expect(central.minted.at(-1)).toEqual({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' });
    const ops = az.requests(since).filter((r) => r.service !== 'arm').map((r) => [r.operationId, r.decision.allowed]);
    expect(ops).toContainEqual(['AcrExchange', true]);
    expect(ops).toContainEqual(['TagsList', false]);

    az.seed.roleAssignment({ principalId: id.principalId, role: 'AcrPull', scope: registry.id });
    expect(await central.call('POST', '/v1/imageintegrations/test', integration())).toEqual({ status: 200, body: {} });
    const created = await central.call('POST', '/v1/imageintegrations', integration({ azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: true, password: 'kept-secret' } }));
    expect(created).toMatchObject({ status: 200, body: { id: expect.any(String), azure: { wifEnabled: true, password: '******' } } });
    expect(JSON.stringify((await central.call('GET', '/v1/imageintegrations')).body)).not.toContain('kept-secret');
    await central.call('DELETE', `/v1/imageintegrations/${String(created.body.id)}`);
  });

  it('switches a stored integration with a password to workload identity without its password (updatePassword=false), and back', async () => {
    const id = await identity('central-adopt');
    az.seed.roleAssignment({ principalId: id.principalId, role: 'AcrPull', scope: registry.id });
    central.pod = wiredPod(id.clientId);
    const stored = await central.call('POST', '/v1/imageintegrations', integration({ name: 'team ACR', azure: { endpoint: 'rhacsimages.azurecr.io', username: 'puller', password: 's3cret' }, skipTestIntegration: true }));
    const sid = String(stored.body.id);
    const listed = (await central.call('GET', `/v1/imageintegrations/${sid}`)).body as { azure: Record<string, unknown> };
    expect(listed.azure).toEqual({ endpoint: 'rhacsimages.azurecr.io', username: 'puller', password: '******' });
    // As rhacs-sts adopts it: the scrubbed password sent back as read, Central keeps its own.
    const adopted = { ...listed, id: sid, azure: { ...listed.azure, wifEnabled: true } };
    expect(await central.call('POST', '/v1/imageintegrations/test/updated', { config: adopted, updatePassword: false })).toEqual({ status: 200, body: {} });
    // The id is in the path; PATCH's config has no id field.
    const { id: _id, ...config } = adopted;
    expect(await central.call('PATCH', `/v1/imageintegrations/${sid}`, { config, updatePassword: false })).toEqual({ status: 200, body: {} });
    expect(central.api.state(NS).integrations.get(sid)).toMatchObject({ azure: { wifEnabled: true, password: 's3cret' } });
    // A password sent in clear without updatePassword is refused, as Central refuses it.
    const leaked = await central.call('PATCH', `/v1/imageintegrations/${sid}`, { config: { ...config, azure: { ...config.azure, password: 'other' } }, updatePassword: false });
    expect(leaked).toMatchObject({ status: 400, body: { message: "non-zero or unmasked credential field 'ImageIntegration.azure.password'" } });
    // Uninstall switches it back; the stored password is what it was.
    const back = { ...config, azure: { ...config.azure, wifEnabled: false } };
    expect((await central.call('PATCH', `/v1/imageintegrations/${sid}`, { config: back, updatePassword: false })).status).toBe(200);
    expect(central.api.state(NS).integrations.get(sid)).toMatchObject({ azure: { wifEnabled: false, username: 'puller', password: 's3cret' } });
    await central.call('DELETE', `/v1/imageintegrations/${sid}`);
  });

  it('fails when the federated credential\'s issuer differs from the token\'s by the trailing slash (AADSTS70021)', async () => {
    const id = await identity('central-no-slash', ISSUER.replace(/\/$/, ''));
    az.seed.roleAssignment({ principalId: id.principalId, role: 'AcrPull', scope: registry.id });
    central.pod = wiredPod(id.clientId);
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^registry integration: Get "https:\/\/rhacsimages\.azurecr\.io\/v2\/": getting Azure access token: WorkloadIdentityCredential authentication failed\. POST https:\/\/login\.microsoftonline\.com\/[-0-9a-f]+\/oauth2\/v2\.0\/token RESPONSE 400: invalid_request: AADSTS70021: No matching federated identity record found/);
  });

  it('fails as DefaultAzureCredential does in a pod the webhook did not wire', async () => {
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r).toMatchObject({ status: 400, body: { message: expect.stringContaining('getting Azure access token: DefaultAzureCredential: failed to acquire a token') } });
    expect(r.body.message).toContain('WorkloadIdentityCredential: no client ID specified');
  });

  it('fails as Central would when the Azure stand-ins are not there, and for a registry that does not exist', async () => {
    const id = await identity('central-nowhere');
    central.pod = wiredPod(id.clientId);
    central.api.clouds = {};
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r).toMatchObject({ status: 400, body: { message: expect.stringContaining('dial tcp: lookup login.microsoftonline.com: no such host') } });
    central.api.clouds = { azure: az };
    const other = await central.call('POST', '/v1/imageintegrations/test', integration({ azure: { endpoint: 'elsewhere1.azurecr.io', wifEnabled: true } }));
    expect(other).toMatchObject({ status: 400, body: { message: expect.stringContaining('dial tcp: lookup elsewhere1.azurecr.io: no such host') } });
  });
});
