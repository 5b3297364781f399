// The quick answers (src/quick.ts) print commander's help without commander: for every command and
// many terminal widths, the text laid out from the build-time layout is byte for byte commander's.
import { buildProgram } from '../../src/cli.js';
import { helpLayouts } from '../../src/help-layout.js';
import { quickAnswer, renderHelp, type QuickTexts } from '../../src/quick.js';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

const noUi = () => { throw new Error('no command runs for --help'); };
const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];

/** What commander itself writes for `args` (ending in --help or -h) on a terminal `width` columns wide (undefined: not a terminal). */
async function commanderHelp(args: string[], width: number | undefined): Promise<string> {
  let out = '';
  const program = buildProgram({ env: {}, makeUi: noUi, writeOut: (s) => { out += s; }, writeErr: (s) => { throw new Error(`stderr: ${s}`); } });
  // Typed as a number, but commander's own default gives undefined when stdout is not a terminal.
  for (const c of allCommands(program)) c.configureOutput({ getOutHelpWidth: () => width as number });
  await expect(program.parseAsync(args, { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
  return out;
}

const layouts = helpLayouts(buildProgram({ env: {}, makeUi: noUi, writeOut: () => undefined, writeErr: () => undefined }));
const texts: QuickTexts = { version: '9.8.7', help: (path) => (Object.hasOwn(layouts, path) ? layouts[path] : undefined) };
const PATHS = Object.keys(layouts);
const WIDTHS = [undefined, 0, 20, 39, 40, 41, 44, 60, 79, 80, 81, 100, 132, 200, 400];

describe('help laid out ahead of time', () => {
  it('covers the program and every command, subcommands included', () => {
    expect(PATHS).toEqual(['', 'issuer', 'issuer publish', 'init', 'plan', 'verify', 'uninstall', 'status', 'completion']);
  });

  it.each(PATHS)('"%s --help" is commander\'s text at every width', async (path) => {
    const args = path ? path.split(' ') : [];
    for (const width of WIDTHS) {
      const expected = await commanderHelp([...args, '--help'], width);
      expect(renderHelp(layouts[path]!, width), `width ${width}`).toBe(expected);
      expect(quickAnswer([...args, '--help'], texts, () => width), `width ${width}`).toBe(expected);
      expect(quickAnswer([...args, '-h'], texts, () => width), `-h, width ${width}`).toBe(await commanderHelp([...args, '-h'], width));
    }
  });

  it('the width matters (the comparison above can fail)', async () => {
    const narrow = await commanderHelp(['init', '--help'], 50);
    expect(narrow).not.toBe(await commanderHelp(['init', '--help'], 120));
    expect(renderHelp(layouts.init!, 120)).not.toBe(narrow);
  });

  it('a help with colour codes is refused at build time (the quick answers take a text\'s length as its width)', () => {
    const coloured = new Command('x').description('\x1b[31mred\x1b[39m text');
    expect(() => helpLayouts(coloured)).toThrow(/colour codes/);
    expect(() => helpLayouts(new Command('x').description('plain text'))).not.toThrow();
  });

  it('--version and -V alone print the version', () => {
    expect(quickAnswer(['--version'], texts, () => 80)).toBe('9.8.7\n');
    expect(quickAnswer(['-V'], texts, () => 80)).toBe('9.8.7\n');
  });

  it.each([
    [[]], [['init']], [['--version', 'init']], [['init', '--version']], [['init', '--region', 'x', '--help']],
    [['--verbose', '--help']], [['help', 'init']], [['nope', '--help']], [['toString', '--help']], [['--', '--help']],
    [['issuer', 'nope', '--help']], [['completion', 'bash']],
  ])('%j is left to the CLI proper', (args) => {
    expect(quickAnswer(args, texts, () => 80)).toBeUndefined();
  });
});
