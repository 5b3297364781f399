// Bundles src/ into dist/ with esbuild: one ESM entry plus lazily loaded chunks, so that
// `--help` and `--version` never load the AWS or Kubernetes SDKs.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  packages: 'external',
  define: { __VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
