// verify's Azure chain (src/clouds/azure/verify.ts) against the Azure stand-ins: a cluster token
// with the platform's audience → Entra's token endpoint (the token as client assertion, its
// signature checked against the issuer's published keys) → ACR's token exchange → a registry read.
// One row per link, each failure with its fix: the happy chain, an issuer that differs by the
// trailing slash (AADSTS70021 shown as the difference), a wrong audience, a missing AcrPull.
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURE_CLOUDS } from '../../src/clouds/azure/clouds.js';
import { convergeAks } from '../../src/clouds/azure/converge.js';
import { desiredCredentials, convergeCredentials } from '../../src/clouds/azure/federated-credentials.js';
import { ensureIdentity } from '../../src/clouds/azure/identity.js';
import { openAzureSession, type AzureSession } from '../../src/clouds/azure/session.js';
import { verifyAzureChain, type AzureVerifyInput } from '../../src/clouds/azure/verify.js';
import { azureHttp } from '../../src/clouds/azure/verify-http.js';
import type { CheckRow } from '../../src/verify/rows.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { testIssuer } from '../sandbox/azure/test-issuer.js';

const AKS_ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
const issuer = testIssuer(AKS_ISSUER);
let az: AzureStandins;
let session: AzureSession;
let loginServer: string;

beforeAll(async () => {
  az = await startAzureStandins({ fetchPublic: issuer.fetchPublic });
  az.seed.resourceGroup('rg');
  loginServer = az.seed.registry({ resourceGroup: 'rg', name: 'rhacsacr', repositories: { 'stackrox/main': ['4.9.0'] } }).loginServer;
  session = await openAzureSession({
    environment: { tenantId: az.tenantId, clientId: az.admin.clientId, clientSecret: az.admin.clientSecret },
    subscriptionId: az.subscriptionId,
    endpoints: { authorityHost: az.authorityHost, arm: az.armUrl },
    ca: az.ca,
    timeoutMs: 15_000,
    sources: ['environment'],
  });
});
afterAll(async () => {
  await az.close();
});

/** The chain as verify runs it, over HTTPS to the stand-ins (the registry's host name routed to its server). */
function http() {
  const port = Number(new URL(az.acrUrl).port);
  return azureHttp({ timeoutMs: 10_000, extraCa: [az.ca], connectTo: [{ host: loginServer, port: 443, toHost: '127.0.0.1', toPort: port }] });
}

let n = 0;
/** An AKS cluster converged (identity, federated credentials, AcrPull) with the given issuer on the cluster. */
async function converged(clusterIssuer = AKS_ISSUER) {
  const name = `aks${++n}`;
  az.seed.managedCluster({ resourceGroup: 'rg', name, issuerURL: clusterIssuer });
  const r = await convergeAks(session.arm, { resourceGroup: 'rg', clusterName: name, namespace: 'stackrox', serviceAccounts: ['central'], acr: 'rhacsacr' }, { sleep: async (ms) => az.advance(ms) });
  return { identity: r.identity, credentials: await session.arm.listFederatedCredentials('rg', r.identity.name) };
}

function input(o: { clientId: string; identityName: string; credentials: AzureVerifyInput['credentials']; token?: string }): AzureVerifyInput {
  const nowS = Math.floor(az.now() / 1000);
  return {
    token: o.token ?? issuer.token({ nowS }),
    tokenSource: 'stackrox/central',
    audience: 'api://AzureADTokenExchange',
    tenantId: az.tenantId,
    clientId: o.clientId,
    cloud: AZURE_CLOUDS.public,
    authorityHost: az.authorityHost,
    place: { resourceGroup: 'rg', identityName: o.identityName },
    credentials: o.credentials,
    loginServer,
    repository: 'stackrox/main',
    nowS,
  };
}

const results = (rows: CheckRow[]) => rows.map((r) => [r.id, r.result]);

describe('verify on Entra\'s terms: the Azure chain', () => {
  it('passes every link when the token, the federated credential and AcrPull agree', async () => {
    const { identity, credentials } = await converged();
    const since = az.mark();
    const rows = await verifyAzureChain(http(), input({ clientId: identity.clientId, identityName: identity.name, credentials }));
    expect(results(rows)).toEqual([['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'pass']]);
    expect(az.requests(since).map((r) => [r.service, r.operationId, r.status])).toEqual([
      ['entra', 'Token', 200], ['acr', 'AcrExchange', 200], ['acr', 'AcrToken', 200], ['acr', 'TagsList', 200],
    ]);
  });

  it('shows an AADSTS70021 as the trailing slash the credential lacks, with the fix', async () => {
    // The credential was written with the issuer normalised (no trailing slash); the token carries AKS's.
    const name = `aks${++n}`;
    const { identity } = await ensureIdentity(session.arm, { resourceGroup: 'rg', name: `rhacs-sts-${name}`, location: 'eastus', clusterName: name });
    await convergeCredentials(session.arm, { resourceGroup: 'rg', identity: identity.name }, desiredCredentials({ clusterName: name, issuer: AKS_ISSUER.slice(0, -1), namespace: 'stackrox', serviceAccounts: ['central'], platform: 'aks' }));
    const credentials = await session.arm.listFederatedCredentials('rg', identity.name);
    const rows = await verifyAzureChain(http(), input({ clientId: identity.clientId, identityName: identity.name, credentials }));
    expect(results(rows)).toEqual([['azure-token', 'pass'], ['azure-entra', 'fail'], ['azure-acr-exchange', 'warn'], ['azure-acr-read', 'warn']]);
    const entra = rows[1]!;
    expect(entra.detail).toContain('(AADSTS70021)');
    expect(entra.detail).toContain(`issuer: the token says '${AKS_ISSUER}', the credential '${AKS_ISSUER.slice(0, -1)}' (only the trailing slash differs: Entra compares strings)`);
    expect(entra.detail).not.toContain('subject:');
    expect(entra.fix).toContain(`az identity federated-credential update --resource-group rg --identity-name ${identity.name} --name ${credentials[0]!.name} --issuer '${AKS_ISSUER}'`);
    expect(rows[2]!.detail).toBe('Not checked: the Entra ID token exchange failed.');
  });

  it('fails the token link on a wrong audience before asking Entra, and Entra refuses it too', async () => {
    const { identity, credentials } = await converged();
    const token = issuer.token({ audience: 'openshift', nowS: Math.floor(az.now() / 1000) });
    const since = az.mark();
    const rows = await verifyAzureChain(http(), input({ clientId: identity.clientId, identityName: identity.name, credentials, token }));
    expect(results(rows)).toEqual([['azure-token', 'fail'], ['azure-entra', 'warn'], ['azure-acr-exchange', 'warn'], ['azure-acr-read', 'warn']]);
    expect(rows[0]!.detail).toContain('has audience openshift; the federated credential and Entra expect api://AzureADTokenExchange');
    expect(rows[0]!.fix).toContain('azure.workload.identity/use');
    expect(az.requests(since)).toEqual([]);
    // The same token sent anyway: Entra's own answer names the audience that differs.
    const asOpenShift = await verifyAzureChain(http(), { ...input({ clientId: identity.clientId, identityName: identity.name, credentials, token }), audience: 'openshift' });
    expect(asOpenShift[1]!.result).toBe('fail');
    expect(asOpenShift[1]!.detail).toContain("audience: the token says 'openshift', the credential 'api://AzureADTokenExchange'");
  });

  it('fails the registry link, naming AcrPull, when the identity has no role on the registry', async () => {
    const name = `aks${++n}`;
    const { identity } = await ensureIdentity(session.arm, { resourceGroup: 'rg', name: `rhacs-sts-${name}`, location: 'eastus', clusterName: name });
    await convergeCredentials(session.arm, { resourceGroup: 'rg', identity: identity.name }, desiredCredentials({ clusterName: name, issuer: AKS_ISSUER, namespace: 'stackrox', serviceAccounts: ['central'], platform: 'aks' }));
    const credentials = await session.arm.listFederatedCredentials('rg', identity.name);
    const rows = await verifyAzureChain(http(), input({ clientId: identity.clientId, identityName: identity.name, credentials }));
    expect(results(rows)).toEqual([['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'fail']]);
    expect(rows[3]!.detail).toContain(`managed identity ${identity.name} has no role that grants pull on the registry (AcrPull)`);
    expect(rows[3]!.fix).toContain(`--assignee-object-id ${identity.principalId} --assignee-principal-type ServicePrincipal --role AcrPull`);
  });

  it('passes on OpenShift\'s terms: its own token, audience openshift, and a credential for that audience', async () => {
    const name = `ocp${++n}`;
    const { identity } = await ensureIdentity(session.arm, { resourceGroup: 'rg', name: `rhacs-sts-${name}`, location: 'eastus', clusterName: name });
    await convergeCredentials(session.arm, { resourceGroup: 'rg', identity: identity.name }, desiredCredentials({ clusterName: name, issuer: AKS_ISSUER, namespace: 'stackrox', serviceAccounts: ['central'], platform: 'openshift' }));
    const credentials = await session.arm.listFederatedCredentials('rg', identity.name);
    expect(credentials[0]!.audiences).toEqual(['openshift']);
    const token = issuer.token({ audience: 'openshift', nowS: Math.floor(az.now() / 1000) });
    const rows = await verifyAzureChain(http(), { ...input({ clientId: identity.clientId, identityName: identity.name, credentials, token }), audience: 'openshift' });
    expect(results(rows).slice(0, 2)).toEqual([['azure-token', 'pass'], ['azure-entra', 'pass']]);
  });

  it('gives up on an authority that accepts the connection and never answers, within its bound', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((sock) => void sockets.push(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const { identity, credentials } = await converged();
      const bounded = azureHttp({ timeoutMs: 300, deadlineMs: 900, extraCa: [az.ca] });
      const rows = await verifyAzureChain(bounded, { ...input({ clientId: identity.clientId, identityName: identity.name, credentials }), authorityHost: `https://127.0.0.1:${port}` });
      expect(results(rows)).toEqual([['azure-token', 'pass'], ['azure-entra', 'fail'], ['azure-acr-exchange', 'warn'], ['azure-acr-read', 'warn']]);
      expect(rows[1]!.detail).toMatch(/^Could not reach Entra ID at https:\/\/127\.0\.0\.1:\d+: (no answer from|.* did not complete its answer)/);
      expect(sockets.length).toBe(1);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('names a client id Entra does not know (AADSTS700016) with the annotation to check', async () => {
    const { identity, credentials } = await converged();
    const rows = await verifyAzureChain(http(), input({ clientId: '00000000-0000-4000-8000-000000000000', identityName: identity.name, credentials }));
    expect(rows[1]).toMatchObject({ id: 'azure-entra', result: 'fail' });
    expect(rows[1]!.detail).toContain('(AADSTS700016)');
    expect(rows[1]!.fix).toContain('azure.workload.identity/client-id');
  });
});
