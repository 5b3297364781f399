import { describe, expect, it } from 'vitest';
import { printable, redact, serverText } from '../../src/render/safe-text.js';
import { createConsoleUi } from '../../src/ui/ui.js';

describe('printable', () => {
  it('escapes C0 and C1 control characters visibly, keeping newlines and tabs', () => {
    expect(printable('a\x1b]0;PWNED\x07\x1b[2Jb')).toBe('a\\u001b]0;PWNED\\u0007\\u001b[2Jb');
    expect(printable('x\ry\x9b31mz\x7f')).toBe('x\\u000dy\\u009b31mz\\u007f');
    expect(printable('line 1\n\tline 2')).toBe('line 1\n\tline 2');
    expect(printable('safe\u202egnp.exe')).toBe('safe\\u202egnp.exe');
  });

  it('keeps colour sequences only when asked (where we colour the output ourselves)', () => {
    expect(printable('\x1b[31merror\x1b[39m', { keepColors: true })).toBe('\x1b[31merror\x1b[39m');
    expect(printable('\x1b[31merror\x1b[39m')).toBe('\\u001b[31merror\\u001b[39m');
    expect(printable('\x1b[2J\x1b]0;t\x07', { keepColors: true })).toBe('\\u001b[2J\\u001b]0;t\\u0007');
  });
});

describe('redact', () => {
  it.each([
    ['an echoed Authorization header', 'request had Authorization: Basic YWRtaW46c2VjcmV0 and more', 'Authorization: [redacted]'],
    ['a Basic credential on its own', 'got "Basic YWRtaW46c2VjcmV0"', 'Basic [redacted]'],
    ['a Bearer token', 'headers: bearer abc.def-123', 'bearer [redacted]'],
    ['a JWT', 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl was rejected', 'token [redacted] was rejected'],
    ['a password in a query', '/v1/login?user=admin&password=hunter2&x=1', 'password=[redacted]&x=1'],
    ['a token in JSON', '{"apiToken": "s3cr3t-t0ken", "ok": true}', '"apiToken": "[redacted]"'],
    ['a ROX_API_TOKEN assignment', 'env ROX_API_TOKEN=abcdef0123', 'ROX_API_TOKEN=[redacted]'],
    ['a password in a URL', 'proxy https://admin:hunter2@central.example.com/ failed', 'https://admin:[redacted]@central.example.com/'],
  ])('redacts %s', (_what, text, shows) => {
    const out = redact(text);
    expect(out).toContain(shows);
    expect(out).not.toMatch(/YWRtaW46|hunter2|s3cr3t|abcdef0123|abc\.def-123|c2lnbmF0dXJl/);
  });

  it('leaves ordinary text about credentials alone', () => {
    for (const s of [
      'ROX_API_TOKEN: cannot be used together with ROX_ADMIN_PASSWORD (a token or a password, as roxctl takes them): unset one',
      'the service-account token: could not be requested',
      'set ROX_API_TOKEN (or ROX_API_TOKEN_FILE), a bearer token',
      'Basic authentication failed',
    ]) expect(redact(s)).toBe(s);
  });

  it('serverText redacts and escapes', () => {
    expect(serverText('denied: Authorization: Basic YWRtaW46eA==\x1b[2J')).toBe('denied: Authorization: [redacted]');
    expect(serverText('denied (Basic YWRtaW46eA==)\x1b[2J')).toBe('denied (Basic [redacted])\\u001b[2J');
  });
});

describe('the console Ui prints values safely', () => {
  function capture(isTTY: boolean) {
    const out: string[] = [];
    const err: string[] = [];
    const ui = createConsoleUi({
      stdout: { write: (s: string) => out.push(s), isTTY },
      stderr: { write: (s: string) => err.push(s), isTTY },
      stdinIsTTY: false, env: isTTY ? { FORCE_COLOR: '1' } : {},
    });
    return { ui, out, err };
  }

  it('escapes control characters in every line and redacts credentials, on stdout and stderr', () => {
    const { ui, out, err } = capture(false);
    ui.info('role \x1b]0;PWNED\x07\x1b[2J');
    ui.warn('Central said: Authorization: Basic YWRtaW46c2VjcmV0');
    ui.step('cluster \x9b2J');
    ui.result('Plan for role \x1b[2Jx');
    const all = err.join('') + out.join('');
    expect(all).not.toMatch(/[\x07\x1b\x9b]/);
    expect(all).toContain('role \\u001b]0;PWNED\\u0007\\u001b[2J');
    expect(all).toContain('Authorization: [redacted]');
    expect(all).not.toContain('YWRtaW46');
  });

  it('keeps its own colours at a colour terminal, and escapes everything else', () => {
    const { ui, err } = capture(true);
    ui.warn('x\x1b[2J');
    const text = err.join('');
    expect(text).toMatch(/\x1b\[33mwarning:\x1b\[39m/);
    expect(text).toContain('x\\u001b[2J');
  });
});
