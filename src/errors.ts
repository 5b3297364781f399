/**
 * Typed errors. Every error that reaches the entry point carries an exit code and, where we
 * know it, a hint that names the fix. Only `main.ts` turns them into a process exit code.
 */

export const ExitCode = {
  Ok: 0,
  Failed: 1,
  InvalidInput: 2,
  VerifyFailed: 3,
  Cancelled: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Marks our errors so the entry point recognises them even when they come from another copy of
 * this module (the command chunks are loaded separately from the entry bundle).
 */
export const ERROR_BRAND = Symbol.for('rhacs-sts.error');

export class RhacsStsError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly [ERROR_BRAND] = true;

  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.Failed;
    this.hint = options.hint;
  }
}

/** One problem with one input; `source` names the flag (or config key / prompt) that fixes it. */
export interface InputProblem {
  source: string;
  message: string;
}

/** Invalid input or usage: all problems found, reported together. Exit code 2. */
export class InputError extends RhacsStsError {
  readonly problems: InputProblem[];
  /** The output format the input asked for, when it could be read (a config file's `output: json`). */
  output?: 'json';

  constructor(problems: InputProblem[], hint?: string) {
    super(
      problems.length === 1
        ? `Invalid input: ${problems[0]!.source}: ${problems[0]!.message}`
        : `Invalid input (${problems.length} problems)`,
      { exitCode: ExitCode.InvalidInput, hint },
    );
    this.problems = problems;
  }
}

/**
 * Detection found an OpenShift cluster on another cloud than the run's (its Infrastructure object
 * says so, and --cloud did not): the command hands the run over to that cloud, or, where it cannot,
 * this is the input error naming the flags to use. Exit code 2.
 */
export class CloudHandOverError extends InputError {
  /** The cloud the cluster runs on (`gcp`, `azure`). */
  readonly handOverTo: 'aws' | 'gcp' | 'azure';
  constructor(cloud: 'aws' | 'gcp' | 'azure', message: string) {
    super([{ source: '--cloud', message }]);
    this.handOverTo = cloud;
  }
}

/** The cloud a run is handed over to (see CloudHandOverError), or undefined for any other error. */
export function handOverCloud(err: unknown): 'aws' | 'gcp' | 'azure' | undefined {
  return (err as { handOverTo?: 'aws' | 'gcp' | 'azure' } | null)?.handOverTo;
}

/** Something we tried to do against AWS or Kubernetes failed. Exit code 1. */
export class OperationError extends RhacsStsError {
  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: ExitCode } = {}) {
    super(message, { exitCode: options.exitCode ?? ExitCode.Failed, hint: options.hint, cause: options.cause });
  }
}

/** The user interrupted (Ctrl-C at a prompt: nothing was changed; or during apply, after the current step). Exit code 130. */
export class CancelledError extends RhacsStsError {
  constructor(message = 'Cancelled. Nothing was changed.', hint?: string) {
    super(message, { exitCode: ExitCode.Cancelled, hint });
  }
}

/**
 * The user answered "no" to the confirmation: not an interrupt, and not a success either (what was
 * asked for was not done). Exit code 1; nothing was changed.
 */
export class DeclinedError extends RhacsStsError {
  readonly declined = true;
  constructor(message = 'Not applied: the confirmation was declined. Nothing was changed.') {
    super(message, { exitCode: ExitCode.Failed });
  }
}

/** `verify` found a broken link in the chain. Exit code 3. */
export class VerifyFailedError extends RhacsStsError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.VerifyFailed, hint });
  }
}

/** Collects input problems so that all of them are reported at once. */
export class ProblemList {
  readonly problems: InputProblem[] = [];

  add(source: string, message: string): void {
    this.problems.push({ source, message });
  }

  get empty(): boolean {
    return this.problems.length === 0;
  }

  throwIfAny(hint?: string): void {
    if (!this.empty) throw new InputError(this.problems, hint);
  }
}

/** True for any RhacsStsError, from whichever copy of this module it was thrown. */
export function isRhacsStsError(err: unknown): err is RhacsStsError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[ERROR_BRAND] === true;
}

export function isInputError(err: unknown): err is InputError {
  return isRhacsStsError(err) && Array.isArray((err as InputError).problems);
}
