/**
 * Commander wiring only: declares commands and options, then hands a typed Options object to the
 * command, which is imported lazily so that `--help` and `--version` stay fast.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, InputError } from './errors.js';
import { EXAMPLES, PROGRAM_DESCRIPTION } from './messages.js';
import { OPTION_SPECS, optionElsewhere, parseOptions, type CommandName, type Options } from './options/options.js';
import type { Ui } from './ui/ui.js';

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

export interface CliIo {
  env: Record<string, string | undefined>;
  makeUi(options: Pick<Options, 'quiet' | 'verbose' | 'output'>): Ui;
  writeOut(s: string): void;
  writeErr(s: string): void;
}

type Runner = (options: Options, ui: Ui) => Promise<void>;

const RUNNERS: Record<CommandName, () => Promise<Runner>> = {
  init: async () => (await import('./commands/init.js')).runInit,
  plan: async () => (await import('./commands/init.js')).runInit,
  verify: async () => (await import('./commands/verify.js')).runVerify,
  uninstall: async () => (await import('./commands/uninstall.js')).runUninstall,
  status: async () => (await import('./commands/status.js')).runStatus,
  'issuer-publish': async () => (await import('./commands/issuer.js')).runIssuerPublish,
};

const SUMMARIES: Record<CommandName, string> = {
  init: 'detect the cluster and RHACS, then create or converge the IAM OIDC provider, the role and the Kubernetes wiring',
  plan: 'show what init would change, without changing anything (same as init --dry-run)',
  verify: 'check the whole chain: issuer, OIDC provider, role, Kubernetes wiring, and a real token exchange',
  uninstall: 'remove what rhacs-sts created: Kubernetes changes, the role and (if unused) the OIDC provider',
  status: 'what rhacs-sts manages in this account and these clusters (providers, role, associations, wiring, overlays, integration), each healthy or not; reads only',
  'issuer-publish': "OpenShift without STS: publish the cluster's service-account issuer (discovery document and keys) in a public S3 bucket and create its IAM OIDC provider; re-run after a key rotation",
};

export function buildProgram(io: CliIo): Command {
  const program = new Command('rhacs-sts')
    .description(PROGRAM_DESCRIPTION)
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr })
    .addHelpText('after', `
Commands in the order you need them: plan, init, verify, uninstall; "status" shows what is in place.
Shell completion: "rhacs-sts completion bash|zsh|fish".
OpenShift installed without STS first needs a public issuer: "rhacs-sts issuer publish".
Run "rhacs-sts <command> --help" for its options and examples.`);

  const issuer = program.command('issuer').description("the cluster's service-account issuer as AWS sees it (OpenShift without STS)").exitOverride()
    .helpOption('-h, --help', 'show help');
  const commands: [CommandName, Command][] = (['init', 'plan', 'verify', 'uninstall', 'status'] as const).map((name) => [name, program.command(name)]);
  commands.push(['issuer-publish', issuer.command('publish')]);
  for (const [name, created] of commands) {
    const cmd = created.description(SUMMARIES[name]).exitOverride().allowExcessArguments(false);
    // An option of another command: say which commands take it rather than suggest a look-alike.
    cmd.configureOutput({
      outputError: (str, write) => {
        const flag = /unknown option '(--[a-z-]+)/.exec(str)?.[1];
        const elsewhere = flag ? optionElsewhere(flag, name) : undefined;
        write(elsewhere ? `${str.replace(/\(Did you mean [^)]*\)\n?/, '').trimEnd()}\n${elsewhere}.\n` : str);
      },
    });
    for (const s of OPTION_SPECS) {
      if (!s.commands.includes(name)) continue;
      const opt = new Option(s.flags, `${s.description} [env: ${s.env}]`);
      if (s.kind === 'list') opt.argParser((value: string, prev: string[] | undefined) => [...(prev ?? []), value]);
      cmd.addOption(opt);
      if (s.negation) cmd.addOption(new Option(opt.long!.replace(/^--/, '--no-'), s.negation));
    }
    cmd.addHelpText('after', EXAMPLES[name] ?? '');
    // Commander names each value after its long flag (--plan → plan); options.ts keys them by spec key (planFile).
    const attribute = new Map(OPTION_SPECS.map((s) => [s.key, new Option(s.flags).attributeName()]));
    cmd.action(async (parsed: Record<string, unknown>) => {
      const raw: Record<string, unknown> = Object.fromEntries(OPTION_SPECS.map((s) => [s.key, parsed[attribute.get(s.key)!]]));
      const configPath = (raw.config as string | undefined) ?? io.env.RHACS_STS_CONFIG;
      const config = configPath ? (await import('./options/config-file.js')).loadConfigFile(configPath, raw.config ? '--config' : 'RHACS_STS_CONFIG') : undefined;
      const options = parseOptions(name, raw, io.env, config);
      const ui = io.makeUi(options);
      const run = await RUNNERS[name]();
      await run(options, ui);
    });
  }
  program.command('completion')
    .description('print a shell completion script (bash, zsh or fish), generated from the options; e.g. source <(rhacs-sts completion bash)')
    .argument('[shell]', 'bash, zsh or fish')
    .exitOverride()
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'show help')
    .action(async (shell: string | undefined) => {
      const { runCompletion } = await import('./commands/completion.js');
      runCompletion(shell, io.writeOut);
    });
  return program;
}

/** Maps commander's own errors (unknown option, missing argument, help, version) to our exit codes. */
export function commanderExit(err: CommanderError): number | InputError {
  // Help asked for, or the version: success. Help shown because no command was given: usage error.
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.Ok;
  if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.Ok : ExitCode.InvalidInput;
  return ExitCode.InvalidInput;
}

export { CommanderError };
