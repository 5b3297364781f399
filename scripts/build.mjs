// Builds dist/ with esbuild in two parts, for a fast start:
//  - dist/main.cjs: the entry (argument parsing, validation, help), one minified CommonJS file with
//    its small dependencies inlined — CommonJS because Node starts it measurably faster than a
//    graph of ES modules;
//  - dist/esm/: the commands and the prompt kit as ES modules with shared chunks,
//    imported only when needed, so `--help` and `--version` never load the AWS or Kubernetes SDKs.
//    Their dependencies are bundled in (tree-shaken) rather than loaded from node_modules: Node
//    resolves, reads and links each file of a package graph on its own, which for the Kubernetes
//    client (over a thousand files) and the AWS SDK cost most of the time before the wizard's
//    first question.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __VERSION__: JSON.stringify(pkg.version) };
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// Modules the entry imports lazily: they live in the ESM part, reached by a real import().
const LAZY = /^\.\/(commands\/[a-z-]+|config-file|prompt-kit)\.js$/;
const LAZY_ENTRIES = ['src/commands/init.ts', 'src/commands/verify.ts', 'src/commands/uninstall.ts', 'src/config-file.ts', 'src/ui/prompt-kit.ts'];

const K8S = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/;
// Packages whose modules have no side effects but do not say so: only what is used is bundled.
const SIDE_EFFECT_FREE = /[\\/]node_modules[\\/](@kubernetes[\\/]client-node|@inquirer[\\/]prompts)[\\/]/;
const K8S_CONFIG = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/;

/**
 * What the bundle leaves out of the Kubernetes client:
 * - its modules are marked free of side effects (they are: classes and functions), so that only
 *   what rhacs-sts uses is kept, not every API group, watch, exec, attach or port-forward (the same
 *   for the prompt kit's index, which would otherwise bring every kind of prompt and an editor);
 * - KubeConfig's Azure, GCP and OIDC authenticators are replaced by stand-ins that load the real
 *   one only for a user that names it (src/kube/lazy-auth.ts);
 * - node-fetch's fallback URL parser (whatwg-url, with a large Unicode table built at load) is
 *   never used on Node, whose URL it takes first: it is replaced by Node's URL.
 */
const trimKubernetesClient = {
  name: 'trim-kubernetes-client',
  setup(b) {
    b.onResolve({ filter: /^\.\/(azure_auth|gcp_auth|oidc_auth)\.js$/ }, (args) => (K8S_CONFIG.test(args.importer)
      ? { path: resolve('src/kube/lazy-auth.ts') }
      : undefined));
    b.onResolve({ filter: /^whatwg-url$/ }, () => ({ path: 'whatwg-url', namespace: 'node-url' }));
    b.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({
      contents: 'export const URL = globalThis.URL; export default { URL };',
      loader: 'js',
    }));
    // What these packages import is kept only where used (an unused import of theirs brings nothing).
    b.onResolve({ filter: /.*/ }, async (args) => {
      const root = /^(@kubernetes\/client-node|@inquirer\/prompts)$/.test(args.path);
      if (args.pluginData === 'trim' || !(root || SIDE_EFFECT_FREE.test(args.importer))) return undefined;
      const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'trim' });
      return r.errors.length || r.external ? r : { ...r, sideEffects: false };
    });
  },
};

const esm = await build({
  entryPoints: LAZY_ENTRIES,
  outdir: 'dist/esm',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Maps of our own code, not of the bundled packages' (they ship their own).
  sourcesContent: false,
  // Less source for Node to read and compile at each start (names kept: errors are told apart by them).
  minify: true,
  keepNames: true,
  // The packages' ES module builds, which tree-shake (the AWS SDK's CommonJS builds do not).
  mainFields: ['module', 'main'],
  // CommonJS packages in an ES module bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __rhacsStsCreateRequire } from 'node:module'; const require = __rhacsStsCreateRequire(import.meta.url);" },
  plugins: [trimKubernetesClient],
  metafile: true,
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
  external: ['@aws-sdk/*', '@kubernetes/*', '@inquirer/*', 'yaml', 'diff'],
  plugins: [{
    name: 'lazy-modules',
    setup(b) {
      // ./commands/init.js from src/cli.ts → ./esm/commands/init.js; ./prompt-kit.js from src/ui/ui.ts → ./esm/ui/prompt-kit.js
      b.onResolve({ filter: LAZY }, (args) => {
        const rel = relative(resolve('src'), resolve(args.resolveDir, args.path)).split(sep).join('/');
        return { path: `./esm/${rel}`, external: true };
      });
    },
  }],
  logLevel: 'warning',
});

// The entry's dynamic import() calls must stay real ES module imports.
const out = readFileSync('dist/main.cjs', 'utf8');
for (const m of out.matchAll(/require\("\.\/esm\//g)) throw new Error(`a lazy command was bundled as require() at ${m.index}`);
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');

// What the wizard loads before its first question (the init command, then the Kubernetes and AWS
// clients it imports) must not bring back what the trimming above leaves out.
const outputs = esm.metafile.outputs;
const reached = new Set();
const queue = ['dist/esm/commands/init.js'];
while (queue.length) {
  const file = queue.shift();
  if (reached.has(file) || !outputs[file]) continue;
  reached.add(file);
  // Static imports, and the clients' dynamic imports (both load before the first question).
  for (const i of outputs[file].imports) if (i.kind === 'import-statement' || /\/client-[A-Z0-9]+\.js$/.test(i.path)) queue.push(i.path);
}
if ([...reached].filter((o) => /\/client-[A-Z0-9]+\.js$/.test(o)).length !== 2) throw new Error('the start-up path check did not find the two client chunks');
const UNWANTED = /node_modules[\\/](openid-client|oauth4webapi|jose|jsonpath-plus|whatwg-url|tr46|ws|string-width)[\\/]/;
for (const file of reached) {
  const bad = Object.keys(outputs[file].inputs).filter((i) => UNWANTED.test(i));
  if (bad.length) throw new Error(`${file} (loaded before the first question) bundles ${bad.slice(0, 3).join(', ')}`);
}
