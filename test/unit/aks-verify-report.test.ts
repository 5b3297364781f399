// verify on AKS (src/clouds/azure/verify-aks.ts) with the cluster, ARM and the chain's HTTP given
// as fakes: AKS's rows, each component's wiring, and the chain's rows per component, each failure
// with its fix; --skip-exchange requests no token.
import { describe, expect, it } from 'vitest';
import type { AzureSession } from '../../src/clouds/azure/session.js';
import { checkAks } from '../../src/clouds/azure/verify-aks.js';
import type { AzureHttp } from '../../src/clouds/azure/verify-http.js';
import type { AzureFacts } from '../../src/clouds/azure/plan.js';
import type { KubeSession } from '../../src/kube/session.js';
import type { ClusterFacts, ComponentState } from '../../src/plan/model.js';

const ISS = 'https://eastus.oic.prod-aks.azure.com/t/c/';
const CLIENT = '11111111-1111-1111-1111-111111111111';
const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

function cluster(o: { annotation?: string; label?: string; components?: ClusterFacts['components'] } = {}): ClusterFacts {
  const state = (annotation: string | undefined): ComponentState => ({
    serviceAccount: { annotations: annotation === undefined ? {} : { 'azure.workload.identity/client-id': annotation } },
    deployment: { container: 'c', env: [], hasTokenMount: false, podTemplateAnnotations: {}, podTemplateLabels: o.label === undefined ? {} : { 'azure.workload.identity/use': o.label } },
  });
  return {
    provider: 'aks', issuer: ISS, namespace: 'stackrox', components: o.components ?? ['central'], installMethod: 'manifests',
    current: { central: state(o.annotation), sensor: state(o.annotation) },
  };
}

function facts(c: ClusterFacts, o: { registry?: boolean; workloadIdentity?: boolean } = {}): AzureFacts {
  const problems = o.workloadIdentity === false ? [{ code: 'workload-identity-disabled' as const, message: 'AKS cluster aks does not have workload identity on' }] : [];
  return {
    subscriptionId: 'sub', tenantId: 'tenant', cloud: 'public', offline: false,
    clusters: [{ cluster: c, aks: { id: 'id', name: 'aks', resourceGroup: 'rg', location: 'eastus', issuerUrl: ISS, problems, ...(problems.length ? { fix: 'az aks update --resource-group rg --name aks --enable-oidc-issuer --enable-workload-identity' } : {}) } }],
    ...(o.registry === false ? {} : { registry: { id: '/r', name: 'rhacs', loginServer: 'rhacs.azurecr.io' } }),
  };
}

const ACR_PULL = '/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d';
const azure = (identity = true, roles: { scope: string; roleDefinitionId: string }[] = [{ scope: '/r', roleDefinitionId: ACR_PULL }]) => ({
  arm: {
    roleAssignmentsOf: async () => roles.map((r, i) => ({ id: `a${i}`, principalId: 'p', ...r })),
    getIdentity: async () => (identity ? { id: 'i', name: 'rhacs-sts-aks', location: 'eastus', tags: {}, clientId: CLIENT, principalId: 'p', tenantId: 'tenant' } : null),
    listFederatedCredentials: async () => [{ name: 'fc', issuer: ISS, subject: 'system:serviceaccount:stackrox:sensor', audiences: ['api://AzureADTokenExchange'] }],
  },
}) as unknown as AzureSession;

const kube = (requested: string[]) => ({
  requestToken: async (ns: string, sa: string, aud: string) => {
    requested.push(`${ns}/${sa}:${aud}`);
    return jwt({ iss: ISS, sub: `system:serviceaccount:${ns}:${sa}`, aud: [aud], exp: 2e9 });
  },
}) as unknown as KubeSession;

/** Entra, ACR's exchange and the registry, as a fake: entra and read say how each answers. */
function http(o: { entra?: 'ok' | '70021'; read?: number } = {}): AzureHttp & { urls: string[] } {
  const urls: string[] = [];
  const f = (async (req) => {
    urls.push(req.url);
    const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body), headers: {} });
    if (req.url.includes('/oauth2/v2.0/token')) {
      return (o.entra ?? 'ok') === 'ok' ? json(200, { access_token: jwt({ oid: 'p' }) }) : json(400, { error: 'invalid_client', error_codes: [70021], error_description: 'AADSTS70021: No matching federated identity record found.' });
    }
    if (req.url.endsWith('/oauth2/exchange')) return json(200, { refresh_token: 'r' });
    if (req.url.endsWith('/oauth2/token')) return json(200, { access_token: 'a' });
    return (o.read ?? 200) === 200 ? json(200, { tags: ['4.9.0'] }) : json(o.read!, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
  }) as AzureHttp & { urls: string[] };
  f.urls = urls;
  return f;
}

const run = (o: { facts: AzureFacts; http?: AzureHttp; identity?: boolean; skip?: boolean; delegated?: boolean; requested?: string[]; repository?: string; roles?: Parameters<typeof azure>[1] }) => checkAks({
  azure: azure(o.identity ?? true, o.roles), ...(o.repository ? { repository: o.repository } : {}), facts: o.facts, decisions: { identityName: 'rhacs-sts-aks', identityResourceGroup: 'rg', delegatedScanning: o.delegated ?? false, restart: true },
  kube: [kube(o.requested ?? [])], http: o.http ?? http(), skipExchange: o.skip ?? false, now: () => 1e12, log: () => {},
});
const results = (r: Awaited<ReturnType<typeof checkAks>>) => r.checks.map((c) => [c.id.split(':')[0], c.result]);

describe('verify on AKS', () => {
  it('passes AKS, the wiring and every link of the chain with a token of audience api://AzureADTokenExchange', async () => {
    const requested: string[] = [];
    const h = http();
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), requested, repository: 'team/app', http: h });
    // The repository --acr-repository names is the one read (no repository is assumed).
    expect(h.urls.at(-1)).toBe('https://rhacs.azurecr.io/v2/team/app/tags/list');
    expect(results(r)).toEqual([['aks-oidc-issuer', 'pass'], ['aks-workload-identity', 'pass'], ['azure-wiring', 'pass'], ['azure-token', 'pass'], ['azure-entra', 'pass'], ['azure-acr-exchange', 'pass'], ['azure-acr-read', 'pass']]);
    expect(r).toMatchObject({ ok: true, cloud: 'azure', identity: { name: 'rhacs-sts-aks', clientId: CLIENT, exists: true }, registry: 'rhacs.azurecr.io' });
    expect(requested).toEqual(['stackrox/central:api://AzureADTokenExchange']);
  });

  it('fails the wiring row for an annotation naming another client id, and for a pod template without the label', async () => {
    const r = await run({ facts: facts(cluster({ annotation: '22222222-2222-2222-2222-222222222222' })) });
    const wiring = r.checks.find((c) => c.id.startsWith('azure-wiring'))!;
    expect(wiring.result).toBe('fail');
    expect(wiring.detail).toContain(`names client id 22222222-2222-2222-2222-222222222222 (azure.workload.identity/client-id), not managed identity rhacs-sts-aks's ${CLIENT}`);
    expect(wiring.detail).toContain('does not carry the label azure.workload.identity/use: "true"');
    expect(wiring.fix).toContain('rhacs-sts init --provider aks --resource-group rg --azure-identity rhacs-sts-aks --acr rhacs');
    expect(r.ok).toBe(false);
  });

  it('fails AKS\'s row with the az command when workload identity is off', async () => {
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' }), { workloadIdentity: false }) });
    const wi = r.checks.find((c) => c.id.startsWith('aks-workload-identity'))!;
    expect(wi).toMatchObject({ result: 'fail', fix: 'Run: az aks update --resource-group rg --name aks --enable-oidc-issuer --enable-workload-identity' });
  });

  it('shows an AADSTS70021 as the difference from the nearest federated credential, the later links not tried', async () => {
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), http: http({ entra: '70021' }) });
    const entra = r.checks.find((c) => c.id.startsWith('azure-entra'))!;
    expect(entra.result).toBe('fail');
    expect(entra.detail).toContain("subject: the token says 'system:serviceaccount:stackrox:central', the credential 'system:serviceaccount:stackrox:sensor'");
    expect(entra.fix).toContain('az identity federated-credential update --resource-group rg --identity-name rhacs-sts-aks --name fc');
    expect(results(r).slice(-2)).toEqual([['azure-acr-exchange', 'warn'], ['azure-acr-read', 'warn']]);
  });

  it('fails the registry row when the identity may not pull (no AcrPull)', async () => {
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), http: http({ read: 401 }), repository: 'stackrox/main' });
    const read = r.checks.find((c) => c.id.startsWith('azure-acr-read'))!;
    expect(read.result).toBe('fail');
    expect(read.fix).toContain('--role AcrPull');
  });

  it('without --acr-repository reads no repository: the registry row is the AcrPull assignment over the registry, as ARM has it', async () => {
    const h = http();
    const held = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), http: h });
    expect(h.urls.some((u) => u.includes('/v2/') || u.endsWith('/oauth2/token'))).toBe(false);
    expect(held.checks.at(-1)).toMatchObject({ id: expect.stringMatching(/^azure-acr-read/), result: 'pass', detail: expect.stringContaining('has AcrPull on rhacs.azurecr.io') });
    // An assignment on another registry (its id merely sharing a prefix) does not count.
    const above = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), roles: [{ scope: '/r-other', roleDefinitionId: ACR_PULL }] });
    expect(above.checks.at(-1)).toMatchObject({ result: 'fail', fix: expect.stringContaining('--role AcrPull') });
    const reader = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), roles: [{ scope: '/r', roleDefinitionId: '/x/acdd72a7-3385-48ef-bd42-f606fba81ae7' }] });
    expect(reader.checks.at(-1)).toMatchObject({ result: 'warn', detail: expect.stringContaining('(Reader)') });
  });

  it('checks Sensor too with delegated scanning, each link named by its component', async () => {
    const requested: string[] = [];
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true', components: ['central', 'sensor'] })), delegated: true, requested });
    expect(requested).toEqual(['stackrox/central:api://AzureADTokenExchange', 'stackrox/sensor:api://AzureADTokenExchange']);
    expect(r.checks.filter((c) => c.id.endsWith(':sensor')).map((c) => c.check)).toContain('Entra ID token exchange (sensor)');
  });

  it('requests no token and makes no call with --skip-exchange', async () => {
    const requested: string[] = [];
    const h = http();
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), skip: true, requested, http: h });
    expect(requested).toEqual([]);
    expect(h.urls).toEqual([]);
    expect(results(r).at(-1)).toEqual(['azure-token-chain', 'warn']);
    expect(r.ok).toBe(true);
  });

  it('without a registry, leaves the registry links unchecked (a warning naming --acr); without the identity, fails', async () => {
    const h = http();
    const r = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' }), { registry: false }), http: h });
    expect(results(r).slice(-2)).toEqual([['azure-acr-exchange', 'warn'], ['azure-acr-read', 'warn']]);
    expect(r.checks.find((c) => c.id.startsWith('azure-acr-exchange'))!.fix).toContain('--acr');
    expect(h.urls.some((u) => u.includes('azurecr'))).toBe(false);
    const none = await run({ facts: facts(cluster({ annotation: CLIENT, label: 'true' })), identity: false });
    expect(none.ok).toBe(false);
    expect(none.identity.exists).toBe(false);
  });
});
