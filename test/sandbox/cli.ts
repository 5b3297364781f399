// Running the built binary against the sandbox from a test: the sandbox's AWS endpoint and fake
// credentials, a cluster's kubeconfig, no colour, no RHACS_STS_* leaking in from the environment.
import { execFile } from 'node:child_process';
import type { SandboxInfo } from './types.js';

export type Cluster = 'eks' | 'openshift' | 'gke' | 'aks' | 'openshift-azure' | 'openshift-gcp';

/** One cluster's kubeconfig, or the combined one with every context (`all`). */
export type Target = Cluster | 'all';

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs bin/rhacs-sts with the sandbox's AWS endpoint and the cluster's kubeconfig (bounded in time). */
export function cli(sb: SandboxInfo, cluster: Target, args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const kubeconfig = cluster === 'all' ? sb.kubeconfig : sb.clusters[cluster]!.kubeconfig;
  const env: Record<string, string | undefined> = { ...process.env };
  // The caller's own RHACS_STS_* settings must not leak in; the test's extraEnv may set them.
  for (const k of Object.keys(env)) if (k.startsWith('RHACS_STS_')) delete env[k];
  Object.assign(env, sb.awsEnv, { KUBECONFIG: kubeconfig, NO_COLOR: '1' }, extraEnv);
  return new Promise((resolve) => {
    execFile('bin/rhacs-sts', args, { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

