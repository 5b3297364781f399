// The Central API stand-ins' control API (central-standin.ts) from a test file: API tokens, what
// each Central stores, integrations made "in the portal" or by Sensor, an exposed endpoint, and the
// requests Central received (to check that a dry run sent no write).
import http from 'node:http';
import { Duplex, PassThrough, Writable } from 'node:stream';
import tls from 'node:tls';
import { CoreV1Api, PortForward, type KubeConfig } from '@kubernetes/client-node';
import type { CentralRequest, TokenRole } from './central-standin.js';
import type { SandboxInfo } from '../types.js';

export type { CentralRequest } from './central-standin.js';

async function call<T>(sb: SandboxInfo, path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  if (!sb.centralControlUrl) throw new Error('the Central API stand-ins are not running (global-setup.ts starts them)');
  const res = await fetch(`${sb.centralControlUrl}${path}`, {
    method: init?.method ?? 'GET',
    ...(init?.body !== undefined ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`central control ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const q = (cluster: string, namespace: string) => `cluster=${encodeURIComponent(cluster)}&namespace=${encodeURIComponent(namespace)}`;

/** An API token of the Central in `namespace` (Admin: may change integrations; Analyst: read only). */
export async function centralToken(sb: SandboxInfo, cluster: string, namespace: string, role: TokenRole = 'Admin'): Promise<string> {
  return (await call<{ token: string }>(sb, '/tokens', { method: 'POST', body: { cluster, namespace, role } })).token;
}

/** The integrations that Central stores, unscrubbed. */
export async function centralIntegrations(sb: SandboxInfo, cluster: string, namespace: string): Promise<Record<string, any>[]> {
  return (await call<{ integrations: Record<string, any>[] }>(sb, `/integrations?${q(cluster, namespace)}`)).integrations;
}

/** Stores an integration as the portal or Sensor would have made it (no test); returns it with its id. */
export async function addCentralIntegration(sb: SandboxInfo, cluster: string, namespace: string, integration: Record<string, unknown>): Promise<Record<string, any>> {
  return call(sb, `/integrations?${q(cluster, namespace)}`, { method: 'POST', body: integration });
}

/** An exposed endpoint (route, load balancer) of that Central: https://127.0.0.1:PORT. */
export async function centralEndpoint(sb: SandboxInfo, cluster: string, namespace: string): Promise<string> {
  return (await call<{ url: string }>(sb, `/endpoint?${q(cluster, namespace)}`)).url;
}

/**
 * Lets the Central pods of `cluster` reach Azure stand-ins started in a test file (Entra, ACR): what
 * Central's test of an Azure Container Registry integration calls from its pod. Returns the undo.
 */
export async function centralReachesAzure(
  sb: SandboxInfo, cluster: string,
  az: { authorityHost: string; cloud: { authorityHost: string; acrSuffix: string; armResource: string }; ca: string | Buffer; acrUrl: string },
  opts: { pullCheckRepository?: string } = {},
): Promise<() => Promise<void>> {
  if (!sb.centralControlUrl) throw new Error('the Central API stand-ins are not running (global-setup.ts starts them)');
  const put = async (body: string) => {
    const r = await fetch(`${sb.centralControlUrl}/clouds?cluster=${encodeURIComponent(cluster)}`, { method: 'PUT', body, signal: AbortSignal.timeout(10_000) });
    if (!r.ok) throw new Error(`the Central stand-ins refused the Azure side of ${cluster}: ${r.status} ${await r.text()}`);
  };
  const { authorityHost, armResource, acrSuffix } = az.cloud;
  await put(JSON.stringify({ azure: { authorityHost: az.authorityHost, cloud: { authorityHost, acrSuffix, armResource }, ca: az.ca.toString(), acrUrl: az.acrUrl, ...opts } }));
  return () => put('');
}

export async function centralMark(sb: SandboxInfo): Promise<number> {
  return (await call<{ seq: number }>(sb, '/mark')).seq;
}

/** Requests the Centrals received since the mark (optionally of one namespace). */
export async function centralRequests(sb: SandboxInfo, since: number, namespace?: string): Promise<CentralRequest[]> {
  const all = (await call<{ requests: CentralRequest[] }>(sb, `/requests?since=${since}`)).requests;
  return namespace ? all.filter((r) => r.namespace === namespace) : all;
}

// ---------------------------------------------------------------------------------------------------
// Talking to a Central as a client would: `kubectl port-forward svc/central` and TLS with its own CA

export interface CentralResponse { status: number; body: string; json<T = any>(): T }

/**
 * One HTTPS request to the Central in `namespace`, through a port-forward to its pod's port 8443
 * (the real kube-apiserver, the cluster network stand-in, kwok), trusting Central's CA (Secret
 * central-tls ca.pem) for the name central.<namespace>.svc. `headers` may carry any Authorization.
 */
export async function centralRequest(
  kc: KubeConfig, namespace: string, method: string, path: string,
  opts: { body?: unknown; headers?: Record<string, string | string[]>; timeoutMs?: number } = {},
): Promise<CentralResponse> {
  // A Central that has just started may not listen yet (its kubelet, kwok, learns where it forwards
  // a moment after the pod starts): a bounded number of attempts.
  for (let attempt = 1; ; attempt++) {
    try {
      return await centralRequestOnce(kc, namespace, method, path, opts);
    } catch (err) {
      if (attempt >= 20 || !/no forward found/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function centralRequestOnce(
  kc: KubeConfig, namespace: string, method: string, path: string,
  opts: { body?: unknown; headers?: Record<string, string | string[]>; timeoutMs?: number },
): Promise<CentralResponse> {
  const core = kc.makeApiClient(CoreV1Api);
  const ca = Buffer.from((await core.readNamespacedSecret({ name: 'central-tls', namespace })).data!['ca.pem']!, 'base64');
  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=central' });
  const pod = pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  if (!pod) throw new Error(`no running Central pod in ${namespace}`);
  const input = new PassThrough();
  let failure = '';
  const stream = new Duplex({
    read() {},
    write(chunk, _enc, cb) { input.write(chunk, cb); },
    final(cb) { input.end(); cb(); },
  });
  const output = new Writable({ write(chunk, _enc, cb) { stream.push(chunk); cb(); } });
  const errors = new Writable({ write(chunk, _enc, cb) { failure += chunk.toString(); cb(); } });
  const ws = (await new PortForward(kc).portForward(namespace, pod.metadata!.name!, [8443], output, errors, input)) as unknown as { on(e: string, f: () => void): void; close(): void };
  const socket = tls.connect({ socket: stream, ca, servername: `central.${namespace}.svc` });
  ws.on('close', () => (failure ? socket.destroy(new Error(failure.trim())) : stream.push(null)));
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  try {
    return await new Promise<CentralResponse>((resolve, reject) => {
      const req = http.request({
        method, path, host: `central.${namespace}.svc`, createConnection: () => socket,
        headers: { accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        timeout: opts.timeoutMs ?? 30_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on('error', (e) => reject(failure ? new Error(`${e.message}: ${failure}`) : e));
      req.end(payload);
    });
  } finally {
    socket.destroy();
    ws.close();
  }
}
