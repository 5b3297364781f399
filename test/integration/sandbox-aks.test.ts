// The sandbox's AKS flavour, opt-in: this file starts its own sandbox with one `aks` cluster (the
// shared integration sandbox has none yet) and checks that it looks like AKS to rhacs-sts's own
// parsers (kubeconfig user, nodes, issuer with its trailing slash, served on the public web), that
// the workload identity webhook mutates a labelled pod and leaves an unlabelled one alone, and that
// a token the API server projects for the webhook's audience passes Entra, ACR's exchange and a
// registry read once the AKS side is converged.
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, WellKnownApi, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURE_CLOUDS } from '../../src/clouds/azure/clouds.js';
import { convergeAks } from '../../src/clouds/azure/converge.js';
import { openAzureSession } from '../../src/clouds/azure/session.js';
import { verifyAzureChain } from '../../src/clouds/azure/verify.js';
import { azureHttp } from '../../src/clouds/azure/verify-http.js';
import { KubeApi } from '../../src/kube/api.js';
import { readAksSignals } from '../../src/kube/aks-signals.js';
import { aksFactsFromSignals, looksLikeAks } from '../../src/platforms/aks/index.js';
import { AKS_SANDBOX_REGISTRY, AKS_SANDBOX_SUBSCRIPTION, aksWebhookDecisions } from '../sandbox/azure/aks-sandbox.js';
import { AKS_SANDBOX_TENANT } from '../sandbox/kube/api-servers.js';
import { AKS_RESOURCE_GROUP } from '../sandbox/kube/kubeconfigs.js';
import { startWithStandIns, type StartedSandbox } from '../sandbox/start.js';
import type { SandboxInfo } from '../sandbox/types.js';

let started: StartedSandbox;
let info: SandboxInfo;
let kc: KubeConfig;
const timings: string[] = [];

beforeAll(async () => {
  const t0 = Date.now();
  started = await startWithStandIns({ sandbox: { clusters: [{ name: 'aks' }] }, log: (m) => timings.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`) });
  info = started.sandbox.info;
  kc = started.sandbox.kubeConfig('aks');
  process.stderr.write(`[sandbox-aks] started in ${((Date.now() - t0) / 1000).toFixed(1)}s:\n${timings.map((t) => `  ${t}`).join('\n')}\n`);
}, 240_000);
afterAll(async () => {
  await started?.stop();
}, 60_000);

const NS = 'stackrox';

async function pod(name: string, o: { labelled: boolean; serviceAccount: string }): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name, labels: { app: name, ...(o.labelled ? { 'azure.workload.identity/use': 'true' } : {}) } },
      spec: { serviceAccountName: o.serviceAccount, containers: [{ name: 'main', image: 'quay.io/stackrox-io/main:4.9.0' }] },
    },
  });
}

describe('the aks sandbox cluster', () => {
  it('looks like AKS to rhacs-sts: kubeconfig user, nodes and the issuer, trailing slash kept', async () => {
    const c = info.clusters.aks!;
    expect(c.flavour).toBe('aks');
    expect(c.context).toBe('aks');
    const ctx = kc.getContextObject('aks')!;
    expect(ctx.user).toBe(`clusterUser_${AKS_RESOURCE_GROUP}_aks`);
    const node = (await kc.makeApiClient(CoreV1Api).listNode()).items[0]!;
    const discovery: unknown = await kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration();
    const issuer = (typeof discovery === 'string' ? JSON.parse(discovery) : discovery) as { issuer: string; jwks_uri: string };
    expect(issuer.issuer).toBe(c.issuer);
    expect(issuer.jwks_uri).toBe(`${c.issuer}openid/v1/jwks`);
    const facts = aksFactsFromSignals({ contextName: ctx.name, userName: ctx.user, nodeLabels: node.metadata!.labels!, providerId: node.spec!.providerID!, issuer: issuer.issuer });
    expect(looksLikeAks({ providerId: node.spec!.providerID! })).toBe(true);
    expect(facts).toMatchObject({ subscription: AKS_SANDBOX_SUBSCRIPTION, resourceGroup: AKS_RESOURCE_GROUP, clusterName: 'aks', region: 'eastus', tenant: AKS_SANDBOX_TENANT, issuer: c.issuer, conflicts: [] });
    expect(facts.issuer!.endsWith('/')).toBe(true);
  });

  it('gives the same facts through rhacs-sts\'s own reader, the issuer not normalised', async () => {
    const c = info.clusters.aks!;
    const api = new KubeApi(kc, { contextName: c.context, server: c.server }, () => undefined);
    const signals = await readAksSignals(api);
    expect(signals).toMatchObject({ contextName: 'aks', userName: `clusterUser_${AKS_RESOURCE_GROUP}_aks`, server: c.server, issuer: c.issuer });
    expect(signals.providerId).toMatch(/^azure:\/\/\/subscriptions\//);
    expect(aksFactsFromSignals(signals)).toMatchObject({ subscription: AKS_SANDBOX_SUBSCRIPTION, resourceGroup: AKS_RESOURCE_GROUP, clusterName: 'aks', region: 'eastus', tenant: AKS_SANDBOX_TENANT, issuer: c.issuer, conflicts: [] });
    expect(api.sent).toEqual({ GET: 2 });
  });

  it('mutates a labelled pod of an annotated service account, and leaves an unlabelled one alone', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => undefined);
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'central', annotations: { 'azure.workload.identity/client-id': '0a1b2c3d-0000-4000-8000-00000000c1d2' } } } });
    const since = aksWebhookDecisions(info, 'aks').at(-1)?.seq ?? 0;

    const labelled = await pod('labelled', { labelled: true, serviceAccount: 'central' });
    const env = Object.fromEntries((labelled.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      AZURE_CLIENT_ID: '0a1b2c3d-0000-4000-8000-00000000c1d2',
      AZURE_TENANT_ID: AKS_SANDBOX_TENANT,
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/wi/token/azure-identity-token',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
    });
    expect(labelled.spec!.containers[0]!.volumeMounts).toContainEqual({ name: 'azure-identity-token', mountPath: '/var/run/secrets/azure/wi/token', readOnly: true });
    const volume = labelled.spec!.volumes!.find((v) => v.name === 'azure-identity-token');
    expect(volume?.projected?.sources?.[0]?.serviceAccountToken).toEqual({ audience: 'api://AzureADTokenExchange', expirationSeconds: 3600, path: 'azure-identity-token' });

    const unlabelled = await pod('unlabelled', { labelled: false, serviceAccount: 'central' });
    expect(unlabelled.spec!.containers[0]!.env ?? []).toEqual([]);
    expect((unlabelled.spec!.volumes ?? []).map((v) => v.name)).not.toContain('azure-identity-token');

    // The API server called the webhook for the labelled pod only (its objectSelector).
    expect(aksWebhookDecisions(info, 'aks', since).map((d) => [d.pod, d.mutated])).toEqual([['labelled', true]]);
  });

  it('passes the whole Azure chain with a token the API server projects for the webhook\'s audience', async () => {
    const az = info.azure!;
    const ca = readFileSync(az.caCertPath);
    const session = await openAzureSession({
      environment: { tenantId: az.adminEnv.AZURE_TENANT_ID, clientId: az.adminEnv.AZURE_CLIENT_ID, clientSecret: az.adminEnv.AZURE_CLIENT_SECRET },
      subscriptionId: az.subscriptionId, endpoints: { authorityHost: az.authorityHost, arm: az.armUrl }, ca, timeoutMs: 15_000, sources: ['environment'],
    });
    const { identity } = await convergeAks(session.arm, { resourceGroup: AKS_RESOURCE_GROUP, clusterName: 'aks', namespace: NS, serviceAccounts: ['central'], acr: AKS_SANDBOX_REGISTRY }, { sleep: async () => undefined });
    const core = kc.makeApiClient(CoreV1Api);
    const tr = await core.createNamespacedServiceAccountToken({ namespace: NS, name: 'central', body: { spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 } } });
    const [host, , , port] = az.acrConnectTo.split(',')[0]!.split(':');
    const rows = await verifyAzureChain(azureHttp({ timeoutMs: 10_000, extraCa: [ca], connectTo: [{ host: host!, port: 443, toHost: '127.0.0.1', toPort: Number(port) }] }), {
      token: tr.status!.token, tokenSource: `${NS}/central`, audience: 'api://AzureADTokenExchange', tenantId: az.tenantId, clientId: identity.clientId,
      cloud: AZURE_CLOUDS.public, authorityHost: az.authorityHost, place: { resourceGroup: AKS_RESOURCE_GROUP, identityName: identity.name },
      credentials: await session.arm.listFederatedCredentials(AKS_RESOURCE_GROUP, identity.name), loginServer: az.registry.loginServer, repository: 'stackrox/main', nowS: Math.floor(Date.now() / 1000),
    });
    expect(rows.map((r) => [r.id, r.result, r.result === 'pass' ? '' : r.detail])).toEqual([
      ['azure-token', 'pass', ''], ['azure-entra', 'pass', ''], ['azure-acr-exchange', 'pass', ''], ['azure-acr-read', 'pass', ''],
    ]);
  });
});
