// One Central, many secured clusters: a fleet of its own (hub with Central and Sensor, four
// spokes with Sensor) on real API servers and the strict AWS gate. One role serves the fleet;
// each run changes only the statements and wiring of the clusters it names.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument, trustSid, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { cli, type Run } from '../sandbox/cli.js';
import { awsMark, awsRequests, setTrustPolicyQuota } from '../sandbox/observe.js';
import { startSeededSandbox, type SeededSandbox } from '../sandbox/standalone.js';

let fleet: SeededSandbox;
const ROLE = 'rhacs-fleet';
const ctx = (name: string) => fleet.fleet.find((f) => f.cluster.name === name)!.cluster.context;
const issuer = (name: string) => fleet.fleet.find((f) => f.cluster.name === name)!.cluster.issuer;
const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  cli(fleet.info, 'all', args, { ...fleet.env, AWS_REGION: fleet.cluster.region, ...env });
const ok = (r: Run) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};

async function getRole() {
  const iam = new IAMClient({ endpoint: fleet.info.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const role = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
  iam.destroy();
  return role.Role!;
}
async function trust(): Promise<PolicyDocument> {
  return parsePolicyDocument((await getRole()).AssumeRolePolicyDocument!);
}
/** The clusters the role's tags say it serves. */
const served = async () => (await getRole()).Tags!.filter((t) => t.Key!.startsWith('rhacs-sts/serves/')).map((t) => t.Key!.slice('rhacs-sts/serves/'.length)).sort();
const sids = async () => (await trust()).Statement.map((s) => s.Sid).sort();
const sidsOf = (...names: string[]) => names.map((n) => trustSid(issuer(n))).sort();

beforeAll(async () => {
  fleet = await startSeededSandbox({ clusters: 5, method: 'manifests', log: () => undefined, sandbox: { handleSignals: false } });
}, 180_000);
afterAll(async () => fleet?.stop());

describe('a fleet: one Central, four secured clusters', () => {
  it('hub+spoke-1, then hub+spoke-2 on one role: all three issuers stay trusted and both pairs verify', async () => {
    const first = ok(await run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--role-name', ROLE, '--yes']));
    // The playground's contexts are short, as the README's examples use them.
    expect([ctx('hub'), ctx('spoke-1')]).toEqual(['hub', 'spoke-1']);
    // Without a terminal, every line about a cluster names it; the hub's own Sensor is configured
    // with its Central (delegated scanning is implied by --sensor-context).
    expect(first.stderr).toMatch(/^✓ \[hub\] Annotate service account central with /m);
    expect(first.stderr).toMatch(/^✓ \[hub\] Annotate service account sensor with /m);
    expect(first.stderr).toMatch(/^✓ \[spoke-1\] Annotate service account sensor with /m);
    expect(first.stderr).not.toMatch(/^✓ Annotate service account/m);
    expect(first.stderr).toMatch(/^› \[spoke-1\] rollout stackrox\/sensor: /m);
    ok(await run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-2'), '--role-name', ROLE, '--yes']));
    expect(await sids()).toEqual(sidsOf('hub', 'spoke-1', 'spoke-2'));
    expect(await served()).toEqual(['hub', 'spoke-1', 'spoke-2']);
    const v1 = await run(['verify', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--role-name', ROLE]);
    const v2 = await run(['verify', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-2'), '--role-name', ROLE]);
    expect([v1.code, v2.code], `${v1.stdout}\n${v2.stdout}`).toEqual([0, 0]);
  }, 240_000);

  it('a plain plan afterwards finds the role from the wiring and is all unchanged', async () => {
    const r = ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--output', 'json']));
    const plan = JSON.parse(r.stdout) as { role: { name: string }; actions: { status: string }[] };
    expect(plan.role.name).toBe(ROLE);
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
  }, 120_000);

  it('init with another role refuses before any write, naming the role the wiring points at and the flag that replaces it', async () => {
    const a0 = await awsMark(fleet.info);
    const r = await run(['init', '--central-context', ctx('hub'), '--role-name', 'someone-else', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`:role/${ROLE}`);
    expect(r.stderr).toContain('--replace-role-wiring');
    expect((await awsRequests(fleet.info, a0)).filter((x) => /^(Create|Update|Put|Tag|Add|Attach)/.test(x.action ?? ''))).toEqual([]);
  }, 120_000);

  it('five clusters on one role exceed the default trust policy quota: refused before any write', async () => {
    const a0 = await awsMark(fleet.info);
    const r = await run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-3'), '--sensor-context', ctx('spoke-4'), '--role-name', ROLE, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/would be \d+ characters .* over the account's quota of 2048/);
    expect(r.stderr).toContain('L-C07B4B0D');
    expect(r.stderr).toContain('--role-per-cluster');
    expect((await awsRequests(fleet.info, a0)).filter((x) => /^(Create|Update|Put|Tag|Add)/.test(x.action ?? ''))).toEqual([]);
    expect(await sids()).toEqual(sidsOf('hub', 'spoke-1', 'spoke-2'));
    // The way out the message names: a larger quota (Service Quotas allows up to 4,096).
    await setTrustPolicyQuota(fleet.info, 4096);
  }, 180_000);

  it('two inits on different spokes at once converge: both statements are there', async () => {
    const [a, b] = await Promise.all([
      run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-3'), '--role-name', ROLE, '--yes', '--no-restart']),
      run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-4'), '--role-name', ROLE, '--yes', '--no-restart']),
    ]);
    expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    expect(await sids()).toEqual(sidsOf('hub', 'spoke-1', 'spoke-2', 'spoke-3', 'spoke-4'));
  }, 240_000);

  it('one spoke down: the others are done, exit 1 names it, a re-run finishes', async () => {
    // A context whose API server does not answer.
    const kc = parseYaml(readFileSync(fleet.info.kubeconfig, 'utf8')) as {
      clusters: { name: string; cluster: Record<string, string> }[]; contexts: { name: string; context: { cluster: string; user: string } }[];
    };
    const down = kc.contexts.find((c) => c.name === ctx('spoke-4'))!;
    kc.clusters.push({ name: 'gone', cluster: { ...kc.clusters.find((c) => c.name === down.context.cluster)!.cluster, server: 'https://127.0.0.1:1' } });
    kc.contexts.push({ name: 'spoke-gone', context: { ...down.context, cluster: 'gone' } });
    const file = join(fleet.info.workDir, 'kubeconfig-with-a-dead-spoke.yaml');
    writeFileSync(file, toYaml(kc), { mode: 0o600 });

    const r = await run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--sensor-context', 'spoke-gone', '--role-name', ROLE, '--yes'], { KUBECONFIG: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Secured cluster spoke-gone is left out of this run/);
    expect(r.stderr).toMatch(/1 secured cluster was left out \(the others are done\)/);
    // Nothing of the reachable clusters was lost.
    expect(await sids()).toEqual(sidsOf('hub', 'spoke-1', 'spoke-2', 'spoke-3', 'spoke-4'));
  }, 180_000);

  it('uninstalling one spoke removes its statement and wiring only; the role stays for the others', async () => {
    ok(await run(['uninstall', '--context', ctx('spoke-4'), '--role-name', ROLE, '--yes', '--no-restart']));
    expect(await sids()).toEqual(sidsOf('hub', 'spoke-1', 'spoke-2', 'spoke-3'));
    expect(await served()).toEqual(['hub', 'spoke-1', 'spoke-2', 'spoke-3']);
    const v = await run(['verify', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--role-name', ROLE]);
    expect(v.code, v.stdout).toBe(0);
  }, 180_000);

  it('--role-per-cluster: a secured cluster gets its own role, trusted by its own issuer only; the shared role is untouched', async () => {
    const before = await sids();
    const r = await run(['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-4'), '--role-name', ROLE, '--role-per-cluster', '--yes', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { rolePerCluster: boolean; runs: { cluster: string; role: { name: string } }[] };
    expect(doc.runs.map((x) => x.role.name)).toEqual([ROLE, 'rhacs-sts-spoke-4']);
    expect(await sids()).toEqual(before);
    const iam = new IAMClient({ endpoint: fleet.info.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const own = (await iam.send(new GetRoleCommand({ RoleName: 'rhacs-sts-spoke-4' }))).Role!;
    iam.destroy();
    expect(parsePolicyDocument(own.AssumeRolePolicyDocument!).Statement.map((s) => s.Sid)).toEqual(sidsOf('spoke-4'));
    const v = await run(['verify', '--context', ctx('spoke-4'), '--delegated-scanning']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 240_000);

  it('a fleet plan says each note once, not once per cluster', async () => {
    const r = ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-2'), '--sensor-context', ctx('spoke-3'), '--role-name', ROLE]));
    expect(r.stdout.match(/RHACS was installed from plain manifests/g)).toHaveLength(1);
  }, 120_000);

  it('--role-per-cluster: a plain plan afterwards (no role name) is nothing to change for either cluster', async () => {
    const r = ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-4'), '--role-per-cluster', '--output', 'json']));
    const doc = JSON.parse(r.stdout) as { runs: { role: { name: string }; actions: { id: string; status: string }[] }[] };
    expect(doc.runs.map((x) => x.role.name)).toEqual([ROLE, 'rhacs-sts-spoke-4']);
    expect(doc.runs.flatMap((x) => x.actions.filter((a) => a.status !== 'unchanged').map((a) => a.id))).toEqual([]);
  }, 120_000);

  it('the fleet moves from IRSA to Pod Identity: init does what plan showed, the same plan is then a no-op, and OIDC providers no role trusts go', async () => {
    const fleetArgs = ['--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--sensor-context', ctx('spoke-2'), '--role-name', ROLE];
    type Doc = { actions: { id: string; status: string }[]; applied?: { id: string; outcome: string }[] };
    const changing = (d: Doc) => d.actions.filter((a) => a.status !== 'unchanged').map((a) => a.id).sort();
    const planned = JSON.parse(ok(await run(['plan', ...fleetArgs, '--mechanism', 'pod-identity', '--output', 'json'])).stdout) as Doc;
    expect(changing(planned)).toEqual(expect.arrayContaining(['trust-policy', `oidc-provider:${issuer('hub')}`, `oidc-provider:${issuer('spoke-1')}`, `oidc-provider:${issuer('spoke-2')}`]));

    const applied = JSON.parse(ok(await run(['init', ...fleetArgs, '--mechanism', 'pod-identity', '--yes', '--output', 'json'])).stdout) as Doc;
    expect(changing(applied)).toEqual(changing(planned));
    expect(applied.applied!.filter((r) => r.outcome === 'done').map((r) => r.id)).toContain('trust-policy');
    // spoke-3 still uses IRSA on this role: its statement stays; the three moved clusters' go.
    expect(await sids()).toEqual([...sidsOf('spoke-3'), 'RhacsStsPodIdentity'].sort());
    const iam = new IAMClient({ endpoint: fleet.info.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const providers = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn!.split('oidc-provider/')[1]).sort();
    iam.destroy();
    expect(providers).toEqual([issuer('spoke-3'), issuer('spoke-4')].map((i) => i.replace(/^https:\/\//, '')).sort());

    const same = JSON.parse(ok(await run(['plan', ...fleetArgs, '--mechanism', 'pod-identity', '--output', 'json'])).stdout) as Doc;
    expect(changing(same)).toEqual([]);
    const plain = JSON.parse(ok(await run(['plan', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-1'), '--sensor-context', ctx('spoke-2'), '--output', 'json'])).stdout) as Doc;
    expect(changing(plain)).toEqual([]);
  }, 300_000);

  it('moving a spoke from the shared role to --role-per-cluster: the way out named is --replace-role-wiring, not a re-run', async () => {
    const args = ['init', '--central-context', ctx('hub'), '--sensor-context', ctx('spoke-3'), '--role-name', ROLE, '--role-per-cluster', '--yes'];
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 2 clusters failed/);
    expect(r.stderr).toMatch(new RegExp(`hint: ${ctx('spoke-3')} is wired to another role \\(e\\.g\\. the shared one\\), which a re-run keeps: add --replace-role-wiring`));
    expect(r.stderr).not.toMatch(/hint: Re-running the same command resumes/);
    ok(await run([...args, '--replace-role-wiring']));
  }, 240_000);

});
