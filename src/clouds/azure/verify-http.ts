/**
 * The one kind of request verify's Azure chain makes: a form POST or a GET over HTTPS, bounded in
 * time (idle and total) and size, the certificate always checked. Plain requests, not MSAL: verify
 * needs Entra's answer as Entra wrote it (`error_codes`, the AADSTS description naming the
 * assertion's issuer, subject and audience) to show the difference, where @azure/identity turns it
 * into a formatted AuthenticationError, retries, and caches; and ACR's token exchange has no SDK.
 */
import https from 'node:https';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { connectAddress, NetworkError, type ConnectTo } from '../../net/https.js';

export interface AzureHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  /** A form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface AzureHttpResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export type AzureHttp = (req: AzureHttpRequest) => Promise<AzureHttpResponse>;

export interface AzureHttpOptions {
  /** Idle bound: no byte for this long fails the request. */
  timeoutMs: number;
  /** Total bound (default three times timeoutMs). */
  deadlineMs?: number;
  /** Default 1 MiB: token answers are small. */
  maxBytes?: number;
  /** CAs to trust besides the system's. */
  extraCa?: readonly (string | Buffer)[];
  /** curl's --connect-to: where to connect for a host, the URL, SNI and certificate check unchanged. */
  connectTo?: readonly ConnectTo[];
}

export function azureHttp(o: AzureHttpOptions): AzureHttp {
  return (r) => request(r, o);
}

function request(r: AzureHttpRequest, o: AzureHttpOptions): Promise<AzureHttpResponse> {
  const u = new URL(r.url);
  if (u.protocol !== 'https:') return Promise.reject(new NetworkError('EPROTO', `${r.url} is not https`));
  const port = u.port ? Number(u.port) : 443;
  const to = connectAddress(o.connectTo ?? [], u.hostname, port);
  const body = r.form ? new URLSearchParams(r.form).toString() : undefined;
  const maxBytes = o.maxBytes ?? 1024 * 1024;
  const deadlineMs = o.deadlineMs ?? o.timeoutMs * 3;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: r.method,
        host: to.host.replace(/^\[|\]$/g, ''),
        port: to.port,
        path: `${u.pathname}${u.search}`,
        servername: isIP(u.hostname) ? undefined : u.hostname,
        headers: {
          host: u.host,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...r.headers,
        },
        timeout: o.timeoutMs,
        agent: false,
        rejectUnauthorized: true,
        ...(o.extraCa?.length ? { ca: [...tls.rootCertificates, ...o.extraCa.map(String)] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new NetworkError('E2BIG', `${u.host} answered with more than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
        res.on('error', fail);
      },
    );
    const deadline = setTimeout(() => req.destroy(new NetworkError('ETIMEDOUT', `${u.host} did not complete its answer within ${deadlineMs} ms`)), deadlineMs);
    function fail(err: unknown) {
      clearTimeout(deadline);
      const e = err as NodeJS.ErrnoException;
      reject(err instanceof NetworkError ? err : new NetworkError(e.code ?? 'ENETWORK', e.message ?? String(err)));
    }
    req.on('timeout', () => req.destroy(new NetworkError('ETIMEDOUT', `no answer from ${u.host} within ${o.timeoutMs} ms`)));
    req.on('error', fail);
    req.end(body);
  });
}
