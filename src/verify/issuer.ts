/**
 * The issuer as AWS sees it: its public discovery document and JWKS, fetched over HTTPS with a
 * short timeout. An issuer that cannot be reached from here (private network, no egress) is not
 * a verdict on what AWS can reach, so callers report it as a warning; an issuer that answers with
 * an error or a wrong document is.
 */
import type { Jwk } from '../kube/session.js';

export type PublicIssuer =
  /** Nothing answered (DNS, connection, TLS, timeout). */
  | { reachable: false; error: string }
  /** Something answered; `error` says what was wrong with the answer, if anything. */
  | { reachable: true; url: string; error?: string; issuer?: string; jwksUri?: string; keys?: Jwk[] };

export type FetchLike = (url: string, init: { signal: AbortSignal; redirect: 'follow'; headers: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export const PUBLIC_ISSUER_TIMEOUT_MS = 3000;

function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

async function getJson(url: string, f: FetchLike, timeoutMs: number): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; network: boolean; error: string }> {
  let res;
  try {
    res = await f(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow', headers: { accept: 'application/json' } });
  } catch (err) {
    return { ok: false, network: true, error: networkReason(err) };
  }
  if (!res.ok) return { ok: false, network: false, error: `${url} answered HTTP ${res.status}` };
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    return { ok: false, network: true, error: networkReason(err) };
  }
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return { ok: true, body: body as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false, network: false, error: `${url} did not answer with a JSON document` };
}

export async function fetchPublicIssuer(issuer: string, o: { timeoutMs?: number; fetch?: FetchLike } = {}): Promise<PublicIssuer> {
  const f = o.fetch ?? (fetch as unknown as FetchLike);
  const timeoutMs = o.timeoutMs ?? PUBLIC_ISSUER_TIMEOUT_MS;
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const doc = await getJson(url, f, timeoutMs);
  if (!doc.ok) return doc.network ? { reachable: false, error: doc.error } : { reachable: true, url, error: doc.error };
  const iss = typeof doc.body.issuer === 'string' ? doc.body.issuer.replace(/\/+$/, '') : undefined;
  const jwksUri = typeof doc.body.jwks_uri === 'string' ? doc.body.jwks_uri : undefined;
  if (!jwksUri) return { reachable: true, url, issuer: iss, error: `${url} has no jwks_uri` };
  if (!jwksUri.startsWith('https://')) return { reachable: true, url, issuer: iss, jwksUri, error: `its jwks_uri ${jwksUri} is not https (AWS fetches keys over HTTPS only)` };
  const jwks = await getJson(jwksUri, f, timeoutMs);
  if (!jwks.ok) return { reachable: true, url, issuer: iss, jwksUri, error: `the JWKS: ${jwks.error}` };
  const keys = Array.isArray(jwks.body.keys) ? (jwks.body.keys as Jwk[]) : [];
  return { reachable: true, url, issuer: iss, jwksUri, keys };
}
