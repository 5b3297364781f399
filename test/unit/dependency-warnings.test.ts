// A dependency's raw deprecation notice is never what a user reads: the entry point drops the ones
// only a dependency triggers (node-fetch's url.parse() on Node 24), and src/ never triggers them itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropDependencyDeprecations } from '../../src/main.js';

const SRC = resolve(import.meta.dirname, '../../src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('dependency deprecation notices', () => {
  function capture() {
    const seen: unknown[][] = [];
    const p = { emitWarning: ((...a: unknown[]) => void seen.push(a)) as NodeJS.Process['emitWarning'] };
    dropDependencyDeprecations(p);
    return { p, seen };
  }

  it('drops DEP0169 in both of emitWarning\'s call shapes', () => {
    const { p, seen } = capture();
    p.emitWarning('`url.parse()` behavior is not standardized', 'DeprecationWarning', 'DEP0169');
    p.emitWarning('`url.parse()` behavior is not standardized', { type: 'DeprecationWarning', code: 'DEP0169' });
    expect(seen).toEqual([]);
  });

  it('passes every other warning on unchanged', () => {
    const { p, seen } = capture();
    p.emitWarning('Buffer() is deprecated', 'DeprecationWarning', 'DEP0005');
    p.emitWarning('something odd', { type: 'Warning', code: 'X1' });
    p.emitWarning('plain');
    expect(seen).toEqual([
      ['Buffer() is deprecated', 'DeprecationWarning', 'DEP0005'],
      ['something odd', { type: 'Warning', code: 'X1' }],
      ['plain'],
    ]);
  });

  it('src/ parses URLs with the WHATWG API only (no url.parse, no legacy url import)', () => {
    const offenders = files(SRC).filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /\burl\.parse\(|import\s+(?:\*\s+as\s+)?\w+\s+from\s+'(?:node:)?url'|import\s*\{[^}]*\bparse\b[^}]*\}\s*from\s+'(?:node:)?url'/.test(text);
    });
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });
});
