// Task lines at a terminal wrap to its width (nothing is cut), and the live region erases exactly
// the rows it drew, so a redraw never leaves half a line behind or eats a line above it.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { createConsoleUi, visibleLength, wrapToWidth } from '../../src/ui/ui.js';

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('wrapToWidth', () => {
  it('keeps a line that fits as it is', () => {
    expect(wrapToWidth('✓ Create the IAM role r', 40)).toEqual(['✓ Create the IAM role r']);
  });

  it('breaks at spaces, indents continuation rows under the text, and loses no word', () => {
    const line = '✓ Trust system:serviceaccount:stackrox:central (audience sts.amazonaws.com) to assume the role with a web identity';
    const rows = wrapToWidth(line, 40);
    expect(rows.length).toBeGreaterThan(2);
    for (const r of rows) expect(visibleLength(r)).toBeLessThanOrEqual(40);
    for (const r of rows.slice(1)) expect(r).toMatch(/^ {2}\S/);
    expect(rows.map((r) => r.trim()).join(' ')).toBe(line);
    expect(rows[0]).toBe('✓ Trust');
    expect(rows[1]).toBe('  system:serviceaccount:stackrox:central');
  });

  it('hard-breaks a word longer than the row, and keeps every character', () => {
    const arn = `arn:aws:iam::123456789012:oidc-provider/${'x'.repeat(70)}`;
    const rows = wrapToWidth(`    ✓ rollout ${arn}`, 30);
    for (const r of rows) expect(visibleLength(r)).toBeLessThanOrEqual(30);
    for (const r of rows.slice(1)) expect(r.startsWith('      ')).toBe(true);
    expect(rows.map((r) => r.trim()).join('').replace('rollout', 'rollout ')).toBe(`✓ rollout ${arn}`);
  });

  it('does not count colour codes, and keeps them', () => {
    const c = new Chalk({ level: 1 });
    const line = `${c.green('✓')} Grant read-only ECR access to all repositories ${c.dim('(already in place)')}`;
    const rows = wrapToWidth(line, 30);
    for (const r of rows) expect(visibleLength(r)).toBeLessThanOrEqual(30);
    expect(strip(rows.join('\n'))).toBe('✓ Grant read-only ECR access\n  to all repositories (already\n  in place)');
    expect(rows.join('')).toContain('\x1b[2m');
  });
});

describe('the live region at a terminal', () => {
  it('wraps long task lines and erases as many rows as it drew', () => {
    let out = '';
    const stderr = { isTTY: true, columns: 41, write: (s: string) => { out += s; return true; } };
    const ui = createConsoleUi({ stdout: { write: () => true }, stderr, stdinIsTTY: true, env: { TERM: 'xterm' } });
    const region = ui.live()!;
    const long = '✓ Restart central so that new pods get the role (EKS injects credentials at pod creation) and wait until ready';
    region.update([long, '· short']);
    const first = out;
    const rows = first.replace(/\n$/, '').split('\n');
    expect(rows.length).toBeGreaterThan(3);
    for (const r of rows) expect(visibleLength(r)).toBeLessThanOrEqual(40);
    expect(rows.map((r) => r.trim()).join(' ')).toBe(`${long} · short`);
    out = '';
    region.update(['✓ done']);
    // Up as many rows as were drawn, then clear to the end of the screen, then the new rows.
    expect(out).toBe(`\x1b[${rows.length}A\r\x1b[J✓ done\n`);
    region.done();
  });
});
