// Rollout waiting against the sandbox: rollouts run by the real deployment and ReplicaSet controllers
// (kwok makes the pods ready), a watch (not polling), progress lines per deployment, and clear
// failures: a timeout naming the deployment and its pods' reasons (or that no pods were created),
// and a ProgressDeadlineExceeded condition reported before the timeout.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { OperationError, RhacsStsError } from '../../src/errors.js';
import { openKubeSession } from '../../src/kube/client.js';
import type { KubeAction, RolloutProgress } from '../../src/kube/session.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, setRolloutMode as markRollout, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox({ resetAws: false });
const eks = sb.clusters.eks!;
const kc = kubeConfigFor(sb, 'eks');
const apps = kc.makeApiClient(AppsV1Api);
const quiet = () => undefined;
const open = () => openKubeSession({ kubeconfig: eks.kubeconfig, context: eks.context }, quiet);

const restart = (namespace: string, name: string): KubeAction => ({
  id: `restart:${name}`, type: 'restart', status: 'update', target: name, summary: 'restart',
  ref: { namespace, name }, method: 'restartedAt', deferred: false,
});

const setRolloutMode = (namespace: string, name: string, mode: 'hang' | 'fail') => markRollout(kc, namespace, name, mode);

async function rejection(p: Promise<unknown>): Promise<RhacsStsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RhacsStsError);
  return err as RhacsStsError;
}

describe('kube rollouts', () => {
  it('waits with a watch until the deployment controller completes both rollouts, with progress per deployment', async () => {
    const ns = uniqueNamespace('kr-ok');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const session = await open();
    for (const name of ['central', 'sensor']) expect(await session.apply(restart(ns, name))).toBe(true);
    const mark = kubeMark(sb, 'eks');
    const progress: RolloutProgress[] = [];
    const t0 = Date.now();
    await session.waitForRollouts([{ namespace: ns, name: 'central' }, { namespace: ns, name: 'sensor' }], 30_000, (p) => progress.push(p));
    expect(Date.now() - t0).toBeLessThan(15_000);
    // A watch, not polling: one list and one watch per deployment, no repeated reads; all ours.
    const reqs = await kubeRequests(sb, 'eks', mark, { namespace: ns, resource: 'deployments', user: 'sandbox-admin' });
    expect(reqs.filter((r) => r.verb === 'watch').length).toBeGreaterThanOrEqual(2);
    expect(reqs.filter((r) => r.verb === 'list').length).toBeLessThanOrEqual(4);
    expect(reqs.filter((r) => r.verb === 'get')).toEqual([]);
    expect(reqs.every((r) => r.userAgent === 'rhacs-sts')).toBe(true);

    for (const name of ['central', 'sensor']) {
      const mine = progress.filter((p) => p.name === name && p.namespace === ns).map((p) => p.message);
      // At least one line while it progressed (how many depends on how far the controllers got before
      // the first list), then the end.
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine[0]).not.toMatch(/^rolled out/);
      expect(mine[mine.length - 1]).toBe('rolled out (1/1 updated, 1 available)');
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
      expect(d.status?.updatedReplicas).toBe(1);
    }
  });

  it('keeps waiting through a hung rollout until a newer one completes', async () => {
    const ns = uniqueNamespace('kr-recover');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    await setRolloutMode(ns, 'central', 'hang');
    const session = await open();
    const progress: string[] = [];
    const waiting = session.waitForRollouts([{ namespace: ns, name: 'central' }], 20_000, (p) => progress.push(p.message));
    await new Promise((r) => setTimeout(r, 800));
    // The fix: a pod template whose pods become ready.
    await apps.patchNamespacedDeployment(
      { name: 'central', namespace: ns, body: { spec: { template: { metadata: { annotations: { 'sandbox.rhacs-sts.test/rollout': null } } } } } },
      mergePatch(),
    );
    await waiting;
    expect(progress.some((m) => /0 available/.test(m))).toBe(true);
    expect(progress[progress.length - 1]).toMatch(/^rolled out/);
  });

  it('times out with a message naming the deployment and that no pods were created', async () => {
    const ns = uniqueNamespace('kr-timeout');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    // Without its service account, the ServiceAccount admission plugin refuses every new pod.
    await kc.makeApiClient(CoreV1Api).deleteNamespacedServiceAccount({ name: 'central', namespace: ns });
    const session = await open();
    await session.apply(restart(ns, 'central'));
    const t0 = Date.now();
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'central' }], 2500, quiet));
    expect(Date.now() - t0).toBeLessThan(7000);
    expect(err).toBeInstanceOf(OperationError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(`Deployment ${ns}/central did not become ready within 2.5s`);
    expect(err.message).toContain('0 available');
    expect(err.message).toContain('no pods were created');
    expect(err.message).toMatch(/ReplicaFailure FailedCreate: .*serviceaccount "central" not found/);
    expect(err.hint).toContain(`kubectl -n ${ns} describe deployment/central`);
  });

  it('reports the running but unready pods on a timeout', async () => {
    const ns = uniqueNamespace('kr-unready');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['sensor'] });
    await setRolloutMode(ns, 'sensor', 'hang');
    const session = await open();
    await session.apply(restart(ns, 'sensor'));
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'sensor' }], 2000, quiet));
    expect(err.message).toContain(`Deployment ${ns}/sensor did not become ready`);
    // The old pod still serves (rolling update); the new one runs but never passes readiness.
    expect(err.message).toMatch(/pod sensor-[a-z0-9]+-[a-z0-9]{5}: Running — container sensor not ready/);
    expect(err.message).toMatch(/pod sensor-[a-z0-9]+-[a-z0-9]{5}: Running, ready/);
  });

  it('reports the pods\' waiting reasons on a timeout', async () => {
    const ns = uniqueNamespace('kr-pull');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['sensor'] });
    await setRolloutMode(ns, 'sensor', 'hang');
    const core = kc.makeApiClient(CoreV1Api);
    // A pod bound to a node that no kubelet (kwok) plays, so the status written below stays.
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'sensor-7d9f8-abcde', labels: { app: 'sensor' } },
        spec: { nodeName: 'node-without-kubelet', serviceAccountName: 'sensor', containers: [{ name: 'sensor', image: 'example.invalid/sensor:none' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      {
        name: 'sensor-7d9f8-abcde', namespace: ns,
        body: {
          status: {
            phase: 'Pending',
            conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [sensor]' }],
            containerStatuses: [{
              name: 'sensor', image: 'example.invalid/sensor:none', imageID: '', ready: false, restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "example.invalid/sensor:none"' } },
            }],
          },
        },
      },
      mergePatch(),
    );
    const session = await open();
    await session.apply(restart(ns, 'sensor'));
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'sensor' }], 1200, quiet));
    expect(err.message).toContain(`Deployment ${ns}/sensor did not become ready`);
    // The cause, from the pod's container status, and the fix.
    expect(err.message).toContain('The image of container sensor of pod sensor-7d9f8-abcde cannot be pulled (ImagePullBackOff: Back-off pulling image "example.invalid/sensor:none")');
    expect(err.hint).toMatch(/Check the image name and tag \(example\.invalid\/sensor:none\), .* pull secret/);
  });

  it('fails before the timeout when the deployment reports ProgressDeadlineExceeded', async () => {
    // Sensor: no minReadySeconds, so the shortest progress deadline is 1 s (Central's must exceed 15 s).
    const ns = uniqueNamespace('kr-fail');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['sensor'] });
    await setRolloutMode(ns, 'sensor', 'fail');
    const session = await open();
    await session.apply(restart(ns, 'sensor'));
    const t0 = Date.now();
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'sensor' }], 30_000, quiet));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err.message).toContain(`Deployment ${ns}/sensor failed to roll out`);
    expect(err.message).toContain('progress deadline exceeded');
    expect(err.message).toMatch(/has timed out progressing/);
  });

  it('lists every deployment that did not become ready in one error', async () => {
    const ns = uniqueNamespace('kr-both');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const session = await open();
    for (const name of ['central', 'sensor']) {
      await setRolloutMode(ns, name, 'hang');
      await session.apply(restart(ns, name));
    }
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'central' }, { namespace: ns, name: 'sensor' }], 1000, quiet));
    expect(err.message).toContain(`${ns}/central`);
    expect(err.message).toContain(`${ns}/sensor`);
  });
});
