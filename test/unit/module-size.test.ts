// The source stays in rooms a reader can take in: no module of src/ over 450 lines, and no function
// over 120 lines (measured with the TypeScript compiler, from the function's first line to its last,
// inner functions included). Functions longer than that today are listed below with their length
// then, as a ceiling: none may grow, a new one may not join, and an entry that is no longer needed
// must go (so the list only shrinks).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
const MAX_LINES = 450;
const MAX_FUNCTION_LINES = 120;

/**
 * `file: function` → its length when this guard was written. Each is a whole command's or
 * screen's flow in one body, to be split into named steps by whoever next works in its file.
 */
const LONG_FUNCTIONS: Record<string, number> = {
  // The check runner: every check of verify in one function.
  'verify/run.ts: runChecks': 249,
  // The cloud-neutral plan: every action and blocker for init.
  'plan/build.ts: buildPlan': 201,
  // Applying a plan: AWS, Kubernetes, restarts and their reporting.
  'apply/apply.ts: applyPlan': 189,
  // The terminal UI: one closure holding every output and prompt method.
  'ui/ui.ts: createConsoleUi': 180,
  // The uninstall plan's cloud-neutral half.
  'plan/uninstall.ts: buildUninstallPlan': 160,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const sources = (): Map<string, string> => new Map(files(SRC).map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));

/** `file: lines` for each source longer than the bound. */
function oversized(sources: Map<string, string>, max = MAX_LINES): string[] {
  return [...sources].map(([file, text]) => [file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0)] as const).filter(([, n]) => n > max).map(([file, n]) => `${file}: ${n}`);
}

/** The name a function is known by: its own, or the variable, property or method it is assigned to. */
function functionName(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  const own = node.name?.getText(sf);
  if (own) return own;
  const p = node.parent;
  if ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText(sf);
  return `<anonymous at line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}>`;
}

/** `file: function` → lines, for each function with a body longer than `max` lines. */
function longFunctions(sources: Map<string, string>, max = MAX_FUNCTION_LINES): Map<string, number> {
  const long = new Map<string, number>();
  for (const [file, text] of sources) {
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const fn = node as ts.FunctionLikeDeclaration;
        const lines = sf.getLineAndCharacterOfPosition(fn.getEnd()).line - sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line + 1;
        if (lines > max) long.set(`${file}: ${functionName(fn, sf)}`, lines);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return long;
}

/** What is wrong with the functions found against the allow-list: new ones, grown ones, stale entries. */
function functionProblems(found: Map<string, number>, allowed: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [name, lines] of found) {
    const ceiling = allowed[name];
    if (ceiling === undefined) problems.push(`${name} has ${lines} lines (at most ${MAX_FUNCTION_LINES}): split it into named steps`);
    else if (lines > ceiling) problems.push(`${name} grew to ${lines} lines (allowed ${ceiling} while it waits to be split)`);
  }
  for (const name of Object.keys(allowed)) if (!found.has(name)) problems.push(`${name} is within ${MAX_FUNCTION_LINES} lines now (or gone): remove it from LONG_FUNCTIONS`);
  return problems;
}

describe('module size', () => {
  it(`keeps every module of src/ within ${MAX_LINES} lines`, () => {
    const all = sources();
    expect(all.has('clouds/aws/client.ts')).toBe(true);
    expect(all.has('main.ts')).toBe(true);
    expect(oversized(all)).toEqual([]);
  });

  it('names a module over the bound (the check can fail)', () => {
    const long = `${'const x = 1;\n'.repeat(MAX_LINES + 1)}`;
    const short = `${'const x = 1;\n'.repeat(MAX_LINES)}`;
    expect(oversized(new Map([['clouds/aws/big.ts', long], ['clouds/aws/small.ts', short]]))).toEqual([`clouds/aws/big.ts: ${MAX_LINES + 1}`]);
  });
});

describe('function length', () => {
  it(`keeps every function of src/ within ${MAX_FUNCTION_LINES} lines, but for the listed ones, which do not grow`, () => {
    const found = longFunctions(sources());
    expect(found.size).toBeGreaterThan(0);
    expect(functionProblems(found, LONG_FUNCTIONS)).toEqual([]);
  });

  it('measures declarations, arrows and methods, and names new, grown and stale entries (the check can fail)', () => {
    const body = (n: number) => '  x++;\n'.repeat(n);
    const text = [
      `export function declared() {\n${body(MAX_FUNCTION_LINES - 2)}}`,
      `export const arrow = () => {\n${body(MAX_FUNCTION_LINES - 1)}};`,
      `export const ui = { show(): void {\n${body(MAX_FUNCTION_LINES)}} };`,
      'export function short() {\n  return 1;\n}',
    ].join('\n');
    const found = longFunctions(new Map([['x.ts', text]]));
    // `declared` has exactly the bound; the object literal `ui` is no function, its method `show` is.
    expect([...found]).toEqual([['x.ts: arrow', MAX_FUNCTION_LINES + 1], ['x.ts: show', MAX_FUNCTION_LINES + 2]]);
    expect(functionProblems(found, { 'x.ts: show': MAX_FUNCTION_LINES + 1, 'x.ts: gone': 200 })).toEqual([
      `x.ts: arrow has ${MAX_FUNCTION_LINES + 1} lines (at most ${MAX_FUNCTION_LINES}): split it into named steps`,
      `x.ts: show grew to ${MAX_FUNCTION_LINES + 2} lines (allowed ${MAX_FUNCTION_LINES + 1} while it waits to be split)`,
      `x.ts: gone is within ${MAX_FUNCTION_LINES} lines now (or gone): remove it from LONG_FUNCTIONS`,
    ]);
  });
});
