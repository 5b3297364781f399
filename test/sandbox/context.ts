// Access to the shared sandbox from test files. The integration project's global setup starts it
// and provides its (serialisable) description under the key `sandbox`.
import { beforeAll, inject } from 'vitest';
import { pathWith } from './aws/aws-cli.js';
import { resetAws } from './observe.js';
import type { SandboxInfo } from './types.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

/** The running sandbox's description. Fails loudly outside the integration project. */
export function getSandbox(): SandboxInfo {
  const info = inject('sandbox');
  if (!info?.clusters) {
    throw new Error('no sandbox was provided: run this file in the `integration` project (test/sandbox/global-setup.ts)');
  }
  // The EKS kubeconfig users exec `aws eks get-token`: this process and the CLI runs it starts use
  // the sandbox's stand-in aws (see aws-cli.ts).
  process.env.PATH = pathWith(info.awsCliDir);
  return info;
}

/**
 * getSandbox() plus per-file isolation: before the file's tests, moto's state is wiped so each file
 * starts with an empty AWS account. Kubernetes state is isolated by using a fresh
 * uniqueNamespace() per test (namespaces cannot be deleted without a controller-manager).
 */
export function useSandbox(opts: { resetAws?: boolean } = {}): SandboxInfo {
  const info = getSandbox();
  if (opts.resetAws ?? true) beforeAll(() => resetAws(info));
  return info;
}

export type { SandboxInfo } from './types.js';
