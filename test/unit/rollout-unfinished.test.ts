// A restart is done when its rollout has completed: an interrupted or failed wait leaves it not
// done, a re-run plans the wait again, and a rollout that cannot finish says why, with the fix.
// Without a terminal, every task line of a fleet names its cluster.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApplyError, applyPlan, type ApplyProgress, type TaskState } from '../../src/apply/apply.js';
import { CancelledError, OperationError } from '../../src/errors.js';
import { podBlocker } from '../../src/kube/rollout.js';
import type { KubeSession } from '../../src/kube/session.js';
import { buildPlan } from '../../src/plan/build.js';
import type { Action, ClusterFacts, ComponentState, Decisions, Facts, Plan } from '../../src/plan/model.js';
import { createMemoryUi } from '../../src/ui/memory.js';
import { createTaskList, spansClusters } from '../../src/ui/tasks.js';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

const ROLE_ARN = 'arn:aws:iam::111122223333:role/rhacs-sts-prod';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

const restart = (context: string, name = 'central'): Action => ({
  id: `restart:${context}:stackrox:${name}`, type: 'restart', status: 'update', target: `stackrox/deployment/${name}`,
  summary: `Restart ${name}`, ref: { context, namespace: 'stackrox', name }, method: 'restartedAt', deferred: false,
});
const annotate = (context: string, name = 'sensor'): Action => ({
  id: `sa-annotation:${context}:stackrox:${name}`, type: 'service-account-annotation', status: 'create', target: `stackrox/serviceaccount/${name}`,
  summary: `Annotate service account ${name}`, ref: { context, namespace: 'stackrox', name }, annotations: { a: 'b' },
});
const plan = (actions: Action[]) => ({ command: 'init', actions } as unknown as Plan);

function session(wait: KubeSession['waitForRollouts']): KubeSession {
  return {
    contextName: 'hub', server: 'https://x',
    discover: async () => { throw new Error('unused'); },
    apply: async () => true,
    waitForRollouts: wait,
    issuerDiscovery: async () => { throw new Error('unused'); },
    requestToken: async () => { throw new Error('unused'); },
    pods: async () => null,
    annotationSetAt: async () => undefined,
  };
}

function recorder() {
  const seen: [string, TaskState, string?][] = [];
  const progress: ApplyProgress = { task: (a, state, detail) => void seen.push([a.id, state, ...(detail ? [detail] : [])] as [string, TaskState, string?]), rollout: () => undefined };
  return { seen, progress };
}

describe('applyPlan: a restart is done when its rollout is', () => {
  it('interrupted while waiting: the restart is not reported done (exit 130), and says a re-run waits', async () => {
    const { seen, progress } = recorder();
    const wait: KubeSession['waitForRollouts'] = async (_refs, _t, onProgress) => {
      onProgress({ namespace: 'stackrox', name: 'central', message: '1/1 updated, 0 available' });
      throw new CancelledError('Interrupted while waiting for deployment stackrox/central: the rollout has not finished.', 'A re-run waits for the rollout again.');
    };
    const err = await applyPlan(plan([restart('')]), { kube: new Map([['', session(wait)]]), progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).exitCode).toBe(130);
    expect(seen.filter(([, s]) => s === 'done')).toEqual([]);
    expect(seen.at(-1)).toEqual(['restart::stackrox:central', 'skipped', 'interrupted before the rollout finished']);
    expect((err as ApplyError).applied).toEqual([expect.objectContaining({ id: 'restart::stackrox:central', outcome: 'skipped' })]);
    expect((err as ApplyError).message).not.toMatch(/✓ .*\(restart\)/);
    expect((err as ApplyError).hint).toMatch(/A re-run waits for the rollout again/);
  });

  it('a rollout that does not finish fails the restart; one that does makes it done', async () => {
    const { seen, progress } = recorder();
    const wait: KubeSession['waitForRollouts'] = async (_refs, _t, onProgress) => {
      onProgress({ namespace: 'stackrox', name: 'sensor', message: 'rolled out (1/1 updated, 1 available)', done: true });
      throw new OperationError('Deployment stackrox/central did not become ready within 1s');
    };
    const err = await applyPlan(plan([restart(''), restart('', 'sensor')]), { kube: new Map([['', session(wait)]]), progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect((err as ApplyError).exitCode).toBe(1);
    expect(seen.filter(([, s]) => s === 'done' || s === 'failed').map(([id, s]) => `${id} ${s}`)).toEqual([
      'restart::stackrox:sensor done',
      'restart::stackrox:central failed',
    ]);
  });

  it('a completed wait makes every restart done', async () => {
    const { seen, progress } = recorder();
    const results = await applyPlan(plan([restart('')]), { kube: new Map([['', session(async () => undefined)]]), progress, timeoutMs: 1000 });
    expect(results.map((r) => r.outcome)).toEqual(['done']);
    expect(seen.at(-1)).toEqual(['restart::stackrox:central', 'done']);
  });
});

describe('buildPlan: an unfinished rollout', () => {
  const cluster = (central: ComponentState): ClusterFacts => clusterFacts({ issuer: ISSUER, components: ['central'], current: { central } });
  const facts = (c: ClusterFacts): Facts => buildFacts([c]);
  const decisions: Decisions = buildDecisions();
  const inPlace = (rollout?: NonNullable<ComponentState['deployment']>['rollout']): ComponentState => ({
    serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN } },
    deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {}, ...(rollout ? { rollout } : {}) },
    pods: [{ name: 'central-1', roleArn: ROLE_ARN }],
  });
  const restartOf = (p: Plan) => p.actions.find((a): a is Extract<Action, { type: 'restart' }> => a.type === 'restart')!;

  it('is waited for again, though the wiring and the pods are in place', () => {
    const p = buildPlan(facts(cluster(inPlace({ state: 'progressing', message: '1/1 updated, 0 available' }))), decisions, undefined);
    const r = restartOf(p);
    expect(r).toMatchObject({ status: 'update', method: 'rollout', deferred: false });
    expect(r.summary).toBe('Wait for central to finish rolling out (its last rollout has not finished: 1/1 updated, 0 available)');
    expect(p.restarts).toEqual([]);
  });

  it('a failed one too; a finished one needs nothing', () => {
    const failed = buildPlan(facts(cluster(inPlace({ state: 'failed', message: 'progress deadline exceeded (1/1 updated, 0 available)' }))), decisions, undefined);
    expect(restartOf(failed).summary).toMatch(/its last rollout failed: progress deadline exceeded/);
    expect(restartOf(buildPlan(facts(cluster(inPlace())), decisions, undefined))).toMatchObject({ status: 'unchanged' });
  });
});

describe('podBlocker: why a rollout cannot finish, with the fix', () => {
  const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'central-abc' }, status });
  it('unschedulable', () => {
    const b = podBlocker(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector." }] }), 'stackrox');
    expect(b?.cause).toBe("no node can run pod central-abc (0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.)");
    expect(b?.fix).toMatch(/nodeSelector, affinity, tolerations and resource requests/);
  });
  it('image pull', () => {
    const b = podBlocker(pod({ phase: 'Pending', containerStatuses: [{ name: 'central', image: 'quay.io/stackrox-io/main:9.9.9', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] }), 'stackrox');
    expect(b?.cause).toMatch(/image of container central of pod central-abc cannot be pulled \(ImagePullBackOff: Back-off pulling image\)/);
    expect(b?.fix).toMatch(/quay\.io\/stackrox-io\/main:9\.9\.9.*pull secret/);
  });
  it('crash loop', () => {
    const b = podBlocker(pod({ phase: 'Running', containerStatuses: [{ name: 'central', image: 'x', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }] }), 'stackrox');
    expect(b?.cause).toBe('container central of pod central-abc keeps crashing (CrashLoopBackOff, last exit code 1 (Error), 4 restarts)');
    expect(b?.fix).toBe('Read why it stops: kubectl -n stackrox logs central-abc -c central --previous.');
  });
  it('a pod that is only starting says nothing', () => {
    expect(podBlocker(pod({ phase: 'Pending' }), 'stackrox')).toBeUndefined();
  });
});

describe('task lines without a terminal', () => {
  it('name the cluster of each line when the plan spans several', () => {
    const actions = [annotate('hub'), annotate('spoke-1'), annotate(''), restart('spoke-1', 'sensor')];
    expect(spansClusters(actions)).toBe(true);
    expect(spansClusters([annotate('hub'), restart('hub')])).toBe(false);
    const ui = createMemoryUi();
    const tasks = createTaskList(ui, { labelClusters: spansClusters(actions) });
    for (const a of actions.slice(0, 3)) tasks.task(a, 'done');
    tasks.rollout('stackrox', 'sensor', '1/1 updated, 0 available', 'spoke-1');
    tasks.stop();
    expect(ui.stderr).toEqual([
      '✓ [hub] Annotate service account sensor',
      '✓ [spoke-1] Annotate service account sensor',
      '✓ [current context] Annotate service account sensor',
      '› [spoke-1] rollout stackrox/sensor: 1/1 updated, 0 available',
    ]);
  });

  it('stay as they were for one cluster', () => {
    const ui = createMemoryUi();
    const tasks = createTaskList(ui, { labelClusters: spansClusters([annotate('hub')]) });
    tasks.task(annotate('hub'), 'done');
    expect(ui.stderr).toEqual(['✓ Annotate service account sensor']);
  });
});

describe("--central-context hub: the hub's own Sensor", () => {
  it('is configured with Central (delegated scanning is implied by --sensor-context); a secured cluster gives only its Sensor', async () => {
    const { onlyRole } = await import('../../src/discover.js');
    const hub = { key: 'hub', context: 'hub', role: 'central', flag: '--central-context' } as const;
    const spoke = { key: 'spoke-1', context: 'spoke-1', role: 'sensor', flag: '--sensor-context' } as const;
    expect(onlyRole(['central', 'sensor'], hub, 'hub', 'stackrox')).toEqual(['central', 'sensor']);
    expect(onlyRole(['central'], hub, 'hub', 'stackrox')).toEqual(['central']);
    expect(onlyRole(['central', 'sensor'], spoke, 'spoke-1', 'stackrox')).toEqual(['sensor']);
    expect(() => onlyRole(['sensor'], hub, 'hub', 'stackrox')).toThrow(/Central does not run in namespace stackrox/);
  });
});
