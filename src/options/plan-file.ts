/**
 * Saved plans: `rhacs-sts plan --output json > plan.json`, reviewed, then `rhacs-sts init --plan
 * plan.json`. The JSON document carries, besides the plan, the inputs it was built from
 * (`inputs`), so that init can read the live state for exactly those names, rebuild the plan and
 * refuse when it no longer matches what was reviewed.
 */
import { readFileSync } from 'node:fs';
import type { Detected } from '../discover.js';
import type { ClusterRole } from '../targets.js';
import { InputError, ProblemList } from '../errors.js';
import type { DiscoverInput } from '../kube/session.js';
import { MAX_SENSOR_CONTEXTS, MECHANISMS, PROVIDERS, type Options, type Provider } from './options.js';
import type { Component, Decisions, Mechanism, Plan } from '../plan/model.js';
import * as v from '../validate.js';


/** The platforms a saved plan may be for: AWS's (a saved plan of another cloud is not supported yet). */
const SAVED_PLAN_PROVIDERS: readonly Provider[] = PROVIDERS.filter((p) => p === 'eks' || p === 'openshift');
export const PLAN_VERSION = 1;

/** The inputs a plan was built from, as saved in its JSON document. */
export interface PlanInputs {
  clusters: {
    /** Context as given (absent: the kubeconfig's current context). */
    context?: string;
    /** The context name it resolved to, to notice a kubeconfig pointing elsewhere now. */
    kubeContext?: string;
    role: ClusterRole;
    provider: Provider;
    issuer: string;
    namespace: string;
    components: Component[];
  }[];
  /** Only when given as flags: otherwise they are detected again. */
  provider?: Provider;
  oidcIssuer?: string;
  clusterName?: string;
  roleName: string;
  rolePath: string;
  permissionsBoundary?: string;
  delegatedScanning: boolean;
  ecr: { registryId: string; region?: string; repositories: string[]; assumeRoleArn?: string };
  restart: boolean;
  adoptRole: boolean;
  adoptOidcProvider: boolean;
  replaceRoleWiring?: boolean;
  /** EKS: how the pods get the role (absent in plans saved before it was recorded: not given). */
  mechanism?: Mechanism;
  /** Managed policies to attach, those in place included (absent: none given). */
  attachPolicyArns?: string[];
  /** Cross-account ECR: the role in the registry account Central assumes, and its external ID. */
  ecrAssumeRole?: string;
  ecrAssumeRoleExternalId?: string;
  /** Name of the ECR integration in RHACS, when given. */
  integrationName?: string;
}

export function planInputs(options: Options, decisions: Decisions, detected: Pick<Detected, 'clusters'> | undefined, plan: Plan): PlanInputs {
  const clusters = detected
    ? detected.clusters.map((c) => ({
      ...(c.target.context !== undefined ? { context: c.target.context } : {}),
      kubeContext: c.kubeContext,
      role: c.target.role,
      provider: c.facts.provider,
      issuer: c.facts.issuer,
      namespace: c.facts.namespace,
      components: c.facts.components,
    }))
    : [{ role: 'both' as const, provider: plan.provider, issuer: plan.oidcProvider.url, namespace: options.namespace ?? 'stackrox', components: ['central', 'sensor'] as Component[] }];
  return {
    clusters,
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.oidcIssuer ? { oidcIssuer: options.oidcIssuer } : {}),
    ...(plan.clusterName ? { clusterName: plan.clusterName } : {}),
    roleName: decisions.roleName,
    rolePath: decisions.rolePath,
    ...(decisions.permissionsBoundary ? { permissionsBoundary: decisions.permissionsBoundary } : {}),
    delegatedScanning: decisions.delegatedScanning,
    ecr: { registryId: decisions.ecr.registryId, ...(decisions.ecr.region ? { region: decisions.ecr.region } : {}), repositories: [...decisions.ecr.repositories], ...(decisions.ecr.assumeRoleArn ? { assumeRoleArn: decisions.ecr.assumeRoleArn } : {}) },
    restart: decisions.restart,
    adoptRole: decisions.adoptRole,
    adoptOidcProvider: decisions.adoptOidcProvider,
    ...(decisions.replaceRoleWiring ? { replaceRoleWiring: true } : {}),
    ...(decisions.mechanism && clusters.some((c) => c.provider === 'eks') ? { mechanism: decisions.mechanism } : {}),
    ...(decisions.attachPolicyArns?.length ? { attachPolicyArns: [...decisions.attachPolicyArns] } : {}),
    ...(options.ecrAssumeRole ? { ecrAssumeRole: options.ecrAssumeRole } : {}),
    ...(options.ecrAssumeRoleExternalId ? { ecrAssumeRoleExternalId: options.ecrAssumeRoleExternalId } : {}),
    ...(options.integrationName ? { integrationName: options.integrationName } : {}),
  };
}

/** A saved plan document: the plan as `planToJson` wrote it, plus its inputs. */
export interface SavedPlan {
  path: string;
  doc: Record<string, unknown> & { accountId: string; region: string; actions: SavedAction[] };
  inputs: PlanInputs;
}

export interface SavedAction {
  id: string;
  type: string;
  target: string;
  status: string;
  summary?: string;
  current?: unknown;
  desired?: unknown;
}

const SOURCE = '--plan';
const RESAVE = 'Save the plan again with: rhacs-sts plan --output json > plan.json (with the same flags), review it, then run rhacs-sts init --plan plan.json.';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

export function loadPlanFile(path: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError([{ source: SOURCE, message: `cannot read "${path}" (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})` }]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError([{ source: SOURCE, message: `"${path}" is not JSON (${(err as Error).message})` }], RESAVE);
  }
  return parseSavedPlan(path, doc);
}

/** Checks a parsed plan document; every problem is reported at once, each naming --plan. */
export function parseSavedPlan(path: string, doc: unknown): SavedPlan {
  const problems = new ProblemList();
  const bad = (message: string) => problems.add(SOURCE, `${path}: ${message}`);
  if (!isObject(doc)) {
    bad('is not a plan (a JSON object written by "rhacs-sts plan --output json")');
    problems.throwIfAny(RESAVE);
  }
  const d = doc as Record<string, unknown>;
  if (d.planVersion !== PLAN_VERSION) {
    bad(d.planVersion === undefined
      ? 'has no planVersion: it is not a plan written by "rhacs-sts plan --output json"'
      : `has planVersion ${JSON.stringify(d.planVersion)}; this version of rhacs-sts reads planVersion ${PLAN_VERSION}`);
    problems.throwIfAny(RESAVE);
  }
  if (d.command !== 'init') bad(`is a plan for "${String(d.command)}", not for init`);
  if (d.offline === true) bad('was made with --offline, without reading the live state, so it cannot be checked against it; make it against the cluster and account');
  if (d.applied !== undefined) bad('is the result of an init run, not a saved plan');
  if (Array.isArray(d.blockers) && d.blockers.length > 0) {
    bad(`could not be applied when it was made: ${(d.blockers as { message?: string }[]).map((b) => b.message).join(' ')}`);
  }
  if (!isString(d.accountId) || !/^\d{12}$/.test(d.accountId)) bad('has no valid accountId');
  if (!isString(d.region)) bad('has no region');
  // The plan's own top-level fields are input too: each is checked before anything is contacted.
  if (!SAVED_PLAN_PROVIDERS.includes(d.provider as Provider)) bad(`provider: ${JSON.stringify(d.provider)} is not a provider rhacs-sts supports (${SAVED_PLAN_PROVIDERS.join(' or ')})`);
  if (d.mechanism !== undefined && !MECHANISMS.includes(d.mechanism as Mechanism)) bad(`mechanism: ${JSON.stringify(d.mechanism)} is not a mechanism (${MECHANISMS.join(' or ')})`);
  if (d.partition !== undefined && !v.PARTITIONS.includes(d.partition as v.Partition)) bad(`partition: ${JSON.stringify(d.partition)} is not an AWS partition`);
  else if (isString(d.partition) && isString(d.region) && !v.region(d.region) && v.partitionOfRegion(d.region) !== d.partition) bad(`partition: "${d.partition}" does not match region ${d.region}`);
  if (d.clusterName !== undefined && (!isString(d.clusterName) || v.clusterName(d.clusterName))) bad(`clusterName: ${JSON.stringify(d.clusterName)} is not a cluster name`);
  if (d.offline !== undefined && typeof d.offline !== 'boolean') bad('offline must be true or false');
  if (!Array.isArray(d.actions) || !d.actions.every((a) => isObject(a) && isString(a.id) && isString(a.type) && isString(a.status))) {
    bad('has no valid list of actions (each with id, type and status)');
  }
  const inputs = d.inputs;
  if (!isObject(inputs)) {
    bad('has no "inputs" section (the names and choices it was built from)');
  } else {
    const clusters = inputs.clusters;
    if (!Array.isArray(clusters) || clusters.length === 0 || clusters.length > MAX_SENSOR_CONTEXTS + 1 || !clusters.every((c) =>
      isObject(c) && isString(c.issuer) && isString(c.namespace) && SAVED_PLAN_PROVIDERS.includes(c.provider as Provider)
      && ['both', 'central', 'sensor'].includes(c.role as string)
      && (c.context === undefined || isString(c.context)) && (c.kubeContext === undefined || isString(c.kubeContext)))) {
      bad(`inputs.clusters must list 1 to ${MAX_SENSOR_CONTEXTS + 1} clusters, each with provider, issuer, namespace and role`);
    }
    if (!isString(inputs.roleName)) bad('inputs.roleName is missing');
    if (!isString(inputs.rolePath)) bad('inputs.rolePath is missing');
    for (const k of ['delegatedScanning', 'restart', 'adoptRole', 'adoptOidcProvider'] as const) {
      if (typeof inputs[k] !== 'boolean') bad(`inputs.${k} must be true or false`);
    }
    if (inputs.replaceRoleWiring !== undefined && typeof inputs.replaceRoleWiring !== 'boolean') bad('inputs.replaceRoleWiring must be true or false');
    const ecr = inputs.ecr;
    if (!isObject(ecr) || !isString(ecr.registryId) || !Array.isArray(ecr.repositories) || !ecr.repositories.every(isString)
      || (ecr.region !== undefined && !isString(ecr.region)) || (ecr.assumeRoleArn !== undefined && !isString(ecr.assumeRoleArn))) {
      bad('inputs.ecr must have registryId and a list of repositories');
    }
    if (inputs.mechanism !== undefined && !MECHANISMS.includes(inputs.mechanism as Mechanism)) bad(`inputs.mechanism: ${JSON.stringify(inputs.mechanism)} is not a mechanism (${MECHANISMS.join(' or ')})`);
    if (inputs.attachPolicyArns !== undefined && (!Array.isArray(inputs.attachPolicyArns) || !inputs.attachPolicyArns.every(isString))) bad('inputs.attachPolicyArns must be a list of policy ARNs');
    for (const k of ['provider', 'oidcIssuer', 'clusterName', 'permissionsBoundary', 'ecrAssumeRole', 'ecrAssumeRoleExternalId', 'integrationName'] as const) {
      if (inputs[k] !== undefined && !isString(inputs[k])) bad(`inputs.${k} must be a string`);
    }
  }
  if (problems.empty) checkInputValues(inputs as unknown as PlanInputs, d.region as string, bad);
  problems.throwIfAny(RESAVE);
  return { path, doc: d as SavedPlan['doc'], inputs: inputs as unknown as PlanInputs };
}

/** A saved plan is input like any flag: every value passes the same checks (an edited file too). */
function checkInputValues(i: PlanInputs, region: string, bad: (message: string) => void): void {
  const check = (what: string, value: string | undefined, fn: v.Check) => {
    const err = value === undefined ? undefined : fn(value);
    if (err) bad(`${what}: ${err}`);
  };
  check('inputs.roleName', i.roleName, v.roleName);
  check('inputs.rolePath', i.rolePath, v.rolePath);
  check('inputs.clusterName', i.clusterName, v.clusterName);
  check('inputs.permissionsBoundary', i.permissionsBoundary, v.policyArn);
  check('inputs.ecr.registryId', i.ecr.registryId, v.accountId);
  check('inputs.ecr.region', i.ecr.region, v.region);
  if (i.ecr.assumeRoleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@-]{1,64}$/.test(i.ecr.assumeRoleArn)) bad(`inputs.ecr.assumeRoleArn: "${i.ecr.assumeRoleArn}" is not a role ARN`);
  for (const r of i.ecr.repositories) check('inputs.ecr.repositories', r, v.ecrRepository);
  if (i.provider !== undefined && !SAVED_PLAN_PROVIDERS.includes(i.provider)) bad(`inputs.provider: "${i.provider}" is not a provider rhacs-sts supports (${SAVED_PLAN_PROVIDERS.join(' or ')})`);
  check('inputs.oidcIssuer', i.oidcIssuer, v.issuerUrl);
  for (const a of i.attachPolicyArns ?? []) check('inputs.attachPolicyArns', a, v.policyArn);
  check('inputs.ecrAssumeRole', i.ecrAssumeRole, v.roleName);
  check('inputs.ecrAssumeRoleExternalId', i.ecrAssumeRoleExternalId, v.externalId);
  if (i.ecrAssumeRoleExternalId !== undefined && i.ecrAssumeRole === undefined) bad('inputs.ecrAssumeRoleExternalId: needs inputs.ecrAssumeRole');
  check('inputs.integrationName', i.integrationName, v.integrationName);
  check('region', region, v.region);
  const issuers = [...(i.oidcIssuer ? [i.oidcIssuer] : []), ...i.clusters.map((c) => c.issuer)];
  for (const [n, c] of i.clusters.entries()) {
    const at = `inputs.clusters[${n}]`;
    check(`${at}.issuer`, c.issuer, v.issuerUrl);
    if (!v.issuerUrl(c.issuer) && v.normaliseIssuer(c.issuer).value !== c.issuer) bad(`${at}.issuer: "${c.issuer}" is not written as rhacs-sts writes an issuer (${v.normaliseIssuer(c.issuer).value})`);
    check(`${at}.namespace`, c.namespace, v.dns1123Label);
    check(`${at}.context`, c.context, kubeContextName);
    check(`${at}.kubeContext`, c.kubeContext, kubeContextName);
    if (!Array.isArray(c.components) || c.components.length === 0 || !c.components.every((x) => x === 'central' || x === 'sensor')) {
      bad(`${at}.components must list central and/or sensor`);
    }
  }
  // The clusters as plan lays them out: one cluster for everything, or Central's and the secured clusters, each named once.
  const roles = i.clusters.map((c) => c.role);
  if (roles.includes('both') && i.clusters.length > 1) bad('inputs.clusters: a cluster with role "both" is the only cluster of a plan');
  if (roles.filter((r) => r === 'central').length > 1) bad('inputs.clusters: more than one cluster has role "central"');
  if (i.clusters.some((c) => c.role === 'sensor' && c.context === undefined)) bad('inputs.clusters: a cluster with role "sensor" needs its context');
  const contexts = i.clusters.map((c) => c.context ?? '');
  if (new Set(contexts).size !== contexts.length) bad('inputs.clusters: names a context more than once');
  // The cross-field rules the flags pass.
  if (!v.region(region)) {
    const want = v.partitionOfRegion(region);
    for (const issuer of issuers) {
      const r = v.eksIssuerRegion(issuer);
      if (r && r !== region) bad(`region: "${region}" does not match the EKS issuer's region "${r}" (${issuer})`);
    }
    const boundary = i.permissionsBoundary ? v.partitionOfArn(i.permissionsBoundary) : undefined;
    if (boundary && boundary !== want) bad(`inputs.permissionsBoundary: is in partition "${boundary}" but region ${region} is in "${want}"`);
    for (const a of i.attachPolicyArns ?? []) {
      const got = v.policyArn(a) ? undefined : v.partitionOfArn(a);
      if (got && got !== want) bad(`inputs.attachPolicyArns: "${a}" is in partition "${got}" but region ${region} is in "${want}"`);
    }
    if (i.ecr.region && !v.region(i.ecr.region) && v.partitionOfRegion(i.ecr.region) !== want) bad(`inputs.ecr.region: "${i.ecr.region}" is in another partition than the region ${region}`);
  }
}

/** A kubeconfig context name: printable, without control characters. */
const kubeContextName: v.Check = (x) => (x.length <= 253 && /^[^\x00-\x1f\x7f-\x9f]+$/.test(x) ? undefined : 'is not a kubeconfig context name (1 to 253 printable characters)');

/**
 * The options that rebuild a saved plan: its inputs over the command line's. A flag that would
 * change what the plan fixes is refused (the plan is what was reviewed); flags about how to run
 * (--yes, --output, --kubeconfig, --profile, --timeout, --helm-values-out, …) are kept.
 */
export function optionsFromPlan(options: Options, saved: SavedPlan): { options: Options; perCluster: Record<string, Partial<DiscoverInput>> } {
  const i = saved.inputs;
  const central = i.clusters.find((c) => c.role === 'central');
  const sensors = i.clusters.filter((c) => c.role === 'sensor');
  const single = i.clusters.length === 1 ? i.clusters[0]! : undefined;
  const fixed: Partial<Options> = {
    provider: i.provider,
    oidcIssuer: i.oidcIssuer,
    clusterName: i.clusterName,
    region: saved.doc.region,
    roleName: i.roleName,
    rolePath: i.rolePath,
    permissionsBoundary: i.permissionsBoundary,
    delegatedScanning: i.delegatedScanning,
    ecrRegistryId: i.ecr.registryId,
    ecrRegion: i.ecr.region,
    ecrRepositories: i.ecr.repositories,
    restart: i.restart,
    adoptRole: i.adoptRole,
    adoptOidcProvider: i.adoptOidcProvider,
    replaceRoleWiring: i.replaceRoleWiring === true,
    mechanism: i.mechanism,
    attachPolicyArns: [...(i.attachPolicyArns ?? [])],
    ecrAssumeRole: i.ecrAssumeRole,
    ecrAssumeRoleExternalId: i.ecrAssumeRoleExternalId,
    integrationName: i.integrationName,
    context: single?.context,
    centralContext: central?.context,
    sensorContexts: sensors.flatMap((c) => (c.context !== undefined ? [c.context] : [])),
    namespace: single?.namespace,
  };

  const problems = new ProblemList();
  const differs = (flag: string, given: unknown, planned: unknown) => {
    if (JSON.stringify(given) !== JSON.stringify(planned)) {
      problems.add(flag, `is ${JSON.stringify(given)}, but ${saved.path} was planned with ${planned === undefined ? 'none' : JSON.stringify(planned)}; the saved plan fixes it, so drop the flag (or make a new plan)`);
    }
  };
  const check = <K extends keyof Options>(key: K, flag: string, isSet: (x: Options[K]) => boolean) => {
    if (isSet(options[key])) differs(flag, options[key], fixed[key]);
  };
  const defined = (x: unknown) => x !== undefined;
  check('provider', '--provider', defined);
  check('oidcIssuer', '--oidc-issuer', defined);
  check('clusterName', '--cluster-name', defined);
  check('region', '--region', defined);
  check('roleName', '--role-name', defined);
  check('rolePath', '--role-path', (x) => x !== '/');
  check('permissionsBoundary', '--permissions-boundary', defined);
  check('delegatedScanning', '--delegated-scanning', defined);
  check('ecrRegistryId', '--ecr-registry-id', defined);
  check('ecrRegion', '--ecr-region', defined);
  check('ecrRepositories', '--ecr-repository', (x) => x.length > 0);
  check('restart', '--no-restart', (x) => x === false);
  check('adoptRole', '--adopt-role', (x) => x === true);
  check('adoptOidcProvider', '--adopt-oidc-provider', (x) => x === true);
  check('mechanism', '--mechanism', defined);
  check('attachPolicyArns', '--attach-policy-arn', (x) => x.length > 0);
  check('ecrAssumeRole', '--ecr-assume-role', defined);
  check('ecrAssumeRoleExternalId', '--ecr-assume-role-external-id', defined);
  check('integrationName', '--integration-name', defined);
  check('context', '--context', defined);
  check('centralContext', '--central-context', defined);
  check('sensorContexts', '--sensor-context', (x) => x.length > 0);
  check('namespace', '--namespace', defined);
  if (options.accountId !== undefined && options.accountId !== saved.doc.accountId) differs('--account-id', options.accountId, saved.doc.accountId);
  problems.throwIfAny(`Flags that choose what to change belong to "rhacs-sts plan"; with --plan, only flags about how to run (--yes, --output, --kubeconfig, --profile, --timeout, --request-timeout, --allow-insecure-skip-tls-verify, --helm-values-out) apply.`);

  const perCluster: Record<string, Partial<DiscoverInput>> = {};
  for (const c of i.clusters) perCluster[c.context ?? ''] = { namespace: c.namespace };
  return { options: { ...options, ...fixed, accountId: undefined }, perCluster };
}

/** A stable text form of a JSON value (object keys sorted), to compare documents. */
function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, val: unknown) => (isObject(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => a.localeCompare(b))) : val)) ?? 'undefined';
}

/**
 * What differs between the saved plan and the plan rebuilt from the live state, one sentence per
 * difference: the account, the clusters' context and issuer, and each action's status, current
 * and desired state. Empty when they match.
 */
export function planDrift(saved: SavedPlan, live: { doc: Record<string, unknown> & { actions: SavedAction[] }; detected?: Pick<Detected, 'clusters'> }): string[] {
  const out: string[] = [];
  const s = saved.doc;
  const l = live.doc;
  if (s.accountId !== l.accountId) out.push(`AWS account: the plan is for ${s.accountId}, your credentials are for ${String(l.accountId)}`);
  if (s.region !== l.region) out.push(`region: was ${s.region}, now ${String(l.region)}`);
  for (const c of live.detected?.clusters ?? []) {
    const was = saved.inputs.clusters.find((x) => (x.context ?? '') === c.target.key);
    if (!was) continue;
    const label = c.target.context ? `context ${c.target.context}` : 'the current context';
    if (was.kubeContext && was.kubeContext !== c.kubeContext) out.push(`${label}: was "${was.kubeContext}", the kubeconfig now selects "${c.kubeContext}"`);
    if (was.issuer !== c.facts.issuer) out.push(`${label}: the cluster's issuer was ${was.issuer}, now ${c.facts.issuer}`);
  }
  const before = new Map(s.actions.map((a) => [a.id, a]));
  const after = new Map(l.actions.map((a) => [a.id, a]));
  const name = (a: SavedAction) => `${a.type} ${a.target}`;
  for (const [id, a] of before) {
    const b = after.get(id);
    if (!b) {
      out.push(`${name(a)}: planned to ${a.status === 'unchanged' ? 'stay unchanged' : a.status}, no longer part of the plan`);
      continue;
    }
    if (a.status !== b.status) out.push(`${name(a)}: status was "${a.status}", now "${b.status}"`);
    else if (canonical(a.desired) !== canonical(b.desired)) out.push(`${name(a)}: the desired state differs`);
    else if (canonical(a.current) !== canonical(b.current)) out.push(`${name(a)}: its current state changed since the plan was saved`);
    else if (a.target !== b.target || a.type !== b.type) out.push(`${name(a)}: now ${name(b)}`);
  }
  for (const [id, b] of after) {
    if (!before.has(id)) out.push(`${name(b)}: new in the live plan (status "${b.status}")`);
  }
  return out;
}
