// AKS and OpenShift on Azure: the facts read from a cluster's signals, detection through the
// platform registry, and where an Azure wiring goes (annotation + pod label on AKS, env on OpenShift).
import { describe, expect, it } from 'vitest';
import { azureWiring } from '../../src/clouds/azure/wiring.js';
import { aksFactsFromSignals, isKubeloginExec, looksLikeAks, parseAksApiServer, parseAksIssuer, parseAksKubeconfigUser, parseAksNodeLabels, parseAksProviderId } from '../../src/platforms/aks/index.js';
import { openShiftAzureFacts } from '../../src/platforms/openshift/index.js';
import { hasSignal, platform, PLATFORM_IDS } from '../../src/platforms/registry.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const ISSUER = `https://westeurope.oic.prod-aks.azure.com/${TENANT}/1a2b3c4d-0000-4111-8222-333344445555/`;
const PROVIDER_ID = `azure:///subscriptions/${SUB}/resourceGroups/mc_rhacs-rg_prod_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0`;
const KUBELOGIN = { command: 'kubelogin', args: ['get-token', '--login', 'azurecli', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630'] };

describe('AKS facts from the signals', () => {
  it('reads region and tenant from the issuer and keeps the issuer byte for byte, trailing slash included', () => {
    expect(parseAksIssuer(ISSUER)).toEqual({ region: 'westeurope', tenant: TENANT, issuer: ISSUER });
    expect(parseAksIssuer(ISSUER.slice(0, -1))).toBeUndefined();
    expect(parseAksIssuer('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC')).toBeUndefined();
  });

  it('reads the subscription from a providerID and the region from the API server host', () => {
    expect(parseAksProviderId(PROVIDER_ID)).toEqual({ subscription: SUB, nodeResourceGroup: 'mc_rhacs-rg_prod_westeurope' });
    expect(parseAksProviderId('aws:///eu-west-1a/i-0123')).toBeUndefined();
    expect(parseAksApiServer('https://prod-dns-4f1c2a7e.hcp.westeurope.azmk8s.io:443')).toEqual({ region: 'westeurope' });
    expect(parseAksApiServer('prod-dns-4f1c2a7e.privatelink.eastus.azmk8s.io')).toEqual({ region: 'eastus' });
    expect(parseAksApiServer('https://ABC.gr7.eu-west-1.eks.amazonaws.com')).toBeUndefined();
  });

  it('splits clusterUser_<rg>_<cluster> where the context name says, never guessing across underscores', () => {
    expect(parseAksKubeconfigUser('clusterUser_rhacs-rg_prod', 'prod')).toEqual({ resourceGroup: 'rhacs-rg', clusterName: 'prod' });
    expect(parseAksKubeconfigUser('clusterAdmin_my_rg_my_cluster', 'my_cluster')).toEqual({ resourceGroup: 'my_rg', clusterName: 'my_cluster' });
    expect(parseAksKubeconfigUser('clusterUser_rg_prod')).toEqual({ resourceGroup: 'rg', clusterName: 'prod' });
    expect(parseAksKubeconfigUser('clusterUser_my_rg_my_cluster')).toBeUndefined();
    expect(parseAksKubeconfigUser('kube:admin/api-x')).toBeUndefined();
  });

  it('reads the node label MC_<rg>_<cluster>_<region>, using the region label to cut it', () => {
    expect(parseAksNodeLabels({ 'kubernetes.azure.com/cluster': 'MC_rhacs-rg_prod_westeurope', 'topology.kubernetes.io/region': 'westeurope' }))
      .toEqual({ resourceGroup: 'rhacs-rg', clusterName: 'prod', region: 'westeurope' });
    expect(parseAksNodeLabels({ 'kubernetes.azure.com/cluster': 'MC_a_b_c_d_eastus' }, 'c_d')).toEqual({ resourceGroup: 'a_b', clusterName: 'c_d', region: 'eastus' });
    expect(parseAksNodeLabels({ 'kubernetes.azure.com/cluster': 'MC_a_b_c_eastus' })).toEqual({ region: 'eastus' });
    expect(parseAksNodeLabels({ 'kubernetes.io/os': 'linux' })).toBeUndefined();
  });

  it('recognises kubelogin asking for the AKS server application, not any exec', () => {
    expect(isKubeloginExec(KUBELOGIN)).toBe(true);
    expect(isKubeloginExec({ command: '/usr/local/bin/kubelogin', args: ['get-token', '--server-id=6dae42f8-4368-4678-94ff-3960e28e3630'] })).toBe(true);
    expect(isKubeloginExec({ command: 'kubelogin', args: ['get-token', '--server-id', '00000000-0000-0000-0000-000000000000'] })).toBe(false);
    expect(isKubeloginExec({ command: 'aws', args: ['eks', 'get-token'] })).toBe(false);
  });

  it('puts every signal together, saying where each fact came from', () => {
    const facts = aksFactsFromSignals({
      contextName: 'prod', userName: 'clusterUser_rhacs-rg_prod', exec: KUBELOGIN, server: 'https://prod-dns-4f1c2a7e.hcp.westeurope.azmk8s.io:443',
      nodeLabels: { 'kubernetes.azure.com/cluster': 'MC_rhacs-rg_prod_westeurope', 'topology.kubernetes.io/region': 'westeurope' }, providerId: PROVIDER_ID, issuer: ISSUER,
    });
    expect(facts).toMatchObject({ subscription: SUB, resourceGroup: 'rhacs-rg', clusterName: 'prod', region: 'westeurope', tenant: TENANT, issuer: ISSUER, conflicts: [] });
    expect(facts.sources).toMatchObject({ issuer: 'the issuer', subscription: "a node's providerID", resourceGroup: 'the kubeconfig user' });
  });

  it('lists signals that disagree instead of merging them', () => {
    const facts = aksFactsFromSignals({ issuer: ISSUER, server: 'https://x-1.hcp.eastus.azmk8s.io' });
    expect(facts.region).toBe('westeurope');
    expect(facts.conflicts).toEqual(['region: the issuer says westeurope, the API server host says eastus']);
  });

  it('tells AKS from other clusters by any one signal', () => {
    expect(looksLikeAks({ exec: KUBELOGIN })).toBe(true);
    expect(looksLikeAks({ userName: 'clusterUser_rg_c' })).toBe(true);
    expect(looksLikeAks({ nodeLabels: { 'kubernetes.azure.com/cluster': 'MC_rg_c_eastus' } })).toBe(true);
    expect(looksLikeAks({ userName: 'arn:aws:eks:eu-west-1:1:cluster/x', server: 'https://x.gr7.eu-west-1.eks.amazonaws.com', providerId: 'aws:///eu-west-1a/i-1' })).toBe(false);
  });
});

describe('the AKS platform', () => {
  it('is registered, with the webhook audience and a restart by restartedAt', () => {
    expect(PLATFORM_IDS).toContain('aks');
    const p = platform('aks');
    expect(p.audience('azure')).toBe('api://AzureADTokenExchange');
    expect(p.webhookWiring).toBe(true);
    expect(p.restart.method).toBe('restartedAt');
    expect(p.restart.needed({})).toBe(true);
  });

  it('is detected through the registry by issuer, API server, providerID, node label and kubeconfig user', () => {
    expect(hasSignal('aks', 'issuer', ISSUER)).toBe(true);
    expect(hasSignal('aks', 'issuer', ISSUER.slice(0, -1))).toBe(false);
    expect(hasSignal('aks', 'api-server', 'prod-dns-4f1c2a7e.hcp.westeurope.azmk8s.io')).toBe(true);
    expect(hasSignal('aks', 'node-provider-id', PROVIDER_ID)).toBe(true);
    expect(hasSignal('aks', 'node-label', 'kubernetes.azure.com/cluster=MC_rg_c_eastus')).toBe(true);
    expect(hasSignal('aks', 'node-label', 'kubernetes.azure.com/clusterx=1')).toBe(false);
    expect(hasSignal('aks', 'kubeconfig', 'clusterUser_rg_prod')).toBe(true);
    expect(hasSignal('aks', 'kubeconfig', `kubelogin ${KUBELOGIN.args.join(' ')}`)).toBe(true);
    expect(hasSignal('eks', 'node-provider-id', PROVIDER_ID)).toBe(false);
  });

  const wiring = azureWiring('aks', { clientId: 'c1d2', tenantId: TENANT, clusterTenantId: TENANT, cloud: 'public' });

  it('annotates the service account with the client id and labels the pod template (the label the docs leave out)', () => {
    expect(wiring).toEqual({ serviceAccountAnnotations: { 'azure.workload.identity/client-id': 'c1d2' }, podLabels: { 'azure.workload.identity/use': 'true' } });
    const other = azureWiring('aks', { clientId: 'c1d2', tenantId: 'aaaaaaaa-0000-0000-0000-000000000000', clusterTenantId: TENANT, cloud: 'public' });
    expect(other.serviceAccountAnnotations).toEqual({ 'azure.workload.identity/client-id': 'c1d2', 'azure.workload.identity/tenant-id': 'aaaaaaaa-0000-0000-0000-000000000000' });
  });

  it('keeps both in operator overlays, the label quoted so the operator reads a string, not a boolean', () => {
    expect(platform('aks').operatorOverlays('central', wiring)).toEqual([
      { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.azure\\.workload\\.identity/client-id', value: 'c1d2' }] },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'central', patches: [{ path: 'spec.template.metadata.labels.azure\\.workload\\.identity/use', value: '"true"' }] },
    ]);
  });

  it('keeps both in the charts\' customize values (serviceaccount annotations, the component\'s podLabels)', () => {
    expect(platform('aks').helmValues('sensor', wiring)).toEqual({
      customize: { other: { 'serviceaccount/sensor': { annotations: { 'azure.workload.identity/client-id': 'c1d2' } } }, sensor: { podLabels: { 'azure.workload.identity/use': 'true' } } },
    });
  });
});

describe('OpenShift on Azure', () => {
  const infra = (azure: Record<string, string>, type = 'Azure') => ({ status: { infrastructureName: 'ocp-x7k2p', platformStatus: { type, azure } } });

  it('reads the resource group and the cloud from the Infrastructure object', () => {
    expect(openShiftAzureFacts(infra({ resourceGroupName: 'ocp-x7k2p-rg', cloudName: 'AzurePublicCloud' })))
      .toEqual({ resourceGroup: 'ocp-x7k2p-rg', cloud: 'public', cloudName: 'AzurePublicCloud', infrastructureName: 'ocp-x7k2p', problems: [] });
    expect(openShiftAzureFacts(infra({ resourceGroupName: 'rg', cloudName: 'AzureUSGovernmentCloud' }))?.cloud).toBe('usgov');
    expect(openShiftAzureFacts(infra({ resourceGroupName: 'rg', cloudName: 'AzureChinaCloud' }))?.cloud).toBe('china');
    expect(openShiftAzureFacts(infra({ resourceGroupName: 'rg' }))?.cloud).toBe('public');
  });

  it('says why Azure Stack Hub and a missing resource group are not supported, and is silent on other clouds', () => {
    expect(openShiftAzureFacts(infra({ cloudName: 'AzureStackCloud', armEndpoint: 'https://management.local.azurestack.external' }))?.problems).toEqual([
      'the cluster runs on Azure Stack Hub (cloudName AzureStackCloud, ARM endpoint https://management.local.azurestack.external), which has no Entra workload identity federation for managed identities',
      'the Infrastructure object names no resource group (status.platformStatus.azure.resourceGroupName)',
    ]);
    expect(openShiftAzureFacts(infra({}, 'AWS'))).toBeUndefined();
    expect(openShiftAzureFacts({ status: { platform: 'Azure' } })?.problems).toHaveLength(1);
    expect(openShiftAzureFacts(undefined)).toBeUndefined();
  });

  it('wires the deployment with the three variables and the openshift-audience token; the authority only outside the public cloud', () => {
    const pub = azureWiring('openshift', { clientId: 'c1d2', tenantId: TENANT, cloud: 'public' });
    expect(pub.env).toEqual([
      { name: 'AZURE_CLIENT_ID', value: 'c1d2' },
      { name: 'AZURE_TENANT_ID', value: TENANT },
      { name: 'AZURE_FEDERATED_TOKEN_FILE', value: '/var/run/secrets/openshift/serviceaccount/token' },
    ]);
    expect(pub.token).toEqual({ audience: 'openshift', path: '/var/run/secrets/openshift/serviceaccount/token', expirationSeconds: 3600 });
    expect(azureWiring('openshift', { clientId: 'c', tenantId: TENANT, cloud: 'usgov' }).env?.at(-1)).toEqual({ name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.us/' });
    expect(azureWiring('openshift', { clientId: 'c', tenantId: TENANT, cloud: 'china' }).env?.at(-1)).toEqual({ name: 'AZURE_AUTHORITY_HOST', value: 'https://login.chinacloudapi.cn/' });
    expect(platform('openshift').operatorOverlays('central', pub)[0]!.patches.map((p) => p.value)).toContain('name: AZURE_FEDERATED_TOKEN_FILE\nvalue: /var/run/secrets/openshift/serviceaccount/token\n');
  });
});
