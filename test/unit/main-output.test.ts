/** The entry point's error report, in process: what reaches stdout and stderr for bad input. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';

const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main({
    argv: ['node', 'rhacs-sts', ...args],
    env: { NO_COLOR: '1', ...env },
    stdout: { write: (s: string) => { stdout += s; return true; } } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => { stderr += s; return true; } } as unknown as NodeJS.WritableStream,
    stdinIsTTY: false,
  });
  return { code, stdout, stderr };
}

describe('bad input at the entry point', () => {
  it('a config file with output: json makes the input error one JSON document on stdout', async () => {
    const config = join(dir, 'json.yaml');
    writeFileSync(config, 'output: json\naccount-id: "12"\n');
    const r = await run(['init', '--config', config]);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { exitCode: number; problems: { source: string; message: string }[]; output?: unknown } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.problems).toEqual([{ source: `${config}: account-id`, message: expect.stringMatching(/not an AWS account id/) }]);
    expect(doc.error).not.toHaveProperty('output');
    expect(r.stderr).toMatch(/account-id: "12" is not an AWS account id/);
  });

  it('shows a flag value with escape sequences escaped, on stderr and in the JSON document', async () => {
    const r = await run(['init', '--output', 'json', '--role-name', '\x1b]0;PWNED\x07\x1b[2J']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).not.toMatch(/[\x07\x1b]/);
    expect(r.stderr).toContain('--role-name: "\\u001b]0;PWNED\\u0007\\u001b[2J" has characters IAM does not allow');
    expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toContain('\u001b]0;PWNED');
  });

  it('says which commands take an option given to one that does not', async () => {
    const r = await run(['plan', '--bucket', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bucket'/);
    expect(r.stderr).toMatch(/--bucket is an option of init and issuer publish, not of plan/);
    expect(r.stderr).not.toMatch(/Did you mean --quiet/);
  });
});
