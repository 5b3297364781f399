// `rhacs-sts uninstall` end to end through the built binary against the sandbox: after init it
// returns the AWS account and the cluster to their prior state (snapshots), a second run changes
// nothing, --dry-run and a refused confirmation write nothing, untagged resources and an OIDC
// provider that another role still trusts are left alone, and --keep-oidc-provider keeps it.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  ListOpenIDConnectProvidersCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CoreV1Api } from '@kubernetes/client-node';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests, resetAws } from '../sandbox/observe.js';
import { awsSnapshot, cli, iamClient, kubeSnapshot, type Cluster } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });
beforeEach(() => resetAws(sb));

const providerArn = (c: Cluster) => `arn:aws:iam::${sb.accountId}:oidc-provider/${sb.clusters[c]!.issuer.replace(/^https:\/\//, '')}`;

async function writesSince(cluster: Cluster, aws: number, kube: number) {
  return {
    aws: (await awsWrites(sb, aws)).map((r) => r.action),
    kube: (await kubeRequests(sb, cluster, kube, { writesOnly: true })).map((r) => `${r.verb} ${r.resource}/${r.name}`),
  };
}

async function providerExists(c: Cluster): Promise<boolean> {
  const list = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  return list.some((p) => p.Arn === providerArn(c));
}

async function roleExists(name: string): Promise<boolean> {
  return iam.send(new GetRoleCommand({ RoleName: name })).then(() => true, () => false);
}

describe('uninstall after init restores the prior state', () => {
  it('EKS (plain manifests, delegated scanning): account and cluster as before; a second run changes nothing', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('u-eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const common = ['--namespace', ns, '--role-name', 'u-eks'];
    const awsBefore = await awsSnapshot(iam);
    const kubeBefore = await kubeSnapshot(kc, ns);

    const init = await cli(sb, 'eks', ['init', '--yes', '--delegated-scanning', ...common]);
    expect(init.code, init.stderr).toBe(0);
    expect(await awsSnapshot(iam)).not.toEqual(awsBefore);
    expect(await kubeSnapshot(kc, ns)).not.toEqual(kubeBefore);

    const r = await cli(sb, 'eks', ['uninstall', '--yes', ...common]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Uninstall plan for EKS/m);
    expect(r.stdout).toMatch(/- delete +IAM role +arn:aws:iam::\d+:role\/u-eks/);
    expect(r.stdout).toMatch(/- delete +IAM OIDC provider/);
    // The service account stays; only our annotation goes.
    expect(r.stdout).toMatch(/- remove the annotation +ServiceAccount +\S+\/serviceaccount\/sensor/);
    expect(r.stdout).not.toMatch(/- delete +ServiceAccount/);
    expect(r.stderr).toMatch(/✓ Done: \d+ changes applied\./);
    expect(r.stderr).toMatch(/rollout .*central: rolled out/);

    expect(await awsSnapshot(iam)).toEqual(awsBefore);
    expect(await kubeSnapshot(kc, ns)).toEqual(kubeBefore);

    const a1 = await awsMark(sb);
    const k1 = kubeMark(sb, 'eks');
    const again = await cli(sb, 'eks', ['uninstall', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change: nothing of ours is left to remove\./);
    expect(await writesSince('eks', a1, k1)).toEqual({ aws: [], kube: [] });
  });

  it('OpenShift (operator install): env vars and CR overlays removed, account and cluster as before', async () => {
    const kc = kubeConfigFor(sb, 'openshift');
    const ns = uniqueNamespace('u-ocp');
    await seedRhacs(kc, { namespace: ns, method: 'operator', openshift: true });
    const common = ['--namespace', ns, '--role-name', 'u-ocp'];
    const awsBefore = await awsSnapshot(iam);
    const kubeBefore = await kubeSnapshot(kc, ns);

    expect((await cli(sb, 'openshift', ['init', '--yes', ...common])).code).toBe(0);
    const r = await cli(sb, 'openshift', ['uninstall', '--yes', '--output', 'json', ...common]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.command).toBe('uninstall');
    expect(doc.applied.filter((x: { outcome: string }) => x.outcome === 'done').map((x: { type: string }) => x.type)).toEqual([
      'operator-overlay', 'deployment-env', 'restart', 'permissions-policy', 'role', 'oidc-provider',
    ]);
    // The planned changes and the ones reported done are the same count.
    expect(doc.applied.filter((x: { outcome: string }) => x.outcome === 'done').length).toBe(doc.actions.filter((x: { status: string }) => x.status !== 'unchanged').length);
    expect(await awsSnapshot(iam)).toEqual(awsBefore);
    expect(await kubeSnapshot(kc, ns)).toEqual(kubeBefore);

    const a1 = await awsMark(sb);
    const k1 = kubeMark(sb, 'openshift');
    const again = await cli(sb, 'openshift', ['uninstall', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change: nothing of ours is left to remove\./);
    expect(await writesSince('openshift', a1, k1)).toEqual({ aws: [], kube: [] });
  });
});

describe('uninstall writes nothing until told to', () => {
  it('--dry-run shows the removal plan and writes nothing; without --yes and a terminal it refuses, naming --yes', async () => {
    const ns = uniqueNamespace('u-dry');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const common = ['--namespace', ns, '--role-name', 'u-dry'];
    expect((await cli(sb, 'eks', ['init', '--yes', ...common])).code).toBe(0);

    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const dry = await cli(sb, 'eks', ['uninstall', '--dry-run', ...common]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Actions \(\d+ to update, 1 annotation to remove, \d+ to delete, \d+ unchanged\):/);
    expect(dry.stdout).toMatch(/- delete +IAM permissions .*rhacs-sts-ecr-read/);
    expect(dry.stdout).toMatch(/\d+ changes to apply\./);
    // Without --role-name: the role the cluster points at.
    const inferred = await cli(sb, 'eks', ['uninstall', '--dry-run', '--namespace', ns]);
    expect(inferred.code, inferred.stderr).toBe(0);
    expect(inferred.stderr).toMatch(/No role named rhacs-sts-eks; the cluster points at arn:aws:iam::\d+:role\/u-dry, so that is the role uninstall looks at/);
    expect(inferred.stdout).toMatch(/- delete +IAM role +arn:aws:iam::\d+:role\/u-dry/);
    const noYes = await cli(sb, 'eks', ['uninstall', ...common]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes: is required to apply \d+ changes when not running at a terminal/);
    expect(await writesSince('eks', a0, k0)).toEqual({ aws: [], kube: [] });
    expect(await roleExists('u-dry')).toBe(true);
  });
});

describe('uninstall leaves alone what is not only ours', () => {
  it('keeps the OIDC provider while another role trusts it, and with --keep-oidc-provider; deletes it when the last user is gone', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const nsA = uniqueNamespace('u-share-a');
    const nsB = uniqueNamespace('u-share-b');
    await seedRhacs(kc, { namespace: nsA, method: 'manifests', components: ['central'] });
    await seedRhacs(kc, { namespace: nsB, method: 'manifests', components: ['central'] });
    expect((await cli(sb, 'eks', ['init', '--yes', '--namespace', nsA, '--role-name', 'u-share-a'])).code).toBe(0);
    expect((await cli(sb, 'eks', ['init', '--yes', '--namespace', nsB, '--role-name', 'u-share-b'])).code).toBe(0);

    const a = await cli(sb, 'eks', ['uninstall', '--yes', '--namespace', nsA, '--role-name', 'u-share-a']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/unchanged +IAM OIDC provider .*\n +Keep the OIDC provider for https:\/\/\S+: still trusted by u-share-b/);
    expect(await roleExists('u-share-a')).toBe(false);
    expect(await roleExists('u-share-b')).toBe(true);
    expect(await providerExists('eks')).toBe(true);

    const b = await cli(sb, 'eks', ['uninstall', '--yes', '--keep-oidc-provider', '--namespace', nsB, '--role-name', 'u-share-b']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/Keep the OIDC provider for \S+: kept \(--keep-oidc-provider\)/);
    expect(await roleExists('u-share-b')).toBe(false);
    expect(await providerExists('eks')).toBe(true);

    // Nothing trusts it any more: a plain uninstall removes what is left.
    const last = await cli(sb, 'eks', ['uninstall', '--yes', '--namespace', nsB, '--role-name', 'u-share-b']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toMatch(/- delete +IAM OIDC provider/);
    expect(await providerExists('eks')).toBe(false);
  });

  it('never deletes an untagged role or provider, nor the cluster settings that point at an untagged role', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    // A provider someone else created (no tags), used by init but never changed by it.
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: sb.clusters.eks!.issuer, ClientIDList: ['sts.amazonaws.com'] }));
    const ns = uniqueNamespace('u-untagged');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    expect((await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'u-tagged'])).code).toBe(0);
    const r = await cli(sb, 'eks', ['uninstall', '--yes', '--namespace', ns, '--role-name', 'u-tagged']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Keep the OIDC provider for \S+: not created by rhacs-sts/);
    expect(await roleExists('u-tagged')).toBe(false);
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn('eks') }));
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);

    // A role without our tag, and a service account someone pointed at it by hand.
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn('eks') }, Action: 'sts:AssumeRoleWithWebIdentity' }] };
    await iam.send(new CreateRoleCommand({ RoleName: 'u-theirs', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const theirs = `arn:aws:iam::${sb.accountId}:role/u-theirs`;
    await kc.makeApiClient(CoreV1Api).patchNamespacedServiceAccount(
      { name: 'central', namespace: ns, body: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': theirs } } } }, mergePatch());
    const before = await awsSnapshot(iam);
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const u = await cli(sb, 'eks', ['uninstall', '--yes', '--namespace', ns, '--role-name', 'u-theirs']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/The role arn:aws:iam::\d+:role\/u-theirs was not created by rhacs-sts \(no rhacs-sts\/managed tag\); it and the cluster settings that point at it are left alone\./);
    expect(u.stdout).toMatch(/Nothing to change/);
    expect(await writesSince('eks', a0, k0)).toEqual({ aws: [], kube: [] });
    expect(await awsSnapshot(iam)).toEqual(before);
    const sa = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(theirs);
  });
});
