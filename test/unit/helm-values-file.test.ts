/** --helm-values-out on disk: whole files or none, links refused, a replaced file said, owner-only. */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHelmValues } from '../../src/apply/helm-values.js';
import type { Plan } from '../../src/plan/model.js';
import { createMemoryUi } from '../../src/ui/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-hv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = {
  command: 'init',
  helmValues: [{ release: 'stackrox-central-services', chart: 'stackrox-central-services', namespace: 'stackrox', values: { customize: { a: 1 } } }],
} as unknown as Plan;

describe('Helm values files', () => {
  it('writes a new file readable by its owner only, and leaves no temporary file', () => {
    const ui = createMemoryUi();
    const out = join(dir, 'new', 'values.yaml');
    const [f] = writeHelmValues(plan, { helmValuesOut: out }, ui)!;
    expect(readFileSync(f!.file, 'utf8')).toContain('customize:');
    expect(statSync(f!.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'new'))).toEqual(['values.stackrox-central-services.yaml']);
    expect(ui.stderr.join('\n')).toContain(`Wrote the Helm values for release stackrox-central-services to ${f!.file}.`);
  });

  it('says when it replaces a file', () => {
    const ui = createMemoryUi();
    const file = join(dir, 'old.stackrox-central-services.yaml');
    writeFileSync(file, 'mine: true\n');
    writeHelmValues(plan, { helmValuesOut: join(dir, 'old.yaml') }, ui);
    expect(readFileSync(file, 'utf8')).not.toContain('mine: true');
    expect(ui.stderr.join('\n')).toContain(`Replaced the Helm values for release stackrox-central-services in ${file} (its previous content is gone).`);
  });

  it('refuses to write through a symbolic link, leaving its target as it was', () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'precious\n');
    const link = join(dir, 'link.stackrox-central-services.yaml');
    symlinkSync(target, link);
    expect(() => writeHelmValues(plan, { helmValuesOut: join(dir, 'link.yaml') }, createMemoryUi())).toThrow(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(target)).toBe(true);
  });
});
