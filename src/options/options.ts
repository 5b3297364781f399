/**
 * Options: one table (OPTION_SPECS) describes every flag, its environment variable and its config
 * key; `parseOptions` turns raw flag values plus the environment into one typed, validated object.
 * Nothing below the entry point reads process.argv or process.env.
 */
import { azureOptions } from './azure.js';
import { gcpOptions } from './gcp.js';
import { ProblemList, type InputError } from '../errors.js';
import { parseConnectTo } from '../net/https.js';
import * as v from '../validate.js';
import { checkCrossFlagRules } from './rules.js';
import { checkPlatformFlags } from './platform-flags.js';

export * from './types.js';
import { CONNECT_TO_ENV, MECHANISMS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, type CentralCredentialInput, type CloudId, type CommandName, type Mechanism, type Options, type OutputFormat, type Provider } from './types.js';
import { readEnvironment, type Environment } from './environment.js';

type Kind = 'string' | 'list' | 'boolean' | 'negatable';

export interface OptionSpec {
  /** Property name in the raw options object and key in a config file. */
  key: string;
  flags: string;
  description: string;
  kind: Kind;
  env: string;
  commands: readonly CommandName[];
  /** A boolean that can also be said false: the description of its --no- form. */
  negation?: string;
}

// Each flag is offered (and listed by --help) only where it does something.
const ALL: readonly CommandName[] = ['init', 'plan', 'verify', 'uninstall', 'status'];
/** Commands that talk to Central's API (status reads only the record on Central's service account). */
const ASKS_CENTRAL: readonly CommandName[] = ['init', 'plan', 'verify', 'uninstall'];
/** Flags `issuer publish` takes too (the cluster, the AWS account, how to run). */
const WITH_PUBLISH = (c: readonly CommandName[]): readonly CommandName[] => [...c, 'issuer-publish'];
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
  spec('provider', '--provider <eks|openshift|gke|aks>', 'cluster type; detected from the cluster when omitted', 'string'),
  spec('cloud', '--cloud <aws|gcp|azure>', 'OpenShift: the cloud the cluster runs on, whose identity RHACS takes (default: detected from the cluster\'s Infrastructure object; EKS, GKE and AKS each have one)', 'string'),
  spec('namespace', '-n, --namespace <ns>', 'namespace RHACS runs in (default: detected, else "stackrox")', 'string'),
  spec('clusterName', '--cluster-name <name>', 'cluster name, used in the default role name and in tags', 'string', WITH_PUBLISH(ALL)),
  spec('region', '--region <region>', 'AWS region of the cluster (derived from an EKS issuer when omitted)', 'string', WITH_PUBLISH(ALL)),
  spec('accountId', '--account-id <id>', 'AWS account that owns the role and OIDC provider (default: the caller\'s)', 'string'),
  spec('oidcIssuer', '--oidc-issuer <url>', 'service-account token issuer URL (default: detected from the cluster)', 'string'),
  spec('roleName', '--role-name <name>', 'IAM role name (default: rhacs-sts-<cluster-name>, or rhacs-sts)', 'string'),
  spec('rolePath', '--role-path <path>', 'IAM path for a new role (default: /)', 'string', PLANNING),
  {
    ...spec('delegatedScanning', '--delegated-scanning', 'Sensor gets the role too: with delegated scanning Sensor scans images, so it pulls them from ECR itself (default: as set before; for a new set-up, yes where only Sensor runs)', 'boolean', POLICY_AND_VERIFY),
    negation: 'Sensor does not get the role: takes out its trust and wiring where an earlier run set them',
  },
  spec('ecrRegistryId', '--ecr-registry-id <account>', 'account that owns the ECR registry (default: the role\'s account)', 'string', POLICY_AND_VERIFY),
  spec('ecrRegion', '--ecr-region <region>', 'region of the ECR registry (default: any region)', 'string', POLICY_AND_VERIFY),
  spec('ecrRepository', '--ecr-repository <name>', 'limit read access to this repository; repeat for more; "team/*" matches a prefix (default: all)', 'list', POLICY_AND_VERIFY),
  spec('attachPolicyArn', '--attach-policy-arn <arn>', 'also attach this managed policy to the role, for the other integrations that use the container IAM role (S3 backups, Security Hub); repeat for more', 'list', ['init', 'plan']),
  spec('permissionsBoundary', '--permissions-boundary <arn>', 'managed policy ARN to set as the new role\'s permissions boundary', 'string', PLANNING),
  spec('mechanism', '--mechanism <irsa|pod-identity>', 'EKS: how the pods get the role: irsa (service account annotation, IAM OIDC provider; the default) or pod-identity (EKS Pod Identity association; needs the Pod Identity Agent add-on and RHACS 4.4 or later)', 'string', POLICY_AND_VERIFY),
  spec('adoptAssociation', '--adopt-association', 'EKS Pod Identity: point an existing association of Central\'s or Sensor\'s service account that rhacs-sts did not create at the role (tagged as ours; uninstall deletes it)', 'boolean', PLANNING),
  spec('replaceRoleWiring', '--replace-role-wiring', 'point Central/Sensor at this role even where they already name another role (it is recorded on the object and put back by uninstall)', 'boolean', PLANNING),
  spec('adoptRole', '--adopt-role', 'take over an existing role that rhacs-sts did not create (adds our tag and statements)', 'boolean', PLANNING),
  spec('adoptOidcProvider', '--adopt-oidc-provider', 'let rhacs-sts add its audience and tag to an existing OIDC provider it did not create', 'boolean', PLANNING),
  spec('configureIntegration', '--configure-integration', 'also configure RHACS\'s Amazon ECR integration to use the container IAM role (on GKE: its Artifact Registry integration, on AKS: its Azure Container Registry integration for --acr, to use workload identity), through Central\'s API, once Central\'s own test of it passes (credentials: ROX_API_TOKEN, ROX_API_TOKEN_FILE or ROX_ADMIN_PASSWORD)', 'boolean', PLANNING),
  spec('integrationName', '--integration-name <name>', 'name of the ECR integration rhacs-sts creates in RHACS (default: "Amazon ECR <registry> <region> (rhacs-sts)"; on GKE "Google Artifact Registry <location>-docker.pkg.dev/<project> (rhacs-sts)"; on AKS "Azure Container Registry <registry>.azurecr.io (rhacs-sts)")', 'string', PLANNING),
  spec('adoptIntegration', '--adopt-integration', 'let rhacs-sts switch an existing ECR integration for the same registry and region to the container IAM role (its static keys stop being used); on GKE, an Artifact Registry integration for the same endpoint and project to workload identity (its key stops being used); on AKS, an Azure Container Registry integration for the same registry (its password stops being used)', 'boolean', PLANNING),
  spec('ecrAssumeRole', '--ecr-assume-role <name>', 'cross-account ECR: the role in the registry account that Central assumes (arn:aws:iam::<registry>:role/<name>; commercial partition only)', 'string', PLANNING),
  spec('ecrAssumeRoleExternalId', '--ecr-assume-role-external-id <id>', 'cross-account ECR: the external ID that role\'s trust policy requires', 'string', PLANNING),
  spec('gcpProject', '--gcp-project <id>', 'GKE, OpenShift on Google Cloud: the Google Cloud project of the service account and the grants (default: the cluster\'s, from its kubeconfig context or issuer, or OpenShift\'s Infrastructure object)', 'string', [...PLANNING, 'uninstall', 'status', 'verify']),
  spec('gcpServiceAccount', '--gcp-service-account <id|email>', 'GKE: the Google service account RHACS acts as (default: rhacs-<cluster-name>, created and marked as rhacs-sts\'s)', 'string', [...PLANNING, 'uninstall', 'status', 'verify']),
  spec('garRepository', '--gar-repository <location>/<repo>', 'GKE: grant Artifact Registry read on this repository only (e.g. europe-west1/images); repeat for more (default: every repository of the project)', 'list', [...PLANNING, 'uninstall', 'status', 'verify']),
  spec('adoptServiceAccount', '--adopt-service-account', 'GKE: let RHACS act as an existing Google service account that rhacs-sts did not create (it is not marked as rhacs-sts\'s; uninstall keeps it)', 'boolean', PLANNING),
  spec('workloadIdentityPool', '--workload-identity-pool <id>', 'OpenShift on Google Cloud: the workload identity pool the cluster\'s provider goes in (default: rhacs-<cluster-name>, 4–32 characters; created and marked as rhacs-sts\'s)', 'string', [...PLANNING, 'uninstall', 'status', 'verify']),
  spec('workloadIdentityProvider', '--workload-identity-provider <id>', 'OpenShift on Google Cloud: the OIDC provider for the cluster\'s issuer in that pool (default: the cluster name, 4–32 characters)', 'string', [...PLANNING, 'uninstall', 'status', 'verify']),
  spec('adoptCredentialsSecret', '--adopt-credentials-secret', 'OpenShift on Google Cloud: replace a Secret gcp-cloud-credentials in RHACS\'s namespace that rhacs-sts did not write (it is marked as rhacs-sts\'s from then on)', 'boolean', PLANNING),
  spec('azureSubscription', '--azure-subscription <id>', 'AKS, OpenShift on Azure: the Azure subscription of the managed identity and the registry (default: AZURE_SUBSCRIPTION_ID, else the az CLI\'s default)', 'string', [...PLANNING, 'uninstall', 'verify', 'status']),
  spec('resourceGroup', '--resource-group <name>', 'AKS, OpenShift on Azure: the cluster\'s resource group, where the managed identity is made (default: AKS from the kubeconfig user or the nodes; OpenShift from its Infrastructure object)', 'string', [...PLANNING, 'uninstall', 'verify', 'status']),
  spec('azureIdentity', '--azure-identity <name>', 'AKS, OpenShift on Azure: the user-assigned managed identity RHACS acts as (default: rhacs-sts-<cluster-name>, created and tagged as rhacs-sts\'s)', 'string', [...PLANNING, 'uninstall', 'verify', 'status']),
  spec('acr', '--acr <name|resource id>', 'AKS, OpenShift on Azure: the Azure Container Registry to assign AcrPull on, and verify reads (a name in --resource-group, or the registry\'s resource id)', 'string', [...POLICY_AND_VERIFY, 'status']),
  spec('acrRepository', '--acr-repository <name>', 'AKS verify: a repository of --acr whose tags verify lists, proving the pull end to end (default: none; the AcrPull assignment on the registry is checked instead)', 'string', ['verify']),
  spec('centralEndpoint', '--central-endpoint <url>', 'Central\'s API at this URL (a route or load balancer) instead of a port-forward to the central service', 'string', ASKS_CENTRAL),
  spec('useGeneratedAdminPassword', '--use-generated-admin-password', 'log in to Central as admin with the password the operator generated (Secret central-htpasswd, key password)', 'boolean', ASKS_CENTRAL),
  spec('centralContext', '--central-context <ctx>', 'kubeconfig context of the cluster that runs Central, when Sensor runs elsewhere', 'string'),
  spec('sensorContext', '--sensor-context <ctx>', 'kubeconfig context of a secured cluster whose Sensor pulls from ECR (delegated scanning); repeat for more; one role trusts every cluster', 'list'),
  spec('rolePerCluster', '--role-per-cluster', 'give each secured cluster (--sensor-context) its own role, rhacs-sts-<cluster>, trusted by its own issuer only, instead of one role for all; Central keeps its role', 'boolean', ['init', 'plan', 'status']),
  spec('context', '--context <ctx>', 'kubeconfig context (default: the current context)', 'string', WITH_PUBLISH(ALL)),
  spec('kubeconfig', '--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', 'string', WITH_PUBLISH(ALL)),
  spec('profile', '--profile <name>', 'AWS profile for credentials (default: the SDK chain: env, $AWS_PROFILE, SSO, web identity)', 'string', WITH_PUBLISH(ALL)),
  spec('restart', '--no-restart', 'roll no pods now: EKS restarts and OpenShift env changes wait (Helm: in the values; refused for operator and manifest installs on OpenShift); print how to roll out later', 'negatable', RESTARTING),
  spec('timeout', '--timeout <duration>', 'how long to wait for rollouts (and on GKE for IAM propagation, at most 3m), e.g. 90s, 5m (default: 5m)', 'string', WITH_PUBLISH(APPLYING)),
  spec('requestTimeout', '--request-timeout <duration>', 'how long one request to AWS may take, connection to last byte, before it is retried or fails, e.g. 10s, 2m (default: 30s)', 'string', WITH_PUBLISH(ALL)),
  spec('allowInsecureSkipTlsVerify', '--allow-insecure-skip-tls-verify', 'use a kubeconfig cluster that sets insecure-skip-tls-verify: true (refused otherwise: its server\'s certificate is not checked, yet it gets your credentials and tells rhacs-sts the issuer IAM will trust); warns on every run', 'boolean', WITH_PUBLISH(ALL)),
  spec('helmValuesOut', '--helm-values-out <file>', 'Helm installs: write the values that keep the change (init) or undo it (uninstall), one file per release (this path with the release name before the extension); --dry-run writes none', 'string', ['init', 'uninstall']),
  spec('planFile', '--plan <file>', 'apply a plan saved with "plan --output json", refusing if the live state has drifted since', 'string', ['init']),
  spec('keepOidcProvider', '--keep-oidc-provider', 'uninstall: keep the IAM OIDC provider even if nothing else uses it', 'boolean', ['uninstall']),
  spec('allClusters', '--all-clusters', 'uninstall: delete the role even if it still trusts clusters outside this run (they lose access); without it only this run\'s clusters are removed from it', 'boolean', ['uninstall']),
  spec('bucket', '--bucket <name>', 'S3 bucket that hosts the issuer (default: <infrastructure name>-rhacs-sts-oidc); its URL https://<bucket>.s3.<region>.amazonaws.com becomes the issuer', 'string', ['issuer-publish', 'init']),
  spec('adoptBucket', '--adopt-bucket', 'publish in an existing bucket rhacs-sts did not create (it is tagged as adopted and never deleted)', 'boolean', ['issuer-publish', 'init']),
  spec('setClusterIssuer', '--set-cluster-issuer', 'also point the cluster at the published issuer (spec.serviceAccountIssuer of authentications.config.openshift.io/cluster): changes the issuer of every bound token and rolls the kube-apiservers; asks again at a terminal', 'boolean', ['issuer-publish', 'init']),
  spec('publishIssuer', '--publish-issuer', 'init on OpenShift without STS: publish the cluster\'s issuer in S3 first (as "issuer publish"), then continue', 'boolean', ['init']),
  spec('skipExchange', '--skip-exchange', 'verify: request no service-account tokens and call no cloud API with them (the end-to-end check is skipped)', 'boolean', ['verify']),
  spec('offline', '--offline', 'contact neither AWS nor Kubernetes: take every fact from flags and print the plan', 'boolean', PLANNING),
  spec('dryRun', '--dry-run', 'read current state and show the plan; change nothing', 'boolean', WITH_PUBLISH(APPLYING)),
  spec('yes', '-y, --yes', 'apply without asking: take the default for every question and skip the confirmation (required when not at a terminal)', 'boolean', WITH_PUBLISH(APPLYING)),
  spec('config', '--config <file>', 'read options from a YAML or JSON file (keys as the flags: role-name, delegated-scanning, …); flags and env win', 'string', WITH_PUBLISH(ALL)),
  spec('output', '-o, --output <text|json>', 'output format: text for people, json (one document on stdout) for scripts', 'string', WITH_PUBLISH(ALL)),
  spec('verbose', '--verbose', 'log every API call to stderr (never credentials or tokens)', 'boolean', WITH_PUBLISH(ALL)),
  spec('quiet', '-q, --quiet', 'only print errors and the result', 'boolean', WITH_PUBLISH(ALL)),
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


/**
 * Each option's value and where it came from (`<key>:source`): the flag, else its environment
 * variable, else the config file. Only the options of `command` are read.
 */
function readSources(command: CommandName, raw: RawOptions, env: Record<string, string | undefined>, config: ConfigFile | undefined, problems: ProblemList): Record<string, unknown> {
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

  return values;
}

/** Reading the merged values: where each came from, a single trimmed value, a list of contexts, a validated value. */
function valueReader(values: Record<string, unknown>, problems: ProblemList) {
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
  return { src, str, contextList, check };
}

/** The values that need more than one check: enumerations, the issuer, lists, durations. */
function parseValues(command: CommandName, { src, str }: ReturnType<typeof valueReader>, values: Record<string, unknown>, problems: ProblemList) {
  const provider = str('provider');
  const cloud = str('cloud');
  checkPlatformFlags(command, provider, cloud, (key, message) => problems.add(src(key), message));
  const mechanism = str('mechanism');
  if (mechanism !== undefined && !MECHANISMS.includes(mechanism as Mechanism)) {
    problems.add(src('mechanism'), `"${mechanism}" is not a mechanism (irsa or pod-identity)`);
  }
  if (mechanism === 'pod-identity' && provider === 'openshift') {
    problems.add(src('mechanism'), 'pod-identity is for EKS only (OpenShift uses web identity: leave --mechanism out)');
  }
  const output = str('output') ?? 'text';
  if (output !== 'text' && output !== 'json') problems.add(src('output'), `"${output}" is not an output format (text or json)`);

  let oidcIssuer = str('oidcIssuer');
  if (oidcIssuer !== undefined) {
    // Uninstall may remove what was once created for an issuer AWS cannot reach; nothing new is trusted.
    const n = v.normaliseIssuer(oidcIssuer, { allowPrivate: command === 'uninstall' });
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

  let requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  const requestTimeout = str('requestTimeout');
  if (requestTimeout !== undefined) {
    const ms = v.parseDuration(requestTimeout);
    if (ms === undefined || ms < 1000 || ms > 3600_000) problems.add(src('requestTimeout'), `"${requestTimeout}" is not a duration between 1s and 1h (e.g. 10s, 2m)`);
    else requestTimeoutMs = ms;
  }
  const garRepositories: Options['garRepositories'] = [];
  for (const r of ((values.garRepository as string[] | undefined) ?? []).map((x) => String(x).trim())) {
    const m = /^([a-z][a-z0-9-]*[a-z0-9])\/([a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$/.exec(r);
    if (!m) problems.add(src('garRepository'), `"${r}" is not <location>/<repository> (e.g. europe-west1/images: a location, and a repository id of lower-case letters, digits and hyphens)`);
    else if (!garRepositories.some((g) => g.location === m[1] && g.repository === m[2])) garRepositories.push({ location: m[1]!, repository: m[2]! });
  }
  return { provider, cloud: cloud as CloudId | undefined, mechanism, output, oidcIssuer, attachPolicyArns, ecrRepositories, garRepositories, timeoutMs, requestTimeoutMs };
}

export function parseOptions(command: CommandName, raw: RawOptions, env: Record<string, string | undefined>, config?: ConfigFile): Options {
  const problems = new ProblemList();
  const values = readSources(command, raw, env, config, problems);
  const read = valueReader(values, problems);
  const { src, str, contextList, check } = read;
  const { provider, cloud, mechanism, output, oidcIssuer, attachPolicyArns, ecrRepositories, garRepositories, timeoutMs, requestTimeoutMs } = parseValues(command, read, values, problems);

  const kubeconfig = str('kubeconfig');
  const connectTo = parseConnectTo(env[CONNECT_TO_ENV] ?? '');
  for (const e of connectTo.errors) problems.add(CONNECT_TO_ENV, e);
  const options: Options = {
    command,
    provider: provider as Provider | undefined,
    ...(cloud ? { cloud } : {}),
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
    rolePerCluster: values.rolePerCluster === true,
    kubeconfig,
    helmValuesOut: str('helmValuesOut'),
    planFile: str('planFile'),
    keepOidcProvider: values.keepOidcProvider === true,
    allClusters: values.allClusters === true,
    skipExchange: command === 'verify' ? values.skipExchange === true : undefined,
    bucket: check('bucket', str('bucket'), v.bucketNameProblem),
    adoptBucket: values.adoptBucket === true,
    setClusterIssuer: values.setClusterIssuer === true,
    publishIssuer: values.publishIssuer as boolean | undefined,
    profile: check('profile', str('profile'), v.profileName),
    // plan and status only read: their cluster sessions refuse writes.
    dryRun: values.dryRun === true || command === 'plan' || command === 'status',
    yes: values.yes === true,
    output: output as OutputFormat,
    offline: values.offline === true,
    adoptRole: values.adoptRole === true,
    replaceRoleWiring: values.replaceRoleWiring === true,
    ...(mechanism !== undefined && MECHANISMS.includes(mechanism as Mechanism) ? { mechanism: mechanism as Mechanism } : {}),
    adoptAssociation: values.adoptAssociation === true,
    adoptOidcProvider: values.adoptOidcProvider === true,
    restart: values.restart !== false,
    timeoutMs,
    requestTimeoutMs,
    allowInsecureSkipTlsVerify: values.allowInsecureSkipTlsVerify === true,
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    configureIntegration: values.configureIntegration as boolean | undefined,
    ...gcpOptions((key, fn) => check(key, str(key), fn)),
    garRepositories,
    adoptServiceAccount: values.adoptServiceAccount === true,
    adoptCredentialsSecret: values.adoptCredentialsSecret === true,
    ...azureOptions((key, fn) => check(key, str(key), fn)),
    centralEndpoint: check('centralEndpoint', str('centralEndpoint'), v.centralEndpoint),
    useGeneratedAdminPassword: values.useGeneratedAdminPassword === true,
    integrationName: check('integrationName', str('integrationName'), v.integrationName),
    adoptIntegration: values.adoptIntegration === true,
    ecrAssumeRole: check('ecrAssumeRole', str('ecrAssumeRole'), v.roleName),
    ecrAssumeRoleExternalId: check('ecrAssumeRoleExternalId', str('ecrAssumeRoleExternalId'), v.externalId),
    centralCredentials: centralCredentials(env, values.useGeneratedAdminPassword === true, problems),
    connectTo: connectTo.value,
    ...(env.NODE_EXTRA_CA_CERTS ? { extraCaCertsFile: env.NODE_EXTRA_CA_CERTS } : {}),
    ...withEnvironment(readEnvironment(env)),
  };
  if (options.ecrRegion === '*') options.ecrRegion = undefined;

  checkCrossFlagRules({ options, src, given: (key) => values[key], problems });

  try {
    problems.throwIfAny(`Run "rhacs-sts ${command} --help" for every option and an example.`);
  } catch (err) {
    // A config file (or the environment) asked for JSON: the error is that document too.
    if (options.output === 'json') (err as InputError).output = 'json';
    throw err;
  }
  return options;
}

/** The environment, when any variable the rooms act on is set (an empty one is the same as none). */
function withEnvironment(environment: Environment): Pick<Options, 'environment'> {
  return Object.keys(environment.kube).length || Object.keys(environment.aws).length || Object.keys(environment.gcp).length || Object.keys(environment.gcpEndpoints).length || Object.keys(environment.azure).length || Object.keys(environment.azureEndpoints).length ? { environment } : {};
}

/**
 * Central credentials as roxctl takes them: ROX_API_TOKEN or ROX_API_TOKEN_FILE (a bearer token),
 * or ROX_ADMIN_PASSWORD (basic auth as admin); never a token and a password together (roxctl
 * refuses that too), and --use-generated-admin-password only instead of them.
 */
function centralCredentials(env: Record<string, string | undefined>, generated: boolean, problems: ProblemList): CentralCredentialInput {
  const set = (k: string) => env[k] !== undefined && env[k] !== '';
  const token = set('ROX_API_TOKEN');
  const tokenFile = set('ROX_API_TOKEN_FILE');
  const password = set('ROX_ADMIN_PASSWORD');
  if ((token || tokenFile) && password) {
    problems.add(token ? 'ROX_API_TOKEN' : 'ROX_API_TOKEN_FILE', 'cannot be used together with ROX_ADMIN_PASSWORD (a token or a password, as roxctl takes them): unset one');
  }
  if (token && tokenFile) problems.add('ROX_API_TOKEN_FILE', 'cannot be used together with ROX_API_TOKEN: unset one');
  if (generated && (token || tokenFile || password)) {
    problems.add('--use-generated-admin-password', `cannot be combined with ${token ? 'ROX_API_TOKEN' : tokenFile ? 'ROX_API_TOKEN_FILE' : 'ROX_ADMIN_PASSWORD'}: choose one way to log in to Central`);
  }
  if (token) return { kind: 'token', token: env.ROX_API_TOKEN!.trim(), source: 'ROX_API_TOKEN' };
  if (tokenFile) return { kind: 'token-file', path: env.ROX_API_TOKEN_FILE!, source: 'ROX_API_TOKEN_FILE' };
  if (password) return { kind: 'password', password: env.ROX_ADMIN_PASSWORD!, source: 'ROX_ADMIN_PASSWORD' };
  if (generated) return { kind: 'generated-password', source: '--use-generated-admin-password' };
  return { kind: 'none' };
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

/**
 * For an option given to a command that does not take it: which commands do, e.g. "--bucket is
 * an option of init and issuer publish, not of plan". Undefined for an option no command takes.
 */
export function optionElsewhere(flag: string, command: CommandName): string | undefined {
  const spec = OPTION_SPECS.find((s) => flagName(s) === flag || (s.kind === 'negatable' && flagName(s).replace(/^--no-/, '--') === flag));
  if (!spec || spec.commands.includes(command)) return undefined;
  const label = (c: CommandName) => (c === 'issuer-publish' ? 'issuer publish' : c);
  const names = spec.commands.map(label).sort();
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
  return `${flag} is an option of ${list}, not of ${label(command)}`;
}
