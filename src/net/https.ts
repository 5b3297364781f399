/**
 * Requests to the public internet — the issuer's discovery document and keys, the TLS chain of the
 * keys' host — made as any client makes them: the system's DNS, Node's trusted CAs (and
 * NODE_EXTRA_CA_CERTS, Node's own way to add one), the URL's host in SNI, the Host header and the
 * certificate check — and only to public addresses (see guard.ts).
 *
 * `RHACS_STS_CONNECT_TO` (curl's --connect-to: `host:port:address:port`, comma-separated) sends the
 * connection for one host and port to another address, leaving the URL, SNI, Host header and
 * certificate check as they are. The local sandbox uses it to reach its stand-in for the issuers'
 * public web servers; without it, nothing changes. It is the only way to a non-public address.
 */
import https from 'node:https';
import { isIP } from 'node:net';
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { nonPublicHost, publicOnlyLookup, type Resolver } from './guard.js';

export interface ConnectTo {
  host: string;
  port: number;
  toHost: string;
  toPort: number;
}

const PORT = /^\d{1,5}$/;
const validPort = (p: string) => PORT.test(p) && Number(p) > 0 && Number(p) < 65536;

/** Parses `host:port:address:port[,…]`; every entry that is not one is an error. */
export function parseConnectTo(value: string): { value: ConnectTo[]; errors: string[] } {
  const out: ConnectTo[] = [];
  const errors: string[] = [];
  for (const entry of value.split(',').map((x) => x.trim()).filter(Boolean)) {
    const parts = entry.split(':');
    const [host, port, toHost, toPort] = parts;
    if (parts.length !== 4 || !host || !toHost || !validPort(port ?? '') || !validPort(toPort ?? '')) {
      errors.push(`"${entry}" is not host:port:address:port (as curl's --connect-to, e.g. oidc.example.com:443:127.0.0.1:8443)`);
      continue;
    }
    out.push({ host: host.toLowerCase(), port: Number(port), toHost, toPort: Number(toPort) });
  }
  return { value: out, errors };
}

/** Where to connect for `host:port`. */
export function connectAddress(connectTo: readonly ConnectTo[], host: string, port: number): { host: string; port: number } {
  const m = connectTo.find((c) => c.host === host.toLowerCase() && c.port === port);
  return m ? { host: m.toHost, port: m.toPort } : { host, port };
}

export interface HttpsResponse {
  status: number;
  body: string;
  /** The Location header of a redirect. */
  location?: string;
  /** The certificate chain of this connection as Node verified it, leaf first (its issuers linked). */
  chain?: DetailedPeerCertificate;
}

export interface HttpsGetOptions {
  connectTo?: readonly ConnectTo[];
  /** Idle bound: no byte for this long fails the request. */
  timeoutMs: number;
  /** Total bound for the whole request, connection to last byte (default: three times timeoutMs). */
  deadlineMs?: number;
  /** Bodies above this size are cut off and fail (default 1 MiB: discovery documents and key sets are small). */
  maxBytes?: number;
  /** CAs to trust besides the system's (tests); NODE_EXTRA_CA_CERTS is in the system's already. */
  extraCa?: readonly string[];
  /** How names are resolved (tests); every address is checked by the guard either way. */
  resolve?: Resolver;
}

/** A network-level failure (DNS, connection, TLS, timeout, a refused address): nothing usable answered. */
export class NetworkError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * One GET over HTTPS; rejects with NetworkError when nothing answered, resolves with any HTTP
 * answer. The certificate is always checked (whatever NODE_TLS_REJECT_UNAUTHORIZED says), the
 * request is bounded in time (idle and total) and size, and a host that is not public — by name,
 * address literal, or any address it resolves to — is never connected to, unless
 * RHACS_STS_CONNECT_TO names it.
 */
export function httpsGet(url: string, o: HttpsGetOptions): Promise<HttpsResponse> {
  const u = new URL(url);
  if (u.protocol !== 'https:') return Promise.reject(new NetworkError('EPROTO', `${url} is not https`));
  const port = u.port ? Number(u.port) : 443;
  const mapped = (o.connectTo ?? []).some((c) => c.host === u.hostname.toLowerCase() && c.port === port);
  if (!mapped) {
    const why = nonPublicHost(u.hostname);
    if (why) return Promise.reject(new NetworkError('ENONPUBLIC', `${why}: rhacs-sts fetches the issuer's documents only from public addresses, as AWS does`));
  }
  const to = connectAddress(o.connectTo ?? [], u.hostname, port);
  const maxBytes = o.maxBytes ?? 1024 * 1024;
  const deadlineMs = o.deadlineMs ?? o.timeoutMs * 3;
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: to.host.replace(/^\[|\]$/g, ''),
        port: to.port,
        path: `${u.pathname}${u.search}`,
        servername: isIP(u.hostname) ? undefined : u.hostname,
        headers: { host: u.host, accept: 'application/json' },
        timeout: o.timeoutMs,
        agent: false,
        // Explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment must not turn the check off.
        rejectUnauthorized: true,
        ...(o.extraCa?.length ? { ca: [...tls.rootCertificates, ...o.extraCa] } : {}),
        ...(mapped ? {} : { lookup: publicOnlyLookup(o.resolve) }),
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const chain = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(true) : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new NetworkError('E2BIG', `${url} answered with more than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          const location = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(location ? { location } : {}),
            ...(chain && chain.raw ? { chain } : {}),
          });
        });
        res.on('error', (err) => fail(err));
      },
    );
    const deadline = setTimeout(() => req.destroy(new NetworkError('ETIMEDOUT', `${u.hostname} did not complete its answer within ${deadlineMs} ms`)), deadlineMs);
    const fail = (err: unknown) => {
      clearTimeout(deadline);
      reject(toNetworkError(err));
    };
    req.on('timeout', () => req.destroy(new NetworkError('ETIMEDOUT', `no answer from ${u.hostname} within ${o.timeoutMs} ms`)));
    req.on('error', fail);
  });
}

function toNetworkError(err: unknown): NetworkError {
  if (err instanceof NetworkError) return err;
  const e = err as NodeJS.ErrnoException;
  return new NetworkError(e.code ?? 'ENETWORK', e.message ?? String(err));
}
