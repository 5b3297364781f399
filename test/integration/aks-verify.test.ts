// verify on AKS, against the sandbox's `aks` cluster and Azure stand-ins started here (Entra
// reaching the cluster's issuer through the public issuer stand-in, as it reaches the internet;
// ACR by its host name): after init every row passes; a federated credential deleted → the Entra
// row fails naming the fix; AcrPull removed → the registry row fails; an annotation naming another
// client id → the wiring row fails. Each failure is exit 3.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAzureSession, type AzureSession } from '../../src/clouds/azure/session.js';
import { AKS_SANDBOX_SUBSCRIPTION } from '../sandbox/azure/aks-sandbox.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { publicFetcher } from '../sandbox/issuers/public-fetch.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../sandbox/kube/kubeconfigs.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const REGISTRY = 'rhacsverify';

let az: AzureStandins;
let azure: AzureSession;
let env: Record<string, string>;
let registryId: string;

beforeAll(async () => {
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, fetchPublic: publicFetcher(sb) });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
  registryId = az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } }).id;
  env = { ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl, RHACS_STS_CONNECT_TO: az.acrConnectTo() };
  azure = await openAzureSession({
    environment: { tenantId: az.adminEnv.AZURE_TENANT_ID, clientId: az.adminEnv.AZURE_CLIENT_ID, clientSecret: az.adminEnv.AZURE_CLIENT_SECRET },
    subscriptionId: AKS_SANDBOX_SUBSCRIPTION, endpoints: { authorityHost: az.authorityHost, arm: az.armUrl }, ca: az.ca, timeoutMs: 15_000, sources: ['environment'],
  });
});

afterAll(async () => {
  await az?.close();
});

const cli = (args: string[]) => runCli(sb, 'aks', args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
interface Row { id: string; check: string; result: string; detail: string; fix?: string }
const rows = (r: Run) => (JSON.parse(r.stdout) as { cloud: string; ok: boolean; checks: Row[] });
const rowOf = (r: Run, kind: string) => rows(r).checks.find((c) => c.id.startsWith(`${kind}:`));

describe('verify on AKS', () => {
  it('passes after init; a deleted federated credential, a removed AcrPull, an annotation naming another client id each fail their row with the fix (exit 3)', async () => {
    const ns = uniqueNamespace('aks-verify');
    await seedRhacs(kubeConfigFor(sb, 'aks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    ok(await cli(['init', '--yes', ...args]), 'init');

    const passed = ok(await cli(['verify', ...args, '--output', 'json']), 'verify after init');
    expect(rows(passed).cloud).toBe('azure');
    expect(rows(passed).checks.map((c) => [c.id.split(':')[0], c.result])).toEqual([
      ['aks-oidc-issuer', 'pass'], ['aks-workload-identity', 'pass'], ['azure-wiring', 'pass'],
      ['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'pass'],
      // Central's own test needs Central's credentials (aks-central.test.ts): without them a warning says so.
      ['central-test', 'warn'],
    ]);
    // No repository is assumed: without --acr-repository the read row is AcrPull as ARM has it; with it, a real tags list.
    expect(rowOf(passed, 'azure-acr-read')!.detail).toContain(`has AcrPull on ${REGISTRY}.azurecr.io`);
    const read = ok(await cli(['verify', ...args, '--acr-repository', 'stackrox/main', '--output', 'json']), 'verify --acr-repository');
    expect(rowOf(read, 'azure-acr-read')!.detail).toBe(`Listed the tags of stackrox/main in ${REGISTRY}.azurecr.io: the identity may pull.`);
    const text = ok(await cli(['verify', ...args]), 'verify, text');
    expect(text.stdout).toContain(`Managed identity: ${id} in resource group ${AKS_RESOURCE_GROUP}`);

    // AcrPull removed → the registry read fails, naming the role.
    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    for (const a of await azure.arm.roleAssignmentsOf(registryId, identity.principalId)) await azure.arm.deleteRoleAssignment(a.id);
    const noPull = await cli(['verify', ...args, '--output', 'json']);
    expect(noPull.code, noPull.stderr).toBe(3);
    expect(rowOf(noPull, 'azure-entra')!.result).toBe('pass');
    expect(rowOf(noPull, 'azure-acr-read')).toMatchObject({ result: 'fail' });
    expect(rowOf(noPull, 'azure-acr-read')!.fix).toContain('--role AcrPull');

    // The federated credential deleted → Entra refuses the token (AADSTS70021) and the row names the fix.
    for (const f of await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id)) await azure.arm.deleteFederatedCredential(AKS_RESOURCE_GROUP, id, f.name);
    const noFic = await cli(['verify', ...args, '--output', 'json']);
    expect(noFic.code, noFic.stderr).toBe(3);
    const entra = rowOf(noFic, 'azure-entra')!;
    expect(entra.result).toBe('fail');
    expect(entra.detail).toContain('AADSTS70021');
    expect(entra.fix).toContain('rhacs-sts init');

    // An annotation naming another client id → the wiring row fails.
    await kubeConfigFor(sb, 'aks').makeApiClient(CoreV1Api).patchNamespacedServiceAccount({
      name: 'central', namespace: ns, body: [{ op: 'replace', path: '/metadata/annotations/azure.workload.identity~1client-id', value: '22222222-2222-2222-2222-222222222222' }],
    });
    const other = await cli(['verify', ...args, '--output', 'json']);
    expect(other.code, other.stderr).toBe(3);
    expect(rowOf(other, 'azure-wiring')).toMatchObject({ result: 'fail' });
    expect(rowOf(other, 'azure-wiring')!.detail).toContain('names client id 22222222-2222-2222-2222-222222222222');
    expect(az.breaches()).toEqual([]);
  }, 480_000);

  it('workload identity off → its row fails with the az fix (verify reports it, not bad input), exit 3; --skip-exchange requests no token and calls nothing with one', async () => {
    const ns = uniqueNamespace('aks-verify-off');
    await seedRhacs(kubeConfigFor(sb, 'aks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    ok(await cli(['init', '--yes', ...args]), 'init');

    const mark = az.mark();
    const skipped = ok(await cli(['verify', ...args, '--skip-exchange', '--output', 'json']), 'verify --skip-exchange');
    expect(rowOf(skipped, 'azure-token-chain')).toMatchObject({ result: 'warn' });
    // Only rhacs-sts's own sign-in at Entra; nothing as the managed identity, nothing at the registry.
    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    const seen = az.requests(mark);
    expect(seen.filter((r) => r.service === 'entra' && r.operationId === 'Token').map((r) => r.caller)).not.toContain(identity.clientId);
    expect(seen.filter((r) => r.service === 'acr')).toEqual([]);
    expect(seen.some((r) => r.service === 'arm')).toBe(true);

    az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region, workloadIdentity: false });
    try {
      const off = await cli(['verify', ...args, '--output', 'json']);
      expect(off.code, off.stderr).toBe(3);
      expect(rowOf(off, 'aks-workload-identity')).toMatchObject({ result: 'fail', fix: `Run: az aks update --resource-group ${AKS_RESOURCE_GROUP} --name aks --enable-oidc-issuer --enable-workload-identity` });
      expect(rowOf(off, 'aks-oidc-issuer')!.result).toBe('pass');
    } finally {
      az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
    }
  }, 300_000);
});
