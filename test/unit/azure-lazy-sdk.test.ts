// The Azure SDK is loaded only when a run needs Azure: inside src/clouds/azure/ it is imported for
// types or with import(), never with a static value import (which would load it with the module).
// That no other folder imports it at all is architecture.test.ts's guard.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const AZURE = resolve(import.meta.dirname, '../../src/clouds/azure');

/** `file: module` for each static import of an @azure/ package that brings a value. */
function staticValueImports(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of sf.statements) {
    if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || !s.moduleSpecifier || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    if (!s.moduleSpecifier.text.startsWith('@azure/')) continue;
    if (ts.isImportDeclaration(s)) {
      const c = s.importClause;
      const typeOnly = c !== undefined && (c.isTypeOnly || (!c.name && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push(`${file}: ${s.moduleSpecifier.text}`);
    } else if (!s.isTypeOnly) out.push(`${file}: ${s.moduleSpecifier.text}`);
  }
  return out;
}

describe('the Azure SDK is loaded on demand', () => {
  it('src/clouds/azure/ imports @azure/* only as types or with import()', () => {
    const files = readdirSync(AZURE).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('session.ts');
    expect(readFileSync(join(AZURE, 'session.ts'), 'utf8')).toContain("import('@azure/arm-msi')");
    expect(files.flatMap((f) => staticValueImports(f, readFileSync(join(AZURE, f), 'utf8')))).toEqual([]);
  });

  it.each([
    ['a value import', `import { ClientSecretCredential } from '@azure/identity';`, 1],
    ['a side-effect import', `import '@azure/arm-msi';`, 1],
    ['a re-export', `export { ManagedServiceIdentityClient } from '@azure/arm-msi';`, 1],
    ['a type-only import', `import type { TokenCredential } from '@azure/identity';`, 0],
    ['type-only names', `import { type TokenCredential } from '@azure/identity';`, 0],
    ['an import()', `export const load = () => import('@azure/identity');`, 0],
  ])('sees %s', (_, text, found) => {
    expect(staticValueImports('x.ts', text)).toHaveLength(found);
  });
});
