// A small HTTP proxy in front of moto that records every AWS API request it forwards, so tests can
// prove what a command sent (e.g. that --dry-run sent no writes). moto itself keeps no request log.
//
// The proxy's own endpoints live under /_sandbox/ (never an AWS path):
//   GET /_sandbox/mark              -> {"seq": N}   (sequence number of the last recorded request)
//   GET /_sandbox/requests?since=N  -> {"seq": M, "requests": AwsRequest[]} (requests with seq > N)
// moto's /moto-api/ endpoints (reset, dashboard) are forwarded but not recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsRequest } from './types.js';

export interface AwsProxy {
  url: string;
  port: number;
  /** Recorded requests with seq > since. */
  requests(since?: number): AwsRequest[];
  mark(): number;
  close(): Promise<void>;
}

const MAX_RECORDS = 100_000;
const MAX_BODY = 10 * 1024 * 1024;

/** Extracts the signing service from a SigV4 Authorization header. */
function signingService(auth: string | undefined): string | undefined {
  const m = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth ?? '');
  return m?.[1];
}

function actionOf(req: http.IncomingMessage, body: Buffer): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target) return target.split('.').pop();
  const url = new URL(req.url ?? '/', 'http://x');
  const fromQuery = url.searchParams.get('Action');
  if (fromQuery) return fromQuery;
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.includes('application/x-www-form-urlencoded') && body.length) {
    return new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined;
  }
  return undefined;
}

export async function startAwsProxy(target: { host: string; port: number }, listenPort = 0): Promise<AwsProxy> {
  const records: AwsRequest[] = [];
  let seq = 0;

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/_sandbox/')) {
      const url = new URL(path, 'http://x');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/_sandbox/mark') {
        res.end(JSON.stringify({ seq }));
      } else if (url.pathname === '/_sandbox/requests') {
        const since = Number(url.searchParams.get('since') ?? 0) || 0;
        res.end(JSON.stringify({ seq, requests: records.filter((r) => r.seq > since) }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'unknown sandbox endpoint' }));
      }
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let record: AwsRequest | undefined;
      if (!path.startsWith('/moto-api/')) {
        record = {
          seq: ++seq,
          time: new Date().toISOString(),
          method: req.method ?? 'GET',
          path,
          service: signingService(req.headers.authorization),
          action: actionOf(req, body),
        };
        records.push(record);
        if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
      }
      const headers = { ...req.headers, host: `${target.host}:${target.port}`, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const upstream = http.request(
        { host: target.host, port: target.port, method: req.method, path, headers },
        (up) => {
          if (record) record.status = up.statusCode;
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        if (record) record.status = 502;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`sandbox proxy: moto unreachable: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: (since = 0) => records.filter((r) => r.seq > since),
    mark: () => seq,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
