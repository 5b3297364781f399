/**
 * Azure's uninstall plan for AKS (pure): only what is rhacs-sts's goes. In the clusters: the
 * client-id annotation where it still names our identity, the pod label with it, their durable
 * copies (operator overlays; Helm values that null them), and a restart. At Azure: this run's
 * federated credentials (by our names) on our identity; then, only when no other credential is
 * left on it (another cluster still trusts it), its AcrPull assignments that rhacs-sts made and the
 * identity itself. Another principal's assignments, and an identity without our tag, are kept.
 */
import { AKS_CLIENT_ID_ANNOTATION, AKS_TENANT_ID_ANNOTATION, AKS_USE_LABEL } from '../../platforms/aks/constants.js';
import { platform } from '../../platforms/registry.js';
import { HelmValuesByRelease } from '../../plan/helm-values.js';
import { overlayRemoval } from '../../plan/wiring-loop.js';
import type { BasePlan, Component, KubeAction, KubeChange, KubeRef } from '../../plan/model.js';
import { outageNote, planRestart, restartIsOutage } from '../../plan/restarts.js';
import { planEnvUnwiring } from '../../plan/env-wiring.js';
import type { WiringPart } from '../../plan/wiring.js';
import { ACR_PULL_ROLE_ID } from './acr-pull.js';
import { federatedCredentialName } from './federated-credentials.js';
import { isOurs, TAG_MANAGED } from './identity.js';
import type { AzureAction, AzureDecisions, AzureFacts, AzurePlan, AzureState } from './plan.js';
import { azureWiring } from './wiring.js';

const COMPONENTS: readonly Component[] = ['central', 'sensor'];
/** The description rhacs-sts gives the AcrPull assignments it makes (acr-pull.ts). */
const OUR_ASSIGNMENT = /^rhacs-sts: /;

export function planAksUninstall(facts: AzureFacts, decisions: AzureDecisions, state: AzureState): AzurePlan {
  const { identityName: name, identityResourceGroup: rg } = decisions;
  const identity = state.identity;
  const ours = identity !== null && isOurs(identity);
  const actions: (AzureAction | KubeAction)[] = [];
  const notes: string[] = [];
  const kubernetes: KubeChange[] = [];
  const restarts: BasePlan['restarts'] = [];
  const helmValues: NonNullable<BasePlan['helmValues']> = [];
  const outages: Component[] = [];
  const multi = facts.clusters.length > 1;

  // --- the clusters first (apply removes them before Azure's part) ---
  for (const { cluster } of facts.clusters.filter((c) => c.cluster.provider !== 'openshift')) {
    const p = platform(cluster.provider);
    const helm = new HelmValuesByRelease(cluster);
    for (const comp of COMPONENTS.filter((c) => cluster.components.includes(c))) {
      const st = cluster.current?.[comp];
      const ref: KubeRef = { context: cluster.context, namespace: cluster.namespace, name: comp };
      const where = `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`;
      const annotations = st?.serviceAccount?.annotations ?? {};
      const named = identity !== null && annotations[AKS_CLIENT_ID_ANNOTATION] === identity.clientId;
      const tenant = annotations[AKS_TENANT_ID_ANNOTATION];
      const wiring = identity ? azureWiring('aks', { clientId: identity.clientId, tenantId: identity.tenantId, ...(tenant !== undefined && tenant === identity.tenantId ? { clusterTenantId: '' } : {}), cloud: facts.cloud }) : undefined;
      const overlays = wiring ? p.operatorOverlays(comp, wiring) : [];
      const overlayGone = overlayRemoval(cluster, comp, where, overlays);
      if (!named && !overlayGone) continue;
      if (named && wiring) {
        const remove = wiring.serviceAccountAnnotations!;
        kubernetes.push({ kind: 'ServiceAccount', context: cluster.context, namespace: cluster.namespace, name: comp, annotations: remove, durability: cluster.installMethod === 'operator' ? 'operator-overlay' : cluster.installMethod === 'helm' ? 'helm-values' : 'live' });
        actions.push({
          id: `sa-annotation:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'service-account-annotation', status: 'delete',
          target: `${where}serviceaccount/${comp}`,
          summary: `Remove ${Object.keys(remove).join(', ')} from service account ${comp}`,
          current: Object.fromEntries(Object.keys(remove).map((k) => [k, annotations[k] ?? null])), desired: null,
          ref, annotations: remove,
        });
        const labelled = st?.deployment?.podTemplateLabels?.[AKS_USE_LABEL] === 'true';
        if (labelled) {
          actions.push({
            id: `pod-labels:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'pod-labels', status: decisions.restart ? 'delete' : 'unchanged',
            target: `${where}deployment/${comp}`,
            summary: decisions.restart ? `Remove the label ${AKS_USE_LABEL} from ${comp}'s pod template` : `Removing the label ${AKS_USE_LABEL} from ${comp}'s pod template: deferred (--no-restart; it rolls the pods)`,
            current: { [AKS_USE_LABEL]: 'true' }, desired: null,
            ref, labels: { [AKS_USE_LABEL]: 'true' }, ...(decisions.restart ? {} : { deferred: true }),
          });
        }
      }
      if (overlayGone) actions.push(overlayGone);
      if (cluster.installMethod === 'helm' && named) {
        helm.add(comp, { customize: { other: { [`serviceaccount/${comp}`]: { annotations: { [AKS_CLIENT_ID_ANNOTATION]: null } } }, [comp]: { podLabels: { [AKS_USE_LABEL]: null } } } });
      }
      const restart = planRestart({
        cluster, comp, ref, where, changed: named, deferredRollout: false, outage: restartIsOutage(st?.deployment, comp), restart: decisions.restart, revertMarker: true,
        words: { deferredRollout: `Rollout of ${comp} deferred (--no-restart)`, restart: () => `Restart ${comp} so that its pods stop acting as the managed identity ${name}, and wait until ready` },
      }, { restarts, outages });
      if (named && decisions.restart && st?.deployment?.podTemplateLabels?.[AKS_USE_LABEL] === 'true' && restart.status !== 'unchanged') restart.method = 'rollout';
      actions.push(restart);
    }
    helmValues.push(...helm.list());
  }

  // OpenShift: our variables, while they still name our identity.
  const env = openShiftUnwiring(facts, decisions, identity, name);
  actions.push(...env.actions); restarts.push(...env.restarts); helmValues.push(...(env.helmValues ?? [])); notes.push(...env.notes);

  // --- Azure: only on our identity ---
  if (identity && !ours) {
    notes.push(`The managed identity ${name} is kept: rhacs-sts did not create it (no ${TAG_MANAGED}=true tag); nothing is removed from it.`);
  } else if (identity) {
    const mine = new Set(facts.clusters.flatMap(({ cluster, aks }) => COMPONENTS.filter((c) => cluster.components.includes(c)).map((c) => federatedCredentialName(aks.name, cluster.namespace, c).toLowerCase())));
    const removing = state.credentials.filter((f) => mine.has(f.name.toLowerCase()));
    const others = state.credentials.filter((f) => !mine.has(f.name.toLowerCase()));
    for (const f of removing) {
      actions.push({
        id: `azure-federated-credential:${f.name}`, type: 'azure-federated-credential', label: 'Federated credential', status: 'delete',
        target: `${name}/${f.name}`, summary: `Remove the trust in ${f.subject} of ${f.issuer}`,
        current: f, desired: null, resourceGroup: rg, identity: name, credential: f,
      });
    }
    if (others.length === 0) {
      for (const a of state.assignments.filter((x) => x.roleDefinitionId.toLowerCase().endsWith(ACR_PULL_ROLE_ID) && OUR_ASSIGNMENT.test(x.description ?? ''))) {
        actions.push({
          id: `azure-acr-pull:${a.scope}`, type: 'azure-acr-pull', label: 'Role assignment', status: 'delete',
          target: `${a.scope}: AcrPull`, summary: 'Remove the AcrPull assignment rhacs-sts made',
          current: { id: a.id, principalId: a.principalId }, desired: null,
          resourceGroup: rg, identity: name, registryId: a.scope, assignmentId: a.id,
        });
      }
      actions.push({
        id: 'azure-managed-identity', type: 'azure-managed-identity', label: 'Managed identity', status: 'delete',
        target: `${rg}/${name}`, summary: 'Delete the managed identity rhacs-sts created',
        current: { clientId: identity.clientId, tags: identity.tags }, desired: null,
        resourceGroup: rg, name, location: identity.location, clusterName: facts.clusterName ?? '',
      });
    } else {
      notes.push(`The managed identity ${name} is kept: ${others.length} other federated credential${others.length === 1 ? '' : 's'} (${others.map((f) => f.name).join(', ')}) still trust${others.length === 1 ? 's' : ''} it.`);
    }
  }
  if (outages.length) notes.push(outageNote(outages));
  return {
    planVersion: 1, command: 'uninstall', cloud: 'azure', provider: facts.clusters[0]!.cluster.provider,
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}), offline: false,
    heading: [`subscription ${facts.subscriptionId} (tenant ${facts.tenantId})`, `Managed identity: ${name} in resource group ${rg}`],
    subscriptionId: facts.subscriptionId, tenantId: identity?.tenantId ?? facts.tenantId,
    identity: { name, resourceGroup: rg, clientId: identity?.clientId ?? '', ...(identity ? { principalId: identity.principalId } : {}), managed: ours || identity === null },
    federatedCredentials: [],
    kubernetes, restarts, ...(helmValues.length ? { helmValues } : {}), actions, blockers: env.blockers, notes,
  };
}

/** OpenShift's part: the variables init set, while AZURE_CLIENT_ID still names our identity (src/plan/env-wiring.ts). */
function openShiftUnwiring(facts: AzureFacts, decisions: AzureDecisions, identity: AzureState['identity'], name: string): WiringPart {
  const clusters = facts.clusters.filter((c) => c.cluster.provider === 'openshift').map((c) => c.cluster);
  if (!clusters.length || !identity) return { kubernetes: [], restarts: [], actions: [], blockers: [], notes: [] };
  return planEnvUnwiring({
    clusters, restart: decisions.restart, identityVar: 'AZURE_CLIENT_ID', identity: `managed identity ${name}`,
    wiring: () => azureWiring('openshift', { clientId: identity.clientId, tenantId: identity.tenantId, cloud: facts.cloud }),
  });
}
