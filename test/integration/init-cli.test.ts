// `rhacs-sts init` end to end through the built binary against the sandbox: the live plan matches
// the offline one, init applies exactly that in the durable place, a re-run and a dry run write
// nothing (counted at moto's proxy and in the API server's audit log).
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../src/clouds/aws/policies.js';
import { cli as runCli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests, resetAws } from '../sandbox/observe.js';

const sb = useSandbox();

const cli = (cluster: 'eks' | 'openshift', args: string[]) => runCli(sb, cluster, args);

let iam: IAMClient;
beforeAll(() => {
  iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
beforeEach(() => resetAws(sb));

async function writesSince(cluster: 'eks' | 'openshift', aws: number, kube: number) {
  return {
    aws: (await awsWrites(sb, aws)).map((r) => r.action),
    kube: (await kubeRequests(sb, cluster, kube, { writesOnly: true })).map((r) => `${r.verb} ${r.resource}/${r.name}`),
  };
}

describe('init on EKS (plain manifests, delegated scanning)', () => {
  it('matches the offline plan, applies it, and a re-run changes nothing', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('cli-eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const common = ['--namespace', ns, '--role-name', 'rhacs-e2e-eks', '--delegated-scanning', '--output', 'json'];

    // Dry run: reads only.
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const planned = await cli('eks', ['plan', ...common]);
    expect(planned.stderr).not.toMatch(/error/);
    expect(planned.code).toBe(0);
    expect(await writesSince('eks', a0, k0)).toEqual({ aws: [], kube: [] });
    const live = JSON.parse(planned.stdout);

    const offline = JSON.parse((await cli('eks', ['plan', '--offline', '--provider', 'eks', '--account-id', sb.accountId,
      '--oidc-issuer', sb.clusters.eks!.issuer, ...common])).stdout);
    expect(live.role.trustPolicy).toEqual(offline.role.trustPolicy);
    expect(live.role.permissionsPolicy).toEqual(offline.role.permissionsPolicy);
    expect(live.oidcProvider).toEqual(offline.oidcProvider);
    expect(live.kubernetes).toEqual(offline.kubernetes);
    expect(live.actions.map((x: { status: string }) => x.status)).toEqual(offline.actions.map((x: { status: string }) => x.status));

    // Apply.
    const applied = await cli('eks', ['init', '--yes', ...common]);
    expect(applied.code, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result.applied.filter((r: { outcome: string }) => r.outcome === 'done').map((r: { type: string }) => r.type)).toEqual([
      'oidc-provider', 'role', 'trust-policy', 'permissions-policy', 'service-account-annotation', 'restart', 'service-account-annotation', 'restart',
    ]);
    // Every planned change is reported done: the counts of the plan and of the result agree.
    expect(result.applied.filter((r: { outcome: string }) => r.outcome === 'done').length).toBe(live.actions.filter((x: { status: string }) => x.status !== 'unchanged').length);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'rhacs-e2e-eks' }))).Role!;
    expect(parsePolicyDocument(role.AssumeRolePolicyDocument!)).toEqual(live.role.trustPolicy);
    const core = kc.makeApiClient(CoreV1Api);
    for (const sa of ['central', 'sensor']) {
      const obj = await core.readNamespacedServiceAccount({ name: sa, namespace: ns });
      expect(obj.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(role.Arn);
      // The fixture's unrelated annotation survives.
      expect(Object.keys(obj.metadata?.annotations ?? {}).length).toBeGreaterThan(1);
    }
    const apps = kc.makeApiClient(AppsV1Api);
    const central = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    expect(central.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Re-run: everything unchanged, zero writes.
    const a1 = await awsMark(sb);
    const k1 = kubeMark(sb, 'eks');
    const again = await cli('eks', ['init', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).actions.every((x: { status: string }) => x.status === 'unchanged')).toBe(true);
    expect(await writesSince('eks', a1, k1)).toEqual({ aws: [], kube: [] });
  });

  it('without a terminal and without --yes, applies nothing and names --yes', async () => {
    const ns = uniqueNamespace('cli-noyes');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const r = await cli('eks', ['init', '--namespace', ns, '--role-name', 'rhacs-e2e-noyes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes: is required to apply \d+ changes when not running at a terminal/);
    expect(await writesSince('eks', a0, k0)).toEqual({ aws: [], kube: [] });
  });
});

describe('init on OpenShift (operator install)', () => {
  it('sets the env vars live and durably in the CR overlays, waits for the rollout, and a re-run changes nothing', async () => {
    const kc = kubeConfigFor(sb, 'openshift');
    const ns = uniqueNamespace('cli-ocp');
    await seedRhacs(kc, { namespace: ns, method: 'operator', openshift: true });
    const common = ['--namespace', ns, '--role-name', 'rhacs-e2e-ocp', '--cluster-name', 'ocp'];

    const r = await cli('openshift', ['init', '--yes', ...common]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Detected OpenShift cluster/);
    expect(r.stderr).toMatch(/installed by operator/);
    expect(r.stderr).toMatch(/rolled out/);
    const arn = `arn:aws:iam::${sb.accountId}:role/rhacs-e2e-ocp`;

    const apps = kc.makeApiClient(AppsV1Api);
    const central = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    const env = central.spec!.template.spec!.containers.find((c) => c.name === 'central')!.env!;
    expect(env).toEqual(expect.arrayContaining([
      { name: 'AWS_ROLE_ARN', value: arn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/openshift/serviceaccount/token' },
    ]));
    expect(env.length).toBeGreaterThan(2); // the fixture's own env vars are kept

    const custom = kc.makeApiClient(CustomObjectsApi);
    const cr = (await custom.listNamespacedCustomObject({ group: 'platform.stackrox.io', version: 'v1alpha1', namespace: ns, plural: 'centrals' })) as { items: { spec: { overlays?: { kind: string; name: string; patches: { value: string }[] }[] } }[] };
    const overlay = cr.items[0]!.spec.overlays!.find((o) => o.kind === 'Deployment' && o.name === 'central')!;
    expect(overlay.patches.map((p) => p.value).join('\n')).toContain(arn);

    const a1 = await awsMark(sb);
    const k1 = kubeMark(sb, 'openshift');
    const again = await cli('openshift', ['init', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change: everything is in place\./);
    expect(await writesSince('openshift', a1, k1)).toEqual({ aws: [], kube: [] });
  });
});
