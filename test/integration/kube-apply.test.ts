// Applying the Kubernetes actions against the sandbox's real kube-apiservers: each writes once,
// a re-apply writes nothing (audit log), unrelated annotations / env vars / volumes survive, a
// missing projected token volume is added, operator overlays are merged and idempotent, a plan
// built from discovery converges in one run, a restricted user gets a 403 that names the rule,
// and connection problems exit 2 naming the context and server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ExitCode, InputError, OperationError, RhacsStsError } from '../../src/errors.js';
import { mergeOverlays } from '../../src/kube/apply.js';
import { openKubeSession } from '../../src/kube/client.js';
import type { KubeAction } from '../../src/kube/session.js';
import { isKubeAction } from '../../src/kube/session.js';
import { buildPlan, operatorOverlays } from '../../src/plan/build.js';
import {
  EKS_ROLE_ANNOTATION,
  OPENSHIFT_TOKEN_DIR,
  OPENSHIFT_TOKEN_FILE,
  OPENSHIFT_TOKEN_VOLUME,
  RESTARTED_AT_ANNOTATION,
  type Decisions,
  type Facts,
} from '../../src/plan/model.js';
import { useSandbox } from '../sandbox/context.js';
import {
  createRestrictedUser,
  EXISTING_ENV,
  mergePatch,
  seedRhacs,
  STACKROX_GROUP,
  UNRELATED_ANNOTATION,
  uniqueNamespace,
} from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox({ resetAws: false });
const eks = sb.clusters.eks!;
const os = sb.clusters.openshift!;
const eksKc = kubeConfigFor(sb, 'eks');
const osKc = kubeConfigFor(sb, 'openshift');
const quiet = () => undefined;
const ARN = 'arn:aws:iam::123456789012:role/rhacs-sts-test';
const ARN2 = 'arn:aws:iam::123456789012:role/rhacs-sts-other';

const open = (c: { kubeconfig: string; context: string }, opts = {}) =>
  openKubeSession({ kubeconfig: c.kubeconfig, context: c.context }, quiet, opts);

const base = { status: 'update' as const, target: 't', summary: 's' };
const ref = (namespace: string, name: string) => ({ namespace, name });

function saAction(ns: string, arn = ARN): KubeAction {
  return { ...base, id: 'sa', type: 'service-account-annotation', ref: ref(ns, 'central'), annotations: { [EKS_ROLE_ANNOTATION]: arn } };
}
function envAction(ns: string, comp = 'central', arn = ARN): Extract<KubeAction, { type: 'deployment-env' }> {
  return {
    ...base, id: 'env', type: 'deployment-env', ref: ref(ns, comp), container: comp,
    env: [{ name: 'AWS_ROLE_ARN', value: arn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: OPENSHIFT_TOKEN_FILE }],
  };
}

async function writes(cluster: string, since: number, namespace: string) {
  return (await kubeRequests(sb, cluster, since, { namespace, writesOnly: true, user: 'sandbox-admin' })).map((r) => `${r.verb} ${r.resource}/${r.name}`);
}

const readDeployment = (kc: KubeConfig, namespace: string, name: string): Promise<V1Deployment> =>
  kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });

async function rejection(p: Promise<unknown>): Promise<RhacsStsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RhacsStsError);
  return err as RhacsStsError;
}

describe('kube apply: service account annotation (EKS)', () => {
  it('adds the role annotation once, keeps the other annotations, and a re-apply writes nothing', async () => {
    const ns = uniqueNamespace('ka-sa');
    await seedRhacs(eksKc, { namespace: ns, method: 'helm', components: ['central'] });
    const session = await open(eks);
    let mark = kubeMark(sb, 'eks');
    expect(await session.apply(saAction(ns))).toBe(true);
    expect(await writes('eks', mark, ns)).toEqual(['patch serviceaccounts/central']);
    const sa = await eksKc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(sa.metadata?.annotations).toMatchObject({ [EKS_ROLE_ANNOTATION]: ARN, [UNRELATED_ANNOTATION.key]: UNRELATED_ANNOTATION.value, 'meta.helm.sh/release-name': 'stackrox-central-services' });

    mark = kubeMark(sb, 'eks');
    expect(await session.apply(saAction(ns))).toBe(false);
    expect(await writes('eks', mark, ns)).toEqual([]);

    // A different role converges the one annotation.
    expect(await session.apply(saAction(ns, ARN2))).toBe(true);
    const after = await eksKc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns });
    expect(after.metadata?.annotations?.[EKS_ROLE_ANNOTATION]).toBe(ARN2);
    expect(after.metadata?.annotations?.[UNRELATED_ANNOTATION.key]).toBe(UNRELATED_ANNOTATION.value);
  });

  it('restarts with the restartedAt pod-template annotation', async () => {
    const ns = uniqueNamespace('ka-restart');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const session = await open(eks);
    const before = await readDeployment(eksKc, ns, 'central');
    const t0 = Date.now();
    expect(await session.apply({ ...base, id: 'r', type: 'restart', ref: ref(ns, 'central'), method: 'restartedAt', deferred: false })).toBe(true);
    const after = await readDeployment(eksKc, ns, 'central');
    const at = after.spec!.template.metadata!.annotations![RESTARTED_AT_ANNOTATION]!;
    expect(new Date(at).getTime()).toBeGreaterThanOrEqual(t0 - 1000);
    expect(after.metadata!.generation).toBe(before.metadata!.generation! + 1);
    expect(after.spec!.template.metadata!.annotations!['traffic.sidecar.istio.io/excludeInboundPorts']).toBe('8443');

    // Deferred, or a rollout that the env change already started: nothing written.
    const mark = kubeMark(sb, 'eks');
    expect(await session.apply({ ...base, id: 'r', type: 'restart', ref: ref(ns, 'central'), method: 'restartedAt', deferred: true })).toBe(false);
    expect(await session.apply({ ...base, id: 'r', type: 'restart', ref: ref(ns, 'central'), method: 'rollout', deferred: false })).toBe(false);
    expect(await writes('eks', mark, ns)).toEqual([]);
  });
});

describe('kube apply: deployment env and token volume (OpenShift)', () => {
  it('sets the env vars by name, keeping the others (plain and valueFrom), and a re-apply writes nothing', async () => {
    const ns = uniqueNamespace('ka-env');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, components: ['central'] });
    const session = await open(os);
    const before = await readDeployment(osKc, ns, 'central');
    let mark = kubeMark(sb, 'openshift');
    expect(await session.apply(envAction(ns))).toBe(true);
    expect(await writes('openshift', mark, ns)).toEqual(['patch deployments/central']);
    const d = await readDeployment(osKc, ns, 'central');
    const env = d.spec!.template.spec!.containers[0]!.env!;
    expect(env).toContainEqual(EXISTING_ENV);
    expect(env.find((e) => e.name === 'ROX_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(env.filter((e) => e.name === 'AWS_ROLE_ARN')).toEqual([{ name: 'AWS_ROLE_ARN', value: ARN }]);
    expect(env).toContainEqual({ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: OPENSHIFT_TOKEN_FILE });
    expect(env.length).toBe(before.spec!.template.spec!.containers[0]!.env!.length + 2);
    // Appended after the existing variables, whose order is kept.
    expect(env.map((e) => e.name)).toEqual([...before.spec!.template.spec!.containers[0]!.env!.map((e) => e.name), 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE']);
    expect(d.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(before.spec!.template.spec!.volumes!.map((v) => v.name));
    expect(d.metadata!.annotations![UNRELATED_ANNOTATION.key]).toBe(UNRELATED_ANNOTATION.value);

    mark = kubeMark(sb, 'openshift');
    expect(await session.apply(envAction(ns))).toBe(false);
    expect(await writes('openshift', mark, ns)).toEqual([]);
  });

  it('replaces a valueFrom of the same variable with the value', async () => {
    const ns = uniqueNamespace('ka-env-vf');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, components: ['central'] });
    await osKc.makeApiClient(AppsV1Api).patchNamespacedDeployment(
      {
        name: 'central', namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'central', env: [{ name: 'AWS_ROLE_ARN', valueFrom: { configMapKeyRef: { name: 'x', key: 'y' } } }] }] } } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/strategic-merge-patch+json'),
    );
    const session = await open(os);
    expect(await session.apply(envAction(ns))).toBe(true);
    const env = (await readDeployment(osKc, ns, 'central')).spec!.template.spec!.containers[0]!.env!;
    expect(env.filter((e) => e.name === 'AWS_ROLE_ARN')).toEqual([{ name: 'AWS_ROLE_ARN', value: ARN }]);
    expect(await session.apply(envAction(ns))).toBe(false);
  });

  it('sets the env and mounts the missing projected token in one patch: one pod-template change, one rollout', async () => {
    const ns = uniqueNamespace('ka-token');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, imageTag: '4.3.8', components: ['central'] });
    const session = await open(os);
    const before = await readDeployment(osKc, ns, 'central');
    expect(before.spec!.template.spec!.volumes!.some((v) => v.projected)).toBe(false);
    expect((await session.discover({ namespace: ns })).facts.current!.central!.deployment!.hasTokenMount).toBe(false);

    const action: KubeAction = { ...envAction(ns), tokenVolume: { audience: 'openshift' } };
    let mark = kubeMark(sb, 'openshift');
    expect(await session.apply(action)).toBe(true);
    expect(await writes('openshift', mark, ns)).toEqual(['patch deployments/central']);
    const after = await readDeployment(osKc, ns, 'central');
    expect(after.metadata!.generation).toBe(before.metadata!.generation! + 1);
    const spec = after.spec!.template.spec!;
    expect(spec.containers[0]!.env).toContainEqual({ name: 'AWS_ROLE_ARN', value: ARN });
    expect(spec.volumes!.map((v) => v.name)).toEqual([...before.spec!.template.spec!.volumes!.map((v) => v.name), OPENSHIFT_TOKEN_VOLUME]);
    expect(spec.volumes!.find((v) => v.name === OPENSHIFT_TOKEN_VOLUME)!.projected!.sources).toEqual([
      { serviceAccountToken: { audience: 'openshift', expirationSeconds: 3600, path: 'token' } },
    ]);
    const mounts = spec.containers[0]!.volumeMounts!;
    expect(mounts).toContainEqual({ name: OPENSHIFT_TOKEN_VOLUME, mountPath: OPENSHIFT_TOKEN_DIR, readOnly: true });
    expect(mounts.map((m) => m.mountPath)).toEqual([...before.spec!.template.spec!.containers[0]!.volumeMounts!.map((m) => m.mountPath), OPENSHIFT_TOKEN_DIR]);

    // The real controllers roll it out once: one new ReplicaSet, whose pods carry both.
    await session.waitForRollouts([{ namespace: ns, name: 'central' }], 30_000, quiet);
    const sets = (await osKc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=central' })).items;
    expect(sets).toHaveLength(2);
    const pods = (await osKc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=central' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).toHaveLength(1);
    expect(pods[0]!.spec!.containers[0]!.env).toContainEqual({ name: 'AWS_ROLE_ARN', value: ARN });
    expect(pods[0]!.spec!.containers[0]!.volumeMounts).toContainEqual(expect.objectContaining({ name: OPENSHIFT_TOKEN_VOLUME, mountPath: OPENSHIFT_TOKEN_DIR }));

    const d = await session.discover({ namespace: ns });
    expect(d.facts.current!.central!.deployment!.hasTokenMount).toBe(true);
    expect(d.warnings.join('\n')).not.toMatch(/central does not mount/);
    mark = kubeMark(sb, 'openshift');
    expect(await session.apply(action)).toBe(false);
    expect(await writes('openshift', mark, ns)).toEqual([]);
  });

  it('a deferred env action (--no-restart) writes only the deployment\'s own annotations, never the pod template', async () => {
    const ns = uniqueNamespace('ka-deferred');
    await seedRhacs(osKc, { namespace: ns, method: 'helm', openshift: true, components: ['central'] });
    const session = await open(os);
    const before = await readDeployment(osKc, ns, 'central');
    const mark = kubeMark(sb, 'openshift');
    expect(await session.apply({ ...envAction(ns), deferred: true })).toBe(false);
    expect(await session.apply({ ...envAction(ns), deferred: true, annotations: { 'rhacs-sts/previous-role-arn': ARN2 } })).toBe(true);
    expect(await writes('openshift', mark, ns)).toEqual(['patch deployments/central']);
    const after = await readDeployment(osKc, ns, 'central');
    expect(after.metadata!.annotations!['rhacs-sts/previous-role-arn']).toBe(ARN2);
    // (The API server counts an annotation change as a new generation of a Deployment; the pod
    // template is what rolls the pods, and it is untouched: the controller makes no new ReplicaSet.)
    expect(after.spec!.template).toEqual(before.spec!.template);
    await session.waitForRollouts([{ namespace: ns, name: 'central' }], 30_000, quiet);
    expect((await osKc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=central' })).items).toHaveLength(1);
  });
});

describe('kube apply: operator overlays', () => {
  it('merges our overlay into spec.overlays, keeps the user\'s, is idempotent, and replaces ours in place', async () => {
    const ns = uniqueNamespace('ka-overlay');
    await seedRhacs(osKc, { namespace: ns, method: 'operator', openshift: true, components: ['central'] });
    const custom = osKc.makeApiClient(CustomObjectsApi);
    const crRef = { group: STACKROX_GROUP, version: 'v1alpha1', namespace: ns, plural: 'centrals', name: 'stackrox-central-services' };
    const userOverlay = {
      apiVersion: 'apps/v1', kind: 'Deployment', name: 'central',
      patches: [{ path: 'spec.template.spec.containers[name:central].env[-1]', value: 'name: TEAM_SETTING\nvalue: "1"\n' }],
    };
    await custom.patchNamespacedCustomObject({ ...crRef, body: { spec: { overlays: [userOverlay] } } }, mergePatch());
    const session = await open(os);
    const overlays = operatorOverlays('openshift', 'central', ARN);
    const action = (o = overlays): KubeAction => ({ ...base, id: 'ov', type: 'operator-overlay', ref: ref(ns, 'stackrox-central-services'), crKind: 'Central', overlays: o });

    let mark = kubeMark(sb, 'openshift');
    expect(await session.apply(action())).toBe(true);
    expect(await writes('openshift', mark, ns)).toEqual(['patch centrals/stackrox-central-services']);
    const cr = (await custom.getNamespacedCustomObject(crRef)) as { spec: { overlays: unknown[]; central?: unknown } };
    expect(cr.spec.overlays).toEqual([userOverlay, ...overlays]);
    expect(cr.spec.central).toBeDefined(); // the rest of the spec is untouched

    mark = kubeMark(sb, 'openshift');
    expect(await session.apply(action())).toBe(false);
    expect(await writes('openshift', mark, ns)).toEqual([]);

    const other = operatorOverlays('openshift', 'central', ARN2);
    expect(await session.apply(action(other))).toBe(true);
    const cr2 = (await custom.getNamespacedCustomObject(crRef)) as { spec: { overlays: unknown[] } };
    expect(cr2.spec.overlays).toEqual([userOverlay, ...other]);

    // Discovery reports the overlays, and the planner finds them in place.
    const d = await session.discover({ namespace: ns });
    expect(d.facts.operatorCrs!.central!.overlays).toEqual([userOverlay, ...other]);
  });

  it('merge rules: replaces our entry in place, drops duplicates of it, keeps everything else', () => {
    const ours = operatorOverlays('eks', 'central', ARN);
    const old = operatorOverlays('eks', 'central', ARN2)[0]!;
    const foreign = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.labels.team', value: 'x' }] };
    expect(mergeOverlays([foreign, old, old], ours)).toEqual([foreign, ...ours]);
    expect(mergeOverlays([old, foreign], ours)).toEqual([...ours, foreign]);
    expect(mergeOverlays([], ours)).toEqual(ours);
  });
});

describe('kube apply: a plan built from discovery converges in one run', () => {
  const decisions = (restart: boolean): Decisions => ({
    roleName: 'rhacs-sts-test', rolePath: '/', ecr: { registryId: '123456789012', repositories: [] },
    delegatedScanning: true, restart, adoptRole: false, adoptOidcProvider: false, thumbprints: {},
  });

  // OpenShift installs without the token volume: only plain manifests get it (operator and Helm
  // installs that lack it are refused; see test/unit/plan.test.ts).
  for (const [cluster, kc, method, openshift, tokenVolume] of [
    ['eks', eksKc, 'operator', false, false],
    ['openshift', osKc, 'helm', true, true],
    ['openshift', osKc, 'operator', true, true],
    ['openshift', osKc, 'manifests', true, false],
  ] as const) {
    it(`${cluster} / ${method}${openshift && !tokenVolume ? ' (no token volume)' : ''}: applies the planned Kubernetes actions, waits, and a second plan is all unchanged`, async () => {
      const ns = uniqueNamespace(`ka-plan-${cluster}-${method}`);
      await seedRhacs(kc, { namespace: ns, method, openshift, tokenVolume });
      const info = sb.clusters[cluster]!;
      const session = await open(info);
      const plan = async () => {
        const d = await session.discover({ namespace: ns });
        const facts: Facts = { partition: 'aws', accountId: '123456789012', region: d.region ?? 'eu-west-1', clusters: [d.facts], offline: false };
        const built = buildPlan(facts, decisions(true), undefined);
        expect(built.blockers).toEqual([]);
        return built.actions.filter(isKubeAction);
      };
      const first = await plan();
      const changing = first.filter((a) => a.status !== 'unchanged');
      expect(changing.length).toBeGreaterThan(0);
      if (method === 'operator') expect(changing.some((a) => a.type === 'operator-overlay')).toBe(true);
      const restarts: { namespace: string; name: string }[] = [];
      for (const a of changing) {
        await session.apply(a);
        if (a.type === 'restart') restarts.push(a.ref);
      }
      const progress: string[] = [];
      await session.waitForRollouts(restarts, 30_000, (p) => progress.push(`${p.name}: ${p.message}`));
      expect(progress.some((p) => /rolled out/.test(p))).toBe(true);

      const second = await plan();
      expect(second.filter((a) => a.status !== 'unchanged').map((a) => a.id)).toEqual([]);
      const mark = kubeMark(sb, cluster);
      for (const a of second) expect(await session.apply(a)).toBe(false);
      expect(await writes(cluster, mark, ns)).toEqual([]);
    });
  }
});

describe('kube apply: permissions and connections', () => {
  it('turns a 403 into a message naming verb, resource, namespace and the smallest rule', async () => {
    const ns = uniqueNamespace('ka-403');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const user = await createRestrictedUser(sb, 'eks', {
      name: 'rhacs-sts-reader',
      namespace: ns,
      rules: [{ apiGroups: ['', 'apps'], resources: ['serviceaccounts', 'deployments'], verbs: ['get', 'list'] }],
    });
    const session = await openKubeSession({ kubeconfig: user.kubeconfig, context: user.context }, quiet);
    const err = await rejection(session.apply(saAction(ns)));
    expect(err).toBeInstanceOf(OperationError);
    expect(err.exitCode).toBe(ExitCode.Failed);
    expect(err.message).toContain('patch serviceaccounts "central"');
    expect(err.message).toContain(`namespace "${ns}"`);
    expect(err.message).toContain('rhacs-sts-reader');
    expect(err.message).toContain('rules: [{apiGroups: [""], resources: ["serviceaccounts"], verbs: ["patch"]}]');
    expect(err.message).toContain(`Role in namespace ${ns}`);

    const err2 = await rejection(session.apply(envAction(ns)));
    expect(err2.message).toContain('patch deployments.apps "central"');
    expect(err2.message).toContain('rules: [{apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"]}]');
    expect(err2.hint).toContain(`kubectl -n ${ns} create role`);

    // Discovery needs cluster-wide reads it lacks: the message says which, as a ClusterRole.
    const err3 = await rejection(session.discover({ namespace: ns, provider: 'eks' }));
    expect(err3.message).toMatch(/403|may not/);
    expect(err3.message).toMatch(/ClusterRole/);
  });

  it('exits 2 naming the context and server when the cluster does not answer or credentials are missing or wrong', async () => {
    const base = new KubeConfig();
    base.loadFromFile(eks.kubeconfig);
    const caData = base.getCurrentCluster()!.caData;
    const dir = sb.workDir;
    const write = (name: string, server: string, user: Record<string, unknown>) => {
      const file = join(dir, `kubeconfig-kube-test-${name}.yaml`);
      writeFileSync(file, toYaml({
        apiVersion: 'v1', kind: 'Config', 'current-context': name,
        clusters: [{ name, cluster: { server, 'certificate-authority-data': caData } }],
        users: [{ name, user }],
        contexts: [{ name, context: { cluster: name, user: name } }],
      }), { mode: 0o600 });
      return file;
    };
    const closed = 'https://127.0.0.1:1';
    const e1 = await rejection(openKubeSession({ kubeconfig: write('down', closed, { token: 'x' }) }, quiet));
    expect(e1.exitCode).toBe(ExitCode.Failed);
    expect(e1.message).toContain('"down"');
    expect(e1.message).toContain(closed);

    const e2 = await rejection(openKubeSession({ kubeconfig: write('anon', eks.server, {}) }, quiet));
    expect(e2.exitCode).toBe(ExitCode.Failed);
    expect(e2.message).toMatch(/without credentials/);
    expect(e2.message).toContain(eks.server);

    const e3 = await rejection(openKubeSession({ kubeconfig: write('badtoken', eks.server, { token: 'not-a-valid-token' }) }, quiet));
    expect(e3.exitCode).toBe(ExitCode.Failed);
    expect(e3.message).toMatch(/401/);
    expect(e3.message).toContain('"badtoken"');
    expect(e3.message).not.toContain('not-a-valid-token');

    const e6 = await rejection(openKubeSession({
      kubeconfig: write('exec', eks.server, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'rhacs-sts-no-such-credential-plugin' } } as never),
    }, quiet));
    expect(e6.exitCode).toBe(ExitCode.InvalidInput);
    expect(e6.message).toContain('"exec"');
    expect(e6.message).toMatch(/credentials/);

    const e4 = await rejection(openKubeSession({ kubeconfig: eks.kubeconfig, context: 'nope' }, quiet));
    expect(e4).toBeInstanceOf(InputError);
    expect(e4.message).toContain('--context');
    expect(e4.message).toContain(eks.context);

    const e5 = await rejection(openKubeSession({ kubeconfig: join(dir, 'no-such-kubeconfig.yaml') }, quiet));
    expect(e5.message).toContain('--kubeconfig');
  });

  it('a read-only session refuses every write before sending it', async () => {
    const ns = uniqueNamespace('ka-ro');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const session = await open(eks, { readOnly: true });
    const mark = kubeMark(sb, 'eks');
    await session.discover({ namespace: ns });
    const err = await rejection(session.apply(saAction(ns)));
    expect(err.message).toMatch(/read-only/);
    expect(await writes('eks', mark, ns)).toEqual([]);
    expect(session.api.sent.PATCH ?? 0).toBe(0);
  });
});
