// Rollout waiting against the sandbox: completed by the stand-in deployment controller or by the
// completeRollout() helper, a watch (not polling), progress lines per deployment, and clear
// failures: a timeout naming the deployment and its pods' reasons (or that no pods were created),
// and a ProgressDeadlineExceeded condition reported before the timeout.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { OperationError, RhacsStsError } from '../../src/errors.js';
import { openKubeSession } from '../../src/kube/client.js';
import type { KubeAction, RolloutProgress } from '../../src/kube/session.js';
import { useSandbox } from '../sandbox/context.js';
import { ROLLOUT_ANNOTATION } from '../sandbox/deployment-controller.js';
import { completeRollout, mergePatch, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
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

async function setRolloutMode(namespace: string, name: string, mode: 'hang' | 'fail'): Promise<void> {
  await apps.patchNamespacedDeployment({ name, namespace, body: { metadata: { annotations: { [ROLLOUT_ANNOTATION]: mode } } } }, mergePatch());
}

async function rejection(p: Promise<unknown>): Promise<RhacsStsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RhacsStsError);
  return err as RhacsStsError;
}

describe('kube rollouts', () => {
  it('waits with a watch until the stand-in controller completes both rollouts, with progress per deployment', async () => {
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
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine[mine.length - 1]).toBe('rolled out (1/1 updated, 1 available)');
      expect(mine.some((m) => /0\/1 updated/.test(m))).toBe(true);
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
      expect(d.status?.updatedReplicas).toBe(1);
    }
  });

  it('finishes when the rollout is completed by the completeRollout helper', async () => {
    const ns = uniqueNamespace('kr-helper');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    await setRolloutMode(ns, 'central', 'hang');
    const session = await open();
    await session.apply(restart(ns, 'central'));
    const progress: string[] = [];
    const waiting = session.waitForRollouts([{ namespace: ns, name: 'central' }], 20_000, (p) => progress.push(p.message));
    await new Promise((r) => setTimeout(r, 800));
    await completeRollout(kc, ns, 'central');
    await waiting;
    expect(progress[progress.length - 1]).toMatch(/^rolled out/);
  });

  it('times out with a message naming the deployment and that no pods were created', async () => {
    const ns = uniqueNamespace('kr-timeout');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    await setRolloutMode(ns, 'central', 'hang');
    const session = await open();
    await session.apply(restart(ns, 'central'));
    const t0 = Date.now();
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'central' }], 1500, quiet));
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(err).toBeInstanceOf(OperationError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(`Deployment ${ns}/central did not become ready within 1.5s`);
    expect(err.message).toContain('0/1 updated');
    expect(err.message).toContain('no pods were created');
    expect(err.hint).toContain(`kubectl -n ${ns} describe deployment/central`);
  });

  it('reports the pods\' waiting reasons on a timeout', async () => {
    const ns = uniqueNamespace('kr-pull');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['sensor'] });
    await setRolloutMode(ns, 'sensor', 'hang');
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'sensor-7d9f8-abcde', labels: { app: 'sensor' } }, spec: { containers: [{ name: 'sensor', image: 'example.invalid/sensor:none' }] } },
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
    expect(err.message).toContain('pod sensor-7d9f8-abcde: Pending');
    expect(err.message).toContain('container sensor waiting: ImagePullBackOff');
  });

  it('fails before the timeout when the deployment reports ProgressDeadlineExceeded', async () => {
    const ns = uniqueNamespace('kr-fail');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    await setRolloutMode(ns, 'central', 'fail');
    const session = await open();
    await session.apply(restart(ns, 'central'));
    const t0 = Date.now();
    const err = await rejection(session.waitForRollouts([{ namespace: ns, name: 'central' }], 30_000, quiet));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err.message).toContain(`Deployment ${ns}/central failed to roll out`);
    expect(err.message).toContain('progress deadline exceeded');
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
