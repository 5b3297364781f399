/**
 * A Ui that records what it is told and answers prompts from a script, for tests of the core
 * (commands, decisions) without a terminal. An answer that fails the question's validation is
 * recorded and the next answer is taken, as a person would be asked again.
 */
import { Chalk } from 'chalk';
import { CancelledError } from '../errors.js';
import { BACK_ANSWER, GoBack, parseYesNo, yesNoProblem, type AskOptions, type Choice, type InputQuestion, type LiveRegion, type Ui } from './ui.js';

/** Ctrl-C at the prompt. */
export const CTRL_C = Symbol('ctrl-c');
/** Press Enter: take the question's default. */
export const DEFAULT = Symbol('default');
/** Go back to the previous question ("<", or the "← Back" choice of a list). */
export const BACK = Symbol('back');

export type ScriptedAnswer = string | boolean | typeof CTRL_C | typeof DEFAULT | typeof BACK;

export interface AskedQuestion {
  kind: 'confirm' | 'select' | 'input';
  message: string;
  /** The way back to the previous question was offered. */
  back?: boolean;
  default?: unknown;
  choices?: unknown[];
  /** Validation errors shown for rejected answers, in order. */
  errors: string[];
  answer?: unknown;
}

export interface MemoryUi extends Ui {
  readonly stdout: string[];
  readonly stderr: string[];
  readonly asked: AskedQuestion[];
  /** Answers not consumed. */
  readonly remaining: ScriptedAnswer[];
}

export function createMemoryUi(opts: { interactive?: boolean; answers?: ScriptedAnswer[] } = {}): MemoryUi {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const asked: AskedQuestion[] = [];
  const remaining = [...(opts.answers ?? [])];
  const plain = new Chalk({ level: 0 });
  const interactive = opts.interactive ?? false;

  const next = (q: AskedQuestion): ScriptedAnswer => {
    if (!interactive) throw new Error(`internal error: prompt "${q.message}" asked without a terminal`);
    const a = remaining.shift();
    if (a === undefined) throw new Error(`no scripted answer left for "${q.message}"`);
    if (a === CTRL_C) throw new CancelledError();
    return a;
  };

  return {
    stdout,
    stderr,
    asked,
    remaining,
    colors: plain,
    logColors: plain,
    interactive,
    result: (t) => void stdout.push(t),
    info: (m) => void stderr.push(m),
    warn: (m) => void stderr.push(`warning: ${m}`),
    step: (m) => void stderr.push(`› ${m}`),
    debug: () => undefined,
    async confirm(message, defaultValue, options: AskOptions = {}) {
      const q: AskedQuestion = { kind: 'confirm', message, default: defaultValue, errors: [], ...(options.back ? { back: true } : {}) };
      asked.push(q);
      // Bounded: every round consumes a scripted answer, and next() throws when none is left.
      for (;;) {
        const a = next(q);
        if ((a === BACK || a === BACK_ANSWER) && options.back) throw new GoBack();
        if (a === BACK) throw new Error(`scripted answer BACK, but "${message}" offers no way back`);
        const value = a === DEFAULT ? defaultValue : typeof a === 'boolean' ? a : typeof a === 'string' ? parseYesNo(a, defaultValue) : undefined;
        if (value === undefined) {
          q.errors.push(yesNoProblem(defaultValue, options.back));
          continue;
        }
        q.answer = value;
        return value;
      }
    },
    async select<T>(message: string, choices: readonly Choice<T>[], defaultValue?: T, options: AskOptions = {}): Promise<T> {
      const q: AskedQuestion = { kind: 'select', message, default: defaultValue, choices: choices.map((c) => c.value), errors: [], ...(options.back ? { back: true } : {}) };
      asked.push(q);
      const a = next(q);
      if (a === BACK) {
        if (!options.back) throw new Error(`scripted answer BACK, but "${message}" offers no way back`);
        throw new GoBack();
      }
      const pick = a === DEFAULT ? (defaultValue ?? choices[0]?.value) : choices.find((c) => c.value === a || c.name === a)?.value;
      if (pick === undefined) throw new Error(`scripted answer ${String(a)} is not a choice of "${message}"`);
      q.answer = pick;
      return pick;
    },
    async input(question: InputQuestion) {
      const q: AskedQuestion = { kind: 'input', message: question.message, default: question.default, errors: [], ...(question.back ? { back: true } : {}) };
      asked.push(q);
      // Bounded: every round consumes a scripted answer, and next() throws when none is left.
      for (;;) {
        const a = next(q);
        if ((a === BACK || a === BACK_ANSWER) && question.back) throw new GoBack();
        if (a === BACK) throw new Error(`scripted answer BACK, but "${question.message}" offers no way back`);
        const value = a === DEFAULT ? question.default ?? '' : String(a).trim();
        const error = question.validate?.(value);
        if (error) {
          q.errors.push(error);
          continue;
        }
        q.answer = value;
        return value;
      }
    },
    async spinner(text, work) {
      stderr.push(`› ${text}`);
      return work(() => undefined);
    },
    live(): LiveRegion | undefined {
      return undefined;
    },
  };
}
