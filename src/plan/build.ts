/**
 * The planning engine: facts + decisions + current state → an ordered list of actions.
 * Pure: no I/O, no clock, no randomness. Offline (current state unknown) it plans for an
 * account and cluster that have none of it.
 */
import { awsWiring } from '../clouds/aws/wiring.js';
import { platform, type PlatformId } from '../platforms/registry.js';
import {
  PERMISSIONS_POLICY_NAME,
  repositoryGrant,
} from '../clouds/aws/policies.js';
import {
  AUDIENCE,
  EKS_ROLE_ANNOTATION,
  OPENSHIFT_TOKEN_DIR,
  PREVIOUS_ROLE_ANNOTATION,
  TOKEN_EXPIRATION_SECONDS,
  type Action,
  type AssociationState,
  type AwsState,
  type ClusterFacts,
  type Component,
  type Decisions,
  type Facts,
  type KubeChange,
  type KubeRef,
  type OperatorOverlay,
  type Plan,
} from './model.js';
import { HelmValuesByRelease } from './helm-values.js';
import { eksRestartNeeded, noRestartBlocker, outageNote, planRestart, podIdentityLeftover, podIdentityRestartNeeded, restartIsOutage, tokenVolumeBlocker, unfinishedRollout, waitForRollout } from './restarts.js';
import { associationOf, diffTags, isManaged, ourTags, planAwsIdentity, roleNameOf } from '../clouds/aws/plan.js';
import { targetComponents } from './components.js';

// AWS's helpers, where the rooms that plan, discover and uninstall have always found them.
export { associationOf, describeEcrScope, isManaged, mechanismOf, ourTags } from '../clouds/aws/plan.js';
export { targetComponents } from './components.js';

export function buildPlan(facts: Facts, decisions: Decisions, aws: AwsState | undefined): Plan {
  if (facts.clusters.length === 0) throw new Error('buildPlan: no cluster');
  const { accountId } = facts;
  const { tags, podId, oidcProviders, role, arn, trustPolicy, permissions, actions, blockers, notes } = planAwsIdentity(facts, decisions, aws);


  // --- Kubernetes -------------------------------------------------------------------------
  // Central's (or Sensor's) role is its whole AWS identity: the container IAM role of every
  // integration (ECR, S3 backups, the Security Hub notifier). Wiring that names another role is
  // never replaced silently; with --replace-role-wiring the previous role is recorded on the object.
  const refuseOrRecord = (what: string, comp: Component, current: string) => {
    if (decisions.replaceRoleWiring) return;
    blockers.push({
      message: `The ${what} already names the role ${current}. That role is ${comp === 'central' ? 'Central' : 'Sensor'}'s AWS identity for every integration that uses the container IAM role (ECR, S3 backups, the Security Hub notifier); rhacs-sts does not replace it silently.`,
      hint: `Configure that role instead (--role-name ${roleNameOf(current)}, with --adopt-role if rhacs-sts did not create it), or re-run with --replace-role-wiring to point it at ${arn} (the previous role is recorded on the object, and uninstall puts it back).`,
      fix: '--replace-role-wiring',
    });
  };
  // The record of the role we replace; a record that is already there (an earlier replace) stays.
  const wiringRecord = (current: string | undefined, annotations: Record<string, string> | undefined): Record<string, string> =>
    current !== undefined && current !== arn && decisions.replaceRoleWiring && annotations?.[PREVIOUS_ROLE_ANNOTATION] === undefined
      ? { [PREVIOUS_ROLE_ANNOTATION]: current }
      : {};
  const kubernetes: KubeChange[] = [];
  const restarts: Plan['restarts'] = [];
  const helmValues: NonNullable<Plan['helmValues']> = [];
  const outages: Component[] = [];
  const multi = facts.clusters.length > 1;
  for (const cluster of facts.clusters) {
    const durability: KubeChange['durability'] =
      cluster.installMethod === 'operator' ? 'operator-overlay' : cluster.installMethod === 'helm' ? 'helm-values' : 'live';
    const helm = new HelmValuesByRelease(cluster);
    for (const comp of targetComponents(cluster, decisions.delegatedScanning)) {
      const ref: KubeRef = { context: cluster.context, namespace: cluster.namespace, name: comp };
      const where = `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`;
      const state = cluster.current?.[comp];
      const known = cluster.current !== undefined;
      const outage = restartIsOutage(state?.deployment, comp);
      let changed = false;
      let deferredRollout = false;
      const region = cluster.region ?? facts.region;
      const assoc = cluster.provider === 'eks' ? associationOf(aws, cluster, region, comp) : undefined;
      if (podId(cluster)) {
        changed = planPodIdentity({ cluster, comp, ref, where, region, assoc, state, known, durability, helm, arn, decisions, actions, blockers, kubernetes, refuseOrRecord });
      } else if (cluster.provider === 'eks') {
        // Back from Pod Identity: our association goes (else the pods keep getting both).
        if (assoc && isManaged(assoc.tags) && cluster.name) {
          actions.push({
            id: `pod-identity-association:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'pod-identity-association', status: 'delete',
            target: `${assoc.associationArn}`,
            summary: `Delete the EKS Pod Identity association of ${comp} (back to IRSA)`,
            current: { roleArn: assoc.roleArn, associationId: assoc.associationId }, desired: null,
            clusterName: cluster.name, region, namespace: cluster.namespace, serviceAccount: comp, roleArn: assoc.roleArn, tags: {},
            associationId: assoc.associationId, ...(cluster.context ? { context: cluster.context } : {}),
          });
        }
        const wiring = awsWiring('eks', arn);
        const annotations = wiring.serviceAccountAnnotations!;
        kubernetes.push({ kind: 'ServiceAccount', context: cluster.context, namespace: cluster.namespace, name: comp, annotations, durability });
        const cur = state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION];
        const status = !known || cur === undefined ? 'create' : cur === arn ? 'unchanged' : 'update';
        const record = wiringRecord(cur, state?.serviceAccount?.annotations);
        if (cur !== undefined && cur !== arn) refuseOrRecord(`service account ${where}${comp}`, comp, cur);
        // The annotation is in place, but do the running pods carry the role? (A run that stopped
        // between the two, or a restart deferred with --no-restart, leaves them without it.) EKS
        // injects credentials only into pods created after the annotation.
        changed = status !== 'unchanged' || (known && (eksRestartNeeded(state, arn) || podIdentityLeftover(state)));
        actions.push({
          id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status,
          target: `${where}serviceaccount/${comp}`,
          summary: status === 'update'
            ? `Annotate service account ${comp} with ${EKS_ROLE_ANNOTATION}: replaces ${cur} (kept in ${PREVIOUS_ROLE_ANNOTATION} for uninstall)`
            : `Annotate service account ${comp} with ${EKS_ROLE_ANNOTATION}`,
          current: known ? (cur === undefined ? null : { [EKS_ROLE_ANNOTATION]: cur }) : undefined, desired: { ...annotations, ...record },
          ref, annotations: { ...annotations, ...record },
        });
        if (durability === 'helm-values') {
          helm.add(comp, platform('eks').helmValues(comp, wiring));
        }
      } else {
        const wiring = awsWiring('openshift', arn);
        const env = wiring.env!;
        kubernetes.push({ kind: 'Deployment', context: cluster.context, namespace: cluster.namespace, name: comp, container: comp, env, durability });
        const dep = state?.deployment;
        const curEnv = dep ? Object.fromEntries(env.map((e) => [e.name, dep.env.find((x) => x.name === e.name)?.value])) : undefined;
        const envStatus = !known || !dep ? 'create'
          : env.every((e) => curEnv![e.name] === e.value) ? 'unchanged'
          : env.every((e) => curEnv![e.name] === undefined) ? 'create' : 'update';
        const curRole = curEnv?.AWS_ROLE_ARN;
        const record = wiringRecord(curRole, dep?.annotations);
        if (curRole !== undefined && curRole !== arn) refuseOrRecord(`deployment ${where}${comp}`, comp, curRole);
        // Older installs lack the token the env points at (the charts mount it from 4.4 on). It goes
        // into the same patch as the env: one pod-template change, one rollout. Where the install
        // keeps its own copy (operator, Helm), that copy could not hold it safely: refused.
        const needsVolume = known && !!dep && !dep.hasTokenMount;
        if (needsVolume && durability !== 'live') blockers.push(tokenVolumeBlocker(where, comp, durability, cluster.version));
        changed = envStatus !== 'unchanged' || needsVolume;
        // --no-restart: the env is the pod template, so setting it is a rollout. With Helm the
        // values wait for "helm upgrade"; the operator applies its copy at once, and plain
        // manifests have no other: refused there.
        deferredRollout = changed && !decisions.restart;
        if (deferredRollout && durability !== 'helm-values') blockers.push(noRestartBlocker(where, comp, durability, 'init', outage));
        const status = deferredRollout ? (Object.keys(record).length ? 'update' : 'unchanged') : envStatus === 'unchanged' && needsVolume ? 'update' : envStatus;
        const what = `AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE${needsVolume ? ' and mount a projected service-account token (audience openshift)' : ''}`;
        actions.push({
          id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env', status,
          target: `${where}deployment/${comp} (container ${comp})`,
          summary: deferredRollout
            ? durability === 'helm-values'
              ? `Not set live on ${comp} (--no-restart: it would roll the pods); the Helm values below set it at the next "helm upgrade"${Object.keys(record).length ? ` (the replaced role ${curRole} is recorded now, in ${PREVIOUS_ROLE_ANNOTATION})` : ''}`
              : `Not set on ${comp}: --no-restart, and setting it rolls the pods (${durability === 'operator-overlay' ? 'the operator applies its overlay at once' : 'an install from plain manifests has no other place to keep it'})`
            : curRole !== undefined && curRole !== arn
              ? `Set ${what} on ${comp}: replaces ${curRole} (kept in ${PREVIOUS_ROLE_ANNOTATION} for uninstall)`
              : `Set ${what} on ${comp}`,
          current: known ? (curEnv ? { ...curEnv, ...(needsVolume ? { tokenMount: null } : {}) } : null) : undefined,
          desired: {
            ...Object.fromEntries(env.map((e) => [e.name, e.value])),
            ...(needsVolume ? { tokenMount: { mountPath: OPENSHIFT_TOKEN_DIR, audience: AUDIENCE.openshift, expirationSeconds: TOKEN_EXPIRATION_SECONDS } } : {}),
          },
          ref, container: comp, env, ...(Object.keys(record).length ? { annotations: record } : {}),
          ...(needsVolume && durability === 'live' ? { tokenVolume: { audience: AUDIENCE.openshift } } : {}),
          ...(deferredRollout ? { deferred: true } : {}),
        });
        if (durability === 'helm-values') {
          helm.add(comp, platform('openshift').helmValues(comp, wiring));
        }
      }
      const cr = cluster.operatorCrs?.[comp];
      if (durability === 'operator-overlay' && cr && !podId(cluster)) {
        const overlays = operatorOverlays(cluster.provider, comp, arn);
        const present = cr.overlays !== undefined && overlays.every((o) => cr.overlays!.some((x) => sameOverlay(x, o)));
        actions.push({
          id: `operator-overlay:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'operator-overlay',
          status: !known || cr.overlays === undefined ? 'create' : present ? 'unchanged' : 'update',
          target: `${where}${cr.kind.toLowerCase()}/${cr.name}`,
          summary: `Make it durable: add an overlay for ${comp} to the ${cr.kind} resource, so the operator keeps it`,
          current: cr.overlays, desired: overlays,
          ref: { context: cluster.context, namespace: cluster.namespace, name: cr.name }, crKind: cr.kind, overlays,
        });
      }
      // Nothing to change, but a rollout (an earlier run's, interrupted or timed out) has not
      // finished: the restart is not done until it has, so this run waits for it again.
      const unfinished = changed ? undefined : unfinishedRollout(state);
      if (unfinished) {
        actions.push(waitForRollout(cluster, comp, ref, where, unfinished));
        continue;
      }
      actions.push(planRestart({
        cluster, comp, ref, where, changed, deferredRollout, outage, restart: decisions.restart,
        words: {
          deferredRollout: durability === 'helm-values'
            ? `Rollout of ${comp} deferred (--no-restart): "helm upgrade" with the values below sets the environment and rolls the pods`
            : `Rollout of ${comp} deferred (--no-restart): nothing is set until a run without --no-restart`,
          restart: (method) => method === 'restartedAt'
            ? `Restart ${comp} so that new pods get the role (EKS injects credentials at pod creation) and wait until ready`
            : `Wait for ${comp} to roll out with the new environment`,
        },
      }, { restarts, outages }));
    }
    helmValues.push(...helm.list());
    if (durability === 'helm-values') {
      notes.push(decisions.restart
        ? 'RHACS was installed with Helm: the changes are applied live now; add the printed values to your Helm values so that the next "helm upgrade" keeps them.'
        : 'RHACS was installed with Helm: apply the printed values with the printed "helm upgrade" command when a restart suits (they are what --helm-values-out writes).');
    }
    if (durability === 'operator-overlay') {
      notes.push('RHACS is managed by its operator: the changes go into the Central/SecuredCluster resource as overlays (durable), and are also applied live so they take effect now.');
    }
    if (durability === 'live' && !facts.offline && kubernetes.some((k) => k.durability === 'live')) notes.push(MANIFESTS_NOTE);
  }
  if (outages.length) notes.push(outageNote(outages));
  // A fleet of clusters installed the same way shares one note, not one per cluster.
  const uniqueNotes = [...new Set(notes)];

  return {
    ...planHeader('init', facts, oidcProviders),
    ...(facts.clusters.some(podId) ? { mechanism: 'pod-identity' as const } : {}),
    role: {
      name: decisions.roleName,
      path: role?.path ?? decisions.rolePath,
      arn,
      trustPolicy,
      permissionsPolicyName: PERMISSIONS_POLICY_NAME,
      permissionsPolicy: permissions,
      permissionsBoundary: decisions.permissionsBoundary ?? role?.permissionsBoundary,
      tags,
    },
    ...withRepositoryGrant(repositoryGrant(arn, accountId, decisions.ecr)),
    kubernetes,
    restarts,
    ...(helmValues.length ? { helmValues } : {}),
    actions,
    blockers,
    notes: uniqueNotes,
  };
}

/** Plain manifests keep no copy of the wiring: say what removes it, and where it would last. */
const MANIFESTS_NOTE = 'RHACS was installed from plain manifests (no Helm release, no operator): the changes are applied live only, and re-applying those manifests (kubectl apply of the files roxctl generated) removes them. To keep them, add them to your manifests as the Kubernetes section shows (or run rhacs-sts init again after each re-apply); the Helm chart (its values) or the operator (overlays in its resource) keeps them for you.';

/** What every plan starts with: the command, where it applies, and the OIDC providers it concerns. */
export function planHeader(command: Plan['command'], facts: Facts, oidcProviders: Plan['oidcProviders']) {
  return {
    planVersion: 1 as const,
    command,
    provider: facts.clusters[0]!.provider,
    partition: facts.partition,
    accountId: facts.accountId,
    region: facts.region,
    clusterName: facts.clusterName,
    offline: facts.offline,
    oidcProvider: oidcProviders[0]!,
    oidcProviders,
  };
}

/** The overlays that make our change durable in a StackRox CR (spec.overlays). */
export function operatorOverlays(provider: PlatformId, comp: Component, arn: string): OperatorOverlay[] {
  return platform(provider).operatorOverlays(comp, awsWiring(provider, arn));
}

export function sameOverlay(a: unknown, b: OperatorOverlay): boolean {
  if (!a || typeof a !== 'object') return false;
  const x = a as Partial<OperatorOverlay>;
  return x.kind === b.kind && x.name === b.name && (x.apiVersion ?? b.apiVersion) === b.apiVersion
    && Array.isArray(x.patches) && x.patches.length === b.patches.length
    && b.patches.every((p, i) => x.patches![i]?.path === p.path && x.patches![i]?.value === p.value);
}



function withRepositoryGrant(grant: Plan['repositoryGrant']): Pick<Plan, 'repositoryGrant'> {
  return grant ? { repositoryGrant: grant } : {};
}

interface PodIdentityInput {
  cluster: ClusterFacts;
  comp: Component;
  ref: KubeRef;
  where: string;
  region: string;
  assoc: AssociationState | undefined;
  state: ClusterFacts['current'] extends infer C ? (C extends Partial<Record<Component, infer S>> ? S | undefined : never) : never;
  known: boolean;
  durability: KubeChange['durability'];
  helm: HelmValuesByRelease;
  arn: string;
  decisions: Decisions;
  actions: Action[];
  blockers: Plan['blockers'];
  kubernetes: KubeChange[];
  refuseOrRecord: (what: string, comp: Component, current: string) => void;
}

/**
 * EKS Pod Identity for one component: the association (ours, tagged; someone else's only when
 * adopted), then the IRSA annotation goes (the SDKs take web identity first, so leaving it would
 * keep IRSA silently), the operator overlay or Helm values that would put it back go too, and the
 * pods restart (credentials are injected at pod creation). Returns whether the pods need a restart.
 */
function planPodIdentity(i: PodIdentityInput): boolean {
  const { cluster, comp, ref, where, region, assoc, state, known, arn, actions, blockers } = i;
  const tags = ourTags(cluster.name);
  const id = `pod-identity-association:${cluster.context ?? ''}:${cluster.namespace}:${comp}`;
  let associationChanged = false;
  if (!cluster.name) {
    blockers.push({
      message: `EKS Pod Identity needs the EKS cluster's name (the EKS API addresses associations by it), and ${cluster.context ? `context "${cluster.context}"` : 'the current context'} does not give it.`,
      hint: 'Pass --cluster-name with the EKS cluster\'s name (aws eks list-clusters).',
    });
  } else if (!assoc) {
    associationChanged = true;
    actions.push({
      id, type: 'pod-identity-association', status: 'create',
      target: `EKS ${cluster.name}: ${cluster.namespace}/${comp}`,
      summary: `Create the EKS Pod Identity association of ${where}serviceaccount/${comp} with the role`,
      current: known ? null : undefined, desired: { roleArn: arn, tags },
      clusterName: cluster.name, region, namespace: cluster.namespace, serviceAccount: comp, roleArn: arn, tags,
      ...(cluster.context ? { context: cluster.context } : {}),
    });
  } else {
    const ours = isManaged(assoc.tags);
    if (assoc.ownerArn) {
      blockers.push({
        message: `The EKS Pod Identity association of ${where}serviceaccount/${comp} (${assoc.associationId}) belongs to an EKS add-on (${assoc.ownerArn}); rhacs-sts does not change it.`,
        hint: 'Remove it through that add-on\'s configuration, or use --mechanism irsa.',
      });
    } else if (!ours && !i.decisions.adoptAssociation) {
      blockers.push({
        message: `An EKS Pod Identity association for ${where}serviceaccount/${comp} already exists (${assoc.associationId}, role ${assoc.roleArn}) and was not created by rhacs-sts. EKS allows one per service account; rhacs-sts does not change someone else's.`,
        hint: `Re-run with --adopt-association to point it at ${arn} (and tag it as ours; uninstall then deletes it), or configure that role instead (--role-name ${roleNameOf(assoc.roleArn)}, with --adopt-role).`,
        fix: '--adopt-association',
      });
    }
    const missingTags = diffTags(assoc.tags, tags);
    const change = assoc.roleArn !== arn || Object.keys(missingTags).length > 0;
    associationChanged = assoc.roleArn !== arn;
    actions.push({
      id, type: 'pod-identity-association', status: change ? 'update' : 'unchanged',
      target: assoc.associationArn || `EKS ${cluster.name}: ${cluster.namespace}/${comp}`,
      summary: !change
        ? `EKS Pod Identity association of ${comp} is in place`
        : assoc.roleArn !== arn
          ? `Point the EKS Pod Identity association of ${comp} at the role (it names ${assoc.roleArn})${ours ? '' : ' (adopting it)'}`
          : `Tag the EKS Pod Identity association of ${comp} as ours${ours ? '' : ' (adopting it)'}`,
      current: { roleArn: assoc.roleArn, tags: assoc.tags }, desired: { roleArn: arn, tags: { ...assoc.tags, ...missingTags } },
      clusterName: cluster.name, region, namespace: cluster.namespace, serviceAccount: comp, roleArn: arn, tags: missingTags, associationId: assoc.associationId,
      ...(cluster.context ? { context: cluster.context } : {}),
    });
  }

  // The IRSA annotation goes once the association exists (the AWS part runs first).
  const cur = state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION];
  let annotationChanged = false;
  if (cur !== undefined) {
    annotationChanged = true;
    if (cur === arn) {
      actions.push({
        id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status: 'delete',
        target: `${where}serviceaccount/${comp}`,
        summary: `Remove ${EKS_ROLE_ANNOTATION} from service account ${comp} (with it the pods would keep IRSA: the AWS SDKs take web identity first)`,
        current: { [EKS_ROLE_ANNOTATION]: cur }, desired: null, ref, annotations: { [EKS_ROLE_ANNOTATION]: arn },
      });
    } else {
      i.refuseOrRecord(`service account ${where}${comp}`, comp, cur);
      const record: Record<string, string> = state?.serviceAccount?.annotations[PREVIOUS_ROLE_ANNOTATION] === undefined ? { [PREVIOUS_ROLE_ANNOTATION]: cur } : {};
      actions.push({
        id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status: 'update',
        target: `${where}serviceaccount/${comp}`,
        summary: `Remove ${EKS_ROLE_ANNOTATION} (${cur}) from service account ${comp} (kept in ${PREVIOUS_ROLE_ANNOTATION} for uninstall)`,
        current: { [EKS_ROLE_ANNOTATION]: cur }, desired: record, ref, annotations: record, removeAnnotations: [EKS_ROLE_ANNOTATION],
      });
    }
  }
  // What would put the annotation back: our operator overlay, our Helm values.
  const cr = cluster.operatorCrs?.[comp];
  if (i.durability === 'operator-overlay' && cr) {
    const overlays = operatorOverlays('eks', comp, arn);
    const present = (cr.overlays ?? []).filter((x) => overlays.some((o) => sameOverlay(x, o)));
    actions.push({
      id: `operator-overlay:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'operator-overlay',
      status: present.length ? 'delete' : 'unchanged', target: `${where}${cr.kind.toLowerCase()}/${cr.name}`,
      summary: present.length ? `Remove our IRSA overlay for ${comp} from the ${cr.kind} resource (the operator would put the annotation back)` : `No IRSA overlay of ours in the ${cr.kind} resource`,
      current: cr.overlays, desired: (cr.overlays ?? []).filter((x) => !present.includes(x)),
      ref: { context: cluster.context, namespace: cluster.namespace, name: cr.name }, crKind: cr.kind, overlays,
    });
  }
  if (i.durability === 'helm-values') {
    i.helm.add(comp, { customize: { other: { [`serviceaccount/${comp}`]: { annotations: { [EKS_ROLE_ANNOTATION]: null } } } } });
  }
  i.kubernetes.push({ kind: 'ServiceAccount', context: cluster.context, namespace: cluster.namespace, name: comp, annotations: {}, durability: i.durability });
  return associationChanged || annotationChanged || (known && podIdentityRestartNeeded(state, associationChanged));
}
