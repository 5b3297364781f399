import { ClientSecretCredential } from '@azure/identity';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { raw } from './test-http.js';

let az: AzureStandins;
beforeAll(async () => {
  az = await startAzureStandins({ cloud: 'usgov', serviceAccount: (ns, name) => ({ metadata: { name, namespace: ns, annotations: { 'azure.workload.identity/client-id': '0c8f2a8e-1111-4222-8333-444455556666' } } }) });
  az.seed.resourceGroup('rg');
});
afterAll(async () => {
  await az.close();
});

describe('Azure stand-ins as Azure Government', () => {
  it("issues and accepts tokens for the government ARM resource, not the public cloud's", async () => {
    expect(az.armScopes).toEqual(['https://management.usgovcloudapi.net/.default']);
    const cred = new ClientSecretCredential(az.tenantId, az.admin.clientId, az.admin.clientSecret, { authorityHost: az.authorityHost, disableInstanceDiscovery: true, agent: az.agent });
    const client = new ManagedServiceIdentityClient(cred, az.subscriptionId, { endpoint: az.armUrl, credentialScopes: az.armScopes, agent: az.agent });
    await expect(client.userAssignedIdentities.createOrUpdate('rg', 'gov', { location: 'usgovvirginia' })).resolves.toMatchObject({ name: 'gov' });
    await expect(cred.getToken('https://management.azure.com/.default')).rejects.toThrow(/AADSTS500011/);
  });

  it('names registries *.azurecr.us and injects the government authority host', async () => {
    expect(az.seed.registry({ resourceGroup: 'rg', name: 'govacr' }).loginServer).toBe('govacr.azurecr.us');
    const r = await raw(`${az.webhookUrl}/mutate-v1-pod`, { ca: az.ca, method: 'POST', body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', object: { metadata: { namespace: 'stackrox', labels: { 'azure.workload.identity/use': 'true' } }, spec: { serviceAccountName: 'central', containers: [{ name: 'central' }] } } } }) });
    const patch = JSON.parse(Buffer.from(r.json.response.patch, 'base64').toString('utf8')) as { path: string; value: { name: string; value: string }[] }[];
    const env = patch.find((p) => p.path === '/spec/containers/0/env')!.value;
    expect(env.find((e) => e.name === 'AZURE_AUTHORITY_HOST')!.value).toBe('https://login.microsoftonline.us/');
  });
});
