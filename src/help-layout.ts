/**
 * Build time (scripts/build.mjs) and tests only: commander's help of the program and of every
 * command, with the parts that depend on the terminal's width left as markers for src/quick.ts to
 * lay out when it prints them.
 */
import type { Command } from 'commander';
import type { HelpLayout, HelpPart } from './quick.js';

/** The help of `program` and of each of its commands, by command path ('' for the program). Changes the program's output settings: use a program built for this. */
export function helpLayouts(program: Command): Record<string, HelpLayout> {
  const layouts: Record<string, HelpLayout> = {};
  const walk = (cmd: Command, path: string[]) => {
    layouts[path.join(' ')] = helpLayout(cmd);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return layouts;
}

function helpLayout(cmd: Command): HelpLayout {
  const parts: HelpPart[] = [];
  const mark = (p: HelpPart) => `\uE000${parts.push(p) - 1}\uE001`;
  let text = '';
  cmd.configureOutput({ writeOut: (s) => { text += s; }, getOutHelpWidth: () => 80, getOutHasColors: () => false });
  cmd.configureHelp({
    ...cmd.configureHelp(),
    formatItem: (term, termWidth, description) => mark({ term, termWidth, description }),
    boxWrap: (str) => mark({ wrap: str }),
  });
  // outputHelp() writes what `--help` writes: the help, then the text added after it.
  cmd.outputHelp();
  const fixed = text.replace(/\uE000\d+\uE001/g, '');
  if (/[\x1b\uE000\uE001]/.test(fixed + parts.map((p) => ('wrap' in p ? p.wrap : p.term + p.description)).join(''))) {
    throw new Error(`the help of "${cmd.name()}" contains colour codes or markers: it cannot be laid out ahead of time`);
  }
  return { text, parts, minWidthToWrap: cmd.createHelp().minWidthToWrap };
}
