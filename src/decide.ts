/**
 * Decisions: a flag beats a prompt, a prompt runs only when a value is still unknown and a person
 * is at the terminal, and every question has a default. Answers fill in the same Options that
 * flags do, so both paths produce the same type and the same plan. Offline facts come from flags alone.
 */
import { InputError, type InputProblem } from './errors.js';
import type { DiscoverInput } from './kube/session.js';
import type { ClusterTarget } from './targets.js';
import { PROVIDERS, type Options, type Provider } from './options/options.js';
import { EKS_ROLE_ANNOTATION, POD_IDENTITY_MIN_RHACS, type BlockerFix, type Decisions, type Facts, type Mechanism, type Plan } from './plan/model.js';
import { before44 } from './plan/restarts.js';
import type { InPlace } from './plan/in-place.js';
import type { EcrScope as EcrGrant } from './clouds/aws/policies.js';
import { isGoBack, type Ui } from './ui/ui.js';
import * as v from './validate.js';

export function defaultRoleName(clusterName: string | undefined): string {
  return clusterName ? `rhacs-sts-${clusterName}`.slice(0, 64) : 'rhacs-sts';
}

/** Facts for --offline: everything from flags (parseOptions already required what is needed). */
export function offlineFacts(options: Options): Facts {
  const region = options.region!;
  return {
    partition: v.partitionOfRegion(region),
    accountId: options.accountId!,
    region,
    clusterName: options.clusterName,
    offline: true,
    clusters: [{
      context: options.context,
      ...(options.clusterName ? { name: options.clusterName } : {}),
      provider: options.provider!,
      issuer: options.oidcIssuer!,
      namespace: options.namespace ?? 'stackrox',
      // Offline we assume a single cluster that runs both Central and Sensor.
      components: ['central', 'sensor'],
      installMethod: 'manifests',
      installEvidence: 'offline: the install method is not known; the plan applies changes live',
    }],
  };
}

/** Rules between options that only init/plan have (parseOptions checks the rest). */
export function checkInitOptions(options: Options): void {
  if (options.sensorContexts.length && options.delegatedScanning === false) {
    throw new InputError([{
      source: '--sensor-context',
      message: 'configures Sensor in its own cluster, which is delegated scanning, but delegated scanning is turned off (delegated-scanning: false)',
    }], 'Drop the false delegated-scanning setting, or drop --sensor-context.');
  }
}

/**
 * Whether Sensor gets the role when nobody said: what is in place (an earlier run's choice, read
 * back from the role and the wiring); else yes with --sensor-context (that is its purpose), and yes
 * where Sensor runs without Central (a secured cluster, where configuring Sensor is the only reason
 * to run rhacs-sts); otherwise no. Trusting Sensor too only helps when delegated scanning is turned
 * on in RHACS (it is off by default there), so least privilege wins; --delegated-scanning asks for it.
 * The wizard offers the same as its default, so --yes takes exactly what Enter would.
 */
export function impliedDelegatedScanning(options: Pick<Options, 'delegatedScanning' | 'sensorContexts'>, facts?: Facts, inPlace: InPlace = {}): boolean {
  return options.delegatedScanning ?? (options.sensorContexts.length > 0 || (inPlace.delegatedScanning ?? (facts ? defaultDelegatedScanning(facts) : false)));
}

/**
 * The default offered at the prompt when nothing is in place: yes only when Sensor runs without
 * Central (a secured cluster), else no, as above.
 */
export function defaultDelegatedScanning(facts: Facts): boolean {
  const comps = facts.clusters.flatMap((c) => c.components);
  return comps.includes('sensor') && !comps.includes('central');
}

/** The ECR scope: each flag given wins; each one not given keeps what is in place; then the defaults. */
export function ecrScopeFrom(options: Options, facts: Facts, inPlace: InPlace = {}): EcrGrant {
  const was = inPlace.ecr;
  const registryId = options.ecrRegistryId ?? was?.registryId ?? facts.accountId;
  const region = options.ecrRegion !== undefined ? (options.ecrRegion === '*' ? undefined : options.ecrRegion) : was?.region;
  const repositories = options.ecrRepositories.length
    ? (options.ecrRepositories.includes('*') ? [] : options.ecrRepositories)
    : [...(was?.repositories ?? [])];
  // Cross-account through StackRox's useAssumeRole: StackRox builds this ARN (commercial partition).
  const assumeRoleArn = options.ecrAssumeRole
    ? `arn:aws:iam::${registryId}:role/${options.ecrAssumeRole}`
    : options.ecrRegistryId === undefined ? was?.assumeRoleArn : undefined;
  return { registryId, ...(region ? { region } : {}), repositories, ...(assumeRoleArn ? { assumeRoleArn } : {}) };
}

/**
 * The partition of every ARN-valued (and region-valued) flag against the partition of the account
 * and region this run actually uses (from STS and detection, not only from --region): IAM cannot
 * attach, bound or grant across partitions. Refused (exit 2, every problem at once) before anything
 * is read for the plan or written.
 */
export function checkPartitions(options: Pick<Options, 'permissionsBoundary' | 'attachPolicyArns' | 'ecrRegion' | 'ecrAssumeRole'>, facts: Pick<Facts, 'partition' | 'accountId' | 'region'>): void {
  const run = facts.partition;
  const where = `this run's account ${facts.accountId} (region ${facts.region}) is in "${run}"`;
  const problems: InputProblem[] = [];
  const boundary = options.permissionsBoundary ? v.partitionOfArn(options.permissionsBoundary) : undefined;
  if (boundary && boundary !== run) {
    problems.push({ source: '--permissions-boundary', message: `"${options.permissionsBoundary}" is in partition "${boundary}" but ${where}` });
  }
  for (const a of options.attachPolicyArns) {
    const got = v.partitionOfArn(a);
    if (got && got !== run) problems.push({ source: '--attach-policy-arn', message: `"${a}" is in partition "${got}" but ${where}` });
  }
  if (options.ecrRegion && options.ecrRegion !== '*' && !v.region(options.ecrRegion) && v.partitionOfRegion(options.ecrRegion) !== run) {
    problems.push({ source: '--ecr-region', message: `"${options.ecrRegion}" is in partition "${v.partitionOfRegion(options.ecrRegion)}" but ${where}; IAM cannot grant across partitions` });
  }
  if (options.ecrAssumeRole && run !== 'aws') {
    problems.push({ source: '--ecr-assume-role', message: `is for the commercial partition ("aws") only: StackRox builds the role ARN as arn:aws:iam::<registry>:role/<name>, but ${where}` });
  }
  if (problems.length) throw new InputError(problems, 'Use ARNs and regions of the partition of the account and cluster, or run against an account in the partition they name. Nothing was changed.');
}

/** Decisions from options and facts: a flag wins, else what is in place, else the default. */
export function decisionsFromOptions(options: Options, facts: Facts, thumbprints: Record<string, string[]> = {}, inPlace: InPlace = {}): Decisions {
  checkPartitions(options, facts);
  return {
    roleName: options.roleName ?? defaultRoleName(options.clusterName ?? facts.clusterName),
    rolePath: options.rolePath,
    permissionsBoundary: options.permissionsBoundary ?? inPlace.permissionsBoundary,
    // Attaching is additive: what rhacs-sts attached before stays attached.
    attachPolicyArns: [...new Set([...options.attachPolicyArns, ...(inPlace.attachPolicyArns ?? [])])],
    ecr: ecrScopeFrom(options, facts, inPlace),
    delegatedScanning: impliedDelegatedScanning(options, facts, inPlace),
    restart: options.restart,
    adoptRole: options.adoptRole,
    replaceRoleWiring: options.replaceRoleWiring,
    adoptOidcProvider: options.adoptOidcProvider,
    thumbprints,
    mechanism: options.mechanism ?? inPlace.mechanism ?? detectedMechanism(facts),
    adoptAssociation: options.adoptAssociation,
  };
}

/**
 * The mechanism in place, which a run without --mechanism keeps: Pod Identity when the EKS pods of
 * Central (or Sensor) already get container credentials and their service account names no role;
 * otherwise IRSA, the default.
 */
export function detectedMechanism(facts: Facts): Mechanism {
  const onPodIdentity = facts.clusters.some((c) => c.provider === 'eks' && Object.values(c.current ?? {}).some((st) =>
    st?.serviceAccount && st.serviceAccount.annotations[EKS_ROLE_ANNOTATION] === undefined && (st.pods ?? []).some((p) => p.containerCredentials)));
  return onPodIdentity ? 'pod-identity' : 'irsa';
}

/**
 * Pod Identity can be chosen only where it can work: every cluster on EKS, RHACS 4.4 or later (its
 * AWS SDK reads container credentials from then on), and the Pod Identity Agent add-on running.
 * Refused (exit 2, naming --mechanism) otherwise; an agent that could not be checked is a warning.
 */
export function checkMechanism(options: Pick<Options, 'mechanism'>, facts: Facts, warn: (m: string) => void): void {
  if (options.mechanism !== 'pod-identity') return;
  const problems: InputProblem[] = [];
  for (const c of facts.clusters) {
    const where = c.context ? `context "${c.context}"` : 'the current context';
    if (c.provider !== 'eks') {
      problems.push({ source: '--mechanism', message: `pod-identity is for EKS only, and ${where} is ${c.provider === 'openshift' ? 'OpenShift' : c.provider} (it uses web identity: leave --mechanism out)` });
      continue;
    }
    if (before44(c.version)) {
      problems.push({ source: '--mechanism', message: `pod-identity needs RHACS ${POD_IDENTITY_MIN_RHACS} or later, and ${where} runs ${c.version}: older releases' AWS SDK does not read EKS Pod Identity credentials (upgrade RHACS, or use --mechanism irsa)` });
    }
    if (c.podIdentityAgent === false) {
      problems.push({ source: '--mechanism', message: `pod-identity needs the EKS Pod Identity Agent add-on, which does not run in ${where} (DaemonSet kube-system/eks-pod-identity-agent): install it (aws eks create-addon --addon-name eks-pod-identity-agent), or use --mechanism irsa` });
    } else if (c.podIdentityAgent === undefined && !facts.offline) {
      warn(`Could not check whether the EKS Pod Identity Agent runs in ${where} (reading DaemonSets in kube-system is not allowed); Pod Identity works only with it.`);
    }
  }
  if (problems.length) throw new InputError(problems);
}

// --- Questions ------------------------------------------------------------------------------

const PROVIDER_NAMES: Record<Provider, string> = { eks: 'Amazon EKS', openshift: 'Red Hat OpenShift (on AWS, with STS)', gke: 'Google Kubernetes Engine (GKE)', aks: 'Azure Kubernetes Service (AKS)' };

/** The namespaces named in the "RHACS runs in several namespaces (a (central); b (sensor))" problem. */
export function namespaceCandidates(message: string): { namespace: string; components: string }[] {
  const list = /several namespaces \((.*)\); say which/.exec(message)?.[1];
  if (!list) return [];
  return list.split('; ').map((entry) => /^([a-z0-9][a-z0-9-]*) \(([^)]*)\)$/.exec(entry))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ namespace: m[1]!, components: m[2]! }));
}

/**
 * Answers what detection could not decide alone: which provider, which namespace, which region.
 * Returns the input to retry detection with, or undefined when a question would not help.
 */
export async function askDetection(problem: InputProblem, target: ClusterTarget | undefined, ui: Ui): Promise<Partial<DiscoverInput> | undefined> {
  if (!ui.interactive) return undefined;
  const where = target?.context ? ` (context ${target.context})` : '';
  switch (problem.source) {
    case '--provider': {
      ui.info(ui.logColors.yellow(`Could not tell what kind of cluster this is${where}.`));
      const provider = await ui.select<Provider>(
        'Which kind of cluster is it?',
        // Asked on AWS's path (a GKE cluster is told by its kubeconfig, issuer or nodes, or --provider gke).
        PROVIDERS.filter((p) => p !== 'gke' && p !== 'aks').map((p) => ({ value: p, name: PROVIDER_NAMES[p] })),
        'eks',
      );
      return { provider };
    }
    case '--namespace': {
      const candidates = namespaceCandidates(problem.message);
      if (candidates.length < 2) return undefined;
      const best = candidates.find((c) => c.components.includes('central')) ?? candidates[0]!;
      const namespace = await ui.select(
        `RHACS runs in several namespaces${where}. Which one should use the role?`,
        candidates.map((c) => ({ value: c.namespace, name: `${c.namespace} (${c.components})` })),
        best.namespace,
      );
      return { namespace };
    }
    case '--region': {
      const region = await ui.input({ message: 'AWS region of the cluster (could not be detected)', validate: v.region });
      return { region };
    }
    default:
      return undefined;
  }
}

type EcrScope = 'all' | 'registry' | 'repositories';

function ecrRegionCheck(facts: Facts): v.Check {
  return (x) => {
    if (x === '' || x === '*') return undefined;
    const err = v.region(x);
    if (err) return err;
    return v.partitionOfRegion(x) !== facts.partition
      ? `"${x}" is in another partition than the account (${facts.partition}); IAM cannot grant across partitions`
      : undefined;
  };
}

/** Repository names from one answer: separated by commas or spaces. */
export function splitRepositories(answer: string): string[] {
  return [...new Set(answer.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

const repositoryList: v.Check = (answer) => {
  const names = splitRepositories(answer);
  if (names.length === 0) return 'name at least one repository (e.g. team-a/app, or team-a/* for a prefix)';
  for (const n of names) {
    const err = v.ecrRepository(n);
    if (err) return err;
  }
  if (names.includes('*') && names.length > 1) return '"*" already means every repository; drop it or the other names';
  return undefined;
};

/** What the wizard's questions fill in: the options, and the ECR scope that decides the follow-up questions. */
interface Answers {
  o: Options;
  scope?: EcrScope;
  /** What an earlier run set for the role, read once the role is named. */
  was?: InPlace;
}

/**
 * One question of the wizard: returns the answers with its own filled in, or undefined when it has
 * nothing to ask (a flag or an earlier answer settled it). `back` offers the way back.
 */
type Question = (a: Answers, back: boolean) => Promise<Answers | undefined>;

/**
 * Asks `questions` in order; a person who takes the way back ("<", or "← Back" in a list) returns
 * to the previous question that was asked, with the answers as they were before it.
 */
export async function askInTurn<A>(start: A, questions: readonly ((a: A, back: boolean) => Promise<A | undefined>)[]): Promise<A> {
  const asked: { index: number; before: A }[] = [];
  let answers = start;
  let i = 0;
  while (i < questions.length) {
    try {
      const next = await questions[i]!(answers, asked.length > 0);
      if (next !== undefined) {
        asked.push({ index: i, before: answers });
        answers = next;
      }
      i++;
    } catch (err) {
      if (!isGoBack(err)) throw err;
      const previous = asked.pop();
      // The first question offers no way back; a prompt that sent one anyway is asked again.
      if (previous) {
        answers = previous.before;
        i = previous.index;
      }
    }
  }
  return answers;
}

/**
 * The wizard's questions, for whatever flags, the config file and detection left open: the role
 * name, the mechanism (EKS with the Pod Identity Agent), delegated scanning (only where Sensor runs)
 * and the ECR scope. Each offers what is in place (what an earlier run set, read for the role once
 * it is named) as its default, and each after the first offers the way back to the one before. Not
 * at a terminal, for a plan (which shows what the flags give), or with --yes (take every default),
 * nothing is asked.
 */
export async function askDecisions(options: Options, facts: Facts, ui: Ui, inPlaceFor: (roleName: string) => Promise<InPlace> = async () => ({})): Promise<Options> {
  if (!ui.interactive || options.dryRun || options.yes) return options;
  const given = options;
  const with_ = (a: Answers, o: Partial<Options>, scope?: EcrScope): Answers => ({ ...a, o: { ...a.o, ...o }, ...(scope ? { scope } : {}) });
  const was = (a: Answers): InPlace => a.was ?? {};

  // What is in place is read for the role once it is named (by the flag, or by this answer).
  const roleName: Question = async (a, back) => {
    if (given.roleName !== undefined) return undefined;
    const name = await ui.input({
      message: 'Name of the IAM role RHACS will assume',
      default: defaultRoleName(a.o.clusterName ?? facts.clusterName),
      validate: v.roleName,
      back,
    });
    return { ...with_(a, { roleName: name }), was: await inPlaceFor(name) };
  };

  // EKS with the Pod Identity Agent running (and RHACS 4.4+): offer Pod Identity, with the difference in one line.
  const podIdentityPossible = facts.clusters.length > 0 && facts.clusters.every((c) => c.provider === 'eks' && c.podIdentityAgent === true && before44(c.version) !== true);
  const mechanism: Question = async (a, back) => given.mechanism !== undefined || !podIdentityPossible ? undefined : with_(a, {
    mechanism: await ui.select<Mechanism>(
      'How should the pods get the role?',
      [
        { value: 'irsa', name: 'IRSA: annotate the service account; the role trusts this cluster\'s OIDC issuer (one trust statement per cluster)' },
        { value: 'pod-identity', name: 'EKS Pod Identity: an association through the EKS API; no OIDC provider, and one role serves a fleet without growing its trust policy' },
      ],
      was(a).mechanism ?? detectedMechanism(facts),
      { back },
    ),
  });

  const sensorRuns = facts.clusters.some((c) => c.components.includes('sensor'));
  const delegated: Question = async (a, back) => given.delegatedScanning !== undefined || given.sensorContexts.length > 0 || !sensorRuns ? undefined : with_(a, {
    delegatedScanning: await ui.confirm(
      'Delegated scanning: should Sensor pull images from ECR too? (only if it is turned on in RHACS)',
      was(a).delegatedScanning ?? defaultDelegatedScanning(facts),
      { back },
    ),
  });

  const ecrOpen = given.ecrRegistryId === undefined && given.ecrRegion === undefined && given.ecrRepositories.length === 0;
  const inPlaceScope = (a: Answers): EcrScope => {
    const ecr = was(a).ecr;
    return !ecr ? 'all'
      : ecr.repositories.length ? 'repositories'
      : ecr.registryId !== facts.accountId || ecr.region !== undefined ? 'registry' : 'all';
  };
  const scope: Question = async (a, back) => {
    if (!ecrOpen) return undefined;
    const chosen = await ui.select<EcrScope>('Which ECR repositories may RHACS read?', [
      { value: 'all', name: `All repositories in this account's registry (${facts.accountId}, any region)` },
      { value: 'registry', name: 'All repositories of one registry account, optionally one region' },
      { value: 'repositories', name: 'Only the repositories I list' },
    ], a.scope ?? inPlaceScope(a), { back });
    // What is in place and not chosen now is said explicitly ("*"), so that it does not come back.
    const widen = chosen === 'all' && was(a).ecr !== undefined && inPlaceScope(a) !== 'all';
    return with_(a, widen
      ? { ecrRegistryId: facts.accountId, ecrRegion: '*', ecrRepositories: ['*'] }
      : { ecrRegistryId: undefined, ecrRegion: undefined, ecrRepositories: [] }, chosen);
  };
  const registry: Question = async (a, back) => a.scope !== 'registry' ? undefined : with_(a, {
    ecrRegistryId: await ui.input({ message: 'Registry account id', default: was(a).ecr?.registryId ?? facts.accountId, validate: v.accountId, back }),
  });
  const region: Question = async (a, back) => {
    if (a.scope !== 'registry') return undefined;
    const ecr = was(a).ecr;
    const answer = await ui.input({ message: 'Registry region ("*" for any)', default: ecr?.region ?? '*', validate: ecrRegionCheck(facts), back });
    return with_(a, {
      ecrRegion: answer === '*' || answer === '' ? (ecr?.region ? '*' : undefined) : answer,
      ...(ecr?.repositories.length ? { ecrRepositories: ['*'] } : {}),
    });
  };
  const repositories: Question = async (a, back) => {
    if (a.scope !== 'repositories') return undefined;
    const ecr = was(a).ecr;
    return with_(a, {
      ecrRepositories: splitRepositories(await ui.input({
        message: 'Repositories (separated by commas; team-a/* matches a prefix)',
        ...(ecr?.repositories.length ? { default: ecr.repositories.join(', ') } : {}),
        validate: repositoryList,
        back,
      })),
    });
  };

  const start: Answers = {
    o: { ...options, ecrRepositories: [...options.ecrRepositories] },
    ...(given.roleName !== undefined ? { was: await inPlaceFor(given.roleName) } : {}),
  };
  const answers = await askInTurn(start, [roleName, mechanism, delegated, scope, registry, region, repositories]);
  return answers.o;
}

/** The questions about taking over what blocks the plan: one per adopt flag, each answered "no" by default. */
const ADOPT_QUESTIONS: readonly { flag: BlockerFix; option: 'adoptRole' | 'adoptAssociation' | 'adoptOidcProvider' | 'adoptIntegration'; question: string }[] = [
  { flag: '--adopt-role', option: 'adoptRole', question: 'Take this role over? Its other statements and policies are kept (same as --adopt-role)' },
  { flag: '--adopt-association', option: 'adoptAssociation', question: 'Point that association at this role and tag it as ours? (same as --adopt-association)' },
  { flag: '--adopt-oidc-provider', option: 'adoptOidcProvider', question: 'Add the audience and our tag to this OIDC provider? (same as --adopt-oidc-provider)' },
  { flag: '--adopt-integration', option: 'adoptIntegration', question: 'Switch this ECR integration to the container IAM role? Central tests it first; uninstall switches it back (same as --adopt-integration)' },
];

/**
 * Questions that need the plan: taking over an existing role or OIDC provider that blocks it
 * (--adopt-role, --adopt-oidc-provider), and whether to restart the pods now (--no-restart).
 * Returns the options unchanged when nothing was asked or everything kept its default.
 */
export async function askAfterPlan(options: Options, plan: Plan, ui: Ui): Promise<Options> {
  if (!ui.interactive || options.dryRun || options.yes) return options;
  let o = options;
  for (const q of ADOPT_QUESTIONS) {
    const blocker = plan.blockers.find((b) => b.fix === q.flag);
    if (!blocker || o[q.option]) continue;
    ui.warn(blocker.message);
    if (await ui.confirm(q.question, false)) o = { ...o, [q.option]: true };
  }

  // EKS gives pods the role (IRSA or Pod Identity) only when they are created, so they must be restarted; on OpenShift
  // the new environment rolls the pods out by itself.
  const restarts = plan.restarts.filter((r) => r.method === 'restartedAt' && !r.deferred);
  if (o.restart && restarts.length > 0) {
    const names = [...new Set(restarts.map((r) => r.name))].join(' and ');
    const now = await ui.confirm(`Restart ${names} now, so the pods get the role, and wait until ready? (No: restart later yourself)`, true);
    if (!now) o = { ...o, restart: false };
  }
  return o;
}
