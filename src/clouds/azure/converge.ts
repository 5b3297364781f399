/**
 * The Azure side of one cluster, composed from the verbs beside it, in the order Azure needs:
 * facts first (nothing is written for a cluster that is not ready), then the identity, its
 * federated credentials, and AcrPull on the registry. Each step is idempotent: a second run writes
 * nothing.
 */
import type { AzureArm, IdentityView } from './arm.js';
import { ensureAcrPull, parseRegistryRef, readRegistry, type AcrPullOptions, type AcrPullResult } from './acr-pull.js';
import { readAksCluster, requireWorkloadIdentity } from './cluster.js';
import { convergeCredentials, desiredCredentials, type CredentialPlan } from './federated-credentials.js';
import { defaultIdentityName, ensureIdentity } from './identity.js';

export interface AksConvergeInput {
  /** The cluster's resource group (--resource-group) and name. */
  resourceGroup: string;
  clusterName: string;
  /** --azure-identity; `rhacs-sts-<cluster>` by default. */
  identityName?: string;
  /** Where the identity lives; the cluster's resource group by default. */
  identityResourceGroup?: string;
  namespace: string;
  serviceAccounts: readonly string[];
  /** --acr: a registry name (in `resourceGroup`) or resource id. */
  acr: string;
}

export interface AksConvergeResult {
  issuer: string;
  identity: IdentityView;
  identityCreated: boolean;
  credentials: CredentialPlan;
  acrPull: AcrPullResult;
}

export async function convergeAks(arm: AzureArm, input: AksConvergeInput, options: AcrPullOptions = {}): Promise<AksConvergeResult> {
  const registryRef = parseRegistryRef(input.acr, input.resourceGroup);
  const cluster = await readAksCluster(arm, input.resourceGroup, input.clusterName);
  requireWorkloadIdentity(cluster);
  const registry = await readRegistry(arm, registryRef);
  const rg = input.identityResourceGroup ?? input.resourceGroup;
  const name = input.identityName ?? defaultIdentityName(input.clusterName);
  const { identity, created } = await ensureIdentity(arm, { resourceGroup: rg, name, location: cluster.location, clusterName: input.clusterName });
  const desired = desiredCredentials({ clusterName: input.clusterName, issuer: cluster.issuerUrl, namespace: input.namespace, serviceAccounts: input.serviceAccounts, platform: 'aks' });
  const credentials = await convergeCredentials(arm, { resourceGroup: rg, identity: name }, desired, options);
  const acrPull = await ensureAcrPull(arm, { registryId: registry.id, principalId: identity.principalId, identityName: name }, options);
  return { issuer: cluster.issuerUrl, identity, identityCreated: created, credentials, acrPull };
}
