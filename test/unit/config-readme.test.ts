// The README's options table lists every flag with its environment variable and config-file key,
// exactly as OPTION_SPECS defines them. When a flag changes, paste the table this test prints.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKey, OPTION_SPECS } from '../../src/options/options.js';

const MARKER = '<!-- options table: generated from OPTION_SPECS (test/unit/config-readme.test.ts checks it) -->';

function expectedTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = OPTION_SPECS.map((s) => {
    const four = ['init', 'plan', 'verify', 'uninstall', 'status'] as const;
    const names = s.commands.filter((c) => !four.every((f) => s.commands.includes(f)) || !(four as readonly string[]).includes(c)).map((c) => c.replace('-', ' '));
    const commands = four.every((f) => s.commands.includes(f)) ? ['all', ...names].join(', ') : names.join(', ');
    const key = s.key === 'config' ? '—' : `\`${configKey(s)}\``;
    const flags = s.negation ? `${esc(s.flags)}\`, \`${s.flags.replace(/^--/, '--no-')}` : esc(s.flags);
    const what = s.negation ? `${esc(s.description)}. \`${s.flags.replace(/^--/, '--no-')}\`: ${esc(s.negation)}` : esc(s.description);
    return `| \`${flags}\` | \`${s.env}\` | ${key} | ${commands} | ${what} |`;
  });
  return ['| flag | environment variable | config key | commands | what it does |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('has the options table generated from OPTION_SPECS', () => {
    const at = readme.indexOf(MARKER);
    expect(at, 'the README lost the options-table marker').toBeGreaterThan(0);
    const table = readme.slice(at + MARKER.length).trimStart().split('\n\n')[0]!.trimEnd();
    expect(table).toBe(expectedTable());
  });

  it('keeps two set-up commands, the first being the demo', () => {
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## Try it without a cloud account'));
    expect([...setup.matchAll(/```sh\n(.*)\n```/g)].map((m) => m[1])).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });
});
