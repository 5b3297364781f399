// The local sandbox of real servers: one etcd, one moto server (behind the AWS gate, aws/aws-gate.ts)
// and one or more kube-apiservers sharing that etcd under different prefixes (kube/api-servers.ts),
// each with its kube-controller-manager, kube-scheduler and kwok (kube/controllers.ts), all on free
// 127.0.0.1 ports with temporary data dirs. `startSandbox()` starts everything and returns a handle
// whose `info` is plain data (paths and URLs) that can be passed to test workers; `stop()` kills
// every process group and deletes the temp dirs. Processes are also killed when this process exits
// or is interrupted, and by a detached reaper if this process is killed outright (processes.ts).
import { installGkeAuthPlugin } from './gcp/gke-auth-plugin.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { startAwsGate, type AwsGate } from './aws/aws-gate.js';
import { installAwsCliStandIn, pathWith, type AwsCliStandIn } from './aws/aws-cli.js';
import { MOTO_ACCOUNT_ID, startMoto } from './aws/moto.js';
import { createCa, createServiceAccountKeys, issueCert, pemData, type KeyPair } from './certs.js';
import { startPublicIssuers, type PublicIssuers } from './issuers/public-issuers.js';
import { DEFAULT_REGION, startApiServers, startEtcd, type ApiServers, type ApiServerSetup, type ClusterOptions } from './kube/api-servers.js';
import { startControlPlanes } from './kube/controllers.js';
import { kubeconfigDocument } from './kube/kubeconfigs.js';
import { EKS_AUTH_USER, kubeConfigFor, kubeMark, kubeRequests, resetAws, type KubeRequestFilter } from './observe.js';
import { controlPlaneHost, freePorts, registerSandbox, releaseSandbox, trackProcess, type LiveSandbox, type Proc } from './processes.js';
import { sandboxPaths, type SandboxPaths } from './provisioning.js';
import type { AwsEnv, AwsRequest, ClusterInfo, KubeRequest, SandboxInfo } from './types.js';

export type { AwsEnv, AwsRequest, ClusterInfo, Flavour, KubeRequest, SandboxInfo } from './types.js';
export { isProvisioned, PROJECT_ROOT, provision, sandboxPaths, sandboxVersions, type SandboxPaths } from './provisioning.js';
export { DEFAULT_REGION, eksIssuer, openShiftIssuer, type ClusterOptions } from './kube/api-servers.js';
export { MOTO_ACCOUNT_ID } from './aws/moto.js';

export const ADMIN_USER = 'sandbox-admin';

export interface SandboxOptions {
  /** Clusters to start (default: one `eks` cluster). */
  clusters?: ClusterOptions[];
  /** AWS region for AWS_REGION and the default issuers (default eu-west-1). */
  region?: string;
  /** Progress messages (default: to stderr). Pass `() => {}` for silence. */
  log?: (message: string) => void;
  /** Bound for each readiness wait (default 90 s). */
  startTimeoutMs?: number;
  /** Keep the temp dir after stop() (for debugging; also RHACS_STS_SANDBOX_KEEP=1). */
  keepWorkDir?: boolean;
  /** Also start moto and the AWS gate in front of it (default true). */
  aws?: boolean;
  /**
   * Kill everything on SIGINT/SIGTERM/SIGHUP (default true). Pass false when the caller handles
   * those signals itself and calls stop(); the exit handler and the reaper stay in place.
   */
  handleSignals?: boolean;
  /**
   * Name each context by its cluster (`hub`, `spoke-1`), as after `kubectl config rename-context`;
   * the cluster and user entries keep their field names (EKS ARNs). Default: the field's names.
   */
  shortContexts?: boolean;
}

export interface Sandbox {
  info: SandboxInfo;
  /** Seconds each start phase took. */
  timings: Record<string, number>;
  /** A KubeConfig for the admin user of `cluster` (default: the first cluster). */
  kubeConfig(cluster?: string): KubeConfig;
  /** Wipes moto's state (POST /moto-api/reset). */
  reset(): Promise<void>;
  awsMark(): number;
  awsRequests(since?: number): AwsRequest[];
  kubeMark(cluster: string): number;
  kubeRequests(cluster: string, since?: number, filter?: KubeRequestFilter): Promise<KubeRequest[]>;
  /**
   * Restarts a cluster's kube-apiserver (same port, etcd prefix and other flags), optionally with
   * other `--service-account-issuer`s (the first issues tokens, all are accepted, as kube-apiserver
   * documents the repeated flag; each is also an API audience; `info.clusters[cluster].issuer`
   * becomes the first) and/or a new signing key (`rotateSigningKey`: a fresh RSA key signs, and
   * every earlier public key stays a `--service-account-key-file`, so the JWKS lists them all, as
   * when OpenShift rotates its bound service-account signing key). Resolves once /readyz answers.
   * Used by the OpenShift Authentication stand-in (openshift-auth.ts) and key-rotation tests.
   */
  restartApiServer(cluster: string, change: { issuers?: string[]; rotateSigningKey?: boolean }): Promise<void>;
  /** Stops every process and deletes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Issuer hosts no public DNS resolves (in-cluster names): STS can never fetch them, so the public web stand-in does not serve them. */
export function isPrivateIssuerHost(host: string): boolean {
  return /(^|\.)(svc|cluster\.local|local|internal)$/.test(host.toLowerCase()) || host === 'localhost';
}
/** The options with their defaults, checked before anything starts. */
interface Settings {
  log: (message: string) => void;
  region: string;
  timeoutMs: number;
  withAws: boolean;
  keep: boolean;
  clusterOpts: ClusterOptions[];
  paths: SandboxPaths;
}

function settingsOf(opts: SandboxOptions): Settings {
  const withAws = opts.aws ?? true;
  const clusterOpts = opts.clusters?.length ? opts.clusters : [{ name: 'eks' }];
  const names = new Set<string>();
  for (const c of clusterOpts) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(c.name)) throw new Error(`invalid sandbox cluster name: ${c.name}`);
    if (names.has(c.name)) throw new Error(`duplicate sandbox cluster name: ${c.name}`);
    names.add(c.name);
  }
  const paths = sandboxPaths();
  const binaries = [paths.etcd, paths.kubeApiserver, paths.kubeControllerManager, paths.kubeScheduler, paths.kwok];
  const missing = [...binaries, ...(withAws ? [paths.motoServer] : [])].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`sandbox is not provisioned (missing: ${missing.join(', ')}); run: bash test/sandbox/provision.sh`);
  }
  return {
    log: opts.log ?? ((m: string) => process.stderr.write(`[sandbox] ${m}\n`)),
    region: opts.region ?? DEFAULT_REGION,
    timeoutMs: opts.startTimeoutMs ?? 90_000,
    withAws,
    keep: opts.keepWorkDir ?? process.env.RHACS_STS_SANDBOX_KEEP === '1',
    clusterOpts,
    paths,
  };
}

interface Certificates {
  ca: KeyPair;
  serving: KeyPair;
  admin: KeyPair;
  saKeys: Map<string, ReturnType<typeof createServiceAccountKeys>>;
}

/** The sandbox CA, the API servers' serving certificate, the admin's and each cluster's signing keys. */
function createCertificates(certDir: string, clusterOpts: ClusterOptions[]): Certificates {
  const ca = createCa(certDir);
  const serving = issueCert(ca, certDir, 'apiserver', {
    cn: 'kube-apiserver',
    usage: 'server',
    sans: ['IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc'],
  });
  const admin = issueCert(ca, certDir, 'admin', { cn: ADMIN_USER, groups: ['system:masters'], usage: 'client' });
  const saKeys = new Map(clusterOpts.map((c) => [c.name, createServiceAccountKeys(certDir, c.name)]));
  return { ca, serving, admin, saKeys };
}

/** What runs in this process beside the child processes; stopped after them. */
interface InProcess {
  gate?: AwsGate;
  publicIssuers?: PublicIssuers;
  api?: ApiServers;
}

/**
 * The AWS side in front of moto: each issuer's public URLs (its discovery document and keys,
 * served from its API server), which STS (the gate) and rhacs-sts fetch as they would from the
 * internet, and the AWS gate.
 */
async function startAwsSide(
  certDir: string,
  certs: Certificates,
  clusters: ClusterInfo[],
  region: string,
  moto: { url: string; port: number },
): Promise<Required<Pick<InProcess, 'gate' | 'publicIssuers'>>> {
  const tls = { ca: readFileSync(certs.ca.cert), cert: readFileSync(certs.admin.cert), key: readFileSync(certs.admin.key) };
  // In-cluster issuers (OpenShift without STS: https://kubernetes.default.svc) resolve nowhere on the internet.
  const issuers = new Map(clusters.filter((c) => !isPrivateIssuerHost(new URL(c.issuer).hostname)).map((c) => [c.issuer, { server: c.server, ...tls }]));
  const regions = [...new Set([region, ...clusters.map((c) => c.region)])];
  const publicIssuers = await startPublicIssuers({ certDir, issuers, s3: { motoUrl: moto.url, regions } });
  // EKS Auth (gate-eks.ts) reviews Pod Identity tokens on the EKS clusters' API servers as its own user.
  const eksAuth = issueCert(certs.ca, certDir, 'eks-auth', { cn: EKS_AUTH_USER, groups: ['system:masters'], usage: 'client' });
  const eksTls = { ca: readFileSync(certs.ca.cert), cert: readFileSync(eksAuth.cert), key: readFileSync(eksAuth.key) };
  const eksClusters = clusters
    .filter((c) => c.flavour === 'eks')
    .map((c) => ({ name: c.name, region: c.region, issuer: c.issuer, server: c.server, tls: eksTls }));
  const gate = await startAwsGate({ target: { host: '127.0.0.1', port: moto.port }, region, web: publicIssuers, eksClusters });
  return { gate, publicIssuers };
}

/** One kubeconfig per cluster and one with every context; the `aws` stand-in their EKS users exec. */
function writeKubeconfigs(workDir: string, clusters: ClusterInfo[], certs: Certificates): { combined: string; awsCli: AwsCliStandIn } {
  const caData = pemData(certs.ca.cert);
  const admin = { cert: pemData(certs.admin.cert), key: pemData(certs.admin.key) };
  const awsCli = installAwsCliStandIn(
    workDir,
    clusters.filter((c) => c.flavour === 'eks').map((c) => ({ region: c.region, name: c.name })),
  );
  if (clusters.some((c) => c.flavour === 'gke')) installGkeAuthPlugin(awsCli.binDir);
  for (const c of clusters) writeFileSync(c.kubeconfig, toYaml(kubeconfigDocument([c], caData, admin)), { mode: 0o600 });
  const combined = join(workDir, 'kubeconfig.yaml');
  writeFileSync(combined, toYaml(kubeconfigDocument(clusters, caData, admin)), { mode: 0o600 });
  return { combined, awsCli };
}

function sandboxInfo(
  workDir: string,
  certs: Certificates,
  clusters: Record<string, ClusterInfo>,
  kubeconfig: string,
  awsCli: AwsCliStandIn,
  aws: { region: string; motoUrl: string; gate?: AwsGate; publicIssuers?: PublicIssuers },
): SandboxInfo {
  const awsEndpoint = aws.gate?.url ?? '';
  const awsEnv: AwsEnv = {
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: aws.region,
    RHACS_STS_CONNECT_TO: aws.publicIssuers?.connectTo ?? '',
    NODE_EXTRA_CA_CERTS: aws.publicIssuers?.caCertPath ?? '',
  };
  return {
    workDir,
    certDir: join(workDir, 'certs'),
    caCertPath: certs.ca.cert,
    caKeyPath: certs.ca.key,
    adminCertPath: certs.admin.cert,
    adminKeyPath: certs.admin.key,
    kubeconfig,
    clusters,
    motoUrl: aws.motoUrl,
    awsEndpoint,
    counterUrl: aws.gate ? `${aws.gate.url}/_sandbox` : '',
    awsEnv,
    publicIssuers: {
      url: aws.publicIssuers?.url ?? '',
      caCertPath: aws.publicIssuers?.caCertPath ?? '',
      connectTo: aws.publicIssuers?.connectTo ?? '',
    },
    accountId: MOTO_ACCOUNT_ID,
    awsCliDir: awsCli.binDir,
    awsCliLog: awsCli.callLog,
  };
}

/** Stops in order, once: the API servers' clients, the API servers, etcd and moto, then this process's servers. */
function stopper(state: LiveSandbox, running: InProcess, workDir: string, s: Settings): () => Promise<void> {
  const stopAll = async () => {
    // The API servers' clients first (controller-manager, scheduler, kwok), then the API servers
    // (they hold etcd connections), then etcd and moto.
    const clients = state.procs.filter((p) => /^(kube-controller-manager|kube-scheduler|kwok)\[/.test(p.name));
    await Promise.all(clients.map((p) => p.stop()));
    const apiservers = state.procs.filter((p) => p.name.startsWith('kube-apiserver'));
    await Promise.all(apiservers.map((p) => p.stop()));
    await Promise.all(state.procs.filter((p) => !apiservers.includes(p) && !clients.includes(p)).map((p) => p.stop()));
    await running.gate?.close();
    await Promise.all((running.api?.networks ?? []).map((n) => n.close()));
    await running.publicIssuers?.close();
    if (!s.keep) rmSync(workDir, { recursive: true, force: true });
    else s.log(`kept the sandbox dir ${workDir}`);
    releaseSandbox(state);
  };
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      // The children and timers are unref'd so they never keep a process alive on their own; keep
      // this one alive until the orderly shutdown is done.
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        await stopAll();
      } finally {
        clearInterval(keepAlive);
      }
    })());
}

function startedMessage(timings: Record<string, number>, info: SandboxInfo): string {
  const phases = Object.entries(timings)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${v.toFixed(1)}s`)
    .join(', ');
  const servers = Object.values(info.clusters)
    .map((c) => `${c.name} ${c.server}`)
    .join(', ');
  return `started in ${(timings.total ?? 0).toFixed(1)}s (${phases}): ${servers}${info.motoUrl ? `, moto ${info.motoUrl} via ${info.awsEndpoint}` : ''}`;
}

/** What kube/api-servers.ts needs from this sandbox: paths, certificates, and its process list. */
function apiServerSetup(
  state: LiveSandbox,
  s: Settings,
  o: { workDir: string; logDir: string; certs: Certificates; shortContexts?: boolean },
): ApiServerSetup {
  return {
    workDir: o.workDir,
    logDir: o.logDir,
    ca: o.certs.ca,
    serving: o.certs.serving,
    tls: { ca: readFileSync(o.certs.ca.cert), cert: readFileSync(o.certs.admin.cert), key: readFileSync(o.certs.admin.key) },
    binaries: { etcd: s.paths.etcd, kubeApiserver: s.paths.kubeApiserver },
    region: s.region,
    timeoutMs: s.timeoutMs,
    shortContexts: o.shortContexts,
    start: (p) => trackProcess(state, p),
    stopProcs: async (name) => {
      const old = state.procs.filter((p) => p.name === name && p.running);
      await Promise.all(old.map((p) => p.stop()));
      state.procs = state.procs.filter((p) => !old.includes(p));
    },
  };
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const t0 = Date.now();
  const s = settingsOf(opts);
  const workDir = mkdtempSync(join(os.tmpdir(), 'rhacs-sts-sandbox-'));
  const state: LiveSandbox = { procs: [], dirs: s.keep ? [] : [workDir], handleSignals: opts.handleSignals ?? true };
  registerSandbox(state, s.keep ? undefined : workDir);
  const track = (p: Proc) => trackProcess(state, p);
  const running: InProcess = {};
  const stop = stopper(state, running, workDir, s);
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = (Date.now() - since) / 1000);

  try {
    let t = Date.now();
    const certDir = join(workDir, 'certs');
    const certs = createCertificates(certDir, s.clusterOpts);
    lap('certificates', t);
    const n = s.clusterOpts.length;
    const ports = await freePorts(3 + 2 * n);
    const [etcdClientPort, etcdPeerPort, motoPort] = ports as [number, number, number];

    // etcd and moto in parallel, then the API servers
    t = Date.now();
    const logDir = join(workDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const setup = apiServerSetup(state, s, { workDir, logDir, certs, shortContexts: opts.shortContexts });
    const moto = s.withAws
      ? startMoto({ binary: s.paths.motoServer, port: motoPort, region: s.region, logDir, timeoutMs: s.timeoutMs, start: track })
      : undefined;
    const motoReady = moto ? moto.ready.then(() => lap('moto', t)) : Promise.resolve();
    const etcdUrl = await startEtcd(setup, etcdClientPort, etcdPeerPort);
    lap('etcd', t);
    t = Date.now();
    const api = (running.api = await startApiServers(setup, s.clusterOpts, { api: ports.slice(3, 3 + n), kubelet: ports.slice(3 + n) }, etcdUrl, certDir, certs.saKeys));
    lap('kube-apiservers', t);
    await motoReady;
    const clusters = Object.values(api.clusters);
    if (moto) Object.assign(running, await startAwsSide(certDir, certs, clusters, s.region, { url: moto.url, port: motoPort }));

    const { combined, awsCli } = writeKubeconfigs(workDir, clusters, certs);
    // This process (seeding, demos) runs the EKS users' exec plugin too: the stand-in comes first.
    process.env.PATH = pathWith(awsCli.binDir);

    t = Date.now();
    await startControlPlanes({
      host: controlPlaneHost(logDir, track),
      workDir,
      ca: certs.ca,
      certDir,
      clusters,
      serviceAccountKeys: certs.saKeys,
      binaries: { kubeControllerManager: s.paths.kubeControllerManager, kubeScheduler: s.paths.kubeScheduler, kwok: s.paths.kwok },
      timeoutMs: s.timeoutMs,
    });
    lap('controllers', t);

    const info = sandboxInfo(workDir, certs, api.clusters, combined, awsCli, { region: s.region, motoUrl: moto?.url ?? '', ...running });
    lap('total', t0);
    s.log(startedMessage(timings, info));
    return {
      info,
      timings,
      kubeConfig: (cluster?: string) => kubeConfigFor(info, cluster),
      reset: () => resetAws(info),
      awsMark: () => running.gate?.mark() ?? 0,
      awsRequests: (since = 0) => running.gate?.requests(since) ?? [],
      kubeMark: (cluster: string) => kubeMark(info, cluster),
      kubeRequests: (cluster: string, since = 0, filter: KubeRequestFilter = {}) => kubeRequests(info, cluster, since, filter),
      restartApiServer: (cluster, change) => api.restart(cluster, change),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
