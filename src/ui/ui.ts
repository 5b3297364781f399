/**
 * The small interface through which the core talks to a person. The core never imports a prompt
 * library, a spinner or `console`; commands receive a Ui. Results go to stdout, everything else
 * (progress, warnings, errors, prompts) to stderr.
 *
 * The prompt kit (@inquirer/prompts) is imported only when a question is first asked
 * (prompt-kit.ts), so that commands which never ask anything do not load it.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { CancelledError, ExitCode, isRhacsStsError } from '../errors.js';
import { printable, redact } from '../render/safe-text.js';

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}

export interface InputQuestion {
  message: string;
  default?: string;
  /** Returns an error sentence for an invalid answer (the question is then asked again), else undefined. */
  validate?: (value: string) => string | undefined;
  /** Offer the way back to the previous question (see AskOptions.back). */
  back?: boolean;
}

export interface AskOptions {
  /**
   * Offer the way back to the previous question: typing "<" at a yes/no or text question, or the
   * "← Back" choice of a list. Taking it throws GoBack, which the question loop catches.
   */
  back?: boolean;
}

/** What a person types at a yes/no or text question to return to the previous question. */
export const BACK_ANSWER = '<';
/** The choice a list offers to return to the previous question. */
export const BACK_CHOICE_NAME = '← Back';
/** The hint shown with a question that can go back. */
export const BACK_HINT = '(< to go back)';

/**
 * Marks GoBack so the question loop recognises it from another copy of this module (the console Ui
 * lives in the entry bundle, the questions in the command chunks).
 */
const GO_BACK_BRAND = Symbol.for('rhacs-sts.go-back');

/** The person asked to return to the previous question: thrown by a prompt, caught by the question loop. */
export class GoBack extends Error {
  readonly [GO_BACK_BRAND] = true;
  constructor() {
    super('back to the previous question');
    this.name = 'GoBack';
  }
}

/** True for GoBack, from whichever copy of this module it was thrown. */
export function isGoBack(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[GO_BACK_BRAND] === true;
}

/**
 * A yes/no answer: y, yes, n or no in any case; empty (Enter) takes the default. Anything else is
 * undefined, and the question is asked again (a prefix match would make "maybe" a no and "nah" too).
 */
export function parseYesNo(answer: string, defaultValue: boolean): boolean | undefined {
  const a = answer.trim().toLowerCase();
  if (a === '') return defaultValue;
  if (a === 'y' || a === 'yes') return true;
  if (a === 'n' || a === 'no') return false;
  return undefined;
}

/** The sentence shown when a yes/no answer is none of the accepted ones. */
export function yesNoProblem(defaultValue: boolean, back?: boolean): string {
  return `answer y or yes, n or no (Enter: ${defaultValue ? 'yes' : 'no'})${back ? `, or ${BACK_ANSWER} to go back` : ''}`;
}

/** Lines of progress redrawn in place (a terminal only). */
export interface LiveRegion {
  update(lines: string[]): void;
  /** Leaves the last lines on screen and releases the region. */
  done(): void;
}

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
  /**
   * The prompts below are only called when `interactive`. Ctrl-C at any of them throws
   * CancelledError (exit 130).
   */
  confirm(message: string, defaultValue: boolean, options?: AskOptions): Promise<boolean>;
  select<T>(message: string, choices: readonly Choice<T>[], defaultValue?: T, options?: AskOptions): Promise<T>;
  input(question: InputQuestion): Promise<string>;
  /**
   * Runs `work` under a spinner (a terminal, not --quiet or --verbose), else announces it as a
   * step. Prompts asked meanwhile pause the spinner.
   */
  spinner<T>(text: string, work: (setText: (text: string) => void) => Promise<T>): Promise<T>;
  /** A region of stderr redrawn in place, or undefined when stderr cannot redraw (then print lines). */
  live(): LiveRegion | undefined;
}

export interface StreamLike {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
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

/** True for the errors @inquirer/prompts throws when the user presses Ctrl-C or the prompt is aborted. */
export function isPromptExit(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError';
}

/** The value of the "← Back" choice of a list. */
const GO_BACK = Symbol('go-back');

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_FRAME_MS = 80;

// A CSI or OSC escape sequence, for measuring the visible width of coloured text.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function visibleLength(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

// eslint-disable-next-line no-control-regex
const TOKENS = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|[\s\S]/gu;

/**
 * Wraps `s` into rows of at most `width` visible characters (escape sequences kept, and not
 * counted), breaking at spaces where it can; continuation rows are indented to the text after
 * the line's mark ("✓ ", "    ⠋ "), so a long task reads as one block. Nothing is cut.
 */
export function wrapToWidth(s: string, width: number): string[] {
  if (visibleLength(s) <= width) return [s];
  const plain = s.replace(ANSI, '');
  const hang = Math.min(/^\s*\S{1,2}\s+/.exec(plain)?.[0].length ?? 0, Math.floor(width / 2));
  const rows: string[] = [];
  let row: string[] = [];
  let seen = 0;
  // Index in `row` of the last space at which the row may break (not inside the indent).
  let breakAt = -1;
  const min = () => (rows.length ? hang : 0);
  for (const [token] of s.matchAll(TOKENS)) {
    if (token.startsWith('\x1b')) {
      row.push(token);
      continue;
    }
    if (seen >= width) {
      if (token === ' ') {
        // A space at the edge is the break itself.
        rows.push(row.join('').trimEnd());
        row = [' '.repeat(hang)];
        seen = hang;
        breakAt = -1;
        continue;
      }
      let carry: string[] = [];
      if (breakAt >= 0) {
        carry = row.slice(breakAt + 1);
        row = row.slice(0, breakAt);
      }
      rows.push(row.join('').trimEnd());
      row = [' '.repeat(hang), ...carry];
      seen = hang + carry.filter((t) => !t.startsWith('\x1b')).length;
      breakAt = -1;
    }
    if (token === ' ' && seen > min()) breakAt = row.length;
    row.push(token);
    seen++;
  }
  if (row.length) rows.push(row.join('').trimEnd());
  return rows;
}

/** Something drawn on stderr that must step aside while other text is written. */
interface Dynamic {
  /** Erase it (before a log line). */
  clear(): void;
  /** Draw it again (after a log line). */
  redraw(): void;
  /** Stop animating and erase it (before a prompt). */
  pause(): void;
  resume(): void;
}

export function createConsoleUi(o: ConsoleUiOptions): Ui {
  const colors = new Chalk({ level: colorLevel(o.stdout, o.env) });
  const logColors = new Chalk({ level: colorLevel(o.stderr, o.env) });
  const interactive = o.stdinIsTTY && o.stderr.isTTY === true;
  // Redrawing in place needs a terminal that knows its width (a pseudo-terminal without a size
  // reports 0 columns, and line counting then breaks); --verbose prints a line per API call and
  // --quiet nothing.
  const redraws = o.stderr.isTTY === true && o.env.TERM !== 'dumb' && (o.stderr.columns ?? 80) > 0 && !o.quiet && !o.verbose;
  let active: Dynamic | undefined;
  // Every value printed passes here: control characters escaped (our own colours kept where we
  // colour), credentials in server text redacted.
  const safeLog = (s: string) => printable(redact(s), { keepColors: logColors.level > 0 });
  const safeOut = (s: string) => printable(redact(s), { keepColors: colors.level > 0 });

  const write = (s: string) => {
    if (!active) {
      o.stderr.write(s);
      return;
    }
    active.clear();
    o.stderr.write(s);
    active.redraw();
  };
  const line = (s: string) => write(`${safeLog(s)}\n`);
  const step = (m: string) => { if (!o.quiet) line(`${logColors.dim('›')} ${m}`); };

  let promptKit: Promise<typeof import('./prompt-kit.js')> | undefined;
  const loadPromptKit = () => (promptKit ??= import('./prompt-kit.js'));

  async function ask<T>(run: (p: typeof import('./prompt-kit.js'), ctx: { output: NodeJS.WritableStream }) => Promise<T>): Promise<T> {
    if (!interactive) throw new Error('internal error: a prompt was asked without a terminal');
    const prompts = await loadPromptKit();
    const paused = active;
    paused?.pause();
    try {
      return await run(prompts, { output: o.stderr as NodeJS.WritableStream });
    } catch (err) {
      if (isPromptExit(err)) throw new CancelledError();
      throw err;
    } finally {
      paused?.resume();
    }
  }

  /** Lines of stderr redrawn in place; while paused (a prompt is asked) updates are only kept. */
  function live(): LiveRegion {
    let drawn = 0;
    let lines: string[] = [];
    let paused = false;
    const erase = () => (drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : '');
    const paint = () => {
      const width = Math.max(20, (o.stderr.columns ?? 80) - 1);
      const out = lines.flatMap((l) => wrapToWidth(l, width));
      drawn = out.length;
      return out.length ? `${out.join('\n')}\n` : '';
    };
    const region: Dynamic = {
      clear: () => { if (!paused) { o.stderr.write(erase()); drawn = 0; } },
      redraw: () => { if (!paused) o.stderr.write(paint()); },
      pause: () => { paused = true; o.stderr.write(erase()); drawn = 0; },
      resume: () => { paused = false; o.stderr.write(paint()); },
    };
    const previous = active;
    active = region;
    return {
      update(next) {
        lines = next.map(safeLog);
        // One write per frame: erase and repaint together, so the terminal does not flicker.
        if (!paused) o.stderr.write(erase() + paint());
      },
      done() {
        if (active === region) active = previous;
      },
    };
  }

  return {
    colors,
    logColors,
    interactive,
    result: (text) => { const t = safeOut(text); o.stdout.write(t.endsWith('\n') ? t : `${t}\n`); },
    info: (m) => { if (!o.quiet) line(m); },
    warn: (m) => line(`${logColors.yellow('warning:')} ${m}`),
    step,
    debug: (m) => { if (o.verbose) line(logColors.dim(`[debug] ${m}`)); },

    // A yes/no question is a text prompt that accepts only y/yes/n/no (Enter: the default) and asks
    // again otherwise; the prompt kit's own confirm takes any word starting with "y" as yes and
    // anything else as the default.
    confirm: async (message, defaultValue, options = {}) => {
      const back = options.back === true;
      const answer = await ask((p, ctx) => p.input({
        message: safeLog(message),
        theme: {
          style: {
            message: (text: string, status: string) => (status === 'done'
              ? logColors.bold(text)
              : `${logColors.bold(text)} ${logColors.dim(defaultValue ? '(Y/n)' : '(y/N)')}${back ? ` ${logColors.dim(BACK_HINT)}` : ''}`),
          },
        },
        transformer: (value: string, { isFinal }: { isFinal: boolean }) => {
          if (!isFinal) return value;
          const yes = parseYesNo(value, defaultValue);
          return logColors.cyan(yes === undefined ? value : yes ? 'Yes' : 'No');
        },
        validate: (value: string) => {
          if (back && value.trim() === BACK_ANSWER) return true;
          return parseYesNo(value, defaultValue) === undefined ? yesNoProblem(defaultValue, back) : true;
        },
      }, ctx));
      if (back && answer.trim() === BACK_ANSWER) throw new GoBack();
      return parseYesNo(answer, defaultValue)!;
    },

    select: async <T>(message: string, choices: readonly Choice<T>[], defaultValue?: T, options: AskOptions = {}) => {
      const backChoice = { value: GO_BACK as T | typeof GO_BACK, name: BACK_CHOICE_NAME, description: 'return to the previous question' };
      const picked = await ask((p, ctx) => p.select<T | typeof GO_BACK>({
        message: safeLog(message),
        choices: [
          ...choices.map((c) => ({ value: c.value as T | typeof GO_BACK, name: safeLog(c.name), ...(c.description ? { description: safeLog(c.description) } : {}) })),
          ...(options.back ? [backChoice] : []),
        ],
        ...(defaultValue !== undefined ? { default: defaultValue } : {}),
        pageSize: 10,
      }, ctx));
      if (picked === GO_BACK) throw new GoBack();
      return picked as T;
    },

    input: async (q) => {
      const back = q.back === true;
      const answer = await ask((p, ctx) => p.input({
        message: safeLog(q.message),
        ...(back ? { theme: { style: { message: (text: string, status: string) => (status === 'done' ? logColors.bold(text) : `${logColors.bold(text)} ${logColors.dim(BACK_HINT)}`) } } } : {}),
        ...(q.default !== undefined ? { default: safeLog(q.default) } : {}),
        validate: (value: string) => {
          if (back && value.trim() === BACK_ANSWER) return true;
          const answer = value.trim() === '' && q.default !== undefined ? q.default : value.trim();
          return q.validate?.(answer) ?? true;
        },
      }, ctx));
      if (back && answer.trim() === BACK_ANSWER) throw new GoBack();
      return answer.trim() === '' && q.default !== undefined ? q.default : answer.trim();
    },

    async spinner(text, work) {
      if (!redraws) {
        step(text);
        return work(() => undefined);
      }
      // At a terminal questions may follow: the prompt kit loads while the work waits on the network.
      if (interactive) loadPromptKit().catch(() => undefined);
      // A one-line live region with a frame timer (a spinner library measured every frame with
      // a Unicode width table whose first use alone cost more than the rest of start-up).
      const region = live();
      let current = text;
      let frame = 0;
      const draw = (mark: string) => region.update([`${mark} ${current}`]);
      const timer = setInterval(() => draw(logColors.cyan(SPINNER_FRAMES[++frame % SPINNER_FRAMES.length]!)), SPINNER_FRAME_MS);
      timer.unref();
      draw(logColors.cyan(SPINNER_FRAMES[0]!));
      try {
        const value = await work((t) => { current = t; });
        clearInterval(timer);
        draw(logColors.green('✓'));
        return value;
      } catch (err) {
        clearInterval(timer);
        // Cancelled at a prompt: nothing to report, so the line goes.
        if (isRhacsStsError(err) && err.exitCode === ExitCode.Cancelled) region.update([]);
        else draw(logColors.red('✗'));
        throw err;
      } finally {
        region.done();
      }
    },

    live: () => (redraws ? live() : undefined),
  };
}
