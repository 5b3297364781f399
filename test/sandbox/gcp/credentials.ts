// How the Google Cloud stand-ins know a caller: JWTs (RS256), the bearer tokens they issued or a
// service account's self-signed JWT on every API call, and Google's OAuth 2.0 token endpoint
// (an `authorized_user` refresh token, or a JWT-bearer assertion signed by a service account key).
import { createPublicKey, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GoogleError } from './google-error.js';
import { ADMIN_CLIENT, CLOCK_SKEW_S, decisionOf, send, TOKEN_LIFETIME_S, type GcpWorld } from './world.js';

function b64urlJson(s: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface Jwt {
  header: { alg?: string; kid?: string };
  payload: { iss?: string; sub?: string; aud?: string | string[]; exp?: number; iat?: number; nbf?: number; scope?: string; [k: string]: unknown };
  signingInput: string;
  signature: Buffer;
}

export function parseJwt(token: string): Jwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: b64urlJson(parts[0]!), payload: b64urlJson(parts[1]!) as Jwt['payload'], signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

export function verifyRs256(jwt: Jwt, key: Parameters<typeof createPublicKey>[0]): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  try {
    return verify('sha256', Buffer.from(jwt.signingInput), createPublicKey(key), jwt.signature);
  } catch {
    return false;
  }
}

/** The OAuth error shape Google's token endpoints (OAuth 2.0, STS) answer with. */
export class OAuthError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** The caller of an API request: a token issued here, or a service account's self-signed JWT. */
export function authenticate(w: GcpWorld, req: IncomingMessage): string {
  const { tokens, accounts, now } = w;
  const refuse = (reason: string): GoogleError => {
    const e = new GoogleError(
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    );
    e.reason = reason;
    return e;
  };
  const m = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) throw refuse('no bearer token');
  const token = m[1]!;
  const issued = tokens.get(token);
  if (issued) {
    if (issued.expiresAt <= now()) throw refuse('the access token has expired');
    return issued.principal;
  }
  // Google accepts a JWT signed by a service account key in place of an access token
  // ("service account authorization without OAuth"): iss = sub = the account, aud = the API or a scope.
  const jwt = parseJwt(token);
  if (!jwt) throw refuse('not a token the stand-ins issued, nor a JWT');
  const sa = jwt.payload.iss ? accounts.get(jwt.payload.iss) : undefined;
  const pem = sa && jwt.header.kid ? sa.keys.get(jwt.header.kid) : undefined;
  const t = Math.floor(now() / 1000);
  if (!sa || !pem) throw refuse('self-signed JWT: no such service account key');
  if (sa.disabled || jwt.payload.sub !== jwt.payload.iss) throw refuse('self-signed JWT: disabled account, or sub differs from iss');
  if (!verifyRs256(jwt, pem)) throw refuse('self-signed JWT: the signature does not verify against the key');
  if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp < t || typeof jwt.payload.iat !== 'number' || jwt.payload.iat > t + CLOCK_SKEW_S || jwt.payload.exp - jwt.payload.iat > 3600) {
    throw refuse('self-signed JWT: expired, from the future, or longer than an hour');
  }
  if (!jwt.payload.aud && !jwt.payload.scope) throw refuse('self-signed JWT: neither aud nor scope');
  return `serviceAccount:${sa.email}`;
}

/** Google's OAuth 2.0 token endpoint: a refresh token of the seeded owner, or a service account key's JWT assertion. */
export async function handleOAuth(w: GcpWorld, req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
  const { refreshTokens, accounts, now, record, issue } = w;
  const form = new URLSearchParams(raw.toString('utf8'));
  const grant = form.get('grant_type');
  try {
    let principal: string;
    if (grant === 'refresh_token') {
      const p = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!p || form.get('client_id') !== ADMIN_CLIENT.client_id || form.get('client_secret') !== ADMIN_CLIENT.client_secret) throw new OAuthError(400, 'invalid_grant', 'Bad Request');
      principal = p;
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const jwt = parseJwt(form.get('assertion') ?? '');
      const a = jwt?.payload.iss ? accounts.get(jwt.payload.iss) : undefined;
      const pem = a && jwt?.header.kid ? a.keys.get(jwt.header.kid) : undefined;
      if (!jwt || !a || !pem || !verifyRs256(jwt, pem)) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
      const t = Math.floor(now() / 1000);
      if (jwt.payload.aud !== 'https://oauth2.googleapis.com/token' && jwt.payload.aud !== w.oauth2Token) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
      if (typeof jwt.payload.exp !== 'number' || typeof jwt.payload.iat !== 'number' || jwt.payload.exp < t || jwt.payload.exp - jwt.payload.iat > 3600 || jwt.payload.iat > t + CLOCK_SKEW_S) {
        throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
      }
      if (a.disabled) throw new OAuthError(400, 'invalid_grant', 'Invalid grant: account not found');
      principal = `serviceAccount:${a.email}`;
    } else {
      throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
    }
    record({ method: req.method ?? 'POST', path: '/oauth2/token', methodId: 'oauth2.token', caller: principal, decision: 'allowed', status: 200 });
    send(res, 200, { access_token: issue(principal), expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer', scope: form.get('scope') ?? 'https://www.googleapis.com/auth/cloud-platform' });
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    record({ method: req.method ?? 'POST', path: '/oauth2/token', methodId: 'oauth2.token', decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.description });
    send(res, err.httpStatus, { error: err.error, error_description: err.description });
  }
}
