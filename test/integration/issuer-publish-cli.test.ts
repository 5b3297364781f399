// The built CLI on OpenShift without STS, against a sandbox of its own (the Authentication stand-in
// restarts that sandbox's API server): "not configured for STS" → issuer publish (scripted) →
// --set-cluster-issuer with its second confirmation at a real terminal (tmux) → init → verify passes;
// a rotated signing key makes verify fail naming the kid, issuer publish fixes it; uninstall removes
// the bucket once nothing trusts the provider. Bad input and --dry-run change nothing.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePatch, seedRhacs } from '../sandbox/fixtures.js';
import { bucketIssuer, bucketObject, bucketState, connectToWith } from '../sandbox/issuers/issuer-bucket.js';
import { awsMark, awsWrites, kubeMark, kubeRequests } from '../sandbox/observe.js';
import { openShiftWithoutStsCluster, seedOpenShiftWithoutSts, startAuthenticationOperator, type AuthenticationOperator } from '../sandbox/kube/openshift-auth.js';
import { isProvisioned, startSandbox, type Sandbox } from '../sandbox/sandbox.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLUSTER = 'ocp-cli';
const INFRA = 'ocp-cli-q4r7s';
const BUCKET = `${INFRA}-rhacs-sts-oidc`;
const NS = 'stackrox';
let sandbox: Sandbox;
let kc: KubeConfig;
let operator: AuthenticationOperator;
let region: string;
let issuer: string;
let dir: string;

interface Run { code: number | null; stdout: string; stderr: string }

function env(extra: Record<string, string> = {}): Record<string, string> {
  const info = sandbox.info;
  return {
    ...info.awsEnv,
    // No region: the bucket's region comes from the OpenShift infrastructure.
    AWS_REGION: '',
    KUBECONFIG: info.clusters[CLUSTER]!.kubeconfig,
    RHACS_STS_CONNECT_TO: connectToWith(info, [new URL(issuer).hostname]),
    NO_COLOR: '1',
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    ...extra,
  };
}

function cli(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(join(ROOT, 'bin/rhacs-sts'), args, { env: env(extra), timeout: 180_000, cwd: ROOT }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** rhacs-sts in a real pseudo-terminal (tmux), read and typed into like a person. */
class Terminal {
  private static count = 0;
  readonly socket = `rhacs-sts-publish-${process.pid}-${Terminal.count++}`;
  readonly exitFile = join(dir, `${this.socket}.exit`);
  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
  }
  start(args: string[]): void {
    const script = join(dir, `${this.socket}.sh`);
    writeFileSync(script, [
      `cd ${quote(ROOT)}`,
      `env -i TERM="$TERM" ${Object.entries(env()).map(([k, v]) => `${k}=${quote(v)}`).join(' ')} bin/rhacs-sts ${args.map(quote).join(' ')}`,
      `echo $? > ${quote(this.exitFile)}`,
      'sleep 300',
    ].join('\n'));
    this.tmux('new-session', '-d', '-s', 'p', '-x', '200', '-y', '50', `sh ${quote(script)}`);
  }
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-20000', '-t', 'p');
  }
  keys(...k: string[]): void {
    this.tmux('send-keys', '-t', 'p', ...k);
  }
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    let last = '';
    for (let i = 0; i < timeoutMs / 100; i++) {
      last = this.screen();
      if (pattern.test(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${pattern}:\n${last}`);
  }
  async exitCode(timeoutMs = 120_000): Promise<number> {
    for (let i = 0; i < timeoutMs / 100; i++) {
      if (existsSync(this.exitFile) && readFileSync(this.exitFile, 'utf8').trim()) return Number(readFileSync(this.exitFile, 'utf8').trim());
      await sleep(100);
    }
    throw new Error(`no exit within ${timeoutMs} ms:\n${this.screen()}`);
  }
  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // gone
    }
  }
}

async function serviceAccountIssuer(): Promise<string> {
  const auth = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster' })) as { spec: { serviceAccountIssuer: string } };
  return auth.spec.serviceAccountIssuer;
}

beforeAll(async () => {
  if (!isProvisioned()) throw new Error('sandbox not provisioned: bash test/sandbox/provision.sh');
  execFileSync('tmux', ['-V']);
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-publish-'));
  sandbox = await startSandbox({ clusters: [openShiftWithoutStsCluster(CLUSTER)], log: () => undefined });
  region = sandbox.info.awsEnv.AWS_REGION;
  issuer = bucketIssuer(BUCKET, region);
  kc = sandbox.kubeConfig(CLUSTER);
  await seedOpenShiftWithoutSts(kc, { region, infrastructureName: INFRA });
  await seedRhacs(kc, { namespace: NS, method: 'manifests', openshift: true });
  operator = startAuthenticationOperator(sandbox, CLUSTER);
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('OpenShift without STS, with the CLI', () => {
  it('init stops: the cluster is not configured for STS, and it says how to fix that', async () => {
    const r = await cli(['init', '--yes']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not configured for AWS STS/);
    expect(r.stderr).toMatch(/rhacs-sts issuer publish --set-cluster-issuer/);
  });

  it('refuses bad input with exit 2 naming the flag, writing nothing', async () => {
    const a = await awsMark(sandbox.info);
    const k = kubeMark(sandbox.info, CLUSTER);
    const bad = await cli(['issuer', 'publish', '--bucket', 'My.Bucket', '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--bucket: "My\.Bucket" has upper-case letters/);
    const script = await cli(['issuer', 'publish', '--set-cluster-issuer', '--yes']);
    expect(script.code).toBe(2);
    expect(script.stderr).toMatch(/--set-cluster-issuer: .*second confirmation at a terminal/);
    const noYes = await cli(['issuer', 'publish']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes: is required to apply 7 changes/);
    expect(await awsWrites(sandbox.info, a)).toEqual([]);
    expect(await kubeRequests(sandbox.info, CLUSTER, k, { writesOnly: true })).toEqual([]);
  });

  it('--dry-run shows the bucket, the provider and the cluster-wide change, and writes nothing', async () => {
    const a = await awsMark(sandbox.info);
    const k = kubeMark(sandbox.info, CLUSTER);
    const r = await cli(['issuer', 'publish', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Issuer ${issuer}`);
    expect(r.stdout).toMatch(/\+ Create the bucket ocp-cli-q4r7s-rhacs-sts-oidc in eu-west-1/);
    expect(r.stdout).toMatch(/\+ Create the IAM OIDC identity provider .* \(audience openshift\)/);
    expect(r.stdout).toMatch(/every bound service-account token the cluster issues from then on carries the new issuer/);
    expect(await awsWrites(sandbox.info, a)).toEqual([]);
    expect(await kubeRequests(sandbox.info, CLUSTER, k, { writesOnly: true })).toEqual([]);
    expect((await bucketState(sandbox.info, BUCKET)).exists).toBe(false);
  });

  it('publishes with --yes (bucket, documents, provider), leaves the cluster alone, and a second run changes nothing', async () => {
    const k = kubeMark(sandbox.info, CLUSTER);
    const r = await cli(['issuer', 'publish', '--yes', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { issuer: string; clusterIssuer: { change: boolean; apply: boolean } };
    expect(doc).toMatchObject({ issuer, clusterIssuer: { change: true, apply: false } });
    expect((await bucketState(sandbox.info, BUCKET)).tags).toEqual({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': INFRA });
    expect(JSON.parse((await bucketObject(sandbox.info, BUCKET, '.well-known/openid-configuration'))!)).toMatchObject({ issuer, jwks_uri: `${issuer}/keys.json` });
    expect(await serviceAccountIssuer()).toBe('');
    expect(await kubeRequests(sandbox.info, CLUSTER, k, { writesOnly: true })).toEqual([]);

    const a = await awsMark(sandbox.info);
    const again = await cli(['issuer', 'publish', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to change/);
    expect(await awsWrites(sandbox.info, a)).toEqual([]);
  });

  it('init at a terminal offers to publish the issuer; declining the cluster-wide change leaves the cluster as it was', { timeout: 120_000 }, async () => {
    const k = kubeMark(sandbox.info, CLUSTER);
    const t = new Terminal();
    try {
      t.start(['init']);
      await t.waitFor(/Publish the cluster's issuer in an S3 bucket now/);
      t.keys('Enter');
      await t.waitFor(/nothing to change/);
      await t.waitFor(/Set spec\.serviceAccountIssuer of authentications\.config\.openshift\.io\/cluster to/);
      t.keys('n', 'Enter');
      expect(await t.exitCode()).toBe(1);
      expect(t.screen()).toMatch(/the cluster's issuer was not changed/);
    } finally {
      t.kill();
    }
    expect(await serviceAccountIssuer()).toBe('');
    expect(await kubeRequests(sandbox.info, CLUSTER, k, { writesOnly: true })).toEqual([]);
  });

  it('Ctrl-C at the cluster-wide question: exit 130, saying the issuer is published and the cluster was not changed', { timeout: 120_000 }, async () => {
    const k = kubeMark(sandbox.info, CLUSTER);
    const t = new Terminal();
    try {
      t.start(['issuer', 'publish', '--set-cluster-issuer']);
      await t.waitFor(/Set spec\.serviceAccountIssuer of authentications\.config\.openshift\.io\/cluster to/);
      t.keys('C-c');
      expect(await t.exitCode()).toBe(130);
      const screen = t.screen();
      expect(screen).toMatch(/Cancelled: the cluster's issuer was not changed \(the bucket ocp-cli-q4r7s-rhacs-sts-oidc and the OIDC provider are in place/);
      expect(screen).not.toMatch(/[Nn]othing was changed/);
    } finally {
      t.kill();
    }
    expect(await serviceAccountIssuer()).toBe('');
    expect(await kubeRequests(sandbox.info, CLUSTER, k, { writesOnly: true })).toEqual([]);
  });

  it('sets the cluster issuer only after a second confirmation at a terminal, and waits for the kube-apiservers', { timeout: 180_000 }, async () => {
    const t = new Terminal();
    try {
      t.start(['issuer', 'publish', '--set-cluster-issuer']);
      await t.waitFor(/Set spec\.serviceAccountIssuer of authentications\.config\.openshift\.io\/cluster to https:\/\/ocp-cli-q4r7s-rhacs-sts-oidc\.s3\.eu-west-1\.amazonaws\.com\?/);
      expect(await serviceAccountIssuer()).toBe('');
      t.keys('y', 'Enter');
      expect(await t.exitCode(150_000), t.screen()).toBe(0);
      expect(t.screen()).toMatch(/The cluster now issues its tokens as https:\/\/ocp-cli-q4r7s-rhacs-sts-oidc/);
    } finally {
      t.kill();
    }
    expect(await serviceAccountIssuer()).toBe(issuer);
    const tr = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name: 'central', namespace: NS, body: { spec: { audiences: ['openshift'] } } });
    expect(JSON.parse(Buffer.from(tr.status!.token!.split('.')[1]!, 'base64url').toString()).iss).toBe(issuer);
  });

  it('init at a terminal: accepting the offer publishes, switches the cluster (asked again), waits, then goes on with init', { timeout: 240_000 }, async () => {
    // Put the cluster back as it was installed (the stand-in rolls the kube-apiserver back).
    await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      { group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster', body: { spec: { serviceAccountIssuer: '' } } },
      mergePatch(),
    );
    for (let i = 0; i < 240 && operator.revisions.at(-1)?.issuers[0] !== 'https://kubernetes.default.svc'; i++) await sleep(250);
    expect(operator.revisions.at(-1)?.issuers[0]).toBe('https://kubernetes.default.svc');

    const t = new Terminal();
    try {
      t.start(['init']);
      await t.waitFor(/Publish the cluster's issuer in an S3 bucket now/);
      t.keys('Enter');
      await t.waitFor(/Set spec\.serviceAccountIssuer of authentications\.config\.openshift\.io\/cluster to/);
      t.keys('y', 'Enter');
      await t.waitFor(/Continuing with init\./, 120_000);
      // The wizard's questions: take every default, then confirm the plan.
      let answered = 0;
      let applied = false;
      for (let i = 0; i < 600 && !applied; i++) {
        const screen = t.screen();
        const after = screen.slice(screen.lastIndexOf('Continuing with init.'));
        // A question shows as "? …" while asked and "✔ …" once answered.
        const prompts = after.match(/^[?✔] .*/gm) ?? [];
        if (/^\? Apply these \d+ changes\?/m.test(prompts.at(-1) ?? '')) {
          t.keys('y', 'Enter');
          applied = true;
        } else if (prompts.length > answered) {
          answered = prompts.length;
          t.keys('Enter');
        }
        await sleep(300);
      }
      expect(applied, t.screen()).toBe(true);
      expect(await t.exitCode(150_000), t.screen()).toBe(0);
      expect(t.screen()).toMatch(/✓ Done: \d+ changes applied/);
    } finally {
      t.kill();
    }
    expect(await serviceAccountIssuer()).toBe(issuer);
  });

  it('then init wires RHACS and verify passes, the token exchange going through the S3-hosted issuer', { timeout: 180_000 }, async () => {
    const init = await cli(['init', '--yes']);
    expect(init.code, init.stderr).toBe(0);
    const v = await cli(['verify']);
    expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);
    expect(v.stdout).toMatch(/End to end central/);
  });

  it('after a key rotation verify fails naming the kid; issuer publish adds it and verify passes again', { timeout: 180_000 }, async () => {
    await sandbox.restartApiServer(CLUSTER, { rotateSigningKey: true });
    const v = await cli(['verify']);
    expect(v.code).toBe(3);
    const kid = /signs its tokens with the key (\S+), which the public JWKS/.exec(v.stdout)?.[1];
    expect(kid, v.stdout).toBeTruthy();
    expect(v.stdout).toMatch(/rhacs-sts issuer publish/);
    const p = await cli(['issuer', 'publish', '--yes']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`add ${kid}`);
    const keys = JSON.parse((await bucketObject(sandbox.info, BUCKET, 'keys.json'))!) as { keys: { kid: string }[] };
    expect(keys.keys.map((x) => x.kid)).toContain(kid);
    const again = await cli(['verify']);
    expect(again.code, again.stdout).toBe(0);
  });

  it('uninstall removes the role, the provider and then the bucket it created; a second run finds nothing', { timeout: 180_000 }, async () => {
    const m = await awsMark(sandbox.info);
    const dry = await cli(['uninstall', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/Would remove the published issuer .*\.well-known\/openid-configuration and keys\.json, then the bucket ocp-cli-q4r7s-rhacs-sts-oidc/);
    expect(await awsWrites(sandbox.info, m)).toEqual([]);
    expect((await bucketState(sandbox.info, BUCKET)).exists).toBe(true);
    const u = await cli(['uninstall', '--yes']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/Removed the published issuer .*the bucket ocp-cli-q4r7s-rhacs-sts-oidc/);
    expect((await bucketState(sandbox.info, BUCKET)).exists).toBe(false);
    const a = await awsMark(sandbox.info);
    const again = await cli(['uninstall', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await awsWrites(sandbox.info, a)).toEqual([]);
  });
});
