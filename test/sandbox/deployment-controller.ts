// A small stand-in for the Kubernetes deployment controller (no controller-manager or kubelet runs in
// the sandbox). It watches Deployments and, for each new generation:
//   1. at once reports the rollout as observed and progressing (observedGeneration = generation,
//      updatedReplicas 0, Progressing/ReplicaSetUpdated), as the real controller does;
//   2. after `delayMs` replaces the deployment's pod with one for the new template (name
//      `<deployment>-<template hash>`, labels from the template, Running/Ready, startTime now);
//   3. marks the rollout complete (as fixtures.completeRollout does).
// A deployment can opt out with the annotation `sandbox.rhacs-sts.test/rollout`:
//   `hang` (stays at step 1) or `fail` (Progressing=False, ProgressDeadlineExceeded).
// Every loop is bounded; stop() ends the watch and pending timers.
import { AppsV1Api, CoreV1Api, KubeConfig, Watch, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { apiStatus, completedStatus, mergePatch, templateHash } from './fixtures.js';

export const ROLLOUT_ANNOTATION = 'sandbox.rhacs-sts.test/rollout';

export interface DeploymentControllerOptions {
  /** Delay between observing a new generation and completing its rollout (default 500 ms). */
  delayMs?: number;
  /** Watch only this namespace (default: all namespaces). */
  namespace?: string;
  /** Create a pod per deployment (default true). */
  pods?: boolean;
  log?: (message: string) => void;
  /** Upper bound on watch restarts before giving up (default 10 000). */
  maxRestarts?: number;
}

export interface DeploymentController {
  stop(): Promise<void>;
  /** Number of rollouts completed so far. */
  readonly completed: number;
  /** Resolves once the initial list has been processed and the watch is running. */
  readonly ready: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startDeploymentController(kc: KubeConfig, opts: DeploymentControllerOptions = {}): DeploymentController {
  const delayMs = opts.delayMs ?? 500;
  const withPods = opts.pods ?? true;
  const log = opts.log ?? (() => undefined);
  const maxRestarts = opts.maxRestarts ?? 10_000;
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);

  let stopped = false;
  let completed = 0;
  let abort: AbortController | undefined;
  const timers = new Map<string, NodeJS.Timeout>();
  /** key -> generation already handled (or scheduled). */
  const handled = new Map<string, number>();
  const inflight = new Set<Promise<unknown>>();

  const track = <T>(p: Promise<T>) => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  async function syncPod(d: V1Deployment): Promise<void> {
    const ns = d.metadata!.namespace!;
    const name = d.metadata!.name!;
    const hash = templateHash(d.spec?.template);
    const podName = `${name}-${hash}`.slice(0, 253);
    const selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    // Remove pods of older templates of this deployment.
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: selector || undefined });
    for (const p of pods.items) {
      const owned = p.metadata?.annotations?.['sandbox.rhacs-sts.test/deployment'] === name;
      if (owned && p.metadata?.name !== podName) {
        await core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 }).catch((e) => {
          if (apiStatus(e) !== 404) throw e;
        });
      }
    }
    if ((d.spec?.replicas ?? 1) === 0) return;
    const existing = pods.items.find((p) => p.metadata?.name === podName);
    if (existing) return;
    const template = d.spec?.template ?? {};
    const pod: V1Pod = {
      metadata: {
        name: podName,
        namespace: ns,
        labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
        annotations: { ...(template.metadata?.annotations ?? {}), 'sandbox.rhacs-sts.test/deployment': name },
      },
      spec: template.spec!,
    };
    try {
      await core.createNamespacedPod({ namespace: ns, body: pod });
    } catch (e) {
      if (apiStatus(e) !== 409) throw e;
    }
    const now = new Date().toISOString();
    await core.patchNamespacedPodStatus(
      {
        name: podName,
        namespace: ns,
        body: {
          status: {
            phase: 'Running',
            startTime: now,
            podIP: '10.244.0.10',
            hostIP: '10.0.1.20',
            conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
              type,
              status: 'True',
              lastTransitionTime: now,
            })),
            containerStatuses: (template.spec?.containers ?? []).map((c) => ({
              name: c.name,
              image: c.image ?? '',
              imageID: '',
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            })),
          },
        },
      },
      mergePatch(),
    );
  }

  async function observe(d: V1Deployment): Promise<void> {
    const now = new Date().toISOString();
    const replicas = d.spec?.replicas ?? 1;
    const prev = d.status ?? {};
    await apps.patchNamespacedDeploymentStatus(
      {
        name: d.metadata!.name!,
        namespace: d.metadata!.namespace!,
        body: {
          status: {
            observedGeneration: d.metadata?.generation,
            replicas: Math.max(prev.replicas ?? 0, replicas),
            updatedReplicas: 0,
            readyReplicas: prev.readyReplicas ?? 0,
            availableReplicas: prev.availableReplicas ?? 0,
            unavailableReplicas: replicas,
            conditions: [
              ...(prev.conditions ?? []).filter((c) => c.type !== 'Progressing'),
              {
                type: 'Progressing',
                status: 'True',
                reason: 'ReplicaSetUpdated',
                message: `ReplicaSet "${d.metadata!.name}-${templateHash(d.spec?.template)}" is progressing.`,
                lastUpdateTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        },
      },
      mergePatch(),
    );
  }

  async function finish(key: string, generation: number): Promise<void> {
    const [ns = '', name = ''] = key.split('/');
    let d: V1Deployment;
    try {
      d = await apps.readNamespacedDeployment({ name, namespace: ns });
    } catch (e) {
      if (apiStatus(e) === 404) return;
      throw e;
    }
    if ((d.metadata?.generation ?? 0) !== generation) return; // superseded; a newer event handles it
    const mode = d.metadata?.annotations?.[ROLLOUT_ANNOTATION];
    if (mode === 'hang') return;
    if (mode === 'fail') {
      const now = new Date().toISOString();
      await apps.patchNamespacedDeploymentStatus(
        {
          name,
          namespace: ns,
          body: {
            status: {
              conditions: [
                ...(d.status?.conditions ?? []).filter((c) => c.type !== 'Progressing'),
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                  message: `ReplicaSet "${name}-${templateHash(d.spec?.template)}" has timed out progressing.`,
                  lastUpdateTime: now,
                  lastTransitionTime: now,
                },
              ],
            },
          },
        },
        mergePatch(),
      );
      return;
    }
    if (withPods) await syncPod(d);
    await apps.patchNamespacedDeploymentStatus({ name, namespace: ns, body: { status: completedStatus(d) } }, mergePatch());
    completed++;
    log(`rollout of ${key} (generation ${generation}) complete`);
  }

  function onDeployment(type: string, d: V1Deployment): void {
    if (stopped || !d?.metadata?.name) return;
    const key = `${d.metadata.namespace}/${d.metadata.name}`;
    if (type === 'DELETED') {
      clearTimeout(timers.get(key));
      timers.delete(key);
      handled.delete(key);
      return;
    }
    const generation = d.metadata.generation ?? 0;
    const s = d.status ?? {};
    const replicas = d.spec?.replicas ?? 1;
    const alreadyComplete =
      s.observedGeneration === generation &&
      s.updatedReplicas === replicas &&
      s.availableReplicas === replicas &&
      s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
    if (alreadyComplete || handled.get(key) === generation) return;
    handled.set(key, generation);
    clearTimeout(timers.get(key));
    track(
      (async () => {
        try {
          if (s.observedGeneration !== generation) await observe(d);
        } catch (e) {
          log(`observing ${key} failed: ${(e as Error).message}`);
        }
        if (stopped) return;
        timers.set(
          key,
          setTimeout(() => {
            timers.delete(key);
            if (stopped) return;
            track(
              finish(key, generation).catch((e) => {
                log(`completing ${key} failed: ${(e as Error).message}`);
                if (handled.get(key) === generation) handled.delete(key); // retry on the next event
              }),
            );
          }, delayMs),
        );
      })(),
    );
  }

  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const loop = track(
    (async () => {
      for (let restart = 0; !stopped && restart < maxRestarts; restart++) {
        try {
          const list = opts.namespace
            ? await apps.listNamespacedDeployment({ namespace: opts.namespace })
            : await apps.listDeploymentForAllNamespaces();
          for (const d of list.items) onDeployment('ADDED', d);
          const path = opts.namespace ? `/apis/apps/v1/namespaces/${opts.namespace}/deployments` : '/apis/apps/v1/deployments';
          const ended = new Promise<void>((resolveEnded) => {
            watch
              .watch(
                path,
                { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
                (type, obj) => onDeployment(type, obj as V1Deployment),
                () => resolveEnded(),
              )
              .then((a) => {
                abort = a;
                if (stopped) a.abort();
                resolveReady();
              })
              .catch(() => resolveEnded());
          });
          await ended;
        } catch (e) {
          if (!stopped) log(`deployment watch failed: ${(e as Error).message}`);
        }
        if (!stopped) await sleep(Math.min(5000, 200 * (restart + 1)));
      }
      resolveReady();
    })(),
  );

  return {
    ready,
    get completed() {
      return completed;
    },
    async stop() {
      stopped = true;
      abort?.abort();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      // Let in-flight API calls settle, bounded.
      await Promise.race([Promise.allSettled([...inflight, loop]), sleep(5000)]);
      resolveReady();
    },
  };
}

/** Starts one stand-in deployment controller per sandbox cluster, each as its own user. */
export async function startDeploymentControllers(
  info: { clusters: Record<string, { controllerKubeconfig: string; context: string }> },
  opts: DeploymentControllerOptions = {},
): Promise<DeploymentController[]> {
  const controllers = Object.values(info.clusters).map((c) => {
    const kc = new KubeConfig();
    kc.loadFromFile(c.controllerKubeconfig);
    kc.setCurrentContext(c.context);
    return startDeploymentController(kc, opts);
  });
  // Bounded: ready resolves once the first watch is established (or the controller gives up).
  await Promise.race([Promise.all(controllers.map((c) => c.ready)), sleep(15_000)]);
  return controllers;
}
