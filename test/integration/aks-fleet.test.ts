// A fleet on AKS: one Central (--central-context), secured clusters (--sensor-context), one managed
// identity with a federated credential per cluster and service account, against the sandbox's `aks`
// cluster and Azure stand-ins started here. A second AKS cluster is too costly for the shared
// sandbox, so the secured cluster is a second kubeconfig context of the same cluster (its own
// target, Sensor's service account and deployment). The identity is pre-seeded through ARM with
// other clusters' credentials: 19 leave no room for the fleet's 2 (stopped before any write, with the
// ways out); 18 leave exactly enough; then verify walks both components' chains.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
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
const REGISTRY = 'rhacsfleet';
const SECURED = 'aks-secured';
const CLIENT_ID = 'azure.workload.identity/client-id';
const USE = 'azure.workload.identity/use';

let az: AzureStandins;
let azure: AzureSession;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, fetchPublic: publicFetcher(sb) });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
  az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } });
  azure = await openAzureSession({
    environment: { tenantId: az.adminEnv.AZURE_TENANT_ID, clientId: az.adminEnv.AZURE_CLIENT_ID, clientSecret: az.adminEnv.AZURE_CLIENT_SECRET },
    subscriptionId: AKS_SANDBOX_SUBSCRIPTION, endpoints: { authorityHost: az.authorityHost, arm: az.armUrl }, ca: az.ca, timeoutMs: 15_000, sources: ['environment'],
  });
  // The cluster's own context, and a second one for the secured cluster (same cluster and user, as `az aks get-credentials` names them).
  const kc = new KubeConfig();
  kc.loadFromFile(sb.clusters.aks!.kubeconfig);
  const own = kc.getContextObject(kc.getCurrentContext())!;
  kc.addContext({ name: SECURED, cluster: own.cluster, user: own.user, namespace: own.namespace });
  dir = mkdtempSync(join(tmpdir(), 'aks-fleet-'));
  writeFileSync(join(dir, 'kubeconfig'), kc.exportConfig());
  env = { ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl, RHACS_STS_CONNECT_TO: az.acrConnectTo(), KUBECONFIG: join(dir, 'kubeconfig') };
});

afterAll(async () => {
  await az?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(sb, 'aks', args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const armWrites = (mark: number) => az.requests(mark).filter((r) => r.service === 'arm' && r.method !== 'GET').map((r) => `${r.method} ${r.operationId}`);
const kube = () => kubeConfigFor(sb, 'aks');
const annotationOf = async (ns: string, sa: string) =>
  (await kube().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: sa, namespace: ns })).metadata?.annotations?.[CLIENT_ID];
const templateLabel = async (ns: string, name: string) =>
  (await kube().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns })).spec?.template.metadata?.labels?.[USE];

describe('a fleet on AKS', () => {
  it('one identity trusts each cluster\'s service account; the 21st credential is refused before any write with the ways out; within 20 init and verify pass', async () => {
    const ns = uniqueNamespace('aks-fleet');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central', 'sensor'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const fleet = ['--central-context', 'aks', '--sensor-context', SECURED, '--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];

    // The identity already trusts 19 other clusters' service accounts (rhacs-sts's, from earlier runs).
    await azure.arm.putIdentity(AKS_RESOURCE_GROUP, id, { location: sb.clusters.aks!.region, tags: { 'rhacs-sts/managed': 'true' } });
    for (let i = 0; i < 19; i++) {
      await azure.arm.putFederatedCredential(AKS_RESOURCE_GROUP, id, {
        name: `rhacs-sts-other${i}-stackrox-sensor`, issuer: `https://eastus.oic.prod-aks.azure.com/${AKS_SANDBOX_TENANT}/00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}/`,
        subject: 'system:serviceaccount:stackrox:sensor', audiences: ['api://AzureADTokenExchange'],
      });
    }
    const mark = az.mark();
    const full = await cli(['init', '--yes', ...fleet]);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toContain(`The managed identity ${id} carries 19 federated credentials and this run needs 2 more (aks: central; ${SECURED}: sensor): Azure allows 20 per identity, so there is room for 1.`);
    expect(full.stderr).toContain(`e.g. --context ${SECURED} --azure-identity rhacs-sts-aks`);
    expect(full.stderr).toContain(`az identity federated-credential list --identity-name ${id}`);
    expect(armWrites(mark)).toEqual([]);
    expect(await annotationOf(ns, 'central')).toBeUndefined();

    // One removed: room for exactly the fleet's two, written one at a time on the one identity.
    await azure.arm.deleteFederatedCredential(AKS_RESOURCE_GROUP, id, 'rhacs-sts-other0-stackrox-sensor');
    const since = az.mark();
    ok(await cli(['init', '--yes', ...fleet]), 'init, fleet');
    const credentials = await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id);
    expect(credentials).toHaveLength(20);
    expect(credentials.filter((f) => f.issuer === sb.clusters.aks!.issuer).map((f) => f.subject).sort()).toEqual([`system:serviceaccount:${ns}:central`, `system:serviceaccount:${ns}:sensor`]);
    // No write on the identity was refused as concurrent (409): they went one after the other.
    expect(az.requests(since).filter((r) => r.service === 'arm' && r.status === 409)).toEqual([]);
    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    for (const sa of ['central', 'sensor']) {
      expect(await annotationOf(ns, sa)).toBe(identity.clientId);
      expect(await templateLabel(ns, sa)).toBe('true');
    }

    const v = ok(await cli(['verify', ...fleet, '--output', 'json']), 'verify, fleet');
    const rows = (JSON.parse(v.stdout) as { checks: { id: string; result: string }[] }).checks;
    for (const comp of ['central', 'sensor']) {
      expect(rows.find((r) => r.id.startsWith('azure-entra') && r.id.endsWith(`:${comp}`)), comp).toMatchObject({ result: 'pass' });
    }
    // A re-run changes nothing, and the count stays within the limit.
    const again = ok(await cli(['init', '--yes', ...fleet]), 're-run, fleet');
    expect(again.stdout).toContain('Nothing to change');
  }, 300_000);
});
