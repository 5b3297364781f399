/** Human rendering of a plan: what will change, the policy documents (or their diff), and why. */
import type { ChalkInstance } from 'chalk';
import { diffLines } from 'diff';
import { stringify } from 'yaml';
import { helmUpgradeCommand } from '../plan/helm-values.js';
import { isAwsPlan, type AnyAction as Action, type ActionStatus, type AnyPlan, type HelmValues, type Plan } from '../plan/model.js';
import { platform } from '../platforms/registry.js';

const LABEL: Record<Plan['actions'][number]['type'], string> = {
  'oidc-provider': 'IAM OIDC provider',
  role: 'IAM role',
  'role-tags': 'IAM role tags',
  'trust-policy': 'IAM trust policy',
  'permissions-policy': 'IAM permissions',
  'managed-policy': 'IAM managed policy',
  'pod-identity-association': 'EKS Pod Identity association',
  'service-account-annotation': 'ServiceAccount',
  'deployment-env': 'Deployment env',
  'operator-overlay': 'Operator overlay',
  'pod-labels': 'Pod template labels',
  'credentials-secret': 'Secret',
  restart: 'Restart',
  'central-integration': 'RHACS integration',
};

/**
 * The word a plan shows for an action: what it does to the object, so that annotating a service
 * account does not read as creating one (Kubernetes actions change objects that already exist).
 */
type Verb = 'create' | 'update' | 'delete' | 'annotate' | 'remove the annotation' | 'add' | 'set' | 'remove' | 'unchanged';

/** The order in which the plan's header counts them. */
const VERB_ORDER: readonly Verb[] = ['create', 'annotate', 'add', 'set', 'update', 'remove the annotation', 'remove', 'delete', 'unchanged'];

export function actionVerb(a: Action): Verb {
  if (a.status === 'unchanged') return 'unchanged';
  switch (a.type) {
    case 'service-account-annotation': return a.status === 'delete' ? 'remove the annotation' : 'annotate';
    case 'deployment-env': return a.status === 'delete' ? 'remove' : 'set';
    case 'pod-labels': return a.status === 'delete' ? 'remove' : 'set';
    case 'operator-overlay': return a.status === 'create' ? 'add' : a.status === 'delete' ? 'remove' : 'update';
    default: return a.status;
  }
}

function verbCount(verb: Verb, n: number): string {
  if (verb === 'unchanged') return `${n} unchanged`;
  if (verb === 'remove the annotation') return `${n} annotation${n === 1 ? '' : 's'} to remove`;
  return `${n} to ${verb}`;
}

function statusMark(c: ChalkInstance, a: Action, width: number): string {
  const word = actionVerb(a).padEnd(width);
  switch (a.status) {
    case 'create': return c.green(`+ ${word}`);
    case 'update': return c.yellow(`~ ${word}`);
    case 'delete': return c.red(`- ${word}`);
    default: return c.dim(`  ${word}`);
  }
}

export function pretty(doc: unknown): string {
  return JSON.stringify(doc, null, 2);
}

/** A line diff of two JSON documents, with +/- markers; unchanged lines kept for context. */
export function jsonDiff(c: ChalkInstance, current: unknown, desired: unknown): string {
  const parts = diffLines(current === undefined || current === null ? '' : `${pretty(current)}\n`, `${pretty(desired)}\n`);
  const out: string[] = [];
  for (const p of parts) {
    const lines = p.value.replace(/\n$/, '').split('\n');
    for (const l of lines) {
      if (p.added) out.push(c.green(`+ ${l}`));
      else if (p.removed) out.push(c.red(`- ${l}`));
      else out.push(`  ${l}`);
    }
  }
  return out.join('\n');
}

function indent(text: string, by = '    '): string {
  return text.split('\n').map((l) => (l ? by + l : l)).join('\n');
}

export interface PlanTextExtra {
  /** Clusters that could not be read (their state is unknown, so they are not in the plan). */
  leftOut?: string[];
}

export function renderPlanText(plan: AnyPlan, c: ChalkInstance, extra: PlanTextExtra = {}): string {
  const out: string[] = [];
  const changes = plan.actions.filter((a) => a.status !== 'unchanged');
  const verb = plan.command === 'uninstall' ? 'Uninstall plan' : 'Plan';
  if (isAwsPlan(plan)) {
    const clusters = [...new Set(plan.oidcProviders.map((p) => p.url))];
    out.push(c.bold(`${verb} for ${plan.provider === 'eks' ? 'EKS' : 'OpenShift'}${plan.clusterName ? ` cluster ${plan.clusterName}` : ''} · account ${plan.accountId} (${plan.partition}) · region ${plan.region}`));
    if (plan.offline) out.push(c.dim('Offline: current state was not read, so everything is shown as new.'));
    out.push(`  Issuer${clusters.length > 1 ? 's' : ''}: ${clusters.join(', ')}`);
    out.push(`  Role:   ${plan.role.arn}`);
  } else {
    const [first, ...rest] = plan.heading ?? [];
    out.push(c.bold(`${verb} for ${platform(plan.provider).title}${plan.clusterName ? ` cluster ${plan.clusterName}` : ''}${first ? ` · ${first}` : ''}`));
    if (plan.offline) out.push(c.dim('Offline: current state was not read, so everything is shown as new.'));
    for (const l of rest) out.push(`  ${l}`);
  }
  out.push('');

  const counts = new Map<Verb, number>();
  for (const a of plan.actions) counts.set(actionVerb(a), (counts.get(actionVerb(a)) ?? 0) + 1);
  const summary = VERB_ORDER.filter((v) => counts.get(v)).map((v) => verbCount(v, counts.get(v)!)).join(', ');
  // The verbs share one column, as wide as the longest (at least "unchanged").
  const width = Math.max(9, ...plan.actions.map((a) => actionVerb(a).length));
  out.push(c.bold(`Actions (${summary}):`));
  for (const a of plan.actions) {
    out.push(`  ${statusMark(c, a, width)}  ${label(a).padEnd(18)} ${a.target}`);
    out.push(`${' '.repeat(width + 6)}${c.dim(a.summary)}`);
  }

  const policy = (title: string, a: Action | undefined, desired: unknown) => {
    out.push('');
    if (a && a.status === 'update' && a.current) {
      out.push(c.bold(`${title} (changes):`));
      out.push(indent(jsonDiff(c, a.current, desired), '  '));
    } else if (a && a.status === 'delete') {
      out.push(c.bold(`${title} (deleted):`));
      out.push(indent(pretty(a.current), '  '));
    } else {
      out.push(c.bold(`${title}${a?.status === 'unchanged' ? ' (unchanged)' : ''}:`));
      out.push(indent(pretty(desired), '  '));
    }
  };
  if (isAwsPlan(plan)) awsDocuments(plan, out, c, policy);

  if (isAwsPlan(plan) && plan.repositoryGrant && plan.command === 'init') {
    out.push('');
    out.push(...repositoryGrantLines(plan.repositoryGrant, c));
  }

  if (plan.kubernetes.length > 0 && plan.command === 'init') {
    out.push('');
    out.push(c.bold('Kubernetes:'));
    for (const k of plan.kubernetes) {
      const where = `${k.context ? `${k.context}: ` : ''}${k.namespace}/${k.kind.toLowerCase()}/${k.name}`;
      const what = k.annotations
        ? Object.entries(k.annotations).map(([n, v]) => `annotation ${n}=${v}`).join(', ')
        : (k.env ?? []).map((e) => `env ${e.name}=${e.value}`).join(', ');
      const how = k.durability === 'operator-overlay' ? ' (durable: operator overlay)' : k.durability === 'helm-values' ? ' (live; Helm values below)' : k.durability === 'live' && !plan.offline ? ' (live only: re-applying the manifests removes it)' : '';
      out.push(`  ${where}${k.container ? ` [${k.container}]` : ''}: ${what}${how}`);
    }
  }
  if (plan.helmValues?.length) {
    out.push('');
    out.push(c.bold(plan.command === 'uninstall'
      ? 'Helm values that undo rhacs-sts\'s values at the next "helm upgrade" (one file per release; --helm-values-out writes them):'
      : 'Helm values that keep these changes across "helm upgrade" (one file per release; --helm-values-out writes them):'));
    for (const h of plan.helmValues) out.push(indent(helmValuesYaml(h, plan.command).trimEnd(), '  '));
  }
  if (plan.notes.length) {
    out.push('');
    out.push(c.bold('Notes:'));
    for (const n of plan.notes) out.push(`  - ${n}`);
  }
  if (plan.blockers.length) {
    out.push('');
    out.push(c.red.bold('Cannot apply as it stands:'));
    for (const b of plan.blockers) {
      out.push(`  ${c.red('✗')} ${b.message}`);
      out.push(`    ${b.hint}`);
    }
  }
  out.push('');
  out.push(changes.length ? `${changes.length} change${changes.length === 1 ? '' : 's'} to apply.` : nothingToChange(plan, c, extra.leftOut ?? []));
  return out.join('\n');
}

/** What an action touches, for people: AWS's and Kubernetes's kinds by type, another cloud's as it says. */
function label(a: Action): string {
  return (LABEL as Record<string, string>)[a.type] ?? ('label' in a ? a.label : undefined) ?? a.type;
}

/** AWS's plan shows its policy documents (or their diff). */
function awsDocuments(plan: Plan, out: string[], c: ChalkInstance, policy: (title: string, a: Action | undefined, desired: unknown) => void): void {
  const trust = plan.actions.find((a) => a.type === 'trust-policy');
  const perms = plan.actions.find((a) => a.type === 'permissions-policy');
  if (plan.command === 'init' || trust?.status === 'update') policy('Trust policy', trust, trust?.status === 'update' ? trust.desired : plan.role.trustPolicy);
  if (plan.command === 'init' || perms) policy(`Permissions policy ${plan.role.permissionsPolicyName}`, perms, plan.role.permissionsPolicy);
}

/**
 * The last line of a plan without changes. "Everything is in place" only when it is: not when
 * the plan is blocked, a restart is put off, or a cluster could not be read.
 */
function nothingToChange(plan: AnyPlan, c: ChalkInstance, leftOut: string[]): string {
  if (plan.blockers.length) return c.red('Nothing can be applied until the problems above are resolved.');
  const deferred = plan.actions.filter((a) => a.type === 'restart' && a.deferred).length;
  const putOff = deferred ? `${deferred} restart${deferred === 1 ? ' is' : 's are'} put off (--no-restart)` : '';
  const unread = leftOut.length ? ` in the clusters that were read (left out: ${leftOut.join(', ')})` : '';
  if (plan.command === 'uninstall') return c.green(`Nothing to change${unread}: nothing of ours is left to remove${putOff ? `; ${putOff}` : ''}.`);
  if (putOff) return c.yellow(`Nothing to apply now${unread}: ${putOff}.`);
  if (unread) return c.yellow(`Nothing to change${unread}.`);
  return c.green('Nothing to change: everything is in place.');
}

/**
 * One Helm release's values as a single-document YAML file (Helm reads only the first document),
 * headed by the full command that applies it.
 */
export function helmValuesYaml(h: HelmValues, command: Plan['command'], file?: string): string {
  const what = command === 'uninstall'
    ? `# Undoes rhacs-sts's values for release ${h.release} (null removes a key when Helm merges values). Apply with:`
    : `# Keeps rhacs-sts's wiring for release ${h.release} across "helm upgrade". Apply with:`;
  return `${what}\n#   ${helmUpgradeCommand(h, file)}\n${stringify(h.values)}`;
}

/** Commands shown one per repository up to this many; beyond, one with a placeholder. */
const MAX_GRANT_COMMANDS = 5;

/**
 * What the owner of a registry in another account must add for the role to read it: the
 * repository-policy statement, and the aws command for a repository that has no policy yet.
 */
export function repositoryGrantLines(g: NonNullable<Plan['repositoryGrant']>, c: ChalkInstance): string[] {
  const exact = g.repositories.filter((r) => !r.endsWith('*'));
  const named = g.repositories.length === 0
    ? 'every repository RHACS reads there'
    : g.repositories.length === exact.length
      ? `${exact.length === 1 ? 'repository' : 'repositories'} ${exact.join(', ')}`
      : `every repository RHACS reads there (${g.repositories.join(', ')})`;
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [g.statement] });
  const region = g.region ? ` --region ${g.region}` : ' --region <registry region>';
  const names = exact.length === g.repositories.length && exact.length > 0 && exact.length <= MAX_GRANT_COMMANDS ? exact : ['<repository>'];
  return [
    c.bold.yellow(`Registry ${g.registryId} is in another account: its owner must grant the role read access.`),
    `  ECR checks a read from another account against the repository's own policy too (a registry policy cannot grant`,
    `  pulls), so the registry owner adds this statement to the repository policy of ${named}:`,
    indent(pretty(g.statement), '    '),
    `  For a repository that has no policy yet (set-repository-policy replaces the whole policy: otherwise merge the`,
    `  statement into what "aws ecr get-repository-policy" shows):`,
    ...names.map((n) => `    aws ecr set-repository-policy --registry-id ${g.registryId}${region} --repository-name ${n} --policy-text '${policy}'`),
    c.dim('  Until then every read fails (ecr:GetAuthorizationToken alone succeeds without any grant); rhacs-sts verify reads a repository to check.'),
  ];
}
