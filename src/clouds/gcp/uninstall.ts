/**
 * Google Cloud's uninstall plan for GKE (pure): only what is rhacs-sts's goes. The workload identity
 * members of this run's RHACS service accounts are removed from the service account's policy; the
 * service account itself (and its reader grants) only when it carries rhacs-sts's marker and no
 * other member is left on it (another cluster or namespace still acting as it keeps it). The
 * annotation goes from the Kubernetes service accounts where it still names the account, with its
 * durable copy (operator overlay; Helm values that null it), and the pods restart.
 */
import { GKE_SA_ANNOTATION } from '../../platforms/gke/constants.js';
import { platform } from '../../platforms/registry.js';
import { HelmValuesByRelease } from '../../plan/helm-values.js';
import { overlayRemoval } from '../../plan/wiring-loop.js';
import type { BasePlan, Component, KubeAction, KubeChange, KubeRef } from '../../plan/model.js';
import { outageNote, planRestart, restartIsOutage } from '../../plan/restarts.js';
import { describeResource, type IamPolicy, type IamResource } from './iam-policy.js';
import { ARTIFACT_READER, gkeMember, readerResources, WORKLOAD_IDENTITY_USER, workloadPool, type GcpAction, type GcpDecisions, type GcpFacts, type GcpPlan, type GcpState } from './plan.js';
import { accountEmail } from './service-account.js';

const COMPONENTS: readonly Component[] = ['central', 'sensor'];

function members(policy: IamPolicy | null | undefined, role: string): string[] {
  return (policy?.bindings ?? []).find((b) => b.role === role && b.condition === undefined)?.members ?? [];
}

export function planGkeUninstall(facts: GcpFacts, decisions: GcpDecisions, state: GcpState): GcpPlan {
  const { projectId } = facts;
  const email = accountEmail(decisions.accountId, projectId);
  const sa = state.serviceAccount;
  const actions: (GcpAction | KubeAction)[] = [];
  const notes: string[] = [];
  const kubernetes: KubeChange[] = [];
  const restarts: BasePlan['restarts'] = [];
  const helmValues: NonNullable<BasePlan['helmValues']> = [];
  const outages: Component[] = [];
  const multi = facts.clusters.length > 1;

  // --- the clusters first (apply removes them before Google's part) ---
  for (const cluster of facts.clusters) {
    const p = platform(cluster.provider);
    const helm = new HelmValuesByRelease(cluster);
    for (const comp of COMPONENTS.filter((c) => cluster.components.includes(c))) {
      const state = cluster.current?.[comp];
      const ref: KubeRef = { context: cluster.context, namespace: cluster.namespace, name: comp };
      const where = `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`;
      const ours = state?.serviceAccount?.annotations[GKE_SA_ANNOTATION] === email;
      const wiring = { serviceAccountAnnotations: { [GKE_SA_ANNOTATION]: email } };
      const overlays = p.operatorOverlays(comp, wiring);
      const overlayGone = overlayRemoval(cluster, comp, where, overlays);
      if (!ours && !overlayGone) continue;
      if (ours) {
        kubernetes.push({ kind: 'ServiceAccount', context: cluster.context, namespace: cluster.namespace, name: comp, annotations: wiring.serviceAccountAnnotations, durability: cluster.installMethod === 'operator' ? 'operator-overlay' : cluster.installMethod === 'helm' ? 'helm-values' : 'live' });
        actions.push({
          id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status: 'delete',
          target: `${where}serviceaccount/${comp}`,
          summary: `Remove ${GKE_SA_ANNOTATION} from service account ${comp}`,
          current: { [GKE_SA_ANNOTATION]: email }, desired: null,
          ref, annotations: wiring.serviceAccountAnnotations,
        });
      }
      if (overlayGone) actions.push(overlayGone);
      if (cluster.installMethod === 'helm' && ours) helm.add(comp, { customize: { other: { [`serviceaccount/${comp}`]: { annotations: { [GKE_SA_ANNOTATION]: null } } } } });
      actions.push(planRestart({
        cluster, comp, ref, where, changed: ours, deferredRollout: false, outage: restartIsOutage(state?.deployment, comp), restart: decisions.restart, revertMarker: true,
        words: { deferredRollout: `Rollout of ${comp} deferred (--no-restart)`, restart: () => `Restart ${comp} so that its pods stop acting as ${email}, and wait until ready` },
      }, { restarts, outages }));
    }
    helmValues.push(...helm.list());
  }

  // --- Google ---
  const ownMembers = facts.clusters.flatMap((c) => COMPONENTS.filter((x) => c.components.includes(x)).map((x) => gkeMember(projectId, c.namespace, x)));
  planAccountRemoval({ projectId, email, decisions, state, ownMembers }, actions, notes);
  const grants: GcpPlan['grants'] = [];
  if (outages.length) notes.push(outageNote(outages));
  return {
    planVersion: 1, command: 'uninstall', cloud: 'gcp', provider: facts.clusters[0]!.provider,
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}), offline: false,
    heading: [`project ${projectId} (number ${facts.projectNumber})`, `Service account: ${email}`],
    projectId, projectNumber: facts.projectNumber, workloadPool: workloadPool(projectId),
    serviceAccount: { email, accountId: decisions.accountId, managed: sa?.managed ?? true },
    grants, kubernetes, restarts, ...(helmValues.length ? { helmValues } : {}), actions, blockers: [], notes,
  };
}

/**
 * Google's part of an uninstall, on GKE and OpenShift alike: this run's workload identity members
 * from the service account's policy (every other member stays), then — only when the account is
 * ours and no other member acts as it — its reader grants and the account itself.
 */
export function planAccountRemoval(
  i: { projectId: string; email: string; decisions: GcpDecisions; state: GcpState; ownMembers: string[] },
  actions: (GcpAction | KubeAction)[],
  notes: string[],
): void {
  const { projectId, email, decisions, state, ownMembers } = i;
  const sa = state.serviceAccount;
  const wiMembers = members(state.serviceAccountPolicy, WORKLOAD_IDENTITY_USER);
  const saResource: IamResource = { kind: 'serviceAccount', email };
  for (const m of ownMembers.filter((x) => wiMembers.includes(x))) {
    actions.push({
      id: `gcp-wi-user:${m}`, type: 'gcp-iam-member', label: 'Google IAM binding', status: 'delete',
      target: `${describeResource(saResource)}: ${WORKLOAD_IDENTITY_USER}`,
      summary: `Remove ${m}`,
      current: { role: WORKLOAD_IDENTITY_USER, members: wiMembers }, desired: { role: WORKLOAD_IDENTITY_USER, members: wiMembers.filter((x) => x !== m) },
      resource: saResource, role: WORKLOAD_IDENTITY_USER, member: m, op: 'remove', ...(sa && !sa.managed ? { adopt: true } : {}),
    });
  }
  const others = wiMembers.filter((m) => !ownMembers.includes(m));
  if (sa && sa.managed && others.length === 0) {
    for (const r of readerResources(projectId, decisions.repositories)) {
      const where = describeResource(r);
      const now = members(state.readerPolicies[where], ARTIFACT_READER);
      const member = `serviceAccount:${email}`;
      if (!now.includes(member)) continue;
      actions.push({
        id: `gcp-reader:${where}`, type: 'gcp-iam-member', label: 'Google IAM binding', status: 'delete',
        target: `${where}: ${ARTIFACT_READER}`, summary: `Remove ${member}`,
        current: { role: ARTIFACT_READER, members: now }, desired: { role: ARTIFACT_READER, members: now.filter((x) => x !== member) },
        resource: r, role: ARTIFACT_READER, member, op: 'remove',
      });
    }
    actions.push({
      id: 'gcp-service-account', type: 'gcp-service-account', label: 'Google service account', status: 'delete',
      target: email, summary: 'Delete the Google service account rhacs-sts created',
      current: { email, description: sa.description ?? null }, desired: null,
      projectId, accountId: decisions.accountId, email, clusters: [],
    });
  } else if (sa && sa.managed) {
    notes.push(`The service account ${email} is kept: ${others.join(', ')} still ${others.length === 1 ? 'acts' : 'act'} as it.`);
  } else if (sa) {
    notes.push(`The service account ${email} is kept: rhacs-sts did not create it (only the members it added are removed).`);
  }
}
