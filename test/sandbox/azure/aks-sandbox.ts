// The Azure side of a sandbox with AKS-flavour clusters (start.ts starts it when one exists):
//   - the Azure stand-ins (standins.ts: Entra ID, ARM, ACR) once for the sandbox, with the tenant the
//     AKS issuers name, Entra reaching the issuers through the public issuer stand-in as it reaches
//     the internet; ARM seeded with the resource group, each AKS cluster (its issuer exactly as the
//     API server publishes it, trailing slash included, OIDC issuer and workload identity on) and a
//     registry;
//   - per AKS cluster, the workload identity webhook (webhook.ts) registered in that cluster as AKS
//     registers it (MutatingWebhookConfiguration `azure-wi-webhook-mutating-webhook-configuration`,
//     objectSelector `azure.workload.identity/use: "true"`, failurePolicy Fail), reading service
//     accounts as its own user, with a serving certificate from the sandbox CA. A pod labelled
//     `azure.workload.identity/use: "true"` whose service account names a client id gets the
//     variables and the projected token; any other pod is left alone (the API server does not even
//     call the webhook for an unlabelled one).
// Every admission decision goes to a JSON-lines file next to the cluster's audit log (aksWebhookDecisions).
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { issueCert } from '../certs.js';
import { AKS_SANDBOX_TENANT } from '../kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../kube/kubeconfigs.js';
import { createRestrictedUser } from '../kube/restricted-users.js';
import { clusterInfo, kubeConfigFor } from '../observe.js';
import type { AzureSandboxInfo, ClusterInfo, SandboxInfo } from '../types.js';
import { publicFetcher } from '../issuers/public-fetch.js';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { mutatingWebhookConfiguration, startWebhookServer, WI } from './webhook.js';

/** The user the webhook reads service accounts as (the real one's service account in kube-system). */
export const AKS_WEBHOOK_USER = 'system:serviceaccount:kube-system:azure-wi-webhook-admin';
/** The subscription the sandbox's AKS clusters are in. */
export const AKS_SANDBOX_SUBSCRIPTION = '9b2e4c6a-1d3f-4a5b-8c7d-6e5f4a3b2c1d';
/** The resource group of the sandbox's OpenShift-on-Azure clusters (the Infrastructure object names it; created by the installer). */
export const OPENSHIFT_AZURE_RESOURCE_GROUP = 'rhacs-sts-sandbox-x7k2p-rg';
/** The registry seeded for them (`rhacssandbox.azurecr.io`), with StackRox's repositories. */
export const AKS_SANDBOX_REGISTRY = 'rhacssandbox';

/** Label of the dry-run pods that wait until the API server calls the webhook (not recorded). */
const PROBE_LABEL = 'sandbox.rhacs-sts.test/azure-webhook-probe';

export interface AksWebhookDecision {
  seq: number;
  namespace: string;
  pod: string;
  mutated: boolean;
  reason: string;
}

export function aksWebhookRecordsPath(cluster: ClusterInfo): string {
  return join(dirname(cluster.auditLogPath), 'azure-wi-webhook.jsonl');
}

/** The webhook's decisions on `cluster` after `since` (a seq). */
export function aksWebhookDecisions(info: SandboxInfo, cluster: string, since = 0): AksWebhookDecision[] {
  let text = '';
  try {
    text = readFileSync(aksWebhookRecordsPath(clusterInfo(info, cluster)), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AksWebhookDecision).filter((d) => d.seq > since);
}

export interface AksAzureSide {
  standins: AzureStandins;
  info: AzureSandboxInfo;
  stop(): Promise<void>;
}

/** Starts the Azure stand-ins for the sandbox's AKS clusters and registers the webhook in each. */
export async function startAksAzureSide(info: SandboxInfo, opts: { log?: (m: string) => void; readyTimeoutMs?: number } = {}): Promise<AksAzureSide> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const aks = Object.values(info.clusters).filter((c) => c.flavour === 'aks');
  const standins = await startAzureStandins({ tenantId: AKS_SANDBOX_TENANT, subscriptionId: AKS_SANDBOX_SUBSCRIPTION, certDir: join(info.certDir, 'azure'), fetchPublic: publicFetcher(info) });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    await standins.close();
  };
  try {
    standins.seed.resourceGroup(AKS_RESOURCE_GROUP, aks[0]?.region ?? 'eastus');
    // OpenShift on Azure: its installer's resource group (no managed cluster: ARM knows no OpenShift cluster).
    const openshift = Object.values(info.clusters).filter((c) => c.cloud === 'azure');
    if (openshift.length) standins.seed.resourceGroup(OPENSHIFT_AZURE_RESOURCE_GROUP, openshift[0]!.region);
    for (const c of aks) standins.seed.managedCluster({ resourceGroup: AKS_RESOURCE_GROUP, name: c.name, issuerURL: c.issuer, location: c.region });
    const registry = standins.seed.registry({ resourceGroup: AKS_RESOURCE_GROUP, name: AKS_SANDBOX_REGISTRY, repositories: { 'stackrox/main': ['4.9.0'], 'stackrox/scanner-v4': ['4.9.0'] } });
    for (const c of aks) stops.push(await startAksWebhook(info, c, standins, { log, readyTimeoutMs: opts.readyTimeoutMs ?? 20_000 }));
    log(`Azure stand-ins and the workload identity webhook for ${aks.length} AKS cluster(s) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return {
      standins,
      stop,
      info: {
        tenantId: standins.tenantId,
        subscriptionId: standins.subscriptionId,
        resourceGroup: AKS_RESOURCE_GROUP,
        authorityHost: standins.authorityHost,
        armUrl: standins.armUrl,
        registry,
        acrConnectTo: standins.acrConnectTo(),
        caCertPath: standins.caCertPath,
        adminEnv: standins.adminEnv,
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startAksWebhook(info: SandboxInfo, c: ClusterInfo, az: AzureStandins, o: { log: (m: string) => void; readyTimeoutMs: number }): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const records = aksWebhookRecordsPath(c);
  appendFileSync(records, '');
  let seq = aksWebhookDecisions(info, c.name).at(-1)?.seq ?? 0;
  const user = await createRestrictedUser(info, c.name, { name: AKS_WEBHOOK_USER, namespace: 'kube-system', rules: [], clusterRules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] }] });
  const ukc = new KubeConfig();
  ukc.loadFromFile(user.kubeconfig);
  const core = ukc.makeApiClient(CoreV1Api);
  const pair = issueCert({ cert: info.caCertPath, key: info.caKeyPath }, info.certDir, `azure-wi-webhook-${c.name}`, { cn: `azure-wi-webhook-${c.name}`, usage: 'server', sans: ['IP:127.0.0.1'] });
  let probeSeen = false;
  const server = await startWebhookServer({
    cert: readFileSync(pair.cert),
    key: readFileSync(pair.key),
    tenantId: az.tenantId,
    authorityHost: `${az.cloud.authorityHost}/`,
    serviceAccount: async (namespace, name) => {
      try {
        const sa = await core.readNamespacedServiceAccount({ name, namespace });
        return { metadata: { name, namespace, annotations: sa.metadata?.annotations ?? {} } };
      } catch {
        return undefined;
      }
    },
    onDecision: (r, _status, asked) => {
      const pod = asked.request?.object?.metadata;
      if (pod?.labels?.[PROBE_LABEL] !== undefined) {
        probeSeen = true;
        return;
      }
      appendFileSync(records, JSON.stringify({ seq: ++seq, namespace: pod?.namespace ?? '', pod: pod?.name || pod?.generateName || '', mutated: r.mutated, reason: r.reason }) + '\n');
    },
  });
  const admin = kubeConfigFor(info, c.name);
  const reg = admin.makeApiClient(AdmissionregistrationV1Api);
  const body = mutatingWebhookConfiguration({ url: server.url, caBundle: readFileSync(info.caCertPath).toString('base64') });
  const name = (body.metadata as { name: string }).name;
  try {
    await reg.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
    await reg.createMutatingWebhookConfiguration({ body: body as never });
    await waitUntilCalled(admin, () => probeSeen, o.readyTimeoutMs);
  } catch (err) {
    await server.close();
    throw new Error(`the workload identity webhook for ${c.name} did not start: ${(err as Error).message}`);
  }
  o.log(`workload identity webhook for ${c.name} at ${server.url} (ready in ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  return async () => {
    await server.close();
    await reg.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
  };
}

/** The API server picks up a new webhook configuration asynchronously: dry-run labelled pods until it calls us (bounded). */
async function waitUntilCalled(kc: KubeConfig, seen: () => boolean, timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    await core.createNamespacedPod({
      namespace: 'default',
      dryRun: 'All',
      body: { metadata: { generateName: 'azure-webhook-probe-', labels: { [PROBE_LABEL]: 'true', [WI.useLabel]: 'true' } }, spec: { containers: [{ name: 'probe', image: 'probe' }] } },
    });
    if (seen()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API server did not call the webhook within ${timeoutMs} ms`);
}
