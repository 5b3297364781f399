/**
 * How pods receive a managed identity, by platform. On AKS the workload identity webhook reads the
 * client id (and a tenant other than the cluster's) on the service account, but mutates only pods
 * labelled `azure.workload.identity/use: "true"` — the step the published procedure leaves out. On
 * OpenShift nothing injects: the deployment names the identity in the variables Azure's SDKs read
 * (as `ccoctl azure` writes them) and points them at the token OpenShift projects for audience
 * `openshift`; outside the public cloud, also the cloud's Entra authority.
 */
import { AKS_CLIENT_ID_ANNOTATION, AKS_TENANT_ID_ANNOTATION, AKS_USE_LABEL } from '../../platforms/aks/constants.js';
import { OPENSHIFT_AUDIENCE, OPENSHIFT_TOKEN_FILE, TOKEN_EXPIRATION_SECONDS } from '../../platforms/openshift/constants.js';
import type { PlatformId, PodWiring } from '../../platforms/types.js';
import { AZURE_CLOUDS, type AzureCloudName } from './clouds.js';

export interface AzureIdentityRef {
  /** The managed identity's client id. */
  clientId: string;
  /** The identity's tenant. */
  tenantId: string;
  /** The cluster's own tenant (AKS), when known: the tenant annotation is written only where they differ. */
  clusterTenantId?: string;
  cloud: AzureCloudName;
}

export function azureWiring(platform: Extract<PlatformId, 'aks' | 'openshift'>, id: AzureIdentityRef): PodWiring {
  if (platform === 'aks') {
    const differs = id.clusterTenantId !== undefined && id.clusterTenantId.toLowerCase() !== id.tenantId.toLowerCase();
    return {
      serviceAccountAnnotations: { [AKS_CLIENT_ID_ANNOTATION]: id.clientId, ...(differs ? { [AKS_TENANT_ID_ANNOTATION]: id.tenantId } : {}) },
      podLabels: { [AKS_USE_LABEL]: 'true' },
    };
  }
  return {
    env: [
      { name: 'AZURE_CLIENT_ID', value: id.clientId },
      { name: 'AZURE_TENANT_ID', value: id.tenantId },
      { name: 'AZURE_FEDERATED_TOKEN_FILE', value: OPENSHIFT_TOKEN_FILE },
      ...(id.cloud === 'public' ? [] : [{ name: 'AZURE_AUTHORITY_HOST', value: `${AZURE_CLOUDS[id.cloud].authorityHost}/` }]),
    ],
    token: { audience: OPENSHIFT_AUDIENCE, path: OPENSHIFT_TOKEN_FILE, expirationSeconds: TOKEN_EXPIRATION_SECONDS },
  };
}
