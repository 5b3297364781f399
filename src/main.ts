/**
 * The entry point and the one error boundary: every error becomes a message on stderr and an
 * exit code. No stack traces for errors we expected; --verbose shows them for the rest.
 */
import { buildProgram, CommanderError, commanderExit } from './cli.js';
import { ExitCode, isInputError, isRhacsStsError } from './errors.js';
import { createConsoleUi, colorLevel } from './ui/ui.js';
import { printable, redact } from './render/safe-text.js';
import { Chalk } from 'chalk';
import { isatty } from 'node:tty';

export interface Process {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdinIsTTY: boolean;
}

export async function main(p: Process): Promise<number> {
  // Messages carry values from flags, files, clusters and servers: printed escaped and redacted.
  const writeErr = (s: string) => void p.stderr.write(printable(redact(s), { keepColors: colorLevel(p.stderr, p.env) > 0 }));
  // With --output json, stdout carries exactly one JSON document in every outcome: when a command
  // fails before writing its own, the error becomes that document.
  let json = wantsJson(p.argv, p.env);
  let wroteOut = false;
  const stdout = {
    write: (s: string) => { wroteOut = true; return p.stdout.write(s); },
    get isTTY() { return p.stdout.isTTY; },
    get columns() { return (p.stdout as { columns?: number }).columns; },
  };
  const program = buildProgram({
    env: p.env,
    makeUi: (o) => {
      json = o.output === 'json';
      return createConsoleUi({ stdout, stderr: p.stderr, stdinIsTTY: p.stdinIsTTY, env: p.env, quiet: o.quiet, verbose: o.verbose });
    },
    writeOut: (s) => void p.stdout.write(s),
    writeErr,
  });
  const c = new Chalk({ level: colorLevel(p.stderr, p.env) });
  const jsonError = (error: { message: string; hint?: string; exitCode: number; problems?: unknown[] }) => {
    if ((json || (error as { output?: string }).output === 'json') && !wroteOut) p.stdout.write(`${printable(redact(JSON.stringify({ error: { ...error, output: undefined } }, null, 2)))}\n`);
    return error.exitCode;
  };
  try {
    await program.parseAsync(p.argv.slice(2), { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      const code = commanderExit(err) as number;
      if (code !== ExitCode.Ok) jsonError({ message: err.message.replace(/^error: /, ''), exitCode: code });
      return code;
    }
    if (isRhacsStsError(err)) {
      jsonError({
        message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode,
        ...(isInputError(err) ? { problems: err.problems, output: err.output } : {}),
      });
    }
    if (isInputError(err)) {
      writeErr(`${c.red('error:')} invalid input${err.problems.length > 1 ? ` (${err.problems.length} problems)` : ''}\n`);
      for (const pr of err.problems) writeErr(`  ${c.bold(pr.source)}: ${pr.message}\n`);
      if (err.hint) writeErr(`${c.dim('hint:')} ${err.hint}\n`);
      return err.exitCode;
    }
    if (isRhacsStsError(err)) {
      // An interrupt, or a declined confirmation: the user's choice, not an error.
      if (err.exitCode === ExitCode.Cancelled || (err as { declined?: boolean }).declined) {
        writeErr(`${err.message}\n`);
        if (err.hint) writeErr(`${c.dim('hint:')} ${err.hint}\n`);
        return err.exitCode;
      }
      writeErr(`${c.red('error:')} ${err.message}\n`);
      if (err.hint) writeErr(`${c.dim('hint:')} ${err.hint}\n`);
      if (verbose(p) && err.cause instanceof Error) writeErr(`${c.dim(err.cause.stack ?? String(err.cause))}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    jsonError({ message: `unexpected failure: ${e?.message ?? String(err)}`, exitCode: ExitCode.Failed });
    writeErr(`${c.red('error:')} unexpected failure: ${e?.message ?? String(err)}\n`);
    if (verbose(p)) writeErr(`${e?.stack ?? ''}\n`);
    else writeErr(`${c.dim('hint:')} run again with --verbose for details, and report it if it persists.\n`);
    return ExitCode.Failed;
  }
}

/** --output json (or -o json, or RHACS_STS_OUTPUT=json) on the command line, before options are parsed. */
function wantsJson(argv: string[], env: Record<string, string | undefined>): boolean {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if ((a === '--output' || a === '-o') && args[i + 1] === 'json') return true;
    if (a === '--output=json' || a === '-ojson') return true;
  }
  return env.RHACS_STS_OUTPUT === 'json';
}

function verbose(p: Process): boolean {
  return p.argv.includes('--verbose') || p.env.RHACS_STS_VERBOSE === 'true' || p.env.RHACS_STS_VERBOSE === '1';
}

/**
 * Deprecation notices that only a dependency triggers and a user cannot act on. node-fetch 2, which
 * @kubernetes/client-node 1.x sends every request through, parses URLs with the legacy `url.parse`; Node 24
 * deprecates that at run time (DEP0169) and would print the notice on every run that reaches a
 * cluster. rhacs-sts itself uses the WHATWG URL API only (a unit test holds src/ to it).
 */
const DEPENDENCY_DEPRECATIONS = new Set(['DEP0169']);

/** Drops the notices above; every other warning is printed as Node prints it. */
export function dropDependencyDeprecations(p: Pick<NodeJS.Process, 'emitWarning'>): void {
  const emit = p.emitWarning;
  p.emitWarning = function emitWarning(this: unknown, warning: string | Error, ...rest: unknown[]) {
    const [typeOrOptions, code] = rest;
    const c = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (typeof c === 'string' && DEPENDENCY_DEPRECATIONS.has(c)) return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as NodeJS.Process['emitWarning'];
}

/** Runs the CLI for the current process and sets the exit code (never calls process.exit). */
export async function run(): Promise<void> {
  // We pin SDK versions that support Node 20 and say so in engines; the SDK's own notice about
  // future releases is noise on every run of a CLI. A user's explicit setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  dropDependencyDeprecations(process);
  // `rhacs-sts … | head` closes the pipe early: that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  // Ctrl-C outside apply (which handles it itself, finishing the step in progress): nothing was changed.
  process.on('SIGINT', () => {
    if (process.listenerCount('SIGINT') > 1) return;
    process.stderr.write('\nInterrupted: nothing was changed.\n');
    process.exit(130);
  });
  process.exitCode = await main({
    argv: process.argv,
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // isatty(0) rather than process.stdin.isTTY: touching process.stdin builds a stream (and loads
    // readline), which costs a noticeable part of start-up for commands that never read input.
    stdinIsTTY: isatty(0),
  });
}
