/**
 * Azure's clouds as values, as AWS partitions are: each has its own Entra authority, ARM endpoint
 * (also the resource whose `.default` scope ARM tokens are asked for) and registry suffix. Pure.
 */

export type AzureCloudName = 'public' | 'usgov' | 'china';

export interface AzureCloud {
  name: AzureCloudName;
  /** For people: "Azure", "Azure Government", "Azure China". */
  title: string;
  /** Entra ID's authority host (AZURE_AUTHORITY_HOST inside pods outside the public cloud). */
  authorityHost: string;
  /** Azure Resource Manager: the clients' endpoint and the audience of their tokens. */
  armEndpoint: string;
  /** ACR's login server suffix (`<registry>.<suffix>`). */
  acrSuffix: string;
}

export const AZURE_CLOUDS: Readonly<Record<AzureCloudName, AzureCloud>> = {
  public: { name: 'public', title: 'Azure', authorityHost: 'https://login.microsoftonline.com', armEndpoint: 'https://management.azure.com', acrSuffix: 'azurecr.io' },
  usgov: { name: 'usgov', title: 'Azure Government', authorityHost: 'https://login.microsoftonline.us', armEndpoint: 'https://management.usgovcloudapi.net', acrSuffix: 'azurecr.us' },
  china: { name: 'china', title: 'Azure China', authorityHost: 'https://login.chinacloudapi.cn', armEndpoint: 'https://management.chinacloudapi.cn', acrSuffix: 'azurecr.cn' },
};

/** The scope ARM tokens are asked for: always the cloud's ARM resource, whatever endpoint the clients reach. */
export function armScope(cloud: AzureCloud): string {
  return `${cloud.armEndpoint}/.default`;
}

/** The cloud an authority host belongs to (AZURE_AUTHORITY_HOST), if it is one of Azure's. */
export function cloudOfAuthority(authorityHost: string): AzureCloudName | undefined {
  const host = hostOf(authorityHost);
  return (Object.values(AZURE_CLOUDS) as AzureCloud[]).find((c) => hostOf(c.authorityHost) === host)?.name;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
