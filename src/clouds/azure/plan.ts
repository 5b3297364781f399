/**
 * Azure's plan for AKS (pure): the user-assigned managed identity RHACS acts as (ours by its tag),
 * one federated identity credential per cluster and service account (the issuer exactly as AKS
 * publishes it, subject `system:serviceaccount:<ns>:<sa>`, audience `api://AzureADTokenExchange`;
 * counted against Azure's 20 per identity before anything is written), AcrPull on the registry,
 * and the cluster side: the client-id annotation and the pod label the workload identity webhook
 * selects pods by, in the durable place, and a restart.
 */
import type { BasePlan, Blocker, ClusterFacts, KubeAction, PlanActionBase } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { planAnnotationWiring, type WiringPart } from '../../plan/wiring.js';
import { planEnvWiring } from '../../plan/env-wiring.js';
import type { FederatedCredentialView, IdentityView, RegistryView, RoleAssignmentView } from './arm.js';
import { ACR_PULL_ROLE_ID, ACR_PULL_ROLE_NAME, assignmentCovers } from './acr-pull.js';
import type { AksClusterFacts } from './cluster.js';
import type { AzureCloudName } from './clouds.js';
import { credentialLimitBlocker, desiredCredentials, federatedCredentialName, planCredentials } from './federated-credentials.js';
import { isOurs, TAG_MANAGED } from './identity.js';
import { azureWiring } from './wiring.js';

/** The client id a new identity gets only when Azure creates it: the plan names it so until then. */
export const PENDING_CLIENT_ID = '<client id of the new managed identity>';

/** One AKS cluster of a run: its Kubernetes facts and what Azure says of it. */
export interface AzureClusterFacts {
  cluster: ClusterFacts;
  aks: AksClusterFacts & { issuerUrl: string };
}

/** What an AKS run knows of Azure and the clusters. */
export interface AzureFacts {
  subscriptionId: string;
  /** The tenant of the run's credentials (where the identity lives). */
  tenantId: string;
  cloud: AzureCloudName;
  clusters: AzureClusterFacts[];
  /** --acr, read (absent: no registry named). */
  registry?: RegistryView;
  clusterName?: string;
  offline: boolean;
}

export interface AzureDecisions {
  identityName: string;
  /** Where the identity lives (--resource-group, else the cluster's). */
  identityResourceGroup: string;
  delegatedScanning: boolean;
  restart: boolean;
}

/** What is in place at Azure for a run (read-only). */
export interface AzureState {
  identity: IdentityView | null;
  /** The identity's federated credentials (none when it does not exist). */
  credentials: FederatedCredentialView[];
  /** The identity's role assignments on the registry (none when either is missing). */
  assignments: RoleAssignmentView[];
}

export type AzureAction =
  | (PlanActionBase & { type: 'azure-managed-identity'; resourceGroup: string; name: string; location: string; clusterName: string })
  | (PlanActionBase & { type: 'azure-federated-credential'; resourceGroup: string; identity: string; credential: FederatedCredentialView })
  | (PlanActionBase & { type: 'azure-acr-pull'; resourceGroup: string; identity: string; registryId: string; /** uninstall: the assignment to delete */ assignmentId?: string });

export const AZURE_ACTION_TYPES: ReadonlySet<string> = new Set(['azure-managed-identity', 'azure-federated-credential', 'azure-acr-pull']);

export function isAzureAction(a: { type: string }): a is AzureAction {
  return AZURE_ACTION_TYPES.has(a.type);
}

/** Azure's plan: the cloud-neutral base and where its identity lives. */
export interface AzurePlan extends BasePlan<AzureAction | KubeAction> {
  cloud: 'azure';
  subscriptionId: string;
  tenantId: string;
  identity: { name: string; resourceGroup: string; clientId: string; principalId?: string; managed: boolean };
  /** Every federated credential the plan relies on (name, issuer, subject, audiences). */
  federatedCredentials: FederatedCredentialView[];
  registry?: { id: string; loginServer: string; role: string };
}

const nameOf = (c: AzureClusterFacts) => c.aks.name;

export function planAks(facts: AzureFacts, decisions: AzureDecisions, state: AzureState | undefined): AzurePlan {
  if (facts.clusters.length === 0) throw new Error('planAks: no cluster');
  const known = state !== undefined;
  const identity = state?.identity ?? null;
  const foreign = identity !== null && !isOurs(identity);
  const { identityName: name, identityResourceGroup: rg } = decisions;
  const blockers: Blocker[] = [];
  const notes: string[] = [];
  const actions: (AzureAction | KubeAction)[] = [];
  const first = facts.clusters[0]!;

  if (foreign) {
    blockers.push({
      message: `The managed identity ${name} in resource group ${rg} exists and was not created by rhacs-sts (no ${TAG_MANAGED}=true tag).`,
      hint: `Name another one with --azure-identity, or tag this one ${TAG_MANAGED}=true yourself if rhacs-sts may manage it.`,
    });
  }
  actions.push({
    id: 'azure-managed-identity', type: 'azure-managed-identity', label: 'Managed identity',
    status: known && identity ? 'unchanged' : 'create',
    target: `${rg}/${name}`,
    summary: !known || !identity ? `Create the user-assigned managed identity RHACS acts as (tagged ${TAG_MANAGED}=true)`
      : foreign ? 'Exists, not created by rhacs-sts' : 'Exists, managed by rhacs-sts',
    current: known ? (identity ? { clientId: identity.clientId, tags: identity.tags } : null) : undefined,
    desired: { location: identity?.location ?? first.aks.location, tags: identity?.tags ?? { [TAG_MANAGED]: 'true' } },
    resourceGroup: rg, name, location: identity?.location ?? first.aks.location, clusterName: facts.clusterName ?? nameOf(first),
  });

  // One credential per cluster and service account, the issuer exactly as each cluster publishes it.
  const existing = state?.credentials ?? [];
  const desired = facts.clusters.flatMap((c) => desiredCredentials({
    clusterName: nameOf(c), issuer: c.aks.issuerUrl, namespace: c.cluster.namespace,
    serviceAccounts: targetComponents(c.cluster, decisions.delegatedScanning), platform: c.cluster.provider === 'openshift' ? 'openshift' : 'aks',
  }));
  // Counted before any write, per cluster of the run (a fleet shares the identity's 20).
  const creating = new Set(planCredentials(existing, desired).create.map((c) => c.name));
  const limit = credentialLimitBlocker({
    identity: name, resourceGroup: rg, existing: existing.length,
    needs: facts.clusters.map((c) => ({
      cluster: nameOf(c), ...(c.cluster.context ? { context: c.cluster.context } : {}), withCentral: c.cluster.components.includes('central'),
      serviceAccounts: targetComponents(c.cluster, decisions.delegatedScanning).filter((sa) => creating.has(federatedCredentialName(nameOf(c), c.cluster.namespace, sa))),
    })),
  });
  if (limit) blockers.push(limit);
  for (const want of desired) {
    const one = planCredentials(existing, [want]);
    const update = one.update[0];
    const status = !known ? 'create' : one.unchanged.length ? 'unchanged' : update ? 'update' : 'create';
    const credential = update ? update.desired : one.unchanged[0] ?? want;
    actions.push({
      id: `azure-federated-credential:${want.name}`, type: 'azure-federated-credential', label: 'Federated credential',
      status,
      target: `${name}/${credential.name}`,
      summary: `Trust ${want.subject} of issuer ${want.issuer} (audience ${want.audiences.join(', ')})`,
      current: known ? (update ? update.current : one.unchanged[0] ?? null) : undefined,
      desired: want,
      resourceGroup: rg, identity: name, credential: update ? update.desired : want,
    });
  }

  if (facts.registry) {
    const has = (state?.assignments ?? []).some((a) => assignmentCovers(a, ACR_PULL_ROLE_ID, facts.registry!.id));
    actions.push({
      id: `azure-acr-pull:${facts.registry.id}`, type: 'azure-acr-pull', label: 'Role assignment',
      status: known && has ? 'unchanged' : 'create',
      target: `${facts.registry.loginServer}: ${ACR_PULL_ROLE_NAME}`,
      summary: `Let the identity pull images from ${facts.registry.loginServer} (${ACR_PULL_ROLE_NAME}, the least privilege that pulls)`,
      resourceGroup: rg, identity: name, registryId: facts.registry.id,
    });
  } else {
    notes.push('No registry was named: pass --acr <name or resource id> to let the identity pull from Azure Container Registry (AcrPull).');
  }

  const clientId = identity?.clientId || PENDING_CLIENT_ID;
  const tenantId = identity?.tenantId || facts.tenantId;
  const wiring = clusterSide(facts, decisions, name, clientId, tenantId);
  actions.push(...wiring.actions);
  blockers.push(...wiring.blockers);
  notes.push(...wiring.notes);
  return {
    planVersion: 1,
    command: 'init',
    cloud: 'azure',
    provider: first.cluster.provider,
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}),
    offline: facts.offline,
    heading: [
      `subscription ${facts.subscriptionId} (tenant ${facts.tenantId})`,
      `Managed identity: ${name} in resource group ${rg}${foreign ? ' (not created by rhacs-sts)' : ''}${identity ? `, client id ${identity.clientId}` : ''}`,
      `Issuer:           ${[...new Set(facts.clusters.map((c) => c.aks.issuerUrl))].join(', ')}`,
      ...(facts.registry ? [`Registry:         ${facts.registry.loginServer} (${ACR_PULL_ROLE_NAME})`] : []),
    ],
    subscriptionId: facts.subscriptionId,
    tenantId,
    identity: { name, resourceGroup: rg, clientId, ...(identity ? { principalId: identity.principalId } : {}), managed: !foreign },
    federatedCredentials: desired,
    ...(facts.registry ? { registry: { id: facts.registry.id, loginServer: facts.registry.loginServer, role: ACR_PULL_ROLE_NAME } } : {}),
    kubernetes: wiring.kubernetes,
    restarts: wiring.restarts,
    ...(wiring.helmValues ? { helmValues: wiring.helmValues } : {}),
    actions,
    blockers,
    notes,
  };
}

/**
 * The cluster side: on AKS the client-id annotation and the label the webhook selects pods by; on
 * OpenShift, where nothing injects, the variables Azure's SDKs read on the deployment itself.
 */
function clusterSide(facts: AzureFacts, decisions: AzureDecisions, name: string, clientId: string, tenantId: string): WiringPart {
  const aks = facts.clusters.filter((c) => c.cluster.provider !== 'openshift').map((c) => c.cluster);
  const openshift = facts.clusters.filter((c) => c.cluster.provider === 'openshift').map((c) => c.cluster);
  const common = { delegatedScanning: decisions.delegatedScanning, restart: decisions.restart, identity: `managed identity ${name}` };
  const parts: WiringPart[] = [];
  if (aks.length) {
    parts.push(planAnnotationWiring({
      ...common, clusters: aks,
      wiring: (cluster) => azureWiring('aks', { clientId, tenantId, ...(cluster.aks?.tenant ? { clusterTenantId: cluster.aks.tenant } : {}), cloud: facts.cloud }),
      foreignHint: () => 'Remove the annotation first if RHACS should act as the identity rhacs-sts manages, or configure the identity it names yourself.',
      restartWhy: "AKS's workload identity webhook injects the identity's variables and token when a labelled pod is created",
    }));
  }
  if (openshift.length) {
    parts.push(planEnvWiring({
      ...common, clusters: openshift, identityVar: 'AZURE_CLIENT_ID', tokenVar: 'AZURE_FEDERATED_TOKEN_FILE',
      wiring: () => azureWiring('openshift', { clientId, tenantId, cloud: facts.cloud }),
      foreignHint: (current) => `Configure the identity it names yourself (client id ${current}), or remove AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE from the deployment first if RHACS should act as the identity rhacs-sts manages.`,
      restartWhy: "OpenShift injects nothing: the deployment's own variables name the identity and OpenShift's token",
    }));
  }
  return {
    kubernetes: parts.flatMap((p) => p.kubernetes), restarts: parts.flatMap((p) => p.restarts),
    ...(parts.some((p) => p.helmValues) ? { helmValues: parts.flatMap((p) => p.helmValues ?? []) } : {}),
    actions: parts.flatMap((p) => p.actions), blockers: parts.flatMap((p) => p.blockers), notes: [...new Set(parts.flatMap((p) => p.notes))],
  };
}

/** Replaces the pending client id everywhere in the plan (the cluster side) once the identity exists. */
export function resolvePendingClientId<T>(plan: T, clientId: string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes(PENDING_CLIENT_ID) ? v.split(PENDING_CLIENT_ID).join(clientId) : v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v;
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = walk(x);
      return v;
    }
    return v;
  };
  return walk(plan) as T;
}
