// The Azure library (src/clouds/azure/) against the Azure stand-ins: the real SDK clients and
// credential chain over HTTPS to Entra and ARM stand-ins that enforce what Azure enforces. The
// stand-ins need no Kubernetes; the tests live here, not beside them, because test/sandbox imports
// nothing from src/ (a stand-in and the product must not share a mistake).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AzureArm } from '../../src/clouds/azure/arm.js';
import { ensureAcrPull } from '../../src/clouds/azure/acr-pull.js';
import { convergeAks, type AksConvergeInput } from '../../src/clouds/azure/converge.js';
import { FederatedCredentialLimitError } from '../../src/clouds/azure/federated-credentials.js';
import { ensureIdentity } from '../../src/clouds/azure/identity.js';
import { openAzureSession, type AzureSession, type CredentialSource } from '../../src/clouds/azure/session.js';
import { InputError, isInputError } from '../../src/errors.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';

const AKS_ISSUER = 'https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/';
let az: AzureStandins;
let registry: { id: string; loginServer: string };

beforeAll(async () => {
  az = await startAzureStandins();
  az.seed.resourceGroup('rg');
  registry = az.seed.registry({ resourceGroup: 'rg', name: 'rhacsacr', repositories: { 'stackrox/main': ['4.9.0'] } });
});
afterAll(async () => {
  await az.close();
});

function open(o: { clientSecret?: string; sources?: CredentialSource[] } = {}): Promise<AzureSession> {
  return openAzureSession({
    environment: { tenantId: az.tenantId, clientId: az.admin.clientId, clientSecret: o.clientSecret ?? az.admin.clientSecret },
    subscriptionId: az.subscriptionId,
    endpoints: { authorityHost: az.authorityHost, arm: az.armUrl },
    ca: az.ca,
    timeoutMs: 15_000,
    sources: o.sources ?? ['environment'],
  });
}

/** Waits move the stand-ins' virtual clock instead of the test's. */
const virtualSleep = async (ms: number) => {
  az.advance(ms);
};

let n = 0;
function cluster(o: { issuer?: string } = {}): AksConvergeInput {
  const name = `aks${++n}`;
  az.seed.managedCluster({ resourceGroup: 'rg', name, issuerURL: o.issuer ?? AKS_ISSUER });
  return { resourceGroup: 'rg', clusterName: name, namespace: 'stackrox', serviceAccounts: ['central', 'sensor'], acr: 'rhacsacr' };
}

const ops = (since: number, operationId: string) => az.requests(since).filter((r) => r.operationId === operationId);

describe('Azure: converging one AKS cluster', () => {
  it('trusts the issuer exactly as the cluster publishes it, trailing slash kept, and a re-run writes nothing', async () => {
    const s = await open();
    const input = cluster();
    const first = await convergeAks(s.arm, input, { sleep: virtualSleep });
    expect(first.identityCreated).toBe(true);
    expect(first.identity.name).toBe(`rhacs-sts-${input.clusterName}`);
    expect(first.identity.tags).toMatchObject({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': input.clusterName });
    const fics = await s.arm.listFederatedCredentials('rg', first.identity.name);
    expect(fics.map((f) => [f.issuer, f.subject, f.audiences])).toEqual([
      [AKS_ISSUER, 'system:serviceaccount:stackrox:central', ['api://AzureADTokenExchange']],
      [AKS_ISSUER, 'system:serviceaccount:stackrox:sensor', ['api://AzureADTokenExchange']],
    ]);
    expect(fics[0]!.issuer.endsWith('/')).toBe(true);

    const since = az.mark();
    const again = await convergeAks(s.arm, input, { sleep: virtualSleep });
    expect(again.identityCreated).toBe(false);
    expect(again.credentials.create).toEqual([]);
    expect(again.acrPull).toEqual({ status: 'unchanged', reason: 'assigned' });
    expect(az.requests(since).filter((r) => r.method !== 'GET' && r.service === 'arm')).toEqual([]);
  });

  it('stops before the 21st federated credential, before any write', async () => {
    const s = await open();
    const input = cluster();
    const name = `rhacs-sts-${input.clusterName}`;
    await ensureIdentity(s.arm, { resourceGroup: 'rg', name, location: 'eastus', clusterName: input.clusterName });
    for (let i = 0; i < 19; i++) await s.arm.putFederatedCredential('rg', name, { name: `other-${i}`, issuer: `https://issuer-${i}.example.com/`, subject: 'system:serviceaccount:stackrox:central', audiences: ['api://AzureADTokenExchange'] });
    const since = az.mark();
    const err = await convergeAks(s.arm, input, { sleep: virtualSleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FederatedCredentialLimitError);
    expect((err as Error).message).toContain('carries 19 federated credentials and this run needs 2 more');
    expect((err as FederatedCredentialLimitError).hint).toContain('--azure-identity');
    expect(ops(since, 'FederatedIdentityCredentials_CreateOrUpdate')).toEqual([]);
    expect((await s.arm.listFederatedCredentials('rg', name)).length).toBe(19);
  });

  it('retries the AcrPull assignment through PrincipalNotFound until the new identity is known', async () => {
    az.knobs.principalPropagationMs = 60_000;
    try {
      const s = await open();
      const since = az.mark();
      const result = await convergeAks(s.arm, cluster(), { sleep: virtualSleep });
      expect(result.acrPull.status).toBe('created');
      const creates = ops(since, 'RoleAssignments_Create');
      expect(creates.slice(0, -1).every((r) => r.decision.code === 'PrincipalNotFound')).toBe(true);
      expect(creates.length).toBeGreaterThan(1);
      expect(creates.at(-1)!.status).toBe(201);
      if (result.acrPull.status === 'created') {
        expect(result.acrPull.retries).toBe(creates.length - 1);
        expect(result.acrPull.assignment.roleDefinitionId).toMatch(/\/roleDefinitions\/7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
        expect(result.acrPull.assignment.scope.toLowerCase()).toBe(registry.id.toLowerCase());
      }
    } finally {
      az.knobs.principalPropagationMs = 0;
    }
  });

  it('takes RoleAssignmentExists (another run made it under another name) as done', async () => {
    const s = await open();
    const input = cluster();
    const { identity } = await ensureIdentity(s.arm, { resourceGroup: 'rg', name: `rhacs-sts-${input.clusterName}`, location: 'eastus', clusterName: input.clusterName });
    az.seed.roleAssignment({ principalId: identity.principalId, role: 'AcrPull', scope: registry.id });
    // The list is read before the other run's assignment lands: the create meets it.
    const racing: AzureArm = { ...s.arm, roleAssignmentsOf: async () => [] };
    const since = az.mark();
    const result = await ensureAcrPull(racing, { registryId: registry.id, principalId: identity.principalId, identityName: identity.name }, { sleep: virtualSleep });
    expect(result).toEqual({ status: 'unchanged', reason: 'exists' });
    expect(ops(since, 'RoleAssignments_Create').map((r) => r.decision.code)).toEqual(['RoleAssignmentExists']);
  });

  it("keeps every assignment that is not its own on the registry", async () => {
    const s = await open();
    const other = az.seed.app({ name: 'ci-pusher' });
    const theirs = [
      az.seed.roleAssignment({ principalId: other.principalId, role: 'AcrPush', scope: registry.id }),
      az.seed.roleAssignment({ principalId: other.principalId, role: 'AcrPull', scope: registry.id }),
    ];
    const since = az.mark();
    await convergeAks(s.arm, cluster(), { sleep: virtualSleep });
    expect(az.requests(since).filter((r) => r.method === 'DELETE')).toEqual([]);
    const still = await s.arm.roleAssignmentsOf(registry.id, other.principalId);
    expect(still.map((a) => a.id.toLowerCase()).sort()).toEqual(theirs.map((id) => id.toLowerCase()).sort());
  });

  it('refuses an identity of the same name that is not its own', async () => {
    const s = await open();
    const input = cluster();
    await s.arm.putIdentity('rg', `rhacs-sts-${input.clusterName}`, { location: 'eastus', tags: { team: 'platform' } });
    const since = az.mark();
    await expect(convergeAks(s.arm, input, { sleep: virtualSleep })).rejects.toThrow(/was not created by rhacs-sts/);
    expect(az.requests(since).filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('Azure: credentials', () => {
  it('turns a refused client secret into an InputError naming the fix, before any ARM call', async () => {
    const s = await open({ clientSecret: 'not-the-secret', sources: ['environment', 'workload-identity', 'azure-cli'] });
    const since = az.mark();
    const err = await s.caller().catch((e: unknown) => e);
    expect(isInputError(err)).toBe(true);
    expect((err as InputError).problems).toEqual([{ source: 'Azure credentials', message: expect.stringContaining('the client secret is wrong (AADSTS7000215)') }]);
    expect((err as InputError).hint).toContain('az login');
    expect((err as InputError).hint).toContain('AZURE_CLIENT_SECRET');
    const fromConverge = await convergeAks(s.arm, cluster(), { sleep: virtualSleep }).catch((e: unknown) => e);
    expect(isInputError(fromConverge)).toBe(true);
    expect(az.requests(since).filter((r) => r.service === 'arm')).toEqual([]);
  });

  it('reads the tenant and the caller from the ARM token', async () => {
    const s = await open();
    await expect(s.caller()).resolves.toEqual({ tenantId: az.tenantId, objectId: az.admin.principalId, appId: az.admin.clientId });
  });
});

describe('Azure: a sovereign cloud', () => {
  it("asks for tokens for the cloud's own ARM resource, wherever the clients reach ARM", async () => {
    const gov = await startAzureStandins({ cloud: 'usgov' });
    try {
      const session = (cloud: 'usgov' | 'public') =>
        openAzureSession({
          cloud,
          environment: { tenantId: gov.tenantId, clientId: gov.admin.clientId, clientSecret: gov.admin.clientSecret },
          subscriptionId: gov.subscriptionId,
          endpoints: { authorityHost: gov.authorityHost, arm: gov.armUrl },
          ca: gov.ca,
          sources: ['environment'],
        });
      const s = await session('usgov');
      expect(s.cloud.acrSuffix).toBe('azurecr.us');
      await expect(s.caller()).resolves.toMatchObject({ tenantId: gov.tenantId });
      gov.seed.resourceGroup('rg');
      await expect(s.arm.getIdentity('rg', 'none-yet')).resolves.toBeNull();
      // The public cloud's ARM resource is unknown to the government tenant.
      const wrong = await (await session('public')).caller().catch((e: unknown) => e);
      expect(isInputError(wrong)).toBe(true);
    } finally {
      await gov.close();
    }
  });
});
