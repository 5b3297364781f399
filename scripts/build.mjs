// Builds dist/ with esbuild in two parts, for a fast start:
//  - dist/main.cjs: the entry (argument parsing, validation, help), one minified CommonJS file with
//    its small dependencies inlined — CommonJS because Node starts it measurably faster than a
//    graph of ES modules;
//  - dist/esm/: the commands as ES modules with shared chunks, imported only when a command runs,
//    so `--help` and `--version` never load the AWS or Kubernetes SDKs.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __VERSION__: JSON.stringify(pkg.version) };
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// Modules the entry imports lazily: they live in the ESM part, reached by a real import().
const LAZY = /^\.\/(commands\/[a-z-]+|config-file)\.js$/;

await build({
  entryPoints: ['src/commands/init.ts', 'src/commands/verify.ts', 'src/commands/uninstall.ts', 'src/config-file.ts'],
  outdir: 'dist/esm',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  packages: 'external',
  define,
  logLevel: 'warning',
});

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  define,
  // Inline the small front-end dependencies; keep the heavy ones (and the lazy commands) outside.
  external: ['@aws-sdk/*', '@kubernetes/*', '@inquirer/*', 'ora', 'yaml', 'diff'],
  plugins: [{
    name: 'lazy-commands',
    setup(b) {
      b.onResolve({ filter: LAZY }, (args) => ({ path: args.path.replace(/^\.\//, './esm/'), external: true }));
    },
  }],
  logLevel: 'warning',
});

// The entry's dynamic import() calls must stay real ES module imports.
const out = readFileSync('dist/main.cjs', 'utf8');
for (const m of out.matchAll(/require\("\.\/esm\//g)) throw new Error(`a lazy command was bundled as require() at ${m.index}`);
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
