// The sandbox's processes: each server in its own process group with its output in a log file,
// bounded readiness waits, and cleanup when this process exits, is interrupted, or is killed
// outright (a detached reaper). Shared by every room that starts a server binary.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneHost } from './kube/controllers.js';

export class Proc {
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

export interface LiveSandbox {
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

/**
 * Registers a sandbox's processes and temp dirs for cleanup on exit, on a signal (when it handles
 * signals) and, through a detached reaper, when this process is killed outright.
 */
export function registerSandbox(state: LiveSandbox, tempDir: string | undefined): void {
  live.add(state);
  installHandlers();
  state.reaper = startReaper();
  if (tempDir) state.reaper?.stdin?.write(`dir ${tempDir}\n`);
}

/** Adds a started process to its sandbox (and to the reaper's list). */
export function trackProcess(state: LiveSandbox, p: Proc): Proc {
  state.procs.push(p);
  if (p.pid) state.reaper?.stdin?.write(`pg ${p.pid}\n`);
  return p;
}

/** After an orderly stop: the reaper stands down, and the handlers go when no sandbox is left. */
export function releaseSandbox(state: LiveSandbox): void {
  state.reaper?.stdin?.end('done\n');
  live.delete(state);
  uninstallHandlersIfIdle();
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

export async function freePorts(n: number): Promise<number[]> {
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
export async function waitFor(
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

/** What a readiness probe reads of an answer: at most this much of its body. */
const MAX_PROBE_BODY = 1024 * 1024;

/**
 * One bounded GET for the readiness probes, over http or https as the URL says; `tls` gives the
 * CA and the client certificate (or `rejectUnauthorized: false` for a self-signed component).
 */
export function httpGet(
  url: string,
  opts: { tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  const get = new URL(url).protocol === 'https:' ? https.get : http.get;
  return new Promise((resolveGet, reject) => {
    const req = get(url, { ...opts.tls, timeout: opts.timeoutMs ?? 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > MAX_PROBE_BODY) req.destroy(new Error(`${url} answered with more than ${MAX_PROBE_BODY} bytes`));
      });
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The process launcher and bounded waits, lent to kube/controllers.ts. */
export function controlPlaneHost(logDir: string, track: (p: Proc) => Proc): ControlPlaneHost {
  return {
    start: (name, command, args, logName, env) => track(new Proc(name, command, args, join(logDir, logName), env)),
    waitFor: (what, probe, proc, ms, intervalMs) => waitFor(what, probe, proc as Proc | undefined, ms, intervalMs),
    freePorts,
    // The components serve /healthz with a self-signed certificate (their --cert-dir).
    httpsOk: (url) => httpGet(url, { tls: { rejectUnauthorized: false } }).then((r) => r.status === 200, () => false),
  };
}
