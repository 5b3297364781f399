// Saved plans through the built binary: `plan --output json > plan.json`, then `init --plan
// plan.json --yes` applies exactly that plan; if the live state drifted in between, init refuses
// (exit 1), names what drifted and writes nothing. A bad file is an input error naming --plan.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { CreatePolicyCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../src/clouds/aws/policies.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();

/** Runs the built binary like a CI job: no terminal, stdin an open pipe nobody writes to. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli(sb, 'eks', args, env);

async function noWritesSince(run: () => Promise<Run>): Promise<Run> {
  const a = await awsMark(sb);
  const k = kubeMark(sb, 'eks');
  const r = await run();
  expect((await awsWrites(sb, a)).map((x) => x.action)).toEqual([]);
  expect((await kubeRequests(sb, 'eks', k, { writesOnly: true })).map((x) => `${x.verb} ${x.resource}/${x.name}`)).toEqual([]);
  return r;
}

let dir: string;
let iam: IAMClient;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-planfile-'));
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Saves `plan --output json` with the given flags to a file; returns its path and document. */
async function savePlan(name: string, args: string[]) {
  const r = await cli(['plan', '--output', 'json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  const path = join(dir, `${name}.json`);
  writeFileSync(path, r.stdout);
  return { path, doc: JSON.parse(r.stdout) as { role: { arn: string; trustPolicy: unknown }; actions: { id: string; status: string }[] } };
}

describe('init --plan', () => {
  it('applies a saved plan when the live state still matches it, and refuses it once applied', async () => {
    const ns = uniqueNamespace('pf-apply');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'helm' });
    const saved = await savePlan('apply', ['--namespace', ns, '--role-name', 'pf-apply', '--delegated-scanning', '--ecr-repository', 'team-a/*']);

    // Applying takes nothing but the file (and --yes): every choice comes from the plan.
    const r = await cli(['init', '--plan', saved.path, '--yes', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`The live state matches ${saved.path}`);
    const result = JSON.parse(r.stdout) as { actions: { id: string; status: string }[]; applied: { id: string; outcome: string }[] };
    expect(result.actions.map((a) => [a.id, a.status])).toEqual(saved.doc.actions.map((a) => [a.id, a.status]));
    expect(result.applied.filter((a) => a.outcome === 'done').length).toBeGreaterThan(4);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'pf-apply' }))).Role!;
    expect(parsePolicyDocument(decodeURIComponent(role.AssumeRolePolicyDocument!))).toEqual(saved.doc.role.trustPolicy);
    const sensor = await kubeConfigFor(sb, 'eks').makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'sensor', namespace: ns });
    expect(sensor.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(role.Arn);

    // The same file again: the plan no longer describes the live state (everything is in place now).
    const again = await noWritesSince(() => cli(['init', '--plan', saved.path, '--yes']));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/The live state has drifted since .*apply\.json was saved/);
    expect(again.stderr).toMatch(/role arn:aws:iam::\d+:role\/pf-apply: status was "create", now "unchanged"/);
    expect(again.stderr).toMatch(/hint: Make and review a new plan/);
  });

  it('applies a saved plan that attaches a managed policy: the file records the choice', async () => {
    const ns = uniqueNamespace('pf-attach');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const created = await iam.send(new CreatePolicyCommand({
      PolicyName: ns, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] }),
    }));
    const policy = created.Policy!.Arn!;
    const saved = await savePlan('attach', ['--namespace', ns, '--role-name', 'pf-attach', '--attach-policy-arn', policy]);
    expect(saved.doc.actions.filter((a) => a.status === 'create').map((a) => a.id)).toContainEqual(expect.stringContaining(policy));

    const r = await cli(['init', '--plan', saved.path, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`The live state matches ${saved.path}`);
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'pf-attach' }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([policy]);
  });

  it('refuses when the live state drifted between plan and apply, naming what changed, and writes nothing', async () => {
    const ns = uniqueNamespace('pf-drift');
    const kc = kubeConfigFor(sb, 'eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const saved = await savePlan('drift', ['--namespace', ns, '--role-name', 'pf-drift']);

    // Someone points central at another role meanwhile.
    await kc.makeApiClient(CoreV1Api).patchNamespacedServiceAccount({
      name: 'central', namespace: ns,
      body: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${sb.accountId}:role/someone-else` } } },
    }, mergePatch());

    const r = await noWritesSince(() => cli(['init', '--plan', saved.path, '--yes']));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`service-account-annotation ${ns}/serviceaccount/central: status was "create", now "update"`);
    expect(r.stderr).toContain('Nothing was changed.');
    // The way out is the full command, with the choices the saved plan made (not a bare "plan").
    expect(r.stderr).toMatch(new RegExp(`hint: Make and review a new plan with the same choices: rhacs-sts plan (\\S+ )*--namespace ${ns} (\\S+ )*--role-name pf-drift (\\S+ )*--output json > \\S*drift\\.json, then rhacs-sts init --plan \\S*drift\\.json\\.`));
    expect(r.stdout).toBe('');
  });

  it('refuses flags that would change the saved plan, naming them', async () => {
    const ns = uniqueNamespace('pf-flags');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const saved = await savePlan('flags', ['--namespace', ns, '--role-name', 'pf-flags']);
    const r = await noWritesSince(() => cli(['init', '--plan', saved.path, '--role-name', 'pf-other', '--ecr-repository', 'app', '--yes']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role-name: is "pf-other", but .*flags\.json was planned with "pf-flags"/);
    expect(r.stderr).toMatch(/--ecr-repository: is \["app"\]/);
  });

  it('needs --yes without a terminal, like any plan with changes', async () => {
    const ns = uniqueNamespace('pf-yes');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const saved = await savePlan('yes', ['--namespace', ns, '--role-name', 'pf-yes']);
    const r = await noWritesSince(() => cli(['init', '--plan', saved.path]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes: is required to apply \d+ changes/);
  });

  it('a file that is not a live plan is an input error naming --plan, before anything is contacted', async () => {
    const offline = await cli(['plan', '--offline', '--provider', 'eks', '--account-id', sb.accountId, '--oidc-issuer', sb.clusters.eks!.issuer, '--output', 'json']);
    const cases: [string, string, RegExp][] = [
      ['text.json', 'Plan for EKS · account 123456789012\n', /is not JSON/],
      ['offline.json', offline.stdout, /was made with --offline/],
      ['future.json', JSON.stringify({ planVersion: 2, command: 'init' }), /planVersion 2; this version of rhacs-sts reads planVersion 1/],
    ];
    for (const [name, text, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const a = await awsMark(sb);
      const r = await cli(['init', '--plan', path, '--yes']);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain('--plan: ');
      expect(r.stderr).toMatch(message);
      expect(await awsWrites(sb, a)).toEqual([]);
    }
    const missing = await cli(['init', '--plan', join(dir, 'missing.json'), '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--plan: cannot read .*missing\.json.*no such file/);
  });
});
