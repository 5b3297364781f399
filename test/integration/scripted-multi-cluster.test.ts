// Central and Sensor in different clusters, through the built binary with the sandbox's combined
// kubeconfig (an EKS-style ARN context and an `oc login`-style one): each cluster is detected on its own, one role trusts
// both issuers (one statement each), each cluster gets only its component's wiring, and a plan
// saved for both clusters applies with --plan.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, ...sb.awsEnv, KUBECONFIG: sb.kubeconfig, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('RHACS_STS_')) delete env[k];
  return new Promise((resolve) => {
    execFile('bin/rhacs-sts', args, { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const E = sb.clusters.eks!.context;
const O = sb.clusters.openshift!.context;
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const hostPath = (issuer: string) => issuer.replace(/^https:\/\//, '');

let dir: string;
let iam: IAMClient;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-multi-'));
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Central only in the EKS cluster, Sensor only in the OpenShift cluster, in the same namespace name. */
async function seedSplit(prefix: string): Promise<string> {
  const ns = uniqueNamespace(prefix);
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
  await seedRhacs(kubeConfigFor(sb, 'openshift'), { namespace: ns, method: 'manifests', components: ['sensor'], openshift: true });
  return ns;
}

describe('--central-context and --sensor-context', () => {
  it('one role trusts both clusters\' issuers, one statement each; each cluster gets its component', async () => {
    const ns = await seedSplit('mc-trust');
    const eks = sb.clusters.eks!;
    const ocp = sb.clusters.openshift!;
    const args = ['--central-context', E, '--sensor-context', O, '--namespace', ns, '--role-name', 'mc-trust'];

    const plan = await cli(['plan', ...args]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(new RegExp(`Detected EKS cluster for Central \\(context ${re(E)}\\)`));
    expect(plan.stderr).toMatch(new RegExp(`Detected OpenShift cluster for Sensor \\(context ${re(O)}\\)`));

    const r = await cli(['init', ...args, '--yes', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { oidcProviders: { url: string; clientIds: string[] }[]; kubernetes: { context: string; name: string }[] };
    expect(result.oidcProviders).toEqual([
      expect.objectContaining({ url: eks.issuer, clientIds: ['sts.amazonaws.com'] }),
      expect.objectContaining({ url: ocp.issuer, clientIds: ['openshift'] }),
    ]);
    expect(result.kubernetes.map((k) => `${k.context}/${k.name}`)).toEqual([`${E}/central`, `${O}/sensor`]);

    const providers = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList!.map((p) => p.Arn);
    expect(providers).toEqual(expect.arrayContaining([
      `arn:aws:iam::${sb.accountId}:oidc-provider/${hostPath(eks.issuer)}`,
      `arn:aws:iam::${sb.accountId}:oidc-provider/${hostPath(ocp.issuer)}`,
    ]));
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'mc-trust' }))).Role!;
    const trust = parsePolicyDocument(decodeURIComponent(role.AssumeRolePolicyDocument!)) as PolicyDocument;
    expect(trust.Statement).toHaveLength(2);
    const byProvider = Object.fromEntries(trust.Statement.map((s) => [(s.Principal as { Federated: string }).Federated, s.Condition]));
    expect(byProvider[`arn:aws:iam::${sb.accountId}:oidc-provider/${hostPath(eks.issuer)}`]).toEqual({
      StringEquals: { [`${hostPath(eks.issuer)}:sub`]: [`system:serviceaccount:${ns}:central`], [`${hostPath(eks.issuer)}:aud`]: 'sts.amazonaws.com' },
    });
    expect(byProvider[`arn:aws:iam::${sb.accountId}:oidc-provider/${hostPath(ocp.issuer)}`]).toEqual({
      StringEquals: { [`${hostPath(ocp.issuer)}:sub`]: [`system:serviceaccount:${ns}:sensor`], [`${hostPath(ocp.issuer)}:aud`]: 'openshift' },
    });

    // EKS: Central's service account is annotated. OpenShift: Sensor's deployment has the env.
    const central = await kubeConfigFor(sb, 'eks').makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(central.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(role.Arn);
    const sensor = await kubeConfigFor(sb, 'openshift').makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'sensor', namespace: ns });
    expect(sensor.spec!.template.spec!.containers.find((c) => c.name === 'sensor')!.env).toEqual(expect.arrayContaining([{ name: 'AWS_ROLE_ARN', value: role.Arn }]));

    // A re-run changes nothing in either cluster.
    const a = await awsMark(sb);
    const k = { eks: kubeMark(sb, 'eks'), openshift: kubeMark(sb, 'openshift') };
    const again = await cli(['init', ...args, '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change/);
    expect(await awsWrites(sb, a)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k.eks, { writesOnly: true })).toEqual([]);
    expect(await kubeRequests(sb, 'openshift', k.openshift, { writesOnly: true })).toEqual([]);
  });

  it('a plan saved for both clusters applies with --plan alone', async () => {
    const ns = await seedSplit('mc-plan');
    const saved = await cli(['plan', '--central-context', E, '--sensor-context', O, '--namespace', ns, '--role-name', 'mc-plan', '--output', 'json']);
    expect(saved.code, saved.stderr).toBe(0);
    const file = join(dir, 'multi.json');
    writeFileSync(file, saved.stdout);
    expect(JSON.parse(saved.stdout).inputs.clusters.map((c: { context: string; role: string }) => `${c.context}:${c.role}`)).toEqual([`${E}:central`, `${O}:sensor`]);

    const r = await cli(['init', '--plan', file, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const trust = parsePolicyDocument(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'mc-plan' }))).Role!.AssumeRolePolicyDocument!)) as PolicyDocument;
    expect(trust.Statement).toHaveLength(2);
  });

  it('names the flag whose cluster does not run the component it should', async () => {
    const ns = await seedSplit('mc-swap');
    const r = await cli(['init', '--central-context', O, '--sensor-context', E, '--namespace', ns, '--role-name', 'mc-swap', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--central-context: names context "${re(O)}", where Central does not run in namespace .* \\(found: sensor\\)`));
  });
});
