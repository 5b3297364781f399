/**
 * Waits for deployments to roll out: one watch per deployment (field selector on its name),
 * started from a list's resourceVersion, judged as `kubectl rollout status` does. Progress goes
 * to the callback whenever it changes. On the timeout (or a ProgressDeadlineExceeded condition)
 * the error names the deployment and what its pods report (waiting reasons, failed conditions), or
 * that no pods were created. Every loop is bounded: the deadline, and a cap on watch restarts.
 */
import { type V1Deployment, type V1LabelSelector, type V1Pod } from '@kubernetes/client-node';
import { CancelledError, OperationError, RhacsStsError } from '../errors.js';
import type { KubeApi } from './api.js';
import { kubeStatus, mapKubeError, type KubeCall } from './errors.js';
import type { RolloutProgress } from './session.js';

/** Cap on re-listing and re-watching one deployment (watches end at the server's timeout, or on 410 Gone). */
const MAX_WATCH_RESTARTS = 100;

export interface RolloutEvaluation {
  state: 'done' | 'progressing' | 'failed';
  message: string;
}

/** Judges a deployment's rollout from its status, like `kubectl rollout status`. */
export function evaluateRollout(d: V1Deployment): RolloutEvaluation {
  const generation = d.metadata?.generation ?? 0;
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const replicas = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const counts = `${updated}/${want} updated, ${available} available`;
  if ((s.observedGeneration ?? 0) < generation) return { state: 'progressing', message: `waiting for the deployment controller to see the change (${counts})` };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `progress deadline exceeded (${counts})${progressing.message ? `: ${progressing.message}` : ''}` };
  }
  if (updated < want) return { state: 'progressing', message: counts };
  if (replicas > updated) return { state: 'progressing', message: `${counts}, ${replicas - updated} old pod${replicas - updated === 1 ? '' : 's'} terminating` };
  if (available < updated || ready < updated) return { state: 'progressing', message: `${counts}, ${ready} ready` };
  return { state: 'done', message: `rolled out (${counts})` };
}

/** A label selector as a query string (`app=central,tier in (a,b)`). */
export function selectorString(sel: V1LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function describePod(p: V1Pod): string {
  const bits: string[] = [];
  const st = p.status;
  for (const c of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])]) {
    if (c.state?.waiting?.reason) bits.push(`container ${c.name} waiting: ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`);
    else if (c.state?.terminated) bits.push(`container ${c.name} terminated: ${c.state.terminated.reason ?? 'exit'} (exit code ${c.state.terminated.exitCode})`);
    else if (!c.ready) bits.push(`container ${c.name} not ready${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`);
  }
  for (const c of st?.conditions ?? []) {
    if (c.status === 'False' && (c.reason || c.message)) bits.push(`${c.type}: ${c.reason ?? ''}${c.message ? ` (${c.message})` : ''}`.trim());
  }
  if (st?.reason) bits.push(`${st.reason}${st.message ? `: ${st.message}` : ''}`);
  const ready = st?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return `pod ${p.metadata?.name}: ${st?.phase ?? 'Unknown'}${bits.length ? ` — ${[...new Set(bits)].join('; ')}` : ready ? ', ready' : ''}`;
}

/** Why a rollout cannot finish, read from one pod, with the fix; undefined when nothing says. */
export function podBlocker(p: V1Pod, namespace: string): { cause: string; fix: string } | undefined {
  const pod = p.metadata?.name ?? '';
  const st = p.status;
  const scheduled = st?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      cause: `no node can run pod ${pod}${scheduled.message ? ` (${scheduled.message})` : ''}`,
      fix: `Give it a node it fits on: check the deployment's nodeSelector, affinity, tolerations and resource requests against the nodes (kubectl get nodes --show-labels; kubectl -n ${namespace} describe pod ${pod}), or add capacity.`,
    };
  }
  for (const c of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])]) {
    const reason = c.state?.waiting?.reason ?? '';
    if (['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull'].includes(reason)) {
      return {
        cause: `the image of container ${c.name} of pod ${pod} cannot be pulled (${reason}${c.state?.waiting?.message ? `: ${c.state.waiting.message}` : ''})`,
        fix: `Check the image name and tag (${c.image ?? 'kubectl -n ' + namespace + ' get pod ' + pod + ' -o yaml'}), that the registry is reachable from the nodes and the pull secret (imagePullSecrets) is valid; kubectl -n ${namespace} describe pod ${pod} shows the registry's answer.`,
      };
    }
    if (reason === 'CrashLoopBackOff' || (c.lastState?.terminated && (c.restartCount ?? 0) > 0 && !c.ready)) {
      const t = c.lastState?.terminated;
      return {
        cause: `container ${c.name} of pod ${pod} keeps crashing (${reason || 'restarting'}${t ? `, last exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}` : ''}, ${c.restartCount ?? 0} restarts)`,
        fix: `Read why it stops: kubectl -n ${namespace} logs ${pod} -c ${c.name} --previous.`,
      };
    }
    if (reason === 'CreateContainerConfigError') {
      return {
        cause: `container ${c.name} of pod ${pod} cannot be created (${c.state?.waiting?.message ?? reason})`,
        fix: `Create the Secret or ConfigMap it names, or correct the reference: kubectl -n ${namespace} describe pod ${pod}.`,
      };
    }
  }
  return undefined;
}

/** The pod's latest warning event ("FailedScheduling: 0/2 nodes are available: …"), if any. */
async function lastWarning(api: KubeApi, namespace: string, pod: string): Promise<string | undefined> {
  try {
    const events = await api.call({ verb: 'list', group: '', resource: 'events', namespace }, () =>
      api.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod},type=Warning`, limit: 20 }),
    );
    const when = (e: (typeof events.items)[number]) => Date.parse(String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '')) || 0;
    const last = [...events.items].sort((a, b) => when(b) - when(a))[0];
    return last ? `${last.reason ?? 'Warning'}: ${(last.message ?? '').trim()}` : undefined;
  } catch {
    return undefined; // events may not be readable: the pods' own status still says enough
  }
}

/**
 * What the deployment's pods (and its failure conditions) say, for a timeout, failure or
 * interruption: the notes, and the fixes for the causes found (unschedulable, image pull, crash loop).
 */
async function podReasons(api: KubeApi, d: V1Deployment): Promise<{ notes: string; fixes: string[] }> {
  const namespace = d.metadata!.namespace!;
  const selector = selectorString(d.spec?.selector);
  const notes: string[] = [];
  const fixes: string[] = [];
  for (const c of d.status?.conditions ?? []) {
    if ((c.type === 'ReplicaFailure' && c.status === 'True') || (c.type !== 'ReplicaFailure' && c.status === 'False')) {
      notes.push(`${c.type} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`.trim());
    }
  }
  try {
    const pods = await api.call({ verb: 'list', group: '', resource: 'pods', namespace }, () =>
      api.core.listNamespacedPod({ namespace, labelSelector: selector || undefined, limit: 50 }),
    );
    if (pods.items.length === 0) notes.push('no pods were created');
    // Each pod as it reports itself; for one that is not ready, the cause (its status, else its
    // latest warning event) and the fix, where they say.
    for (const p of pods.items.slice(0, 5)) {
      const stuck = !p.metadata?.deletionTimestamp && !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const blocker = stuck ? podBlocker(p, namespace) : undefined;
      const warning = stuck ? await lastWarning(api, namespace, p.metadata?.name ?? '') : undefined;
      if (blocker) {
        notes.push(`${blocker.cause[0]!.toUpperCase()}${blocker.cause.slice(1)}${warning && !blocker.cause.includes(warning.replace(/^[^:]*: /, '')) ? ` [${warning}]` : ''}`);
        if (!fixes.includes(blocker.fix)) fixes.push(blocker.fix);
      } else notes.push(`${describePod(p)}${warning ? ` [${warning}]` : ''}`);
    }
    if (pods.items.length > 5) notes.push(`and ${pods.items.length - 5} more pods`);
  } catch (err) {
    notes.push(`could not list its pods (${err instanceof Error ? err.message : String(err)})`);
  }
  return { notes: notes.join('; '), fixes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `1.5s`, `90s`, `5m`, `5m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
}

async function waitOne(
  api: KubeApi,
  ref: { namespace: string; name: string },
  deadline: number,
  timeoutMs: number,
  onProgress: (p: RolloutProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { namespace, name } = ref;
  // Interrupted: the rollout is not finished, and says why when its pods do.
  const stopped = async (): Promise<CancelledError> => {
    const reasons = last ? await podReasons(api, last).catch(() => undefined) : undefined;
    return new CancelledError(
      `Interrupted while waiting for deployment ${namespace}/${name}: the change is in place and Kubernetes goes on rolling it out, but the rollout has not finished (${lastMessage || 'no status yet'})${reasons?.notes ? `. ${reasons.notes}` : ''}.`,
      `${reasons?.fixes.length ? `${reasons.fixes.join(' ')} ` : ''}A re-run waits for the rollout again.`,
    );
  };
  const path = `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const fieldSelector = `metadata.name=${name}`;
  const listCall: KubeCall = { verb: 'list', group: 'apps', resource: 'deployments', namespace };
  const watchCall: KubeCall = { verb: 'watch', group: 'apps', resource: 'deployments', namespace };
  let lastMessage = '';
  let last: V1Deployment | undefined;
  const report = (d: V1Deployment): RolloutEvaluation => {
    last = d;
    const ev = evaluateRollout(d);
    if (ev.message !== lastMessage) {
      lastMessage = ev.message;
      onProgress({ namespace, name, message: ev.message, ...(ev.state === 'done' ? { done: true } : {}) });
    }
    return ev;
  };
  const fail = async (why: string): Promise<never> => {
    const reasons = last ? await podReasons(api, last) : { notes: '', fixes: [] };
    throw new OperationError(`Deployment ${namespace}/${name} ${why}: ${lastMessage || 'no status yet'}${reasons.notes ? `. ${reasons.notes}` : ''}.`, {
      hint: `${reasons.fixes.length ? `${reasons.fixes.join(' ')} ` : `Look closer with: kubectl -n ${namespace} describe deployment/${name}; kubectl -n ${namespace} get pods${last ? ` -l '${selectorString(last.spec?.selector)}'` : ''}. `}The configuration is in place; once the pods are ready, check with: rhacs-sts verify.`,
    });
  };

  for (let restart = 0; restart < MAX_WATCH_RESTARTS; restart++) {
    if (signal?.aborted) throw await stopped();
    if (Date.now() >= deadline) return fail(`did not become ready within ${formatDuration(timeoutMs)}`);
    const list = await api.call(listCall, () => api.apps.listNamespacedDeployment({ namespace, fieldSelector }));
    const d = list.items[0];
    if (!d) throw new OperationError(`Deployment ${namespace}/${name} does not exist (it was deleted while rhacs-sts waited for it).`);
    d.metadata = { ...d.metadata, namespace: d.metadata?.namespace ?? namespace };
    const ev = report(d);
    if (ev.state === 'done') return;
    if (ev.state === 'failed') return fail('failed to roll out');

    type Outcome = { kind: 'done' | 'failed' | 'timeout' | 'restart' | 'error' | 'interrupted'; err?: unknown };
    const outcome = await new Promise<Outcome>((resolve) => {
      let controller: AbortController | undefined;
      let settled = false;
      const onAbort = () => finish({ kind: 'interrupted' });
      const finish = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(o);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort(); // aborted while the list was in flight
      const remainingS = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      api.log(`kube WATCH ${path}?fieldSelector=${fieldSelector}&resourceVersion=${list.metadata?.resourceVersion ?? ''}`);
      api.makeWatch()
        .watch(
          path,
          { fieldSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: Math.min(remainingS, 300) },
          (type, obj: V1Deployment) => {
            if (settled) return;
            if (type === 'ERROR') return finish({ kind: 'restart' }); // e.g. 410 Gone: list again
            if (type === 'BOOKMARK') return;
            if (type === 'DELETED') return finish({ kind: 'error', err: new OperationError(`Deployment ${namespace}/${name} was deleted while rhacs-sts waited for it.`) });
            const e = report({ ...obj, metadata: { ...obj.metadata, namespace } });
            if (e.state === 'done') finish({ kind: 'done' });
            else if (e.state === 'failed') finish({ kind: 'failed' });
          },
          (err) => {
            if (settled) return;
            const status = kubeStatus(err);
            if (status === 401 || status === 403) finish({ kind: 'error', err: mapKubeError(err, watchCall, api.endpoint) });
            else finish({ kind: 'restart', err });
          },
        )
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        })
        .catch((err: unknown) => finish({ kind: 'restart', err }));
    });
    if (outcome.kind === 'done') return;
    if (outcome.kind === 'interrupted') throw await stopped();
    if (outcome.kind === 'failed') return fail('failed to roll out');
    if (outcome.kind === 'timeout') return fail(`did not become ready within ${formatDuration(timeoutMs)}`);
    if (outcome.kind === 'error') throw outcome.err instanceof RhacsStsError ? outcome.err : mapKubeError(outcome.err, watchCall, api.endpoint);
    if (outcome.err) api.log(`kube: watch of ${namespace}/${name} ended (${outcome.err instanceof Error ? outcome.err.message : String(outcome.err)}); listing again`);
    await sleep(Math.min(2000, 100 * (restart + 1)));
  }
  return fail(`was still rolling out after ${MAX_WATCH_RESTARTS} watch restarts`);
}

/**
 * Waits for every deployment (concurrently) until rolled out or `timeoutMs` has passed. All are
 * waited for; if any did not become ready, one error lists each with its pods' reasons.
 */
export async function waitForRollouts(
  api: KubeApi,
  refs: { namespace: string; name: string }[],
  timeoutMs: number,
  onProgress: (p: RolloutProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const unique = [...new Map(refs.map((r) => [`${r.namespace}/${r.name}`, r])).values()];
  const deadline = Date.now() + timeoutMs;
  const results = await Promise.allSettled(unique.map((r) => waitOne(api, r, deadline, timeoutMs, onProgress, signal)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  const interrupted = failures.find((f) => f instanceof CancelledError);
  if (interrupted) throw interrupted;
  if (failures.length === 1) throw failures[0];
  const typed = failures.map((f) => (f instanceof RhacsStsError ? f : new OperationError(String(f))));
  throw new OperationError(typed.map((f) => f.message).join('\n'), { hint: typed[0]!.hint, exitCode: typed.some((f) => f.exitCode === 2) ? 2 : 1 });
}
