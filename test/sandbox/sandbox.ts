// The local sandbox of real servers: one etcd, one moto server (behind the AWS gate, aws-gate.ts) and
// one or more kube-apiservers sharing that etcd under different prefixes, each with its
// kube-controller-manager, kube-scheduler and kwok (controllers.ts), all on free 127.0.0.1 ports
// with temporary data dirs. `startSandbox()` starts everything and returns a handle whose
// `info` is plain data (paths and URLs) that can be passed to test workers; `stop()` kills every
// process group and deletes the temp dirs. Processes are also killed when this process exits or is
// interrupted, and by a detached reaper if this process is killed outright.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { startAwsGate, type AwsGate } from './aws/aws-gate.js';
import { startPublicIssuers, type PublicIssuers } from './issuers/public-issuers.js';
import { installAwsCliStandIn, pathWith } from './aws/aws-cli.js';
import { contextName, kubeconfigDocument } from './kube/kubeconfigs.js';
import { createCa, createServiceAccountKeys, issueCert, pemData } from './certs.js';
import { startControlPlanes, type ControlPlaneHost } from './kube/controllers.js';
import { egressSelectorConfig, startClusterNetwork, type ClusterNetwork } from './kube/cluster-network.js';
import { EKS_AUTH_USER, kubeConfigFor, kubeMark, kubeRequests, resetAws, type KubeRequestFilter } from './observe.js';
import type { AwsEnv, AwsRequest, ClusterInfo, Flavour, KubeRequest, SandboxInfo } from './types.js';

export type { AwsEnv, AwsRequest, ClusterInfo, Flavour, KubeRequest, SandboxInfo } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (two levels above test/sandbox). */
export const PROJECT_ROOT = resolve(here, '../..');

export const MOTO_ACCOUNT_ID = '123456789012';
export const ADMIN_USER = 'sandbox-admin';
export const DEFAULT_REGION = 'eu-west-1';

// ---------------------------------------------------------------------------------------------------
// Binaries and provisioning

function goModRequire(file: string, module: string): string {
  const text = readFileSync(join(here, 'go', file, 'go.mod'), 'utf8');
  const m = new RegExp(`^require\\s+${module.replace(/[.]/g, '\\.')}\\s+(\\S+)`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`cannot find the version of ${module} in test/sandbox/go/${file}/go.mod`);
  return m[1];
}

/** Kubernetes, etcd and kwok versions, read from the wrapper go.mod files (as provision.sh does). */
export function sandboxVersions(): { kubernetes: string; etcd: string; kwok: string } {
  return {
    kubernetes: goModRequire('kube-apiserver', 'k8s.io/kubernetes'),
    etcd: goModRequire('etcd', 'go.etcd.io/etcd/server/v3'),
    kwok: goModRequire('kwok', 'sigs.k8s.io/kwok'),
  };
}

export interface SandboxPaths {
  cacheDir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  venv: string;
  motoServer: string;
  provisionScript: string;
}

export function sandboxPaths(): SandboxPaths {
  const v = sandboxVersions();
  const base = process.env.RHACS_STS_SANDBOX_CACHE || join(os.homedir(), '.cache', 'rhacs-sts-sandbox');
  const cacheDir = join(base, `k8s-${v.kubernetes}-etcd-${v.etcd}`);
  const venv = join(PROJECT_ROOT, '.sandbox', 'venv');
  return {
    cacheDir,
    etcd: join(cacheDir, 'etcd'),
    kubeApiserver: join(cacheDir, 'kube-apiserver'),
    kubeControllerManager: join(cacheDir, 'kube-controller-manager'),
    kubeScheduler: join(cacheDir, 'kube-scheduler'),
    // kwok is versioned apart from Kubernetes (provision.sh puts the version in the name).
    kwok: join(cacheDir, `kwok-${v.kwok}`),
    venv,
    motoServer: join(venv, 'bin', 'moto_server'),
    provisionScript: join(here, 'provision.sh'),
  };
}

/** True when the binaries and the moto virtualenv are in place (cheap check, no hashing). */
export function isProvisioned(): boolean {
  const p = sandboxPaths();
  return [p.etcd, p.kubeApiserver, p.kubeControllerManager, p.kubeScheduler, p.kwok, p.motoServer].every((f) => existsSync(f));
}

/** Runs provision.sh (idempotent); its output goes to stderr. Throws when it fails. */
export function provision(): void {
  try {
    execFileSync('bash', [sandboxPaths().provisionScript], { stdio: ['ignore', 2, 2], cwd: PROJECT_ROOT });
  } catch (err) {
    throw new Error(`sandbox provisioning failed (test/sandbox/provision.sh): ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Process management and cleanup

class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  running = true;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logPath: string,
    env?: NodeJS.ProcessEnv,
  ) {
    const fd = openSync(logPath, 'a');
    try {
      // detached: own process group (and session), so a terminal's Ctrl-C does not hit it before we
      // stop it in order, and so we can kill the whole group.
      this.child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env });
    } finally {
      closeSync(fd);
    }
    this.child.unref();
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.running = false;
        this.exitCode = code;
        this.exitSignal = signal;
        resolveExit();
      });
      this.child.once('error', (err) => {
        this.running = false;
        writeFileSync(this.logPath, `\nspawn error: ${err.message}\n`, { flag: 'a' });
        resolveExit();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }

  describeExit(): string {
    return this.exitSignal ? `killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
  }

  killGroup(signal: NodeJS.Signals): void {
    if (!this.pid || !this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      /* already gone */
    }
  }

  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.killGroup('SIGTERM');
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
    ]);
    if (timedOut) {
      this.killGroup('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
  }
}

interface LiveSandbox {
  procs: Proc[];
  dirs: string[];
  reaper?: ChildProcess;
  /** Clean up on SIGINT/SIGTERM/SIGHUP here (false: the caller handles signals and calls stop()). */
  handleSignals: boolean;
}

const live = new Set<LiveSandbox>();
let handlersInstalled = false;

function emergencyCleanup(onlySignalHandled = false): void {
  for (const s of live) {
    if (onlySignalHandled && !s.handleSignals) continue;
    for (const p of s.procs) p.killGroup('SIGKILL');
    for (const d of s.dirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
    s.reaper?.stdin?.end('done\n');
    live.delete(s);
  }
}

const exitCleanup = () => emergencyCleanup(false);

function onSignal(signal: NodeJS.Signals): void {
  emergencyCleanup(true);
  // Exit like the default handler would, unless someone else (e.g. the test runner) handles it.
  if (process.listenerCount(signal) <= 1) process.exit(128 + (os.constants.signals[signal] ?? 1));
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', exitCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

function uninstallHandlersIfIdle(): void {
  if (!handlersInstalled || live.size > 0) return;
  handlersInstalled = false;
  process.off('exit', exitCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
}

// A detached bash process that learns the process groups and dirs through its stdin. If this Node
// process dies without cleaning up (even SIGKILL), the pipe closes and the reaper kills and deletes
// everything it was told about. A clean stop tells it `done` first.
const REAPER_SCRIPT = `
pg=(); d=()
while IFS= read -r l; do
  case "$l" in
    "pg "*) pg+=("\${l#pg }") ;;
    "dir "*) d+=("\${l#dir }") ;;
    done) exit 0 ;;
  esac
done
for p in "\${pg[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
sleep 2
for p in "\${pg[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
for x in "\${d[@]}"; do rm -rf -- "$x"; done
`;

function startReaper(): ChildProcess | undefined {
  try {
    const r = spawn('bash', ['-c', REAPER_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    r.on('error', () => undefined);
    r.stdin?.on('error', () => undefined);
    r.unref();
    (r.stdin as unknown as net.Socket | null)?.unref?.();
    return r;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class SandboxStartError extends Error {}

/**
 * Polls `probe` until it returns true. Bounded by both `timeoutMs` and a maximum attempt count;
 * fails early when `proc` exits, with the tail of its output.
 */
async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  proc: Proc | undefined,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 5;
  let lastError = '';
  for (let attempt = 0; attempt < maxAttempts && Date.now() < deadline; attempt++) {
    if (proc && !proc.running) {
      throw new SandboxStartError(
        `${proc.name} ${proc.describeExit()} while waiting for ${what}. Last output (${proc.logPath}):\n${proc.tail()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new SandboxStartError(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}` +
      (proc ? `. Last output of ${proc.name} (${proc.logPath}):\n${proc.tail()}` : ''),
  );
}

function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function httpsGet(
  url: string,
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = https.get(url, { ...tls, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** An EKS-looking issuer: https://oidc.eks.<region>.amazonaws.com/id/<32 upper-case hex>. */
export function eksIssuer(region = DEFAULT_REGION, id = randomBytes(16).toString('hex').toUpperCase()): string {
  return `https://oidc.eks.${region}.amazonaws.com/id/${id}`;
}

/** An OpenShift-with-STS-looking issuer: an S3 bucket URL that hosts the discovery documents. */
export function openShiftIssuer(region = DEFAULT_REGION, bucket = 'rhacs-sts-oidc'): string {
  return `https://${bucket}.s3.${region}.amazonaws.com`;
}

function defaultIssuer(flavour: Flavour, region: string): string {
  if (flavour === 'eks') return eksIssuer(region);
  if (flavour === 'openshift') return openShiftIssuer(region);
  return 'https://kubernetes.default.svc.cluster.local';
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    nonResourceURLs: ["/readyz*", "/livez*", "/healthz*"]
  - level: Metadata
`;

// ---------------------------------------------------------------------------------------------------
// The sandbox

/** sandbox.ts's process launcher and bounded waits, lent to controllers.ts. */
function controlPlaneHost(logDir: string, track: (p: Proc) => Proc): ControlPlaneHost {
  return {
    start: (name, command, args, logName, env) => track(new Proc(name, command, args, join(logDir, logName), env)),
    waitFor: (what, probe, proc, ms, intervalMs) => waitFor(what, probe, proc as Proc | undefined, ms, intervalMs),
    freePorts,
    // The components serve /healthz with a self-signed certificate (their --cert-dir).
    httpsOk: (url) =>
      new Promise((resolveOk) => {
        const req = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
          res.resume();
          resolveOk(res.statusCode === 200);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => resolveOk(false));
      }),
  };
}

export interface ClusterOptions {
  /** Cluster name, e.g. `eks` or `openshift` (the context is named from it as in the field: see kubeconfigs.ts). */
  name: string;
  /** Decides the default issuer; defaults to the name when it is `eks`/`openshift`, else `plain`. */
  flavour?: Flavour;
  /** --service-account-issuer; defaults per flavour (EKS OIDC URL, S3 bucket URL for OpenShift). */
  issuer?: string;
  /**
   * `jwks_uri` for the discovery document. Defaults per flavour to where the real thing publishes
   * it: EKS `<issuer>/keys`, OpenShift (S3) `<issuer>/keys.json`; plain: the API server's own URL.
   */
  jwksUri?: string;
  /** Region used in the default issuer and by the flavour fixtures (default: the sandbox region). */
  region?: string;
  /** Extra --api-audiences (the issuer, https://kubernetes.default.svc, sts.amazonaws.com and openshift are always there). */
  apiAudiences?: string[];
}

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

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const t0 = Date.now();
  const log = opts.log ?? ((m: string) => process.stderr.write(`[sandbox] ${m}\n`));
  const region = opts.region ?? DEFAULT_REGION;
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const withAws = opts.aws ?? true;
  const keep = opts.keepWorkDir ?? process.env.RHACS_STS_SANDBOX_KEEP === '1';
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

  const workDir = mkdtempSync(join(os.tmpdir(), 'rhacs-sts-sandbox-'));
  const state: LiveSandbox = { procs: [], dirs: keep ? [] : [workDir], handleSignals: opts.handleSignals ?? true };
  live.add(state);
  installHandlers();
  state.reaper = startReaper();
  state.reaper?.stdin?.write(keep ? '' : `dir ${workDir}\n`);
  const track = (p: Proc) => {
    state.procs.push(p);
    if (p.pid) state.reaper?.stdin?.write(`pg ${p.pid}\n`);
    return p;
  };

  let proxy: AwsGate | undefined;
  const networks: ClusterNetwork[] = [];
  let publicIssuers: PublicIssuers | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // The children and timers are unref'd so they never keep a process alive on their own; keep
      // this one alive until the orderly shutdown below is done.
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        await stopAll();
      } finally {
        clearInterval(keepAlive);
      }
    })());
  const stopAll = async () => {
    // The API servers' clients first (controller-manager, scheduler, kwok), then the API servers
    // (they hold etcd connections), then etcd and moto.
    const clients = state.procs.filter((p) => /^(kube-controller-manager|kube-scheduler|kwok)\[/.test(p.name));
    await Promise.all(clients.map((p) => p.stop()));
    const apiservers = state.procs.filter((p) => p.name.startsWith('kube-apiserver'));
    await Promise.all(apiservers.map((p) => p.stop()));
    await Promise.all(state.procs.filter((p) => !apiservers.includes(p) && !clients.includes(p)).map((p) => p.stop()));
    await proxy?.close();
    await Promise.all(networks.map((n) => n.close()));
    await publicIssuers?.close();
    state.reaper?.stdin?.end('done\n');
    if (!keep) rmSync(workDir, { recursive: true, force: true });
    else log(`kept the sandbox dir ${workDir}`);
    live.delete(state);
    uninstallHandlersIfIdle();
  };

  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = (Date.now() - since) / 1000);

  try {
    // --- certificates -----------------------------------------------------------------------------
    let t = Date.now();
    const certDir = join(workDir, 'certs');
    const ca = createCa(certDir);
    const serving = issueCert(ca, certDir, 'apiserver', {
      cn: 'kube-apiserver',
      usage: 'server',
      sans: ['IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc'],
    });
    const admin = issueCert(ca, certDir, 'admin', { cn: ADMIN_USER, groups: ['system:masters'], usage: 'client' });
    const saKeys = new Map(clusterOpts.map((c) => [c.name, createServiceAccountKeys(certDir, c.name)]));
    lap('certificates', t);

    // --- ports ------------------------------------------------------------------------------------
    const ports = await freePorts(3 + 2 * clusterOpts.length);
    const [etcdClientPort, etcdPeerPort, motoPort] = ports as [number, number, number];
    const apiPorts = ports.slice(3, 3 + clusterOpts.length);
    const kubeletPorts = ports.slice(3 + clusterOpts.length);

    // --- etcd and moto (in parallel) --------------------------------------------------------------
    t = Date.now();
    const logDir = join(workDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = track(
      new Proc(
        'etcd',
        paths.etcd,
        [
          '--name=sandbox',
          `--data-dir=${join(workDir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-cluster=sandbox=http://127.0.0.1:${etcdPeerPort}`,
          '--initial-cluster-state=new',
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        join(logDir, 'etcd.log'),
      ),
    );
    let moto: Proc | undefined;
    const motoUrl = `http://127.0.0.1:${motoPort}`;
    if (withAws) {
      moto = track(
        new Proc('moto', paths.motoServer, ['-H', '127.0.0.1', '-p', String(motoPort)], join(logDir, 'moto.log'), {
          ...process.env,
          // moto must not pick up real credentials or config from the environment.
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_DEFAULT_REGION: region,
          PYTHONUNBUFFERED: '1',
        }),
      );
    }
    const etcdReady = waitFor(
      `etcd at ${etcdUrl}`,
      async () => {
        const r = await httpGet(`${etcdUrl}/health`);
        return r.status === 200 && /"health":\s*"true"/.test(r.body);
      },
      etcd,
      timeoutMs,
    ).then(() => lap('etcd', t));
    const motoReady = moto
      ? waitFor(`moto at ${motoUrl}`, async () => (await httpGet(`${motoUrl}/moto-api/data.json`)).status === 200, moto, timeoutMs).then(
          () => lap('moto', t),
        )
      : Promise.resolve();
    await etcdReady;

    // --- kube-apiservers (in parallel) --------------------------------------------------------------
    t = Date.now();
    const auditPolicy = join(workDir, 'audit-policy.yaml');
    writeFileSync(auditPolicy, AUDIT_POLICY);
    const tls = { ca: readFileSync(ca.cert), cert: readFileSync(admin.cert), key: readFileSync(admin.key) };
    const clusters: Record<string, ClusterInfo> = {};
    const apiProcs: Proc[] = [];
    const apiState = new Map<string, { issuers: string[]; signingKey: string; publicKeys: string[]; rotations: number; start: () => Proc }>();
    clusterOpts.forEach((c, i) => {
      const port = apiPorts[i]!;
      const keys = saKeys.get(c.name)!;
      const flavour: Flavour = c.flavour ?? (c.name === 'eks' || c.name === 'openshift' ? c.name : 'plain');
      const cRegion = c.region ?? region;
      const issuer = c.issuer ?? defaultIssuer(flavour, cRegion);
      const jwksUri =
        c.jwksUri ??
        (flavour === 'eks' ? `${issuer}/keys` : flavour === 'openshift' ? `${issuer}/keys.json` : `https://127.0.0.1:${port}/openid/v1/jwks`);
      const apiAudiences = [
        ...new Set([issuer, 'https://kubernetes.default.svc', 'sts.amazonaws.com', 'openshift', ...(c.apiAudiences ?? [])]),
      ];
      const dir = join(workDir, c.name);
      mkdirSync(dir, { recursive: true });
      const server = `https://127.0.0.1:${port}`;
      // The API server's traffic to nodes (kubelet: port-forward, exec, logs) goes through the
      // cluster network stand-in, which routes it to this cluster's kwok.
      const egressConfig = join(dir, 'egress-selector.yaml');
      writeFileSync(egressConfig, egressSelectorConfig(join(dir, 'cluster-network.sock')));
      const info: ClusterInfo = {
        name: c.name,
        context: opts.shortContexts ? c.name : contextName(c.name, flavour, cRegion),
        flavour,
        server,
        issuer,
        jwksUri,
        region: cRegion,
        apiAudiences,
        kubeconfig: join(workDir, `kubeconfig-${c.name}.yaml`),
        controllerKubeconfig: join(workDir, `kubeconfig-${c.name}-controller.yaml`),
        auditLogPath: join(dir, 'audit.log'),
        etcdPrefix: `/registry-${c.name}`,
        serviceAccountPublicKey: keys.publicKey,
        kubeletPort: kubeletPorts[i]!,
      };
      clusters[c.name] = info;
      const start = () => {
        const st = apiState.get(c.name)!;
        const issuers = st.issuers;
        return track(
          new Proc(
            `kube-apiserver[${c.name}]`,
            paths.kubeApiserver,
            [
              `--etcd-servers=${etcdUrl}`,
              `--etcd-prefix=${info.etcdPrefix}`,
              '--bind-address=127.0.0.1',
              '--advertise-address=127.0.0.1',
              `--secure-port=${port}`,
              `--cert-dir=${join(dir, 'generated-certs')}`,
              `--tls-cert-file=${serving.cert}`,
              `--tls-private-key-file=${serving.key}`,
              `--client-ca-file=${ca.cert}`,
              '--authorization-mode=Node,RBAC',
              ...issuers.map((x) => `--service-account-issuer=${x}`),
              `--service-account-jwks-uri=${jwksUri}`,
              ...st.publicKeys.map((k) => `--service-account-key-file=${k}`),
              `--service-account-signing-key-file=${st.signingKey}`,
              `--api-audiences=${[...new Set([...apiAudiences, ...issuers])].join(',')}`,
              '--service-cluster-ip-range=10.96.0.0/16',
              '--allow-privileged=true',
              '--endpoint-reconciler-type=none',
              `--audit-policy-file=${auditPolicy}`,
              `--audit-log-path=${info.auditLogPath}`,
              `--egress-selector-config-file=${egressConfig}`,
              '--audit-log-format=json',
              '--audit-log-mode=blocking',
              '--profiling=false',
              '--v=1',
            ],
            join(logDir, `kube-apiserver-${c.name}.log`),
          ),
        );
      };
      apiState.set(c.name, { issuers: [issuer], signingKey: keys.privateKey, publicKeys: [keys.publicKey], rotations: 0, start });
      apiProcs.push(start());
    });
    networks.push(...(await Promise.all(
      Object.values(clusters).map((c) => startClusterNetwork(join(workDir, c.name, 'cluster-network.sock'), c.kubeletPort)),
    )));
    await Promise.all(
      clusterOpts.map(async (c, i) => {
        const info = clusters[c.name]!;
        await waitFor(
          `kube-apiserver ${c.name} to be ready (${info.server}/readyz)`,
          async () => (await httpsGet(`${info.server}/readyz`, tls)).status === 200,
          apiProcs[i],
          timeoutMs,
          250,
        );
        // The bootstrap controller creates the `default` namespace right after start.
        await waitFor(
          `namespace default in ${c.name}`,
          async () => (await httpsGet(`${info.server}/api/v1/namespaces/default`, tls)).status === 200,
          apiProcs[i],
          Math.min(timeoutMs, 30_000),
          200,
        );
      }),
    );
    lap('kube-apiservers', t);
    await motoReady;
    if (withAws) {
      // Each issuer's public URLs (its discovery document and keys, served from its API server), which
      // STS (the gate) and rhacs-sts fetch as they would from the internet.
      // In-cluster issuers (OpenShift without STS: https://kubernetes.default.svc) resolve nowhere on the internet.
      const issuers = new Map(
        Object.values(clusters)
          .filter((c) => !isPrivateIssuerHost(new URL(c.issuer).hostname))
          .map((c) => [c.issuer, { server: c.server, ...tls }]),
      );
      const regions = [...new Set([region, ...Object.values(clusters).map((c) => c.region)])];
      publicIssuers = await startPublicIssuers({ certDir, issuers, s3: { motoUrl, regions } });
      // EKS Auth (gate-eks.ts) reviews Pod Identity tokens on the EKS clusters' API servers as its own user.
      const eksAuth = issueCert(ca, certDir, 'eks-auth', { cn: EKS_AUTH_USER, groups: ['system:masters'], usage: 'client' });
      const eksTls = { ca: readFileSync(ca.cert), cert: readFileSync(eksAuth.cert), key: readFileSync(eksAuth.key) };
      const eksClusters = Object.values(clusters)
        .filter((c) => c.flavour === 'eks')
        .map((c) => ({ name: c.name, region: c.region, issuer: c.issuer, server: c.server, tls: eksTls }));
      proxy = await startAwsGate({ target: { host: '127.0.0.1', port: motoPort }, region, web: publicIssuers, eksClusters });
    }

    // --- kubeconfigs ------------------------------------------------------------------------------
    const caData = pemData(ca.cert);
    const adminCertData = pemData(admin.cert);
    const adminKeyData = pemData(admin.key);
    const awsCli = installAwsCliStandIn(
      workDir,
      Object.values(clusters).filter((c) => c.flavour === 'eks').map((c) => ({ region: c.region, name: c.name })),
    );
    // This process (seeding, demos) runs the EKS users' exec plugin too: the stand-in comes first.
    process.env.PATH = pathWith(awsCli.binDir);
    const kubeconfigFor = (list: ClusterInfo[], user?: { cert: string; key: string; suffix: string }) =>
      toYaml(kubeconfigDocument(list, caData, user ?? { cert: adminCertData, key: adminKeyData }));
    for (const c of Object.values(clusters)) {
      writeFileSync(c.kubeconfig, kubeconfigFor([c]), { mode: 0o600 });
    }
    const combined = join(workDir, 'kubeconfig.yaml');
    writeFileSync(combined, kubeconfigFor(Object.values(clusters)), { mode: 0o600 });

    // --- controller-manager, scheduler and kwok per cluster ----------------------------------------
    t = Date.now();
    await startControlPlanes({
      host: controlPlaneHost(logDir, track),
      workDir,
      ca,
      certDir,
      clusters: Object.values(clusters),
      serviceAccountKeys: saKeys,
      binaries: { kubeControllerManager: paths.kubeControllerManager, kubeScheduler: paths.kubeScheduler, kwok: paths.kwok },
      timeoutMs,
    });
    lap('controllers', t);

    const awsEndpoint = proxy?.url ?? '';
    const awsEnv: AwsEnv = {
      AWS_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: region,
      RHACS_STS_CONNECT_TO: publicIssuers?.connectTo ?? '',
      NODE_EXTRA_CA_CERTS: publicIssuers?.caCertPath ?? '',
    };
    const info: SandboxInfo = {
      workDir,
      certDir,
      caCertPath: ca.cert,
      caKeyPath: ca.key,
      adminCertPath: admin.cert,
      adminKeyPath: admin.key,
      kubeconfig: combined,
      clusters,
      motoUrl: withAws ? motoUrl : '',
      awsEndpoint,
      counterUrl: proxy ? `${proxy.url}/_sandbox` : '',
      awsEnv,
      publicIssuers: { url: publicIssuers?.url ?? '', caCertPath: publicIssuers?.caCertPath ?? '', connectTo: publicIssuers?.connectTo ?? '' },
      accountId: MOTO_ACCOUNT_ID,
      awsCliDir: awsCli.binDir,
      awsCliLog: awsCli.callLog,
    };
    lap('total', t0);
    log(
      `started in ${(timings.total ?? 0).toFixed(1)}s (` +
        Object.entries(timings)
          .filter(([k]) => k !== 'total')
          .map(([k, v]) => `${k} ${v.toFixed(1)}s`)
          .join(', ') +
        `): ${Object.values(clusters)
          .map((c) => `${c.name} ${c.server}`)
          .join(', ')}${withAws ? `, moto ${motoUrl} via ${awsEndpoint}` : ''}`,
    );

    return {
      info,
      timings,
      kubeConfig: (cluster?: string) => kubeConfigFor(info, cluster),
      reset: () => resetAws(info),
      awsMark: () => proxy?.mark() ?? 0,
      awsRequests: (since = 0) => proxy?.requests(since) ?? [],
      kubeMark: (cluster: string) => kubeMark(info, cluster),
      kubeRequests: (cluster: string, since = 0, filter: KubeRequestFilter = {}) => kubeRequests(info, cluster, since, filter),
      restartApiServer: async (cluster: string, change: { issuers?: string[]; rotateSigningKey?: boolean }) => {
        const st = apiState.get(cluster);
        const c = clusters[cluster];
        if (!st || !c) throw new Error(`no sandbox cluster ${cluster}`);
        if (change.issuers && !change.issuers.length) throw new Error('restartApiServer: at least one issuer');
        if (change.issuers) st.issuers = [...change.issuers];
        if (change.rotateSigningKey) {
          const next = createServiceAccountKeys(certDir, `${cluster}-r${++st.rotations}`);
          st.signingKey = next.privateKey;
          st.publicKeys = [next.publicKey, ...st.publicKeys];
        }
        const old = state.procs.filter((p) => p.name === `kube-apiserver[${cluster}]` && p.running);
        await Promise.all(old.map((p) => p.stop()));
        state.procs = state.procs.filter((p) => !old.includes(p));
        const proc = st.start();
        await waitFor(`kube-apiserver ${cluster} to be ready after the restart`, async () => (await httpsGet(`${c.server}/readyz`, tls)).status === 200, proc, timeoutMs, 250);
        c.issuer = st.issuers[0]!;
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

