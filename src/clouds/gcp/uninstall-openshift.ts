/**
 * Google Cloud's uninstall plan for OpenShift (pure): only what is rhacs-sts's goes. The Secret
 * `gcp-cloud-credentials` where it carries our label (apply removes the clusters' part first); this
 * run's `principal://…` members from the service account's policy (every other member and binding
 * stays); the service account and its reader grants only when ours and no other member is left;
 * each cluster's provider when ours, and the pool when ours (apply deletes it only once no live
 * provider is left in it). Google keeps the deleted pool's and provider's ids reserved for 30 days:
 * a later init undeletes them.
 */
import type { KubeAction } from '../../plan/model.js';
import { openshiftMember, poolResourceName, providerResourceName, toProjectNumber, CREDENTIALS_SECRET, CREDENTIALS_SECRET_KEY, type PoolRef } from './external-account.js';
import { clusterLabel, providerIdOf } from './plan-openshift.js';
import { type GcpAction, type GcpDecisions, type GcpFacts, type GcpPlan, type GcpState } from './plan.js';
import { accountEmail } from './service-account.js';
import { planAccountRemoval } from './uninstall.js';

export function planOpenShiftGcpUninstall(facts: GcpFacts, decisions: GcpDecisions, state: GcpState): GcpPlan {
  const wi = decisions.workloadIdentity!;
  const { projectId } = facts;
  const pool: PoolRef = { projectNumber: toProjectNumber(facts.projectNumber, 'the project number Resource Manager gave'), poolId: wi.poolId };
  const email = accountEmail(decisions.accountId, projectId);
  const sa = state.serviceAccount;
  const actions: (GcpAction | KubeAction)[] = [];
  const notes: string[] = [];

  // --- the clusters first ---
  for (const c of facts.clusters) {
    if (!c.credentialsSecret?.ours) {
      if (c.credentialsSecret) notes.push(`Secret ${c.namespace}/${CREDENTIALS_SECRET} is kept: rhacs-sts did not write it.`);
      continue;
    }
    actions.push({
      id: `credentials-secret:${c.context ?? ''}:${c.namespace}`, type: 'credentials-secret', status: 'delete',
      target: `${c.namespace}/secret/${CREDENTIALS_SECRET}`, summary: 'Delete the external_account configuration rhacs-sts wrote (Central stops acting as the service account)',
      current: { [CREDENTIALS_SECRET_KEY]: c.credentialsSecret.value ?? null }, desired: null,
      ref: { context: c.context, namespace: c.namespace, name: CREDENTIALS_SECRET }, key: CREDENTIALS_SECRET_KEY, value: c.credentialsSecret.value ?? '',
    });
  }

  // --- Google: our members, then the account (when nothing else acts as it), the providers, the pool ---
  const own = facts.clusters.flatMap((c) => (['central', 'sensor'] as const).filter((x) => c.components.includes(x)).map((x) => openshiftMember(pool, c.namespace, x)));
  planAccountRemoval({ projectId, email, decisions, state, ownMembers: own }, actions, notes);
  const providers: string[] = [];
  for (const c of facts.clusters) {
    const ref = { ...pool, providerId: providerIdOf(wi, c) };
    providers.push(providerResourceName(ref));
    const cur = state.providers?.[ref.providerId];
    if (!cur || cur.state === 'DELETED') continue;
    if (!cur.managed) {
      notes.push(`The OIDC provider ${providerResourceName(ref)} is kept: rhacs-sts did not create it.`);
      continue;
    }
    actions.push({
      id: `gcp-oidc-provider:${c.context ?? ''}`, type: 'gcp-oidc-provider', label: 'Workload identity provider', status: 'delete',
      target: providerResourceName(ref), summary: 'Delete the OIDC provider rhacs-sts created (Google keeps its id reserved 30 days; init undeletes it)',
      current: { state: cur.state, issuerUri: cur.issuerUri ?? null }, desired: null,
      ref, issuer: c.issuer, cluster: clusterLabel(c),
    });
  }
  const p = state.pool;
  if (p && p.state !== 'DELETED' && p.managed) {
    actions.push({
      id: 'gcp-workload-identity-pool', type: 'gcp-workload-identity-pool', label: 'Workload identity pool', status: 'delete',
      target: poolResourceName(pool), summary: 'Delete the pool rhacs-sts created, once no provider is left in it (Google keeps its id reserved 30 days; init undeletes it)',
      current: { state: p.state }, desired: null, ref: pool, clusters: [],
    });
  } else if (p && !p.managed) notes.push(`The workload identity pool ${poolResourceName(pool)} is kept: rhacs-sts did not create it.`);
  return {
    planVersion: 1, command: 'uninstall', cloud: 'gcp', provider: 'openshift',
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}), offline: false,
    heading: [`project ${projectId} (number ${pool.projectNumber})`, `Service account: ${email}`, `Pool:            ${poolResourceName(pool)}`],
    projectId, projectNumber: facts.projectNumber, workloadPool: poolResourceName(pool),
    serviceAccount: { email, accountId: decisions.accountId, managed: sa?.managed ?? true },
    grants: [], workloadIdentity: { pool: poolResourceName(pool), providers },
    kubernetes: [], restarts: [], actions, blockers: [], notes,
  };
}
