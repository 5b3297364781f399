// The scripted flow through the built binary against the sandbox: without a terminal nothing waits
// for input; each answer detection cannot give is an input error (exit 2) naming the flag that
// supplies it, with nothing written; --output json, --quiet, --verbose; the config file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { createRestrictedUser, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
const STACK_TRACE = /^\s+at /m;

/** Runs the built binary like a CI job: no terminal, stdin an open pipe nobody writes to. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli(sb, 'eks', args, env);

async function marks() {
  return { aws: await awsMark(sb), eks: kubeMark(sb, 'eks') };
}

async function writesSince(m: { aws: number; eks: number }) {
  return {
    aws: (await awsWrites(sb, m.aws)).map((r) => r.action),
    kube: (await kubeRequests(sb, 'eks', m.eks, { writesOnly: true })).map((r) => `${r.verb} ${r.resource}/${r.name}`),
  };
}

/** Asserts an input error: exit 2, the flag named, no stack trace, nothing on stdout. */
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function expectInputError(r: Run, flag: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(`${flag}: `);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_TRACE);
  expect(r.stdout).toBe('');
}

let dir: string;
let iam: IAMClient;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-scripted-'));
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every missing answer is an input error naming its flag, and nothing is written', () => {
  it('--yes: a plan with changes is not applied without it', async () => {
    const ns = uniqueNamespace('sf-yes');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const m = await marks();
    const r = await cli(['init', '--namespace', ns, '--role-name', 'sf-yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--yes: is required to apply \d+ changes when not running at a terminal/);
    expect(r.stderr).toMatch(/hint: Review the plan with "rhacs-sts plan", then re-run with --yes\./);
    // The plan was shown, so the reader sees what --yes would do.
    expect(r.stdout).toMatch(/changes to apply/);
    expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
  });

  it('--namespace: RHACS runs in several namespaces', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    // The shared cluster has RHACS in many test namespaces but not in the default one.
    await expect(kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: 'stackrox' })).rejects.toThrow();
    const a = uniqueNamespace('sf-ns-a');
    const b = uniqueNamespace('sf-ns-b');
    await seedRhacs(kc, { namespace: a, method: 'manifests', components: ['central'] });
    await seedRhacs(kc, { namespace: b, method: 'manifests', components: ['sensor'] });
    const m = await marks();
    const r = await cli(['init', '--role-name', 'sf-ns', '--yes']);
    expectInputError(r, '--namespace', /RHACS runs in several namespaces \(.*; say which one with --namespace/);
    expect(r.stderr).toContain(`${a} (central)`);
    expect(r.stderr).toContain(`${b} (sensor)`);
    expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
  });

  describe('with a user that may not list nodes, on a cluster whose issuer is not an EKS issuer', () => {
    let kubeconfig: string;
    let ns: string;
    beforeAll(async () => {
      ns = uniqueNamespace('sf-restricted');
      await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
      const user = await createRestrictedUser(sb, 'eks', {
        name: `sf-reader-${ns}`,
        namespace: ns,
        rules: [
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
          { apiGroups: ['platform.stackrox.io'], resources: ['centrals', 'securedclusters'], verbs: ['get', 'list'] },
        ],
      });
      kubeconfig = user.kubeconfig;
    });
    const ISSUER = 'https://issuer.example.test/cluster';

    it('--provider: nothing says EKS or OpenShift', async () => {
      const m = await marks();
      const r = await cli(['init', '--kubeconfig', kubeconfig, '--namespace', ns, '--oidc-issuer', ISSUER, '--yes']);
      expectInputError(r, '--provider', /could not tell whether the cluster .* is EKS or OpenShift/);
      expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
    });

    it('--region: the cluster does not reveal its region', async () => {
      const m = await marks();
      const r = await cli(['init', '--kubeconfig', kubeconfig, '--namespace', ns, '--oidc-issuer', ISSUER, '--provider', 'eks', '--yes']);
      expectInputError(r, '--region', /could not be detected from the cluster/);
      expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
    });
  });

  it('--context: the kubeconfig selects no context', async () => {
    const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as Record<string, unknown>;
    delete kc['current-context'];
    const file = join(dir, 'no-current-context.yaml');
    writeFileSync(file, stringify(kc), { mode: 0o600 });
    const r = await cli(['init', '--kubeconfig', file, '--role-name', 'sf-ctx', '--yes']);
    expectInputError(r, '--context', new RegExp(`no current context is set in the kubeconfig; choose one of: ${escapeRe(sb.clusters.eks!.context)}, ${escapeRe(sb.clusters.openshift!.context)}`));
  });

  it('--sensor-context: the cluster that runs Central cannot be a secured cluster of the same run', async () => {
    const ctx = sb.clusters.openshift!.context;
    const r = await cli(['init', '--kubeconfig', sb.kubeconfig, '--central-context', ctx, '--sensor-context', ctx, '--yes']);
    expectInputError(r, '--sensor-context', /names the same context as --central-context/);
  });

  it('the same through environment variables names the variable (a list, comma-separated)', async () => {
    const ctx = sb.clusters.openshift!.context;
    const r = await cli(['init', '--yes'], { RHACS_STS_SENSOR_CONTEXT: `${ctx},${ctx}` });
    expectInputError(r, 'RHACS_STS_SENSOR_CONTEXT', /more than once/);
  });
});

describe('output for scripts', () => {
  it('--output json: one JSON document on stdout (the result, with what was applied); logs on stderr', async () => {
    const ns = uniqueNamespace('sf-json');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const r = await cli(['init', '--namespace', ns, '--role-name', 'sf-json', '--yes', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { planVersion: number; applied: { type: string; outcome: string }[]; inputs: { roleName: string } };
    expect(result.planVersion).toBe(1);
    expect(result.inputs.roleName).toBe('sf-json');
    expect(result.applied.filter((a) => a.outcome === 'done').map((a) => a.type)).toEqual(['oidc-provider', 'role', 'trust-policy', 'permissions-policy', 'service-account-annotation', 'restart']);
    expect(r.stderr).toMatch(/Detected EKS cluster/);
    // The same count as the plan's: the trust policy was written with the role, so it is done, not "already in place".
    expect(r.stderr).toMatch(/✓ Done: 6 changes applied \(4 in IAM, 2 in Kubernetes\)\./);
    expect(r.stderr).toMatch(/✓ Trust system:serviceaccount:[a-z0-9-]+:central .* \(set when the role was created\)/);
    expect(r.stderr).not.toMatch(/already in place/);
    expect(r.stderr).toMatch(/enable "Use container IAM role"/);
  });

  it('--quiet prints the result and nothing else but warnings', async () => {
    const ns = uniqueNamespace('sf-quiet');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const r = await cli(['init', '--namespace', ns, '--role-name', 'sf-quiet', '--yes', '--output', 'json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).applied.length).toBeGreaterThan(0);
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^warning: /);
  });

  it('--verbose logs every API call, never a credential', async () => {
    const ns = uniqueNamespace('sf-verbose');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const secret = 'canary-Secret-0123456789abcdef';
    const r = await cli(['plan', '--namespace', ns, '--role-name', 'sf-verbose', '--verbose'], { AWS_SECRET_ACCESS_KEY: secret, AWS_ACCESS_KEY_ID: 'AKIACANARY0000000001' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[debug\] .*GetCallerIdentity|\[debug\] .*sts/i);
    expect(r.stderr).toMatch(/\[debug\] kube/);
    for (const s of [secret, 'AKIACANARY0000000001', 'BEGIN', 'client-key-data', 'Authorization', 'Bearer']) expect(r.stderr).not.toContain(s);
  });
});

describe('config file', () => {
  it('supplies the answers; an environment variable beats it and a flag beats both', async () => {
    const ns = uniqueNamespace('sf-config');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const cfg = join(dir, 'rhacs-sts.yaml');
    writeFileSync(cfg, stringify({
      namespace: ns,
      'role-name': 'sf-config-file',
      'delegated-scanning': true,
      'ecr-repository': ['team-a/*', 'shared/base'],
      yes: true,
      output: 'json',
    }));

    // The file alone: a plan with its values.
    const planned = JSON.parse((await cli(['plan', '--config', cfg])).stdout) as { role: { name: string }; inputs: { delegatedScanning: boolean; ecr: { repositories: string[] } } };
    expect(planned.role.name).toBe('sf-config-file');
    expect(planned.inputs).toMatchObject({ delegatedScanning: true, ecr: { repositories: ['team-a/*', 'shared/base'] } });
    // The variable beats the file.
    expect(JSON.parse((await cli(['plan', '--config', cfg], { RHACS_STS_ROLE_NAME: 'sf-config-env' })).stdout).role.name).toBe('sf-config-env');

    // The flag beats both; yes and output come from the file.
    const r = await cli(['init', '--config', cfg, '--role-name', 'sf-config-flag'], { RHACS_STS_ROLE_NAME: 'sf-config-env' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).role.name).toBe('sf-config-flag');
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'sf-config-flag', PolicyName: 'rhacs-sts-ecr-read' }));
    expect(decodeURIComponent(policy.PolicyDocument!)).toContain('repository/team-a/*');
    const sensor = await kubeConfigFor(sb, 'eks').makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'sensor', namespace: ns });
    expect(sensor.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/role\/sf-config-flag$/);
  });

  it('a bad config file is an input error naming the file and key; nothing is contacted', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'roleName: x\ndelegated-scanning: maybe\n');
    const a = await awsMark(sb);
    const r = await cli(['init', '--config', cfg, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cfg}: roleName: is not an option (did you mean "role-name"?)`);
    expect(r.stderr).toContain(`${cfg}: delegated-scanning: must be true or false`);
    expect(await awsWrites(sb, a)).toEqual([]);
  });
});
