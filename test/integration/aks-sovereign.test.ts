// AKS in Azure US Government, end to end against the sandbox's `aks` cluster and Azure stand-ins
// started here as the government cloud (tokens for https://management.usgovcloudapi.net only,
// registries named *.azurecr.us). rhacs-sts is given the government's own hosts — AZURE_AUTHORITY_HOST
// https://login.microsoftonline.us, ARM at management.usgovcloudapi.net — and RHACS_STS_CONNECT_TO
// sends those host names to the stand-ins (TLS still checked for them): init makes the identity, the
// credential and AcrPull through the government ARM, and verify walks Entra → ACR (.azurecr.us) → a read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const REGISTRY = 'rhacsgov';

let az: AzureStandins;
let env: Record<string, string>;

beforeAll(async () => {
  az = await startAzureStandins({ cloud: 'usgov', tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, fetchPublic: publicFetcher(sb) });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
  az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } });
  const route = (host: string, url: string) => `${host}:443:127.0.0.1:${new URL(url).port}`;
  env = {
    ...az.adminEnv,
    AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
    NODE_EXTRA_CA_CERTS: az.caCertPath,
    RHACS_STS_CONNECT_TO: [route('login.microsoftonline.us', az.authorityHost), route('management.usgovcloudapi.net', az.armUrl), az.acrConnectTo()].join(','),
  };
});

afterAll(async () => {
  await az?.close();
});

const cli = (args: string[]) => runCli(sb, 'aks', args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};

describe('AKS in Azure US Government', () => {
  it('init goes through the government ARM (its token scope) and names the registry *.azurecr.us; verify walks Entra and ACR there', async () => {
    const ns = uniqueNamespace('aks-gov');
    await seedRhacs(kubeConfigFor(sb, 'aks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    const plan = JSON.parse(ok(await cli(['plan', ...args, '--output', 'json']), 'plan').stdout) as { registry: { loginServer: string } };
    expect(plan.registry.loginServer).toBe(`${REGISTRY}.azurecr.us`);

    const init = ok(await cli(['init', '--yes', ...args]), 'init');
    expect(init.stderr).toContain(`AcrPull on ${REGISTRY}.azurecr.us`);
    // Every ARM call carried a token for the government's ARM (the stand-in refuses the public cloud's).
    const arm = az.requests().filter((r) => r.service === 'arm');
    expect(arm.length).toBeGreaterThan(0);
    expect(arm.filter((r) => r.status === 401)).toEqual([]);

    const v = ok(await cli(['verify', ...args, '--acr-repository', 'stackrox/main', '--output', 'json']), 'verify');
    const rows = (JSON.parse(v.stdout) as { registry: string; checks: { id: string; result: string; detail: string }[] });
    expect(rows.registry).toBe(`${REGISTRY}.azurecr.us`);
    expect(rows.checks.filter((c) => c.id.startsWith('azure-')).map((c) => [c.id.split(':')[0], c.result])).toEqual([
      ['azure-wiring', 'pass'], ['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'pass'],
    ]);
  }, 240_000);
});
