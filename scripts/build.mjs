// Builds dist/ with esbuild in three parts, for a fast start:
//  - dist/quick.cjs and dist/help/: --version and every --help, from text made here (src/quick.ts), which bin/rhacs-sts
//    tries first, so that they load nothing else;
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
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __VERSION__: JSON.stringify(pkg.version) };
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// Modules the entry imports lazily: they live in the ESM part, reached by a real import().
const LAZY = /^\.\/(commands\/[a-z-]+|options\/config-file|prompt-kit)\.js$/;
const LAZY_ENTRIES = ['src/commands/init.ts', 'src/commands/verify.ts', 'src/commands/uninstall.ts', 'src/commands/status.ts', 'src/commands/completion.ts', 'src/commands/issuer.ts', 'src/options/config-file.ts', 'src/ui/prompt-kit.ts'];

const K8S = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/;
// Packages whose modules have no side effects but do not say so: only what is used is bundled.
const SIDE_EFFECT_FREE = /[\\/]node_modules[\\/](@kubernetes[\\/]client-node|@inquirer[\\/]prompts)[\\/]/;
const K8S_CONFIG = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/;

/** Every `<api>.<method>(` call of the Kubernetes API classes in src (api.core.readNamespacedServiceAccount, …). */
function kubeMethodsCalled() {
  const names = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) {
        for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/\.(?:core|apps|custom|apis|wellKnown|openid)\.([A-Za-z]+)\(/g)) names.add(m[1]);
      }
    }
  };
  walk('src');
  return names;
}
const KUBE_METHODS = kubeMethodsCalled();
const kept = new Set();

/**
 * The generated API classes have a method (and a WithHttpInfo twin) for every operation of their
 * API group, hundreds in CoreV1 alone; a bundle cannot tree-shake class methods. The methods src
 * does not call are cut from the classes' source before bundling (constructors and everything
 * else stay), and the build fails if a method src calls is not found.
 */
function keepCalledMethods(source, file) {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const cuts = [];
  for (const st of sf.statements) {
    if (!ts.isClassDeclaration(st)) continue;
    for (const m of st.members) {
      if (!ts.isMethodDeclaration(m) || !m.name || !ts.isIdentifier(m.name)) continue;
      const op = m.name.text.replace(/WithHttpInfo$/, '');
      if (KUBE_METHODS.has(op)) kept.add(op);
      else cuts.push([m.getFullStart(), m.getEnd()]);
    }
  }
  let out = '';
  let at = 0;
  for (const [from, to] of cuts) {
    out += source.slice(at, from);
    at = to;
  }
  return out + source.slice(at);
}
const GENERATED_API = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/](apis[\\/][A-Za-z0-9]+Api|types[\\/](ObservableAPI|ObjectParamAPI))\.js$/;
const GEN = resolve('node_modules/@kubernetes/client-node/dist/gen');
const MODELS = join(GEN, 'models');

/** The generated API sources, methods cut, by path (computed once: the model list below needs them). */
const trimmedApi = new Map();
for (const dir of ['apis', 'types']) {
  for (const f of readdirSync(join(GEN, dir))) {
    const path = join(GEN, dir, f);
    if (GENERATED_API.test(path)) trimmedApi.set(path, keepCalledMethods(readFileSync(path, 'utf8'), path));
  }
}

/**
 * The models the kept methods (de)serialize, and every model those refer to: the serializer's type
 * table keeps only these, instead of importing all seven hundred (the others are never looked up).
 */
function modelsUsed() {
  const all = new Set(readdirSync(MODELS).filter((f) => f.endsWith('.js') && f !== 'ObjectSerializer.js' && f !== 'all.js').map((f) => f.slice(0, -3)));
  const names = (text) => [...text.matchAll(/"([^"]*)"/g)].flatMap((m) => m[1].match(/[A-Z][A-Za-z0-9]*/g) ?? []).filter((n) => all.has(n));
  const used = new Set();
  const queue = [...trimmedApi.values()].flatMap((src) => [...src.matchAll(/ObjectSerializer\.(?:de)?serialize\([^;]*?\)/g)].flatMap((m) => names(m[0])));
  while (queue.length) {
    const n = queue.pop();
    if (used.has(n)) continue;
    used.add(n);
    queue.push(...names(readFileSync(join(MODELS, `${n}.js`), 'utf8')));
  }
  return used;
}
const MODELS_USED = modelsUsed();

/** ObjectSerializer with only the models used imported and in its type table. */
function trimSerializer(source) {
  let dropped = 0;
  const out = source
    .replace(/^import \{ ([A-Za-z0-9]+) \} from '\.\.\/models\/\1\.js';\n/gm, (line, name) => (MODELS_USED.has(name) ? line : (dropped++, '')))
    .replace(/^ {4}"([A-Za-z0-9]+)": \1,\n/gm, (line, name) => (MODELS_USED.has(name) ? line : ''));
  if (dropped === 0) throw new Error('ObjectSerializer.js no longer looks as expected: update trimSerializer in scripts/build.mjs');
  return out;
}

/**
 * What the bundle leaves out of the Kubernetes client:
 * - the generated API classes keep only the methods src calls, and the serializer only the models
 *   those methods use (keepCalledMethods, modelsUsed above);
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
    b.onLoad({ filter: GENERATED_API }, (args) => ({ contents: trimmedApi.get(args.path) ?? keepCalledMethods(readFileSync(args.path, 'utf8'), args.path), loader: 'js' }));
    b.onLoad({ filter: /[\\/]client-node[\\/]dist[\\/]gen[\\/]models[\\/]ObjectSerializer\.js$/ }, (args) => ({ contents: trimSerializer(readFileSync(args.path, 'utf8')), loader: 'js' }));
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
  // google-auth-library's CommonJS re-export of gaxios does not survive bundling (its namespace comes
  // out without `gaxios`): loaded from node_modules, and only by a Google run.
  external: ['google-auth-library'],
  metafile: true,
  define,
  logLevel: 'warning',
});

// ./commands/init.js from src/cli.ts → ./esm/commands/init.js; ./prompt-kit.js from src/ui/ui.ts → ./esm/ui/prompt-kit.js
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onResolve({ filter: LAZY }, (args) => {
      const rel = relative(resolve('src'), resolve(args.resolveDir, args.path)).split(sep).join('/');
      return { path: `./esm/${rel}`, external: true };
    });
  },
};
const FRONT = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define,
  // Inline the small front-end dependencies; keep the heavy ones (and the lazy commands) outside.
  external: ['@aws-sdk/*', '@kubernetes/*', '@inquirer/*', 'yaml', 'diff'],
  plugins: [lazyModules],
  logLevel: 'warning',
};

await build({ ...FRONT, entryPoints: ['src/main.ts'], outfile: 'dist/main.cjs', minify: true, sourcemap: 'linked' });

/**
 * dist/quick.cjs answers --version and every --help without loading dist/main.cjs (src/quick.ts):
 * the help texts are commander's, taken here from the program the CLI builds.
 */
const layoutsFile = resolve('dist/help-layouts.tmp.cjs');
await build({
  ...FRONT,
  stdin: { contents: "export { buildProgram } from './src/cli.ts'; export { helpLayouts } from './src/help-layout.ts';", resolveDir: resolve('.'), loader: 'ts' },
  outfile: layoutsFile,
});
const { buildProgram, helpLayouts } = createRequire(import.meta.url)(layoutsFile);
rmSync(layoutsFile);
const noOutput = () => undefined;
const layouts = helpLayouts(buildProgram({ env: {}, makeUi: () => { throw new Error('not at build time'); }, writeOut: noOutput, writeErr: noOutput }));
// One file per command path (dist/help/init.json, issuer-publish.json, rhacs-sts.json for the
// program): --help reads only its own, and dist/quick.cjs holds just the code and this index.
mkdirSync('dist/help', { recursive: true });
const helpFiles = {};
for (const [path, layout] of Object.entries(layouts)) {
  helpFiles[path] = `${path ? path.split(' ').join('-') : 'rhacs-sts'}.json`;
  writeFileSync(join('dist/help', helpFiles[path]), JSON.stringify(layout));
}
if (new Set(Object.values(helpFiles)).size !== Object.keys(helpFiles).length) throw new Error(`two commands share a help file: ${Object.values(helpFiles).join(', ')}`);
await build({
  entryPoints: ['src/quick.ts'],
  outfile: 'dist/quick.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  define: { __QUICK_INDEX__: JSON.stringify({ version: pkg.version, helpFiles }) },
  logLevel: 'warning',
});

const missing = [...KUBE_METHODS].filter((m) => !kept.has(m));
if (missing.length) throw new Error(`src calls Kubernetes API methods the generated classes do not have: ${missing.join(', ')}`);

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
  const startUpClient = (f) => !!outputs[f] && ['src/clouds/aws/client.ts', 'src/kube/client.ts'].some((src) => outputs[f].inputs[src]);
  for (const i of outputs[file].imports) if (i.kind === 'import-statement' || startUpClient(i.path)) queue.push(i.path);
}
for (const src of ['src/clouds/aws/client.ts', 'src/kube/client.ts']) {
  if (![...reached].some((o) => outputs[o].inputs[src])) throw new Error(`the start-up path check did not reach ${src}`);
}
const UNWANTED = /node_modules[\\/](openid-client|oauth4webapi|jose|jsonpath-plus|whatwg-url|tr46|ws|string-width)[\\/]/;
for (const file of reached) {
  const bad = Object.keys(outputs[file].inputs).filter((i) => UNWANTED.test(i));
  if (bad.length) throw new Error(`${file} (loaded before the first question) bundles ${bad.slice(0, 3).join(', ')}`);
}
