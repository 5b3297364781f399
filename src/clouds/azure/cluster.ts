/**
 * An AKS cluster's facts for workload identity: its OIDC issuer exactly as AKS publishes it (Entra
 * compares issuers as strings, and AKS's ends in `/`), and whether workload identity is on. What
 * is missing is a typed problem with the one `az aks update` that fixes it, found before any write.
 */
import { OperationError } from '../../errors.js';
import type { AzureArm, ManagedClusterView } from './arm.js';
import { mapAzureError } from './errors.js';

export type AksProblemCode = 'oidc-issuer-disabled' | 'issuer-url-missing' | 'workload-identity-disabled';

export interface AksProblem {
  code: AksProblemCode;
  message: string;
}

export interface AksClusterFacts {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  /** The issuer, byte for byte as the cluster publishes it (never normalised). */
  issuerUrl?: string;
  problems: AksProblem[];
  /** The command that fixes every problem; absent when there are none. */
  fix?: string;
}

/** Pure: the cluster's problems for workload identity, and the fix. */
export function aksFacts(cluster: ManagedClusterView, resourceGroup: string): AksClusterFacts {
  const problems: AksProblem[] = [];
  if (!cluster.oidcIssuerEnabled) problems.push({ code: 'oidc-issuer-disabled', message: `AKS cluster ${cluster.name} does not publish an OIDC issuer (oidcIssuerProfile.enabled is false)` });
  else if (!cluster.issuerUrl) problems.push({ code: 'issuer-url-missing', message: `AKS cluster ${cluster.name} has its OIDC issuer on but reports no issuerURL yet` });
  if (!cluster.workloadIdentityEnabled) problems.push({ code: 'workload-identity-disabled', message: `AKS cluster ${cluster.name} does not have workload identity on (securityProfile.workloadIdentity.enabled is false)` });
  return {
    id: cluster.id,
    name: cluster.name,
    resourceGroup,
    location: cluster.location,
    ...(cluster.issuerUrl ? { issuerUrl: cluster.issuerUrl } : {}),
    problems,
    ...(problems.length ? { fix: `az aks update --resource-group ${resourceGroup} --name ${cluster.name} --enable-oidc-issuer --enable-workload-identity` } : {}),
  };
}

/** The cluster's facts (read-only); a missing cluster → OperationError naming the flags. */
export async function readAksCluster(arm: AzureArm, resourceGroup: string, name: string): Promise<AksClusterFacts> {
  let cluster: ManagedClusterView | null;
  try {
    cluster = await arm.getManagedCluster(resourceGroup, name);
  } catch (err) {
    throw mapAzureError(err, `reading AKS cluster ${name} in resource group ${resourceGroup}`);
  }
  if (!cluster) throw new OperationError(`AKS cluster ${name} was not found in resource group ${resourceGroup}.`, { hint: 'Check --resource-group and the cluster name ("az aks list -o table"), and --azure-subscription.' });
  return aksFacts(cluster, resourceGroup);
}

/** The cluster is ready for workload identity, or an error with every problem and the fix (before any write). */
export function requireWorkloadIdentity(facts: AksClusterFacts): asserts facts is AksClusterFacts & { issuerUrl: string } {
  if (facts.problems.length === 0 && facts.issuerUrl) return;
  throw new OperationError(`AKS cluster ${facts.name} is not ready for workload identity: ${facts.problems.map((p) => p.message).join('; ')}.`, { hint: `Run: ${facts.fix} (then re-run; nothing was changed).` });
}
