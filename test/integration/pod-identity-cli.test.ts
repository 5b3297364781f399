// EKS Pod Identity end to end through the built binary against the sandbox: init --mechanism
// pod-identity creates the role (trusted by pods.eks.amazonaws.com, no OIDC provider), one
// association per service account, and restarts the pods; verify proves it through EKS Auth (the
// gate) and ECR; a second init writes nothing; switching to IRSA and back converges and leaves no
// stray annotation or association; uninstall removes what init added; bad input is exit 2.
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { EKSClient, ListPodIdentityAssociationsCommand, CreatePodIdentityAssociationCommand, ListTagsForResourceCommand } from '@aws-sdk/client-eks';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { centralIntegrations } from '../sandbox/central/central-control.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../src/clouds/aws/policies.js';
import { cli as runCli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { removePodIdentityAgent, seedPodIdentityAgent, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, clusterInfo, gateDecisions, gateMark, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';
import { checksOf } from './verify-support.js';

const sb = useSandbox();
const cli = (args: string[]) => runCli(sb, 'eks', args);
const kc = kubeConfigFor(sb, 'eks');
const core = kc.makeApiClient(CoreV1Api);
const region = clusterInfo(sb, 'eks').region;
const admin = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let iam: IAMClient;
let eks: EKSClient;
beforeAll(() => {
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: admin });
  eks = new EKSClient({ region, endpoint: sb.awsEndpoint, credentials: admin });
});

async function associations(ns: string) {
  return (await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns }))).associations ?? [];
}

async function podEnv(ns: string, app: string): Promise<string[][]> {
  const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
  return pods.map((p) => (p.spec?.containers.find((c) => c.name === app)?.env ?? []).map((e) => e.name).filter((n) => n.startsWith('AWS_')).sort());
}

const roleArnOf = (name: string) => `arn:aws:iam::${sb.accountId}:role/${name}`;

describe('init --mechanism pod-identity', () => {
  it('creates the role and associations, restarts, verifies, is idempotent, switches to IRSA and back, and uninstalls cleanly', async () => {
    const ns = uniqueNamespace('podid-cli');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const role = 'rhacs-podid-e2e';
    const common = ['--namespace', ns, '--role-name', role, '--delegated-scanning', '--output', 'json'];

    // --- init on Pod Identity ---------------------------------------------------------------
    const init = await cli(['init', '--yes', '--mechanism', 'pod-identity', ...common]);
    expect(init.code, init.stderr).toBe(0);
    const out = JSON.parse(init.stdout);
    expect(out.mechanism).toBe('pod-identity');
    const done = out.applied.filter((r: { outcome: string }) => r.outcome === 'done').map((r: { type: string }) => r.type);
    expect(done).toEqual(['role', 'trust-policy', 'permissions-policy', 'pod-identity-association', 'pod-identity-association', 'restart', 'restart']);

    const trust = parsePolicyDocument((await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.AssumeRolePolicyDocument!);
    expect(trust.Statement).toEqual([
      {
        Sid: 'RhacsStsPodIdentity', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { StringEquals: { 'aws:SourceAccount': sb.accountId }, ArnLike: { 'aws:SourceArn': `arn:aws:eks:*:${sb.accountId}:cluster/*` } },
      },
    ]);
    expect((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).toEqual([]);
    const assocs = await associations(ns);
    expect(assocs.map((a) => a.serviceAccount).sort()).toEqual(['central', 'sensor']);
    const tags = await eks.send(new ListTagsForResourceCommand({ resourceArn: assocs[0]!.associationArn! }));
    expect(tags.tags).toMatchObject({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'eks' });
    for (const app of ['central', 'sensor']) {
      for (const env of await podEnv(ns, app)) {
        expect(env).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI');
        expect(env).toContain('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE');
        expect(env).not.toContain('AWS_ROLE_ARN');
      }
    }

    // --- verify: the exchange is real (EKS Auth at the gate, then ECR) ----------------------------
    const d = await gateMark(sb);
    const verified = await cli(['verify', '--namespace', ns, '--role-name', role, '--delegated-scanning', '--output', 'json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const rows = checksOf(verified.stdout);
    expect(rows.filter((r) => r.result === 'fail')).toEqual([]);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(['trust-pod-identity', `association::${ns}:central`, `association::${ns}:sensor`, `end-to-end::${ns}:central`]));
    expect(rows.find((r) => r.id === `end-to-end::${ns}:central`)!.detail).toMatch(/EKS Pod Identity gave system:serviceaccount:.*:central/);
    const decisions = await gateDecisions(sb, d);
    expect(decisions.filter((x) => x.action === 'eks-auth:AssumeRoleForPodIdentity' && x.allowed).map((x) => x.principal).sort())
      .toEqual([`system:serviceaccount:${ns}:central`, `system:serviceaccount:${ns}:sensor`]);

    // --- a second init changes nothing -------------------------------------------------------------
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const again = await cli(['init', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).mechanism, 'the set-up in place is kept without --mechanism').toBe('pod-identity');
    expect((await awsWrites(sb, a0)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k0, { writesOnly: true })).toEqual([]);

    // --- back to IRSA: annotation, OIDC provider, web-identity trust; the associations go ------------
    const irsa = await cli(['init', '--yes', '--mechanism', 'irsa', ...common]);
    expect(irsa.code, irsa.stderr).toBe(0);
    expect(await associations(ns)).toEqual([]);
    const sa = await core.readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(roleArnOf(role));
    const irsaTrust = parsePolicyDocument((await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.AssumeRolePolicyDocument!);
    expect(irsaTrust.Statement.map((s) => s.Action)).toEqual(['sts:AssumeRoleWithWebIdentity']);
    for (const env of await podEnv(ns, 'central')) {
      expect(env).toContain('AWS_ROLE_ARN');
      expect(env).not.toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI');
    }
    const irsaVerify = await cli(['verify', '--namespace', ns, '--role-name', role, '--delegated-scanning', '--output', 'json']);
    expect(irsaVerify.code, irsaVerify.stdout).toBe(0);

    // --- and Pod Identity again: no stray annotation ----------------------------------------------
    const back = await cli(['init', '--yes', '--mechanism', 'pod-identity', ...common]);
    expect(back.code, back.stderr).toBe(0);
    for (const name of ['central', 'sensor']) {
      const s = await core.readNamespacedServiceAccount({ name, namespace: ns });
      expect(s.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
    }
    expect((await associations(ns)).length).toBe(2);
    const backVerify = await cli(['verify', '--namespace', ns, '--role-name', role, '--delegated-scanning', '--output', 'json']);
    expect(backVerify.code, backVerify.stdout).toBe(0);

    // --- uninstall removes what it added ----------------------------------------------------------
    const un = await cli(['uninstall', '--yes', '--namespace', ns, '--role-name', role, '--output', 'json']);
    expect(un.code, un.stderr).toBe(0);
    expect(await associations(ns)).toEqual([]);
    await expect(iam.send(new GetRoleCommand({ RoleName: role }))).rejects.toThrow(/not found|cannot be found|NoSuchEntity/);
    expect((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).toEqual([]);
    for (const app of ['central', 'sensor']) {
      for (const env of await podEnv(ns, app)) expect(env.filter((n) => n.startsWith('AWS_CONTAINER_') || n === 'AWS_ROLE_ARN')).toEqual([]);
    }
  });

  it('operator install: from IRSA to Pod Identity the CR overlay goes with the annotation, and Central\'s own test of the integration passes through the agent', async () => {
    const ns = uniqueNamespace('podid-op');
    const seeded = await seedRhacs(kc, { namespace: ns, method: 'operator' });
    const role = `podid-op-${ns.slice(-6)}`;
    const args = ['--namespace', ns, '--role-name', role];
    const irsa = await cli(['init', '--yes', '--mechanism', 'irsa', ...args]);
    expect(irsa.code, irsa.stderr).toBe(0);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const crOverlays = async () => {
      const list = (await custom.listNamespacedCustomObject({ group: 'platform.stackrox.io', version: 'v1alpha1', namespace: ns, plural: 'centrals' })) as { items: { spec?: { overlays?: unknown[] } }[] };
      return list.items[0]?.spec?.overlays ?? [];
    };
    expect(JSON.stringify(await crOverlays())).toContain('eks\\\\.amazonaws\\\\.com/role-arn');

    const d = await gateMark(sb);
    const r = await cli(['init', '--yes', '--mechanism', 'pod-identity', '--configure-integration', '--use-generated-admin-password', ...args]);
    expect(r.code, r.stderr).toBe(0);
    // Central's test ran in the new pod, with credentials from the agent (EKS Auth at the gate).
    expect((await gateDecisions(sb, d)).filter((x) => x.action === 'eks-auth:AssumeRoleForPodIdentity' && x.allowed).map((x) => x.principal)).toContain(`system:serviceaccount:${ns}:central`);
    expect(await crOverlays()).toEqual([]);
    const sa = await core.readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
    const [i] = await centralIntegrations(sb, 'eks', ns);
    expect(i).toMatchObject({ type: 'ecr', ecr: { useIam: true } });

    const v = await cli(['verify', ...args, '--output', 'json'], );
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const u = await runCli(sb, 'eks', ['uninstall', '--yes', ...args], { ROX_ADMIN_PASSWORD: seeded.adminPassword! });
    expect(u.code, u.stderr).toBe(0);
    expect(await associations(ns)).toEqual([]);
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);
  });

  it('refuses an association someone else made unless adopted, and --dry-run writes nothing', async () => {
    const ns = uniqueNamespace('podid-foreign');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const foreign = roleArnOf('someone-elses');
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'central', roleArn: foreign }));
    const common = ['--namespace', ns, '--role-name', 'rhacs-podid-foreign', '--mechanism', 'pod-identity', '--output', 'json'];

    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const dry = await cli(['init', '--dry-run', ...common]);
    // A plan with a blocker exits 1, as the README's table says.
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout).blockers.map((b: { message: string }) => b.message).join()).toMatch(/already exists .* not created by rhacs-sts/);
    expect((await awsWrites(sb, a0)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k0, { writesOnly: true })).toEqual([]);

    const refused = await cli(['init', '--yes', ...common]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--adopt-association/);
    expect((await associations(ns))[0]).toMatchObject({ serviceAccount: 'central' });
    expect((await iam.send(new GetRoleCommand({ RoleName: 'rhacs-podid-foreign' })).catch(() => null))).toBeNull();

    const adopted = await cli(['init', '--yes', '--adopt-association', ...common]);
    expect(adopted.code, adopted.stderr).toBe(0);
    const desc = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns }));
    expect(desc.associations).toHaveLength(1);
    const un = await cli(['uninstall', '--yes', '--namespace', ns, '--role-name', 'rhacs-podid-foreign']);
    expect(un.code, un.stderr).toBe(0);
    expect(await associations(ns)).toEqual([]);
  });

  it('bad input is exit 2 naming --mechanism: an unknown value, OpenShift, no agent, RHACS before 4.4', async () => {
    const bad = await cli(['plan', '--mechanism', 'magic']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mechanism/);

    const os = await runCli(sb, 'openshift', ['plan', '--provider', 'openshift', '--mechanism', 'pod-identity']);
    expect(os.code).toBe(2);
    expect(os.stderr).toMatch(/--mechanism.*EKS only/);

    const old = uniqueNamespace('podid-old');
    await seedRhacs(kc, { namespace: old, method: 'manifests', imageTag: '4.3.8' });
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const tooOld = await cli(['init', '--yes', '--mechanism', 'pod-identity', '--namespace', old]);
    expect(tooOld.code).toBe(2);
    expect(tooOld.stderr).toMatch(/--mechanism.*RHACS 4\.4/);
    expect((await awsWrites(sb, a0)).map((r) => r.action)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k0, { writesOnly: true })).toEqual([]);

    await removePodIdentityAgent(kc);
    try {
      const ns = uniqueNamespace('podid-noagent');
      await seedRhacs(kc, { namespace: ns, method: 'manifests' });
      const noAgent = await cli(['init', '--yes', '--mechanism', 'pod-identity', '--namespace', ns]);
      expect(noAgent.code).toBe(2);
      expect(noAgent.stderr).toMatch(/Pod Identity Agent/);
    } finally {
      await seedPodIdentityAgent(kc, { region, nodes: 2 });
    }
  });
});
