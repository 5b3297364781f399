// The interactive flow in a real pseudo-terminal: tmux runs the built binary against the sandbox,
// the test reads the screen and types answers like a person. A walkthrough that answers every
// question (with one invalid answer, asked again) and confirms; and Ctrl-C at a question and at the
// confirmation, which exit 130 with one line and write nothing; "no" at the confirmation exits 1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';
import { Terminal } from '../sandbox/terminal.js';

const sb = useSandbox();
let dir: string;
let iam: IAMClient;
const terminals: Terminal[] = [];
// The EKS kubeconfig user runs `aws eks get-token`: the sandbox's stand-in aws comes first on PATH.
const env = () => ({ ...sb.awsEnv, KUBECONFIG: sb.clusters.eks!.kubeconfig, PATH: `${sb.awsCliDir}:${dirname(process.execPath)}:/usr/bin:/bin` });

function terminal(): Terminal {
  const t = new Terminal(dir);
  terminals.push(t);
  return t;
}

beforeAll(() => {
  execFileSync('tmux', ['-V']); // fails loudly if tmux is missing
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-wizard-'));
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rhacs-sts init at a terminal', () => {
  it('detects, asks only what is open, shows the plan, applies after one confirmation and says what is next', { timeout: 120_000 }, async () => {
    const kc = kubeConfigFor(sb, 'eks');
    // RHACS in two namespaces (and not in the default one), so detection must ask which.
    await expect(kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: 'stackrox' })).rejects.toThrow();
    const ns = uniqueNamespace('wiz-walk');
    await seedRhacs(kc, { namespace: ns, method: 'helm' });
    await seedRhacs(kc, { namespace: uniqueNamespace('wiz-other'), method: 'manifests', components: ['sensor'] });
    const roleName = `wiz-walk-${ns.slice(-6)}`;

    const t = terminal();
    t.start(['init'], env());

    // Detection cannot choose the namespace: a list, searched by typing.
    await t.waitFor(/^\? RHACS runs in several namespaces\. Which one should use the role\?/m);
    t.type(ns);
    await t.waitFor(new RegExp(`❯ ${ns} \\(central, sensor\\)`));
    t.keys('Enter');

    // The role name, with a default; an invalid answer is refused and asked again.
    await t.waitFor(/^\? Name of the IAM role RHACS will assume \(rhacs-sts/m);
    t.type('bad name!');
    t.keys('Enter');
    await t.waitFor(/characters IAM does not allow in a role name/);
    t.keys('C-u');
    t.type(roleName);
    t.keys('Enter');

    // The cluster runs the Pod Identity Agent: the wizard offers Pod Identity, one line on each; IRSA is the default.
    const how = await t.waitFor(/^\? How should the pods get the role\?/m);
    expect(how).toMatch(/IRSA: annotate the service account/);
    expect(how).toMatch(/EKS Pod Identity: an association through the EKS API/);
    t.keys('Enter');

    await t.waitFor(/^\? Delegated scanning: should Sensor pull images from ECR too\?.*\(y\/N\)/m);
    t.type('y');
    t.keys('Enter');

    await t.waitFor(/^\? Which ECR repositories may RHACS read\?/m);
    t.keys('Down', 'Down', 'Enter');
    await t.waitFor(/^\? Repositories \(separated by commas/m);
    t.type('team-a/*, shared/base');
    t.keys('Enter');

    await t.waitFor(/^\? Restart central and sensor now, so the pods get the role, and wait until ready\?.*\(Y\/n\)/m);
    t.keys('Enter');

    // The plan, the IAM changes called out, one confirmation.
    // Central's Deployment uses Recreate: the confirmation says the restart is a short outage.
    const plan = await t.waitFor(/^\? Apply these (\d+) changes\? \(central restarts with the Recreate strategy: a short outage\) \(y\/N\)/m);
    const planned = Number(/^\? Apply these (\d+) changes\?/m.exec(plan)![1]);
    expect(plan).toMatch(/\+ annotate\s+ServiceAccount\s+\S+\/serviceaccount\/central/);
    expect(plan).not.toMatch(/create\s+ServiceAccount/);
    expect(plan).toMatch(/✓ Reading the cluster and the AWS account/);
    expect(plan).toContain(`Detected EKS cluster (context ${sb.clusters.eks!.context})`);
    expect(plan).toMatch(/\+ create\s+IAM role\s+arn:aws:iam::\d+:role\//);
    expect(plan).toMatch(/Trust policy:/);
    expect(plan).toMatch(/IAM changes \(\d+\):\n\s+\+ Create the IAM OIDC identity provider/);
    expect(plan).toContain(`system:serviceaccount:${ns}:sensor`);
    expect(plan).toContain('"arn:aws:ecr:*:123456789012:repository/team-a/*"');
    t.type('y');
    t.keys('Enter');

    expect(await t.exitCode()).toBe(0);
    const done = t.screen();
    expect(done).toMatch(/✓ Annotate service account central with eks\.amazonaws\.com\/role-arn/);
    expect(done).toMatch(/✓ rollout: rolled out/);
    // The same count as the confirmation asked for: every planned change is reported as applied.
    expect(done).toMatch(new RegExp(`✓ Done: ${planned} changes applied \\(`));
    expect(done).not.toMatch(/already in place/);
    expect(done).toMatch(/enable "Use container IAM role"/);
    expect(done).toMatch(/rhacs-sts verify/);
    expect(done).not.toMatch(/^\s+at /m);

    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'rhacs-sts-ecr-read' }));
    expect(decodeURIComponent(policy.PolicyDocument!)).toContain('repository/shared/base');
    for (const sa of ['central', 'sensor']) {
      const obj = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: sa, namespace: ns });
      expect(obj.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(role.Arn);
    }
  });

  it('choosing EKS Pod Identity: associations instead of an OIDC provider and annotations', { timeout: 120_000 }, async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('wiz-podid');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const t = terminal();
    t.start(['init', '--namespace', ns, '--role-name', 'wiz-podid', '--delegated-scanning', '--ecr-repository', 'app'], env());
    await t.waitFor(/^\? How should the pods get the role\?/m);
    t.keys('Down', 'Enter');
    await t.waitFor(/^\? Restart central and sensor now, so the pods get the role, and wait until ready\?.*\(Y\/n\)/m);
    t.keys('Enter');
    const plan = await t.waitFor(/^\? Apply these \d+ changes\?/m);
    expect(plan).toMatch(/\+ create\s+EKS Pod Identity association/);
    expect(plan).not.toMatch(/OIDC identity provider/);
    expect(plan).toContain('pods.eks.amazonaws.com');
    t.type('y');
    t.keys('Enter');
    expect(await t.exitCode()).toBe(0);
    expect(t.screen()).toMatch(/trusted by EKS Pod Identity/);
    const eks = new EKSClient({ region: sb.clusters.eks!.region, endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const list = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns }));
    expect(list.associations?.map((a) => a.serviceAccount).sort()).toEqual(['central', 'sensor']);
    const sa = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  });

  it('a yes/no question asks again for anything but y/yes/n/no; "<" goes back a question, "← Back" too, and the new answers count', { timeout: 120_000 }, async () => {
    const ns = uniqueNamespace('wiz-back');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const a = await awsMark(sb);
    const k = kubeMark(sb, 'eks');
    const t = terminal();
    t.start(['init', '--namespace', ns, '--ecr-repository', 'app', '--no-restart'], env());

    // The first question offers no way back.
    const first = await t.waitFor(/^\? Name of the IAM role RHACS will assume/m);
    expect(first).not.toMatch(/< to go back/);
    t.type('wiz-back-first');
    t.keys('Enter');
    await t.waitFor(/^\? How should the pods get the role\?/m);
    t.keys('Enter');

    const delegated = /^\? Delegated scanning: should Sensor pull images from ECR too\?.*\(y\/N\) \(< to go back\)/m;
    await t.waitFor(delegated);
    // Neither "maybe" nor "xyz" is an answer: the question stays, saying what is.
    t.type('maybe');
    t.keys('Enter');
    await t.waitFor(/answer y or yes, n or no \(Enter: no\), or < to go back/);
    t.keys('C-u');
    t.type('xyz');
    t.keys('Enter');
    await t.waitFor(/answer y or yes, n or no/);
    expect(t.screen()).not.toMatch(/✔ Delegated scanning/);

    // "<" returns to the mechanism question, and its "← Back" to the role name.
    t.keys('C-u');
    t.type('<');
    t.keys('Enter');
    await t.waitFor(/← Back/);
    t.keys('Up', 'Enter');
    await t.waitFor(/^\? Name of the IAM role RHACS will assume \(rhacs-sts/m);
    t.type('wiz-back-second');
    t.keys('Enter');
    await t.waitFor(/^\? How should the pods get the role\?/m);
    t.keys('Enter');
    await t.waitFor(delegated);
    t.type('YES');
    t.keys('Enter');

    const plan = await t.waitFor(/^\? Apply these \d+ changes\?/m);
    expect(plan).toMatch(/✔ Delegated scanning: should Sensor pull images from ECR too\? \(only if it is turned on in RHACS\) Yes$/m);
    expect(plan).toMatch(/role\/wiz-back-second/);
    expect(plan).not.toMatch(/role\/wiz-back-first/);
    expect(plan).toContain(`system:serviceaccount:${ns}:sensor`);
    t.keys('n', 'Enter');
    expect(await t.exitCode()).toBe(1);
    expect((await awsWrites(sb, a)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k, { writesOnly: true })).toEqual([]);
  });

  it('answering "no" at the confirmation is not an interrupt: exit 1, one line, nothing written', { timeout: 60_000 }, async () => {
    const ns = uniqueNamespace('wiz-decline');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const a = await awsMark(sb);
    const k = kubeMark(sb, 'eks');
    const prompt = /^\? Apply these \d+ changes\?/m;
    const t = terminal();
    t.start(['init', '--namespace', ns, '--role-name', 'wiz-decline', '--mechanism', 'irsa', '--delegated-scanning', '--ecr-repository', 'app', '--no-restart'], env());
    await t.waitFor(prompt);
    t.keys('n', 'Enter');
    expect(await t.exitCode()).toBe(1);
    const screen = t.screen();
    // The answered prompt is redrawn with a check mark and the answer.
    const after = screen.slice(screen.search(/^✔ Apply these \d+ changes\? No$/m)).split('\n').filter((l) => l.trim() !== '');
    expect(after.slice(1), screen).toEqual(['Not applied: the confirmation was declined. Nothing was changed.']);
    expect((await awsWrites(sb, a)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k, { writesOnly: true })).toEqual([]);
  });

  it.each([
    ['the first question', /^\? Name of the IAM role RHACS will assume/m, [] as string[]],
    ['the confirmation', /^\? Apply these \d+ changes\?/m, ['--role-name', 'wiz-cancel', '--mechanism', 'irsa', '--delegated-scanning', '--ecr-repository', 'app', '--no-restart']],
  ])('Ctrl-C at %s exits 130 with one line, and nothing is written', { timeout: 60_000 }, async (_at, prompt, flags) => {
    const ns = uniqueNamespace('wiz-cancel');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const a = await awsMark(sb);
    const k = kubeMark(sb, 'eks');

    const t = terminal();
    t.start(['init', '--namespace', ns, ...flags], env());
    await t.waitFor(prompt);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);

    const screen = t.screen();
    const after = screen.slice(screen.search(prompt)).split('\n').filter((l) => l.trim() !== '');
    expect(after.slice(1)).toEqual(['Cancelled. Nothing was changed.']);
    expect(screen).not.toMatch(/^\s+at /m);
    expect(screen).not.toMatch(/ExitPromptError|Error:/);
    expect((await awsWrites(sb, a)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k, { writesOnly: true })).toEqual([]);
  });
});
