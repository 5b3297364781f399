// STAND-IN for the EKS Pod Identity Agent (github.com/aws/eks-pod-identity-agent, the DaemonSet
// `eks-pod-identity-agent` in kube-system that EKS installs as an add-on). On a node the real agent
// listens on 169.254.170.23:80 (and [fd00:ec2::23]:80); the webhook points every associated pod's
// AWS_CONTAINER_CREDENTIALS_FULL_URI there. Here one loopback HTTP server per EKS-flavour cluster
// plays it (nothing in the sandbox can bind the link-local address), and whoever plays a pod's AWS
// SDK (the Central stand-in) sends the request there instead.
//
// What it does, as the real one (its README and the EKS User Guide): `GET /v1/credentials` with the
// pod's projected token (audience pods.eks.amazonaws.com) in the `Authorization` header → EKS Auth
// `AssumeRoleForPodIdentity` for its cluster (the AWS gate, gate-eks.ts, which checks the token with
// the cluster's API server, the association and the role's trust policy), signed with the node
// role's credentials (the sandbox admin's here) → the container-credentials answer the AWS SDKs read:
// `{AccessKeyId, SecretAccessKey, Token, AccountId, Expiration}`. No token: 400. An EKS Auth error is
// answered with its status and message. Left out: its credential cache, the IPv6 listener, probes
// and metrics.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SandboxInfo } from '../types.js';

export const AGENT_PATH = '/v1/credentials';

function bytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  return d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Node's crypto as the SHA-256 the signer wants. */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface AgentRequest {
  seq: number;
  time: string;
  cluster: string;
  status: number;
  /** The EKS Auth error code when it refused. */
  code?: string;
}

export interface PodIdentityAgent {
  cluster: string;
  /** http://127.0.0.1:PORT/v1/credentials: what stands in for http://169.254.170.23/v1/credentials. */
  url: string;
  requests(): AgentRequest[];
  stop(): Promise<void>;
}

/** Calls EKS Auth AssumeRoleForPodIdentity at the AWS gate, SigV4-signed as the node role (the sandbox admin). */
export async function assumeRoleForPodIdentity(
  endpoint: string,
  region: string,
  clusterName: string,
  token: string,
  credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' },
): Promise<{ status: number; body: Record<string, unknown>; code?: string }> {
  const url = new URL(`/clusters/${encodeURIComponent(clusterName)}/assume-role-for-pod-identity`, endpoint);
  const body = JSON.stringify({ token });
  const signer = new SignatureV4({ service: 'eks-auth', region, credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: res.status, body: parsed, code: res.headers.get('x-amzn-errortype') ?? undefined };
}

export async function startPodIdentityAgent(info: SandboxInfo, cluster: string): Promise<PodIdentityAgent> {
  const c = info.clusters[cluster];
  if (!c || c.flavour !== 'eks') throw new Error(`the EKS Pod Identity Agent runs on EKS-flavour clusters only (${cluster})`);
  const log: AgentRequest[] = [];
  let seq = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      const reply = (status: number, body: unknown, code?: string) => {
        log.push({ seq: ++seq, time: new Date().toISOString(), cluster, status, ...(code ? { code } : {}) });
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
        res.end(text);
      };
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== AGENT_PATH) return reply(404, 'not found');
      const token = String(req.headers.authorization ?? '').trim();
      if (!token) return reply(400, 'Service account token cannot be empty');
      const out = await assumeRoleForPodIdentity(info.awsEndpoint, c.region, c.name, token);
      if (out.status !== 200) return reply(out.status, String(out.body.message ?? 'EKS Auth refused the request'), out.code ?? 'Unknown');
      const creds = out.body.credentials as { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: number };
      const arn = String((out.body.assumedRoleUser as { arn?: string } | undefined)?.arn ?? '');
      reply(200, {
        AccessKeyId: creds.accessKeyId,
        SecretAccessKey: creds.secretAccessKey,
        Token: creds.sessionToken,
        AccountId: arn.split(':')[4] ?? '',
        Expiration: new Date(creds.expiration * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
    })().catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`pod identity agent: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    cluster,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${AGENT_PATH}`,
    requests: () => [...log],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One agent per EKS-flavour cluster; their URLs go into `info.podIdentityAgents`. */
export async function startPodIdentityAgents(info: SandboxInfo): Promise<PodIdentityAgent[]> {
  const agents = await Promise.all(Object.values(info.clusters).filter((c) => c.flavour === 'eks').map((c) => startPodIdentityAgent(info, c.name)));
  info.podIdentityAgents = Object.fromEntries(agents.map((a) => [a.cluster, a.url]));
  return agents;
}
