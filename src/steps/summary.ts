/**
 * What init says around the plan: the clusters it detected, the IAM changes called out before the
 * question, the outcome (--quiet) and the summary with the next steps.
 */
import { alsoFound, type ApplyResult } from '../apply/apply.js';
import type { HelmValuesFile } from '../apply/helm-values.js';
import type { Detected } from '../discover.js';
import { appliedCount, NEXT_STEPS } from '../messages.js';
import type { Options } from '../options/options.js';
import type { Action, Plan } from '../plan/model.js';
import { repositoryGrantLines } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';
import { afterInit, printDeferred } from './deferred.js';

const PROVIDER_LABEL = { eks: 'EKS', openshift: 'OpenShift', gke: 'GKE', aks: 'AKS' } as const;

export function describeClusters(detected: Detected, ui: Ui): void {
  const c = ui.logColors;
  for (const { facts: f, kubeContext, target } of detected.clusters) {
    const role = target.role === 'both' ? '' : ` for ${target.role === 'central' ? 'Central' : 'Sensor'}`;
    ui.info(`Detected ${PROVIDER_LABEL[f.provider]} cluster${role} (context ${kubeContext})`);
    ui.info(`  ${c.dim('issuer')}  ${f.issuer}`);
    ui.info(`  ${c.dim('RHACS')}   ${f.components.join(' and ')} in namespace ${f.namespace}${f.version ? `, version ${f.version}` : ''}, installed by ${f.installMethod}`);
    if (f.installEvidence) ui.debug(`install method: ${f.installEvidence}`);
  }
}

/** Which of a plan's actions are the cloud's (its `isAction`, from the registry). */
export type IsCloudAction = (action: { type: string }) => boolean;

/** The IAM part of the plan, called out before the confirmation: who may assume the role, and what it may do. */
export function highlightIam(changes: Action[], ui: Ui, isCloudAction: IsCloudAction): void {
  const iam = changes.filter(isCloudAction);
  if (iam.length === 0) return;
  const c = ui.logColors;
  ui.info('');
  ui.info(c.bold.yellow(`IAM changes (${iam.length}):`));
  for (const a of iam) ui.info(`  ${a.status === 'create' ? c.green('+') : c.yellow('~')} ${a.summary}`);
}

/** --quiet: the outcome only, on stdout — the role, and a line per cluster. */
export function printOutcome(plan: Plan, applied: ApplyResult[], ui: Ui): void {
  const done = applied.filter((r) => r.outcome === 'done').length;
  ui.result(`role ${plan.role.arn}: ${done ? `${done} change${done === 1 ? '' : 's'} applied` : 'already in place'}`);
  const contexts = new Map<string, string | undefined>();
  for (const a of plan.actions) {
    const ref = (a as { ref?: { context?: string } }).ref;
    if (ref) contexts.set(ref.context ?? '', ref.context);
  }
  for (const [key, context] of contexts) {
    const mine = applied.filter((r) => r.context === key || (r.context === undefined && key === ''));
    const n = mine.filter((r) => r.outcome === 'done').length;
    ui.result(`cluster ${context ?? 'current context'}: ${n ? `${n} change${n === 1 ? '' : 's'} applied` : 'already in place'}`);
  }
}

export function printSummary(plan: Plan, applied: ApplyResult[], options: Options, ui: Ui, isCloudAction: IsCloudAction, files?: HelmValuesFile[]): void {
  const c = ui.logColors;
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  const done = applied.filter((r) => r.outcome === 'done');
  const iam = done.filter((r) => isCloudAction(byId.get(r.id)!)).length;
  const rhacs = done.filter((r) => byId.get(r.id)!.type === 'central-integration').length;
  const kube = done.length - iam - rhacs;
  ui.info('');
  ui.info(c.green.bold(`✓ Done: ${appliedCount({ iam, kube, rhacs })}${alsoFound(plan, applied)}.`));
  ui.info(plan.mechanism === 'pod-identity'
    ? `  Role ${plan.role.arn}, trusted by EKS Pod Identity (pods.eks.amazonaws.com) through the service accounts' associations`
    : `  Role ${plan.role.arn}, trusted by ${plan.oidcProviders.map((p) => p.url).join(' and ')}`);
  const contexts = [...new Set(plan.actions.flatMap((a) => ('ref' in a && a.ref ? [a.ref.context ?? ''] : [])))];
  if (contexts.length > 1) {
    for (const ctx of contexts) {
      const n = applied.filter((r) => (r.context ?? '') === ctx && r.outcome === 'done').length;
      ui.info(`  ${c.green('✓')} cluster ${ctx || 'current context'}: ${n ? `${n} change${n === 1 ? '' : 's'} applied` : 'already in place'}`);
    }
  }
  ui.info('');
  ui.info(c.bold('Next:'));
  const integration = plan.actions.find((a) => a.type === 'central-integration');
  ui.info(integration ? NEXT_STEPS.integrationDone(integration.target) : NEXT_STEPS.enableRole);
  ui.info(NEXT_STEPS.verify(verifyCommand(options)));
  printDeferred(plan, files, ui, afterInit('  3. '));
  if (plan.helmValues?.length && !options.helmValuesOut) ui.info('  Add the Helm values shown in the plan to your values file, so that "helm upgrade" keeps the change.');
  if (plan.repositoryGrant) {
    ui.info('');
    for (const l of repositoryGrantLines(plan.repositoryGrant, c)) ui.info(l);
  }
}

/** The verify command for the same cluster(s) and role. */
function verifyCommand(options: Options): string {
  const parts = ['rhacs-sts verify'];
  if (options.context) parts.push(`--context ${options.context}`);
  if (options.centralContext) parts.push(`--central-context ${options.centralContext}`);
  for (const c of options.sensorContexts) parts.push(`--sensor-context ${c}`);
  if (options.namespace) parts.push(`--namespace ${options.namespace}`);
  if (options.roleName) parts.push(`--role-name ${options.roleName}`);
  return parts.join(' ');
}
