// init and plan on AKS, against the sandbox's `aks` cluster (an `az aks get-credentials`-shaped
// kubeconfig, AKS nodes, AKS's issuer with its trailing slash, and the workload identity webhook
// registered as AKS registers it) and Azure stand-ins started here (ARM and Entra, every request
// checked against Azure's specifications and recorded): the managed identity, exactly one
// federated credential per service account, AcrPull on the registry (through PrincipalNotFound
// right after the identity is made), the client-id annotation and the pod label, the pods restarted
// and mutated by the webhook; a re-run and a plain plan change nothing; --dry-run writes nothing;
// workload identity off is exit 2 with the fix; another principal's role assignment is kept; a bad
// --acr is exit 2 naming the flag; status reports what init made, and what broke since.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAzureSession, type AzureSession } from '../../src/clouds/azure/session.js';
import { AKS_SANDBOX_SUBSCRIPTION } from '../sandbox/azure/aks-sandbox.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../sandbox/kube/kubeconfigs.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const REGISTRY = 'rhacsinit';
const CLIENT_ID = 'azure.workload.identity/client-id';
const USE = 'azure.workload.identity/use';
const AUDIENCE = 'api://AzureADTokenExchange';

let az: AzureStandins;
let azure: AzureSession;
let env: Record<string, string>;
let registryId: string;

const seedCluster = (over: { workloadIdentity?: boolean } = {}) =>
  az.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: 'aks', issuerURL: sb.clusters.aks!.issuer, location: sb.clusters.aks!.region, ...over });

beforeAll(async () => {
  // Role assignments for a new identity fail with PrincipalNotFound for a while, as Azure's do.
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, knobs: { principalPropagationMs: 1_500 } });
  az.seed.resourceGroup(AKS_RESOURCE_GROUP, sb.clusters.aks!.region);
  seedCluster();
  registryId = az.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: REGISTRY, repositories: { 'stackrox/main': ['4.9.0'] } }).id;
  env = { ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl };
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
const armWrites = (mark: number) => az.requests(mark).filter((r) => r.service === 'arm' && r.method !== 'GET').map((r) => `${r.method} ${r.operationId}`);
const kube = () => kubeConfigFor(sb, 'aks');
const annotationOf = async (ns: string, sa: string) =>
  (await kube().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: sa, namespace: ns })).metadata?.annotations?.[CLIENT_ID];
const templateLabel = async (ns: string, name: string) =>
  (await kube().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns })).spec?.template.metadata?.labels?.[USE];
const acrPullOf = async (principalId: string) =>
  (await azure.arm.roleAssignmentsOf(registryId, principalId)).filter((a) => a.roleDefinitionId.toLowerCase().endsWith('7f951dda-4ed3-4680-a7ca-43fe172d538d'));

describe('init on AKS', () => {
  it('makes the identity, the exact credential and AcrPull, annotates, labels and restarts; a re-run and a plain plan change nothing', async () => {
    const ns = uniqueNamespace('aks-init');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    const r = ok(await cli(['init', '--yes', ...args]), 'init');
    expect(r.stderr).toMatch(/Detected AKS cluster aks \(resource group [^)]+\)/);

    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    expect(identity.tags).toMatchObject({ 'rhacs-sts/managed': 'true' });
    // Exactly one credential, the issuer byte for byte as the cluster publishes it (trailing slash).
    expect(await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id)).toEqual([
      { name: `rhacs-sts-aks-${ns}-central`, issuer: sb.clusters.aks!.issuer, subject: `system:serviceaccount:${ns}:central`, audiences: [AUDIENCE] },
    ]);
    expect(sb.clusters.aks!.issuer.endsWith('/')).toBe(true);
    expect(await acrPullOf(identity.principalId)).toHaveLength(1);
    // The role assignment met PrincipalNotFound first, and was retried.
    expect(az.requests().filter((q) => q.operationId === 'RoleAssignments_Create' && q.decision.code === 'PrincipalNotFound').length).toBeGreaterThan(0);

    expect(await annotationOf(ns, 'central')).toBe(identity.clientId);
    expect(`${r.stdout}${r.stderr}`).toContain(`RHACS acts as the managed identity ${id} (client id ${identity.clientId},`);
    expect(await templateLabel(ns, 'central')).toBe('true');
    // The new pods are labelled, so the webhook gave them the identity.
    const pods = (await kube().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.labels?.[USE] === 'true' && !p.metadata?.deletionTimestamp);
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) {
      const podEnv = Object.fromEntries((p.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
      expect(podEnv).toMatchObject({ AZURE_CLIENT_ID: identity.clientId, AZURE_TENANT_ID: AKS_SANDBOX_TENANT });
    }

    const mark = az.mark();
    const again = ok(await cli(['init', '--yes', ...args]), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
    const plan = ok(await cli(['plan', ...args, '--output', 'json']), 'plan');
    const doc = JSON.parse(plan.stdout) as { cloud: string; actions: { status: string; type: string }[] };
    expect(doc.cloud).toBe('azure');
    expect(doc.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
    expect(armWrites(mark)).toEqual([]);
    expect(az.breaches()).toEqual([]);
  }, 240_000);

  it('--dry-run writes nothing at Azure and nothing in the cluster', async () => {
    const ns = uniqueNamespace('aks-dry');
    await seedRhacs(kube(), { namespace: ns, method: 'helm', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const mark = az.mark();
    const r = ok(await cli(['init', '--dry-run', '--namespace', ns, '--azure-identity', id, '--acr', REGISTRY]), 'dry run');
    expect(r.stdout).toContain(`${CLIENT_ID}=<client id of the new managed identity>`);
    expect(r.stdout).toContain(`${USE}=true`);
    // Helm: the values that keep both (the charts' customize: the service account's annotation, the pods' label).
    expect(r.stdout).toMatch(/podLabels:\s+azure\.workload\.identity\/use: "true"/);
    expect(armWrites(mark)).toEqual([]);
    expect(az.requests(mark).some((q) => q.service === 'arm')).toBe(true);
    expect(await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id)).toBeNull();
    expect(await annotationOf(ns, 'central')).toBeUndefined();
    expect(await templateLabel(ns, 'central')).toBeUndefined();
  }, 120_000);

  it('operator install: the annotation (with the new identity\'s real client id) and the label go into the Central resource\'s overlays', async () => {
    const ns = uniqueNamespace('aks-op');
    await seedRhacs(kube(), { namespace: ns, method: 'operator', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    ok(await cli(['init', '--yes', ...args]), 'init');
    const clientId = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!.clientId;
    const custom = kube().makeApiClient(CustomObjectsApi);
    const cr = (await custom.listNamespacedCustomObject({ group: 'platform.stackrox.io', version: 'v1alpha1', namespace: ns, plural: 'centrals' })) as { items: { spec: { overlays?: { kind: string; name: string; patches: { path: string; value: string }[] }[] } }[] };
    const overlays = cr.items[0]!.spec.overlays!;
    expect(overlays.find((o) => o.kind === 'ServiceAccount' && o.name === 'central')!.patches).toEqual([{ path: 'metadata.annotations.azure\\.workload\\.identity/client-id', value: clientId }]);
    expect(overlays.find((o) => o.kind === 'Deployment' && o.name === 'central')!.patches).toEqual([{ path: 'spec.template.metadata.labels.azure\\.workload\\.identity/use', value: '"true"' }]);
    expect(JSON.stringify(overlays)).not.toContain('<client id');
    expect(await annotationOf(ns, 'central')).toBe(clientId);
    const again = ok(await cli(['init', '--yes', ...args]), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
  }, 240_000);

  it('keeps another principal\'s role assignment on the registry', async () => {
    const other = az.seed.app({ name: 'someone-else' });
    az.seed.roleAssignment({ principalId: other.principalId, role: 'AcrPull', scope: registryId });
    const ns = uniqueNamespace('aks-keep');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    ok(await cli(['init', '--yes', '--namespace', ns, '--azure-identity', id, '--acr', REGISTRY]), 'init');
    expect(await acrPullOf(other.principalId)).toHaveLength(1);
    expect(await acrPullOf((await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!.principalId)).toHaveLength(1);
  }, 240_000);
});

describe('uninstall on AKS', () => {
  it('removes only what is rhacs-sts\'s: the identity goes once no other cluster trusts it; other assignments stay; a second run changes nothing', async () => {
    const other = az.seed.app({ name: 'someone-else-too' });
    az.seed.roleAssignment({ principalId: other.principalId, role: 'AcrPull', scope: registryId });
    const ns1 = uniqueNamespace('aks-un1');
    const ns2 = uniqueNamespace('aks-un2');
    for (const ns of [ns1, ns2]) await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns1.slice(-6)}`;
    for (const ns of [ns1, ns2]) ok(await cli(['init', '--yes', '--namespace', ns, '--azure-identity', id, '--acr', REGISTRY]), `init ${ns}`);
    const identity = (await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!;
    expect(await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id)).toHaveLength(2);

    // The first namespace goes: its credential, annotation and label; the identity stays (ns2 still trusts it).
    ok(await cli(['uninstall', '--yes', '--namespace', ns1, '--azure-identity', id]), 'uninstall ns1');
    expect((await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id)).map((f) => f.subject)).toEqual([`system:serviceaccount:${ns2}:central`]);
    expect(await annotationOf(ns1, 'central')).toBeUndefined();
    expect(await templateLabel(ns1, 'central')).toBeUndefined();
    expect(await annotationOf(ns2, 'central')).toBe(identity.clientId);
    expect(await acrPullOf(identity.principalId)).toHaveLength(1);

    // The last one: the identity and its AcrPull go; the other principal's assignment stays.
    ok(await cli(['uninstall', '--yes', '--namespace', ns2, '--azure-identity', id]), 'uninstall ns2');
    expect(await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id)).toBeNull();
    expect(await acrPullOf(identity.principalId)).toEqual([]);
    expect(await acrPullOf(other.principalId)).toHaveLength(1);
    expect(await templateLabel(ns2, 'central')).toBeUndefined();

    const mark = az.mark();
    const again = ok(await cli(['uninstall', '--yes', '--namespace', ns2, '--azure-identity', id]), 'second uninstall');
    expect(again.stdout).toContain('Nothing to change');
    expect(armWrites(mark)).toEqual([]);
  }, 300_000);
});

describe('AKS problems are bad input before any write', () => {
  it('workload identity off → exit 2 with the az fix, 0 writes', async () => {
    const ns = uniqueNamespace('aks-wioff');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'], waitForRollouts: false });
    seedCluster({ workloadIdentity: false });
    try {
      const mark = az.mark();
      const r = await cli(['init', '--yes', '--namespace', ns, '--azure-identity', `rhacs-${ns.slice(-6)}`, '--acr', REGISTRY]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('does not have workload identity on');
      expect(r.stderr).toContain(`az aks update --resource-group ${AKS_RESOURCE_GROUP} --name aks --enable-oidc-issuer --enable-workload-identity`);
      expect(armWrites(mark)).toEqual([]);
      expect(await annotationOf(ns, 'central')).toBeUndefined();
    } finally {
      seedCluster();
    }
  }, 120_000);

  it('an AKS cluster whose kubeconfig does not say so (found by its nodes and issuer) → exit 2 naming --provider aks, 0 writes', async () => {
    const ns = uniqueNamespace('aks-plain');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'], waitForRollouts: false });
    const dir = mkdtempSync(join(tmpdir(), 'aks-kubeconfig-'));
    try {
      // The same cluster and credentials, under a user name az did not write.
      const file = join(dir, 'config');
      writeFileSync(file, readFileSync(sb.clusters.aks!.kubeconfig, 'utf8').replaceAll(`clusterUser_${AKS_RESOURCE_GROUP}_aks`, 'someone'));
      const mark = az.mark();
      const r = await cli(['init', '--yes', '--kubeconfig', file, '--namespace', ns, '--acr', REGISTRY]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('is AKS: run again with --provider aks');
      expect(armWrites(mark)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a registry that does not exist, or a malformed --acr → exit 2 naming --acr, 0 writes', async () => {
    const ns = uniqueNamespace('aks-acr');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'], waitForRollouts: false });
    const mark = az.mark();
    const missing = await cli(['init', '--yes', '--namespace', ns, '--acr', 'nosuchregistry']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/--acr: no registry nosuchregistry in resource group/);
    const malformed = await cli(['init', '--yes', '--namespace', ns, '--acr', 'a_b']);
    expect(malformed.code, malformed.stderr).toBe(2);
    expect(malformed.stderr).toContain('--acr: "a_b" is neither a registry name');
    expect(armWrites(mark)).toEqual([]);
    expect(await annotationOf(ns, 'central')).toBeUndefined();
  }, 120_000);

  it('status: nothing managed before init; after it the identity, credential, AcrPull and wiring are healthy (JSON, no write); a deleted credential is unhealthy, exit 3', async () => {
    const ns = uniqueNamespace('aks-status');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', REGISTRY];
    interface Doc { cloud: string; provider: string; managed: { kind: string; name: string; health: string; fix?: string }[]; healthy: boolean }
    const before = ok(await cli(['status', ...args, '--output', 'json']), 'status before init');
    expect(JSON.parse(before.stdout)).toMatchObject({ cloud: 'azure', provider: 'aks', managed: [], healthy: true });

    ok(await cli(['init', '--yes', ...args]), 'init');
    const mark = az.mark();
    const after = JSON.parse(ok(await cli(['status', ...args, '--output', 'json']), 'status after init').stdout) as Doc;
    expect(after.healthy).toBe(true);
    expect(after.managed.map((m) => `${m.kind} ${m.health}`)).toEqual([
      'Managed identity healthy', 'Federated credential healthy', 'Role assignment healthy', 'ServiceAccount healthy', 'Pod labels healthy',
    ]);
    expect(armWrites(mark)).toEqual([]);

    for (const f of await azure.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, id)) await azure.arm.deleteFederatedCredential(AKS_RESOURCE_GROUP, id, f.name);
    const broken = await cli(['status', ...args]);
    expect(broken.code, broken.stderr).toBe(3);
    expect(broken.stdout).toMatch(/UNHEALTHY\s+Federated credential/);
    expect(broken.stdout).toContain('1 of 5 not healthy.');
  }, 240_000);
});

describe('saved plans on AKS', () => {
  it('plan --output json, then init --plan applies it while the live state matches; after that, the same file is drift (exit 1, nothing written)', async () => {
    const ns = uniqueNamespace('aks-saved');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;
    const plan = ok(await cli(['plan', '--namespace', ns, '--azure-identity', id, '--acr', REGISTRY, '--output', 'json']), 'plan');
    expect(JSON.parse(plan.stdout)).toMatchObject({ cloud: 'azure', inputs: { cloud: 'azure', options: { namespace: ns, azureIdentity: id, acr: REGISTRY } } });
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-aks-plan-'));
    const file = join(dir, 'plan.json');
    writeFileSync(file, plan.stdout);
    try {
      const r = ok(await cli(['init', '--yes', '--plan', file]), 'init --plan');
      expect(r.stderr).toContain(`The live state matches ${file}.`);
      expect(await annotationOf(ns, 'central')).toBe((await azure.arm.getIdentity(AKS_RESOURCE_GROUP, id))!.clientId);
      // Applied, the saved plan no longer shows what would change.
      const mark = az.mark();
      const again = await cli(['init', '--yes', '--plan', file]);
      expect(again.code, again.stderr).toBe(1);
      expect(again.stderr).toContain(`The live state has drifted since ${file} was saved`);
      expect(again.stderr).toMatch(/azure-managed-identity .*: status was "create", now "unchanged"/);
      expect(armWrites(mark)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
