// The AWS gate: a stand-in in front of moto (the real server) that makes the sandbox as strict as AWS
// where moto is friendlier, and records what was sent. AWS_ENDPOINT_URL points here.
//   - counts every AWS request (action, signing service, status), so tests can prove what a command
//     sent (e.g. that --dry-run sent no writes);
//   - gate-sts.ts: AssumeRoleWithWebIdentity checks the token and the trust policy like STS;
//   - gate-iam.ts: IAM's trust-policy size quota and the OIDC provider client-ID calls moto lacks;
//   - gate-ecr.ts: ECR authorizes calls made with role credentials like ECR and IAM do;
//   - gate-s3.ts: S3's defaults for new buckets (block public access, ACLs disabled) and what they refuse;
//   - gate-eks.ts: EKS Pod Identity associations and EKS Auth's AssumeRoleForPodIdentity, which moto lacks;
//   - records each of those decisions (allowed or denied, why, error code).
// Policy evaluation is iam-engine.ts (an independent engine, not the product's trust-eval).
//
// The gate's own endpoints live under /_sandbox/ (never an AWS path):
//   GET  /_sandbox/mark                -> {"seq": N}   (sequence number of the last recorded request)
//   GET  /_sandbox/requests?since=N    -> {"seq": M, "requests": AwsRequest[]} (requests with seq > N)
//   GET  /_sandbox/decisions?since=N   -> {"seq": M, "decisions": GateDecision[]}
//   GET  /_sandbox/quota               -> {"assumeRolePolicySizeQuota": Q}
//   POST /_sandbox/quota {"assumeRolePolicySizeQuota": Q}  (test hook; reset restores 2048)
//   GET  /_sandbox/pod-identity-associations?cluster=C[&region=R&namespace=N&serviceAccount=S]
//                                      -> {"associations": [...]} (the EKS control plane's view, for the webhook stand-in)
//   POST /_sandbox/reset               -> wipes moto, the gate's own state, and seeds the registries again
// moto's /moto-api/ endpoints (reset, dashboard) are forwarded but not recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seedRegistries } from './ecr-seed.js';
import { EcrGate } from './gate-ecr.js';
import { EksGate, type EksClusterSpec } from './gate-eks.js';
import { IamGate } from './gate-iam.js';
import { S3Gate, s3Operation } from './gate-s3.js';
import { StsGate, type PublicWeb } from './gate-sts.js';
import { FORWARD, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';
import type { AwsRequest, GateDecision } from '../types.js';


export interface AwsGate {
  url: string;
  port: number;
  /** Recorded requests with seq > since. */
  requests(since?: number): AwsRequest[];
  mark(): number;
  decisions(since?: number): GateDecision[];
  close(): Promise<void>;
}

export interface AwsGateOptions {
  /** moto's address. */
  target: { host: string; port: number };
  /** Sandbox region (for unsigned requests and the seeded registries). */
  region: string;
  /** Where STS reaches the issuers' public URLs: the public issuer stand-in. */
  web: PublicWeb;
  /** The EKS-flavour clusters: moto gets an EKS cluster for each; EKS Auth checks tokens with their API servers. */
  eksClusters?: EksClusterSpec[];
  listenPort?: number;
}

const MAX_RECORDS = 100_000;
const MAX_BODY = 10 * 1024 * 1024;
const IAM_GATED = new Set([
  'CreateRole',
  'UpdateAssumeRolePolicy',
  'GetAccountSummary',
  'AddClientIDToOpenIDConnectProvider',
  'RemoveClientIDFromOpenIDConnectProvider',
  'GetOpenIDConnectProvider',
  'CreateOpenIDConnectProvider',
  'DeleteOpenIDConnectProvider',
]);

/** Signing service, region and access key from a SigV4 Authorization header. */
function sigv4(auth: string | undefined): { accessKeyId?: string; region?: string; service?: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth ?? '');
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : {};
}

function parseRequest(req: http.IncomingMessage, body: Buffer, region: string): GateRequest {
  const url = new URL(req.url ?? '/', 'http://x');
  const params = new URLSearchParams(url.search);
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.includes('application/x-www-form-urlencoded') && body.length) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  }
  let json: Record<string, unknown> = {};
  if (ct.includes('json') && body.length) {
    try {
      json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  const target = req.headers['x-amz-target'];
  const sig = sigv4(req.headers.authorization);
  // S3's REST API names no action on the wire: it is derived from the method, path and query.
  const action =
    typeof target === 'string' && target
      ? target.split('.').pop()
      : sig.service === 's3'
        ? s3Operation(req.method ?? 'GET', req.url ?? '/', req.headers)
        : (params.get('Action') ?? undefined);
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers: req.headers,
    body,
    action,
    service: sig.service,
    accessKeyId: sig.accessKeyId,
    region: sig.region ?? region,
    params,
    json,
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function startAwsGate(opts: AwsGateOptions): Promise<AwsGate> {
  const { target } = opts;
  const motoUrl = `http://${target.host}:${target.port}`;
  const records: AwsRequest[] = [];
  const decisions: GateDecision[] = [];
  let seq = 0;
  let decisionSeq = 0;
  const ctx: GateContext = {
    motoUrl,
    region: opts.region,
    decide: (d) => {
      decisions.push({ seq: ++decisionSeq, time: new Date().toISOString(), ...d });
      if (decisions.length > MAX_RECORDS) decisions.splice(0, decisions.length - MAX_RECORDS);
    },
  };
  const iam = new IamGate(ctx);
  const sts = new StsGate(ctx, iam, opts.web);
  const ecr = new EcrGate(ctx, sts);
  const s3 = new S3Gate(ctx);
  const eks = new EksGate(ctx, sts, opts.eksClusters ?? []);
  await eks.seedClusters();

  const route = (r: GateRequest): Promise<GateOutcome> => {
    if (r.service === 's3') return s3.handle(r, r.action ?? '');
    if (String(r.headers['x-amz-target'] ?? '').startsWith('AmazonEC2ContainerRegistry')) return ecr.handle(r);
    if (r.service === 'eks-auth') return eks.handleAuth(r);
    if (r.service === 'eks') return eks.handle(r);
    if (r.action === 'AssumeRoleWithWebIdentity') return sts.handle(r);
    if (r.action && IAM_GATED.has(r.action)) return iam.handle(r);
    return Promise.resolve(FORWARD);
  };

  const forward = (r: GateRequest, res: http.ServerResponse, outcome: GateOutcome & { kind: 'forward' }, record?: AwsRequest) => {
    const headers: http.OutgoingHttpHeaders = { ...r.headers, ...outcome.headers, host: `${target.host}:${target.port}`, 'content-length': String(r.body.length) };
    delete headers['transfer-encoding'];
    const upstream = http.request({ host: target.host, port: target.port, method: r.method, path: r.path, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('error', () => res.destroy());
      up.on('end', () => {
        const status = up.statusCode ?? 502;
        if (record) record.status = status;
        let body = Buffer.concat(chunks);
        const rewritten = outcome.response?.(status, body.toString('utf8'));
        if (typeof rewritten === 'string') body = Buffer.from(rewritten, 'utf8');
        const out = { ...up.headers, 'content-length': String(body.length) };
        delete out['transfer-encoding'];
        res.writeHead(status, out);
        res.end(body);
      });
    });
    upstream.on('error', (err) => {
      if (record) record.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`sandbox AWS gate: moto unreachable: ${err.message}`);
    });
    upstream.end(r.body);
  };

  const reset = async () => {
    const res = await fetch(`${motoUrl}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    iam.reset();
    sts.reset();
    eks.reset();
    await eks.seedClusters();
    await seedRegistries({ motoUrl, region: opts.region });
  };

  const sandboxEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const since = Number(url.searchParams.get('since') ?? 0) || 0;
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json');
    const send = (status: number, value: unknown) => {
      res.statusCode = status;
      res.end(JSON.stringify(value));
    };
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /_sandbox/mark':
        return send(200, { seq });
      case 'GET /_sandbox/requests':
        return send(200, { seq, requests: records.filter((r) => r.seq > since) });
      case 'GET /_sandbox/decisions':
        return send(200, { seq: decisionSeq, decisions: decisions.filter((d) => d.seq > since) });
      case 'GET /_sandbox/quota':
        return send(200, { assumeRolePolicySizeQuota: iam.quota });
      case 'POST /_sandbox/quota': {
        const q = Number((JSON.parse(body.toString('utf8') || '{}') as { assumeRolePolicySizeQuota?: unknown }).assumeRolePolicySizeQuota);
        if (!Number.isInteger(q) || q < 1) return send(400, { error: 'assumeRolePolicySizeQuota must be a positive integer' });
        iam.quota = q;
        return send(200, { assumeRolePolicySizeQuota: q });
      }
      case 'GET /_sandbox/pod-identity-associations': {
        // The EKS control plane's view (for the webhook stand-in): associations of one cluster, by namespace and service account.
        const q = url.searchParams;
        const associations = [...eks.associations.values()].filter(
          (a) =>
            a.clusterName === q.get('cluster') &&
            (!q.get('region') || a.region === q.get('region')) &&
            (!q.get('namespace') || a.namespace === q.get('namespace')) &&
            (!q.get('serviceAccount') || a.serviceAccount === q.get('serviceAccount')),
        );
        return send(200, { associations });
      }
      case 'POST /_sandbox/reset':
        await reset();
        return send(200, { reset: true });
      default:
        return send(404, { error: 'unknown sandbox endpoint' });
    }
  };

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const fail = (err: unknown) => {
      process.stderr.write(`[sandbox] AWS gate error on ${req.method} ${path}: ${(err as Error).stack ?? err}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`sandbox AWS gate error: ${(err as Error).message}`);
    };
    if (path.startsWith('/_sandbox/')) {
      sandboxEndpoint(req, res).catch(fail);
      return;
    }
    readBody(req)
      .then(async (body) => {
        const r = parseRequest(req, body, opts.region);
        r.action ??= eks.operationName(r);
        if (path.startsWith('/moto-api/')) return forward(r, res, { kind: 'forward' });
        const record: AwsRequest = { seq: ++seq, time: new Date().toISOString(), method: r.method, path, service: r.service, action: r.action };
        records.push(record);
        if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
        const outcome = await route(r);
        if (outcome.kind === 'forward') return forward(r, res, outcome, record);
        record.status = outcome.status;
        res.writeHead(outcome.status, { ...outcome.headers, 'content-type': outcome.contentType, 'content-length': String(Buffer.byteLength(outcome.body)) });
        res.end(outcome.body);
      })
      .catch(fail);
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: (since = 0) => records.filter((r) => r.seq > since),
    mark: () => seq,
    decisions: (since = 0) => decisions.filter((d) => d.seq > since),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
