// What AKS's workload identity webhook (Azure/azure-workload-identity, pkg/webhook/consts.go) reads.

/** The service-account annotation naming the managed identity's client id (AZURE_CLIENT_ID in the pod). */
export const AKS_CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
/** The service-account annotation naming the identity's tenant, where it differs from the cluster's. */
export const AKS_TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
/** The pod label the webhook selects on: pods without it are never mutated, whatever their service account says. */
export const AKS_USE_LABEL = 'azure.workload.identity/use';
/** The audience of the token the webhook projects (and of the federated credential). */
export const AKS_AUDIENCE = 'api://AzureADTokenExchange';
/** The node label AKS sets to the node resource group (`MC_<resource group>_<cluster>_<region>`). */
export const AKS_CLUSTER_NODE_LABEL = 'kubernetes.azure.com/cluster';
/** The server id kubelogin asks Entra for (AKS's AAD server application), in an exec user's arguments. */
export const AKS_AAD_SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
