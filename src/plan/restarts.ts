/**
 * When pods must restart, and what a restart costs (pure). Used by the init and uninstall plans.
 *
 * - EKS: the webhook injects the role into a pod only when the pod is created, so a restart is
 *   needed exactly while a running pod does not carry the wanted role. That is read from the
 *   pods themselves; only when they may not be listed does a timestamp stand in for it (when
 *   rhacs-sts's own field manager last wrote the annotation, never another manager's write).
 * - OpenShift: the wiring is the pod template (env, token volume), so changing it is the restart;
 *   --no-restart can only be honoured where a durable copy can wait for a rollout (Helm values).
 * - Central's Deployment uses the Recreate strategy: a restart stops the old pod before the new
 *   one is ready, a short outage, which the plan and the confirmation say.
 */
import { OPENSHIFT_TOKEN_DIR, RESTARTED_AT_ANNOTATION, type Action, type ClusterFacts, type Component, type ComponentState, type DeploymentState, type KubeRef, type Plan, type AnyPlan } from './model.js';
import { platform } from '../platforms/registry.js';
import type { RestartRule } from '../platforms/types.js';

/**
 * EKS: true when a running pod of the component does not carry `arn` (AWS_ROLE_ARN, injected by
 * the webhook at pod creation), so a restart would give it the role. Pods the webhook is told to
 * skip, and a container that sets AWS_ROLE_ARN itself (the webhook never overrides it), cannot be
 * changed by a restart and do not count.
 */
export function eksRestartNeeded(state: ComponentState | undefined, arn: string): boolean {
  if (!state) return false;
  if (Array.isArray(state.pods)) {
    if (state.deployment?.env.some((e) => e.name === 'AWS_ROLE_ARN')) return false;
    return state.pods.some((p) => !p.webhookOptOut && p.roleArn !== arn);
  }
  // The pods could not be listed: judge from when rhacs-sts itself last wrote the annotation.
  return restartOutdated(state.serviceAccount?.roleAnnotationSetAt, state.deployment?.podTemplateAnnotations);
}

/**
 * EKS Pod Identity: true when a running pod of the component does not carry the container
 * credentials env (injected at pod creation for a service account with an association), or still
 * carries AWS_ROLE_ARN (web identity comes first in the SDKs' chain, so such a pod keeps IRSA).
 * When the pods may not be listed, the association being new (`changed`) is what decides.
 */
export function podIdentityRestartNeeded(state: ComponentState | undefined, changed: boolean): boolean {
  if (!state) return false;
  if (!Array.isArray(state.pods)) return changed;
  if (state.deployment?.env.some((e) => e.name === 'AWS_ROLE_ARN')) return changed;
  return state.pods.some((p) => !p.webhookOptOut && (!p.containerCredentials || p.roleArn !== undefined));
}

/** EKS back to IRSA (or uninstall): true when a running pod still carries the Pod Identity env. */
export function podIdentityLeftover(state: ComponentState | undefined): boolean {
  return Array.isArray(state?.pods) && state.pods.some((p) => p.containerCredentials === true);
}

/**
 * How the component's last rollout stands when it has not completed ("has not finished: 1/1
 * updated, 0 available", "failed: progress deadline exceeded …"); undefined when it completed.
 * A restart is done only when its rollout is: after an interrupted or timed-out wait, a re-run
 * waits again instead of finding nothing to do.
 */
export function unfinishedRollout(state: ComponentState | undefined): string | undefined {
  const r = state?.deployment?.rollout;
  return r ? `${r.state === 'failed' ? 'failed' : 'has not finished'}: ${r.message}` : undefined;
}

/** True when the deployment's last restart (restartedAt) is older than the annotation, or absent. */
export function restartOutdated(annotationSetAt: string | undefined, podTemplateAnnotations: Record<string, string> | undefined): boolean {
  if (!annotationSetAt || !podTemplateAnnotations) return false;
  const restartedAt = podTemplateAnnotations[RESTARTED_AT_ANNOTATION];
  if (!restartedAt) return true;
  const r = Date.parse(restartedAt);
  // managedFields times have whole seconds; a restart in the same second counts as after.
  return Number.isFinite(r) && r < Date.parse(annotationSetAt);
}

/**
 * Whether restarting the component is an outage: its Deployment's strategy is Recreate. When the
 * deployment was not read (offline), Central counts as Recreate, as the StackRox chart renders it.
 */
export function restartIsOutage(deployment: DeploymentState | null | undefined, comp: Component): boolean {
  const strategy = deployment?.strategy ?? (deployment ? 'RollingUpdate' : comp === 'central' ? 'Recreate' : 'RollingUpdate');
  return strategy === 'Recreate';
}

const TITLE: Record<Component, string> = { central: 'Central', sensor: 'Sensor' };

/** The plan note for restarts that are outages. */
export function outageNote(components: Component[]): string {
  const names = [...new Set(components)].map((c) => TITLE[c]);
  const one = names.length === 1;
  return `${names.join(' and ')}'s Deployment${one ? ' uses' : 's use'} the Recreate strategy: the restart stops the running pod before the new one is ready, so ${names.join(' and ')} ${one ? 'is' : 'are'} unavailable for a short while (usually a minute or two).`;
}

/** The words for an outage in a restart action's summary. */
export const OUTAGE_SUFFIX = ' (Recreate strategy: a short outage)';

/** Product version before 4.4 (the charts mount the OpenShift token from 4.4.0 on); undefined when unknown. */
export function before44(version: string | undefined): boolean | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 4 || (major === 4 && minor < 4);
}

/**
 * Why OpenShift's token volume cannot be added where the install keeps its configuration, and
 * the way out. The operator overlay would append a second mount at the path the 4.4+ charts
 * mount themselves: after the upgrade the Deployment would be invalid (mount paths must be
 * unique) and the operator could not reconcile it. Helm values have no place for a volume.
 */
export function tokenVolumeBlocker(
  where: string,
  comp: Component,
  durability: 'operator-overlay' | 'helm-values',
  version: string | undefined,
  /** The variable that points at the token file. */
  tokenVar = 'AWS_WEB_IDENTITY_TOKEN_FILE',
): { message: string; hint: string } {
  const old = before44(version);
  const why = durability === 'operator-overlay'
    ? 'an overlay that appends the volume would collide with the mount the 4.4+ charts add at the same path, leaving the Deployment invalid after an upgrade'
    : 'the chart\'s values have no place for a volume (customize carries environment variables, labels and annotations only), so the next "helm upgrade" would drop it';
  return {
    message: `Deployment ${where}${comp} has no projected service-account token (audience openshift) at ${OPENSHIFT_TOKEN_DIR}, where ${tokenVar} must point. RHACS's charts mount it on OpenShift from 4.4 on${version ? ` (this install is ${version})` : ''}; rhacs-sts does not add it to the ${durability === 'operator-overlay' ? 'operator\'s overlays' : 'Helm values'}: ${why}.`,
    hint: old === false
      ? 'The 4.4+ charts mount it when they know they run on OpenShift (Helm value env.openshift; the operator always does): check how RHACS was installed, then re-run rhacs-sts init.'
      : 'Upgrade RHACS to 4.4 or later (its charts mount the token themselves), then re-run rhacs-sts init.',
  };
}

/**
 * --no-restart where no copy can wait for a rollout: on OpenShift every change of the wiring is
 * a pod-template change. With the operator, the durable copy (the CR's overlays) is applied by
 * the operator at once; plain manifests have no copy but the live one.
 */
export function noRestartBlocker(
  where: string,
  comp: Component,
  durability: 'operator-overlay' | 'live',
  command: 'init' | 'uninstall',
  outage: boolean,
  /** The variables set or removed. */
  variables: readonly string[] = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'],
): { message: string; hint: string } {
  const what = command === 'init' ? 'Setting' : 'Removing';
  const names = variables.length > 1 ? `${variables.slice(0, -1).join(', ')} and ${variables.at(-1)}` : variables.join('');
  return {
    message: `--no-restart: on OpenShift, ${what.toLowerCase()} ${names} on ${where}${comp} changes its pod template, which rolls its pods${durability === 'operator-overlay'
      ? ', and the operator applies the overlays in its resource (the durable copy) at once, rolling them as well'
      : ', and an install from plain manifests has no other copy to write instead'}. rhacs-sts cannot ${command === 'init' ? 'set it up' : 'undo it'} without a rollout.`,
    hint: `Run without --no-restart when a rollout suits${outage ? ` (${TITLE[comp]} uses the Recreate strategy: a short outage)` : ''}.`,
  };
}

/**
 * For the confirmation: the restarts this plan makes that are outages (Recreate strategy);
 * undefined when there are none.
 */
export function outageWarning(plan: AnyPlan): string | undefined {
  const names = [...new Set(plan.actions.flatMap((a) => (a.type === 'restart' && a.status !== 'unchanged' && a.outage ? [a.ref.name] : [])))];
  if (!names.length) return undefined;
  return `${names.join(' and ')} ${names.length === 1 ? 'restarts' : 'restart'} with the Recreate strategy: a short outage`;
}

/** What a restart action is given: the component, whether its wiring changed, and the command's words for it. */
export interface RestartInput {
  cluster: ClusterFacts;
  comp: Component;
  ref: KubeRef;
  /** The cluster and namespace prefix of targets (`ctx: ns/`). */
  where: string;
  changed: boolean;
  /** The change itself is a rollout that waits for "helm upgrade" (--no-restart on OpenShift with Helm). */
  deferredRollout: boolean;
  outage: boolean;
  /** False with --no-restart. */
  restart: boolean;
  /** Uninstall: take our restartedAt marker off rather than set a new one. */
  revertMarker?: boolean;
  words: { deferredRollout: string; restart: (method: RestartRule['method']) => string };
}

/**
 * Nothing to change, but a rollout (an earlier run's, interrupted or timed out) has not finished:
 * the restart is not done until it has, so this run waits for it again.
 */
export function waitForRollout(cluster: { context?: string; namespace: string }, comp: Component, ref: KubeRef, where: string, unfinished: string): Extract<Action, { type: 'restart' }> {
  return {
    id: `restart:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'restart', status: 'update',
    target: `${where}deployment/${comp}`,
    summary: `Wait for ${comp} to finish rolling out (its last rollout ${unfinished})`,
    ref, method: 'rollout', deferred: false,
  };
}

/**
 * The restart action of one component (init and uninstall alike): how the platform makes pods take a
 * changed wiring up, deferred with --no-restart; recorded in the plan's restarts and outages.
 */
export function planRestart(i: RestartInput, out: { restarts: Plan['restarts']; outages: Component[] }): Extract<Action, { type: 'restart' }> {
  const { cluster, comp, changed, outage } = i;
  const method = platform(cluster.provider).restart.method;
  const deferred = !i.restart;
  if (changed) out.restarts.push({ kind: 'Deployment', context: cluster.context, namespace: cluster.namespace, name: comp, method, deferred, ...(outage ? { outage } : {}) });
  if (changed && !deferred && outage) out.outages.push(comp);
  const when = outage ? OUTAGE_SUFFIX : '';
  return {
    id: `restart:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'restart',
    status: changed && !deferred ? 'update' : 'unchanged',
    target: `${i.where}deployment/${comp}`,
    summary: !changed ? `No restart needed for ${comp}`
      : i.deferredRollout ? `${i.words.deferredRollout}${when}`
      : deferred ? `Restart of ${comp} deferred (--no-restart)${when}`
      : `${i.words.restart(method)}${when}`,
    ref: i.ref, method, deferred: deferred && changed, ...(i.revertMarker && method === 'restartedAt' ? { revertMarker: true } : {}), ...(changed && outage ? { outage: true } : {}),
  };
}
