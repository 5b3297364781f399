// init on AKS at a real terminal (tmux): it asks only what the flags and detection left open — the
// managed identity, delegated scanning where Sensor runs, the registry for AcrPull — each with its
// default, then shows the plan and applies after one confirmation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAzureSession, type AzureSession } from '../../src/clouds/azure/session.js';
import { AKS_SANDBOX_SUBSCRIPTION } from '../sandbox/azure/aks-sandbox.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../sandbox/kube/kubeconfigs.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { Terminal } from '../sandbox/terminal.js';

const sb = useSandbox();
const REGISTRY = 'rhacswizard';

let dir: string;
let az: AzureStandins;
let azure: AzureSession;
let registryId: string;
const terminals: Terminal[] = [];
const env = () => ({
  ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl,
  KUBECONFIG: sb.clusters.aks!.kubeconfig, PATH: `${sb.awsCliDir}:${dirname(process.execPath)}:/usr/bin:/bin`,
});

beforeAll(async () => {
  execFileSync('tmux', ['-V']); // fails loudly if tmux is missing
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-aks-wizard-'));
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region });
  registryId = az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } }).id;
  azure = await openAzureSession({
    environment: { tenantId: az.adminEnv.AZURE_TENANT_ID, clientId: az.adminEnv.AZURE_CLIENT_ID, clientSecret: az.adminEnv.AZURE_CLIENT_SECRET },
    subscriptionId: AKS_SANDBOX_SUBSCRIPTION, endpoints: { authorityHost: az.authorityHost, arm: az.armUrl }, ca: az.ca, timeoutMs: 15_000, sources: ['environment'],
  });
});
afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
});
afterAll(async () => {
  await az?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rhacs-sts init on AKS at a terminal', () => {
  it('asks the identity, delegated scanning and the registry, then applies after one confirmation', { timeout: 180_000 }, async () => {
    const kc = kubeConfigFor(sb, 'aks');
    const ns = uniqueNamespace('aks-wiz');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;

    const t = new Terminal(dir);
    terminals.push(t);
    t.start(['init', '--namespace', ns], env());

    await t.waitFor(/^\? Managed identity RHACS acts as .*\(rhacs-sts-aks\)/m);
    t.type('bad name!');
    t.keys('Enter');
    await t.waitFor(/is not a managed identity name/);
    t.keys('C-u');
    t.type(id);
    t.keys('Enter');

    await t.waitFor(/^\? Delegated scanning: should Sensor pull images from the registry too\?.*\(y\/N\)/m);
    t.keys('Enter');

    await t.waitFor(/^\? Azure Container Registry RHACS reads \(AcrPull\)/m);
    t.type(REGISTRY);
    t.keys('Enter');

    const plan = await t.waitFor(/^\? Apply these (\d+) changes\?/m);
    expect(plan).toContain(`system:serviceaccount:${ns}:central`);
    expect(plan).not.toContain(`system:serviceaccount:${ns}:sensor`);
    t.type('y');
    t.keys('Enter');
    expect(await t.exitCode(150_000)).toBe(0);

    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    expect(identity.tags).toMatchObject({ 'rhacs-sts/managed': 'true' });
    expect((await azure.arm.roleAssignmentsOf(registryId, identity.principalId)).length).toBeGreaterThan(0);
    const sa = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations?.['azure.workload.identity/client-id']).toBe(identity.clientId);
  });
});
