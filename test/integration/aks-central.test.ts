// Central's Azure Container Registry integration on AKS, against the sandbox's `aks` cluster, its
// Central stand-in and Azure stand-ins started here (Central's pods reach them: its test takes the
// workload identity variables the webhook injected → Entra, with the pod's projected token → ACR's
// token exchange → a pull of `stackrox/main`). init --configure-integration --acr converges an
// integration of type `azure` (azure.wifEnabled, endpoint <registry>.azurecr.io), saved only once
// Central's test passes; a re-run changes nothing; verify's Central row passes; uninstall deletes it.
// A failed test saves nothing; one for the same registry that rhacs-sts did not make is switched only
// with --adopt-integration, its password never printed; --configure-integration without --acr or
// Central's credentials is exit 2 before anything is contacted.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AKS_SANDBOX_SUBSCRIPTION } from '../sandbox/azure/aks-sandbox.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { addCentralIntegration, centralIntegrations, centralMark, centralReachesAzure, centralRequests } from '../sandbox/central/central-control.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { publicFetcher } from '../sandbox/issuers/public-fetch.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../sandbox/kube/kubeconfigs.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const REGISTRY = 'rhacscentral';
const ENDPOINT = `${REGISTRY}.azurecr.io`;
const RECORD = 'rhacs-sts/azure-integration';

let az: AzureStandins;
let env: Record<string, string>;
let unregister: (() => Promise<void>) | undefined;

beforeAll(async () => {
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, fetchPublic: publicFetcher(sb) });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
  az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } });
  env = { ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl, RHACS_STS_CONNECT_TO: az.acrConnectTo() };
  // Central's pods reach these stand-ins' Entra and ACR (a real pull proves AcrPull: the ACR stand-in's exchange does not check the role).
  unregister = await centralReachesAzure(sb, 'aks', az, { pullCheckRepository: 'stackrox/main' });
});

afterAll(async () => {
  await unregister?.();
  await az?.close();
});

const kube = () => kubeConfigFor(sb, 'aks');
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const recordOf = async (ns: string) =>
  (await kube().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns })).metadata?.annotations?.[RECORD];
const seeded = async (prefix: string) => {
  const ns = uniqueNamespace(prefix);
  const s = await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
  const id = `rhacs-${ns.slice(-6)}`;
  return { ns, id, args: ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY], central: { ROX_ADMIN_PASSWORD: s.adminPassword! } };
};
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(sb, 'aks', args, { ...env, ...extra });

describe("Central's Azure Container Registry integration on AKS", () => {
  it('init --configure-integration creates it once Central\'s test passes; a re-run changes nothing; verify shows Central\'s test; uninstall deletes it', async () => {
    const { ns, id, args, central } = await seeded('aks-c-acr');
    ok(await cli(['init', '--yes', '--configure-integration', ...args], central), 'init --configure-integration');
    const saved = await centralIntegrations(sb, 'aks', ns);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ type: 'azure', categories: ['REGISTRY'], name: `Azure Container Registry ${ENDPOINT} (rhacs-sts)`, azure: { endpoint: ENDPOINT, wifEnabled: true } });
    expect(JSON.parse((await recordOf(ns))!)).toEqual({ id: saved[0]!.id, created: true });
    // Central's test ran in the restarted pod, as the managed identity: Entra took its token, the registry let it pull.
    const acr = az.requests().filter((r) => r.service !== 'arm').map((r) => [r.operationId, r.decision.allowed]);
    expect(acr).toContainEqual(['TagsList', true]);

    const again = ok(await cli(['init', '--yes', '--configure-integration', ...args], central), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
    expect(await centralIntegrations(sb, 'aks', ns)).toEqual(saved);

    const v = ok(await cli(['verify', ...args, '--output', 'json'], central), 'verify');
    const checks = (JSON.parse(v.stdout) as { checks: { id: string; check: string; result: string; detail: string }[] }).checks;
    expect(checks.at(-1)).toMatchObject({ id: 'central-test', check: "Central's Azure Container Registry test", result: 'pass', detail: expect.stringContaining(`tested the integration "${saved[0]!.name}" as its pod`) });

    // uninstall deletes the integration it created (before the identity goes), and its record.
    ok(await cli(['uninstall', '--yes', '--namespace', ns, '--azure-identity', id], central), 'uninstall');
    expect(await centralIntegrations(sb, 'aks', ns)).toEqual([]);
    expect(await recordOf(ns)).toBeUndefined();
  }, 300_000);

  it('is not saved when Central\'s test fails (--no-restart: the pod was never given the identity): exit 1 naming the link, nothing in RHACS', async () => {
    const { ns, args, central } = await seeded('aks-c-fail');
    const r = await cli(['init', '--yes', '--no-restart', '--configure-integration', ...args], central);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("Central's test of the Azure Container Registry integration failed — broken link: wiring");
    expect(r.stderr).toContain('Nothing was saved in RHACS.');
    expect(await centralIntegrations(sb, 'aks', ns)).toEqual([]);
    expect(await recordOf(ns)).toBeUndefined();
  }, 240_000);

  it('one for the same registry that rhacs-sts did not make is switched only with --adopt-integration (its password stays stored, never printed); plan writes nothing', async () => {
    const { ns, args, central } = await seeded('aks-c-adopt');
    const theirs = await addCentralIntegration(sb, 'aks', ns, { name: 'team ACR', type: 'azure', categories: ['REGISTRY'], azure: { endpoint: ENDPOINT, username: 'puller', password: 'not-a-real-password' } });

    const since = await centralMark(sb);
    const plan = await cli(['plan', '--configure-integration', ...args], central);
    expect(plan.code, plan.stderr).toBe(1);
    expect(plan.stdout + plan.stderr).toContain('"team ACR"');
    expect((await centralRequests(sb, since, ns)).filter((x) => x.method !== 'GET')).toEqual([]);

    const blocked = await cli(['init', '--yes', '--configure-integration', ...args], central);
    expect(blocked.code, blocked.stderr).toBe(1);
    expect(blocked.stderr).toContain('--adopt-integration');
    expect(blocked.stderr).toContain('a username and password');
    expect(blocked.stdout + blocked.stderr).not.toContain('not-a-real-password');

    const adopted = ok(await cli(['init', '--yes', '--configure-integration', '--adopt-integration', ...args], central), 'adopt');
    expect(adopted.stdout + adopted.stderr).not.toContain('not-a-real-password');
    const after = await centralIntegrations(sb, 'aks', ns);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: theirs.id, name: 'team ACR', azure: { endpoint: ENDPOINT, wifEnabled: true, username: 'puller', password: 'not-a-real-password' } });
    expect(JSON.parse((await recordOf(ns))!)).toEqual({ id: theirs.id, previous: { wifEnabled: false } });
  }, 300_000);

  it('--configure-integration without --acr and without Central credentials is exit 2 naming both, before anything is contacted', async () => {
    const mark = az.mark();
    const since = await centralMark(sb);
    const r = await cli(['init', '--yes', '--configure-integration', '--namespace', 'stackrox']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--configure-integration: on Azure needs the registry the integration is for: pass --acr <name or resource id>');
    expect(r.stderr).toContain('--configure-integration: needs Central credentials');
    expect(az.requests(mark)).toEqual([]);
    expect(await centralRequests(sb, since)).toEqual([]);
  });
});
