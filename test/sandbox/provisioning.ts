// Where the sandbox's binaries and moto's virtualenv live, their versions (read from the wrapper Go
// modules in go/, as provision.sh does), and provisioning them.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (two levels above test/sandbox). */
export const PROJECT_ROOT = resolve(here, '../..');

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
