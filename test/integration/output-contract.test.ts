// The output contract scripts rely on, through the built binary against the sandbox: with
// --output json exactly one JSON document on stdout in every outcome (failures included); --quiet
// prints the outcome, never the plan; exit 1 whenever something was contacted and failed; Ctrl-C
// during apply finishes the step in progress, says what was applied and exits 130; a missing
// kubeconfig, an unknown profile and the SDK's own warning get our messages.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, setRolloutMode, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor } from '../sandbox/observe.js';
import { cli, iamClient } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });

/** stdout must be exactly one JSON document. */
function oneJson(stdout: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect(typeof doc).toBe('object');
  return doc;
}

const seeded = async (prefix: string) => {
  const ns = uniqueNamespace(prefix);
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
  return ns;
};

describe('--output json: one document on stdout in every outcome', () => {
  it('bad input: {"error"} with exit code 2 and the flag that fixes it', async () => {
    const r = await cli(sb, 'eks', ['init', '--role-name', 'not a role name!', '--output', 'json', '--yes']);
    expect(r.code).toBe(2);
    const doc = oneJson(r.stdout) as { error: { exitCode: number; problems: { source: string }[]; message: string } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.problems.map((p) => p.source)).toContain('--role-name');
    expect(r.stderr).toMatch(/--role-name/);
  });

  it('a blocker: the plan with error {message, hint, exitCode: 1}, nothing written', async () => {
    const ns = await seeded('json-blocked');
    const name = `foreign-${ns}`.slice(0, 64);
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const a0 = await awsMark(sb);
    const r = await cli(sb, 'eks', ['init', '--namespace', ns, '--role-name', name, '--output', 'json', '--yes']);
    expect(r.code).toBe(1);
    const doc = oneJson(r.stdout) as { actions: unknown[]; clusters: { changes: number }[]; error: { message: string; hint: string; exitCode: number } };
    expect(doc.actions.length).toBeGreaterThan(0);
    expect(doc.clusters).toHaveLength(1);
    expect(doc.error).toMatchObject({ exitCode: 1, message: expect.stringMatching(/not created by rhacs-sts/), hint: expect.stringMatching(/--adopt-role/) });
    expect(await awsWrites(sb, a0)).toEqual([]);
  });

  it('plan with a blocker: the plan, then exit 1 naming the blocker (text and JSON), nothing written', async () => {
    const ns = await seeded('plan-blocked');
    const name = `foreign-plan-${ns}`.slice(0, 64);
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const a0 = await awsMark(sb);
    const text = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', name]);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(/Cannot apply as it stands:\n  ✗ .*not created by rhacs-sts/);
    expect(text.stderr).toMatch(/error: Cannot apply: .*not created by rhacs-sts/);
    expect(text.stderr).toMatch(/--adopt-role/);
    const json = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', name, '--output', 'json']);
    expect(json.code).toBe(1);
    const doc = oneJson(json.stdout) as { blockers: unknown[]; error: { exitCode: number; hint: string } };
    expect(doc.blockers).toHaveLength(1);
    expect(doc.error).toMatchObject({ exitCode: 1, hint: expect.stringMatching(/--adopt-role/) });
    expect(await awsWrites(sb, a0)).toEqual([]);
  });

  it('success: the plan, what was applied, and a section per cluster with its outcome', async () => {
    const ns = await seeded('json-ok');
    const r = await cli(sb, 'eks', ['init', '--namespace', ns, '--role-name', `json-ok-${ns}`.slice(0, 64), '--output', 'json', '--yes', '--no-restart']);
    expect(r.code, r.stderr).toBe(0);
    const doc = oneJson(r.stdout) as { applied: { outcome: string }[]; clusters: { context: string | null; outcome: string; changes: number }[]; error?: unknown };
    expect(doc.error).toBeUndefined();
    expect(doc.applied.some((a) => a.outcome === 'done')).toBe(true);
    expect(doc.clusters).toEqual([expect.objectContaining({ outcome: 'done', changes: expect.any(Number) })]);
  });

  it('a cluster that does not answer: {"error"} with exit 1 (contacted and failed, not invalid input)', async () => {
    const kc = parseYaml(readFileSync(sb.clusters.eks!.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
    for (const c of kc.clusters) c.cluster.server = 'https://127.0.0.1:1';
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-down-'));
    writeFileSync(join(dir, 'config'), toYaml(kc), { mode: 0o600 });
    const r = await cli(sb, 'eks', ['plan', '--output', 'json'], { KUBECONFIG: join(dir, 'config') });
    expect(r.code).toBe(1);
    const doc = oneJson(r.stdout) as { error: { exitCode: number; message: string } };
    expect(doc.error).toMatchObject({ exitCode: 1, message: expect.stringMatching(/did not answer/) });
  });
});

describe('--quiet', () => {
  it('init prints the outcome (the role, a line per cluster), never the plan', async () => {
    const ns = await seeded('quiet');
    const role = `quiet-${ns}`.slice(0, 64);
    const r = await cli(sb, 'eks', ['init', '--quiet', '--namespace', ns, '--role-name', role, '--yes', '--no-restart']);
    expect(r.code, r.stderr).toBe(0);
    const arn = (await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.Arn!;
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^role ${arn.replace(/[/.]/g, '\\$&')}: \\d+ changes applied$`));
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^cluster .+: \d+ changes? applied$/)]);
    expect(r.stdout + r.stderr).not.toMatch(/Plan for|IAM changes|trust policy/i);
  });
});

describe('messages instead of raw errors', () => {
  it('no kubeconfig at all: exit 2 naming --kubeconfig and how to connect', async () => {
    const home = mkdtempSync(join(tmpdir(), 'rhacs-sts-home-'));
    const r = await cli(sb, 'eks', ['plan'], { KUBECONFIG: '', HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--kubeconfig: no kubeconfig found: KUBECONFIG is not set and .*\.kube\/config does not exist/);
    expect(r.stderr).toMatch(/aws eks update-kubeconfig/);
    expect(r.stderr).not.toMatch(/localhost:8080|loaded-context/);
  });

  it('an unknown profile: exit 2 naming --profile and the profiles that exist', async () => {
    const home = mkdtempSync(join(tmpdir(), 'rhacs-sts-home-'));
    writeFileSync(join(home, 'credentials'), '[team-a]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
    const r = await cli(sb, 'eks', ['plan', '--profile', 'nope'], { HOME: home, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--profile: the AWS profile "nope" is not defined in .* \(profiles there: team-a\)/);
  });

  it('a profile and static keys both set: one plain warning, not the SDK\'s', async () => {
    const home = mkdtempSync(join(tmpdir(), 'rhacs-sts-home-'));
    writeFileSync(join(home, 'credentials'), '[sandbox]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
    const ns = await seeded('two-sources');
    const r = await cli(sb, 'eks', ['plan', '--namespace', ns], { HOME: home, AWS_PROFILE: 'sandbox', AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Both a profile \(sandbox\) and AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY are set: the profile's credentials are used/);
    expect(r.stderr).not.toMatch(/Multiple credential sources|@aws-sdk/);
    // Nor Node's process warnings (the SDK's about Node versions of its future releases, on Node 20).
    expect(r.stderr).not.toMatch(/\(node:\d+\) \w*Warning|NodeVersionSupportWarning/);
  });
});

describe('Ctrl-C during apply', () => {
  it('finishes the step in progress, lists what was applied, says a re-run resumes, exits 130', async () => {
    const ns = await seeded('interrupt');
    // Central's next rollout never becomes ready: init is still waiting for it when Ctrl-C comes.
    await setRolloutMode(kubeConfigFor(sb, 'eks'), ns, 'central', 'hang');
    const role = `interrupt-${ns}`.slice(0, 64);
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('RHACS_STS_')) delete env[k];
    Object.assign(env, sb.awsEnv, { KUBECONFIG: sb.clusters.eks!.kubeconfig, NO_COLOR: '1' });
    const child = spawn('bin/rhacs-sts', ['init', '--namespace', ns, '--role-name', role, '--yes', '--timeout', '60s'], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Bounded: the restart is written within seconds; then the wait for the rollout begins.
    for (let i = 0; i < 300 && !/rollout [^\n]*\/central: /.test(stderr) && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(child.exitCode, stderr).toBeNull();
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(killer);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Interrupted: finishing the step in progress/);
    expect(stderr).toMatch(/Done before the interruption:\n(\s+✓ .+\n)+/);
    expect(stderr).toMatch(/Re-running "rhacs-sts init" resumes/);
    // The restart was made, but its rollout had not finished: not done, and a re-run waits for it.
    expect(stderr).not.toMatch(/✓ .*deployment\/central \(restart\)/);
    expect(stderr).toMatch(/- Restart central .*\(interrupted before the rollout finished\)/);
    expect(stderr).toMatch(/A re-run waits for the rollout again/);
    // What was applied stays applied.
    expect((await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.Arn).toContain(role);
  }, 90_000);
});
