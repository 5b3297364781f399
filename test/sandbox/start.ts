// The one start-up path of a seeded sandbox, used by the integration tests' global setup and by
// `npm run sandbox` / the demo (standalone.ts): start the servers, seed ECR's registries, give each
// cluster its flavour (EKS: nodes and the IRSA webhook stand-in; AKS: nodes, the Azure stand-ins and
// the workload identity webhook stand-in; OpenShift: its config objects, or
// without STS the Authentication operator stand-in), let the caller seed each cluster further, then
// start the Pod Identity Agents and Central's API stand-ins. Stops in the reverse order; anything
// that fails to start stops what already runs and throws.
import type { KubeConfig } from '@kubernetes/client-node';
import { seedRegistries } from './aws/ecr-seed.js';
import { startIrsaWebhook } from './aws/irsa-webhook.js';
import { startPodIdentityAgents } from './aws/pod-identity-agent.js';
import { startCentralStandIns } from './central/central-standin.js';
import { AKS_SANDBOX_SUBSCRIPTION, OPENSHIFT_AZURE_RESOURCE_GROUP, startAksAzureSide } from './azure/aks-sandbox.js';
import type { AzureStandins } from './azure/standins.js';
import { seedAks } from './kube/aks-flavour.js';
import { seedEks } from './kube/eks-flavour.js';
import { seedGke } from './kube/gke-flavour.js';
import { AKS_RESOURCE_GROUP, GKE_PROJECT } from './kube/kubeconfigs.js';
import { seedOpenShiftWithoutSts, startAuthenticationOperator } from './kube/openshift-auth.js';
import { seedOpenShift } from './kube/openshift-flavour.js';
import { isPrivateIssuerHost, startSandbox, type Sandbox, type SandboxOptions } from './sandbox.js';
import type { ClusterInfo } from './types.js';

export interface SeededStartOptions {
  /** What to start (clusters, contexts, signals). */
  sandbox: Omit<SandboxOptions, 'log'>;
  log: (message: string) => void;
  /** Seeds a cluster further once it has its flavour (e.g. an RHACS install); clusters in order. */
  seedCluster?: (cluster: ClusterInfo, kc: KubeConfig, index: number) => Promise<void>;
}

export interface StartedSandbox {
  sandbox: Sandbox;
  /** The Azure stand-ins, when the sandbox has an AKS cluster (their recorded requests, e.g. for npm run bench). */
  azure?: AzureStandins;
  /** Stops the stand-ins, then the sandbox. */
  stop(): Promise<void>;
}

type Stop = () => Promise<void>;

/**
 * An OpenShift cluster on Azure: its Infrastructure object says Azure (resource group
 * OPENSHIFT_AZURE_RESOURCE_GROUP), and its issuer is where `ccoctl azure` publishes it, a storage
 * account's blob container (keys at `/openid/v1/jwks`), which Entra's stand-in reads through the
 * public web stand-in.
 */
export const OPENSHIFT_AZURE_CLUSTER = {
  name: 'openshift-azure', flavour: 'openshift', cloud: 'azure', region: 'eastus',
  issuer: 'https://rhacsstsx7k2poidc.blob.core.windows.net/rhacs-sts-x7k2p',
  jwksUri: 'https://rhacsstsx7k2poidc.blob.core.windows.net/rhacs-sts-x7k2p/openid/v1/jwks',
} as const;

/** Seeds a cluster's flavour; returns the stop of the stand-in it started for the cluster, if any. */
async function seedFlavour(sandbox: Sandbox, cluster: ClusterInfo, log: (m: string) => void): Promise<Stop | undefined> {
  const kc = sandbox.kubeConfig(cluster.name);
  if (cluster.flavour === 'eks') {
    await seedEks(kc, { region: cluster.region });
    const webhook = await startIrsaWebhook(sandbox.info, cluster.name, { log });
    return () => webhook.stop();
  }
  if (cluster.flavour === 'aks') {
    await seedAks(kc, { region: cluster.region, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, resourceGroup: AKS_RESOURCE_GROUP, clusterName: cluster.name });
    return undefined;
  }
  if (cluster.flavour === 'gke') {
    await seedGke(kc, { projectId: GKE_PROJECT, location: cluster.region, cluster: cluster.name });
    return undefined;
  }
  if (cluster.flavour !== 'openshift') return undefined;
  // OpenShift without STS: tokens from the in-cluster issuer, an empty spec.serviceAccountIssuer.
  if (isPrivateIssuerHost(new URL(cluster.issuer).hostname)) {
    await seedOpenShiftWithoutSts(kc, { region: cluster.region });
    const operator = startAuthenticationOperator(sandbox, cluster.name, { log });
    return () => operator.stop();
  }
  await seedOpenShift(kc, { issuer: cluster.issuer, region: cluster.region, ...(cluster.cloud === 'azure' ? { azure: { resourceGroup: OPENSHIFT_AZURE_RESOURCE_GROUP } } : {}), ...(cluster.cloud === 'gcp' ? { gcp: { projectId: GKE_PROJECT } } : {}) });
  return undefined;
}

export async function startWithStandIns(opts: SeededStartOptions): Promise<StartedSandbox> {
  const { log } = opts;
  const sandbox = await startSandbox({ ...opts.sandbox, log });
  const stops: Stop[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await sandbox.stop();
  };
  try {
    const t = Date.now();
    const { info } = sandbox;
    let azureStandins: AzureStandins | undefined;
    if (info.motoUrl) await seedRegistries({ motoUrl: info.motoUrl, region: info.awsEnv.AWS_REGION });
    // AKS clusters: the Azure stand-ins and, in each, the workload identity webhook (before any pod is made).
    if (Object.values(info.clusters).some((c) => c.flavour === 'aks' || c.cloud === 'azure')) {
      const azure = await startAksAzureSide(info, { log });
      stops.push(() => azure.stop());
      info.azure = azure.info;
      azureStandins = azure.standins;
    }
    for (const [i, cluster] of Object.values(info.clusters).entries()) {
      const stopStandIn = await seedFlavour(sandbox, cluster, log);
      if (stopStandIn) stops.push(stopStandIn);
      await opts.seedCluster?.(cluster, sandbox.kubeConfig(cluster.name), i);
    }
    // The EKS Pod Identity Agent of each EKS cluster (a loopback stand-in for 169.254.170.23).
    const agents = await startPodIdentityAgents(info);
    stops.push(async () => void (await Promise.all(agents.map((a) => a.stop()))));
    // Central's API (a stand-in that plays every Central pod): rhacs-sts reaches it by port-forward.
    const centrals = await startCentralStandIns(info, { log });
    stops.push(() => centrals.stop());
    info.centralControlUrl = centrals.controlUrl;
    log(`seeded the clusters and registries, started the stand-ins in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return { sandbox, stop, ...(azureStandins ? { azure: azureStandins } : {}) };
  } catch (err) {
    // Best effort: every stop runs even when one fails.
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    await sandbox.stop().catch(() => undefined);
    throw err;
  }
}
