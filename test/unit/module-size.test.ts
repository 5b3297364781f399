// A cloud's folder stays in rooms a reader can take in: no module of src/clouds/aws/ over about 450
// lines (the session and the issuer publishing are split by concern to stay under it).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
const MAX_LINES = 450;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `file: lines` for each source longer than the bound. */
function oversized(sources: Map<string, string>, max = MAX_LINES): string[] {
  return [...sources].map(([file, text]) => [file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0)] as const).filter(([, n]) => n > max).map(([file, n]) => `${file}: ${n}`);
}

describe('module size', () => {
  it(`keeps every module of src/clouds/aws/ within ${MAX_LINES} lines`, () => {
    const sources = new Map(files(join(SRC, 'clouds/aws')).map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));
    expect(sources.has('clouds/aws/client.ts')).toBe(true);
    expect(oversized(sources)).toEqual([]);
  });

  it('names a module over the bound (the check can fail)', () => {
    const long = `${'const x = 1;\n'.repeat(MAX_LINES + 1)}`;
    const short = `${'const x = 1;\n'.repeat(MAX_LINES)}`;
    expect(oversized(new Map([['clouds/aws/big.ts', long], ['clouds/aws/small.ts', short]]))).toEqual([`clouds/aws/big.ts: ${MAX_LINES + 1}`]);
  });
});
