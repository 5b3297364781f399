import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { ClientSecretCredential, EnvironmentCredential, WorkloadIdentityCredential } from '@azure/identity';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { raw } from './test-http.js';
import { testIssuer } from './test-issuer.js';

// AKS publishes its issuer with a trailing slash; Entra compares the strings.
const AKS_ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
const issuer = testIssuer(AKS_ISSUER);
let az: AzureStandins;
let dir: string;

beforeAll(async () => {
  az = await startAzureStandins({ fetchPublic: issuer.fetchPublic });
  az.seed.resourceGroup('rg');
  dir = mkdtempSync(join(tmpdir(), 'azure-wi-'));
});
afterAll(async () => {
  await az.close();
  rmSync(dir, { recursive: true, force: true });
});

const opts = () => ({ authorityHost: az.authorityHost, disableInstanceDiscovery: true, agent: az.agent, retryOptions: { maxRetries: 0 } });
const msi = () => new ManagedServiceIdentityClient(new ClientSecretCredential(az.tenantId, az.admin.clientId, az.admin.clientSecret, opts()), az.subscriptionId, { endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent, retryOptions: { maxRetries: 0 } });

async function identityWith(name: string, fic?: { issuer: string; subject?: string; audiences?: string[] }) {
  const client = msi();
  const id = await client.userAssignedIdentities.createOrUpdate('rg', name, { location: 'eastus' });
  if (fic) await client.federatedIdentityCredentials.createOrUpdate('rg', name, 'central', { issuer: fic.issuer, subject: fic.subject ?? 'system:serviceaccount:stackrox:central', audiences: fic.audiences ?? ['api://AzureADTokenExchange'] });
  return id;
}

/** A workload identity credential as the pod's SDK builds it from the webhook's variables. */
function workload(clientId: string, token: string) {
  const file = join(dir, `${clientId}.token`);
  writeFileSync(file, token);
  return new WorkloadIdentityCredential({ tenantId: az.tenantId, clientId, tokenFilePath: file, ...opts() });
}

async function entraError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, 'the token request should have failed').toBeInstanceOf(Error);
  return err!.message;
}

describe('Entra ID stand-in: client secret (the administrator, through EnvironmentCredential)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('issues an ARM token for the secret, which ARM accepts', async () => {
    Object.assign(process.env, az.adminEnv);
    const cred = new EnvironmentCredential({ disableInstanceDiscovery: true, agent: az.agent } as ConstructorParameters<typeof EnvironmentCredential>[0]);
    const t = await cred.getToken(az.armScopes);
    expect(t.token.split('.')).toHaveLength(3);
    const client = new ManagedServiceIdentityClient(cred, az.subscriptionId, { endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent });
    await expect(client.userAssignedIdentities.createOrUpdate('rg', 'env-made', { location: 'eastus' })).resolves.toMatchObject({ name: 'env-made' });
    const metadata = az.requests().filter((r) => r.service === 'entra').map((r) => r.operationId);
    expect(metadata).toContain('OpenIdConfiguration');
  });

  it('refuses a wrong secret with AADSTS7000215', async () => {
    const cred = new ClientSecretCredential(az.tenantId, az.admin.clientId, 'not-the-secret', opts());
    expect(await entraError(cred.getToken(az.armScopes))).toContain('AADSTS7000215');
  });

  it('refuses a scope without /.default (AADSTS1002012) and an unknown resource (AADSTS500011)', async () => {
    const r = await raw(`${az.authorityHost}/${az.tenantId}/oauth2/v2.0/token`, {
      ca: az.ca,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: az.admin.clientId, client_secret: az.admin.clientSecret, scope: 'https://management.azure.com/user_impersonation' }).toString(),
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
    const cred = new ClientSecretCredential(az.tenantId, az.admin.clientId, az.admin.clientSecret, opts());
    expect(await entraError(cred.getToken('https://vault.example.net/.default'))).toContain('AADSTS500011');
  });
});

describe('Entra ID stand-in: workload identity (client assertion)', () => {
  it('exchanges a token whose iss, sub and aud match a federated credential exactly', async () => {
    const id = await identityWith('wi-ok', { issuer: AKS_ISSUER });
    const t = await workload(id.clientId!, issuer.token({})).getToken(az.armScopes);
    expect(t.token.split('.')).toHaveLength(3);
    expect(issuer.fetched).toContain(`${AKS_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`);
  });

  it('refuses an issuer that differs by the trailing slash with AADSTS70021 naming the assertion', async () => {
    const id = await identityWith('wi-slash', { issuer: AKS_ISSUER.replace(/\/$/, '') });
    const since = az.mark();
    const msg = await entraError(workload(id.clientId!, issuer.token({})).getToken(az.armScopes));
    expect(msg).toContain('AADSTS70021');
    expect(msg).toContain(`Assertion Issuer: '${AKS_ISSUER}'`);
    expect(msg).toContain("Assertion Subject: 'system:serviceaccount:stackrox:central'");
    expect(msg).toContain("Assertion Audience: 'api://AzureADTokenExchange'");
    const decision = az.requests(since).find((r) => r.operationId === 'Token')!;
    expect(decision.decision).toMatchObject({ allowed: false, code: 'AADSTS70021' });
    // The log names both sides: the token's issuer and the credential's.
    expect(decision.decision.reason).toContain(`iss ${AKS_ISSUER},`);
    expect(decision.decision.reason).toContain(`it has: ${AKS_ISSUER.replace(/\/$/, '')} |`);
  });

  it('refuses another subject or audience with AADSTS70021', async () => {
    const id = await identityWith('wi-sub', { issuer: AKS_ISSUER });
    expect(await entraError(workload(id.clientId!, issuer.token({ subject: 'system:serviceaccount:stackrox:sensor' })).getToken(az.armScopes))).toContain('AADSTS70021');
    expect(await entraError(workload(id.clientId!, issuer.token({ audience: 'openshift' })).getToken(az.armScopes))).toContain('AADSTS70021');
  });

  it('refuses an unknown client id with AADSTS700016', async () => {
    expect(await entraError(workload('0b1c2d3e-0000-4000-8000-000000000000', issuer.token({})).getToken(az.armScopes))).toContain('AADSTS700016');
  });

  it('refuses an expired assertion with AADSTS700024', async () => {
    const id = await identityWith('wi-exp', { issuer: AKS_ISSUER });
    const old = Math.floor(az.now() / 1000) - 7200;
    expect(await entraError(workload(id.clientId!, issuer.token({ nowS: old })).getToken(az.armScopes))).toContain('AADSTS700024');
  });

  it('refuses an assertion signed with another key (AADSTS50013) and one that is not a JWT (AADSTS50027)', async () => {
    const id = await identityWith('wi-sig', { issuer: AKS_ISSUER });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(await entraError(workload(id.clientId!, issuer.token({ key: other })).getToken(az.armScopes))).toContain('AADSTS50013');
    expect(await entraError(workload(id.clientId!, 'not-a-jwt').getToken(az.armScopes))).toContain('AADSTS50027');
  });

  it("answers in Entra's error JSON", async () => {
    const id = await identityWith('wi-json', { issuer: AKS_ISSUER });
    const r = await raw(`${az.authorityHost}/${az.tenantId}/oauth2/v2.0/token`, {
      ca: az.ca,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: id.clientId!,
        scope: az.armScopes[0]!,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: issuer.token({ subject: 'system:serviceaccount:other:app' }),
      }).toString(),
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_request', error_codes: [70021] });
    expect(Object.keys(r.json).sort()).toEqual(['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
    expect(r.json.error_description).toMatch(/^AADSTS70021: No matching federated identity record found for presented assertion\. .* Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });
});
