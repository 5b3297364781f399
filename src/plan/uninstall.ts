/**
 * The uninstall plan (pure): revert the Kubernetes changes, then remove the role (inline policy
 * first) — or, for a role rhacs-sts adopted, give it back by removing only our statements, policy
 * and tags — then the OIDC provider, only if we created it and no other role trusts it.
 * Anything without our tag is never deleted.
 */
import { associationOf, isManaged, operatorOverlays, planHeader, sameOverlay, targetComponents } from './build.js';
import {
  ADDED_CLIENT_IDS_TAG,
  ADOPTED_TAG,
  ATTACHED_TAG_PREFIX,
  CLUSTER_TAG,
  isOurStatement,
  MANAGED_TAG,
  ourTrustedHostPaths,
  oidcProviderArn,
  PERMISSIONS_POLICY_NAME,
  removeOurStatements,
  roleArn,
  SERVES_TAG_PREFIX,
  POD_IDENTITY_PRINCIPAL,
  servesTag,
  withPodIdentityStatement,
  type PolicyDocument,
} from '../clouds/aws/policies.js';
import { issuerHostPath } from '../validate.js';
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

export interface UninstallDecisions {
  keepOidcProvider: boolean;
  /**
   * Take the whole set-up down: delete the role (or strip all our statements from an adopted one)
   * even when it still trusts clusters outside this run. Without it, uninstall removes only the
   * statements of the clusters in this run, and deletes a role of ours only when none remain.
   */
  allClusters?: boolean;
  /** Names of other roles that trust each issuer's provider (from ListRoles). */
  otherTrusters: Record<string, string[]>;
}

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

  // --- IAM role -----------------------------------------------------------------------------
  const owned = role ? isManaged(role.tags) : false;
  const adopted = role?.tags[ADOPTED_TAG] === 'true';
  if (role && !owned) notes.push(`The role ${role.arn} was not created by rhacs-sts (no ${MANAGED_TAG} tag); it and the cluster settings that point at it are left alone.`);
  const policy = role?.inlinePolicies[PERMISSIONS_POLICY_NAME];
  // What the role's trust policy will be after uninstall (null: the role is deleted).
  let trustAfter: PolicyDocument | null = role ? role.trustPolicy : null;
  // Our statements for clusters outside this run: those clusters keep the role (unless --all-clusters).
  const scope = [...new Set(facts.clusters.map((c) => c.issuer))];
  // Clusters outside this run on Pod Identity (their serves tags): the one Pod Identity statement stays for them.
  const runServes = new Set(facts.clusters.flatMap((c) => (c.name ? [servesTag(c.name)] : [])));
  const othersOnPodIdentity = Object.entries(role?.tags ?? {})
    .filter(([k, v]) => k.startsWith(SERVES_TAG_PREFIX) && v === POD_IDENTITY_PRINCIPAL && !runServes.has(k))
    .map(([k]) => k.slice(SERVES_TAG_PREFIX.length));
  const withoutRunIrsa = role ? removeOurStatements(role.trustPolicy, scope) : null;
  const withoutRun = withoutRunIrsa && !othersOnPodIdentity.length ? withPodIdentityStatement(withoutRunIrsa, undefined) : withoutRunIrsa;
  const othersServed = withoutRun ? [...ourTrustedHostPaths(withoutRun), ...othersOnPodIdentity.map((n) => `${n} (EKS Pod Identity)`)] : [];
  const keepForOthers = role !== null && owned && othersServed.length > 0 && !u.allClusters;
  if (role && owned && keepForOthers) {
    const hasRunStatements = withoutRun!.Statement.length !== role.trustPolicy.Statement.length;
    trustAfter = withoutRun;
    notes.push(`The role ${role.arn} still serves other clusters (issuers ${othersServed.join(', ')}): it stays, with its ECR policy; only this run's trust statements are removed. Pass --all-clusters to delete it anyway (those clusters then lose access).`);
    actions.push({
      id: 'trust-policy', type: 'trust-policy', status: hasRunStatements ? 'update' : 'unchanged', target: arn,
      summary: hasRunStatements ? `Remove the trust statements for ${scope.join(', ')} (other clusters' statements stay)` : 'No trust statement of this run to remove',
      current: role.trustPolicy, desired: withoutRun!, roleName: decisions.roleName, document: withoutRun!, scope,
    });
    // The tags that say the role serves this run's clusters go with their statements.
    const runHostPaths = new Set(scope.map(issuerHostPath));
    const servedKeys = Object.keys(role.tags).filter((k) => k.startsWith(SERVES_TAG_PREFIX) && (runHostPaths.has(role.tags[k]!) || runServes.has(k)));
    if (servedKeys.length) {
      actions.push({
        id: 'role-tags', type: 'role-tags', status: 'delete', target: arn,
        summary: `Remove the tags that say the role serves ${servedKeys.map((k) => k.slice(SERVES_TAG_PREFIX.length)).join(', ')}`,
        current: role.tags, desired: Object.fromEntries(Object.entries(role.tags).filter(([k]) => !servedKeys.includes(k))),
        roleName: decisions.roleName, tags: Object.fromEntries(servedKeys.map((k) => [k, role.tags[k]!])),
      });
    }
  } else if (role && owned) {
    actions.push({
      id: 'permissions-policy', type: 'permissions-policy', status: policy ? 'delete' : 'unchanged',
      target: `${arn} (inline policy ${PERMISSIONS_POLICY_NAME})`,
      summary: policy ? `Delete the inline policy ${PERMISSIONS_POLICY_NAME}` : 'No inline policy of ours',
      current: policy ?? null, desired: null, roleName: decisions.roleName, policyName: PERMISSIONS_POLICY_NAME, document: policy ?? { Version: '2012-10-17', Statement: [] },
    });
    if (adopted) {
      const kept = removeOurStatements(role.trustPolicy, u.allClusters ? undefined : scope);
      trustAfter = kept;
      const hasOurs = role.trustPolicy.Statement.some(isOurStatement);
      // IAM rejects a trust policy without statements: if ours are all that is left, they stay.
      const canRemove = hasOurs && kept.Statement.length > 0;
      if (hasOurs && !canRemove) {
        trustAfter = role.trustPolicy;
        notes.push(`The adopted role ${role.arn} has no trust statements but ours, and IAM requires at least one: our statements stay. Delete the role yourself if it is no longer used.`);
      }
      actions.push({
        id: 'trust-policy', type: 'trust-policy', status: canRemove ? 'update' : 'unchanged', target: arn,
        summary: canRemove ? 'Remove our statements from the adopted role\'s trust policy (its own statements stay)' : 'Trust policy of the adopted role left as it is',
        current: role.trustPolicy, desired: kept, roleName: decisions.roleName, document: kept,
        scope: u.allClusters ? ourTrustedHostPaths(role.trustPolicy).map((hp) => `https://${hp}`) : scope,
      });
      // Managed policies we attached (our tag records each) are detached; the role's own stay.
      for (const [tagKey, policyArn] of Object.entries(role.tags).filter(([k]) => k.startsWith(ATTACHED_TAG_PREFIX))) {
        actions.push({
          id: `managed-policy:${policyArn}`, type: 'managed-policy', status: 'delete', target: arn,
          summary: `Detach the managed policy ${policyArn} (attached by rhacs-sts)`,
          current: { attached: role.attachedPolicyArns.includes(policyArn) }, desired: null,
          roleName: decisions.roleName, policyArn, tagKey,
        });
      }
      const ourTagKeys = [MANAGED_TAG, CLUSTER_TAG, ADOPTED_TAG, ...Object.keys(role.tags).filter((k) => k.startsWith(SERVES_TAG_PREFIX))].filter((k) => k in role.tags);
      actions.push({
        id: 'role-tags', type: 'role-tags', status: 'delete', target: arn,
        summary: `Give the adopted role back: remove our tags (${ourTagKeys.join(', ')})`,
        current: role.tags, desired: Object.fromEntries(Object.entries(role.tags).filter(([k]) => !ourTagKeys.includes(k))),
        roleName: decisions.roleName, tags: Object.fromEntries(ourTagKeys.map((k) => [k, role.tags[k]!])),
      });
    } else {
      // Say exactly what deleting the role takes with it (IAM needs every policy gone first).
      const inline = role.inlinePolicyNames ?? Object.keys(role.inlinePolicies);
      const foreignInline = inline.filter((n) => n !== PERMISSIONS_POLICY_NAME);
      if (foreignInline.length) notes.push(`Deleting the role also deletes its other inline policies: ${foreignInline.join(', ')}.`);
      if (role.attachedPolicyArns.length) notes.push(`Managed policies attached to the role are detached before it is deleted: ${role.attachedPolicyArns.join(', ')}.`);
      trustAfter = null;
      actions.push({
        id: 'role', type: 'role', status: 'delete', target: arn, summary: `Delete the IAM role ${decisions.roleName}`,
        current: { path: role.path, tags: role.tags }, desired: null,
        name: decisions.roleName, path: role.path, arn, tags: {},
      });
    }
  }

  // --- OIDC providers ----------------------------------------------------------------------
  const issuers = [...new Set(facts.clusters.map((c) => c.issuer))];
  const oidcProviders = issuers.map((issuer) => ({ arn: oidcProviderArn(partition, accountId, issuer), url: issuer, clientIds: [] as string[] }));
  for (const p of oidcProviders) {
    const cur = aws.oidcProviders[p.url];
    if (!cur) continue;
    p.clientIds = cur.clientIds;
    // Our role counts only if it stays and, after uninstall, still trusts the provider.
    const ourRoleStillTrusts = trustAfter !== null && trusts(trustAfter, p.arn);
    const others = (u.otherTrusters[p.url] ?? []).filter((n) => n !== decisions.roleName || ourRoleStillTrusts);
    const mine = isManaged(cur.tags);
    let reason: string | undefined;
    if (!mine) reason = 'not created by rhacs-sts';
    else if (u.keepOidcProvider) reason = 'kept (--keep-oidc-provider)';
    else if (others.length) reason = `still trusted by ${others.join(', ')}`;
    if (mine && !reason && cur.tags[ADOPTED_TAG] === 'true') {
      // An adopted provider is never deleted: give it back as it was (the audiences we added, our tags).
      const added = (cur.tags[ADDED_CLIENT_IDS_TAG] ?? '').split(' ').filter((id) => id && cur.clientIds.includes(id));
      // IAM keeps at least one client ID on a provider; one that had only ours keeps it.
      const removable = added.length < cur.clientIds.length ? added : added.slice(0, -1);
      const ourTags = [MANAGED_TAG, CLUSTER_TAG, ADOPTED_TAG, ADDED_CLIENT_IDS_TAG].filter((k) => k in cur.tags);
      if (removable.length < added.length) notes.push(`The adopted OIDC provider ${p.arn} keeps the audience ${added.at(-1)}: it has no other, and IAM requires one.`);
      actions.push({
        id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: 'update', target: p.arn,
        summary: `Give the adopted OIDC provider back (never deleted): ${removable.length ? `remove the audience${removable.length > 1 ? 's' : ''} we added (${removable.join(', ')}) and ` : ''}our tags`,
        current: { clientIds: cur.clientIds, tags: cur.tags },
        desired: { clientIds: cur.clientIds.filter((id) => !removable.includes(id)), tags: Object.fromEntries(Object.entries(cur.tags).filter(([k]) => !ourTags.includes(k))) },
        issuer: p.url, arn: p.arn, addClientIds: [], tags: {}, thumbprints: [], removeClientIds: removable, removeTags: ourTags,
      });
      continue;
    }
    actions.push({
      id: `oidc-provider:${p.url}`, type: 'oidc-provider', status: reason ? 'unchanged' : 'delete', target: p.arn,
      summary: reason ? `Keep the OIDC provider for ${p.url}: ${reason}` : `Delete the OIDC provider for ${p.url}`,
      current: { clientIds: cur.clientIds, tags: cur.tags }, desired: reason ? undefined : null,
      issuer: p.url, arn: p.arn, addClientIds: [], tags: {}, thumbprints: [],
    });
  }

  return {
    ...planHeader('uninstall', facts, oidcProviders),
    role: {
      name: decisions.roleName, path: role?.path ?? decisions.rolePath, arn,
      trustPolicy: role?.trustPolicy ?? { Version: '2012-10-17', Statement: [] },
      permissionsPolicyName: PERMISSIONS_POLICY_NAME,
      permissionsPolicy: policy ?? { Version: '2012-10-17', Statement: [] },
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

/** True when a statement of the policy names the provider as its federated principal. */
function trusts(policy: PolicyDocument, providerArn: string): boolean {
  return policy.Statement.some((st) => {
    const fed = st.Principal && st.Principal !== '*' ? st.Principal.Federated : undefined;
    return (Array.isArray(fed) ? fed : [fed]).includes(providerArn);
  });
}
