import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential, WorkloadIdentityCredential, type TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { testIssuer } from './test-issuer.js';

const ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
const issuer = testIssuer(ISSUER);
let az: AzureStandins;
let rgScope: string;
let registry: { id: string; loginServer: string };
let other: { id: string; loginServer: string };

beforeAll(async () => {
  az = await startAzureStandins({ fetchPublic: issuer.fetchPublic });
  rgScope = az.seed.resourceGroup('rg');
  registry = az.seed.registry({ resourceGroup: 'rg', name: 'rhacs', repositories: { 'stackrox/main': ['4.7.0', '4.8.0'] } });
  other = az.seed.registry({ resourceGroup: 'rg', name: 'elsewhere', repositories: { 'stackrox/main': ['4.7.0'] } });
});
afterAll(async () => {
  await az.close();
});

const credOpts = () => ({ authorityHost: az.authorityHost, disableInstanceDiscovery: true, agent: az.agent });
const appCredential = (app: { clientId: string; clientSecret: string }) => new ClientSecretCredential(az.tenantId, app.clientId, app.clientSecret, credOpts());

/** What Central does (pkg/registries/azure): an ARM-scope token → /oauth2/exchange → /oauth2/token → a /v2 read. */
async function pull(cred: TokenCredential, reg = registry, repo = 'stackrox/main') {
  const aad = (await cred.getToken(az.armScopes))!.token;
  const form = (o: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o).toString() });
  const exchange = await az.acrFetch(`https://${reg.loginServer}/oauth2/exchange`, form({ grant_type: 'access_token', service: reg.loginServer, tenant: az.tenantId, access_token: aad }));
  if (exchange.status !== 200) return { stage: 'exchange', status: exchange.status, body: JSON.parse(exchange.body), headers: exchange.headers };
  const refresh = (JSON.parse(exchange.body) as { refresh_token: string }).refresh_token;
  const token = await az.acrFetch(`https://${reg.loginServer}/oauth2/token`, form({ grant_type: 'refresh_token', service: reg.loginServer, scope: `repository:${repo}:pull`, refresh_token: refresh }));
  if (token.status !== 200) return { stage: 'token', status: token.status, body: JSON.parse(token.body), headers: token.headers };
  const access = (JSON.parse(token.body) as { access_token: string }).access_token;
  const read = await az.acrFetch(`https://${reg.loginServer}/v2/${repo}/tags/list`, { headers: { authorization: `Bearer ${access}` } });
  return { stage: 'read', status: read.status, body: JSON.parse(read.body), headers: read.headers };
}

describe('ACR stand-in: token exchange and a registry read', () => {
  it('lets a workload identity with AcrPull on the registry read it (the whole chain Central walks)', async () => {
    const c = await import('@azure/arm-msi');
    const msi = new c.ManagedServiceIdentityClient(appCredential(az.admin), az.subscriptionId, { endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent });
    const id = await msi.userAssignedIdentities.createOrUpdate('rg', 'central', { location: 'eastus' });
    await msi.federatedIdentityCredentials.createOrUpdate('rg', 'central', 'central', { issuer: ISSUER, subject: 'system:serviceaccount:stackrox:central', audiences: ['api://AzureADTokenExchange'] });
    az.seed.roleAssignment({ principalId: id.principalId!, role: 'AcrPull', scope: registry.id });
    const dir = mkdtempSync(join(tmpdir(), 'acr-wi-'));
    const file = join(dir, 'token');
    writeFileSync(file, issuer.token({}));
    const r = await pull(new WorkloadIdentityCredential({ tenantId: az.tenantId, clientId: id.clientId!, tokenFilePath: file, ...credOpts() })).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(r).toMatchObject({ stage: 'read', status: 200, body: { name: 'stackrox/main', tags: ['4.7.0', '4.8.0'] } });
  });

  it('lets Reader on the registry pull too (its */read covers pull/read), as ACR documents', async () => {
    const reader = az.seed.app({ name: 'reader', roles: [{ role: 'Reader', scope: registry.id }] });
    expect(await pull(appCredential(reader))).toMatchObject({ stage: 'read', status: 200 });
  });

  it('refuses the read to a caller with no pull role on the registry, in ACR’s 401 shape', async () => {
    const operator = az.seed.app({ name: 'operator', roles: [{ role: 'Managed Identity Operator', scope: rgScope }] });
    const since = az.mark();
    const r = await pull(appCredential(operator));
    expect(r).toMatchObject({ stage: 'read', status: 401, body: { errors: [{ code: 'UNAUTHORIZED', detail: [{ Type: 'repository', Name: 'stackrox/main', Action: 'pull' }] }] } });
    expect(r.headers['www-authenticate']).toBe(`Bearer realm="https://${registry.loginServer}/oauth2/token",service="${registry.loginServer}",scope="repository:stackrox/main:pull"`);
    const token = az.requests(since).find((x) => x.operationId === 'AcrToken')!;
    expect(token.decision.allowed).toBe(false);
  });

  it('refuses AcrPull granted on another registry', async () => {
    const elsewhere = az.seed.app({ name: 'elsewhere', roles: [{ role: 'AcrPull', scope: other.id }] });
    expect(await pull(appCredential(elsewhere))).toMatchObject({ stage: 'read', status: 401 });
    expect(await pull(appCredential(elsewhere), other)).toMatchObject({ stage: 'read', status: 200 });
  });

  it('refuses an exchange with a token Entra did not issue', async () => {
    const r = await az.acrFetch(`https://${registry.loginServer}/oauth2/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'access_token', service: registry.loginServer, tenant: az.tenantId, access_token: issuer.token({}) }).toString(),
    });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
  });

  it('answers NAME_UNKNOWN for a repository the registry lacks', async () => {
    const puller = az.seed.app({ name: 'puller', roles: [{ role: 'AcrPull', scope: registry.id }] });
    expect(await pull(appCredential(puller), registry, 'stackrox/nope')).toMatchObject({ stage: 'read', status: 404, body: { errors: [{ code: 'NAME_UNKNOWN' }] } });
  });
});
