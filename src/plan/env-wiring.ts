/**
 * The cluster side of a plan for a platform whose pods take their identity from the container's
 * environment (OpenShift: nothing injects, the deployment itself names the identity and the token
 * file), for a cloud other than AWS: per cluster and component, the variables live on the
 * deployment (with the projected token where an older install lacks it), their durable copy
 * (operator overlay or Helm values, as the platform says), and the rollout the change is. A variable
 * that names another identity is someone's wiring: refused, never replaced. Pure; cloud-neutral:
 * the identity comes in as a `PodWiring` with `env`.
 */
import { platform } from '../platforms/registry.js';
import { HelmValuesByRelease } from './helm-values.js';
import type { PodWiring } from '../platforms/types.js';
import { AUDIENCE, OPENSHIFT_TOKEN_DIR, TOKEN_EXPIRATION_SECONDS, type BasePlan, type ClusterFacts, type Component, type KubeAction, type KubeRef } from './model.js';
import { noRestartBlocker, outageNote, planRestart, restartIsOutage, tokenVolumeBlocker, unfinishedRollout, waitForRollout } from './restarts.js';
import type { WiringInput } from './wiring.js';
import { overlayAction, overlayRemoval, walkWiring, type WiringPart } from './wiring-loop.js';

export interface EnvWiringInput extends WiringInput {
  /** The variable that names the identity (AZURE_CLIENT_ID): another value there is another identity's wiring. */
  identityVar: string;
  /** The variable that points at the token file (for the missing-token message). */
  tokenVar: string;
}

/** Pure: the Kubernetes part of an init plan for env wiring. */
export function planEnvWiring(i: EnvWiringInput): WiringPart {
  const helmNote = i.restart
    ? undefined
    : 'RHACS was installed with Helm: apply the printed values with the printed "helm upgrade" command when a restart suits (they are what --helm-values-out writes).';
  return walkWiring({ ...i, what: 'the environment', ...(helmNote ? { helmNote } : {}) }, (c, { kubernetes, restarts, actions, blockers, outages }) => {
    const { cluster, comp, ref, where, state, wiring, durability, known } = c;
    const outage = restartIsOutage(state?.deployment, comp);
    const env = wiring.env ?? [];
    kubernetes.push({ kind: 'Deployment', context: cluster.context, namespace: cluster.namespace, name: comp, container: comp, env, durability });
    const dep = state?.deployment;
    const curEnv = dep ? Object.fromEntries(env.map((e) => [e.name, dep.env.find((x) => x.name === e.name)?.value])) : undefined;
    const envStatus = !known || !dep ? 'create'
      : env.every((e) => curEnv![e.name] === e.value) ? 'unchanged'
      : env.every((e) => curEnv![e.name] === undefined) ? 'create' : 'update';
    const want = env.find((e) => e.name === i.identityVar)?.value;
    const current = curEnv?.[i.identityVar];
    if (known && current !== undefined && current !== want) {
      blockers.push({
        message: `Deployment ${where}${comp} already sets ${i.identityVar}=${current}: ${comp === 'central' ? 'Central' : 'Sensor'} acts as that identity for every integration that uses the pod's identity; rhacs-sts does not replace it.`,
        hint: i.foreignHint(current),
      });
    }
    // Older installs lack the token the variables point at (the charts mount it from 4.4 on): it goes
    // into the same patch as the env, live only; where the install keeps its own copy, refused.
    const needsVolume = known && !!dep && !dep.hasTokenMount;
    if (needsVolume && durability !== 'live') blockers.push(tokenVolumeBlocker(where, comp, durability, cluster.version, i.tokenVar));
    const changed = envStatus !== 'unchanged' || needsVolume;
    // --no-restart: the env is the pod template, so setting it is a rollout (Helm values can wait for one).
    const deferredRollout = changed && !i.restart;
    if (deferredRollout && durability !== 'helm-values') blockers.push(noRestartBlocker(where, comp, durability, 'init', outage, env.map((e) => e.name)));
    const status = deferredRollout ? 'unchanged' : envStatus === 'unchanged' && needsVolume ? 'update' : envStatus;
    const what = `${env.map((e) => e.name).join(', ')}${needsVolume ? ' and mount a projected service-account token (audience openshift)' : ''}`;
    actions.push({
      id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env', status,
      target: `${where}deployment/${comp} (container ${comp})`,
      summary: deferredRollout
        ? `Not set live on ${comp} (--no-restart: it would roll the pods); the Helm values below set it at the next "helm upgrade"`
        : `Set ${what} on ${comp} (${i.identity})`,
      current: known ? (curEnv ? { ...curEnv, ...(needsVolume ? { tokenMount: null } : {}) } : null) : undefined,
      desired: {
        ...Object.fromEntries(env.map((e) => [e.name, e.value])),
        ...(needsVolume ? { tokenMount: { mountPath: OPENSHIFT_TOKEN_DIR, audience: AUDIENCE.openshift, expirationSeconds: TOKEN_EXPIRATION_SECONDS } } : {}),
      },
      ref, container: comp, env,
      ...(needsVolume && durability === 'live' ? { tokenVolume: { audience: AUDIENCE.openshift } } : {}),
      ...(deferredRollout ? { deferred: true } : {}),
    });
    const overlay = overlayAction(c);
    if (overlay) actions.push(overlay);
    const unfinished = changed ? undefined : unfinishedRollout(state);
    if (unfinished) {
      actions.push(waitForRollout(cluster, comp, ref, where, unfinished));
      return;
    }
    actions.push(planRestart({
      cluster, comp, ref, where, changed, deferredRollout, outage, restart: i.restart,
      words: {
        deferredRollout: `Rollout of ${comp} deferred (--no-restart): "helm upgrade" with the values below sets the environment and rolls the pods`,
        restart: () => `Wait for ${comp} to roll out with the new environment (${i.restartWhy})`,
      },
    }, { restarts, outages }));
  });
}

export interface EnvUnwiringInput {
  clusters: ClusterFacts[];
  restart: boolean;
  /** The variables as init set them (the identity's values): only these values are removed. */
  wiring: (cluster: ClusterFacts, comp: Component) => PodWiring;
  identityVar: string;
  /** What the identity is, for people. */
  identity: string;
}

/**
 * Pure: what undoes env wiring — per component, only while the identity variable still names our
 * identity: our variables with our values (another value, or another identity's, is kept), our
 * overlays, Helm values that null them, and the rollout the change is.
 */
export function planEnvUnwiring(i: EnvUnwiringInput): WiringPart {
  const restarts: BasePlan['restarts'] = [];
  const helmValues: NonNullable<BasePlan['helmValues']> = [];
  const actions: KubeAction[] = [];
  const blockers: BasePlan['blockers'] = [];
  const notes: string[] = [];
  const outages: Component[] = [];
  const multi = i.clusters.length > 1;
  for (const cluster of i.clusters) {
    const p = platform(cluster.provider);
    const helm = new HelmValuesByRelease(cluster);
    for (const comp of (['central', 'sensor'] as const).filter((c) => cluster.components.includes(c))) {
      const state = cluster.current?.[comp];
      const ref: KubeRef = { context: cluster.context, namespace: cluster.namespace, name: comp };
      const where = `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`;
      const wiring = i.wiring(cluster, comp);
      const env = state?.deployment?.env ?? [];
      const want = wiring.env ?? [];
      const ours = env.some((e) => e.name === i.identityVar && e.value === want.find((w) => w.name === i.identityVar)?.value);
      const other = env.find((e) => e.name === i.identityVar && !ours);
      if (other) notes.push(`Deployment ${where}${comp} sets ${i.identityVar}=${other.value ?? '(from a reference)'}, not ${i.identity}: its environment is kept.`);
      const remove = ours ? want.filter((w) => env.some((e) => e.name === w.name && e.value === w.value)) : [];
      const kept = ours ? want.filter((w) => env.some((e) => e.name === w.name && e.value !== w.value)) : [];
      if (kept.length) notes.push(`Deployment ${where}${comp}: ${kept.map((k) => k.name).join(', ')} ${kept.length === 1 ? 'holds a value' : 'hold values'} rhacs-sts did not set: kept.`);
      const outage = restartIsOutage(state?.deployment, comp);
      const deferredRollout = ours && !i.restart;
      if (deferredRollout && cluster.installMethod !== 'helm') {
        blockers.push(noRestartBlocker(where, comp, cluster.installMethod === 'operator' ? 'operator-overlay' : 'live', 'uninstall', outage, remove.map((e) => e.name)));
      }
      const overlays = p.operatorOverlays(comp, wiring);
      const overlayGone = overlayRemoval(cluster, comp, where, overlays);
      if (!ours && !overlayGone) continue;
      if (ours) {
        actions.push({
          id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env',
          status: deferredRollout ? 'unchanged' : 'delete', target: `${where}deployment/${comp} (container ${comp})`,
          summary: deferredRollout
            ? `Not removed live from ${comp} (--no-restart: it would roll the pods); the Helm values below remove it at the next "helm upgrade"`
            : `Remove ${remove.map((e) => e.name).join(', ')} from ${comp}`,
          current: Object.fromEntries(remove.map((e) => [e.name, e.value])), desired: null,
          ref, container: comp, env: deferredRollout ? [] : remove, ...(deferredRollout ? { deferred: true } : {}),
        });
        notes.push(`The projected token volume on ${comp} is left in place: RHACS's own charts mount it too.`);
      }
      if (overlayGone) actions.push(overlayGone);
      if (cluster.installMethod === 'helm' && ours) helm.add(comp, { customize: { [comp]: { envVars: Object.fromEntries(remove.map((e) => [e.name, null])) } } });
      actions.push(planRestart({
        cluster, comp, ref, where, changed: ours, deferredRollout, outage, restart: i.restart, revertMarker: true,
        words: {
          deferredRollout: `Rollout of ${comp} deferred (--no-restart): "helm upgrade" with the values below removes the environment and rolls the pods`,
          restart: () => `Wait for ${comp} to roll out without the environment, so that it stops acting as ${i.identity}`,
        },
      }, { restarts, outages }));
    }
    helmValues.push(...helm.list());
  }
  if (outages.length) notes.push(outageNote(outages));
  return { kubernetes: [], restarts, ...(helmValues.length ? { helmValues } : {}), actions, blockers, notes: [...new Set(notes)] };
}
