// A ready-to-use sandbox for people (npm run sandbox) and demos: one cluster of the chosen flavour,
// seeded with that flavour and a RHACS install; its controller-manager, scheduler and kwok run the
// rollouts.
import { seedEks, seedOpenShift, seedRhacs, type InstallMethod, type RhacsComponent, type RhacsSeedResult } from './fixtures.js';
import { clusterInfo } from './observe.js';
import { startSandbox, type Sandbox, type SandboxOptions } from './sandbox.js';
import type { ClusterInfo, SandboxInfo } from './types.js';

export type DemoFlavour = 'eks' | 'openshift';

export interface SeededSandboxOptions {
  flavour?: DemoFlavour;
  /** Namespace of the RHACS install (default `stackrox`). */
  namespace?: string;
  /** Install method (default: helm on EKS, operator on OpenShift). */
  method?: InstallMethod;
  components?: RhacsComponent[];
  /** Image tag / product version of the seeded install. */
  imageTag?: string;
  log?: (message: string) => void;
  /** Passed to startSandbox (e.g. `handleSignals: false` when the caller handles Ctrl-C). */
  sandbox?: Omit<SandboxOptions, 'clusters' | 'log'>;
}

export interface SeededSandbox {
  sandbox: Sandbox;
  info: SandboxInfo;
  cluster: ClusterInfo;
  rhacs: RhacsSeedResult;
  /** KUBECONFIG plus the AWS variables, pointing kubectl, the aws CLI and rhacs-sts at the sandbox. */
  env: Record<string, string>;
  /** `export NAME=value` lines for a POSIX shell, one per variable. */
  exportLines: string[];
  stop(): Promise<void>;
}

/** Quotes a value for a POSIX shell only when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function startSeededSandbox(opts: SeededSandboxOptions = {}): Promise<SeededSandbox> {
  const flavour = opts.flavour ?? 'eks';
  const namespace = opts.namespace ?? 'stackrox';
  const log = opts.log ?? ((m: string) => process.stderr.write(`[sandbox] ${m}\n`));
  const sandbox = await startSandbox({ ...opts.sandbox, clusters: [{ name: flavour, flavour }], log });
  try {
    const cluster = clusterInfo(sandbox.info, flavour);
    const kc = sandbox.kubeConfig(flavour);
    if (flavour === 'eks') await seedEks(kc, { region: cluster.region });
    else await seedOpenShift(kc, { issuer: cluster.issuer, region: cluster.region });
    const rhacs = await seedRhacs(kc, {
      namespace,
      method: opts.method ?? (flavour === 'openshift' ? 'operator' : 'helm'),
      components: opts.components,
      openshift: flavour === 'openshift',
      imageTag: opts.imageTag,
      clusterName: flavour,
    });
    // AWS_DEFAULT_REGION too: botocore (aws CLI v1, boto3) reads only that one.
    const env: Record<string, string> = {
      KUBECONFIG: cluster.kubeconfig,
      ...sandbox.info.awsEnv,
      AWS_DEFAULT_REGION: sandbox.info.awsEnv.AWS_REGION,
    };
    const exportLines = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    return {
      sandbox,
      info: sandbox.info,
      cluster,
      rhacs,
      env,
      exportLines,
      async stop() {
        await sandbox.stop();
      },
    };
  } catch (err) {
    await sandbox.stop().catch(() => undefined);
    throw err;
  }
}
