// What Central does when it tests an Artifact Registry integration with `google.wifEnabled`
// (pkg/registries/google, pkg/cloudproviders/gcp): Google's validation, then a token source for
// the pod — the `external_account` configuration in Secret gcp-cloud-credentials (key
// `credentials`; the name ROX_GCP_CLOUD_CREDENTIALS_SECRET may override) in Central's namespace
// when there is one: the pod's projected token (`credential_source.file`) exchanged at Google STS,
// then the service account impersonated with IAM Credentials' generateAccessToken; else Google's
// default credentials, which on GKE are the node's metadata server — and then the Docker
// registry's ping (`GET https://<endpoint>/v2/`, the access token as `oauth2accesstoken`), which
// is all Central's test asks of the registry (with `pullCheckImage`, the stand-in reads its tags
// too, to prove the reader role). Failures worded as Central words them.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { CentralApi } from './central-api.js';
import { cloudRequest, type GcpSide } from './cloud-sides.js';
import { invalid, type Integration } from './integrations.js';
import { projectedToken } from './pod-credentials.js';

const SECRET = 'gcp-cloud-credentials';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

interface ExternalAccount {
  type?: string;
  audience?: string;
  subject_token_type?: string;
  token_url?: string;
  service_account_impersonation_url?: string;
  credential_source?: { file?: string };
}

/** A Google URL as the pod reaches it: Google's host mapped to its stand-in, else undefined (no route). */
function routed(url: string, gcp: GcpSide | undefined): string | undefined {
  if (!gcp) return undefined;
  const u = new URL(url);
  const sts = new URL(gcp.urls.stsToken);
  const iamc = new URL(gcp.urls.iamcredentials);
  if (u.host === 'sts.googleapis.com' || u.origin === sts.origin) return `${sts.origin}${u.pathname}${u.search}`;
  if (u.host === 'iamcredentials.googleapis.com' || u.origin === iamc.origin) return `${iamc.origin}${u.pathname}${u.search}`;
  return undefined;
}

async function post(url: string, gcp: GcpSide | undefined, headers: Record<string, string>, body: string, fail: (chain: string) => Error) {
  const target = routed(url, gcp);
  if (!target) throw fail(`Post "${url}": dial tcp: lookup ${new URL(url).hostname}: no such host`);
  try {
    return await cloudRequest(target, { method: 'POST', headers, body, ca: gcp!.ca });
  } catch (err) {
    throw fail(`Post "${url}": ${(err as Error).message}`);
  }
}

/** The external_account flow of Google's Go library: STS, then impersonation when configured. */
async function externalAccountToken(api: CentralApi, pod: V1Pod, container: V1Container | undefined, cfg: ExternalAccount, fail: (chain: string) => Error): Promise<string> {
  const gcp = api.clouds.gcp;
  const ea = (chain: string) => fail(`oauth2/google/externalaccount: ${chain}`);
  if (cfg.type !== 'external_account') throw fail(`google: unsupported credential type in Secret ${SECRET}: "${String(cfg.type)}"`);
  const file = cfg.credential_source?.file;
  if (!file || !cfg.token_url || !cfg.audience) throw ea('missing credential_source.file, token_url or audience');
  const subjectToken = await projectedToken(api.core, pod, container, file);
  if (!subjectToken) throw ea(`failed to open credential file "${file}"`);
  const sts = await post(cfg.token_url, gcp, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: cfg.audience,
    scope: SCOPE,
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token: subjectToken,
    subject_token_type: cfg.subject_token_type ?? 'urn:ietf:params:oauth:token-type:jwt',
  }).toString(), ea);
  if (sts.status !== 200) throw ea(`status code ${sts.status}: ${sts.body.trim()}`);
  const federated = (JSON.parse(sts.body) as { access_token: string }).access_token;
  if (!cfg.service_account_impersonation_url) return federated;
  const imp = await post(cfg.service_account_impersonation_url, gcp, { 'content-type': 'application/json', authorization: `Bearer ${federated}` }, JSON.stringify({ scope: [SCOPE], lifetime: '3600s' }), ea);
  if (imp.status !== 200) throw ea(`status code ${imp.status}: ${imp.body.trim()}`);
  return (JSON.parse(imp.body) as { accessToken: string }).accessToken;
}

/** Google's default credentials in the pod: on GKE the metadata server of its node, else none. */
async function metadataToken(gcp: GcpSide | undefined, pod: V1Pod, fail: (chain: string) => Error): Promise<string> {
  const host = gcp?.metadataHost?.(pod);
  if (!host) throw fail('google: could not find default credentials. See https://cloud.google.com/docs/authentication/external/set-up-adc for more information');
  let r: { status: number; body: string };
  try {
    r = await cloudRequest(`http://${host}/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(SCOPE)}`, {
      headers: { 'metadata-flavor': 'Google', 'x-sandbox-pod': `${pod.metadata!.namespace}/${pod.metadata!.name}` },
    });
  } catch (err) {
    throw fail(`Get "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token": ${(err as Error).message}`);
  }
  if (r.status !== 200) throw fail(`compute: Received ${r.status} \`${r.body.trim()}\``);
  return (JSON.parse(r.body) as { access_token: string }).access_token;
}

export async function testArtifactRegistryIntegration(api: CentralApi, ns: string, podName: string | undefined, i: Integration): Promise<void> {
  if (i.type !== 'artifactregistry') return; // Container Registry (`google`) is not played here
  if (!i.google || typeof i.google !== 'object') throw invalid('registry integration: Google configuration required: invalid arguments');
  const c = i.google as Record<string, unknown>;
  const errors: string[] = [];
  if (!c.endpoint) errors.push('Endpoint must be specified for Google registry (e.g. gcr.io, us.gcr.io, eu.gcr.io)');
  if (!c.wifEnabled && !c.serviceAccount) errors.push('Service account must be specified for Google registry');
  if (errors.length) throw invalid(`registry integration: Google Validation errors: ${errors.map((e) => `[${e}]`).join(', ')}: invalid arguments`);
  const endpoint = String(c.endpoint).replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const ping = `https://${endpoint}/v2/`;
  const fail = (chain: string) => invalid(`registry integration: Get "${ping}": ${chain}: invalid arguments`);
  // A service account key is not played: as for other types, no test.
  if (!c.wifEnabled) return;
  const gcp = api.clouds.gcp;
  const pod = await api.servingPod(ns, podName);
  const container = pod.spec?.containers?.find((x) => x.name === 'central') ?? pod.spec?.containers?.[0];
  const secretName = container?.env?.find((e) => e.name === 'ROX_GCP_CLOUD_CREDENTIALS_SECRET')?.value || SECRET;
  const secret = await api.core.readNamespacedSecret({ name: secretName, namespace: ns }).catch((err: { code?: number }) => {
    if (err.code === 404) return undefined;
    throw err;
  });
  const raw = secret?.data?.credentials ? Buffer.from(secret.data.credentials, 'base64').toString('utf8') : undefined;
  let token: string;
  if (raw !== undefined) {
    let cfg: ExternalAccount;
    try {
      cfg = JSON.parse(raw) as ExternalAccount;
    } catch {
      throw fail(`google: could not parse the credentials in Secret ${secretName}: not JSON`);
    }
    token = await externalAccountToken(api, pod, container, cfg, fail);
  } else {
    token = await metadataToken(gcp, pod, fail);
  }
  const location = /^([a-z0-9-]+)-docker\.pkg\.dev$/.exec(endpoint)?.[1];
  let origin: string | undefined;
  try {
    origin = location && gcp ? gcp.urls.docker(location) : undefined;
  } catch {
    origin = undefined;
  }
  if (!origin) throw fail(`dial tcp: lookup ${endpoint}: no such host`);
  let r: { status: number };
  try {
    r = await cloudRequest(`${origin}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`oauth2accesstoken:${token}`).toString('base64')}` }, ca: gcp!.ca });
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (r.status !== 200) throw invalid(`registry integration: error testing integration (code: ${r.status}). Please check Central logs for full error: invalid arguments`);
  if (gcp!.pullCheckImage && c.project) {
    const tags = await cloudRequest(`${origin}/v2/${String(c.project)}/${gcp!.pullCheckImage}/tags/list`, { headers: { authorization: `Basic ${Buffer.from(`oauth2accesstoken:${token}`).toString('base64')}` }, ca: gcp!.ca });
    if (tags.status !== 200) throw invalid(`registry integration: error testing integration (code: ${tags.status}). Please check Central logs for full error: invalid arguments`);
  }
}
