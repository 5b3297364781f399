/**
 * The small interface through which the core talks to a person. The core never imports a prompt
 * library, a spinner or `console`; commands receive a Ui. Results go to stdout, everything else
 * (progress, warnings, errors) to stderr.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { CancelledError } from '../errors.js';

export interface Ui {
  /** Result text or JSON, to stdout. */
  result(text: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Progress of a step; shown unless --quiet. */
  step(message: string): void;
  /** Diagnostics shown with --verbose only. Callers must never pass secrets. */
  debug(message: string): void;
  /** Colours for the result stream (no-ops without a TTY or with NO_COLOR). */
  readonly colors: ChalkInstance;
  /** Colours for the log stream. */
  readonly logColors: ChalkInstance;
  /** True when a person can answer prompts: stdin and stderr are terminals. */
  readonly interactive: boolean;
  /** Asks a yes/no question (only called when interactive). Ctrl-C throws CancelledError. */
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

export interface StreamLike {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ConsoleUiOptions {
  stdout: StreamLike;
  stderr: StreamLike;
  stdinIsTTY: boolean;
  env: Record<string, string | undefined>;
  quiet?: boolean;
  verbose?: boolean;
}

export function colorLevel(stream: StreamLike, env: Record<string, string | undefined>): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return 1;
  if (!stream.isTTY || env.TERM === 'dumb') return 0;
  return env.COLORTERM === 'truecolor' ? 3 : 1;
}

export function createConsoleUi(o: ConsoleUiOptions): Ui {
  const colors = new Chalk({ level: colorLevel(o.stdout, o.env) });
  const logColors = new Chalk({ level: colorLevel(o.stderr, o.env) });
  const line = (s: string) => o.stderr.write(`${s}\n`);
  return {
    colors,
    logColors,
    interactive: o.stdinIsTTY && o.stderr.isTTY === true,
    result: (text) => o.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    info: (m) => { if (!o.quiet) line(m); },
    warn: (m) => line(`${logColors.yellow('warning:')} ${m}`),
    step: (m) => { if (!o.quiet) line(`${logColors.dim('›')} ${m}`); },
    debug: (m) => { if (o.verbose) line(logColors.dim(`[debug] ${m}`)); },
    confirm: async (message, defaultValue) => {
      const { confirm } = await import('@inquirer/prompts');
      try {
        return await confirm({ message, default: defaultValue }, { output: o.stderr as NodeJS.WritableStream });
      } catch (err) {
        if ((err as Error)?.name === 'ExitPromptError' || (err as Error)?.name === 'AbortPromptError') throw new CancelledError();
        throw err;
      }
    },
  };
}
