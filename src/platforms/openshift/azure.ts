/**
 * OpenShift on Azure, from its Infrastructure object (config.openshift.io/v1, `cluster`): the
 * platform type, the cluster's resource group and which Azure cloud it runs in. Pure: the object
 * is read elsewhere and passed in. The cloud's values (authority host, ARM endpoint) live with the
 * cloud (src/clouds/azure/clouds.ts); here only its name, as OpenShift spells it, mapped to ours.
 */

/** The Azure clouds rhacs-sts supports, by the names the Azure library uses. */
export type OpenShiftAzureCloud = 'public' | 'usgov' | 'china';

/** OpenShift's `platformStatus.azure.cloudName` → ours (openshift/api config/v1 AzureCloudEnvironment). */
const CLOUD_NAMES: Readonly<Record<string, OpenShiftAzureCloud>> = {
  AzurePublicCloud: 'public',
  AzureUSGovernmentCloud: 'usgov',
  AzureChinaCloud: 'china',
};

/** The parts of an Infrastructure object read here. */
export interface InfrastructureView {
  status?: {
    infrastructureName?: string;
    /** Deprecated, still set by older clusters. */
    platform?: string;
    platformStatus?: {
      type?: string;
      azure?: { resourceGroupName?: string; networkResourceGroupName?: string; cloudName?: string; armEndpoint?: string };
    };
  };
}

export interface OpenShiftAzureFacts {
  resourceGroup?: string;
  networkResourceGroup?: string;
  /** The cloud (the public cloud when the object names none, as OpenShift defaults it). */
  cloud: OpenShiftAzureCloud;
  /** The cloud name as the object spells it (shown in messages). */
  cloudName: string;
  infrastructureName?: string;
  /** What makes this cluster unsupported (Azure Stack Hub, the retired German cloud, an unknown name); empty when fine. */
  problems: string[];
}

/** The cluster's Azure facts, or undefined when its Infrastructure object does not say Azure. */
export function openShiftAzureFacts(infra: InfrastructureView | undefined): OpenShiftAzureFacts | undefined {
  const status = infra?.status;
  const type = status?.platformStatus?.type ?? status?.platform;
  if (type !== 'Azure') return undefined;
  const azure = status?.platformStatus?.azure ?? {};
  const cloudName = azure.cloudName || 'AzurePublicCloud';
  const cloud = CLOUD_NAMES[cloudName];
  const problems: string[] = [];
  if (!cloud) {
    problems.push(cloudName === 'AzureStackCloud'
      ? `the cluster runs on Azure Stack Hub (cloudName AzureStackCloud${azure.armEndpoint ? `, ARM endpoint ${azure.armEndpoint}` : ''}), which has no Entra workload identity federation for managed identities`
      : `the Infrastructure object names the Azure cloud ${cloudName}; rhacs-sts knows AzurePublicCloud, AzureUSGovernmentCloud and AzureChinaCloud`);
  }
  if (!azure.resourceGroupName) problems.push('the Infrastructure object names no resource group (status.platformStatus.azure.resourceGroupName)');
  return {
    ...(azure.resourceGroupName ? { resourceGroup: azure.resourceGroupName } : {}),
    ...(azure.networkResourceGroupName ? { networkResourceGroup: azure.networkResourceGroupName } : {}),
    cloud: cloud ?? 'public',
    cloudName,
    ...(status?.infrastructureName ? { infrastructureName: status.infrastructureName } : {}),
    problems,
  };
}

/** What an OpenShift cluster's config objects say, as detection reads them. */
export interface OpenShiftClusterFacts {
  /** The Infrastructure object's platformStatus.type (`AWS`, `Azure`, …). */
  platformType?: string;
  /** The Authentication object's spec.serviceAccountIssuer, exactly as written (Entra compares strings). */
  serviceAccountIssuer?: string;
  /** On Azure: the resource group, the cloud. */
  azure?: OpenShiftAzureFacts;
  /** The region of its nodes (topology.kubernetes.io/region). */
  region?: string;
}
