/**
 * The quick answers: `--version`, and `--help` of the program and of each command, printed from
 * text made at build time (scripts/build.mjs, from commander's own help: src/help-layout.ts), so
 * that they load neither commander nor the option table, the SDKs or any command. Anything else
 * (or a help that was not made at build time) goes to the CLI proper.
 *
 * Only the parts of the help that depend on the terminal's width (the wrapped descriptions) are
 * laid out here, the way commander lays them out; a unit test compares the result with
 * commander's output for every command at many widths.
 */
import { fstatSync, readFileSync, statSync, writeSync } from 'node:fs';

/** One piece of the help that commander lays out for the width: a wrapped text, or a term and its description. */
export type HelpPart =
  | { wrap: string }
  | { term: string; termWidth: number; description: string };

/** A help text with a marker (U+E000 index U+E001) in place of each part that depends on the width. */
export interface HelpLayout {
  text: string;
  parts: HelpPart[];
  /** commander's Help.minWidthToWrap: narrower than this, nothing is wrapped. */
  minWidthToWrap: number;
}

export interface QuickTexts {
  version: string;
  /** The help of a command path ('' for the program, 'init', 'issuer publish', …), or undefined when none was made. */
  help(path: string): HelpLayout | undefined;
}

const MARKER = /\uE000(\d+)\uE001/g;

// The same as commander's Help (lib/help.js): displayWidth, preformatted, boxWrap, formatItem. commander's
// displayWidth strips colour codes first; the texts made at build time have none (help-layout.ts refuses
// them), so a width is a length: a regular expression per word took most of the time of `init --help`.
const displayWidth = (s: string) => s.length;

function boxWrap(str: string, width: number, minWidthToWrap: number): string {
  if (width < minWidthToWrap) return str;
  const lines: string[] = [];
  for (const line of str.split(/\r\n|\n/)) {
    const chunks = line.match(/[\s]*[^\s]+/g);
    if (chunks === null) {
      lines.push('');
      continue;
    }
    let sum = [chunks.shift()!];
    let sumWidth = displayWidth(sum[0]!);
    for (const chunk of chunks) {
      const w = displayWidth(chunk);
      if (sumWidth + w <= width) {
        sum.push(chunk);
        sumWidth += w;
        continue;
      }
      lines.push(sum.join(''));
      const next = chunk.trimStart();
      sum = [next];
      sumWidth = displayWidth(next);
    }
    lines.push(sum.join(''));
  }
  return lines.join('\n');
}

function formatItem(term: string, termWidth: number, description: string, helpWidth: number, minWidthToWrap: number): string {
  if (!description) return `  ${term}`;
  const padded = term.padEnd(termWidth + term.length - displayWidth(term));
  const remaining = helpWidth - termWidth - 2 - 2;
  const formatted = remaining < minWidthToWrap || /\n[^\S\r\n]/.test(description)
    ? description
    : boxWrap(description, remaining, minWidthToWrap).replace(/\n/g, `\n${' '.repeat(termWidth + 2)}`);
  return `  ${padded}  ${formatted.replace(/\n/g, '\n  ')}`;
}

/** The help for a terminal `width` columns wide (undefined: not a terminal, which commander makes 80). */
export function renderHelp(layout: HelpLayout, width: number | undefined): string {
  const w = width ?? 80;
  return layout.text.replace(MARKER, (_, i: string) => {
    const p = layout.parts[Number(i)]!;
    return 'wrap' in p ? boxWrap(p.wrap, w, layout.minWidthToWrap) : formatItem(p.term, p.termWidth, p.description, w, layout.minWidthToWrap);
  });
}

/** What to print for these arguments, or undefined when the CLI proper has to answer. */
export function quickAnswer(args: readonly string[], texts: QuickTexts, width: () => number | undefined): string | undefined {
  const last = args[args.length - 1];
  if (args.length === 1 && (last === '--version' || last === '-V')) return `${texts.version}\n`;
  if (last !== '--help' && last !== '-h') return undefined;
  const path = args.slice(0, -1);
  // Only command names: an option before --help may be one that commander reads first.
  if (path.some((a) => a.startsWith('-'))) return undefined;
  const layout = texts.help(path.join(' '));
  return layout ? renderHelp(layout, width()) : undefined;
}

/**
 * Whether stdout may be a terminal. Asking tty.isatty loads Node's stream and network modules,
 * which costs more than the whole answer: a file, a pipe or /dev/null is recognised without it.
 */
function mayBeTerminal(): boolean {
  try {
    const out = fstatSync(1);
    if (!out.isCharacterDevice()) return false;
    return out.rdev !== statSync('/dev/null').rdev;
  } catch {
    return true;
  }
}

/** Writes all of `text` to stdout; a reader that has gone (EPIPE) ends the output quietly, as in the CLI proper. */
function writeOut(text: string): void {
  const buf = Buffer.from(text);
  let at = 0;
  while (at < buf.length) {
    try {
      at += writeSync(1, buf, at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      // A non-blocking pipe that is full: let Node's stream queue the rest.
      if (code === 'EAGAIN') {
        process.stdout.write(buf.subarray(at));
        return;
      }
      throw e;
    }
  }
}

/** Made at build time: the version, and by command path the file in dist/help/ that holds its help. */
declare const __QUICK_INDEX__: { version: string; helpFiles: Record<string, string> };

/**
 * The help of each command is a file of its own, read only when asked for: this module stays a
 * few kilobytes however many options the commands have (Node parses all of a module at start).
 */
function builtTexts(): QuickTexts {
  const { version, helpFiles } = __QUICK_INDEX__;
  return {
    version,
    help: (path) => {
      if (!Object.hasOwn(helpFiles, path)) return undefined;
      try {
        return JSON.parse(readFileSync(`${__dirname}/help/${helpFiles[path]}`, 'utf8')) as HelpLayout;
      } catch {
        return undefined; // an incomplete install: the CLI proper prints the same help
      }
    },
  };
}

/** Answers `--version` or a `--help` and returns true, or returns false for the CLI proper. */
export function answer(args: readonly string[]): boolean {
  // As commander: the terminal's width, or none (80) when stdout is not a terminal.
  const width = () => (mayBeTerminal() && (require('node:tty') as typeof import('node:tty')).isatty(1) ? process.stdout.columns : undefined);
  const text = quickAnswer(args, builtTexts(), width);
  if (text === undefined) return false;
  writeOut(text);
  return true;
}
