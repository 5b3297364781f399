/**
 * verify's Azure chain, link by link, as Central walks it: the cluster's token (with the
 * platform's audience) → Entra's token endpoint, the token as client assertion, for an ARM token
 * → ACR's token exchange → a registry read. One row per link; a link after a failed one is not
 * tried. The requests go through an injected `AzureHttp` (./verify-http.ts) so the chain is
 * bounded and testable against stand-ins; the rows are the pure functions of ./verify-checks.ts.
 */
import { row, type CheckRow } from '../../verify/rows.js';
import type { FederatedCredentialView } from './arm.js';
import { armScope, type AzureCloud } from './clouds.js';
import type { AzureHttp, AzureHttpResponse } from './verify-http.js';
import { acrExchangeCheck, assertionClaims, entraCheck, notTried, registryReadCheck, tokenCheck, type EntraError, type EntraOutcome, type IdentityPlace } from './verify-checks.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AzureVerifyInput {
  /** The cluster's service-account token for the component (never printed). */
  token: string;
  /** Where it was read, for messages ("stackrox/central"). */
  tokenSource: string;
  /** The platform's audience (api://AzureADTokenExchange on AKS, openshift on OpenShift). */
  audience: string;
  tenantId: string;
  /** The managed identity's client id, as the pod is given it. */
  clientId: string;
  cloud: AzureCloud;
  /** Entra's authority (the cloud's by default; AZURE_AUTHORITY_HOST). */
  authorityHost?: string;
  place: IdentityPlace;
  /** The identity's federated credentials, read from ARM: they explain an AADSTS70021. */
  credentials?: readonly FederatedCredentialView[];
  /** The registry (`<name>.azurecr.io`); absent: the registry links are not checked. */
  loginServer?: string;
  /** A repository in it whose tags are listed (--acr-repository); absent: `roleRow` stands in for the read. */
  repository?: string;
  /** The read link when no repository is named: the pull permission as ARM's role assignments say it. */
  roleRow?: () => Promise<CheckRow>;
  /** Seconds since the epoch, for the token's expiry. */
  nowS: number;
}

export async function verifyAzureChain(http: AzureHttp, input: AzureVerifyInput): Promise<CheckRow[]> {
  const claims = assertionClaims(input.token);
  const rows: CheckRow[] = [tokenCheck(claims, input.audience, input.nowS, input.tokenSource)];
  const authority = (input.authorityHost ?? input.cloud.authorityHost).replace(/\/+$/, '');
  const skipRest = (from: number, because: string) => {
    const rest: [string, string][] = [['azure-entra', 'Entra ID token exchange'], ['azure-acr-exchange', 'ACR token exchange'], ['azure-acr-read', 'Registry read']];
    for (const [id, name] of rest.slice(from)) rows.push(notTried(id, name, because));
    return rows;
  };
  if (rows[0]!.result === 'fail') return skipRest(0, 'the cluster token');

  const outcome = await entraToken(http, authority, input);
  rows.push(entraCheck({ outcome, claims, clientId: input.clientId, tenantId: input.tenantId, credentials: input.credentials, place: input.place, authorityHost: authority }));
  if (!('token' in outcome) || !outcome.token) return skipRest(1, 'the Entra ID token exchange');
  const armToken = outcome.token;
  if (!input.loginServer) {
    rows.push(row('azure-acr-exchange', 'ACR token exchange', 'warn', 'Not checked: no registry named.', 'Pass --acr <registry> to prove the ACR token exchange and the pull permission.'));
    rows.push(notTried('azure-acr-read', 'Registry read', 'the ACR token exchange'));
    return rows;
  }

  const service = input.loginServer;
  const base = `https://${service}`;
  const exchange = await attempt(http, { method: 'POST', url: `${base}/oauth2/exchange`, form: { grant_type: 'access_token', service, tenant: input.tenantId, access_token: armToken } });
  const refresh = exchange.ok ? stringField(exchange.res.body, 'refresh_token') : undefined;
  if (!refresh) {
    rows.push(acrExchangeCheck(service, 'exchange', exchange.ok ? acrReason(exchange.res) : exchange.error));
    return skipRest(2, 'the ACR token exchange');
  }
  if (!input.repository) {
    // The registry took the identity at its exchange; without a repository to read, ARM says whether it may pull.
    rows.push(acrExchangeCheck(service, 'done'));
    rows.push(input.roleRow ? await input.roleRow() : row('azure-acr-read', 'Registry read', 'warn', 'Not checked: no repository named.', 'Pass --acr-repository <repository> to prove the pull permission.'));
    return rows;
  }
  const scope = `repository:${input.repository}:pull`;
  const tokenRes = await attempt(http, { method: 'POST', url: `${base}/oauth2/token`, form: { grant_type: 'refresh_token', service, scope, refresh_token: refresh } });
  const access = tokenRes.ok ? stringField(tokenRes.res.body, 'access_token') : undefined;
  if (!access) {
    rows.push(acrExchangeCheck(service, 'token', tokenRes.ok ? acrReason(tokenRes.res) : tokenRes.error));
    return skipRest(2, 'the ACR token exchange');
  }
  rows.push(acrExchangeCheck(service, 'done'));

  const read = await attempt(http, { method: 'GET', url: `${base}/v2/${input.repository}/tags/list`, headers: { authorization: `Bearer ${access}` } });
  rows.push(read.ok
    ? registryReadCheck({ loginServer: service, repository: input.repository, status: read.res.status, detail: read.res.status === 200 ? undefined : acrReason(read.res), principalId: oidOf(armToken), identityName: input.place.identityName })
    : registryReadCheck({ loginServer: service, repository: input.repository, status: 0, detail: read.error, identityName: input.place.identityName }));
  return rows;
}

async function entraToken(http: AzureHttp, authority: string, input: AzureVerifyInput): Promise<EntraOutcome> {
  const r = await attempt(http, {
    method: 'POST',
    url: `${authority}/${encodeURIComponent(input.tenantId)}/oauth2/v2.0/token`,
    form: { grant_type: 'client_credentials', client_id: input.clientId, scope: armScope(input.cloud), client_assertion_type: JWT_BEARER, client_assertion: input.token },
  });
  if (!r.ok) return { networkError: r.error };
  const token = r.res.status === 200 ? stringField(r.res.body, 'access_token') : undefined;
  if (token) return { status: 200, token };
  return { status: r.res.status, error: parse<EntraError>(r.res.body) ?? { error: r.res.body.slice(0, 200) } };
}

async function attempt(http: AzureHttp, req: Parameters<AzureHttp>[0]): Promise<{ ok: true; res: AzureHttpResponse } | { ok: false; error: string }> {
  try {
    return { ok: true, res: await http(req) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

function parse<T>(body: string): T | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(body: string, field: string): string | undefined {
  const v = parse<Record<string, unknown>>(body)?.[field];
  return typeof v === 'string' && v ? v : undefined;
}

/** ACR's reason, from its Docker-registry error shape (`{"errors":[{"code","message"}]}`). */
function acrReason(res: AzureHttpResponse): string {
  const errors = parse<{ errors?: { code?: string; message?: string }[] }>(res.body)?.errors;
  const first = errors?.[0];
  return first ? `HTTP ${res.status} ${first.code ?? ''}: ${first.message ?? ''}`.trim() : `HTTP ${res.status}`;
}

function oidOf(token: string): string | undefined {
  try {
    const c = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof c.oid === 'string' ? c.oid : undefined;
  } catch {
    return undefined;
  }
}
