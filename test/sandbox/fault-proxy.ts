// A fault-injecting proxy for tests: one in front of moto (HTTP) and one in front of a
// kube-apiserver (HTTPS, terminating TLS with the sandbox's serving certificate and forwarding as
// the admin user). Both share one request counter, so a test can say "fail the Nth request of the
// run, whichever server it goes to" — with a 500, throttling, a connection reset, a 403 — or kill
// the client process when the Nth request arrives (a crash at step N).
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SandboxInfo } from './types.js';

export type Fault = 'http500' | 'throttle' | 'reset' | 'forbidden' | 'kill';
export const FAULTS: readonly Fault[] = ['http500', 'throttle', 'reset', 'forbidden', 'kill'];

export interface FaultPlan {
  /** 1-based number of the request to fail; 0 for none. */
  at: number;
  fault: Fault;
  /** Process to SIGKILL for the `kill` fault. */
  pid?: number;
}

export interface FaultProxies {
  awsUrl: string;
  kubeUrl: string;
  /** Requests seen since the last arm(), in order: `aws Action` or `kube METHOD path`. */
  seen(): string[];
  arm(plan: FaultPlan): void;
  /** The process to SIGKILL for the `kill` fault (known only once it is spawned). */
  setVictim(pid: number | undefined): void;
  close(): Promise<void>;
}

function awsAction(body: string, headers: IncomingMessage['headers']): string {
  return new URLSearchParams(body).get('Action') ?? String(headers['x-amz-target'] ?? '?');
}

function throttleAws(res: ServerResponse): void {
  res.writeHead(400, { 'content-type': 'text/xml' });
  res.end('<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>');
}

function forbidAws(res: ServerResponse, action: string): void {
  res.writeHead(403, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/fault is not authorized to perform: iam:${action} on resource: *</Message></Error><RequestId>fault</RequestId></ErrorResponse>`);
}

function kubeStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json', ...(code === 429 ? { 'retry-after': '1' } : {}) });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
}

export async function startFaultProxies(info: SandboxInfo, cluster: string): Promise<FaultProxies> {
  const c = info.clusters[cluster];
  if (!c) throw new Error(`no cluster ${cluster}`);
  const upstreamAws = new URL(info.awsEndpoint);
  const upstreamKube = new URL(c.server);
  const ca = readFileSync(info.caCertPath);
  const adminCert = readFileSync(info.adminCertPath);
  const adminKey = readFileSync(info.adminKeyPath);
  let seen: string[] = [];
  let plan: FaultPlan = { at: 0, fault: 'http500' };

  /** Counts the request and says which fault (if any) to inject for it. */
  const next = (label: string): Fault | undefined => {
    seen.push(label);
    if (plan.at !== seen.length) return undefined;
    if (plan.fault === 'kill' && plan.pid) {
      try {
        process.kill(plan.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return plan.fault;
  };

  const aws = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = awsAction(body.toString('utf8'), req.headers);
      const fault = next(`aws ${action}`);
      if (fault === 'reset' || fault === 'kill') return req.socket.destroy();
      if (fault === 'http500') {
        res.writeHead(500, { 'content-type': 'text/xml' });
        return res.end('<ErrorResponse><Error><Code>ServiceFailure</Code><Message>injected</Message></Error></ErrorResponse>');
      }
      if (fault === 'throttle') return throttleAws(res);
      if (fault === 'forbidden') return forbidAws(res, action);
      const up = http.request({ host: upstreamAws.hostname, port: upstreamAws.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });

  const serving = { cert: readFileSync(join(info.certDir, 'apiserver.crt')), key: readFileSync(join(info.certDir, 'apiserver.key')) };
  const kube = https.createServer({ ...serving, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const fault = next(`kube ${req.method} ${path}`);
    if (fault === 'reset' || fault === 'kill') return req.socket.destroy();
    if (fault === 'http500') return kubeStatus(res, 500, 'InternalError', 'injected fault');
    if (fault === 'throttle') return kubeStatus(res, 429, 'TooManyRequests', 'injected: storage is (re)initializing');
    if (fault === 'forbidden') return kubeStatus(res, 403, 'Forbidden', `injected: user "fault" cannot ${req.method?.toLowerCase()} ${path}`);
    const headers = { ...req.headers, host: upstreamKube.host };
    const up = https.request({
      host: upstreamKube.hostname, port: upstreamKube.port, method: req.method, path: req.url, headers, ca, cert: adminCert, key: adminKey,
    }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
    res.on('close', () => up.destroy());
  });

  const listen = (s: http.Server | https.Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const [awsPort, kubePort] = await Promise.all([listen(aws), listen(kube)]);
  return {
    awsUrl: `http://127.0.0.1:${awsPort}`,
    kubeUrl: `https://127.0.0.1:${kubePort}`,
    seen: () => [...seen],
    arm(p) {
      plan = p;
      seen = [];
    },
    setVictim(pid) {
      plan = { ...plan, pid };
    },
    async close() {
      for (const s of [aws, kube]) s.closeAllConnections();
      await Promise.all([aws, kube].map((s) => new Promise((r) => s.close(r))));
    },
  };
}
