// The bad-input catalogue: malformed flags, environment variables and config files against the
// live sandbox. Each exits 2 with a message naming what to fix, and the sandbox sees zero writes
// (in fact nothing at all is contacted: input is validated before any session opens).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cli as runCli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
let dir: string;
/** A real saved plan (made with `plan --output json` against the sandbox), to spoil in various ways. */
let saved: Record<string, unknown>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-bad-'));
  const ns = uniqueNamespace('bad-plan');
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
  const r = await cli(['plan', '--namespace', ns, '--role-name', 'rhacs-bad-plan', '--output', 'json']);
  if (r.code !== 0) throw new Error(`could not make a plan to spoil: ${r.stderr}`);
  saved = JSON.parse(r.stdout) as Record<string, unknown>;
});

function spoiled(name: string, change: (plan: Record<string, unknown>) => void): string {
  const copy = structuredClone(saved);
  change(copy);
  return file(name, JSON.stringify(copy));
}
const inputsOf = (p: Record<string, unknown>) => p.inputs as Record<string, unknown> & { clusters: Record<string, unknown>[] };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const cli = (args: string[], env: Record<string, string> = {}) => runCli(sb, 'eks', args, env);

/** The sandbox cluster's kubeconfig with TLS verification turned off (and its CA dropped). */
function insecureKubeconfig(): string {
  const kc = parse(readFileSync(sb.clusters.eks!.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const c of kc.clusters) {
    delete c.cluster['certificate-authority-data'];
    delete c.cluster['certificate-authority'];
    c.cluster['insecure-skip-tls-verify'] = true;
  }
  return file('insecure-kubeconfig.yaml', stringify(kc));
}

type Case = [what: string, args: () => string[], env: Record<string, string>, names: RegExp];

const CASES: Case[] = [
  // Flags
  ['account id too short', () => ['init', '--account-id', '12345'], {}, /--account-id: "12345" is not an AWS account id/],
  ['account id with letters', () => ['init', '--account-id', '11112222333a'], {}, /--account-id/],
  ['role name too long', () => ['init', '--role-name', 'r'.repeat(65)], {}, /--role-name: role names are 1 to 64 characters/],
  ['role name with a space', () => ['init', '--role-name', 'my role'], {}, /--role-name/],
  ['role name with a slash', () => ['init', '--role-name', 'a/b'], {}, /--role-name/],
  ['role path without slashes', () => ['init', '--role-path', 'rhacs'], {}, /--role-path/],
  ['region made up', () => ['init', '--region', 'moon-1'], {}, /--region: "moon-1" is not an AWS region/],
  ['region upper case', () => ['init', '--region', 'EU-WEST-1'], {}, /--region/],
  ['issuer over http', () => ['init', '--oidc-issuer', 'http://oidc.example.com'], {}, /--oidc-issuer: .*https/],
  ['issuer with a query', () => ['init', '--oidc-issuer', 'https://oidc.example.com/?x=1'], {}, /--oidc-issuer: .*query/],
  ['issuer with a fragment', () => ['init', '--oidc-issuer', 'https://oidc.example.com/#f'], {}, /--oidc-issuer: .*fragment/],
  ['issuer with a port', () => ['init', '--oidc-issuer', 'https://oidc.example.com:8443'], {}, /--oidc-issuer: .*port/],
  ['issuer not a URL', () => ['init', '--oidc-issuer', 'oidc.example.com'], {}, /--oidc-issuer: .*not a URL/],
  ['issuer in-cluster (OpenShift without STS)', () => ['plan', '--offline', '--provider', 'openshift', '--account-id', '111122223333', '--region', 'us-east-1', '--oidc-issuer', 'https://kubernetes.default.svc'], {}, /--oidc-issuer: "kubernetes\.default\.svc" is an in-cluster name: .*ccoctl aws create-identity-provider/],
  ['issuer a service name', () => ['init', '--oidc-issuer', 'https://oidc.stackrox.svc.cluster.local'], {}, /--oidc-issuer: "oidc\.stackrox\.svc\.cluster\.local" is an in-cluster name/],
  ['issuer a private address', () => ['init', '--oidc-issuer', 'https://10.12.0.7/id/1'], {}, /--oidc-issuer: "10\.12\.0\.7" is a private IP address/],
  ['issuer and region disagree', () => ['init', '--oidc-issuer', 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', '--region', 'us-east-1'], {}, /--region: "us-east-1" does not match/],
  ['namespace upper case', () => ['init', '--namespace', 'StackRox'], {}, /--namespace/],
  ['namespace too long', () => ['init', '--namespace', 'n'.repeat(64)], {}, /--namespace/],
  ['namespace with underscore', () => ['init', '--namespace', 'stack_rox'], {}, /--namespace/],
  ['cluster name with a dot', () => ['init', '--cluster-name', 'prod.eu'], {}, /--cluster-name/],
  ['provider unknown', () => ['init', '--provider', 'k3s'], {}, /--provider: "k3s" is not a provider/],
  ['output unknown', () => ['plan', '--output', 'yaml'], {}, /--output: "yaml" is not an output format/],
  ['ECR registry id short', () => ['init', '--ecr-registry-id', '1234'], {}, /--ecr-registry-id/],
  ['ECR region made up', () => ['init', '--ecr-region', 'xx'], {}, /--ecr-region/],
  ['ECR region in another partition', () => ['init', '--region', 'eu-west-1', '--ecr-region', 'cn-north-1'], {}, /--ecr-region: .*another partition/],
  ['ECR repository upper case', () => ['init', '--ecr-repository', 'Team/App'], {}, /--ecr-repository/],
  ['ECR repository double slash', () => ['init', '--ecr-repository', 'team//app'], {}, /--ecr-repository/],
  ['ECR "*" with other names', () => ['init', '--ecr-repository', '*', '--ecr-repository', 'app'], {}, /--ecr-repository: "\*" already means every repository/],
  ['boundary not an ARN', () => ['init', '--permissions-boundary', 'boundary'], {}, /--permissions-boundary/],
  ['boundary is a role ARN', () => ['init', '--permissions-boundary', 'arn:aws:iam::111122223333:role/x'], {}, /--permissions-boundary/],
  ['boundary in another partition', () => ['init', '--region', 'us-gov-west-1', '--permissions-boundary', 'arn:aws:iam::111122223333:policy/b'], {}, /--permissions-boundary: is in partition "aws"/],
  ['timeout not a duration', () => ['init', '--timeout', 'soon'], {}, /--timeout/],
  ['timeout zero', () => ['init', '--timeout', '0s'], {}, /--timeout/],
  ['role name with escape sequences (shown escaped)', () => ['init', '--role-name', '\x1b]0;PWNED\x07\x1b[2J'], {}, /--role-name: "\\u001b\]0;PWNED\\u0007\\u001b\[2J" has characters IAM does not allow/],
  ['role path with a wildcard', () => ['init', '--role-path', '/*/'], {}, /--role-path: "\/\*\/" is not usable as a role path/],
  ['issuer path a wildcard', () => ['init', '--oidc-issuer', 'https://oidc.example.com/*'], {}, /--oidc-issuer: .*"\*" is a wildcard/],
  ['issuer with a backslash', () => ['init', '--oidc-issuer', 'https://oidc.example.com\\id\\1'], {}, /--oidc-issuer: .*has a backslash/],
  ['issuer with a ".." segment', () => ['init', '--oidc-issuer', 'https://oidc.example.com/a/../b'], {}, /--oidc-issuer: .*"\.\." path segment/],
  ['attached policy in another partition', () => ['init', '--region', 'eu-west-1', '--attach-policy-arn', 'arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess'], {}, /--attach-policy-arn: "arn:aws-cn:iam::aws:policy\/AmazonS3ReadOnlyAccess" is in partition "aws-cn" but region eu-west-1 is in "aws"/],
  ['request timeout not a duration', () => ['plan', '--request-timeout', 'soon'], {}, /--request-timeout: "soon" is not a duration between 1s and 1h/],
  ['request timeout zero', () => ['init', '--request-timeout', '0s'], {}, /--request-timeout: "0s" is not a duration/],
  ['request timeout over an hour', () => ['verify', '--request-timeout', '2h'], {}, /--request-timeout: "2h" is not a duration between 1s and 1h/],
  ['kubeconfig that skips TLS verification', () => ['plan', '--kubeconfig', insecureKubeconfig()], {}, /--allow-insecure-skip-tls-verify: the cluster of context ".*" \(server https:\/\/127\.0\.0\.1:\d+\) sets insecure-skip-tls-verify: true in the kubeconfig/],
  ['quiet and verbose', () => ['init', '--quiet', '--verbose'], {}, /--quiet: cannot be combined with --verbose/],
  ['context with central-context', () => ['init', '--context', sb.clusters.eks!.context, '--central-context', sb.clusters.eks!.context], {}, /--context: cannot be combined/],
  ['sensor-context twice', () => ['init', '--sensor-context', sb.clusters.openshift!.context, '--sensor-context', sb.clusters.openshift!.context], {}, /--sensor-context: names .* more than once/],
  ['offline init without dry run', () => ['init', '--offline', '--provider', 'eks', '--account-id', '111122223333', '--oidc-issuer', 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC'], {}, /--offline: only plans/],
  ['offline without facts', () => ['plan', '--offline'], {}, /--provider: is required with --offline[\s\S]*--account-id[\s\S]*--oidc-issuer/],
  ['unknown flag', () => ['init', '--rolename', 'x'], {}, /unknown option '--rolename'/],
  ['flag without its value', () => ['init', '--role-name'], {}, /option '--role-name <name>' argument missing/],
  ['unexpected argument', () => ['init', 'now'], {}, /too many arguments|unknown command|excess/i],
  ['unknown command', () => ['install'], {}, /unknown command 'install'/],
  ['an option of other commands', () => ['plan', '--bucket', 'x'], {}, /unknown option '--bucket'\n--bucket is an option of init and issuer publish, not of plan\./],
  // Environment variables
  ['env: bad boolean', () => ['init'], { RHACS_STS_DELEGATED_SCANNING: 'sometimes' }, /RHACS_STS_DELEGATED_SCANNING: "sometimes" is not a boolean/],
  ['env: bad account id', () => ['init'], { RHACS_STS_ACCOUNT_ID: 'abc' }, /RHACS_STS_ACCOUNT_ID: "abc" is not an AWS account id/],
  ['env: bad region', () => ['init'], { RHACS_STS_REGION: 'nowhere' }, /RHACS_STS_REGION/],
  ['env: bad request timeout', () => ['plan'], { RHACS_STS_REQUEST_TIMEOUT: 'forever' }, /RHACS_STS_REQUEST_TIMEOUT: "forever" is not a duration/],
  ['env: bad boolean for insecure kubeconfigs', () => ['plan'], { RHACS_STS_ALLOW_INSECURE_SKIP_TLS_VERIFY: 'maybe' }, /RHACS_STS_ALLOW_INSECURE_SKIP_TLS_VERIFY: "maybe" is not a boolean/],
  // Config files
  ['config: missing file', () => ['init', '--config', join(dir, 'nope.yaml')], {}, /--config: cannot read .*no such file/],
  ['config: not YAML', () => ['init', '--config', file('broken.yaml', 'role-name: [unclosed\n')], {}, /--config: .* is not valid YAML or JSON/],
  ['config: a list, not a mapping', () => ['init', '--config', file('list.yaml', '- a\n- b\n')], {}, /--config: .* must hold a mapping/],
  ['config: unknown key', () => ['init', '--config', file('unknown.yaml', 'rolename: x\n')], {}, /unknown\.yaml: rolename: is not an option/],
  ['config: camelCase key', () => ['init', '--config', file('camel.yaml', 'roleName: x\n')], {}, /camel\.yaml: roleName: is not an option \(did you mean "role-name"\?\)/],
  ['config: bad value', () => ['init', '--config', file('value.yaml', 'account-id: "12"\n')], {}, /value\.yaml: account-id: "12" is not an AWS account id/],
  ['config: boolean as text', () => ['init', '--config', file('bool.yaml', 'delegated-scanning: "yes"\n')], {}, /bool\.yaml: delegated-scanning: must be true or false/],
  ['config: list of numbers', () => ['init', '--config', file('list-num.yaml', 'ecr-repository: [1, 2]\n')], {}, /list-num\.yaml: ecr-repository: must be a name or a list of names/],
  ['config: nested config', () => ['init', '--config', file('nested.yaml', 'config: other.yaml\n')], {}, /nested\.yaml: config: a config file cannot name another/],
  ['config: bad request timeout', () => ['init', '--config', file('rt.yaml', 'request-timeout: 3 days\n')], {}, /rt\.yaml: request-timeout: "3 days" is not a duration/],
  ['config: JSON with a bad region', () => ['init', '--config', file('c.json', '{"region": "mars-2"}')], {}, /c\.json: region: "mars-2" is not an AWS region/],
  // Saved plan files (init --plan)
  ['plan file: missing', () => ['init', '--plan', join(dir, 'none.json'), '--yes'], {}, /--plan: cannot read .*no such file/],
  ['plan file: not JSON', () => ['init', '--plan', file('p.txt', 'plan: yes'), '--yes'], {}, /--plan: .* is not JSON/],
  ['plan file: another planVersion', () => ['init', '--plan', spoiled('v2.json', (p) => (p.planVersion = 2)), '--yes'], {}, /--plan: .* has planVersion 2/],
  ['plan file: made offline', () => ['init', '--plan', spoiled('offline.json', (p) => (p.offline = true)), '--yes'], {}, /--plan: .* was made with --offline/],
  ['plan file: an init result', () => ['init', '--plan', spoiled('result.json', (p) => (p.applied = [])), '--yes'], {}, /--plan: .* is the result of an init run/],
  ['plan file: no inputs', () => ['init', '--plan', spoiled('noinputs.json', (p) => delete p.inputs), '--yes'], {}, /--plan: .* has no "inputs" section/],
  ['plan file: edited role name', () => ['init', '--plan', spoiled('role.json', (p) => (inputsOf(p).roleName = 'bad role')), '--yes'], {}, /--plan: .* inputs\.roleName: "bad role" has characters IAM does not allow/],
  ['plan file: edited namespace', () => ['init', '--plan', spoiled('ns.json', (p) => (inputsOf(p).clusters[0]!.namespace = 'Bad_NS')), '--yes'], {}, /--plan: .* inputs\.clusters\[0\]\.namespace/],
  ['plan file: region not a region', () => ['init', '--plan', spoiled('region.json', (p) => (p.region = 'evil.example.com/x?')), '--yes'], {}, /--plan: .* region: "evil\.example\.com\/x\?" is not an AWS region/],
  ['plan file: issuer on the metadata address', () => ['init', '--plan', spoiled('imds.json', (p) => (inputsOf(p).oidcIssuer = 'https://169.254.169.254/latest')), '--yes'], {}, /--plan: .* inputs\.oidcIssuer: "169\.254\.169\.254" is a private IP address/],
  ['plan file: provider azure', () => ['init', '--plan', spoiled('azure.json', (p) => (inputsOf(p).provider = 'azure')), '--yes'], {}, /--plan: .* inputs\.provider: "azure" is not a provider/],
  ['plan file: top-level provider azure', () => ['init', '--plan', spoiled('top-azure.json', (p) => (p.provider = 'azure')), '--yes'], {}, /--plan: .* provider: "azure" is not a provider rhacs-sts supports/],
  ['plan file: top-level partition and mechanism', () => ['init', '--plan', spoiled('top-partition.json', (p) => { p.partition = 'gcp'; p.mechanism = 'kiam'; }), '--yes'], {}, /invalid input \(2 problems\)[\s\S]*mechanism: "kiam" is not a mechanism[\s\S]*partition: "gcp" is not an AWS partition/],
  ['plan file: edited mechanism', () => ['init', '--plan', spoiled('mech.json', (p) => (inputsOf(p).mechanism = 'kiam')), '--yes'], {}, /--plan: .* inputs\.mechanism: "kiam" is not a mechanism/],
  ['plan file: edited attached policy', () => ['init', '--plan', spoiled('attach.json', (p) => (inputsOf(p).attachPolicyArns = ['ReadOnlyAccess'])), '--yes'], {}, /--plan: .* inputs\.attachPolicyArns: "ReadOnlyAccess"/],
  ['plan file: every problem at once', () => ['init', '--plan', spoiled('all.json', (p) => { p.region = 'moon-1'; inputsOf(p).provider = 'azure'; inputsOf(p).rolePath = '/*/'; }), '--yes'], {}, /invalid input \(3 problems\)[\s\S]*inputs\.rolePath[\s\S]*inputs\.provider[\s\S]*region: "moon-1"/],
  ['plan file with --dry-run', () => ['init', '--plan', spoiled('ok1.json', () => undefined), '--dry-run'], {}, /--plan: cannot be combined with --dry-run/],
];

describe('bad input catalogue (against the live sandbox)', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it('config: output json with a bad value → exit 2, the error as the one JSON document, nothing contacted', async () => {
    const a = await awsMark(sb);
    const k = kubeMark(sb, 'eks');
    const config = file('json-bad.yaml', 'output: json\naccount-id: "12"\nrole-name: "a b"\n');
    const r = await cli(['init', '--config', config]);
    expect(r.code, r.stderr).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { exitCode: number; problems: { source: string }[] } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.problems.map((p) => p.source)).toEqual([`${config}: account-id`, `${config}: role-name`]);
    expect(await awsRequests(sb, a)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k, {}, 100)).toEqual([]);
  });

  it.each(CASES)('%s → exit 2, names the fix, writes nothing', async (_what, args, env, names) => {
    const a = await awsMark(sb);
    const k = kubeMark(sb, 'eks');
    const r = await cli(args(), env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(names);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(r.stdout).toBe('');
    // Validation happens before any session is opened: not even a read reaches the sandbox.
    expect(await awsRequests(sb, a)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k, {}, 100)).toEqual([]);
  });
});

describe('input that only the cluster can check names the flag the user typed', () => {
  it('an unknown --central-context is reported as --central-context (exit 2)', async () => {
    const r = await cli(['plan', '--central-context', 'hub-nowhere', '--sensor-context', sb.clusters.eks!.context]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--central-context: "hub-nowhere" is not a context in the kubeconfig/);
    expect(r.stderr).not.toMatch(/ --context: /);
  });

  it('ARNs of another partition than the region detected from the cluster (no --region) → exit 2 naming each flag, nothing written', async () => {
    const ns = uniqueNamespace('partition');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const a = await awsMark(sb);
    const r = await cli(['plan', '--namespace', ns, '--role-name', 'rhacs-bad-partition',
      '--attach-policy-arn', 'arn:aws-cn:iam::aws:policy/ReadOnlyAccess',
      '--permissions-boundary', 'arn:aws-cn:iam::111122223333:policy/boundary']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--permissions-boundary: "arn:aws-cn:iam::111122223333:policy\/boundary" is in partition "aws-cn" but this run's account \d{12} \(region [a-z0-9-]+\) is in "aws"/);
    expect(r.stderr).toMatch(/--attach-policy-arn: "arn:aws-cn:iam::aws:policy\/ReadOnlyAccess" is in partition "aws-cn" but this run's account \d{12} \(region [a-z0-9-]+\) is in "aws"/);
    expect(r.stdout).not.toContain('Attach the managed policy');
    expect(await awsWrites(sb, a)).toEqual([]);
  });

  it('a namespace typo suggests the namespace where RHACS runs (exit 2, nothing written)', async () => {
    const ns = uniqueNamespace('typo');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const typo = ns.slice(0, 2) + ns.slice(3);
    const a = await awsMark(sb);
    const r = await cli(['plan', '--namespace', typo]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`no RHACS deployment (central or sensor) in namespace "${typo}"`);
    expect(r.stderr).toContain(`Did you mean --namespace ${ns}? RHACS runs there.`);
    expect(await awsWrites(sb, a)).toEqual([]);
  });
});
