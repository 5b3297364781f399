// What Central does when it tests an Azure Container Registry integration with `azure.wifEnabled`
// (4.7+; pkg/registries/azure, transport.go): azidentity's DefaultAzureCredential in the pod — here
// its workload identity link, from the variables the webhook (AKS) or the deployment (OpenShift)
// gave the central container: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST — a token for https://management.azure.com/.default from Entra, exchanged
// at the registry for an ACR refresh token (`/oauth2/exchange`), then the Docker registry's ping
// (`GET /v2/`, through the registry's token challenge with that refresh token). Real ACR refuses
// the exchange to an identity without a role on the registry; the ACR stand-in does not model that,
// so the stand-in proves pull by reading `pullCheckRepository` when the sandbox names one.
// Failures worded as Central (the Azure SDK for Go) words them.
import type { CentralApi } from './central-api.js';
import type { AzureSide } from './cloud-sides.js';
import { cloudRequest } from './cloud-sides.js';
import { invalid, type Integration } from './integrations.js';
import { projectedToken } from './pod-credentials.js';

const ARM_SCOPE = 'https://management.azure.com/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const form = (o: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o).toString() });

/** The authority as the pod reaches it: the cloud's host mapped to the Entra stand-in, else undefined (no route). */
function routedAuthority(authority: string, az: AzureSide | undefined): string | undefined {
  if (!az) return undefined;
  const origin = new URL(authority).origin;
  if (origin === new URL(az.cloud.authorityHost).origin || origin === new URL(az.authorityHost).origin) return new URL(az.authorityHost).origin;
  return undefined;
}

/** ACR's Docker token flow: the challenge of `path`, a registry token for its scope (or `scope`), the request again. */
async function withRegistryToken(az: AzureSide, host: string, refresh: string, path: string, scope?: string): Promise<number> {
  const url = `https://${host}${path}`;
  const first = await az.acrFetch(url);
  if (first.status !== 401) return first.status;
  const challenge = first.headers['www-authenticate'] ?? '';
  const param = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(challenge)?.[1];
  const realm = param('realm') ?? `https://${host}/oauth2/token`;
  const token = await az.acrFetch(realm, form({ grant_type: 'refresh_token', service: param('service') ?? host, refresh_token: refresh, ...(scope ?? param('scope') ? { scope: (scope ?? param('scope'))! } : {}) }));
  if (token.status !== 200) return token.status;
  const access = (JSON.parse(token.body) as { access_token: string }).access_token;
  return (await az.acrFetch(url, { headers: { authorization: `Bearer ${access}` } })).status;
}

export async function testAzureIntegration(api: CentralApi, ns: string, podName: string | undefined, i: Integration): Promise<void> {
  if (i.type !== 'azure' || !i.azure) return; // the deprecated `docker` shape is not played here
  const c = i.azure as Record<string, unknown>;
  const errors: string[] = [];
  if (!c.endpoint) errors.push('Endpoint must be specified');
  if (!c.wifEnabled && (!c.username || !c.password)) errors.push('Username and password must be specified if not using workload identity');
  if (errors.length) throw invalid(`registry integration: Azure Validation errors: ${errors.map((e) => `[${e}]`).join(', ')}: invalid arguments`);
  // The service name is `registry.azurecr.io`: no scheme, no slash.
  const host = String(c.endpoint).replace(/^https?:\/\//, '').replace(/\/+$/, '').toLowerCase();
  const fail = (chain: string) => invalid(`registry integration: Get "https://${host}/v2/": ${chain}: invalid arguments`);
  // A username and password are not played (the ACR stand-in has no admin user): as for other types, no test.
  if (!c.wifEnabled) return;
  const az = api.clouds.azure;
  const pod = await api.servingPod(ns, podName);
  const container = pod.spec?.containers?.find((x) => x.name === 'central') ?? pod.spec?.containers?.[0];
  const env = new Map((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const clientId = env.get('AZURE_CLIENT_ID');
  const tenantId = env.get('AZURE_TENANT_ID');
  const tokenFile = env.get('AZURE_FEDERATED_TOKEN_FILE');
  const authority = (env.get('AZURE_AUTHORITY_HOST') || 'https://login.microsoftonline.com/').replace(/\/+$/, '');
  const aadFail = (chain: string) => fail(`getting Azure access token: ${chain}`);
  if (!clientId || !tenantId || !tokenFile) {
    const why = !clientId ? 'no client ID specified' : !tenantId ? 'no tenant ID specified' : 'no token file specified';
    throw aadFail(`DefaultAzureCredential: failed to acquire a token. Attempted credentials: EnvironmentCredential: missing environment variable AZURE_TENANT_ID; WorkloadIdentityCredential: ${why}. Check pod configuration or set the option; ManagedIdentityCredential: managed identity timed out; AzureCLICredential: Azure CLI not found on path`);
  }
  const assertion = await projectedToken(api.core, pod, container, tokenFile);
  if (!assertion) throw aadFail(`WorkloadIdentityCredential: failed to read the token file: open ${tokenFile}: no such file or directory`);
  const tokenUrl = `${authority}/${tenantId}/oauth2/v2.0/token`;
  const base = routedAuthority(authority, az);
  if (!base) throw aadFail(`WorkloadIdentityCredential authentication failed. Post "${tokenUrl}": dial tcp: lookup ${new URL(authority).hostname}: no such host`);
  let aad: { status: number; body: string };
  try {
    aad = await cloudRequest(`${base}/${tenantId}/oauth2/v2.0/token`, { ...form({ client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: assertion, grant_type: 'client_credentials', scope: ARM_SCOPE }), ca: az!.ca });
  } catch (err) {
    throw aadFail(`WorkloadIdentityCredential authentication failed. Post "${tokenUrl}": ${(err as Error).message}`);
  }
  if (aad.status !== 200) {
    const e = JSON.parse(aad.body || '{}') as { error?: string; error_description?: string };
    throw aadFail(`WorkloadIdentityCredential authentication failed. POST ${tokenUrl} RESPONSE ${aad.status}: ${e.error ?? ''}: ${e.error_description ?? aad.body}`);
  }
  const accessToken = (JSON.parse(aad.body) as { access_token: string }).access_token;
  const exchangeUrl = `https://${host}/oauth2/exchange`;
  let ex: { status: number; body: string };
  try {
    ex = await az!.acrFetch(exchangeUrl, form({ grant_type: 'access_token', service: host, access_token: accessToken }));
  } catch (err) {
    throw fail(`getting Azure container registry refresh token: Post "${exchangeUrl}": ${(err as Error).message}`);
  }
  // The ACR stand-in answers every host; a registry it does not hold is one DNS would not know.
  if (ex.status === 404 && /NAME_UNKNOWN/.test(ex.body)) throw fail(`getting Azure container registry refresh token: Post "${exchangeUrl}": dial tcp: lookup ${host}: no such host`);
  if (ex.status !== 200) throw fail(`getting Azure container registry refresh token: POST ${exchangeUrl} RESPONSE ${ex.status}: ${ex.body.trim()}`);
  const refresh = (JSON.parse(ex.body) as { refresh_token: string }).refresh_token;
  const ping = await withRegistryToken(az!, host, refresh, '/v2/');
  if (ping !== 200) throw invalid(`registry integration: error testing integration (code: ${ping}). Please check Central logs for full error: invalid arguments`);
  const repo = az!.pullCheckRepository;
  if (repo) {
    const pull = await withRegistryToken(az!, host, refresh, `/v2/${repo}/tags/list`);
    if (pull !== 200) throw invalid(`registry integration: error testing integration (code: ${pull}). Please check Central logs for full error: invalid arguments`);
  }
}
