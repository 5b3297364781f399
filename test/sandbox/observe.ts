// Helpers that work from the serialisable SandboxInfo alone, so test files (which run in vitest
// workers, not in the process that started the sandbox) can use them: clients, raw API calls,
// resetting AWS, and reading what was sent to AWS (and what the AWS gate decided) and to Kubernetes (audit log).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { PublicRequest } from './issuers/public-issuers.js';
import type { AwsRequest, ClusterInfo, GateDecision, KubeRequest, SandboxInfo } from './types.js';

/** The named cluster's description (default: the first cluster); throws for an unknown name. */
export function clusterInfo(info: SandboxInfo, cluster?: string): ClusterInfo {
  const name = cluster ?? Object.keys(info.clusters)[0] ?? '';
  const c = info.clusters[name];
  if (!c) throw new Error(`sandbox has no cluster named ${name} (has: ${Object.keys(info.clusters).join(', ')})`);
  return c;
}

/** A KubeConfig for the admin user of `cluster` (default: the first cluster). */
export function kubeConfigFor(info: SandboxInfo, cluster?: string): KubeConfig {
  const c = clusterInfo(info, cluster);
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  kc.setCurrentContext(c.context);
  return kc;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

/**
 * A raw HTTPS request to a sandbox API server as the admin user (client certificate), e.g.
 * `kubeRaw(info, 'eks', '/.well-known/openid-configuration')`.
 */
export function kubeRaw(
  info: SandboxInfo,
  cluster: string,
  path: string,
  opts: { method?: string; body?: unknown; contentType?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const c = clusterInfo(info, cluster);
  const url = new URL(path, c.server);
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: opts.method ?? 'GET',
        ca: readFileSync(info.caCertPath),
        cert: readFileSync(info.adminCertPath),
        key: readFileSync(info.adminKeyPath),
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
        },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout requesting ${url.href}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Wipes all moto state and the AWS gate's own (quota, client IDs, issued keys); seeds the registries again. */
export async function resetAws(info: SandboxInfo): Promise<void> {
  const res = await fetch(`${info.counterUrl}/reset`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`AWS reset failed: HTTP ${res.status} ${await res.text()}`);
}

/** Current position in the AWS gate's decision log; pass it to gateDecisions(). */
export async function gateMark(info: SandboxInfo): Promise<number> {
  return (await getJson<{ seq: number }>(`${info.counterUrl}/decisions?since=${Number.MAX_SAFE_INTEGER}`)).seq;
}

/** The AWS gate's decisions (token, trust, quota, ECR checks) after `since` (a value from gateMark). */
export async function gateDecisions(info: SandboxInfo, since = 0): Promise<GateDecision[]> {
  return (await getJson<{ decisions: GateDecision[] }>(`${info.counterUrl}/decisions?since=${since}`)).decisions;
}

/** Sets the gate's trust-policy size quota (what GetAccountSummary reports); resetAws restores 2048. */
export async function setTrustPolicyQuota(info: SandboxInfo, quota: number): Promise<void> {
  await getJson(`${info.counterUrl}/quota`, { method: 'POST', body: JSON.stringify({ assumeRolePolicySizeQuota: quota }) });
}

/** Current position in the AWS request log; pass it to awsRequests() to see what came after. */
export async function awsMark(info: SandboxInfo): Promise<number> {
  return (await getJson<{ seq: number }>(`${info.counterUrl}/mark`)).seq;
}

/** AWS requests recorded by the AWS gate after `since` (a value from awsMark). */
export async function awsRequests(info: SandboxInfo, since = 0): Promise<AwsRequest[]> {
  return (await getJson<{ requests: AwsRequest[] }>(`${info.counterUrl}/requests?since=${since}`)).requests;
}

/** True for actions that only read (Get*, List*, Describe*, Simulate*, GetCallerIdentity…, S3's Head*). */
export function isReadOnlyAwsAction(action: string | undefined): boolean {
  return !!action && /^(Get|List|Describe|Simulate|Head|Generate(Credential|Service)Report)/.test(action);
}

/** AWS requests after `since` whose action is not read-only (i.e. could change state). */
export async function awsWrites(info: SandboxInfo, since = 0): Promise<AwsRequest[]> {
  return (await awsRequests(info, since)).filter((r) => !isReadOnlyAwsAction(r.action));
}

/** What the public issuer stand-in (public-issuers.ts) served after `since` (0: everything). */
export async function publicRequests(info: SandboxInfo, since = 0): Promise<PublicRequest[]> {
  return (await publicLog(info, since)).requests;
}

/** Current position in the public issuer stand-in's request log; pass it to publicRequests(). */
export async function publicMark(info: SandboxInfo): Promise<number> {
  return (await publicLog(info, Number.MAX_SAFE_INTEGER)).seq;
}

function publicLog(info: SandboxInfo, since: number): Promise<{ seq: number; requests: PublicRequest[] }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${info.publicIssuers.url}/_sandbox/requests?since=${since}`, { ca: readFileSync(info.publicIssuers.caCertPath), timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as { seq: number; requests: PublicRequest[] }) : reject(new Error(`public issuers: HTTP ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error('public issuers: timeout')));
    req.on('error', reject);
  });
}

/** Current position (byte offset) in a cluster's audit log; pass it to kubeRequests(). */
export function kubeMark(info: SandboxInfo, cluster: string): number {
  try {
    return statSync(clusterInfo(info, cluster).auditLogPath).size;
  } catch {
    return 0;
  }
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** True for verbs that change state. */
export function isWriteVerb(verb: string): boolean {
  return WRITE_VERBS.has(verb);
}

function readFrom(path: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface KubeRequestFilter {
  verb?: string | string[];
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Only requests by this user (the admin user is `sandbox-admin`). */
  user?: string;
  /**
   * Exclude the requests of the cluster's own components (default true): kube-controller-manager
   * and its controllers' service accounts in kube-system, kube-scheduler, kwok and the IRSA webhook.
   */
  excludeController?: boolean;
  /** Only state-changing verbs that were not dry runs. */
  writesOnly?: boolean;
  /** Include the API server's own loopback requests (user system:apiserver; default false). */
  includeApiserver?: boolean;
}

/** The users the control-plane components authenticate as (client certificates). */
export const CONTROLLER_USER = 'system:kube-controller-manager';
export const SCHEDULER_USER = 'system:kube-scheduler';
export const KWOK_USER = 'sandbox:kwok';
/** The deployment controller (kube-controller-manager runs each controller as its own service account). */
export const DEPLOYMENT_CONTROLLER_USER = 'system:serviceaccount:kube-system:deployment-controller';

/** The user name the IRSA webhook stand-in reads service accounts as (irsa-webhook.ts). */
export const IRSA_WEBHOOK_USER = 'sandbox:irsa-webhook';
/** The user name the Central API stand-in acts as: the kubelet's part for Central pods (central-standin.ts). */
export const CENTRAL_STANDIN_USER = 'sandbox:central';
/** The EKS Auth stand-in (gate-eks.ts), which reviews Pod Identity tokens. */
export const EKS_AUTH_USER = 'sandbox:eks-auth';

/** True for a request by a cluster component rather than by a client under test. */
export function isClusterComponent(user: string): boolean {
  return user === CONTROLLER_USER || user === SCHEDULER_USER || user === KWOK_USER || user === IRSA_WEBHOOK_USER || user === CENTRAL_STANDIN_USER || user === EKS_AUTH_USER || user.startsWith('system:serviceaccount:kube-system:');
}

/**
 * Kubernetes API requests logged by a cluster's API server after `since` (a value from kubeMark).
 * The audit log is written as each request completes, which can trail the client's view of the
 * response by a few milliseconds: `settleMs` (default 300) waits before reading.
 */
export async function kubeRequests(
  info: SandboxInfo,
  cluster: string,
  since = 0,
  filter: KubeRequestFilter = {},
  settleMs = 300,
): Promise<KubeRequest[]> {
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  const text = readFrom(clusterInfo(info, cluster).auditLogPath, since);
  const out: KubeRequest[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let ev: any;
    try {
      ev = JSON.parse(line);
    } catch {
      continue; // a partially written last line
    }
    if (ev.stage !== 'ResponseComplete' && ev.stage !== 'Panic') continue;
    const uri: string = ev.requestURI ?? '';
    const dryRun = /[?&]dryRun=All(&|$)/.test(uri);
    out.push({
      time: ev.stageTimestamp ?? ev.requestReceivedTimestamp,
      verb: ev.verb,
      resource: ev.objectRef?.resource,
      subresource: ev.objectRef?.subresource,
      apiGroup: ev.objectRef?.apiGroup,
      namespace: ev.objectRef?.namespace,
      name: ev.objectRef?.name,
      user: ev.user?.username ?? '',
      userAgent: ev.userAgent,
      code: ev.responseStatus?.code,
      dryRun,
      uri,
    });
  }
  const verbs = filter.verb === undefined ? undefined : new Set([filter.verb].flat());
  return out.filter(
    (r) =>
      (!verbs || verbs.has(r.verb)) &&
      (filter.resource === undefined || r.resource === filter.resource) &&
      (filter.subresource === undefined || r.subresource === filter.subresource) &&
      (filter.namespace === undefined || r.namespace === filter.namespace) &&
      (filter.name === undefined || r.name === filter.name) &&
      (filter.user === undefined || r.user === filter.user) &&
      (filter.excludeController === false || !isClusterComponent(r.user)) &&
      (filter.includeApiserver || r.user !== 'system:apiserver') &&
      (!filter.writesOnly || (isWriteVerb(r.verb) && !r.dryRun)),
  );
}
