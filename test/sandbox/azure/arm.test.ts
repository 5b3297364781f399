import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSIONS, FIC_LIMIT, MAX_FICS_PER_IDENTITY } from './arm.js';
import { ROLE } from './roles.js';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { raw } from './test-http.js';

const ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
let az: AzureStandins;
let rgScope: string;

beforeAll(async () => {
  az = await startAzureStandins();
  rgScope = az.seed.resourceGroup('rg');
});
afterAll(async () => {
  await az.close();
});

const noRetry = { retryOptions: { maxRetries: 0 } };
function credential(app = az.admin) {
  return new ClientSecretCredential(az.tenantId, app.clientId, app.clientSecret, { authorityHost: az.authorityHost, disableInstanceDiscovery: true, agent: az.agent });
}
const clientOpts = () => ({ endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent, ...noRetry });
const msi = (app = az.admin) => new ManagedServiceIdentityClient(credential(app), az.subscriptionId, clientOpts());
const authz = () => new AuthorizationManagementClient(credential(), az.subscriptionId, clientOpts());

async function armCall(path: string, o: { method?: string; body?: unknown; apiVersion?: string | null } = {}) {
  const token = (await credential().getToken(az.armScopes))!.token;
  const q = o.apiVersion === null ? '' : `?api-version=${o.apiVersion ?? '2024-11-30'}`;
  return raw(`${az.armUrl}${path}${q}`, { ca: az.ca, method: o.method ?? 'GET', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
}

async function restError(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: { statusCode?: number; code?: string; message: string }) => e,
  );
  expect(err, 'the call should have failed').toBeDefined();
  return err!;
}

const idPath = (name: string) => `/subscriptions/${az.subscriptionId}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const fic = (n: number) => ({ issuer: ISSUER, subject: `system:serviceaccount:ns${n}:central`, audiences: ['api://AzureADTokenExchange'] });

describe('ARM stand-in: managed identities', () => {
  it('creates an identity with generated ids and tags, reads, lists and deletes it', async () => {
    const c = msi();
    const made = await c.userAssignedIdentities.createOrUpdate('rg', 'central-id', { location: 'East US', tags: { 'rhacs-sts/managed': 'true' } });
    expect(made).toMatchObject({ name: 'central-id', location: 'eastus', tags: { 'rhacs-sts/managed': 'true' }, tenantId: az.tenantId });
    expect(made.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.id).toBe(idPath('central-id'));
    await expect(c.userAssignedIdentities.get('rg', 'central-id')).resolves.toMatchObject({ clientId: made.clientId });
    const listed = [];
    for await (const i of c.userAssignedIdentities.listByResourceGroup('rg')) listed.push(i.name);
    expect(listed).toContain('central-id');
    await c.userAssignedIdentities.delete('rg', 'central-id');
    expect(await restError(c.userAssignedIdentities.get('rg', 'central-id'))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('answers ResourceGroupNotFound for a missing resource group', async () => {
    expect(await restError(msi().userAssignedIdentities.createOrUpdate('no-such-rg', 'x1', { location: 'eastus' }))).toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
  });

  it('refuses a missing and an unknown api-version as ARM does', async () => {
    const missing = await armCall(idPath('any'), { apiVersion: null });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('MissingApiVersionParameter');
    const unknown = await armCall(idPath('any'), { apiVersion: '2099-01-01' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('NoRegisteredProviderFound');
    expect(unknown.json.error.message).toContain(API_VERSIONS.identities.join(', '));
    // Federated credentials are younger than identities: the identities' first version does not know them.
    const old = await armCall(`${idPath('any')}/federatedIdentityCredentials/central`, { apiVersion: '2018-11-30' });
    expect(old.json.error.code).toBe('NoRegisteredProviderFound');
  });

  it('refuses a request body that breaks the model (InvalidRequestContent)', async () => {
    const r = await armCall(idPath('no-location'), { method: 'PUT', body: { tags: {} } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'InvalidRequestContent' } });
    expect(r.json.error.message).toContain("'location' is required");
  });

  it('answers 401 without a bearer token', async () => {
    const r = await raw(`${az.armUrl}${idPath('x')}?api-version=2024-11-30`, { ca: az.ca });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('AuthenticationFailed');
    expect(r.headers['www-authenticate']).toContain('Bearer');
  });

  it("refuses a token for another resource, and an expired one, with ARM's codes", async () => {
    const acrToken = (await credential().getToken('https://containerregistry.azure.net/.default'))!.token;
    const wrong = await raw(`${az.armUrl}${idPath('x')}?api-version=2024-11-30`, { ca: az.ca, headers: { authorization: `Bearer ${acrToken}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('InvalidAuthenticationTokenAudience');
    const armToken = (await credential().getToken(az.armScopes))!.token;
    az.advance(2 * 3600_000);
    const expired = await raw(`${az.armUrl}${idPath('x')}?api-version=2024-11-30`, { ca: az.ca, headers: { authorization: `Bearer ${armToken}` } });
    expect(expired.status).toBe(401);
    expect(expired.json.error.code).toBe('ExpiredAuthenticationToken');
  });

  it('answers 403 AuthorizationFailed to a caller whose roles do not grant the action', async () => {
    const reader = az.seed.app({ name: 'reader', roles: [{ role: 'Reader', scope: rgScope }] });
    const since = az.mark();
    const e = await restError(msi(reader).userAssignedIdentities.createOrUpdate('rg', 'by-reader', { location: 'eastus' }));
    expect(e).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(e.message).toContain("'Microsoft.ManagedIdentity/userAssignedIdentities/write'");
    await expect(msi(reader).userAssignedIdentities.listByResourceGroup('rg').next()).resolves.toBeDefined();
    const d = az.requests(since).find((r) => r.operationId === 'UserAssignedIdentities_CreateOrUpdate')!;
    expect(d.decision).toMatchObject({ allowed: false, code: 'AuthorizationFailed' });
  });
});

describe('ARM stand-in: federated identity credentials', () => {
  it('creates, reads and lists credentials with issuer, subject and audiences', async () => {
    const c = msi();
    await c.userAssignedIdentities.createOrUpdate('rg', 'fic-basic', { location: 'eastus' });
    const made = await c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-basic', 'central', fic(0));
    expect(made).toMatchObject({ name: 'central', issuer: ISSUER, subject: 'system:serviceaccount:ns0:central', audiences: ['api://AzureADTokenExchange'] });
    expect(made.type).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
    await expect(c.federatedIdentityCredentials.get('rg', 'fic-basic', 'central')).resolves.toMatchObject({ issuer: ISSUER });
  });

  it('refuses a credential name that breaks the pattern', async () => {
    await msi().userAssignedIdentities.createOrUpdate('rg', 'fic-name', { location: 'eastus' });
    for (const bad of ['-starts-with-dash', 'ab', 'has.dot']) {
      const r = await armCall(`${idPath('fic-name')}/federatedIdentityCredentials/${bad}`, { method: 'PUT', body: { properties: fic(0) } });
      expect(r.status, bad).toBe(400);
      expect(r.json.error.code, bad).toBe('InvalidResourceName');
    }
    const ok = await armCall(`${idPath('fic-name')}/federatedIdentityCredentials/ok_name-1`, { method: 'PUT', body: { properties: fic(0) } });
    expect(ok.status).toBe(201);
  });

  it('refuses a credential without subject or audiences (required by the specification)', async () => {
    await msi().userAssignedIdentities.createOrUpdate('rg', 'fic-req', { location: 'eastus' });
    const r = await armCall(`${idPath('fic-req')}/federatedIdentityCredentials/central`, { method: 'PUT', body: { properties: { issuer: ISSUER } } });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('InvalidRequestContent');
    expect(r.json.error.message).toContain("'properties.subject' is required");
    expect(r.json.error.message).toContain("'properties.audiences' is required");
  });

  it(`refuses the ${MAX_FICS_PER_IDENTITY + 1}st credential on one identity, but still updates an existing one`, async () => {
    const c = msi();
    await c.userAssignedIdentities.createOrUpdate('rg', 'fic-limit', { location: 'eastus' });
    for (let n = 0; n < MAX_FICS_PER_IDENTITY; n++) await c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-limit', `cluster-${n}`, fic(n));
    const e = await restError(c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-limit', 'cluster-20', fic(20)));
    expect(e).toMatchObject({ statusCode: FIC_LIMIT.status, code: FIC_LIMIT.code });
    expect(e.message).toContain(`at most ${MAX_FICS_PER_IDENTITY}`);
    await expect(c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-limit', 'cluster-3', fic(33))).resolves.toMatchObject({ subject: 'system:serviceaccount:ns33:central' });
  });

  it('answers 409 to a write that overlaps another on the same identity, and not on another identity', async () => {
    const c = msi();
    await c.userAssignedIdentities.createOrUpdate('rg', 'fic-race', { location: 'eastus' });
    await c.userAssignedIdentities.createOrUpdate('rg', 'fic-other', { location: 'eastus' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    az.knobs.ficWriteHold = (identityId) => {
      if (!identityId.endsWith('/fic-race')) return;
      entered();
      return held;
    };
    try {
      const first = c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-race', 'central', fic(1));
      await inside;
      const e = await restError(c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-race', 'sensor', fic(2)));
      expect(e).toMatchObject({ statusCode: 409, code: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity' });
      await expect(c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-other', 'sensor', fic(2))).resolves.toMatchObject({ name: 'sensor' });
      release();
      await expect(first).resolves.toMatchObject({ name: 'central' });
      await expect(c.federatedIdentityCredentials.createOrUpdate('rg', 'fic-race', 'sensor', fic(2))).resolves.toMatchObject({ name: 'sensor' });
    } finally {
      az.knobs.ficWriteHold = undefined;
      release();
    }
  });
});

describe('ARM stand-in: role assignments and definitions', () => {
  const acrPull = () => `/subscriptions/${az.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.AcrPull}`;

  it('lists AcrPull by name with its real id and the pull action', async () => {
    const found = [];
    for await (const d of authz().roleDefinitions.list(`/subscriptions/${az.subscriptionId}`, { filter: "roleName eq 'AcrPull'" })) found.push(d);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ name: '7f951dda-4ed3-4680-a7ca-43fe172d538d', roleName: 'AcrPull', roleType: 'BuiltInRole' });
    expect(found[0]!.permissions![0]!.actions).toEqual(['Microsoft.ContainerRegistry/registries/pull/read']);
  });

  it('answers PrincipalNotFound until the propagation delay has passed, then assigns', async () => {
    const { id: registry } = az.seed.registry({ resourceGroup: 'rg', name: 'rhacsdelay' });
    az.knobs.principalPropagationMs = 60_000;
    try {
      const identity = await msi().userAssignedIdentities.createOrUpdate('rg', 'fresh', { location: 'eastus' });
      const params = { roleDefinitionId: acrPull(), principalId: identity.principalId!, principalType: 'ServicePrincipal' };
      const name = randomUUID();
      const e = await restError(authz().roleAssignments.create(registry, name, params));
      expect(e).toMatchObject({ statusCode: 400, code: 'PrincipalNotFound' });
      az.advance(30_000);
      expect(await restError(authz().roleAssignments.create(registry, name, params))).toMatchObject({ code: 'PrincipalNotFound' });
      az.advance(30_000);
      await expect(authz().roleAssignments.create(registry, name, params)).resolves.toMatchObject({ principalId: identity.principalId, scope: registry, principalType: 'ServicePrincipal' });
    } finally {
      az.knobs.principalPropagationMs = 0;
    }
  });

  it('answers RoleAssignmentExists for the same principal, role and scope under another name; lists with $filter; deletes', async () => {
    const { id: registry } = az.seed.registry({ resourceGroup: 'rg', name: 'rhacsexists' });
    const identity = await msi().userAssignedIdentities.createOrUpdate('rg', 'exists', { location: 'eastus' });
    const params = { roleDefinitionId: acrPull(), principalId: identity.principalId!, principalType: 'ServicePrincipal' };
    const first = randomUUID();
    await authz().roleAssignments.create(registry, first, params);
    await expect(authz().roleAssignments.create(registry, first, params)).resolves.toMatchObject({ name: first });
    expect(await restError(authz().roleAssignments.create(registry, randomUUID(), params))).toMatchObject({ statusCode: 409, code: 'RoleAssignmentExists' });
    const mine = [];
    for await (const a of authz().roleAssignments.listForScope(registry, { filter: `principalId eq '${identity.principalId}'` })) mine.push(a.name);
    expect(mine).toEqual([first]);
    const atScope = [];
    for await (const a of authz().roleAssignments.listForScope(registry, { filter: 'atScope()' })) atScope.push(a.principalId);
    expect(atScope).toContain(az.admin.principalId); // the admin's Owner at the subscription is above
    await authz().roleAssignments.delete(registry, first);
    expect(await restError(authz().roleAssignments.get(registry, first))).toMatchObject({ statusCode: 404 });
  });

  it('refuses a role assignment name that is not a GUID and a role definition that does not exist', async () => {
    const identity = await msi().userAssignedIdentities.createOrUpdate('rg', 'guid', { location: 'eastus' });
    const r = await armCall(`${rgScope}/providers/Microsoft.Authorization/roleAssignments/acr-pull`, { method: 'PUT', apiVersion: '2022-04-01', body: { properties: { roleDefinitionId: acrPull(), principalId: identity.principalId } } });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('InvalidRoleAssignmentId');
    const e = await restError(authz().roleAssignments.create(rgScope, randomUUID(), { roleDefinitionId: acrPull().replace(ROLE.AcrPull!, randomUUID()), principalId: identity.principalId! }));
    expect(e).toMatchObject({ code: 'RoleDefinitionDoesNotExist' });
  });
});

describe('ARM stand-in: clusters and registries', () => {
  it('serves a seeded AKS cluster with its OIDC issuer (ending in /) and workload identity', async () => {
    az.seed.managedCluster({ resourceGroup: 'rg', name: 'aks1', issuerURL: ISSUER });
    const c = new ContainerServiceClient(credential(), az.subscriptionId, clientOpts());
    const mc = await c.managedClusters.get('rg', 'aks1');
    expect(mc.oidcIssuerProfile).toMatchObject({ enabled: true, issuerURL: ISSUER });
    expect(mc.securityProfile?.workloadIdentity?.enabled).toBe(true);
    expect(await restError(c.managedClusters.get('rg', 'nope'))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('serves a seeded registry with its login server', async () => {
    az.seed.registry({ resourceGroup: 'rg', name: 'rhacsacr' });
    const c = new ContainerRegistryManagementClient(credential(), az.subscriptionId, { endpoint: az.armUrl, credentials: { scopes: az.armScopes }, agent: az.agent, ...noRetry });
    const r = await c.registries.get('rg', 'rhacsacr');
    expect(r.loginServer).toBe('rhacsacr.azurecr.io');
    expect(r.sku.name).toBe('Standard');
  });
});

describe('ARM stand-in: its own answers are held to the contract', () => {
  it('answers 500 and fails close() when a stand-in answer breaks its model', async () => {
    const own = await startAzureStandins();
    own.seed.resourceGroup('rg');
    own.seed.managedCluster({ resourceGroup: 'rg', name: 'broken', issuerURL: 42 as unknown as string });
    const c = new ContainerServiceClient(new ClientSecretCredential(own.tenantId, own.admin.clientId, own.admin.clientSecret, { authorityHost: own.authorityHost, disableInstanceDiscovery: true, agent: own.agent }), own.subscriptionId, { endpoint: own.armUrl, credentialScopes: own.armScopes, agent: own.agent, ...noRetry });
    expect(await restError(c.managedClusters.get('rg', 'broken'))).toMatchObject({ statusCode: 500 });
    expect(own.breaches().join('\n')).toContain('properties.oidcIssuerProfile.issuerURL must be a string');
    await expect(own.close()).rejects.toThrow(/broke their contract/);
  });
});
