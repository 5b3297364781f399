/**
 * Every rule between flags that needs no network, in one table, checked after each value is parsed
 * on its own: each adds its problems (naming the flag, or where the value came from), so that all
 * of them are reported at once. Rules that need the cluster or the account (partitions of the
 * account actually used, the mechanism against the clusters) are in decide.ts.
 */
import type { ProblemList } from '../errors.js';
import * as v from '../validate.js';
import { MAX_SENSOR_CONTEXTS, type Options } from './types.js';

/** What a rule reads: the options, where each value came from, and the raw values (what was given at all). */
export interface RuleInput {
  options: Options;
  /** Where a value came from: its flag, environment variable or config-file key. */
  src(key: string): string;
  /** The values as given, before validation (undefined: not given). */
  given(key: string): unknown;
  problems: ProblemList;
}

type Rule = (r: RuleInput) => void;

/** Which clusters the run names, said one way. */
const clusterFlags: Rule = ({ options, src, problems }) => {
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
};

/** How the run runs: offline, a saved plan, a role per cluster. */
const runModes: Rule = ({ options, src, problems }) => {
  const sensors = options.sensorContexts;
  if (options.offline && (options.centralContext || sensors.length)) {
    problems.add('--offline', 'cannot plan several clusters offline (their issuers are read from the clusters)');
  }
  if (options.rolePerCluster && !sensors.length) problems.add(src('rolePerCluster'), 'needs secured clusters: name each with --sensor-context');
  if (options.rolePerCluster && options.planFile) problems.add(src('rolePerCluster'), 'cannot be combined with --plan (a saved plan is for one role)');
  if (options.planFile && options.offline) problems.add(src('planFile'), 'cannot be combined with --offline: applying needs the live state');
  if (options.planFile && options.dryRun) problems.add(src('planFile'), 'cannot be combined with --dry-run: the saved plan already is the dry run');
};

/** --offline takes every fact from flags: the provider and region may follow from an EKS issuer, the rest is required. */
const offlineFacts: Rule = ({ options, given, problems }) => {
  if (!options.offline) return;
  const missing: string[] = [];
  if (!options.provider && given('provider') === undefined) {
    const guess = options.oidcIssuer && v.eksIssuerRegion(options.oidcIssuer) ? 'eks' : undefined;
    if (guess) options.provider = guess;
    else missing.push('--provider');
  }
  if (!options.accountId && given('accountId') === undefined) missing.push('--account-id');
  if (!options.oidcIssuer && given('oidcIssuer') === undefined) missing.push('--oidc-issuer');
  if (!options.region && given('region') === undefined) {
    const r = options.oidcIssuer ? v.eksIssuerRegion(options.oidcIssuer) : undefined;
    if (r) options.region = r;
    else missing.push('--region');
  }
  for (const m of missing) problems.add(m, 'is required with --offline (nothing is detected offline)');
};

/** The region, the EKS issuer and every ARN-valued flag agree on the partition. */
const regionAndPartitions: Rule = ({ options, src, problems }) => {
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
  if (options.region) {
    const want = v.partitionOfRegion(options.region);
    for (const a of options.attachPolicyArns) {
      const got = v.partitionOfArn(a);
      if (got && got !== want) problems.add(src('attachPolicyArn'), `"${a}" is in partition "${got}" but region ${options.region} is in "${want}"`);
    }
  }
  if (options.ecrRegion && options.region && v.partitionOfRegion(options.ecrRegion) !== v.partitionOfRegion(options.region)) {
    problems.add(src('ecrRegion'), `"${options.ecrRegion}" is in another partition than the cluster region ${options.region}; IAM cannot grant across partitions`);
  }
};

/** Cross-account ECR through StackRox's useAssumeRole. */
const crossAccountEcr: Rule = ({ options, src, problems }) => {
  if (options.ecrAssumeRoleExternalId && !options.ecrAssumeRole) {
    problems.add(src('ecrAssumeRoleExternalId'), 'needs --ecr-assume-role (the role whose trust policy asks for it)');
  }
  if (options.ecrAssumeRole && options.region && v.partitionOfRegion(options.region) !== 'aws') {
    problems.add(src('ecrAssumeRole'), `is for the commercial partition only: StackRox builds the role ARN as arn:aws:iam::<registry>:role/<name>, which cannot name a role in ${v.partitionOfRegion(options.region)} (region ${options.region})`);
  }
};

/** The rules, in the order their problems are reported. */
export const CROSS_FLAG_RULES: readonly Rule[] = [
  ({ options, problems }) => { if (options.verbose && options.quiet) problems.add('--quiet', 'cannot be combined with --verbose'); },
  clusterFlags,
  runModes,
  offlineFacts,
  regionAndPartitions,
  crossAccountEcr,
];

export function checkCrossFlagRules(r: RuleInput): void {
  for (const rule of CROSS_FLAG_RULES) rule(r);
}
