// Stand-in for the public web servers that publish each cluster's issuer: EKS's OIDC endpoint
// (https://oidc.eks.<region>.amazonaws.com/id/<ID>) and the S3 bucket that `ccoctl aws
// create-identity-provider` makes for OpenShift (https://<bucket>.s3.<region>.amazonaws.com). STS
// fetches `<issuer>/.well-known/openid-configuration`, then the `jwks_uri` it names, from the
// internet; so does rhacs-sts before it creates anything, and so does `verify`.
//
// One HTTPS server on 127.0.0.1 answers for every issuer host of the sandbox, by Host header and
// path, with what the real publisher serves: the cluster's own discovery document (its API server's
// /.well-known/openid-configuration, whose issuer and jwks_uri are the public URLs) and, at the
// jwks_uri, the cluster's keys (its API server's /openid/v1/jwks). Anything else is 404. Its
// certificate names every issuer host and chains like a public CA's: root → intermediate → leaf,
// the server sending leaf and intermediate (as EKS's endpoint does), so the thumbprint IAM would
// take is the intermediate's.
//
// How clients get here, as the real ones reach the internet:
//   - rhacs-sts: RHACS_STS_CONNECT_TO (curl's --connect-to: `host:443:127.0.0.1:PORT`, one per host)
//     and NODE_EXTRA_CA_CERTS (Node's own way to trust another root): both in the sandbox's awsEnv.
//     The URL, Host header, SNI and certificate check stay those of the issuer.
//   - the AWS gate (gate-sts.ts): the same, in-process (`fetchPublic`).
// An issuer no cluster of the sandbox has is not served: its host does not resolve (rhacs-sts) or
// has no route (the gate).
//
// S3 (`s3` option): every `<bucket>.s3.<region>.amazonaws.com` of the sandbox's regions that is not a
// cluster's issuer host is S3's public endpoint, answering anonymous GETs from moto's buckets as S3
// would (s3-public.ts: the bucket policy, object ACLs and block public access decide). Every such host
// resolves on the internet, so the gate reaches any of them; rhacs-sts reaches the ones its
// RHACS_STS_CONNECT_TO names (`connectToWith(info, hosts)` in observe.ts adds bucket hosts). The
// certificate carries `*.s3.<region>.amazonaws.com`, as S3's does (so a bucket name with a dot fails
// the certificate check, as it does against S3).
//
// The server's own endpoint (Host 127.0.0.1, never an issuer host):
//   GET /_sandbox/requests?since=N -> {"seq": M, "requests": PublicRequest[]}
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createCa, issueCert, issueIntermediateCa } from '../certs.js';
import { anonymousGet, parseS3Host } from './s3-public.js';

/** Where the cluster's documents really come from: its API server, read as the admin. */
export interface IssuerEndpoint {
  /** https://127.0.0.1:PORT */
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface PublicRequest {
  seq: number;
  time: string;
  host: string;
  path: string;
  status: number;
}

export interface PublicIssuers {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The root CA the served chain ends at (not sent by the server): trust it as the world trusts public roots. */
  caCertPath: string;
  /** The issuer host names served. */
  hosts: string[];
  /** RHACS_STS_CONNECT_TO: each host on port 443 → 127.0.0.1:PORT. */
  connectTo: string;
  /** GET `url` as the internet would serve it (in-process clients: the AWS gate). */
  fetchPublic(url: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
  requests(since?: number): PublicRequest[];
  close(): Promise<void>;
}

export interface PublicIssuersOptions {
  certDir: string;
  issuers: ReadonlyMap<string, IssuerEndpoint>;
  /** S3's public endpoint for moto's buckets, in these regions. */
  s3?: { motoUrl: string; regions: string[] };
}

const MAX_RECORDS = 10_000;

function apiGet(endpoint: IssuerEndpoint, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(path, endpoint.server), { ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout reading ${path} from ${endpoint.server}`)));
    req.on('error', reject);
  });
}

export async function startPublicIssuers(opts: PublicIssuersOptions): Promise<PublicIssuers> {
  const issuers = [...opts.issuers].map(([issuer, endpoint]) => {
    const u = new URL(issuer);
    return { issuer, host: u.hostname.toLowerCase(), base: u.pathname.replace(/\/+$/, ''), endpoint, jwksUri: undefined as string | undefined };
  });
  const hosts = [...new Set(issuers.map((i) => i.host))];

  // A public-looking chain: the root stays with the clients, the server sends leaf + intermediate.
  const root = createCa(`${opts.certDir}/public-root`, 'rhacs-sts sandbox public root CA');
  const intermediate = issueIntermediateCa(root, opts.certDir, 'public-intermediate', 'rhacs-sts sandbox public intermediate CA');
  const leaf = issueCert(intermediate, opts.certDir, 'public-issuers', {
    cn: hosts[0] ?? 'localhost',
    usage: 'server',
    sans: [...hosts.map((h) => `DNS:${h}`), ...(opts.s3?.regions ?? []).map((r) => `DNS:*.s3.${r}.amazonaws.com`), 'IP:127.0.0.1'],
  });
  const rootPem = readFileSync(root.cert);

  const records: PublicRequest[] = [];
  let seq = 0;
  const record = (host: string, path: string, status: number) => {
    records.push({ seq: ++seq, time: new Date().toISOString(), host, path, status });
    if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
  };

  const s3Host = (host: string) => {
    const h = hosts.includes(host) ? undefined : parseS3Host(host);
    return h && opts.s3?.regions.includes(h.region) ? h : undefined;
  };
  const serve = async (host: string, path: string): Promise<{ status: number; body: string; contentType?: string }> => {
    const s3 = s3Host(host);
    if (s3 && opts.s3) return anonymousGet(opts.s3.motoUrl, s3.bucket, s3.region, decodeURIComponent(path.replace(/^\/+/, '')));
    for (const i of issuers.filter((x) => x.host === host)) {
      if (path === `${i.base}/.well-known/openid-configuration`) return apiGet(i.endpoint, '/.well-known/openid-configuration');
      if (!i.jwksUri) {
        const doc = await apiGet(i.endpoint, '/.well-known/openid-configuration');
        i.jwksUri = doc.status === 200 ? String((JSON.parse(doc.body) as { jwks_uri?: unknown }).jwks_uri ?? '') : undefined;
      }
      if (i.jwksUri && `https://${host}${path}` === i.jwksUri) return apiGet(i.endpoint, '/openid/v1/jwks');
    }
    return { status: 404, body: JSON.stringify({ message: 'Not Found' }) };
  };

  const server = https.createServer({ key: readFileSync(leaf.key), cert: Buffer.concat([readFileSync(leaf.cert), readFileSync(intermediate.cert)]) }, (req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', 'https://x');
    const reply = (status: number, body: string, contentType = 'application/json') => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (host === '127.0.0.1' && url.pathname === '/_sandbox/requests') {
      const since = Number(url.searchParams.get('since') ?? 0);
      return reply(200, JSON.stringify({ seq, requests: records.filter((r) => r.seq > since) }));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      record(host, url.pathname, 405);
      return reply(405, JSON.stringify({ message: 'Method Not Allowed' }));
    }
    serve(host, url.pathname).then(
      (r) => {
        record(host, url.pathname, r.status);
        reply(r.status, r.body, r.contentType);
      },
      (err: Error) => {
        record(host, url.pathname, 502);
        reply(502, JSON.stringify({ message: err.message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as AddressInfo).port;

  const fetchPublic = (target: string, timeoutMs = 5000): Promise<{ status: number; body: string }> => {
    const u = new URL(target);
    const host = u.hostname.toLowerCase();
    if (u.protocol !== 'https:') return Promise.reject(new Error(`${target}: not https`));
    if (!hosts.includes(host) && !s3Host(host)) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return new Promise((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port, servername: host, path: `${u.pathname}${u.search}`, headers: { host, accept: 'application/json' }, ca: rootPem, timeout: timeoutMs, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout fetching ${target}`)));
      req.on('error', reject);
    });
  };

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caCertPath: root.cert,
    hosts,
    connectTo: hosts.map((h) => `${h}:443:127.0.0.1:${port}`).join(','),
    fetchPublic,
    requests: (since = 0) => records.filter((r) => r.seq > since),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
