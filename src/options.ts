/**
 * Options: one table (OPTION_SPECS) describes every flag, its environment variable and its config
 * key; `parseOptions` turns raw flag values plus the environment into one typed, validated object.
 * Nothing below the entry point reads process.argv or process.env.
 */
import { ProblemList } from './errors.js';
import * as v from './validate.js';

export type Provider = 'eks' | 'openshift';
export type OutputFormat = 'text' | 'json';
export type CommandName = 'init' | 'plan' | 'verify' | 'uninstall';

export const PROVIDERS: readonly Provider[] = ['eks', 'openshift'];
export const DEFAULT_NAMESPACE = 'stackrox';
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export interface Options {
  command: CommandName;
  provider?: Provider;
  /** The namespace RHACS runs in; undefined means "detect, defaulting to stackrox". */
  namespace?: string;
  clusterName?: string;
  region?: string;
  accountId?: string;
  oidcIssuer?: string;
  roleName?: string;
  rolePath: string;
  /** undefined: not said (a prompt may ask; otherwise false). */
  delegatedScanning?: boolean;
  ecrRegistryId?: string;
  ecrRegion?: string;
  ecrRepositories: string[];
  permissionsBoundary?: string;
  /** Managed policies to attach to the role (the role is Central's identity for S3 backups, Security Hub, …). */
  attachPolicyArns: string[];
  context?: string;
  centralContext?: string;
  /** Contexts of secured clusters that run Sensor (repeatable); Central runs in --central-context or the current context. */
  sensorContexts: string[];
  kubeconfig?: string;
  helmValuesOut?: string;
  planFile?: string;
  keepOidcProvider: boolean;
  /** uninstall only: delete the role even when it still trusts clusters outside this run. */
  allClusters: boolean;
  /** verify only: skip the token request and exchange (the end-to-end check is reported as skipped). */
  skipExchange?: boolean;
  profile?: string;
  dryRun: boolean;
  yes: boolean;
  output: OutputFormat;
  offline: boolean;
  adoptRole: boolean;
  /** init: point Central/Sensor at our role even where their wiring names another role. */
  replaceRoleWiring: boolean;
  adoptOidcProvider: boolean;
  restart: boolean;
  timeoutMs: number;
  verbose: boolean;
  quiet: boolean;
}

type Kind = 'string' | 'list' | 'boolean' | 'negatable';

export interface OptionSpec {
  /** Property name in the raw options object and key in a config file. */
  key: string;
  flags: string;
  description: string;
  kind: Kind;
  env: string;
  commands: readonly CommandName[];
}

// Each flag is offered (and listed by --help) only where it does something.
const ALL: readonly CommandName[] = ['init', 'plan', 'verify', 'uninstall'];
const APPLYING: readonly CommandName[] = ['init', 'uninstall'];
const PLANNING: readonly CommandName[] = ['init', 'plan'];
/** What chooses the role and its policy: init and plan; verify checks the pull against the registry. */
const POLICY_AND_VERIFY: readonly CommandName[] = ['init', 'plan', 'verify'];
/** Restarting the pods and waiting for them: what init and uninstall do, and plan shows (not waiting). */
const RESTARTING: readonly CommandName[] = ['init', 'plan', 'uninstall'];

function spec(key: string, flags: string, description: string, kind: Kind, commands: readonly CommandName[] = ALL): OptionSpec {
  const env = `RHACS_STS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
  return { key, flags, description, kind, env, commands };
}

/** Every option, in the order `--help` lists them. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  spec('provider', '--provider <eks|openshift>', 'cluster type; detected from the cluster when omitted', 'string'),
  spec('namespace', '-n, --namespace <ns>', 'namespace RHACS runs in (default: detected, else "stackrox")', 'string'),
  spec('clusterName', '--cluster-name <name>', 'cluster name, used in the default role name and in tags', 'string'),
  spec('region', '--region <region>', 'AWS region of the cluster (derived from an EKS issuer when omitted)', 'string'),
  spec('accountId', '--account-id <id>', 'AWS account that owns the role and OIDC provider (default: the caller\'s)', 'string'),
  spec('oidcIssuer', '--oidc-issuer <url>', 'service-account token issuer URL (default: detected from the cluster)', 'string'),
  spec('roleName', '--role-name <name>', 'IAM role name (default: rhacs-sts-<cluster-name>, or rhacs-sts)', 'string'),
  spec('rolePath', '--role-path <path>', 'IAM path for a new role (default: /)', 'string', PLANNING),
  spec('delegatedScanning', '--delegated-scanning', 'Sensor gets the role too: with delegated scanning Sensor scans images, so it pulls them from ECR itself', 'boolean', POLICY_AND_VERIFY),
  spec('ecrRegistryId', '--ecr-registry-id <account>', 'account that owns the ECR registry (default: the role\'s account)', 'string', POLICY_AND_VERIFY),
  spec('ecrRegion', '--ecr-region <region>', 'region of the ECR registry (default: any region)', 'string', PLANNING),
  spec('ecrRepository', '--ecr-repository <name>', 'limit read access to this repository; repeat for more; "team/*" matches a prefix (default: all)', 'list', PLANNING),
  spec('attachPolicyArn', '--attach-policy-arn <arn>', 'also attach this managed policy to the role, for the other integrations that use the container IAM role (S3 backups, Security Hub); repeat for more', 'list', ['init', 'plan']),
  spec('permissionsBoundary', '--permissions-boundary <arn>', 'managed policy ARN to set as the new role\'s permissions boundary', 'string', PLANNING),
  spec('replaceRoleWiring', '--replace-role-wiring', 'point Central/Sensor at this role even where they already name another role (it is recorded on the object and put back by uninstall)', 'boolean', PLANNING),
  spec('adoptRole', '--adopt-role', 'take over an existing role that rhacs-sts did not create (adds our tag and statements)', 'boolean', PLANNING),
  spec('adoptOidcProvider', '--adopt-oidc-provider', 'let rhacs-sts add its audience and tag to an existing OIDC provider it did not create', 'boolean', PLANNING),
  spec('centralContext', '--central-context <ctx>', 'kubeconfig context of the cluster that runs Central, when Sensor runs elsewhere', 'string'),
  spec('sensorContext', '--sensor-context <ctx>', 'kubeconfig context of a secured cluster whose Sensor pulls from ECR (delegated scanning); repeat for more; one role trusts every cluster', 'list'),
  spec('context', '--context <ctx>', 'kubeconfig context (default: the current context)', 'string'),
  spec('kubeconfig', '--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', 'string'),
  spec('profile', '--profile <name>', 'AWS profile for credentials (default: the SDK chain: env, $AWS_PROFILE, SSO, web identity)', 'string'),
  spec('restart', '--no-restart', 'do not restart Central/Sensor now; print the command to run later', 'negatable', RESTARTING),
  spec('timeout', '--timeout <duration>', 'how long to wait for rollouts, e.g. 90s, 5m (default: 5m)', 'string', APPLYING),
  spec('helmValuesOut', '--helm-values-out <file>', 'Helm installs: also write the values that make the change durable to this file (not with --dry-run)', 'string', ['init']),
  spec('planFile', '--plan <file>', 'apply a plan saved with "plan --output json", refusing if the live state has drifted since', 'string', ['init']),
  spec('keepOidcProvider', '--keep-oidc-provider', 'uninstall: keep the IAM OIDC provider even if nothing else uses it', 'boolean', ['uninstall']),
  spec('allClusters', '--all-clusters', 'uninstall: delete the role even if it still trusts clusters outside this run (they lose access); without it only this run\'s clusters are removed from it', 'boolean', ['uninstall']),
  spec('skipExchange', '--skip-exchange', 'verify: request no service-account tokens and call no AWS API with them (the end-to-end check is skipped)', 'boolean', ['verify']),
  spec('offline', '--offline', 'contact neither AWS nor Kubernetes: take every fact from flags and print the plan', 'boolean', PLANNING),
  spec('dryRun', '--dry-run', 'read current state and show the plan; change nothing', 'boolean', APPLYING),
  spec('yes', '-y, --yes', 'apply without asking: take the default for every question and skip the confirmation (required when not at a terminal)', 'boolean', APPLYING),
  spec('config', '--config <file>', 'read options from a YAML or JSON file (keys as the flags: role-name, delegated-scanning, …); flags and env win', 'string'),
  spec('output', '-o, --output <text|json>', 'output format: text for people, json (one document on stdout) for scripts', 'string'),
  spec('verbose', '--verbose', 'log every API call to stderr (never credentials or tokens)', 'boolean'),
  spec('quiet', '-q, --quiet', 'only print errors and the result', 'boolean'),
];

export type RawOptions = Record<string, unknown>;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/**
 * Merges flags (which commander already parsed) over environment variables, validates every
 * value and returns typed options. Throws InputError listing every problem at once.
 */
export interface ConfigFile {
  path: string;
  data: Record<string, unknown>;
}

/** The config-file key of an option: its flag without the dashes (`--role-name` → `role-name`). */
export function configKey(s: OptionSpec): string {
  return s.kind === 'negatable' ? flagName(s).replace(/^--no-/, '') : flagName(s).replace(/^--/, '');
}

/** Secured clusters one run configures at most (each is read and changed concurrently, a few at a time). */
export const MAX_SENSOR_CONTEXTS = 20;

export function parseOptions(command: CommandName, raw: RawOptions, env: Record<string, string | undefined>, config?: ConfigFile): Options {
  const problems = new ProblemList();
  const values: Record<string, unknown> = {};
  if (config) checkConfigKeys(config, problems);

  for (const s of OPTION_SPECS) {
    if (!s.commands.includes(command)) continue;
    const flag = flagName(s);
    let value = raw[s.key];
    const fromEnv = env[s.env];
    // commander sets negatable flags to true by default; only an explicit --no-x counts as given.
    const given = s.kind === 'negatable' ? value === false : value !== undefined && !(Array.isArray(value) && value.length === 0);
    if (!given && fromEnv !== undefined) {
      if (s.kind === 'boolean' || s.kind === 'negatable') {
        const lower = fromEnv.trim().toLowerCase();
        if (TRUE.has(lower)) value = true;
        else if (FALSE.has(lower)) value = false;
        else problems.add(s.env, `"${fromEnv}" is not a boolean (use true or false)`);
      } else if (s.kind === 'list') {
        value = fromEnv.split(',').map((x) => x.trim()).filter(Boolean);
      } else {
        value = fromEnv;
      }
      if (value !== undefined) values[`${s.key}:source`] = s.env;
    }
    const key = configKey(s);
    if (value === undefined || (s.kind === 'negatable' && !given && fromEnv === undefined)) {
      const fromFile = config?.data[key];
      if (fromFile !== undefined && fromFile !== null) {
        const source = `${config!.path}: ${key}`;
        const bool = s.kind === 'boolean' || s.kind === 'negatable';
        if (bool && typeof fromFile !== 'boolean') problems.add(source, 'must be true or false');
        else if (s.kind === 'list' && !(typeof fromFile === 'string' || (Array.isArray(fromFile) && fromFile.every((x) => typeof x === 'string')))) {
          problems.add(source, 'must be a name or a list of names');
        } else if (!bool && s.kind !== 'list' && typeof fromFile !== 'string' && typeof fromFile !== 'number') problems.add(source, 'must be a single value');
        else {
          value = s.kind === 'list' ? [fromFile].flat() : bool ? fromFile : String(fromFile);
          values[`${s.key}:source`] = source;
        }
      }
    }
    values[s.key] = value;
    values[`${s.key}:source`] ??= flag;
  }

  const src = (key: string) => String(values[`${key}:source`]);
  const str = (key: string): string | undefined => {
    const x = values[key];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string') {
      problems.add(src(key), 'expects a single value');
      return undefined;
    }
    if (x.trim() === '') {
      problems.add(src(key), 'must not be empty');
      return undefined;
    }
    return x.trim();
  };
  const contextList = (key: string): string[] => {
    const x = values[key];
    if (x === undefined || x === null) return [];
    const list = (Array.isArray(x) ? x : [x]).map((c) => String(c).trim());
    if (list.some((c) => c === '')) problems.add(src(key), 'must not be empty');
    return list.filter(Boolean);
  };
  const check = (key: string, value: string | undefined, fn: v.Check): string | undefined => {
    if (value === undefined) return undefined;
    const err = fn(value);
    if (err) {
      problems.add(src(key), err);
      return undefined;
    }
    return value;
  };

  const provider = str('provider');
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    problems.add(src('provider'), `"${provider}" is not a provider we support (eks or openshift)`);
  }
  const output = str('output') ?? 'text';
  if (output !== 'text' && output !== 'json') problems.add(src('output'), `"${output}" is not an output format (text or json)`);

  let oidcIssuer = str('oidcIssuer');
  if (oidcIssuer !== undefined) {
    const n = v.normaliseIssuer(oidcIssuer);
    if (n.error) problems.add(src('oidcIssuer'), n.error);
    oidcIssuer = n.value;
  }

  const attachPolicyArns: string[] = [];
  for (const a of ((values.attachPolicyArn as string[] | undefined) ?? []).map((x) => String(x).trim())) {
    const e = v.policyArn(a);
    if (e) problems.add(src('attachPolicyArn'), e);
    else if (!attachPolicyArns.includes(a)) attachPolicyArns.push(a);
  }

  const repos = (values.ecrRepository as string[] | undefined) ?? [];
  const ecrRepositories: string[] = [];
  for (const r of repos) {
    const e = v.ecrRepository(r);
    if (e) problems.add(src('ecrRepository'), e);
    else if (!ecrRepositories.includes(r)) ecrRepositories.push(r);
  }
  if (ecrRepositories.includes('*') && ecrRepositories.length > 1) {
    problems.add(src('ecrRepository'), '"*" already means every repository; drop it or the other names');
  }

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const timeout = str('timeout');
  if (timeout !== undefined) {
    const ms = v.parseDuration(timeout);
    if (ms === undefined || ms <= 0 || ms > 24 * 3600_000) problems.add(src('timeout'), `"${timeout}" is not a duration between 1s and 24h (e.g. 90s, 5m, 1m30s)`);
    else timeoutMs = ms;
  }

  const kubeconfig = str('kubeconfig');
  const options: Options = {
    command,
    provider: provider as Provider | undefined,
    namespace: check('namespace', str('namespace'), v.dns1123Label),
    clusterName: check('clusterName', str('clusterName'), v.clusterName),
    region: check('region', str('region'), v.region),
    accountId: check('accountId', str('accountId'), v.accountId),
    oidcIssuer,
    roleName: check('roleName', str('roleName'), v.roleName),
    rolePath: check('rolePath', str('rolePath'), v.rolePath) ?? '/',
    delegatedScanning: values.delegatedScanning as boolean | undefined,
    ecrRegistryId: check('ecrRegistryId', str('ecrRegistryId'), v.accountId),
    ecrRegion: check('ecrRegion', str('ecrRegion'), (x) => (x === '*' ? undefined : v.region(x))),
    ecrRepositories,
    permissionsBoundary: check('permissionsBoundary', str('permissionsBoundary'), v.policyArn),
    attachPolicyArns,
    context: str('context'),
    centralContext: str('centralContext'),
    sensorContexts: contextList('sensorContext'),
    kubeconfig,
    helmValuesOut: str('helmValuesOut'),
    planFile: str('planFile'),
    keepOidcProvider: values.keepOidcProvider === true,
    allClusters: values.allClusters === true,
    skipExchange: command === 'verify' ? values.skipExchange === true : undefined,
    profile: check('profile', str('profile'), v.profileName),
    dryRun: values.dryRun === true || command === 'plan',
    yes: values.yes === true,
    output: output as OutputFormat,
    offline: values.offline === true,
    adoptRole: values.adoptRole === true,
    replaceRoleWiring: values.replaceRoleWiring === true,
    adoptOidcProvider: values.adoptOidcProvider === true,
    restart: values.restart !== false,
    timeoutMs,
    verbose: values.verbose === true,
    quiet: values.quiet === true,
  };
  if (options.ecrRegion === '*') options.ecrRegion = undefined;

  if (options.verbose && options.quiet) problems.add('--quiet', 'cannot be combined with --verbose');
  const sensors = options.sensorContexts;
  if (options.context && (options.centralContext || sensors.length)) {
    problems.add(src('context'), 'cannot be combined with --central-context/--sensor-context (say which cluster runs what instead)');
  }
  if (options.centralContext && sensors.includes(options.centralContext)) {
    problems.add(src('sensorContext'), 'names the same context as --central-context; for one cluster use --context');
  }
  const repeated = sensors.filter((c, i) => sensors.indexOf(c) !== i);
  if (repeated.length) problems.add(src('sensorContext'), `names ${[...new Set(repeated)].join(', ')} more than once`);
  if (sensors.length > MAX_SENSOR_CONTEXTS) problems.add(src('sensorContext'), `names ${sensors.length} clusters; at most ${MAX_SENSOR_CONTEXTS} in one run (run init again for the rest)`);
  if (options.offline && (options.centralContext || sensors.length)) {
    problems.add('--offline', 'cannot plan several clusters offline (their issuers are read from the clusters)');
  }
  if (options.planFile && options.offline) problems.add(src('planFile'), 'cannot be combined with --offline: applying needs the live state');
  if (options.planFile && options.dryRun) problems.add(src('planFile'), 'cannot be combined with --dry-run: the saved plan already is the dry run');

  if (options.offline) {
    const missing: string[] = [];
    if (!options.provider && provider === undefined) {
      const guess = options.oidcIssuer && v.eksIssuerRegion(options.oidcIssuer) ? 'eks' : undefined;
      if (guess) options.provider = guess;
      else missing.push('--provider');
    }
    if (!options.accountId && values.accountId === undefined) missing.push('--account-id');
    if (!options.oidcIssuer && values.oidcIssuer === undefined) missing.push('--oidc-issuer');
    if (!options.region && values.region === undefined) {
      const r = options.oidcIssuer ? v.eksIssuerRegion(options.oidcIssuer) : undefined;
      if (r) options.region = r;
      else missing.push('--region');
    }
    for (const m of missing) problems.add(m, 'is required with --offline (nothing is detected offline)');
  }

  // Cross-field rules that need no network.
  if (options.region && options.oidcIssuer) {
    const fromIssuer = v.eksIssuerRegion(options.oidcIssuer);
    if (fromIssuer && fromIssuer !== options.region) {
      problems.add(src('region'), `"${options.region}" does not match the EKS issuer's region "${fromIssuer}" (${options.oidcIssuer})`);
    }
  }
  if (options.permissionsBoundary && options.region) {
    const want = v.partitionOfRegion(options.region);
    const got = v.partitionOfArn(options.permissionsBoundary);
    if (got && got !== want) problems.add(src('permissionsBoundary'), `is in partition "${got}" but region ${options.region} is in "${want}"`);
  }
  if (options.ecrRegion && options.region && v.partitionOfRegion(options.ecrRegion) !== v.partitionOfRegion(options.region)) {
    problems.add(src('ecrRegion'), `"${options.ecrRegion}" is in another partition than the cluster region ${options.region}; IAM cannot grant across partitions`);
  }

  problems.throwIfAny(`Run "rhacs-sts ${command} --help" for every option and an example.`);
  return options;
}

function checkConfigKeys(config: ConfigFile, problems: ProblemList): void {
  const known = new Set(OPTION_SPECS.map(configKey));
  for (const k of Object.keys(config.data)) {
    if (k === 'config') problems.add(`${config.path}: ${k}`, 'a config file cannot name another config file');
    else if (!known.has(k)) {
      const near = [...known].find((x) => x.replace(/-/g, '') === k.replace(/[-_]/g, '').toLowerCase());
      problems.add(`${config.path}: ${k}`, `is not an option${near ? ` (did you mean "${near}"?)` : ''}; keys are the flags without "--", e.g. role-name`);
    }
  }
}

export function flagName(s: OptionSpec): string {
  return /--[a-z-]+/.exec(s.flags)![0];
}
