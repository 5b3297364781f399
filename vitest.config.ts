import { defineConfig } from 'vitest/config';

// The SDK's notice about its future Node requirement is noise in test output.
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

// Three projects: `unit` (pure code and in-memory fakes, no servers), `standins` (the sandbox's
// stand-ins tested against their contracts, each test starting its own) and `integration`
// (the real local sandbox: moto for IAM/STS, kube-apiserver + etcd), started once per run
// by the integration project's global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          env,
        },
      },
      {
        // The sandbox's own tests, beside the stand-ins they hold to their contracts: in-process
        // servers on 127.0.0.1 that each test starts and stops itself (no shared sandbox).
        test: {
          name: 'standins',
          include: ['test/sandbox/**/*.test.ts'],
          environment: 'node',
          env,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          env,
          globalSetup: ['test/sandbox/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One sandbox is shared; files run one at a time so state resets stay meaningful.
          fileParallelism: false,
          // Worker threads end when their files are done, even with keep-alive sockets to the API
          // servers still open in the Kubernetes client; forked workers would hold vitest's exit
          // for its 10 s close timeout.
          pool: 'threads',
        },
      },
    ],
  },
});
