/**
 * The entry point and the one error boundary: every error becomes a message on stderr and an
 * exit code. No stack traces for errors we expected; --verbose shows them for the rest.
 */
import { buildProgram, CommanderError, commanderExit } from './cli.js';
import { ExitCode, isInputError, isRhacsStsError } from './errors.js';
import { createConsoleUi, colorLevel } from './ui/ui.js';
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
  const writeErr = (s: string) => void p.stderr.write(s);
  const program = buildProgram({
    env: p.env,
    makeUi: (o) => createConsoleUi({ stdout: p.stdout, stderr: p.stderr, stdinIsTTY: p.stdinIsTTY, env: p.env, quiet: o.quiet, verbose: o.verbose }),
    writeOut: (s) => void p.stdout.write(s),
    writeErr,
  });
  const c = new Chalk({ level: colorLevel(p.stderr, p.env) });
  try {
    await program.parseAsync(p.argv.slice(2), { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExit(err) as number;
    if (isInputError(err)) {
      writeErr(`${c.red('error:')} invalid input${err.problems.length > 1 ? ` (${err.problems.length} problems)` : ''}\n`);
      for (const pr of err.problems) writeErr(`  ${c.bold(pr.source)}: ${pr.message}\n`);
      if (err.hint) writeErr(`${c.dim('hint:')} ${err.hint}\n`);
      return err.exitCode;
    }
    if (isRhacsStsError(err)) {
      if (err.exitCode === ExitCode.Cancelled) {
        writeErr(`${err.message}\n`);
        return err.exitCode;
      }
      writeErr(`${c.red('error:')} ${err.message}\n`);
      if (err.hint) writeErr(`${c.dim('hint:')} ${err.hint}\n`);
      if (verbose(p) && err.cause instanceof Error) writeErr(`${c.dim(err.cause.stack ?? String(err.cause))}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    writeErr(`${c.red('error:')} unexpected failure: ${e?.message ?? String(err)}\n`);
    if (verbose(p)) writeErr(`${e?.stack ?? ''}\n`);
    else writeErr(`${c.dim('hint:')} run again with --verbose for details, and report it if it persists.\n`);
    return ExitCode.Failed;
  }
}

function verbose(p: Process): boolean {
  return p.argv.includes('--verbose') || p.env.RHACS_STS_VERBOSE === 'true' || p.env.RHACS_STS_VERBOSE === '1';
}

/** Runs the CLI for the current process and sets the exit code (never calls process.exit). */
export async function run(): Promise<void> {
  // We pin SDK versions that support Node 20 and say so in engines; the SDK's own notice about
  // future releases is noise on every run of a CLI. A user's explicit setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `rhacs-sts … | head` closes the pipe early: that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
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
