/**
 * OpenShift on Azure as an Azure run sees it (pure): the resource group (--resource-group, else the
 * Infrastructure object's), the Azure cloud its `cloudName` names (which must be the run's), the
 * issuer exactly as the Authentication object's spec.serviceAccountIssuer says (Entra compares
 * issuers as strings), and the region of its nodes (where the managed identity is made). What is
 * missing is bad input naming the flag or the cluster setting that fixes it, before any write.
 */
import type { InputProblem } from '../../errors.js';
import type { ClusterFacts } from '../../plan/model.js';
import type { AzureCloudName } from './clouds.js';
import type { AzureClusterFacts } from './plan.js';

export interface OpenShiftAzureInput {
  resourceGroup?: string;
  clusterName?: string;
  /** The run's cloud (its session's). */
  cloud: AzureCloudName;
}

/** One OpenShift cluster's Azure facts, or the problems that keep it from workload identity. */
export function openShiftOnAzure(c: ClusterFacts, input: OpenShiftAzureInput): { facts: AzureClusterFacts } | { problems: InputProblem[] } {
  const where = c.context ?? 'the current context';
  const os = c.openshift;
  const azure = os?.azure;
  const problems: InputProblem[] = [];
  if (!azure) {
    return { problems: [{ source: '--cloud', message: `${where}: the cluster's Infrastructure object does not say Azure (platformStatus.type ${os?.platformType ?? 'unset'}): leave --cloud azure out, or name the cluster on Azure` }] };
  }
  // The Infrastructure object's own problems (Azure Stack Hub, an unknown cloud); a missing resource group only without the flag.
  for (const p of azure.problems) {
    if (input.resourceGroup && /resource group/.test(p)) continue;
    problems.push({ source: /resource group/.test(p) ? '--resource-group' : where, message: `${where}: ${p}` });
  }
  if (azure.problems.length === 0 && azure.cloud !== input.cloud) {
    problems.push({ source: where, message: `${where}: the cluster runs in ${azure.cloudName}, but the run's Azure credentials are for the ${input.cloud} cloud: log in to that cloud (az cloud set --name ${azure.cloudName}; az login) or set AZURE_AUTHORITY_HOST to its authority` });
  }
  const issuer = os?.serviceAccountIssuer;
  if (!issuer) {
    problems.push({ source: where, message: `${where}: authentication.config.openshift.io/cluster has no spec.serviceAccountIssuer, so the cluster's tokens carry an issuer Entra ID cannot reach; set the cluster up for workload identity (ccoctl azure create-all) and run again` });
  } else if (!/^https:\/\//.test(issuer)) {
    problems.push({ source: where, message: `${where}: the cluster's issuer ${issuer} is not an https URL, which Entra ID requires of a federated credential's issuer` });
  }
  if (!os?.region) {
    problems.push({ source: where, message: `${where}: could not tell the cluster's Azure region (its nodes carry no topology.kubernetes.io/region label, or may not be read), where the managed identity is made` });
  }
  const resourceGroup = input.resourceGroup ?? azure.resourceGroup;
  const name = input.clusterName ?? azure.infrastructureName ?? c.name;
  if (!name) problems.push({ source: '--cluster-name', message: `${where}: the Infrastructure object names no infrastructureName: name the cluster with --cluster-name` });
  if (problems.length || !resourceGroup || !issuer || !name || !os?.region) return { problems };
  return { facts: { cluster: c, aks: { id: '', name, resourceGroup, location: os.region, issuerUrl: issuer, problems: [] } } };
}
