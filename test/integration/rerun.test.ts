// Re-runs keep what is in place, against the sandbox: after a successful init, a plain plan (no
// choice flags, no role name) is "Nothing to change" for every set-up the README describes on one
// cluster (EKS with Helm, manifests or the operator, Pod Identity, OpenShift by operator, Helm and
// manifests, the Central integration); a plain re-run keeps delegated scanning and a narrowed ECR
// scope; --no-delegated-scanning takes Sensor out; and on a cluster that runs only Sensor, --yes
// configures Sensor as the wizard's default does. (The fleet cases are in fleet.test.ts.)
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../src/clouds/aws/policies.js';
import { cli as runCli, type Cluster, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const cli = (c: Cluster, args: string[], env: Record<string, string> = {}) => runCli(sb, c, args, env);
let iam: IAMClient;
beforeAll(() => {
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});

const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const roleArn = (name: string) => `arn:aws:iam::${sb.accountId}:role/${name}`;
const annotation = async (c: Cluster, ns: string, sa: string) =>
  (await kubeConfigFor(sb, c).makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: sa, namespace: ns })).metadata?.annotations?.['eks.amazonaws.com/role-arn'];
const trustedSubjects = async (role: string) =>
  parsePolicyDocument((await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.AssumeRolePolicyDocument!).Statement
    .flatMap((s) => Object.values(s.Condition?.StringEquals ?? {}).flat().filter((v) => v.startsWith('system:serviceaccount:')));
const ecrResources = async (role: string) =>
  parsePolicyDocument((await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: 'rhacs-sts-ecr-read' }))).PolicyDocument!)
    .Statement.find((s) => s.Sid === 'RhacsStsEcrRead')!.Resource;

/** A plain `plan` for the namespace: its JSON actions that would change something (none expected). */
async function plainPlanChanges(c: Cluster, ns: string, extra: string[] = [], env: Record<string, string> = {}): Promise<string[]> {
  const r = ok(await cli(c, ['plan', '--namespace', ns, '--output', 'json', ...extra], env), 'plan');
  const doc = JSON.parse(r.stdout) as { actions: { id: string; status: string; summary: string }[] };
  return doc.actions.filter((a) => a.status !== 'unchanged').map((a) => `${a.id} ${a.status}: ${a.summary}`);
}

describe('a plain plan after init is "Nothing to change", for each one-cluster set-up', () => {
  it.each([
    ['EKS, Helm', 'eks', 'helm'],
    ['EKS, operator', 'eks', 'operator'],
    ['OpenShift, operator', 'openshift', 'operator'],
    ['OpenShift, Helm', 'openshift', 'helm'],
    ['OpenShift, manifests', 'openshift', 'manifests'],
  ] as const)('%s', async (_, c, method) => {
    const ns = uniqueNamespace(`rr-${c.slice(0, 3)}-${method.slice(0, 4)}`);
    await seedRhacs(kubeConfigFor(sb, c), { namespace: ns, method, openshift: c === 'openshift' });
    ok(await cli(c, ['init', '--yes', '--namespace', ns, '--role-name', `rr-${ns.slice(-6)}`]), 'init');
    expect(await plainPlanChanges(c, ns)).toEqual([]);
    const text = ok(await cli(c, ['plan', '--namespace', ns]), 'plan');
    expect(text.stdout).toContain('Nothing to change: everything is in place.');
  });

  it('EKS Pod Identity under a role of its own name: found again through its associations', async () => {
    const ns = uniqueNamespace('rr-podid');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    ok(await cli('eks', ['init', '--yes', '--mechanism', 'pod-identity', '--namespace', ns, '--role-name', `rr-${ns.slice(-6)}`]), 'init');
    expect(await plainPlanChanges('eks', ns)).toEqual([]);
  });

  it('the Central integration: the same plan, and a plain one, change nothing', async () => {
    const ns = uniqueNamespace('rr-ci');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'operator' });
    const creds = ['--use-generated-admin-password'];
    ok(await cli('eks', ['init', '--yes', '--configure-integration', ...creds, '--namespace', ns, '--role-name', `rr-${ns.slice(-6)}`]), 'init');
    expect(await plainPlanChanges('eks', ns, ['--configure-integration', ...creds])).toEqual([]);
    expect(await plainPlanChanges('eks', ns)).toEqual([]);
  });
});

describe('a plain re-run keeps each choice made before', () => {
  it('--delegated-scanning, then a plain init and plan keep Sensor; --no-delegated-scanning takes its trust and wiring out together', async () => {
    const ns = uniqueNamespace('rr-ds');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'helm' });
    const role = `rr-${ns.slice(-6)}`;
    ok(await cli('eks', ['init', '--yes', '--delegated-scanning', '--namespace', ns, '--role-name', role]), 'init --delegated-scanning');
    const sensor = `system:serviceaccount:${ns}:sensor`;
    expect(await trustedSubjects(role)).toContain(sensor);

    const a0 = await awsMark(sb);
    const again = JSON.parse(ok(await cli('eks', ['init', '--yes', '--namespace', ns, '--output', 'json']), 'plain init').stdout) as { role: { name: string }; actions: { status: string }[] };
    expect(again.role.name).toBe(role);
    expect(again.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
    expect((await awsWrites(sb, a0)).map((w) => w.action)).toEqual([]);
    expect(await trustedSubjects(role)).toContain(sensor);
    expect(await annotation('eks', ns, 'sensor')).toBe(roleArn(role));
    expect(await plainPlanChanges('eks', ns)).toEqual([]);

    const off = ok(await cli('eks', ['init', '--yes', '--no-delegated-scanning', '--namespace', ns]), 'init --no-delegated-scanning');
    expect(off.stdout).toContain('Delegated scanning was on, becomes off');
    expect(await trustedSubjects(role)).toEqual([`system:serviceaccount:${ns}:central`]);
    expect(await annotation('eks', ns, 'sensor')).toBeUndefined();
    expect(await annotation('eks', ns, 'central')).toBe(roleArn(role));
    expect(await plainPlanChanges('eks', ns)).toEqual([]);
  });

  it('--ecr-repository team-a/*, then a plain plan and init keep the scope; the flag widens it again, saying what it was', async () => {
    const ns = uniqueNamespace('rr-ecr');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const role = `rr-${ns.slice(-6)}`;
    ok(await cli('eks', ['init', '--yes', '--ecr-repository', 'team-a/*', '--namespace', ns, '--role-name', role]), 'init');
    const narrow = `arn:aws:ecr:*:${sb.accountId}:repository/team-a/*`;
    expect(await ecrResources(role)).toBe(narrow);
    expect(await plainPlanChanges('eks', ns)).toEqual([]);
    ok(await cli('eks', ['init', '--yes', '--namespace', ns]), 'plain init');
    expect(await ecrResources(role)).toBe(narrow);

    const wide = await plainPlanChanges('eks', ns, ['--ecr-repository', '*']);
    expect(wide).toEqual([`permissions-policy update: Grant read-only ECR access to all repositories in registry ${sb.accountId} (any region) (was team-a/* in registry ${sb.accountId} (any region))`]);
  });
});

describe('--yes takes the wizard\'s defaults', () => {
  it('a cluster running only Sensor: init --yes configures Sensor (delegated scanning), as the wizard offers "(Y/n)"', async () => {
    const ns = uniqueNamespace('rr-sensor');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['sensor'] });
    const role = `rr-${ns.slice(-6)}`;
    ok(await cli('eks', ['init', '--yes', '--namespace', ns, '--role-name', role]), 'init --yes');
    expect(await annotation('eks', ns, 'sensor')).toBe(roleArn(role));
    expect(await trustedSubjects(role)).toEqual([`system:serviceaccount:${ns}:sensor`]);
    expect(await plainPlanChanges('eks', ns)).toEqual([]);
  });
});
