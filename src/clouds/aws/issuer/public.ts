/**
 * The issuer as AWS sees it: STS fetches `<issuer>/.well-known/openid-configuration`, then the
 * keys at the `jwks_uri` it names (https only), from the internet. We fetch the same URLs, with a
 * short timeout. Nothing answering from here (DNS, connection, TLS, timeout) is not a verdict on
 * what AWS can reach — a corporate network can hide public URLs — so callers warn; an answer that
 * is wrong (an HTTP error, another issuer, no keys, a non-https jwks_uri) is one.
 */
import type { Jwk } from '../../../kube/session.js';
import { nonPublicHost } from '../../../net/guard.js';
import { httpsGet, type ConnectTo, type HttpsResponse } from '../../../net/https.js';
import { thumbprintFromChain, type ThumbprintResult } from './thumbprint.js';

export type PublicIssuer =
  /** Nothing answered (DNS, connection, TLS, timeout). */
  | { reachable: false; error: string }
  /** Something answered; `error` says what was wrong with the answer, if anything. */
  | { reachable: true; url: string; error?: string; issuer?: string; jwksUri?: string; keys?: Jwk[]; thumbprint?: ThumbprintResult };

/** One GET: resolves with any HTTP answer, rejects (NetworkError) when nothing answered. */
export type GetLike = (url: string) => Promise<HttpsResponse>;

/** How the public URLs are reached: see net/https.ts. */
export interface PublicNet {
  connectTo: readonly ConnectTo[];
  timeoutMs?: number;
  deadlineMs?: number;
  /** CAs to trust besides the system's (tests). */
  extraCa?: readonly string[];
}

/**
 * Why a URL the issuer's documents point at (its jwks_uri, a redirect) is not fetched: a host that
 * is not public, unless RHACS_STS_CONNECT_TO names it (the user's own mapping). AWS could not
 * reach it either, so it is a wrong answer, not a network condition.
 */
function nonPublicTarget(url: URL, connectTo: readonly ConnectTo[]): string | undefined {
  const port = url.port ? Number(url.port) : 443;
  if (connectTo.some((c) => c.host === url.hostname.toLowerCase() && c.port === port)) return undefined;
  const why = nonPublicHost(url.hostname);
  return why ? `${why}, which AWS cannot reach from the internet; rhacs-sts does not fetch it` : undefined;
}

export const PUBLIC_ISSUER_TIMEOUT_MS = 3000;
/** The total bound of one fetch (a server sending a byte a second stays within the idle bound). */
export const PUBLIC_ISSUER_DEADLINE_MS = 8000;
const MAX_REDIRECTS = 3;

/** The URL STS fetches first. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export function publicGetter(net: PublicNet): GetLike {
  return (url) => httpsGet(url, {
    connectTo: net.connectTo,
    timeoutMs: net.timeoutMs ?? PUBLIC_ISSUER_TIMEOUT_MS,
    deadlineMs: net.deadlineMs ?? PUBLIC_ISSUER_DEADLINE_MS,
    ...(net.extraCa ? { extraCa: net.extraCa } : {}),
  });
}

/** The code of a network failure, with its message when that says more (e.g. ENOTFOUND; SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain). */
function networkReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (!e?.code) return String(e?.message ?? err);
  return e.message && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.code;
}

/** `chain`: the verified certificate chain of the first host asked (the URL's own, before any redirect). */
type Got = { ok: true; body: Record<string, unknown>; chain?: HttpsResponse['chain'] } | { ok: false; network: boolean; error: string };

async function getJson(url: string, get: GetLike, connectTo: readonly ConnectTo[]): Promise<Got> {
  let res: HttpsResponse;
  let chain: HttpsResponse['chain'];
  let at = url;
  for (let hop = 0; ; hop++) {
    try {
      res = await get(at);
      if (hop === 0) chain = res.chain;
    } catch (err) {
      return { ok: false, network: true, error: networkReason(err) };
    }
    if (res.status < 300 || res.status >= 400 || !res.location || hop >= MAX_REDIRECTS) break;
    const next = new URL(res.location, at);
    if (next.protocol !== 'https:') return { ok: false, network: false, error: `${at} redirects to ${next.href}, which is not https` };
    const refused = nonPublicTarget(next, connectTo);
    if (refused) return { ok: false, network: false, error: `${at} redirects to ${next.href}: ${refused}` };
    at = next.href;
  }
  if (res.status !== 200) return { ok: false, network: false, error: `${url} answered HTTP ${res.status}` };
  try {
    const body = JSON.parse(res.body) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return { ok: true, body: body as Record<string, unknown>, chain };
  } catch {
    // fall through
  }
  return { ok: false, network: false, error: `${url} did not answer with a JSON document` };
}

export async function fetchPublicIssuer(issuer: string, o: { get: GetLike; connectTo?: readonly ConnectTo[] }): Promise<PublicIssuer> {
  const url = discoveryUrl(issuer);
  const connectTo = o.connectTo ?? [];
  const doc = await getJson(url, o.get, connectTo);
  if (!doc.ok) return doc.network ? { reachable: false, error: doc.error } : { reachable: true, url, error: doc.error };
  const iss = typeof doc.body.issuer === 'string' ? doc.body.issuer.replace(/\/+$/, '') : undefined;
  const jwksUri = typeof doc.body.jwks_uri === 'string' ? doc.body.jwks_uri : undefined;
  if (!jwksUri) return { reachable: true, url, issuer: iss, error: `${url} has no jwks_uri` };
  if (!jwksUri.startsWith('https://')) return { reachable: true, url, issuer: iss, jwksUri, error: `its jwks_uri ${jwksUri} is not https (AWS fetches keys over HTTPS only)` };
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(jwksUri);
  } catch {
    return { reachable: true, url, issuer: iss, jwksUri, error: `its jwks_uri ${jwksUri} is not a URL` };
  }
  const refused = nonPublicTarget(jwksUrl, connectTo);
  if (refused) return { reachable: true, url, issuer: iss, jwksUri, error: `its jwks_uri ${jwksUri} points at ${refused}` };
  const jwks = await getJson(jwksUri, o.get, connectTo);
  // The keys' host answered nothing from here: as unreachable as the issuer would be.
  if (!jwks.ok && jwks.network) return { reachable: false, error: `the keys at ${jwksUri}: ${jwks.error}` };
  if (!jwks.ok) return { reachable: true, url, issuer: iss, jwksUri, error: `the JWKS: ${jwks.error}` };
  const keys = Array.isArray(jwks.body.keys) ? (jwks.body.keys as Jwk[]) : [];
  // The thumbprint is of the jwks_uri host, from the verified chain of the connection the keys were asked for over.
  const thumbprint = jwks.chain ? { thumbprint: thumbprintFromChain(jwksUrl.hostname, jwks.chain) } : {};
  return { reachable: true, url, issuer: iss, jwksUri, keys, ...thumbprint };
}
