// Restarts tell the truth, through the built binary against the sandbox's real controllers: on EKS a
// restart is planned exactly while a running pod lacks the role (the IRSA webhook stand-in injects
// it at pod creation), never because Helm touched the service account; on OpenShift --no-restart
// rolls no pods (Helm: the values wait for "helm upgrade"; operator: refused); the env and a missing
// token volume are one patch, one rollout; Central's Recreate strategy is called an outage.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace, waitForRollout } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
const cli = (cluster: 'eks' | 'openshift', args: string[]) => runCli(sb, cluster, args);
const ACCOUNT = sb.accountId;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-restarts-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kubeWrites(cluster: 'eks' | 'openshift', since: number, namespace: string): Promise<string[]> {
  return (await kubeRequests(sb, cluster, since, { namespace, writesOnly: true, user: 'sandbox-admin' })).map((r) => `${r.verb} ${r.resource}/${r.name}`);
}

async function replicaSets(kc: KubeConfig, namespace: string, app: string): Promise<number> {
  return (await kc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace, labelSelector: `app=${app}` })).items.length;
}

/** AWS_ROLE_ARN of the running (not terminating) pods of a component. */
async function podRoles(kc: KubeConfig, namespace: string, app: string): Promise<(string | undefined)[]> {
  const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
  return pods.map((p) => p.spec!.containers.find((c) => c.name === app)!.env?.find((e) => e.name === 'AWS_ROLE_ARN')?.value);
}

function restartOf(json: string): { status: string; summary: string; deferred?: boolean } {
  return JSON.parse(json).actions.find((a: { type: string; id: string }) => a.type === 'restart' && a.id.endsWith(':central'));
}

describe('EKS: a restart is needed exactly while a running pod lacks the role', () => {
  it('--no-restart leaves the old pods without it; plan says so until a restart gives it to them', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('rs-eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const common = ['--namespace', ns, '--role-name', 'rs-eks'];
    const rs0 = await replicaSets(kc, ns, 'central');

    const first = await cli('eks', ['init', '--yes', '--no-restart', ...common]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`kubectl -n ${ns} rollout restart deployment/central (Recreate strategy: a short outage)`);
    expect(await replicaSets(kc, ns, 'central')).toBe(rs0);
    expect(await podRoles(kc, ns, 'central')).toEqual([undefined]);

    // The annotation is in place, the pods lack the role: the restart is still owed.
    const pending = await cli('eks', ['plan', '--output', 'json', ...common]);
    expect(restartOf(pending.stdout)).toMatchObject({ status: 'update' });

    const second = await cli('eks', ['init', '--yes', ...common]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('central restarts with the Recreate strategy: a short outage.');
    const arn = `arn:aws:iam::${ACCOUNT}:role/rs-eks`;
    expect(await podRoles(kc, ns, 'central')).toEqual([arn]);

    const done = await cli('eks', ['plan', '--output', 'json', ...common]);
    expect(restartOf(done.stdout)).toMatchObject({ status: 'unchanged', summary: 'No restart needed for central' });
  });

  it('Helm touching the service account (its own field manager) after the pods got the role plans no restart', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('rs-helm-touch');
    await seedRhacs(kc, { namespace: ns, method: 'helm', components: ['central'] });
    const arn = `arn:aws:iam::${ACCOUNT}:role/rs-helm-touch`;
    const core = kc.makeApiClient(CoreV1Api);
    // "helm upgrade" with the values rhacs-sts prints: Helm's field manager owns the annotation.
    await core.patchNamespacedServiceAccount({ name: 'central', namespace: ns, fieldManager: 'helm', body: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': arn } } } }, mergePatch());
    // Pods created after it (a rollout) carry the role.
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment(
      { name: 'central', namespace: ns, fieldManager: 'kubectl-rollout', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
      mergePatch(),
    );
    await waitForRollout(kc, ns, 'central');
    expect(await podRoles(kc, ns, 'central')).toEqual([arn]);
    // A later Helm upgrade changes another field of the service account: Helm's managedFields entry,
    // which owns the annotation too, gets a newer time than the restart.
    await sleep(1100);
    await core.patchNamespacedServiceAccount({ name: 'central', namespace: ns, fieldManager: 'helm', body: { metadata: { labels: { 'helm.sh/chart': 'stackrox-central-services-400.7.3' } } } }, mergePatch());
    const sa = await core.readNamespacedServiceAccount({ name: 'central', namespace: ns });
    const helmEntry = sa.metadata!.managedFields!.find((m) => m.manager === 'helm')!;
    expect(JSON.stringify(helmEntry.fieldsV1)).toContain('f:eks.amazonaws.com/role-arn');

    const common = ['--namespace', ns, '--role-name', 'rs-helm-touch'];
    const planned = await cli('eks', ['plan', '--output', 'json', ...common]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(restartOf(planned.stdout)).toMatchObject({ status: 'unchanged', summary: 'No restart needed for central' });
    const k0 = kubeMark(sb, 'eks');
    const applied = await cli('eks', ['init', '--yes', ...common]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await kubeWrites('eks', k0, ns)).toEqual([]);
    expect(await podRoles(kc, ns, 'central')).toEqual([arn]);
  });
});

describe('OpenShift: --no-restart rolls no pods', () => {
  it('Helm: only the values are written (one file per release, with the command); a later init without it rolls once', async () => {
    const kc = kubeConfigFor(sb, 'openshift');
    const ns = uniqueNamespace('rs-ocp-helm');
    await seedRhacs(kc, { namespace: ns, method: 'helm', openshift: true, components: ['central'] });
    const out = join(dir, 'ocp', 'values.yaml');
    const common = ['--namespace', ns, '--role-name', 'rs-ocp-helm'];
    const apps = kc.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });

    const k0 = kubeMark(sb, 'openshift');
    const deferred = await cli('openshift', ['init', '--yes', '--no-restart', '--helm-values-out', out, ...common]);
    expect(deferred.code, deferred.stderr).toBe(0);
    expect(await kubeWrites('openshift', k0, ns)).toEqual([]);
    expect((await apps.readNamespacedDeployment({ name: 'central', namespace: ns })).spec!.template).toEqual(before.spec!.template);
    const file = join(dir, 'ocp', 'values.stackrox-central-services.yaml');
    // (The kubeconfig's current context: the command names none.)
    const command = `helm upgrade stackrox-central-services rhacs/stackrox-central-services -n ${ns} --version 400.7.2 --reuse-values -f ${file}`;
    expect(deferred.stderr).toContain(`Wrote the Helm values for release stackrox-central-services to ${file}. Apply them with: ${command}`);
    expect(deferred.stderr).toContain('When a rollout suits, apply the Helm values, which sets the environment and rolls central (Recreate strategy: a short outage):');
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[1]).toBe(`#   ${command}`);
    const docs = parseAllDocuments(text) as { toJS(): unknown }[];
    expect(docs).toHaveLength(1);
    const arn = `arn:aws:iam::${ACCOUNT}:role/rs-ocp-helm`;
    expect(docs[0]!.toJS()).toEqual({ customize: { central: { envVars: { AWS_ROLE_ARN: arn, AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/openshift/serviceaccount/token' } } } });

    // Idempotent: again with --no-restart, nothing is written anywhere.
    const a1 = await awsMark(sb);
    const k1 = kubeMark(sb, 'openshift');
    const again = await cli('openshift', ['init', '--yes', '--no-restart', ...common]);
    expect(again.code, again.stderr).toBe(0);
    expect(await kubeWrites('openshift', k1, ns)).toEqual([]);
    expect(await awsWrites(sb, a1)).toEqual([]);

    // When a rollout suits: one patch, one new ReplicaSet.
    const rs = await replicaSets(kc, ns, 'central');
    const k2 = kubeMark(sb, 'openshift');
    const now = await cli('openshift', ['init', '--yes', ...common]);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stderr).toContain('central restarts with the Recreate strategy: a short outage.');
    expect(await kubeWrites('openshift', k2, ns)).toEqual(['patch deployments/central']);
    expect(await replicaSets(kc, ns, 'central')).toBe(rs + 1);
    expect(await podRoles(kc, ns, 'central')).toEqual([arn]);

    // Uninstall with --no-restart: the deployment keeps its env; the values that undo it wait for "helm upgrade".
    const undo = join(dir, 'ocp-undo.yaml');
    const k3 = kubeMark(sb, 'openshift');
    const rs3 = await replicaSets(kc, ns, 'central');
    const un = await cli('openshift', ['uninstall', '--yes', '--no-restart', '--helm-values-out', undo, ...common]);
    expect(un.code, un.stderr).toBe(0);
    expect(await kubeWrites('openshift', k3, ns)).toEqual([]);
    expect(await replicaSets(kc, ns, 'central')).toBe(rs3);
    expect(un.stdout).toContain("central's pods keep naming the role");
    const undoFile = join(dir, 'ocp-undo.stackrox-central-services.yaml');
    expect((parseAllDocuments(readFileSync(undoFile, 'utf8')) as { toJS(): unknown }[]).map((d) => d.toJS()))
      .toEqual([{ customize: { central: { envVars: { AWS_ROLE_ARN: null, AWS_WEB_IDENTITY_TOKEN_FILE: null } } } }]);
    expect(un.stderr).toContain('When a rollout suits, apply the Helm values that undo the wiring (this rolls the pods):');
    expect(un.stderr).toContain(`helm upgrade stackrox-central-services rhacs/stackrox-central-services -n ${ns} --version 400.7.2 --reuse-values -f ${undoFile}`);
  });

  it('operator: refused before any write, naming --no-restart (the operator would roll the pods at once)', async () => {
    const kc = kubeConfigFor(sb, 'openshift');
    const ns = uniqueNamespace('rs-ocp-op');
    await seedRhacs(kc, { namespace: ns, method: 'operator', openshift: true, components: ['central'] });
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'openshift');
    const r = await cli('openshift', ['init', '--yes', '--no-restart', '--namespace', ns, '--role-name', 'rs-ocp-op']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--no-restart: on OpenShift, setting AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE on ${ns}/central changes its pod template, which rolls its pods, and the operator applies the overlays in its resource (the durable copy) at once`);
    expect(r.stderr).toContain('Run without --no-restart when a rollout suits (Central uses the Recreate strategy: a short outage).');
    expect(await kubeWrites('openshift', k0, ns)).toEqual([]);
    expect(await awsWrites(sb, a0)).toEqual([]);
  });
});

describe('Recreate: the plan says a restart of Central is an outage, from the deployment\'s actual strategy', () => {
  it('says so for Recreate, and not once the deployment uses RollingUpdate', async () => {
    const kc = kubeConfigFor(sb, 'openshift');
    const ns = uniqueNamespace('rs-strategy');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', openshift: true, components: ['central'] });
    const common = ['plan', '--namespace', ns, '--role-name', 'rs-strategy'];
    const recreate = await cli('openshift', common);
    expect(recreate.code, recreate.stderr).toBe(0);
    expect(recreate.stdout).toContain('Wait for central to roll out with the new environment (Recreate strategy: a short outage)');
    expect(recreate.stdout).toContain("Central's Deployment uses the Recreate strategy");

    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment(
      { name: 'central', namespace: ns, body: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } } },
      mergePatch(),
    );
    const rolling = await cli('openshift', common);
    expect(rolling.code, rolling.stderr).toBe(0);
    expect(rolling.stdout).toContain('Wait for central to roll out with the new environment\n');
    expect(rolling.stdout).not.toContain('Recreate');
  });
});
