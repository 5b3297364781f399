// Google STS (sts.v1 `/v1/token`): a cluster's service-account token exchanged, through a workload
// identity pool's OIDC provider (or, on GKE, the cluster's workload pool), for a federated access
// token. Answers in OAuth's shape.
import type { JsonWebKey } from 'node:crypto';
import { OAuthError, parseJwt, verifyRs256 } from './credentials.js';
import { poolKey, poolName } from './iam-pools.js';
import type { GkeClusterSpec } from './types.js';
import { CLOCK_SKEW_S, TOKEN_LIFETIME_S, type GcpWorld } from './world.js';

const STS_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const STS_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const STS_SUBJECT_TYPES = new Set(['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token']);
const MAX_SUBJECT_TOKEN_LIFETIME_S = 24 * 3600;

async function issuerKeys(w: GcpWorld, issuerUri: string): Promise<{ keys: (JsonWebKey & { kid?: string })[] }> {
  const fetchPublic = w.fetchPublic;
  if (!fetchPublic) throw new OAuthError(400, 'invalid_grant', `Failed to fetch the OpenID configuration of ${issuerUri}: the issuer is not reachable.`);
  const get = async (url: string): Promise<unknown> => {
    const r = await fetchPublic(url);
    if (r.status !== 200) throw new OAuthError(400, 'invalid_grant', `Failed to fetch ${url}: HTTP ${r.status}.`);
    try {
      return JSON.parse(r.body);
    } catch {
      throw new OAuthError(400, 'invalid_grant', `${url} is not JSON.`);
    }
  };
  const config = (await get(`${issuerUri.replace(/\/$/, '')}/.well-known/openid-configuration`)) as { jwks_uri?: string };
  if (!config.jwks_uri?.startsWith('https://')) throw new OAuthError(400, 'invalid_grant', `The OpenID configuration of ${issuerUri} has no https jwks_uri.`);
  return (await get(config.jwks_uri)) as { keys: (JsonWebKey & { kid?: string })[] };
}

/** The value of a simple CEL mapping (`assertion.sub`, `assertion['k']`); others are not evaluated here. */
function mapAttribute(expr: string, claims: Record<string, unknown>): unknown {
  const m = /^\s*assertion(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[['"]([^'"]+)['"]\])\s*$/.exec(expr);
  if (!m) throw new OAuthError(400, 'invalid_request', `The sandbox evaluates only attribute mappings of the form assertion.<claim>, not "${expr}".`);
  return claims[m[1] ?? m[2]!];
}

/** The token exchange: the subject token checked against the provider named by `audience`. */
export async function exchange(w: GcpWorld, body: Record<string, unknown>): Promise<{ out: Record<string, unknown>; principal: string }> {
  const { pools, now, issue } = w;
  const s = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  if (s('grantType') !== STS_GRANT) throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant type: ${s('grantType') ?? '(none)'}.`);
  if (s('requestedTokenType') !== STS_ACCESS) throw new OAuthError(400, 'invalid_request', `Invalid requested_token_type: ${s('requestedTokenType') ?? '(none)'}.`);
  if (!STS_SUBJECT_TYPES.has(s('subjectTokenType') ?? '')) throw new OAuthError(400, 'invalid_request', `Invalid subject_token_type: ${s('subjectTokenType') ?? '(none)'}.`);
  const subjectToken = s('subjectToken');
  if (!subjectToken) throw new OAuthError(400, 'invalid_request', 'The subject_token is required.');
  const audience = s('audience') ?? '';
  const invalidTarget = new OAuthError(
    400,
    'invalid_target',
    'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
  );
  // GKE: the workload pool and the cluster's issuer, not a provider.
  if (audience.startsWith('identitynamespace:')) return gkeExchange(w, audience, subjectToken, invalidTarget);
  // The audience names the provider by project NUMBER; a project id there names nothing.
  const am = /^\/\/iam\.googleapis\.com\/projects\/([0-9]+)\/locations\/global\/workloadIdentityPools\/([^/]+)\/providers\/([^/]+)$/.exec(audience);
  if (!am) throw invalidTarget;
  const pool = pools.get(poolKey(am[1]!, am[2]!));
  const provider = pool?.providers.get(am[3]!);
  if (!pool || pool.state !== 'ACTIVE' || pool.body.disabled || !provider || provider.state !== 'ACTIVE' || provider.body.disabled) throw invalidTarget;
  const oidc = provider.body.oidc as { issuerUri: string; allowedAudiences?: string[]; jwksJson?: string };
  const jwt = parseJwt(subjectToken);
  if (!jwt) throw new OAuthError(400, 'invalid_grant', 'Invalid subject token: not a JWT.');
  if (jwt.payload.iss !== oidc.issuerUri) throw new OAuthError(400, 'invalid_grant', `The issuer in ID Token ${String(jwt.payload.iss)} does not match the expected ones.`);
  const keys = oidc.jwksJson ? (JSON.parse(oidc.jwksJson) as { keys: (JsonWebKey & { kid?: string })[] }) : await issuerKeys(w, oidc.issuerUri);
  const jwk = keys.keys.find((k) => k.kid === jwt.header.kid) ?? (jwt.header.kid ? undefined : keys.keys[0]);
  if (!jwk || !verifyRs256(jwt, { key: jwk, format: 'jwk' })) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT signature.');
  const t = Math.floor(now() / 1000);
  const { exp, iat } = jwt.payload;
  if (typeof exp !== 'number' || typeof iat !== 'number') throw new OAuthError(400, 'invalid_grant', 'The ID Token must carry exp and iat.');
  if (exp <= t) throw new OAuthError(400, 'invalid_grant', `The ID Token has expired at ${new Date(exp * 1000).toISOString()}.`);
  if (iat > t + CLOCK_SKEW_S) throw new OAuthError(400, 'invalid_grant', 'The ID Token was issued in the future.');
  if (exp - iat > MAX_SUBJECT_TOKEN_LIFETIME_S) throw new OAuthError(400, 'invalid_grant', 'The ID Token has a lifetime longer than 24 hours.');
  const fullName = `//iam.googleapis.com/${poolName(pool)}/providers/${am[3]}`;
  const accepted = oidc.allowedAudiences?.length ? oidc.allowedAudiences : [fullName, `https:${fullName}`];
  const auds = Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [jwt.payload.aud];
  if (!auds.some((a) => typeof a === 'string' && accepted.includes(a))) {
    throw new OAuthError(400, 'invalid_grant', `The audience in ID Token [${auds.join(', ')}] does not match the expected audience.`);
  }
  const mapping = (provider.body.attributeMapping ?? {}) as Record<string, string>;
  if (provider.body.attributeCondition) throw new OAuthError(400, 'invalid_request', 'The sandbox does not evaluate attribute conditions.');
  const subject = mapAttribute(mapping['google.subject']!, jwt.payload);
  if (typeof subject !== 'string' || !subject) throw new OAuthError(400, 'invalid_grant', 'The mapped google.subject is empty.');
  if (Buffer.byteLength(subject) > 127) throw new OAuthError(400, 'invalid_grant', 'The mapped google.subject is longer than 127 bytes.');
  const principal = `principal://iam.googleapis.com/${poolName(pool)}/subject/${subject}`;
  const lifetime = Math.min(TOKEN_LIFETIME_S, exp - t);
  return { out: { access_token: issue(principal, lifetime), issued_token_type: STS_ACCESS, token_type: 'Bearer', expires_in: lifetime }, principal };
}

/** GKE's issuer for a cluster, unless the spec names another. */
const gkeIssuer = (c: GkeClusterSpec): string => c.issuer ?? `https://container.googleapis.com/v1/projects/${c.projectId}/locations/${c.location}/clusters/${c.name}`;

/**
 * A GKE cluster's token exchanged as the GKE metadata server does: audience
 * `identitynamespace:<project>.svc.id.goog:<issuer>`, only for a cluster with workload identity on;
 * the token signed by a key the issuer publishes, carrying the workload pool as its audience. The
 * principal is the Kubernetes service account's: `serviceAccount:<pool>[<ns>/<sa>]`.
 */
async function gkeExchange(w: GcpWorld, audience: string, subjectToken: string, invalidTarget: OAuthError): Promise<{ out: Record<string, unknown>; principal: string }> {
  const { now, issue } = w;
  const m = /^identitynamespace:([a-z][-a-z0-9]*\.svc\.id\.goog):(https:\/\/.+)$/.exec(audience);
  if (!m) throw invalidTarget;
  const [, pool, issuer] = m as unknown as [string, string, string];
  const cluster = [...w.clusters.values()].find((c) => c.workloadIdentity && `${c.projectId}.svc.id.goog` === pool && gkeIssuer(c) === issuer);
  if (!cluster) throw invalidTarget;
  const jwt = parseJwt(subjectToken);
  if (!jwt) throw new OAuthError(400, 'invalid_grant', 'Invalid subject token: not a JWT.');
  if (jwt.payload.iss !== issuer) throw new OAuthError(400, 'invalid_grant', `The issuer in ID Token ${String(jwt.payload.iss)} does not match the expected ones.`);
  const keys = await issuerKeys(w, issuer);
  const jwk = keys.keys.find((k) => k.kid === jwt.header.kid);
  if (!jwk || !verifyRs256(jwt, { key: jwk, format: 'jwk' })) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT signature.');
  const t = Math.floor(now() / 1000);
  const { exp } = jwt.payload;
  if (typeof exp !== 'number' || exp <= t) throw new OAuthError(400, 'invalid_grant', 'The ID Token has expired.');
  const auds = Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [jwt.payload.aud];
  if (!auds.includes(pool)) throw new OAuthError(400, 'invalid_grant', `The audience in ID Token [${auds.join(', ')}] does not match the expected audience.`);
  const sub = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(String(jwt.payload.sub));
  if (!sub) throw new OAuthError(400, 'invalid_grant', 'The ID Token subject is not a Kubernetes service account.');
  const principal = `serviceAccount:${pool}[${sub[1]}/${sub[2]}]`;
  const lifetime = Math.min(TOKEN_LIFETIME_S, exp - t);
  return { out: { access_token: issue(principal, lifetime), issued_token_type: STS_ACCESS, token_type: 'Bearer', expires_in: lifetime }, principal };
}
