/**
 * The uninstall plan (pure): revert the Kubernetes changes, then AWS's part (../clouds/aws/uninstall.ts):
 * remove the role (inline policy first) — or, for a role rhacs-sts adopted, give it back by removing
 * only our statements, policy and tags — then the OIDC provider, only if we created it and no other
 * role trusts it. Anything without our tag is never deleted.
 */
import { associationOf, isManaged, operatorOverlays, planHeader, sameOverlay, targetComponents } from './build.js';
import { PERMISSIONS_POLICY_NAME, roleArn } from '../clouds/aws/policies.js';
import { planAwsUninstall, type UninstallDecisions } from '../clouds/aws/uninstall.js';
import {
  EKS_ROLE_ANNOTATION,
  PREVIOUS_ROLE_ANNOTATION,
  type Action,
  type AwsState,
  type Component,
  type Decisions,
  type Facts,
  type KubeRef,
  type Plan,
} from './model.js';
import { HelmValuesByRelease } from './helm-values.js';
import { noRestartBlocker, outageNote, planRestart, restartIsOutage } from './restarts.js';

export type { UninstallDecisions };

export function buildUninstallPlan(facts: Facts, decisions: Decisions, aws: AwsState, u: UninstallDecisions): Plan {
  const { partition, accountId } = facts;
  const actions: Action[] = [];
  const notes: string[] = [];
  const role = aws.role;
  const arn = role?.arn ?? roleArn(partition, accountId, decisions.roleName, decisions.rolePath);
  const multi = facts.clusters.length > 1;
  // A role without our tag was never configured by rhacs-sts (adopting tags it): whatever in the
  // cluster points at it was set by someone else, and stays.
  const foreignRole = role !== null && !isManaged(role.tags);

  // --- Kubernetes: revert only what points at our role -----------------------------------
  const restarts: Plan['restarts'] = [];
  const blockers: Plan['blockers'] = [];
  const helmValues: NonNullable<Plan['helmValues']> = [];
  const outages: Component[] = [];
  for (const cluster of facts.clusters) {
    const helm = cluster.installMethod === 'helm' ? new HelmValuesByRelease(cluster) : undefined;
    // Sensor may have been configured by an earlier run with delegated scanning: revert both.
    for (const comp of targetComponents(cluster, true)) {
      const ref: KubeRef = { context: cluster.context, namespace: cluster.namespace, name: comp };
      const where = `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`;
      const state = cluster.current?.[comp];
      const outage = restartIsOutage(state?.deployment, comp);
      let changed = false;
      let deferredRollout = false;
      // The durable copy goes first: an operator reconciling in between must not put back what we remove live.
      const cr = cluster.operatorCrs?.[comp];
      if (cr) {
        const overlays = operatorOverlays(cluster.provider, comp, arn);
        const present = foreignRole ? [] : (cr.overlays ?? []).filter((x) => overlays.some((o) => sameOverlay(x, o)));
        actions.push({
          id: `operator-overlay:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'operator-overlay',
          status: present.length ? 'delete' : 'unchanged', target: `${where}${cr.kind.toLowerCase()}/${cr.name}`,
          summary: present.length ? `Remove our overlay for ${comp} from the ${cr.kind} resource` : `No overlay of ours in the ${cr.kind} resource`,
          current: cr.overlays, desired: (cr.overlays ?? []).filter((x) => !present.includes(x)),
          ref: { context: cluster.context, namespace: cluster.namespace, name: cr.name }, crKind: cr.kind, overlays,
        });
      }
      if (cluster.provider === 'eks') {
        // EKS Pod Identity: our association goes (before the restarts, see applyPlan).
        const region = cluster.region ?? facts.region;
        const assoc = associationOf(aws, cluster, region, comp);
        const ourAssoc = assoc !== undefined && isManaged(assoc.tags) && assoc.roleArn === arn && !foreignRole && !!cluster.name;
        if (assoc && !ourAssoc) notes.push(`The EKS Pod Identity association of serviceaccount/${comp} (${assoc.associationId}, role ${assoc.roleArn}) is not ours; left alone.`);
        if (ourAssoc) {
          actions.push({
            id: `pod-identity-association:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'pod-identity-association', status: 'delete',
            target: assoc.associationArn, summary: `Delete the EKS Pod Identity association of ${comp}`,
            current: { roleArn: assoc.roleArn, associationId: assoc.associationId }, desired: null,
            clusterName: cluster.name!, region, namespace: cluster.namespace, serviceAccount: comp, roleArn: arn, tags: {}, associationId: assoc.associationId,
            ...(cluster.context ? { context: cluster.context } : {}),
          });
        }
        const cur = state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION];
        const ours = cur === arn && !foreignRole;
        if (cur !== undefined && cur !== arn) notes.push(`serviceaccount/${comp} points at another role (${cur}); left alone.`);
        // Pods created while our association existed carry its credentials env: they restart with it gone.
        changed = ours || ourAssoc;
        const previous = state?.serviceAccount?.annotations[PREVIOUS_ROLE_ANNOTATION];
        // Helm values that undo init's (null removes the key; a replaced role comes back).
        if (helm && !foreignRole && (ours || cur === undefined)) {
          helm.add(comp, { customize: { other: { [`serviceaccount/${comp}`]: { annotations: { [EKS_ROLE_ANNOTATION]: ours && previous ? previous : null } } } } });
        }
        if (ours && previous) {
          // init replaced another role here (--replace-role-wiring): put it back.
          actions.push({
            id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation',
            status: 'update', target: `${where}serviceaccount/${comp}`,
            summary: `Put back ${EKS_ROLE_ANNOTATION}=${previous} on service account ${comp} (the role it named before rhacs-sts replaced it)`,
            current: { [EKS_ROLE_ANNOTATION]: cur, [PREVIOUS_ROLE_ANNOTATION]: previous }, desired: { [EKS_ROLE_ANNOTATION]: previous },
            ref, annotations: { [EKS_ROLE_ANNOTATION]: previous }, removeAnnotations: [PREVIOUS_ROLE_ANNOTATION],
          });
        } else actions.push({
          id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation',
          status: ours ? 'delete' : 'unchanged', target: `${where}serviceaccount/${comp}`,
          summary: ours ? `Remove ${EKS_ROLE_ANNOTATION} from service account ${comp}` : `Service account ${comp} has no annotation of ours`,
          current: cur === undefined ? null : { [EKS_ROLE_ANNOTATION]: cur }, desired: null,
          ref, annotations: { [EKS_ROLE_ANNOTATION]: arn },
        });
      } else {
        const env = state?.deployment?.env ?? [];
        const ours = !foreignRole && env.some((e) => e.name === 'AWS_ROLE_ARN' && e.value === arn);
        const curRole = env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;
        changed = ours;
        const previous = state?.deployment?.annotations?.[PREVIOUS_ROLE_ANNOTATION];
        // --no-restart: removing the env rolls the pods. With Helm the undo values wait for
        // "helm upgrade"; the operator would apply its copy at once, plain manifests have no other.
        deferredRollout = ours && !decisions.restart;
        if (deferredRollout && cluster.installMethod !== 'helm') {
          blockers.push(noRestartBlocker(where, comp, cluster.installMethod === 'operator' ? 'operator-overlay' : 'live', 'uninstall', outage));
        }
        if (helm && !foreignRole && (ours || curRole === undefined)) {
          helm.add(comp, { customize: { [comp]: { envVars: ours && previous ? { AWS_ROLE_ARN: previous } : { AWS_ROLE_ARN: null, AWS_WEB_IDENTITY_TOKEN_FILE: null } } } });
        }
        if (deferredRollout) {
          actions.push({
            id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env',
            status: 'unchanged', target: `${where}deployment/${comp} (container ${comp})`,
            summary: `Not removed live from ${comp} (--no-restart: it would roll the pods); the Helm values below remove it at the next "helm upgrade"`,
            current: Object.fromEntries(env.filter((e) => e.name.startsWith('AWS_')).map((e) => [e.name, e.value])), desired: null,
            ref, container: comp, env: [], deferred: true,
          });
          notes.push(`Until that "helm upgrade", ${comp}'s pods keep naming the role ${arn}${previous ? '' : ', which this uninstall deletes or stops trusting: their AWS calls fail until then'}.`);
        } else if (ours && previous) {
          actions.push({
            id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env',
            status: 'update', target: `${where}deployment/${comp} (container ${comp})`,
            summary: `Put back AWS_ROLE_ARN=${previous} on ${comp} (the role it named before rhacs-sts replaced it)`,
            current: { AWS_ROLE_ARN: arn, [PREVIOUS_ROLE_ANNOTATION]: previous }, desired: { AWS_ROLE_ARN: previous },
            ref, container: comp, env: [{ name: 'AWS_ROLE_ARN', value: previous }], annotations: { [PREVIOUS_ROLE_ANNOTATION]: null },
          });
        } else actions.push({
          id: `deployment-env:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'deployment-env',
          status: ours ? 'delete' : 'unchanged', target: `${where}deployment/${comp} (container ${comp})`,
          summary: ours ? `Remove AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE from ${comp}` : `Deployment ${comp} has no environment of ours`,
          current: Object.fromEntries(env.filter((e) => e.name.startsWith('AWS_')).map((e) => [e.name, e.value])), desired: null,
          ref, container: comp,
          env: env.filter((e) => e.name === 'AWS_ROLE_ARN' || e.name === 'AWS_WEB_IDENTITY_TOKEN_FILE').map((e) => ({ name: e.name, value: e.value ?? '' })),
        });
        if (ours) notes.push(`The projected token volume on ${comp} is left in place: RHACS's own charts mount it too.`);
      }
      actions.push(planRestart({
        cluster, comp, ref, where, changed, deferredRollout, outage, restart: decisions.restart, revertMarker: true,
        words: {
          deferredRollout: `Rollout of ${comp} deferred (--no-restart): "helm upgrade" with the values below removes the environment and rolls the pods`,
          restart: () => `Restart ${comp} so that it stops using the role, and wait until ready`,
        },
      }, { restarts, outages }));
    }
    if (helm) helmValues.push(...helm.list());
  }
  if (outages.length) notes.push(outageNote(outages));
  if (helmValues.length) {
    notes.push('RHACS was installed with Helm: the printed values undo rhacs-sts\'s values (null removes a key when Helm merges values); apply them with the printed "helm upgrade", or the next upgrade with your values file puts the wiring back.');
  }

  // --- IAM: the role, then the OIDC providers ------------------------------------------------
  const iam = planAwsUninstall(facts, decisions, aws, u, arn);
  actions.push(...iam.actions);
  notes.push(...iam.notes);

  return {
    ...planHeader('uninstall', facts, iam.oidcProviders),
    role: {
      name: decisions.roleName, path: role?.path ?? decisions.rolePath, arn,
      trustPolicy: role?.trustPolicy ?? { Version: '2012-10-17', Statement: [] },
      permissionsPolicyName: PERMISSIONS_POLICY_NAME,
      permissionsPolicy: iam.permissionsPolicy ?? { Version: '2012-10-17', Statement: [] },
      permissionsBoundary: role?.permissionsBoundary,
      tags: role?.tags ?? {},
    },
    kubernetes: [],
    restarts,
    ...(helmValues.length ? { helmValues } : {}),
    actions,
    blockers,
    notes,
  };
}
