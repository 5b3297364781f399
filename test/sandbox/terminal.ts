// A real pseudo-terminal for the interactive tests: tmux runs the built binary against the sandbox,
// the test reads the screen and types answers like a person.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One tmux server on a private socket, with one 200×50 window running a command. */
export class Terminal {
  private static count = 0;
  readonly socket = `rhacs-sts-wizard-${process.pid}-${Terminal.count++}`;
  readonly exitFile: string;

  constructor(private readonly dir: string) {
    this.exitFile = join(dir, `${this.socket}.exit`);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
  }

  /** Runs `rhacs-sts <args>` in a clean environment (only what the sandbox needs), recording its exit code. */
  start(args: string[], env: Record<string, string>): void {
    const script = join(this.dir, `${this.socket}.sh`);
    const vars = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: this.dir, ...env };
    writeFileSync(script, [
      `cd ${quote(ROOT)}`,
      `env -i TERM="$TERM" ${Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}`).join(' ')} bin/rhacs-sts ${args.map(quote).join(' ')}`,
      `echo $? > ${quote(this.exitFile)}`,
      // Keep the pane (and its screen) until the test has read it; kill() ends it.
      'sleep 300',
    ].join('\n'));
    const conf = join(this.dir, 'tmux.conf');
    writeFileSync(conf, 'set -g history-limit 20000\n');
    this.tmux('-f', conf, 'new-session', '-d', '-s', 'wizard', '-x', '200', '-y', '50', `sh ${quote(script)}`);
  }

  /** Everything printed so far (history and screen), wrapped lines joined, colours dropped. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-20000', '-t', 'wizard');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'wizard', ...keys);
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'wizard', '-l', text);
  }

  /** Polls the screen until `pattern` shows, at most `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) && Date.now() < deadline; i++) {
      last = this.screen();
      if (pattern.test(last)) return last;
      await sleep(POLL_MS);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} on the screen:\n${last}`);
  }

  /** Waits for the command to end; its exit code. */
  async exitCode(timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) && Date.now() < deadline; i++) {
      if (existsSync(this.exitFile)) {
        const text = readFileSync(this.exitFile, 'utf8').trim();
        if (text) return Number(text);
      }
      await sleep(POLL_MS);
    }
    throw new Error(`rhacs-sts did not exit within ${timeoutMs} ms; screen:\n${this.screen()}`);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}
