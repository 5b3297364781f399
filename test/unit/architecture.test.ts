// A cloud is one folder: its SDK is imported (statically, as a type, or with import()) only by the
// modules under src/clouds/<cloud>/. Import cycles are checked in ./import-cycles.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
/** Parsing every source is a few seconds on a busy machine: a bound for that, not a measure of speed. */
const SCAN_TIMEOUT_MS = 60_000;

/** Each cloud's SDK packages, and the folder under src/ that alone may import them. */
const SDKS = [
  { folder: 'clouds/aws/', packages: /^@(aws-sdk|smithy)\// },
  { folder: 'clouds/gcp/', packages: /^(@googleapis\/|googleapis$|googleapis\/|google-auth-library($|\/))/ },
  { folder: 'clouds/azure/', packages: /^@azure\// },
] as const;

/** The pipeline's rooms, which reach a cloud or a platform only through its registry. */
const PIPELINE = /^(steps|commands)\//;
/** The registries: the one door into src/clouds/<id>/ and src/platforms/<id>/. */
const REGISTRIES = new Set(['clouds/registry.ts', 'platforms/registry.ts', 'clouds/types.ts', 'platforms/types.ts']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a source imports: import/export … from, import x = require(), import(), require(), typeof import(). */
function importsOf(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const literal = (n: ts.Node | undefined) => {
    if (n && ts.isStringLiteralLike(n)) found.push(n.text);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) literal(n.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) literal(n.moduleReference.expression);
    else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) literal(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) literal(n.argument.literal);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** `file imports module` for each SDK import outside the folder of the cloud it belongs to (paths relative to src/, with /). */
function misplacedSdkImports(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    for (const spec of importsOf(file, text)) {
      const sdk = SDKS.find((s) => s.packages.test(spec));
      if (sdk && !file.startsWith(sdk.folder)) out.push(`${file} imports ${spec}`);
    }
  }
  return out;
}

/** Where process.env may be read: the entry point and the options room, which pass what they read in. */
const ENV_READERS = [/^main\.ts$/, /^cli\.ts$/, /^options\//];
/** Modules that may still touch process.env, each with its reason. */
const ENV_ALLOWED: Record<string, string> = {
  // Writes (never reads) a setting the AWS SDK reads when its first client is made; it must sit beside
  // the SDK so that a module importing a client directly gets it too.
  'clouds/aws/sdk-env.ts': 'sets the SDK\'s Node-version notice off before any client exists',
};

/** `file: line` for each use of process.env (property access or the object itself) outside the modules allowed. */
function envReadsOutsideEntry(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (ENV_READERS.some((r) => r.test(file)) || file in ENV_ALLOWED) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const visit = (n: ts.Node): void => {
      // process.env, process['env'], and a destructured `const { env } = process`.
      const isProcess = (e: ts.Node) => ts.isIdentifier(e) && e.text === 'process';
      const hit = (ts.isPropertyAccessExpression(n) && isProcess(n.expression) && n.name.text === 'env')
        || (ts.isElementAccessExpression(n) && isProcess(n.expression) && ts.isStringLiteralLike(n.argumentExpression) && n.argumentExpression.text === 'env')
        || (ts.isVariableDeclaration(n) && n.initializer && isProcess(n.initializer) && ts.isObjectBindingPattern(n.name)
          && n.name.elements.some((e) => (e.propertyName ?? e.name).getText(sf) === 'env'));
      if (hit) out.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

/** `file imports target` (both relative to src/) for each import from steps/ or commands/ into a cloud or platform folder, not through its registry. */
function pipelineImportsPastRegistry(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (!PIPELINE.test(file)) continue;
    for (const spec of importsOf(file, text)) {
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (/^(clouds|platforms)\//.test(target) && !REGISTRIES.has(target)) out.push(`${file} imports ${target}`);
    }
  }
  return out;
}

let cached: Map<string, string> | undefined;
function srcSources(): Map<string, string> {
  return cached ??= new Map(files(SRC).map((f) => [relative(SRC, f).split(sep).join('/'), readFileSync(f, 'utf8')]));
}

describe('architecture', () => {
  it('imports each cloud SDK only inside that cloud\'s folder', () => {
    const sources = srcSources();
    expect(sources.size).toBeGreaterThan(30);
    // The scan sees the SDK where it belongs (it is not looking at nothing).
    const inside = [...sources].filter(([f]) => f.startsWith('clouds/aws/')).flatMap(([f, t]) => importsOf(f, t));
    expect(inside).toContain('@aws-sdk/client-iam');
    expect(inside).toContain('@aws-sdk/client-s3');
    expect(inside).toContain('@smithy/node-http-handler');
    expect(misplacedSdkImports(sources)).toEqual([]);
  }, SCAN_TIMEOUT_MS);

  it.each([
    ['a static import', `import { IAMClient } from '@aws-sdk/client-iam';`],
    ['a type-only import', `import type { STSClient } from '@aws-sdk/client-sts';`],
    ['a re-export', `export { NodeHttpHandler } from '@smithy/node-http-handler';`],
    ['an import()', `export async function load() { return (await import('@aws-sdk/client-s3')).S3Client; }`],
    ['a typeof import()', `let sdk: typeof import('@aws-sdk/client-eks') | undefined;`],
    ['a require()', `const { SignatureV4 } = require('@smithy/signature-v4');`],
    ['a side-effect import', `import '@aws-sdk/client-ecr';`],
  ])('finds %s of an SDK outside its cloud\'s folder (the check can fail)', (_what, text) => {
    const sources = new Map([['plan/build.ts', text], ['clouds/aws/client.ts', text], ['clouds/awsome/x.ts', text]]);
    const found = misplacedSdkImports(sources);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^plan\/build\.ts imports @(aws-sdk|smithy)\//);
    expect(found[1]).toMatch(/^clouds\/awsome\/x\.ts imports /);
  });

  it.each([
    ['Google\'s per-API client', `import { iam } from '@googleapis/iam';`],
    ['the googleapis bundle', `import { google } from 'googleapis';`],
    ['Google\'s auth library', `const { GoogleAuth } = await import('google-auth-library');`],
    ['an Azure client', `import { ManagedServiceIdentityClient } from '@azure/arm-msi';`],
    ['Azure\'s identity library', `import type { TokenCredential } from '@azure/identity';`],
  ])('finds %s outside its cloud\'s folder (the check can fail)', (_what, text) => {
    const sources = new Map([['steps/plan.ts', text], ['clouds/aws/client.ts', text], ['clouds/gcp/iam.ts', text], ['clouds/azure/msi.ts', text]]);
    const found = misplacedSdkImports(sources);
    // Outside any cloud, and in the other cloud's folder: both are misplaced; in its own, it is not.
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^steps\/plan\.ts imports /);
    expect(found[1]).toMatch(/^clouds\/aws\/client\.ts imports /);
    expect(found[2]).toMatch(/^clouds\/(gcp|azure)\/.* imports /);
  });

  it('has steps/ and commands/ reach clouds and platforms only through the registries', () => {
    const sources = srcSources();
    // The scan sees the pipeline's imports of the registry (it is not looking at nothing).
    const pipeline = [...sources].filter(([f]) => PIPELINE.test(f));
    expect(pipeline.length).toBeGreaterThan(5);
    expect(pipeline.flatMap(([f, t]) => importsOf(f, t))).toContain('../clouds/registry.js');
    expect(pipelineImportsPastRegistry(sources)).toEqual([]);
  }, SCAN_TIMEOUT_MS);

  it.each([
    ['a static import of a cloud folder', 'steps/plan.ts', `import { buildTrust } from '../clouds/gcp/plan.js';`, 'steps/plan.ts imports clouds/gcp/plan.ts'],
    ['an import() of a cloud folder', 'commands/verify.ts', `const m = await import('../clouds/aws/verify/trust-eval.js');`, 'commands/verify.ts imports clouds/aws/verify/trust-eval.ts'],
    ['a platform folder', 'steps/deliver/apply.ts', `import { gke } from '../../platforms/gke/index.js';`, 'steps/deliver/apply.ts imports platforms/gke/index.ts'],
  ])('finds %s from the pipeline past the registry (the check can fail)', (_what, file, text, expected) => {
    const sources = new Map([[file, text], ['steps/ok.ts', `import { loadCloud } from '../clouds/registry.js';\nimport { platform } from '../platforms/registry.js';`], ['plan/build.ts', text]]);
    expect(pipelineImportsPastRegistry(sources)).toEqual([expected]);
  });

  it('leaves other packages and relative imports alone', () => {
    const text = `import { KubeConfig } from '@kubernetes/client-node';\nimport { x } from './aws-sdk.js';\nconst s = '@aws-sdk/client-iam';`;
    expect(misplacedSdkImports(new Map([['kube/client.ts', text]]))).toEqual([]);
  });

  it('reads process.env only at the entry point and in src/options/', () => {
    const sources = srcSources();
    // The scan sees the reads where they belong (it is not looking at nothing).
    expect(envReadsOutsideEntry(new Map([...sources].filter(([f]) => f === 'main.ts')))).toEqual([]);
    expect(sources.get('main.ts')).toMatch(/process\.env/);
    for (const file of Object.keys(ENV_ALLOWED)) expect(sources.get(file), file).toMatch(/process\.env/);
    expect(envReadsOutsideEntry(sources)).toEqual([]);
  }, SCAN_TIMEOUT_MS);

  it.each([
    ['a property read', `const k = process.env.KUBECONFIG;`],
    ['the whole object as a default', `export function f(env = process.env) { return env; }`],
    ['an element access', `const p = process['env'].AWS_PROFILE;`],
    ['a destructuring', `const { env } = process;`],
  ])('finds %s of process.env below the entry point (the check can fail)', (_what, text) => {
    const sources = new Map([['kube/client.ts', text], ['options/options.ts', text], ['main.ts', text], ['commands/issuer.ts', `// process.env is not read here\nconst s = 'process.env';`]]);
    expect(envReadsOutsideEntry(sources)).toEqual(['kube/client.ts:1']);
  });
});
