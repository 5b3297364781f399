// A fleet set up with --role-per-cluster (hub runs Central and a Sensor on the shared role; each
// spoke's Sensor has a role of its own, rhacs-sts-<cluster>), on real API servers and the strict
// AWS gate. What is in place is the default: a plain plan after init reads the choice back and is
// a no-op; Central's ECR integration is configured in Central's run only, on the first run and on
// every re-run; status looks up each cluster's own role.
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type Run } from '../sandbox/cli.js';
import { awsMark, awsWrites } from '../sandbox/observe.js';
import { startSeededSandbox, type SeededSandbox } from '../sandbox/standalone.js';

let fleet: SeededSandbox;
const ROLE = 'rhacs-rpc';
const ctx = (name: string) => fleet.fleet.find((f) => f.cluster.name === name)!.cluster.context;
const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  cli(fleet.info, 'all', args, { ...fleet.env, AWS_REGION: fleet.cluster.region, ...env });
const ok = (r: Run) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const spokes = () => ['--sensor-context', ctx('spoke-1'), '--sensor-context', ctx('spoke-2')];

type Doc = { role: { name: string }; actions: { id: string; status: string; summary: string }[] };
type Runs = { rolePerCluster: true; runs: (Doc & { cluster: string })[] };
/** The roles of a document (one run, or --role-per-cluster's runs) and the actions that would change something. */
function changes(out: string): { roles: string[]; changing: string[] } {
  const doc = JSON.parse(out) as Doc | Runs;
  const runs: Doc[] = 'runs' in doc ? doc.runs : [doc];
  return {
    roles: runs.map((r) => r.role.name),
    changing: runs.flatMap((r) => r.actions.filter((a) => a.status !== 'unchanged').map((a) => `${a.id} ${a.status}: ${a.summary}`)),
  };
}

beforeAll(async () => {
  fleet = await startSeededSandbox({ clusters: 4, method: 'manifests', log: () => undefined, sandbox: { handleSignals: false } });
}, 180_000);
afterAll(async () => fleet?.stop());

describe('a fleet with a role per secured cluster', () => {
  it('init --role-per-cluster --configure-integration: configured in Central\'s run only; the secured clusters pass quietly; a re-run is clean', async () => {
    expect(fleet.env.ROX_ADMIN_PASSWORD).toBeTruthy();
    const args = ['init', '--central-context', ctx('hub'), ...spokes(), '--role-name', ROLE, '--role-per-cluster', '--configure-integration', '--yes'];
    const first = ok(await run(args));
    expect(first.stderr).not.toContain('Central does not run in the cluster of this run');
    expect(first.stderr).toContain(`Central's ECR integration is configured in the run of ${ctx('hub')}, where Central runs.`);
    const again = ok(await run([...args, '--output', 'json']));
    const doc = JSON.parse(again.stdout) as Runs;
    expect(doc.runs.map((r) => r.role.name)).toEqual([ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2']);
    expect(doc.runs[0]!.actions.filter((a) => a.id.startsWith('central-integration') || a.summary.includes('integration')).length).toBeGreaterThan(0);
    expect(changes(again.stdout).changing).toEqual([]);
  }, 300_000);

  it('a plain plan afterwards (no --role-per-cluster, no role name) reads the choice back: nothing to change, no new role', async () => {
    const a0 = await awsMark(fleet.info);
    const plain = changes(ok(await run(['plan', '--central-context', ctx('hub'), ...spokes(), '--output', 'json'])).stdout);
    expect(plain).toEqual({ roles: [ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2'], changing: [] });
    // With the shared role named (as init was run): the spokes' own roles are no blocker.
    const named = changes(ok(await run(['plan', '--central-context', ctx('hub'), ...spokes(), '--role-name', ROLE, '--output', 'json'])).stdout);
    expect(named).toEqual({ roles: [ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2'], changing: [] });
    const text = ok(await run(['plan', '--central-context', ctx('hub'), ...spokes()]));
    expect(text.stderr).toMatch(/spoke-1, spoke-2 have roles of their own/);
    expect(text.stdout).not.toContain('rhacs-sts-hub');
    expect((await awsWrites(fleet.info, a0)).map((x) => x.action)).toEqual([]);
  }, 240_000);

  it('status on that fleet looks up each cluster\'s own role: all healthy, exit 0 (with or without --role-per-cluster)', async () => {
    const plain = await run(['status', '--central-context', ctx('hub'), ...spokes()]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(/UNHEALTHY/);
    expect(plain.stdout).toMatch(new RegExp(`^Wiring +spoke-1: stackrox/serviceaccount/sensor +healthy `, 'm'));
    expect(plain.stdout).toMatch(new RegExp(`^IAM role +arn:aws:iam::\\d+:role/rhacs-sts-spoke-2 +healthy `, 'm'));
    const flagged = await run(['status', '--central-context', ctx('hub'), ...spokes(), '--role-per-cluster', '--output', 'json']);
    expect(flagged.code, flagged.stdout + flagged.stderr).toBe(0);
    const doc = JSON.parse(flagged.stdout) as { healthy: boolean; roles: { name: string }[]; managed: { kind: string; name: string; health: string }[] };
    expect(doc.healthy).toBe(true);
    expect(doc.roles.map((r) => r.name)).toEqual([ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2']);
    expect(doc.managed.filter((m) => m.kind === 'IAM role').map((m) => m.name.split('/').pop())).toEqual([ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2']);
  }, 240_000);

  it('verify on that fleet checks each secured cluster with its own role: exit 0', async () => {
    const v = await run(['verify', '--central-context', ctx('hub'), ...spokes(), '--output', 'json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const doc = JSON.parse(v.stdout) as { ok: boolean; roles: { name: string }[]; checks: { id: string; check: string; result: string }[] };
    expect(doc.roles.map((r) => r.name)).toEqual([ROLE, 'rhacs-sts-spoke-1', 'rhacs-sts-spoke-2']);
    expect(doc.checks.filter((c) => c.result === 'fail')).toEqual([]);
    expect(doc.checks.some((c) => c.check.startsWith(`${ctx('spoke-2')}: `))).toBe(true);
    expect(new Set(doc.checks.map((c) => c.id)).size).toBe(doc.checks.length);
  }, 240_000);

  it('a shared-role spoke beside them: --configure-integration on the shared path succeeds and re-runs clean; a mixed plain plan is a no-op', async () => {
    const args = ['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-3'), '--role-name', ROLE, '--configure-integration', '--yes'];
    ok(await run(args));
    expect(changes(ok(await run([...args, '--output', 'json'])).stdout).changing).toEqual([]);
    const mixed = changes(ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--sensor-context', ctx('spoke-3'), '--output', 'json'])).stdout);
    expect(mixed).toEqual({ roles: [ROLE, 'rhacs-sts-spoke-1'], changing: [] });
  }, 300_000);

  it('--replace-role-wiring is the explicit way back to the shared role: the plan points the spoke at it, as one run', async () => {
    const r = ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-2'), '--role-name', ROLE, '--replace-role-wiring', '--output', 'json']));
    const doc = JSON.parse(r.stdout) as Doc;
    expect('runs' in doc).toBe(false);
    expect(doc.role.name).toBe(ROLE);
    expect(changes(r.stdout).changing.join('\n')).toMatch(/service-account-annotation.*spoke-2.*sensor|Annotate service account sensor/);
  }, 120_000);

  it('uninstall on that fleet undoes each secured cluster with its own role: the own roles go, the shared role stays for spoke-3', async () => {
    ok(await run(['uninstall', '--central-context', ctx('hub'), ...spokes(), '--role-name', ROLE, '--yes', '--no-restart']));
    const iam = new IAMClient({ endpoint: fleet.info.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const exists = (name: string) => iam.send(new GetRoleCommand({ RoleName: name })).then(() => true, () => false);
    expect([await exists('rhacs-sts-spoke-1'), await exists('rhacs-sts-spoke-2'), await exists(ROLE)]).toEqual([false, false, true]);
    iam.destroy();
    const again = changes(ok(await run(['uninstall', '--central-context', ctx('hub'), ...spokes(), '--role-name', ROLE, '--dry-run', '--output', 'json'])).stdout);
    expect(again.changing).toEqual([]);
  }, 240_000);
});
