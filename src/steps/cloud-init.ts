/**
 * init's and plan's pipeline for a cloud other than AWS (Google Cloud today): open the clusters →
 * detect → open the cloud's session → read its facts (what keeps the identity from working is bad
 * input, before anything is written) → decide → read what is in place → plan → deliver. Rendering,
 * confirming, the Kubernetes applier, restarts and Helm values are the ones AWS's run uses; the
 * cloud's actions go to its session.
 */
import { blockersError } from '../apply/run.js';
import { writeHelmValues } from '../apply/helm-values.js';
import { cloudFor, loadCloud, managedPlatform, type AnyCloud, type CloudId } from '../clouds/registry.js';
import { openKubeSessions } from '../discover.js';
import { InputError, OperationError, VerifyFailedError } from '../errors.js';
import type { KubeSession } from '../kube/session.js';
import { applyQuestion } from '../messages.js';
import type { Options } from '../options/options.js';
import type { AnyPlan, ClusterFacts } from '../plan/model.js';
import { hasSignal, platform, type PlatformId } from '../platforms/registry.js';
import { errorJson, planToJson } from '../render/plan-json.js';
import { renderPlanText } from '../render/plan-text.js';
import { clusterTargets } from '../targets.js';
import type { Ui } from '../ui/ui.js';
import { cloudPlanInputs } from './cloud-saved-plan.js';
import { deliver } from './deliver.js';
import type { Step } from './run.js';

/**
 * The platform a run's kubeconfig names (no request): a GKE context, or a context whose user runs
 * gke-gcloud-auth-plugin; an AKS user as `az aks get-credentials` names it (`clusterUser_<rg>_<cluster>`).
 */
export async function kubeconfigPlatform(options: Pick<Options, 'kubeconfig' | 'context' | 'centralContext' | 'environment'>): Promise<PlatformId | undefined> {
  const { kubeconfigContext } = await import('../kube/client.js');
  const ctx = kubeconfigContext({ kubeconfig: options.kubeconfig, ...(options.environment ? { environment: options.environment.kube } : {}) }, options.centralContext ?? options.context);
  if (!ctx) return undefined;
  if (hasSignal('gke', 'kubeconfig', ctx.contextName) || (ctx.execCommand !== undefined && hasSignal('gke', 'kubeconfig-exec', ctx.execCommand))) return 'gke';
  if (ctx.userName !== undefined && hasSignal('aks', 'kubeconfig', ctx.userName)) return 'aks';
  return undefined;
}

/** What the steps of one run on a cloud other than AWS know, filled in as they go. */
export interface CloudRun {
  ui: Ui;
  answers: Options;
  cloud: Exclude<CloudId, 'aws'>;
  kube?: Map<string, KubeSession>;
  unreachable?: { context: string; message: string }[];
  clusters?: ClusterFacts[];
  /** The kubeconfig context of each cluster, as the kubeconfig names it (for people). */
  kubeContexts?: string[];
  warnings?: string[];
  plan?: AnyPlan;
  /** Applies one of the cloud's actions (its session), once opened. */
  session?: { apply(action: AnyPlan['actions'][number], plan: AnyPlan): Promise<boolean> };
  /** The lines said after apply (from the plan as applied: a cloud fills in what it learns, like a new identity's id). */
  summary?: () => string[];
  /** Applies Central's integration action, when the plan has one (cloud-central.ts). */
  central?: (action: Extract<AnyPlan['actions'][number], { type: 'central-integration' }>) => Promise<boolean>;
}

/** A plan of a cloud other than AWS is refused offline (its facts come from the cloud and the cluster). */
export const refuseOffline: Step<CloudRun> = (r) => {
  if (r.answers.offline) {
    throw new InputError([{ source: '--offline', message: `is not available for ${platform(r.answers.provider ?? managedPlatform(r.cloud)).title} yet: its plan needs the cluster and the cloud (run "rhacs-sts plan" without --offline)` }]);
  }
};

/** Opens every cluster the options name and detects each (the platform must be one the cloud pairs with). */
export const openClusters: Step<CloudRun> = async (r) => {
  const { answers: o, ui } = r;
  await ui.spinner('Reading the cluster…', async () => {
    const { kube, unreachable } = await openKubeSessions(o, ui);
    r.kube = kube;
    r.unreachable = unreachable;
    const targets = clusterTargets(o).filter((t) => kube.has(t.key));
    const found = await Promise.all(targets.map(async (t) => {
      // --cloud without --provider: OpenShift or the cloud's own platform, as detection finds.
      const provider = o.provider ?? (o.cloud ? undefined : managedPlatform(r.cloud));
      const d = await kube.get(t.key)!.discover({ namespace: o.namespace, ...(provider ? { provider } : {}), oidcIssuer: o.oidcIssuer, cloud: r.cloud });
      const components = t.role === 'both' ? d.facts.components : d.facts.components.filter((c) => c === t.role);
      if (!components.length) throw new InputError([{ source: t.flag, message: `${t.context ?? 'the current context'}: no ${t.role === 'central' ? 'Central' : 'Sensor'} found in namespace ${d.facts.namespace}` }]);
      return { ...d, kubeContext: d.facts.context, facts: { ...d.facts, components, context: t.context } };
    }));
    r.clusters = found.map((f) => f.facts);
    r.kubeContexts = found.map((f) => f.kubeContext ?? f.facts.context ?? 'current context');
    r.warnings = found.flatMap((f) => f.warnings);
  });
  for (const c of r.clusters!) {
    // OpenShift's cloud is its Infrastructure object's; --cloud stands for one that names none of ours.
    const osType = c.openshift?.platformType ?? c.openshiftPlatform;
    const of = c.provider === 'openshift' ? (osType ? cloudFor('openshift', osType) : undefined) : cloudFor(c.provider);
    if (of !== r.cloud && !(c.provider === 'openshift' && o.cloud === r.cloud && !of)) {
      throw new InputError([{ source: c.provider === 'openshift' ? '--cloud' : '--provider', message: `the cluster of context ${c.context ?? '(current)'} is ${platform(c.provider).title}${osType ? ` on ${osType}` : ''}, not a cluster of this run's cloud` }]);
    }
  }
  for (const w of r.warnings!) ui.warn(w);
  for (const [i, c] of r.clusters!.entries()) {
    const where = c.gke ? ` ${c.gke.name} (project ${c.gke.projectId}, ${c.gke.location})`
      : c.openshiftGcp ? ` ${c.name ?? ''} on Google Cloud (${[c.openshiftGcp.projectId && `project ${c.openshiftGcp.projectId}`, c.openshiftGcp.region].filter(Boolean).join(', ')})`
      : c.aks?.name ? ` ${c.aks.name}${c.aks.resourceGroup ? ` (resource group ${c.aks.resourceGroup}${c.aks.region ? `, ${c.aks.region}` : ''})` : ''}` : '';
    ui.info(`Detected ${platform(c.provider).title} cluster${where} (context ${r.kubeContexts![i]})`);
    ui.info(`  RHACS   ${c.components.join(' and ')} in namespace ${c.namespace}${c.version ? `, version ${c.version}` : ''}, installed by ${c.installMethod}${c.gke?.nodePools?.length ? `, on node pool${c.gke.nodePools.length > 1 ? 's' : ''} ${c.gke.nodePools.join(', ')}` : ''}`);
  }
};

/** What a cloud is given to open its session, from the options (read at the entry point), and what the run says while it reads. */
export const SESSION: { [I in CloudRun['cloud']]: { environment: (o: Options, clusters: ClusterFacts[]) => unknown; reading: string } } = {
  gcp: {
    environment: (o) => ({ credentials: o.environment?.gcp ?? {}, ...(o.environment && Object.keys(o.environment.gcpEndpoints).length ? { endpoints: o.environment.gcpEndpoints } : {}) }),
    reading: 'Reading the Google project, the cluster and the service account…',
  },
  azure: {
    environment: (o, clusters) => {
      // The subscription: the flag, else the one the cluster's nodes are in, else AZURE_SUBSCRIPTION_ID or az's default.
      const subscriptionId = o.azureSubscription ?? clusters.find((c) => c.components.includes('central'))?.aks?.subscription ?? clusters.find((c) => c.aks?.subscription)?.aks?.subscription;
      // OpenShift on Azure: the cloud its Infrastructure object names (Azure Government, Azure China).
      const cloud = clusters.find((c) => c.openshift?.azure?.problems.length === 0)?.openshift?.azure?.cloud;
      return {
        credentials: o.environment?.azure ?? {},
        ...(subscriptionId ? { subscriptionId } : {}),
        ...(cloud ? { cloud } : {}),
        ...(o.environment?.azureEndpoints.arm ? { endpoints: { arm: o.environment.azureEndpoints.arm } } : {}),
        ...(o.connectTo?.length ? { connectTo: o.connectTo } : {}),
      };
    },
    reading: 'Reading the Azure subscription, the cluster and the managed identity…',
  },
};

/** A cloud run through these steps: the `Cloud` with its facts, decisions and summary (each cloud has its own types). */
/* eslint-disable @typescript-eslint/no-explicit-any -- each cloud has its own types; the steps only pass them along */
type SteppedCloud = AnyCloud & {
  readFacts: (session: any, options: Options, clusters: ClusterFacts[]) => Promise<any>;
  decide: (options: Options, facts: any) => any;
  summary: (plan: any) => string[];
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The cloud's session, facts, decisions, state and plan. */
export const planOnCloud: Step<CloudRun> = async (r) => {
  const { answers: o, ui } = r;
  const how = SESSION[r.cloud];
  if (!how) throw new OperationError(`No run for cloud ${r.cloud}.`);
  const cloud: SteppedCloud = await loadCloud(r.cloud);
  await readOpenShiftSide(r, cloud.wiring('openshift', '').secret);
  const kube = r.kube!;
  const session = await cloud.openSession({
    log: ui.debug, warn: ui.warn, progress: ui.step, timeoutMs: o.requestTimeoutMs, waitMs: o.timeoutMs, environment: how.environment(o, r.clusters!),
    clusterToken: (context, namespace, sa, audience) => {
      const k = kube.get(context ?? '');
      return k ? k.requestToken(namespace, sa, audience) : Promise.reject(new OperationError(`No Kubernetes connection for context "${context ?? ''}".`));
    },
  });
  const plan = await ui.spinner(how.reading, async () => {
    const facts = await cloud.readFacts(session, o, r.clusters!);
    const decisions = cloud.decide(o, facts);
    const state: unknown = await cloud.readState!(session, facts, decisions);
    return (o.command === 'uninstall' ? cloud.planUninstall(facts, decisions, state) : cloud.plan(facts, decisions, state)) as AnyPlan;
  });
  r.plan = plan;
  r.session = { apply: (a, p) => (cloud.isAction(a) ? session.apply(a, p) : Promise.reject(new OperationError(`Not an action of ${cloud.title}: ${(a as { type: string }).type}.`))) };
  r.summary = () => cloud.summary(plan);
};

/**
 * OpenShift on a cloud whose wiring is a Secret (Google Cloud): the keys each cluster's issuer
 * signs with (the cloud holds them inline), and that Secret as found (reads only; a foreign one's
 * data is never read into the run).
 */
async function readOpenShiftSide(r: CloudRun, secret: { name: string; data: Record<string, string> } | undefined): Promise<void> {
  const openshift = r.clusters!.filter((c) => c.provider === 'openshift');
  if (!secret || !openshift.length) return;
  const key = Object.keys(secret.data)[0]!;
  r.clusters = await Promise.all(r.clusters!.map(async (c) => {
    const kube = c.provider === 'openshift' ? r.kube!.get(c.context ?? '') ?? (r.kube!.size === 1 ? [...r.kube!.values()][0] : undefined) : undefined;
    if (!kube) return c;
    const [docs, found] = await Promise.all([kube.issuerDiscovery(), kube.credentialsSecret?.(c.namespace, secret.name, key)]);
    return { ...c, issuerKeys: docs.keys, ...(found !== undefined ? { credentialsSecret: found } : {}) };
  }));
}

/** A plan only (plan, --dry-run): printed with the values files it would write; a blocker fails the run (exit 1). */
export const showCloudPlan: Step<CloudRun> = (r) => {
  const { plan, answers: o, ui } = r;
  const failed = blockersError(plan!);
  // The choices it was made with go with it: `init --plan` rebuilds it from them (cloud-saved-plan.ts).
  if (o.output === 'json') ui.result(planToJson(plan!, { inputs: cloudPlanInputs(r), ...(failed ? { error: errorJson(failed) } : {}) }));
  else ui.result(renderPlanText(plan!, ui.colors));
  writeHelmValues(plan!, o, ui);
  if (failed) throw failed;
};

/** Show → confirm → apply (the cloud's actions to its session, the cluster's to the Kubernetes applier) → summary. */
export const applyCloudPlan: Step<CloudRun> = async (r) => {
  const { plan, answers: o, ui } = r;
  await deliver({
    plan: plan!, options: o, ui, leftOut: (r.unreachable ?? []).map((u) => u.context),
    planOnStderr: true,
    confirm: o.command === 'uninstall'
      ? { question: (count, outage) => `Remove: apply ${count} change${count === 1 ? '' : 's'}?${outage ? ` (${outage})` : ''}`, review: 'rhacs-sts uninstall --dry-run', blankLine: true }
      : { question: applyQuestion, review: 'rhacs-sts plan', blankLine: true },
    blankBeforeApply: true,
    deps: { cloud: r.session!, kube: r.kube!, ...(r.central ? { central: r.central } : {}) },
    nothingToChange: () => {
      if (o.output !== 'json' && !o.quiet) ui.info('Everything is in place.');
    },
    done: (applied) => {
      if (o.output === 'json') return;
      const n = applied.filter((a) => a.outcome === 'done').length;
      ui.info('');
      ui.info(ui.logColors.green(`Done: ${n} change${n === 1 ? '' : 's'} applied.`));
      if (o.command !== 'uninstall') for (const l of r.summary?.() ?? []) ui.info(l);
    },
  });
};

export const deliverCloudPlan: Step<CloudRun> = (r) => (r.answers.dryRun ? showCloudPlan(r) : applyCloudPlan(r));

/** The kind of a status row, for the cluster's actions (the cloud's carry their own label). */
const STATUS_KINDS: Record<string, string> = { 'service-account-annotation': 'ServiceAccount', 'operator-overlay': 'Operator overlay', restart: 'Rollout', 'pod-labels': 'Pod labels', 'deployment-env': 'Deployment env' };

/** One row of status: a piece rhacs-sts manages, and whether it is as init leaves it. */
interface StatusRow { kind: string; name: string; health: 'healthy' | 'unhealthy'; detail: string; fix?: string }

/**
 * status on a cloud other than AWS: the init plan from the flags, read as a report. What init
 * would leave unchanged is healthy; what it would create or change is not (the fix: init). Nothing
 * of rhacs-sts's at all (no account of ours, no annotation naming it) is "manages nothing".
 */
export const statusOnCloud: Step<CloudRun> = (r) => {
  const { plan, answers: o, ui } = r;
  const rows: StatusRow[] = plan!.actions
    // A restart that follows a wiring change is the fix's, not a piece of its own; an unfinished rollout is.
    .filter((a) => a.type !== 'restart' || (a.status !== 'unchanged' && 'method' in a && a.method === 'rollout'))
    // The cloud identity not there at all is "manages nothing", not a row.
    .filter((a) => (a.type !== 'gcp-service-account' && a.type !== 'azure-managed-identity') || a.status !== 'create')
    .filter((a) => a.type !== 'gcp-propagation')
    .map((a) => ({
      kind: 'label' in a && a.label ? a.label : STATUS_KINDS[a.type] ?? a.type,
      name: a.target,
      health: a.status === 'unchanged' ? 'healthy' as const : 'unhealthy' as const,
      detail: a.status === 'unchanged' ? a.summary : `not in place: ${a.summary}`,
      ...(a.status === 'unchanged' ? {} : { fix: `rhacs-sts init${o.namespace ? ` --namespace ${o.namespace}` : ''}` }),
    }));
  const saOfOurs = plan!.actions.some((a) => (a.type === 'gcp-service-account' || a.type === 'azure-managed-identity') && a.status === 'unchanged');
  const wired = plan!.actions.some((a) => (a.type === 'service-account-annotation' || a.type === 'deployment-env') && a.status === 'unchanged');
  const managed = saOfOurs || wired ? rows : [];
  const healthy = managed.every((x) => x.health === 'healthy');
  const heading = plan!.heading ?? [];
  if (o.output === 'json') {
    ui.result(JSON.stringify({ cloud: plan!.cloud, provider: plan!.provider, ...(plan!.clusterName ? { clusterName: plan!.clusterName } : {}), heading, managed, healthy }, null, 2));
  } else {
    const c = ui.colors;
    const out = [c.bold(`Status · ${heading[0] ?? ''}`), ...heading.slice(1).map((l) => `  ${l}`), ''];
    if (!managed.length) out.push(`rhacs-sts manages nothing here: no ${plan!.cloud === 'azure' ? 'managed identity' : 'service account'} or wiring of its own (run "rhacs-sts plan" to see what init would create).`);
    for (const x of managed) {
      out.push(`${x.health === 'healthy' ? c.green('healthy  ') : c.red.bold('UNHEALTHY')}  ${x.kind}  ${x.name}`);
      out.push(`           ${x.detail}`);
      if (x.fix) out.push(`           ${c.dim('fix:')} ${x.fix}`);
    }
    if (managed.length) out.push('', healthy ? c.green(`${managed.length} managed, all healthy.`) : c.red(`${managed.filter((x) => x.health !== 'healthy').length} of ${managed.length} not healthy.`));
    ui.result(out.join('\n'));
  }
  if (!healthy) {
    const bad = managed.filter((x) => x.health !== 'healthy');
    throw new VerifyFailedError(`${bad.length} of ${managed.length} managed item${managed.length === 1 ? ' is' : 's are'} not healthy: ${bad.map((x) => `${x.kind} ${x.name}`).join(', ')}.`, 'Apply the fix shown under each, then run "rhacs-sts status" again.');
  }
};
