/**
 * An AKS run's Azure facts and decisions: the subscription and tenant of the credentials, each
 * cluster as AKS sees it (OIDC issuer and workload identity on — otherwise bad input with the one
 * `az aks update` that fixes it, before anything is written), the registry --acr names, and the
 * identity's name and resource group.
 */
import { InputError, type InputProblem } from '../../errors.js';
import type { ClusterFacts } from '../../plan/model.js';
import { parseRegistryRef } from './acr-pull.js';
import type { RegistryView } from './arm.js';
import { aksFacts } from './cluster.js';
import { mapAzureError } from './errors.js';
import { defaultIdentityName } from './identity.js';
import { openShiftOnAzure } from './openshift.js';
import type { AzureClusterFacts, AzureDecisions, AzureFacts } from './plan.js';
import type { AzureSession } from './session.js';

/** What the run's flags say about Azure (the options' AKS part). */
export interface AzureRunOptions {
  command?: string;
  resourceGroup?: string;
  azureIdentity?: string;
  acr?: string;
  clusterName?: string;
  delegatedScanning?: boolean;
  restart: boolean;
}

const where = (c: ClusterFacts) => c.context ?? 'the current context';

/** Reads each AKS cluster, the registry and who the credentials are (reads only); every problem at once. */
export async function readAzureFacts(session: AzureSession, options: AzureRunOptions, clusters: ClusterFacts[]): Promise<AzureFacts> {
  const problems: InputProblem[] = [];
  const found: AzureClusterFacts[] = [];
  for (const c of clusters) {
    if (c.provider === 'openshift') {
      const os = openShiftOnAzure(c, { ...(options.resourceGroup ? { resourceGroup: options.resourceGroup } : {}), ...(options.clusterName ? { clusterName: options.clusterName } : {}), cloud: session.cloud.name });
      if ('problems' in os) problems.push(...os.problems);
      else found.push(os.facts);
      continue;
    }
    const rg = options.resourceGroup ?? c.aks?.resourceGroup;
    const name = c.aks?.name ?? c.name;
    if (!rg || !name) {
      problems.push({ source: '--resource-group', message: `${where(c)}: could not tell which AKS cluster this is (its kubeconfig user and nodes name no resource group and cluster); say which resource group it is in` });
      continue;
    }
    if (c.aks?.subscription && c.aks.subscription !== session.subscriptionId) {
      problems.push({ source: '--azure-subscription', message: `${where(c)}: the cluster is in subscription ${c.aks.subscription}, but the run's is ${session.subscriptionId}: pass --azure-subscription ${c.aks.subscription}` });
      continue;
    }
    let view;
    try {
      view = await session.arm.getManagedCluster(rg, name);
    } catch (err) {
      throw mapAzureError(err, `reading AKS cluster ${name} in resource group ${rg}`);
    }
    if (!view) {
      problems.push({ source: '--resource-group', message: `${where(c)}: no AKS cluster ${name} in resource group ${rg} of subscription ${session.subscriptionId} (list them with "az aks list -o table")` });
      continue;
    }
    const aks = aksFacts(view, rg);
    // verify shows them as rows (with the same fix); uninstall needs none of them.
    if (options.command !== 'uninstall' && options.command !== 'verify' && (aks.problems.length || !aks.issuerUrl)) {
      problems.push({ source: where(c), message: `${aks.problems.map((p) => p.message).join('; ')}. Fix: ${aks.fix}` });
      continue;
    }
    found.push({ cluster: c, aks: { ...aks, issuerUrl: aks.issuerUrl ?? '' } });
  }
  let registry: RegistryView | undefined;
  if (options.acr) {
    try {
      const ref = parseRegistryRef(options.acr, options.resourceGroup ?? found[0]?.aks.resourceGroup);
      if (ref.subscriptionId && ref.subscriptionId.toLowerCase() !== session.subscriptionId) {
        problems.push({ source: '--acr', message: `the registry is in subscription ${ref.subscriptionId}, but the run's is ${session.subscriptionId} (the identity and its role assignment live in one subscription)` });
      } else {
        const r = await session.arm.getRegistry(ref.resourceGroup, ref.name).catch((err: unknown) => {
          throw mapAzureError(err, `reading registry ${ref.name} in resource group ${ref.resourceGroup}`);
        });
        if (r) registry = r;
        else problems.push({ source: '--acr', message: `no registry ${ref.name} in resource group ${ref.resourceGroup} of subscription ${session.subscriptionId} (list them with "az acr list -o table")` });
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length) {
    throw new InputError(problems, clusters.some((c) => c.provider === 'openshift')
      ? 'RHACS\'s pods can act as an Azure managed identity only when Entra ID trusts the cluster\'s issuer: fix the above, then run rhacs-sts again. Nothing was changed.'
      : 'RHACS\'s pods can act as an Azure managed identity only through AKS workload identity: fix the above (run the az command shown), then run rhacs-sts again. Nothing was changed.');
  }
  const caller = await session.caller();
  const central = found.find((c) => c.cluster.components.includes('central')) ?? found[0]!;
  const clusterName = options.clusterName ?? central.aks.name;
  return {
    subscriptionId: session.subscriptionId,
    tenantId: caller.tenantId.toLowerCase(),
    cloud: session.cloud.name,
    clusters: found,
    ...(registry ? { registry } : {}),
    clusterName,
    offline: false,
  };
}

/** Decisions from the flags: a flag wins, else the default (Sensor gets the identity where only Sensor runs). */
export function decideAzure(options: AzureRunOptions, facts: AzureFacts): AzureDecisions {
  const onlySensor = facts.clusters.some((c) => c.cluster.components.includes('sensor') && !c.cluster.components.includes('central'));
  const central = facts.clusters.find((c) => c.cluster.components.includes('central')) ?? facts.clusters[0]!;
  return {
    identityName: options.azureIdentity ?? defaultIdentityName(facts.clusterName ?? central.aks.name),
    identityResourceGroup: options.resourceGroup ?? central.aks.resourceGroup,
    delegatedScanning: options.delegatedScanning ?? onlySensor,
    restart: options.restart,
  };
}
