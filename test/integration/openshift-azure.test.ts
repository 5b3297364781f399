// OpenShift on Azure, against the sandbox's `openshift-azure` cluster (an OpenShift-shaped cluster
// whose Infrastructure object says Azure, its resource group and public cloud; its issuer a blob
// container as `ccoctl azure` publishes it, served by the public web stand-in) and Azure stand-ins
// started here (ARM and Entra, every request checked and recorded; Entra reads the issuer's keys
// through the public web stand-in): without --provider the run goes to Azure; plan; --dry-run
// writes nothing; init makes the identity, the credential with the issuer exactly as
// spec.serviceAccountIssuer says and audience openshift, AcrPull, and sets AZURE_CLIENT_ID,
// AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE on central (a rollout); a re-run changes nothing;
// verify passes, and a missing variable fails its row; uninstall keeps another principal's
// assignment and another identity's variables.
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAzureSession, type AzureSession } from '../../src/clouds/azure/session.js';
import { handOverCloud, InputError } from '../../src/errors.js';
import { openKubeSession } from '../../src/kube/client.js';
import { AKS_SANDBOX_SUBSCRIPTION, OPENSHIFT_AZURE_RESOURCE_GROUP } from '../sandbox/azure/aks-sandbox.js';
import { startAzureStandins, type AzureStandins } from '../sandbox/azure/standins.js';
import { parseArgs } from '../../scripts/sandbox.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { startSeededSandbox } from '../sandbox/standalone.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { publicFetcher } from '../sandbox/issuers/public-fetch.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const CLUSTER = 'openshift-azure';
const RG = OPENSHIFT_AZURE_RESOURCE_GROUP;
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';

let az: AzureStandins;
let azure: AzureSession;
let env: Record<string, string>;
let registryId: string;

beforeAll(async () => {
  az = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, fetchPublic: publicFetcher(sb), knobs: { principalPropagationMs: 1_000 } });
  az.seed.resourceGroup(RG, sb.clusters[CLUSTER]!.region);
  registryId = az.seed.registry({ resourceGroup: RG, name: 'rhacsocp', repositories: { 'stackrox/main': ['4.9.0'] } }).id;
  env = {
    ...az.adminEnv, NODE_EXTRA_CA_CERTS: az.caCertPath, RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl, RHACS_STS_CONNECT_TO: az.acrConnectTo(),
    AZURE_SUBSCRIPTION_ID: AKS_SANDBOX_SUBSCRIPTION,
  };
  azure = await openAzureSession({
    environment: { tenantId: az.adminEnv.AZURE_TENANT_ID, clientId: az.adminEnv.AZURE_CLIENT_ID, clientSecret: az.adminEnv.AZURE_CLIENT_SECRET },
    subscriptionId: AKS_SANDBOX_SUBSCRIPTION, endpoints: { authorityHost: az.authorityHost, arm: az.armUrl }, ca: az.ca, timeoutMs: 15_000, sources: ['environment'],
  });
});

afterAll(async () => {
  await az?.close();
});

const cli = (args: string[]) => runCli(sb, CLUSTER, args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const kube = () => kubeConfigFor(sb, CLUSTER);
const armWrites = (mark: number) => az.requests(mark).filter((r) => r.service === 'arm' && r.method !== 'GET').map((r) => `${r.method} ${r.operationId}`);
const envOf = async (ns: string, name: string) =>
  Object.fromEntries(((await kube().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns })).spec?.template.spec?.containers.find((c) => c.name === name)?.env ?? []).map((e) => [e.name, e.value]));
interface Row { id: string; result: string; detail: string; fix?: string }
const rows = (r: Run) => (JSON.parse(r.stdout) as { cloud: string; checks: Row[] }).checks;

describe('OpenShift on Azure', () => {
  it('the cluster says Azure: its Infrastructure object and issuer are as the installer leaves them', async () => {
    const infra = await kube().makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'infrastructures', name: 'cluster' }) as { status: { platformStatus: { type: string; azure: { resourceGroupName: string } } } };
    expect(infra.status.platformStatus).toMatchObject({ type: 'Azure', azure: { resourceGroupName: RG } });
  });

  it('detection: without --cloud the cluster is handed to Azure (status too); with --cloud azure its facts; --cloud aws keeps it on AWS', async () => {
    const c = sb.clusters[CLUSTER]!;
    const ns = uniqueNamespace('ocp-az-detect');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'], openshift: true });
    const session = await openKubeSession({ kubeconfig: c.kubeconfig, context: c.context }, () => undefined);
    const err = await session.discover({ namespace: ns }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(handOverCloud(err)).toBe('azure');
    expect((err as InputError).problems).toEqual([{ source: '--cloud', message: expect.stringContaining('runs on Azure (its Infrastructure object says platformStatus.type Azure): run again with --provider openshift --cloud azure') }]);
    const d = await session.discover({ namespace: ns, cloud: 'azure' });
    expect(d.facts.openshift).toEqual({
      platformType: 'Azure', serviceAccountIssuer: c.issuer, region: c.region,
      azure: { resourceGroup: RG, networkResourceGroup: RG, cloud: 'public', cloudName: 'AzurePublicCloud', infrastructureName: 'rhacs-sts-sandbox-x7k2p', problems: [] },
    });
    const aws = await session.discover({ namespace: ns, cloud: 'aws' });
    expect(aws.warnings.join('\n')).toContain('The OpenShift infrastructure platform is Azure, not AWS');
    // status too is handed to Azure: before init, nothing of rhacs-sts's is there (exit 0).
    const status = await cli(['status', '--namespace', ns]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('rhacs-sts manages nothing here');
  });

  it('plan and --dry-run write nothing; init wires central; a re-run changes nothing; verify passes; a missing variable fails its row', async () => {
    const ns = uniqueNamespace('ocp-az');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central'], openshift: true, tokenVolume: true });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--azure-identity', id, '--acr', registryId];

    // No --provider: the Infrastructure object says Azure, so the run is Azure's (AWS is never asked).
    let mark = az.mark();
    const plan = ok(await cli(['plan', ...args, '--output', 'json']), 'plan');
    const doc = JSON.parse(plan.stdout) as { cloud: string; provider: string; actions: { type: string; status: string; env?: { name: string; value: string }[] }[] };
    expect([doc.cloud, doc.provider]).toEqual(['azure', 'openshift']);
    expect(doc.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'azure-managed-identity:create', 'azure-federated-credential:create', 'azure-acr-pull:create', 'deployment-env:create', 'restart:update',
    ]);
    const dry = ok(await cli(['init', '--dry-run', '--provider', 'openshift', '--cloud', 'azure', ...args]), 'dry run');
    expect(dry.stdout).toContain('AZURE_FEDERATED_TOKEN_FILE');
    expect(armWrites(mark)).toEqual([]);
    expect(await envOf(ns, 'central')).not.toHaveProperty('AZURE_CLIENT_ID');

    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'azure', ...args]), 'init');
    const identity = (await azure.arm.getIdentity(RG, id))!;
    expect(identity.location).toBe(sb.clusters[CLUSTER]!.region);
    // The issuer exactly as spec.serviceAccountIssuer says it; audience openshift.
    expect(await azure.arm.listFederatedCredentials(RG, id)).toEqual([
      { name: `rhacs-sts-rhacs-sts-sandbox-x7k2p-${ns}-central`, issuer: sb.clusters[CLUSTER]!.issuer, subject: `system:serviceaccount:${ns}:central`, audiences: ['openshift'] },
    ]);
    expect((await azure.arm.roleAssignmentsOf(registryId, identity.principalId)).filter((a) => a.roleDefinitionId.endsWith(ACR_PULL))).toHaveLength(1);
    expect(await envOf(ns, 'central')).toMatchObject({ AZURE_CLIENT_ID: identity.clientId, AZURE_TENANT_ID: AKS_SANDBOX_TENANT, AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE });

    mark = az.mark();
    const again = ok(await cli(['init', '--yes', ...args]), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
    expect(armWrites(mark)).toEqual([]);

    // status reports each piece healthy, writing nothing.
    mark = az.mark();
    const status = JSON.parse(ok(await cli(['status', ...args, '--output', 'json']), 'status').stdout) as { cloud: string; provider: string; healthy: boolean; managed: { kind: string; health: string }[] };
    expect([status.cloud, status.provider, status.healthy]).toEqual(['azure', 'openshift', true]);
    expect(status.managed.map((m) => m.kind)).toContain('Deployment env');
    expect(status.managed.every((m) => m.health === 'healthy')).toBe(true);
    expect(armWrites(mark)).toEqual([]);

    const passed = ok(await cli(['verify', ...args, '--output', 'json']), 'verify');
    expect(rows(passed).map((c) => [c.id.split(':')[0], c.result])).toEqual([
      ['openshift-issuer', 'pass'], ['azure-wiring', 'pass'],
      ['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'pass'],
    ]);

    // Someone removes AZURE_FEDERATED_TOKEN_FILE: its row fails, naming it and the fix (exit 3).
    await kube().makeApiClient(AppsV1Api).patchNamespacedDeployment({ name: 'central', namespace: ns, body: [{ op: 'remove', path: `/spec/template/spec/containers/0/env/${Object.keys(await envOf(ns, 'central')).indexOf('AZURE_FEDERATED_TOKEN_FILE')}` }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
    const broken = await cli(['verify', ...args, '--output', 'json']);
    expect(broken.code, broken.stderr).toBe(3);
    expect(rows(broken).find((c) => c.id.startsWith('azure-wiring'))).toMatchObject({ result: 'fail', detail: expect.stringContaining('has no AZURE_FEDERATED_TOKEN_FILE'), fix: expect.stringContaining('--provider openshift --cloud azure') });
    expect(az.breaches()).toEqual([]);
  }, 300_000);

  it('uninstall removes our variables, credential, assignment and identity, and keeps another principal\'s assignment and another identity\'s variables', async () => {
    const ns = uniqueNamespace('ocp-az-un');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', components: ['central', 'sensor'], openshift: true, tokenVolume: true });
    const id = `rhacs-${ns.slice(-6)}`;
    const args = ['--provider', 'openshift', '--cloud', 'azure', '--namespace', ns, '--azure-identity', id];
    ok(await cli(['init', '--yes', ...args, '--acr', registryId]), 'init');
    // Sensor acts as someone else's identity; another principal pulls from the registry too.
    const apps = kube().makeApiClient(AppsV1Api);
    const sensor = await apps.readNamespacedDeployment({ name: 'sensor', namespace: ns });
    const container = sensor.spec!.template.spec!.containers.find((c) => c.name === 'sensor')!;
    container.env = [...(container.env ?? []), { name: 'AZURE_CLIENT_ID', value: '11111111-2222-4333-8444-555555555555' }];
    await apps.replaceNamespacedDeployment({ name: 'sensor', namespace: ns, body: sensor });
    const other = await azure.arm.putIdentity(RG, `other-${ns.slice(-6)}`, { location: sb.clusters[CLUSTER]!.region, tags: {} });
    await new Promise((r) => setTimeout(r, 1_100)); // past the stand-in's PrincipalNotFound window
    const foreign = await azure.arm.createRoleAssignment(registryId, '3f2a1b0c-9d8e-4f7a-b6c5-d4e3f2a1b0c9', { roleDefinitionId: `/subscriptions/${AKS_SANDBOX_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`, principalId: other.principalId, principalType: 'ServicePrincipal', description: 'theirs' });

    const r = ok(await cli(['uninstall', '--yes', ...args]), 'uninstall');
    expect(r.stderr + r.stdout).toContain('not managed identity');
    expect(await envOf(ns, 'central')).not.toHaveProperty('AZURE_CLIENT_ID');
    expect(await envOf(ns, 'sensor')).toMatchObject({ AZURE_CLIENT_ID: '11111111-2222-4333-8444-555555555555' });
    expect(await azure.arm.getIdentity(RG, id)).toBeNull();
    expect((await azure.arm.roleAssignmentsOf(registryId, other.principalId)).map((a) => a.id)).toEqual([foreign.id]);
    const again = ok(await cli(['uninstall', '--yes', ...args]), 'uninstall again');
    expect(again.stdout + again.stderr).not.toMatch(/Done: [1-9]/);
    expect(az.breaches()).toEqual([]);
  }, 300_000);

  it('npm run sandbox -- --flavour openshift --cloud azure: parsed, and refused for another flavour before anything starts', async () => {
    expect(parseArgs(['--flavour', 'openshift', '--cloud', 'azure'])).toEqual({ flavour: 'openshift', cloud: 'azure' });
    expect(() => parseArgs(['--cloud', 'ibm'])).toThrow(/--cloud must be gcp \(OpenShift on Google Cloud\) or azure/);
    await expect(startSeededSandbox({ flavour: 'eks', cloud: 'azure', log: () => undefined })).rejects.toThrow(/needs --flavour openshift/);
  });
});
