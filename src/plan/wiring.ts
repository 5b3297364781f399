/**
 * The cluster side of a plan for a platform whose pods take their identity from service-account
 * annotations (GKE; AKS adds a pod label): per cluster and component, the annotation (live), its
 * durable copy (operator overlay or Helm values, as the platform says), and the restart the
 * platform's rule asks for. Cloud-neutral and pure: the identity comes in as a `PodWiring`.
 */
import type { PodWiring } from '../platforms/types.js';
import type { ClusterFacts, Component } from './model.js';
import { planRestart, restartIsOutage, unfinishedRollout, waitForRollout } from './restarts.js';
import { overlayAction, walkWiring, type WiringPart } from './wiring-loop.js';

export interface WiringInput {
  clusters: ClusterFacts[];
  delegatedScanning: boolean;
  restart: boolean;
  /** The wiring of a component (the same identity for both, today). */
  wiring: (cluster: ClusterFacts, comp: Component) => PodWiring;
  /** What the identity is, for people ("Google service account x@p.iam.gserviceaccount.com"). */
  identity: string;
  /** The fix when a service account already names another identity (e.g. the flag that names it). */
  foreignHint: (current: string) => string;
  /** Why the pods need a restart (the platform's words). */
  restartWhy: string;
}

export type { WiringPart } from './wiring-loop.js';

/** Pure: the Kubernetes part of an init plan for annotation wiring. */
export function planAnnotationWiring(i: WiringInput): WiringPart {
  return walkWiring({ ...i, what: 'the annotation' }, (c, { kubernetes, restarts, actions, blockers, outages }) => {
    const { cluster, comp, ref, where, state, wiring, durability, known } = c;
    const annotations = wiring.serviceAccountAnnotations ?? {};
    kubernetes.push({ kind: 'ServiceAccount', context: cluster.context, namespace: cluster.namespace, name: comp, annotations, durability });
    const current = state?.serviceAccount?.annotations ?? {};
    const differing = Object.entries(annotations).filter(([k, v]) => current[k] !== v);
    const status = !known || !state?.serviceAccount ? 'create'
      : differing.length === 0 ? 'unchanged'
      : differing.every(([k]) => current[k] === undefined) ? 'create' : 'update';
    // An annotation naming another identity is someone's wiring: never replaced silently.
    const foreign = differing.filter(([k]) => current[k] !== undefined);
    if (known && foreign.length) {
      blockers.push({
        message: `Service account ${where}${comp} already has ${foreign.map(([k]) => `${k}=${current[k]}`).join(', ')}: ${comp === 'central' ? 'Central' : 'Sensor'} acts as that identity for every integration that uses the pod's identity; rhacs-sts does not replace it.`,
        hint: i.foreignHint(current[foreign[0]![0]]!),
      });
    }
    actions.push({
      id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status,
      target: `${where}serviceaccount/${comp}`,
      summary: `Annotate service account ${comp} with ${Object.keys(annotations).join(', ')} (${i.identity})`,
      current: known ? (Object.keys(annotations).some((k) => current[k] !== undefined) ? Object.fromEntries(Object.keys(annotations).map((k) => [k, current[k] ?? null])) : null) : undefined,
      desired: annotations,
      ref, annotations,
    });
    const overlay = overlayAction(c);
    if (overlay) actions.push(overlay);
    // Pod labels (AKS: the webhook mutates only labelled pods), live on the pod template.
    const labels = wiring.podLabels ?? {};
    const currentLabels = state?.deployment?.podTemplateLabels;
    const missingLabels = Object.entries(labels).filter(([k, v]) => currentLabels?.[k] !== v);
    const labelsChange = Object.keys(labels).length > 0 && (!known || currentLabels === undefined || missingLabels.length > 0);
    if (Object.keys(labels).length) {
      actions.push({
        id: `pod-labels:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'pod-labels',
        status: labelsChange ? (i.restart ? 'update' : 'unchanged') : 'unchanged',
        target: `${where}deployment/${comp}`,
        summary: labelsChange && !i.restart
          ? `Label ${comp}'s pod template with ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}: deferred (--no-restart; it rolls the pods)`
          : `Label ${comp}'s pod template with ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')} (${i.identity} reaches only labelled pods)`,
        current: known ? Object.fromEntries(Object.keys(labels).map((k) => [k, currentLabels?.[k] ?? null])) : undefined,
        desired: labels,
        ref, labels, ...(labelsChange && !i.restart ? { deferred: true } : {}),
      });
    }
    const changed = (status !== 'unchanged' || labelsChange) && c.platform.restart.needed(wiring);
    const unfinished = changed ? undefined : unfinishedRollout(state);
    if (unfinished) {
      actions.push(waitForRollout(cluster, comp, ref, where, unfinished));
      return;
    }
    const restartAction = planRestart({
      cluster, comp, ref, where, changed, deferredRollout: false, outage: restartIsOutage(state?.deployment, comp), restart: i.restart,
      words: {
        deferredRollout: `Rollout of ${comp} deferred (--no-restart)`,
        restart: () => `Restart ${comp} so that new pods act as the identity (${i.restartWhy}) and wait until ready`,
      },
    }, { restarts, outages });
    // The label patch rolls the pods itself: the restart only waits for that rollout (one rollout, not two),
    // and the plan's restarts list says so too.
    if (labelsChange && i.restart && restartAction.status !== 'unchanged') {
      restartAction.method = 'rollout';
      const listed = restarts.at(-1);
      if (listed && listed.context === cluster.context && listed.namespace === cluster.namespace && listed.name === comp) listed.method = 'rollout';
    }
    actions.push(restartAction);
  });
}
