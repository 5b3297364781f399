/**
 * CLI-level tests: run the built binary (bin/rhacs-sts → dist/) as a user would, offline, with a
 * clean environment, and check stdout, stderr and the exit code.
 */
import { buildProgram } from '../../src/cli.js';
import { trustSid } from '../../src/clouds/aws/policies.js';
import { flagName, OPTION_SPECS, type CommandName } from '../../src/options/options.js';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'rhacs-sts');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const OCP_HP = 'my-oidc-bucket.s3.us-east-1.amazonaws.com';
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const STACK_TRACE = /^\s+at /m;
const ANSI = /\x1b/;

let home: string;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: Record<string, string>, timeout: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env, timeout, encoding: 'utf8', maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout,
        stderr,
      });
    });
  });
}

/**
 * Runs the binary with a clean environment: no RHACS_STS_*, no colour forcing, no real kubeconfig
 * or AWS configuration, and no instance metadata lookups.
 */
function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const clean: Record<string, string> = {
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    HOME: home,
    NO_COLOR: '1',
    KUBECONFIG: join(home, 'no-kubeconfig'),
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const merged = { ...clean, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === '') delete merged[k];
  return exec(BIN, args, merged, 20_000);
}

const EKS_ARGS = ['plan', '--offline', '--provider', 'eks', '--account-id', ACCOUNT, '--region', 'eu-west-1', '--oidc-issuer', EKS_ISSUER];
const OCP_ARGS = ['plan', '--offline', '--provider', 'openshift', '--account-id', ACCOUNT, '--region', 'us-east-1', '--oidc-issuer', OCP_ISSUER];

/** EKS_ARGS with `flag` set to `value` (replaced where EKS_ARGS has it, else appended). */
function withFlag(flag: string, value: string, base = EKS_ARGS): string[] {
  const args = [...base];
  const i = args.indexOf(flag);
  if (i >= 0) args[i + 1] = value;
  else args.push(flag, value);
  return args;
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

function buildIsStale(): boolean {
  if (!existsSync('dist/main.cjs')) return true;
  const built = statSync('dist/main.cjs').mtimeMs;
  return ['src', 'scripts/build.mjs', 'package.json'].some((p) => newestMtime(p) > built);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'rhacs-sts-cli-'));
  // Build only when dist/ is older than the sources: `npm test` has just built it, and rebuilding
  // here would delete dist/ under the integration tests that run the binary at the same time.
  if (buildIsStale()) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const build = await exec(npm, ['run', '--silent', 'build'], { ...process.env } as Record<string, string>, 120_000);
    if (build.code !== 0) throw new Error(`npm run build failed (${build.code}):\n${build.stdout}\n${build.stderr}`);
  }
}, 150_000);

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('version and help', () => {
  it.each([['--version'], ['-V']])('%s prints the package version', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\n$/);
    expect(r.stdout.trim()).toBe(VERSION);
    expect(r.stderr).toBe('');
  });

  // Every help the program has, as commander prints it when stdout is not a terminal.
  const HELP_PATHS = [[], ['init'], ['plan'], ['verify'], ['uninstall'], ['status'], ['issuer'], ['issuer', 'publish'], ['completion']];
  async function commanderHelp(args: string[]): Promise<string> {
    let out = '';
    const program = buildProgram({ env: {}, makeUi: () => { throw new Error('no command runs for --help'); }, writeOut: (s) => { out += s; }, writeErr: (s) => { throw new Error(s); } });
    await program.parseAsync(args, { from: 'user' }).catch((e: { code?: string }) => { if (e.code !== 'commander.helpDisplayed') throw e; });
    return out;
  }

  it.each(HELP_PATHS.flatMap((p) => [[...p, '--help'], [...p, '-h']]).map((a) => [a.join(' ')]))('"%s" prints exactly commander\'s help', async (line) => {
    const args = line.split(' ');
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(await commanderHelp(args));
  });

  /**
   * The modules a run of the binary loads: a preloaded probe lists the CommonJS modules at exit
   * (dist/main.cjs is the only way to the commands, the SDKs and the Kubernetes client).
   */
  async function modulesLoaded(args: string[]): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-probe-'));
    try {
      const probe = join(dir, 'probe.cjs');
      const list = join(dir, 'loaded.json');
      writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
      const r = await exec(process.execPath, ['--require', probe, BIN, ...args], { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1' }, 20_000);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((f) => f !== probe).map((f) => f.slice(ROOT.length).split('\\').join('/'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.each([['--version'], ['-V'], ...HELP_PATHS.map((p) => [...p, '--help'])].map((a) => [a.join(' ')]))('"%s" loads nothing but the quick answers (no CLI, SDK or command)', async (line) => {
    expect(await modulesLoaded(line.split(' '))).toEqual(['bin/rhacs-sts', 'dist/quick.cjs']);
  });

  it('dist/quick.cjs holds no help text: each --help reads only its own command\'s (its size does not grow with the options)', async () => {
    const quick = readFileSync(join(ROOT, 'dist', 'quick.cjs'), 'utf8');
    const initHelp = (await run(['init', '--help'])).stdout;
    const option = /^ {2}(--[a-z-]+)/m.exec(initHelp.slice(initHelp.indexOf('Options:')))?.[1];
    expect(option).toBeDefined();
    expect(quick).not.toContain(option);
    expect(quick).not.toContain('Usage: rhacs-sts');
    expect(Buffer.byteLength(quick)).toBeLessThan(8_000);
  });

  it('a help file that cannot be read leaves the answer to the CLI proper, which prints the same help', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'rhacs-sts-install-'));
    try {
      for (const d of ['bin', 'dist']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      rmSync(join(copy, 'dist', 'help', 'init.json'));
      const r = await exec(join(copy, 'bin', 'rhacs-sts'), ['init', '--help'], { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1' }, 20_000);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(await commanderHelp(['init', '--help']));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('the probe sees the CLI proper when it runs (the check above can fail)', async () => {
    expect(await modulesLoaded(['completion', 'bash'])).toContain('dist/main.cjs');
  });

  it('--help teaches the commands and the trust chain', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Usage: rhacs-sts');
    for (const cmd of ['init', 'plan', 'verify', 'uninstall']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(r.stdout).toContain('IAM OIDC identity provider');
    expect(r.stdout).toContain('Run "rhacs-sts <command> --help" for its options and examples.');
  });

  it.each([
    ['init', ['$ rhacs-sts init', '--yes', '--adopt-role']],
    ['plan', ['$ rhacs-sts plan --offline', '--output json']],
    ['verify', ['$ rhacs-sts verify']],
    ['uninstall', ['$ rhacs-sts uninstall']],
    ['status', ['$ rhacs-sts status', '3 something is unhealthy']],
  ])('%s --help lists its options with examples and exit codes', async (cmd, snippets) => {
    const r = await run([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: rhacs-sts ${cmd} [options]`);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toContain('[env: RHACS_STS_');
    for (const s of snippets) expect(r.stdout).toContain(s);
  });

  it('init --help and plan --help list the options of issue 2', async () => {
    for (const cmd of ['init', 'plan']) {
      const r = await run([cmd, '--help']);
      for (const flag of [
        '--provider', '--namespace', '--cluster-name', '--region', '--account-id', '--oidc-issuer', '--role-name',
        '--delegated-scanning', '--ecr-registry-id', '--ecr-region', '--ecr-repository', '--permissions-boundary',
        '--context', '--kubeconfig', '--profile', '--output', '--offline',
      ]) expect(r.stdout).toContain(flag);
    }
    expect((await run(['init', '--help'])).stdout).toContain('--dry-run');
    expect((await run(['init', '--help'])).stdout).toContain('--yes');
  });

  // Each command offers only the flags it acts on; a flag it would ignore is refused (exit 2).
  const NOT_FOR: Record<string, string[]> = {
    plan: ['--timeout', '--yes', '--dry-run', '--helm-values-out', '--plan', '--keep-oidc-provider', '--all-clusters', '--skip-exchange'],
    verify: [
      '--role-path', '--permissions-boundary', '--attach-policy-arn', '--replace-role-wiring',
      '--adopt-role', '--adopt-oidc-provider', '--no-restart', '--timeout', '--offline', '--dry-run', '--yes', '--plan',
      '--helm-values-out', '--keep-oidc-provider', '--all-clusters',
    ],
    uninstall: [
      '--role-path', '--delegated-scanning', '--ecr-registry-id', '--ecr-region', '--ecr-repository', '--permissions-boundary',
      '--attach-policy-arn', '--replace-role-wiring', '--adopt-role', '--adopt-oidc-provider', '--offline', '--plan',
      '--skip-exchange',
    ],
    init: ['--keep-oidc-provider', '--all-clusters', '--skip-exchange'],
    status: ['--dry-run', '--yes', '--no-restart', '--central-endpoint', '--use-generated-admin-password', '--delegated-scanning', '--skip-exchange'],
  };
  it.each(Object.entries(NOT_FOR))('%s --help lists exactly its own flags', async (cmd, absent) => {
    const help = (await run([cmd, '--help'])).stdout;
    const listed = [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
    expect(listed).toEqual(OPTION_SPECS.filter((x) => x.commands.includes(cmd as CommandName)).flatMap((x) => (x.negation ? [flagName(x), flagName(x).replace(/^--/, '--no-')] : [flagName(x)])));
    for (const flag of absent) expect(listed).not.toContain(flag);
  });

  it.each([
    ['verify', '--role-path', '/x/'], ['verify', '--timeout', '5m'], ['verify', '--attach-policy-arn', 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
    ['uninstall', '--delegated-scanning', undefined], ['uninstall', '--adopt-role', undefined], ['plan', '--timeout', '5m'],
  ])('%s refuses %s (it would do nothing there) with exit 2', async (cmd, flag, value) => {
    const r = await run([cmd, flag, ...(value ? [value] : [])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown option '${flag}'`);
  });

  it('--delegated-scanning says why Sensor needs the role: it scans, so it pulls from ECR', async () => {
    for (const cmd of ['init', 'plan', 'verify']) {
      const help = (await run([cmd, '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toContain('--delegated-scanning Sensor gets the role too: with delegated scanning Sensor scans images, so it pulls them from ECR itself');
    }
  });

  it('help <command> is the same as <command> --help', async () => {
    const a = await run(['help', 'plan']);
    const b = await run(['plan', '--help']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('the offline examples in plan --help run as shown', async () => {
    const help = (await run(['plan', '--help'])).stdout;
    const examples = help
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('$ rhacs-sts plan --offline'))
      .map((l) => l.replace(/^\$ rhacs-sts /, '').replace(/\s*>.*$/, '').split(/\s+/));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const args of examples) {
      const r = await run(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(100);
    }
  });
});

describe('plan --offline', () => {
  it('EKS as JSON: one document on stdout, nothing on stderr', async () => {
    const r = await run([...EKS_ARGS, '--cluster-name', 'prod', '--output', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout);
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts-prod`;
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}`;
    expect(plan).toMatchObject({
      provider: 'eks',
      partition: 'aws',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      offline: true,
      oidcProvider: { arn: providerArn, url: EKS_ISSUER, clientIds: ['sts.amazonaws.com'] },
      role: {
        name: 'rhacs-sts-prod',
        arn: roleArn,
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [{
            Sid: trustSid(EKS_ISSUER),
            Effect: 'Allow',
            Principal: { Federated: providerArn },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${EKS_HP}:sub`]: ['system:serviceaccount:stackrox:central'], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' } },
          }],
        },
        permissionsPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'RhacsStsEcrAuth', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
            { Sid: 'RhacsStsEcrRead', Resource: `arn:aws:ecr:*:${ACCOUNT}:repository/*` },
          ],
        },
      },
      kubernetes: [{ kind: 'ServiceAccount', namespace: 'stackrox', name: 'central', annotations: { 'eks.amazonaws.com/role-arn': roleArn } }],
      restarts: [{ kind: 'Deployment', namespace: 'stackrox', name: 'central' }],
      blockers: [],
    });
    expect(plan.actions.map((a: { type: string; status: string }) => `${a.type}:${a.status}`)).toEqual([
      'oidc-provider:create',
      'role:create',
      'trust-policy:create',
      'permissions-policy:create',
      'service-account-annotation:create',
      'restart:update',
    ]);
    for (const a of plan.actions) expect(Object.keys(a)).toEqual(expect.arrayContaining(['type', 'target', 'status']));
  });

  it('OpenShift as JSON: audience openshift, env vars on the central container', async () => {
    const r = await run([...OCP_ARGS, '--output', 'json', '--delegated-scanning', '--namespace', 'rhacs']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout);
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`;
    expect(plan.provider).toBe('openshift');
    expect(plan.oidcProvider).toEqual({ arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${OCP_HP}`, url: OCP_ISSUER, clientIds: ['openshift'] });
    expect(plan.role.trustPolicy.Statement[0].Condition).toEqual({
      StringEquals: {
        [`${OCP_HP}:sub`]: ['system:serviceaccount:rhacs:central', 'system:serviceaccount:rhacs:sensor'],
        [`${OCP_HP}:aud`]: 'openshift',
      },
    });
    expect(plan.kubernetes).toEqual([
      expect.objectContaining({ kind: 'Deployment', namespace: 'rhacs', name: 'central', container: 'central', env: [{ name: 'AWS_ROLE_ARN', value: roleArn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }] }),
      expect.objectContaining({ kind: 'Deployment', namespace: 'rhacs', name: 'sensor', container: 'sensor', env: [{ name: 'AWS_ROLE_ARN', value: roleArn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }] }),
    ]);
    expect(plan.kubernetes.some((k: { annotations?: unknown }) => k.annotations)).toBe(false);
  });

  it('GovCloud: the partition follows the region derived from the issuer', async () => {
    const issuer = 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01';
    const r = await run(['plan', '--offline', '--account-id', ACCOUNT, '--oidc-issuer', issuer, '-o', 'json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ provider: 'eks', partition: 'aws-us-gov', region: 'us-gov-west-1' });
    expect(plan.role.arn).toBe(`arn:aws-us-gov:iam::${ACCOUNT}:role/rhacs-sts`);
    expect(r.stdout).not.toContain('arn:aws:');
  });

  it('text: a readable plan on stdout, nothing on stderr, no colour', async () => {
    const r = await run(EKS_ARGS);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).toContain(`Plan for EKS · account ${ACCOUNT} (aws) · region eu-west-1`);
    expect(r.stdout).toContain('Trust policy:');
    expect(r.stdout).toContain('"sts:AssumeRoleWithWebIdentity"');
    expect(r.stdout).toContain('6 changes to apply.');
  });

  it('init --offline --dry-run is the same plan', async () => {
    const a = await run([...EKS_ARGS, '-o', 'json']);
    const b = await run(['init', '--dry-run', ...EKS_ARGS.slice(1), '-o', 'json']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
  });

  it('reads options from RHACS_STS_* variables, and flags beat them', async () => {
    const r = await run(['plan', '-o', 'json', '--role-name', 'from-flag'], {
      RHACS_STS_OFFLINE: 'true',
      RHACS_STS_ACCOUNT_ID: ACCOUNT,
      RHACS_STS_OIDC_ISSUER: EKS_ISSUER,
      RHACS_STS_ROLE_NAME: 'from-env',
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/from-flag`);
  });
});

describe('invalid input: exit 2, the flag named on stderr, nothing on stdout, no stack trace', () => {
  it.each([
    ['--account-id', withFlag('--account-id', '12345')],
    ['--account-id', withFlag('--account-id', 'abcdefghijkl')],
    ['--account-id', withFlag('--account-id', '')],
    ['--region', withFlag('--region', 'moon-1')],
    ['--region', withFlag('--region', 'EU-WEST-1')],
    ['--region', withFlag('--region', 'us-east-1')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'http://oidc.example.com/id/1')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://oidc.example.com/id/1?a=b')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://oidc.example.com/id/1#frag')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://oidc.example.com:8443/id/1')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'not a url')],
    // OpenShift without STS: the internal issuer, which AWS can never reach.
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://kubernetes.default.svc', OCP_ARGS)],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://kubernetes.default.svc.cluster.local', OCP_ARGS)],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://oidc.rhacs.svc/id/1')],
    ['--oidc-issuer', withFlag('--oidc-issuer', 'https://192.168.10.4/id/1')],
    ['--role-name', withFlag('--role-name', 'r'.repeat(65))],
    ['--role-name', withFlag('--role-name', 'bad name')],
    ['--role-path', withFlag('--role-path', 'rhacs')],
    ['--namespace', withFlag('--namespace', 'Bad_NS')],
    ['--cluster-name', withFlag('--cluster-name', 'prod.eks')],
    ['--provider', withFlag('--provider', 'k3s')],
    ['--output', withFlag('--output', 'yaml')],
    ['--ecr-registry-id', withFlag('--ecr-registry-id', '123')],
    ['--ecr-region', withFlag('--ecr-region', 'mars')],
    ['--ecr-region', withFlag('--ecr-region', 'cn-north-1')],
    ['--ecr-repository', withFlag('--ecr-repository', 'UPPER')],
    ['--ecr-repository', [...EKS_ARGS, '--ecr-repository', '*', '--ecr-repository', 'app']],
    ['--permissions-boundary', withFlag('--permissions-boundary', `arn:aws:iam::${ACCOUNT}:role/not-a-policy`)],
    ['--permissions-boundary', withFlag('--permissions-boundary', `arn:aws-cn:iam::${ACCOUNT}:policy/boundary`)],
    ['--timeout', ['init', '--dry-run', ...EKS_ARGS.slice(1), '--timeout', 'soon']],
    ['--profile', withFlag('--profile', 'bad profile')],
    ['--quiet', [...EKS_ARGS, '--quiet', '--verbose']],
    ['--provider', ['plan', '--offline', '--account-id', ACCOUNT, '--region', 'us-east-1', '--oidc-issuer', OCP_ISSUER]],
  ])('%s: %j', async (flag, args) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: invalid input/);
    expect(r.stderr).toContain(`  ${flag}: `);
    expect(r.stderr).toContain('hint: ');
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stderr).not.toMatch(ANSI);
  });

  it('reports every problem at once', async () => {
    const r = await run(['plan', '--offline', '--account-id', '1', '--region', 'x', '--oidc-issuer', 'http://a.example.com', '--role-name', 'a b']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('invalid input (5 problems)');
    for (const flag of ['--account-id', '--region', '--oidc-issuer', '--role-name', '--provider']) expect(r.stderr).toContain(`  ${flag}: `);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('names every missing fact with --offline', async () => {
    const r = await run(['plan', '--offline']);
    expect(r.code).toBe(2);
    for (const flag of ['--provider', '--account-id', '--oidc-issuer', '--region']) {
      expect(r.stderr).toMatch(new RegExp(`  ${flag}: is required with --offline`));
    }
  });

  it('names the variable when an environment value is bad', async () => {
    const r = await run(EKS_ARGS, { RHACS_STS_DELEGATED_SCANNING: 'maybe' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('  RHACS_STS_DELEGATED_SCANNING: "maybe" is not a boolean');
  });

  it.each([
    ['an unknown option', [...EKS_ARGS, '--bogus'], /unknown option '--bogus'/],
    ['an unknown command', ['bogus'], /unknown command 'bogus'/],
    ['a missing option value', ['plan', '--offline', '--provider'], /argument missing/],
    ['an excess argument', ['plan', 'extra', '--offline'], /too many arguments/],
    ['an option of another command', ['plan', '--dry-run', ...EKS_ARGS.slice(1)], /unknown option '--dry-run'/],
  ])('rejects %s with exit 2', async (_what, args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('init --offline without --dry-run exits 2 naming --offline', async () => {
    const r = await run(['init', ...EKS_ARGS.slice(1)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('  --offline: ');
    expect(r.stderr).toContain('--dry-run');
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });
});

// Once implemented these read the (absent) kubeconfig and AWS configuration, so allow more time.
describe('commands still being implemented', { timeout: 30_000 }, () => {
  it.each([['verify'], ['uninstall']])('%s fails with a message, no stack trace', async (cmd) => {
    const r = await run([cmd]);
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stderr).not.toMatch(ANSI);
  });
});

describe('colour', () => {
  it.each([
    ['NO_COLOR=1, FORCE_COLOR unset', { NO_COLOR: '1' }],
    ['NO_COLOR=1 and FORCE_COLOR=1', { NO_COLOR: '1', FORCE_COLOR: '1' }],
  ])('%s: no escape codes in a plan or an error', async (_what, env) => {
    const ok = await run(EKS_ARGS, env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toMatch(ANSI);
    const bad = await run(withFlag('--account-id', 'x'), env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(ANSI);
  });

  it('is off without a terminal even when NO_COLOR is unset', async () => {
    const r = await run(EKS_ARGS, { NO_COLOR: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('FORCE_COLOR=1 without NO_COLOR does colour (so the checks above can see colour)', async () => {
    const r = await run(EKS_ARGS, { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ANSI);
  });

  it('never colours JSON', async () => {
    const r = await run([...EKS_ARGS, '-o', 'json'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe('no command', () => {
  it('shows the help on stderr and exits 2 (a usage error)', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: rhacs-sts/);
    expect(r.stdout).toBe('');
  });
});

describe('completion', () => {
  /** Every file a command chunk reaches through static and dynamic imports. */
  function importGraph(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+\.js)"/g)) importGraph(join(dirname(file), m[1]!), seen);
    return seen;
  }

  it('bash: completes commands, each command\'s own flags and the values of fixed-choice flags, generated from the option table', async () => {
    const r = await run(['completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-completion-'));
    try {
      const script = join(dir, 'c.bash');
      writeFileSync(script, r.stdout);
      const complete = async (...words: string[]) => {
        const cword = words.length - 1;
        const probe = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${cword}; _rhacs_sts; printf '%s\\n' "\${COMPREPLY[@]}"`;
        const out = await exec('bash', ['-c', probe], { PATH: process.env.PATH ?? '' }, 10_000);
        expect(out.code, out.stderr).toBe(0);
        return out.stdout.split('\n').filter(Boolean);
      };
      expect(await complete('rhacs-sts', 'st')).toEqual(['status']);
      expect(await complete('rhacs-sts', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
      expect(await complete('rhacs-sts', 'plan', '--output', '')).toEqual(['text', 'json']);
      expect(await complete('rhacs-sts', 'init', '--mechanism', 'p')).toEqual(['pod-identity']);
      expect(await complete('rhacs-sts', 'issuer', 'publish', '--set-')).toEqual(['--set-cluster-issuer']);
      // Every flag of a command, and only those (the option table says which).
      const verifyFlags = await complete('rhacs-sts', 'verify', '--');
      expect(verifyFlags.sort()).toEqual([...OPTION_SPECS.filter((x) => x.commands.includes('verify')).map(flagName), '--help'].sort());
      expect(await complete('rhacs-sts', 'uninstall', '--keep')).toEqual(['--keep-oidc-provider']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([['zsh', /^#compdef rhacs-sts/], ['fish', /^# fish completion/]])('%s: a script naming every flag of every command', async (shell, head) => {
    const r = await run(['completion', shell]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(head);
    for (const s of OPTION_SPECS) {
      const long = flagName(s);
      expect(r.stdout, long).toContain(shell === 'fish' ? `-l ${long.slice(2)}` : `'${long}[`);
    }
  });

  it('an unknown or missing shell is an input error naming the argument (exit 2)', async () => {
    for (const args of [['completion', 'tcsh'], ['completion']]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/<shell>: .*use bash, zsh, fish/);
      expect(r.stdout).toBe('');
    }
  });

  it('stays fast: neither the AWS SDK nor the Kubernetes client is reachable from its code', () => {
    const reach = [...importGraph(join(ROOT, 'dist', 'esm', 'commands', 'completion.js'))].map((f) => readFileSync(f, 'utf8'));
    expect(reach.some((t) => t.includes('AssumeRoleWithWebIdentity'))).toBe(false);
    expect(reach.some((t) => t.includes('listNamespacedPod'))).toBe(false);
    // The same probe finds both in a command that uses them (so it can fail).
    const init = [...importGraph(join(ROOT, 'dist', 'esm', 'commands', 'init.js'))].map((f) => readFileSync(f, 'utf8'));
    expect(init.some((t) => t.includes('AssumeRoleWithWebIdentity'))).toBe(true);
    expect(init.some((t) => t.includes('listNamespacedPod'))).toBe(true);
  });
});
