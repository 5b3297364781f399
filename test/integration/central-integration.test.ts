// init --configure-integration converges RHACS's ECR integration through Central's API (reached by
// port-forward through the real kube-apiserver, or at --central-endpoint), only once Central's own
// test — run as Central's pod, through the real TokenRequest API and the AWS gate — passes; a broken
// link is named; verify asks Central too; uninstall takes the integration back. Nothing prints a
// credential, and a dry run sends Central nothing but reads.
import { beforeEach, describe, expect, it } from 'vitest';
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { CoreV1Api } from '@kubernetes/client-node';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, setRolloutMode, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { addCentralIntegration, centralEndpoint, centralIntegrations, centralMark, centralRequests, centralToken } from '../sandbox/central/central-control.js';
import { checksOf, cli, iamClient, type Cluster } from './verify-support.js';

const sb = useSandbox();
beforeEach(() => resetAws(sb));

const RECORD = 'rhacs-sts/ecr-integration';
const region = (c: Cluster) => sb.clusters[c]!.region;

async function seed(c: Cluster, prefix: string, o: { method?: 'operator' | 'helm' | 'manifests'; managedCentral?: boolean } = {}) {
  const ns = uniqueNamespace(prefix);
  const s = await seedRhacs(kubeConfigFor(sb, c), { namespace: ns, method: o.method ?? 'helm', openshift: c === 'openshift', managedCentral: o.managedCentral });
  return { ns, password: s.adminPassword!, role: `ci-${ns.slice(-6)}` };
}

async function record(c: Cluster, ns: string): Promise<string | undefined> {
  const sa = await kubeConfigFor(sb, c).makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
  return sa.metadata?.annotations?.[RECORD];
}

const noSecrets = (text: string, ...secrets: string[]) => {
  for (const s of secrets) expect(text).not.toContain(s);
};

describe('init --configure-integration', () => {
  it('with Central not ready, says that it is not ready and how long it waited (no "pod ?")', { timeout: 120_000 }, async () => {
    const { ns, password, role } = await seed('eks', 'ci-notready', { method: 'manifests' });
    const kc = kubeConfigFor(sb, 'eks');
    // Central's next pods never become ready; with its Recreate strategy the old pod goes first.
    await setRolloutMode(kc, ns, 'central', 'hang');
    const core = kc.makeApiClient(CoreV1Api);
    const readyPods = async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=central' })).items
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    for (let i = 0; i < 100 && (await readyPods()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await readyPods()).toBe(0);

    const r = await cli(sb, 'eks', ['plan', '--configure-integration', '--namespace', ns, '--role-name', role], { ROX_ADMIN_PASSWORD: password });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Central is not ready: no pod behind Service ${ns}/central became ready in the \\d+ s rhacs-sts waited \\(\\d+ attempts\\)`));
    expect(r.stderr).not.toMatch(/pod \?/);
    noSecrets(r.stdout + r.stderr, password);
  });


  it('EKS: creates an ECR integration with useIam that Central tested, changes nothing the second time, and uninstall deletes it', async () => {
    const { ns, password, role } = await seed('eks', 'ci-eks', { method: 'operator' });
    const args = ['--namespace', ns, '--role-name', role, '--use-generated-admin-password'];
    const r = await cli(sb, 'eks', ['init', '--yes', '--configure-integration', ...args]);
    expect(r.code, r.stderr).toBe(0);
    noSecrets(r.stdout + r.stderr, password);
    expect(r.stdout).toContain('RHACS integration');
    expect(r.stderr).toContain('Nothing to do in RHACS');
    expect(r.stderr).not.toContain('Use container IAM role');
    const [i, ...more] = await centralIntegrations(sb, 'eks', ns);
    expect(more).toEqual([]);
    expect(i).toMatchObject({ type: 'ecr', categories: ['REGISTRY'], name: `Amazon ECR ${sb.accountId} ${region('eks')} (rhacs-sts)`, ecr: { registryId: sb.accountId, region: region('eks'), useIam: true } });
    expect(JSON.parse((await record('eks', ns))!)).toEqual({ id: i!.id, created: true });

    // Again: nothing to change, and Central only read.
    const m = await centralMark(sb);
    const again = await cli(sb, 'eks', ['init', '--yes', '--configure-integration', ...args, '--output', 'json']);
    expect(again.code, again.stderr).toBe(0);
    const doc = JSON.parse(again.stdout) as { actions: { type: string; status: string }[]; applied: unknown[] };
    expect(doc.actions.find((a) => a.type === 'central-integration')?.status).toBe('unchanged');
    expect(doc.actions.every((a) => a.status === 'unchanged')).toBe(true);
    expect((await centralRequests(sb, m, ns)).filter((q) => q.method !== 'GET')).toEqual([]);

    // verify asks Central, as its own line.
    const v = await cli(sb, 'eks', ['verify', '--namespace', ns, '--role-name', role, '--output', 'json'], { ROX_ADMIN_PASSWORD: password });
    expect(v.code, v.stderr).toBe(0);
    expect(checksOf(v.stdout).find((c) => c.id === 'central-test')).toMatchObject({ result: 'pass', detail: expect.stringContaining(i!.name) });

    const u = await cli(sb, 'eks', ['uninstall', '--yes', ...args]);
    expect(u.code, u.stderr).toBe(0);
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);
    expect(await record('eks', ns)).toBeUndefined();
  });

  it("names the broken link when Central's test fails, saves nothing, and verify's line fails the same way", async () => {
    const { ns, password, role } = await seed('eks', 'ci-broken');
    const env = { ROX_ADMIN_PASSWORD: password };
    // The pods are not restarted: Central's pod has no web identity yet.
    const r = await cli(sb, 'eks', ['init', '--yes', '--configure-integration', '--no-restart', '--namespace', ns, '--role-name', role], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken link: pods not restarted');
    expect(r.stderr).toContain(`kubectl -n ${ns} rollout restart deployment/central`);
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);

    // Restarted, it passes; then the trust is broken: verify's Central line names it.
    const ok = await cli(sb, 'eks', ['init', '--yes', '--configure-integration', '--namespace', ns, '--role-name', role], env);
    expect(ok.code, ok.stderr).toBe(0);
    const hp = sb.clusters.eks!.issuer.replace(/^https:\/\//, '');
    await iamClient(sb).send(new UpdateAssumeRolePolicyCommand({
      RoleName: role,
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${sb.accountId}:oidc-provider/${hp}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${hp}:sub`]: `system:serviceaccount:${ns}:other`, [`${hp}:aud`]: 'sts.amazonaws.com' } } }] }),
    }));
    const v = await cli(sb, 'eks', ['verify', '--namespace', ns, '--role-name', role, '--output', 'json'], env);
    expect(v.code).toBe(3);
    const row = checksOf(v.stdout).find((c) => c.id === 'central-test');
    expect(row).toMatchObject({ result: 'fail', detail: expect.stringContaining('Broken link: trust') });
    expect(row!.fix).toContain('rhacs-sts init');
    noSecrets(v.stdout + v.stderr, password);
  });

  it('OpenShift, with an API token and at --central-endpoint: Central tests and saves it', async () => {
    const { ns, role } = await seed('openshift', 'ci-ocp', { method: 'operator' });
    const token = await centralToken(sb, 'openshift', ns);
    const endpoint = await centralEndpoint(sb, 'openshift', ns);
    const r = await cli(sb, 'openshift', ['init', '--yes', '--configure-integration', '--namespace', ns, '--role-name', role, '--central-endpoint', endpoint], { ROX_API_TOKEN: token });
    expect(r.code, r.stderr).toBe(0);
    noSecrets(r.stdout + r.stderr, token);
    expect((await centralIntegrations(sb, 'openshift', ns))[0]).toMatchObject({ ecr: { useIam: true, region: region('openshift') } });
  });

  // As on EKS, and as the playground runs it: Central reached by port-forward through the API server
  // to the node's kubelet, the admin password as roxctl takes it; verify's Central test passes too.
  it.each(['operator', 'helm'] as const)('OpenShift (%s), by port-forward: Central tests and saves it, and verify\'s Central test passes', async (method) => {
    const { ns, password, role } = await seed('openshift', `ci-ocp-${method.slice(0, 2)}`, { method });
    const env = { ROX_ADMIN_PASSWORD: password };
    const r = await cli(sb, 'openshift', ['init', '--yes', '--configure-integration', '--namespace', ns, '--role-name', role], env);
    expect(r.code, r.stderr).toBe(0);
    noSecrets(r.stdout + r.stderr, password);
    expect(r.stderr).toContain('Nothing to do in RHACS');
    expect((await centralIntegrations(sb, 'openshift', ns))[0]).toMatchObject({ type: 'ecr', ecr: { useIam: true, region: region('openshift'), registryId: sb.accountId } });
    const v = await cli(sb, 'openshift', ['verify', '--namespace', ns, '--role-name', role, '--output', 'json'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(checksOf(v.stdout).find((c) => c.id === 'central-test')).toMatchObject({ result: 'pass' });
  });
});

describe('existing integrations', () => {
  it('changes one it did not create only with --adopt-integration (keys stay stored), leaves Sensor\'s alone, and uninstall switches it back', async () => {
    const { ns, password, role } = await seed('eks', 'ci-adopt');
    const env = { ROX_ADMIN_PASSWORD: password };
    const keys = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'example-secret-key-not-real' };
    const mine = await addCentralIntegration(sb, 'eks', ns, { name: 'team ECR', type: 'ecr', categories: ['REGISTRY'], ecr: { registryId: sb.accountId, region: region('eks'), ...keys } });
    await addCentralIntegration(sb, 'eks', ns, { name: 'Autogenerated ECR', type: 'ecr', categories: ['REGISTRY'], autogenerated: true, clusterId: 'c1', ecr: { registryId: sb.accountId, region: region('eks'), useIam: true } });
    const base = ['init', '--yes', '--configure-integration', '--namespace', ns, '--role-name', role];

    const blocked = await cli(sb, 'eks', base, env);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('"team ECR"');
    expect(blocked.stderr).toContain('--adopt-integration');
    expect(blocked.stderr).toContain('static access keys');

    const r = await cli(sb, 'eks', [...base, '--adopt-integration'], env);
    expect(r.code, r.stderr).toBe(0);
    noSecrets(r.stdout + r.stderr, keys.secretAccessKey, password);
    const after = await centralIntegrations(sb, 'eks', ns);
    expect(after.find((x) => x.id === mine.id)).toMatchObject({ name: 'team ECR', ecr: { useIam: true, ...keys } });
    expect(after.find((x) => x.autogenerated)).toMatchObject({ name: 'Autogenerated ECR', ecr: { useIam: true } });
    expect(after).toHaveLength(2);

    const u = await cli(sb, 'eks', ['uninstall', '--yes', '--namespace', ns, '--role-name', role], env);
    expect(u.code, u.stderr).toBe(0);
    const back = await centralIntegrations(sb, 'eks', ns);
    expect(back.find((x) => x.id === mine.id)).toMatchObject({ name: 'team ECR', ecr: { useIam: false, ...keys } });
    expect(back).toHaveLength(2);
  });
});

describe('refusals', () => {
  it('stops at a managed Central, saying so, before any change', async () => {
    const { ns, password, role } = await seed('eks', 'ci-managed', { managedCentral: true });
    const r = await cli(sb, 'eks', ['init', '--yes', '--configure-integration', '--namespace', ns, '--role-name', role], { ROX_ADMIN_PASSWORD: password });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('managed Central');
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);
  });

  it('refuses a token and a password together, and no credentials at all, as input errors (exit 2)', async () => {
    const both = await cli(sb, 'eks', ['init', '--yes', '--configure-integration'], { ROX_API_TOKEN: 'secret-token-value', ROX_ADMIN_PASSWORD: 'secret-password-value' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('ROX_API_TOKEN: cannot be used together with ROX_ADMIN_PASSWORD');
    noSecrets(both.stdout + both.stderr, 'secret-token-value', 'secret-password-value');
    const none = await cli(sb, 'eks', ['init', '--yes', '--configure-integration']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--configure-integration: needs Central credentials');
  });

  it('plans the integration in a dry run and sends Central nothing but reads', async () => {
    const { ns, password, role } = await seed('eks', 'ci-dry');
    const m = await centralMark(sb);
    const r = await cli(sb, 'eks', ['plan', '--configure-integration', '--namespace', ns, '--role-name', role, '--output', 'json'], { ROX_ADMIN_PASSWORD: password });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { actions: { type: string; status: string; desired?: { ecr?: { useIam?: boolean } } }[] };
    expect(doc.actions.find((a) => a.type === 'central-integration')).toMatchObject({ status: 'create', desired: { ecr: { useIam: true } } });
    const reqs = await centralRequests(sb, m, ns);
    expect(reqs.length).toBeGreaterThan(0);
    expect(reqs.filter((q) => q.method !== 'GET')).toEqual([]);
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);
  });
});
