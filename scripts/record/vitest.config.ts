// The integration project's settings, with every CLI run of the chosen test files recorded (capture.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    environment: 'node',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    globalSetup: ['test/sandbox/global-setup.ts'],
    setupFiles: ['scripts/record/capture.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'threads',
  },
});
