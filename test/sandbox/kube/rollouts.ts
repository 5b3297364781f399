// Rollouts, run by the real deployment and ReplicaSet controllers (kwok makes the pods ready):
// their state as `kubectl rollout status` judges it, and pods that hang or fail on purpose.
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { ROLLOUT_ANNOTATION } from './controllers.js';
import { mergePatch, sleep } from './objects.js';

export interface RolloutState {
  /** True when the deployment controller would report the rollout complete (as `kubectl rollout status` checks). */
  complete: boolean;
  observedGeneration?: number;
  generation?: number;
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  reason?: string;
}

/** Reads a deployment's rollout state the way `kubectl rollout status` judges it. */
export async function rolloutState(kc: KubeConfig, namespace: string, name: string): Promise<RolloutState> {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const complete =
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
  return {
    complete,
    observedGeneration: s.observedGeneration,
    generation: d.metadata?.generation,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    reason: progressing?.reason,
  };
}

/**
 * Makes the next rollout of a deployment hang or fail, for timeout tests: marks its pod template with
 * `sandbox.rhacs-sts.test/rollout` (a template change, so a new rollout starts), whose pods kwok
 * starts but never reports ready. `fail` also sets a short progressDeadlineSeconds (it must exceed
 * minReadySeconds), after which the real deployment controller reports ProgressDeadlineExceeded.
 */
export async function setRolloutMode(kc: KubeConfig, namespace: string, name: string, mode: 'hang' | 'fail'): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const d = await apps.readNamespacedDeployment({ name, namespace });
  const spec: Record<string, unknown> = { template: { metadata: { annotations: { [ROLLOUT_ANNOTATION]: mode } } } };
  if (mode === 'fail') spec.progressDeadlineSeconds = (d.spec?.minReadySeconds ?? 0) + 1;
  await apps.patchNamespacedDeployment({ name, namespace, body: { spec } }, mergePatch());
}

/** Waits (bounded) until the deployment's rollout is complete. */
export async function waitForRollout(kc: KubeConfig, namespace: string, name: string, timeoutMs = 30_000): Promise<RolloutState> {
  const deadline = Date.now() + timeoutMs;
  let state: RolloutState | undefined;
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / 100) + 5 && Date.now() < deadline; attempt++) {
    state = await rolloutState(kc, namespace, name);
    if (state.complete) return state;
    await sleep(100);
  }
  throw new Error(`rollout of ${namespace}/${name} not complete after ${timeoutMs} ms: ${JSON.stringify(state)}`);
}
