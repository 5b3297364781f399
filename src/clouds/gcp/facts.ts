/**
 * A GKE run's Google facts and decisions: the project (id and number), each cluster as GKE sees it
 * (workload identity on, the metadata mode of the node pools that run RHACS) — a problem there is
 * bad input with its `gcloud` fix, before anything is written — and the service account's id.
 */
import { InputError, type InputProblem } from '../../errors.js';
import type { ClusterFacts } from '../../plan/model.js';
import { GKE_SA_ANNOTATION } from '../../platforms/gke/constants.js';
import { gkeProblems, readGkeCluster } from './gke.js';
import type { GcpDecisions, GcpFacts } from './plan.js';
import { readProject } from './project.js';
import { defaultAccountId } from './service-account.js';
import { issuerProblems } from './pools.js';
import { clusterLabel, defaultWorkloadIdentityIds } from './plan-openshift.js';
import type { GcpSession } from './session.js';

/** What the run's flags say about Google (the options' GKE part). */
export interface GcpRunOptions {
  /**
   * uninstall removes what is there whatever GKE's settings, and verify reports them as rows:
   * for both, workload identity and the metadata mode are not bad input here.
   */
  command?: string;
  gcpProject?: string;
  gcpServiceAccount?: string;
  garRepositories: { location: string; repository: string }[];
  adoptServiceAccount: boolean;
  clusterName?: string;
  delegatedScanning?: boolean;
  restart: boolean;
  /** OpenShift: --workload-identity-pool, --workload-identity-provider (Central's cluster, or the only one), --adopt-credentials-secret. */
  workloadIdentityPool?: string;
  workloadIdentityProvider?: string;
  adoptCredentialsSecret?: boolean;
}

/** Pure: the project of a run: --gcp-project, else the one Central's cluster is in (its issuer or context). */
export function projectOfRun(options: Pick<GcpRunOptions, 'gcpProject'>, clusters: readonly ClusterFacts[]): string {
  if (options.gcpProject) return options.gcpProject;
  const central = clusters.find((c) => c.components.includes('central'));
  const fromCluster = central?.gke?.projectId ?? central?.openshiftGcp?.projectId ?? clusters.find((c) => c.gke)?.gke?.projectId ?? clusters.find((c) => c.openshiftGcp?.projectId)?.openshiftGcp?.projectId;
  if (fromCluster) return fromCluster;
  throw new InputError([{ source: '--gcp-project', message: clusters.some((c) => c.provider === 'openshift')
    ? 'could not be told from the cluster (its Infrastructure object names no status.platformStatus.gcp.projectID); say which project the service account and the pool live in'
    : 'could not be told from the cluster (its issuer and kubeconfig context name no project); say which project the service account lives in' }]);
}

/** Pure: the problems of a --gcp-service-account given as an email of another project. */
export function serviceAccountIdOf(options: Pick<GcpRunOptions, 'gcpServiceAccount' | 'clusterName'>, projectId: string, clusterName: string | undefined): { accountId: string; problems: InputProblem[] } {
  const given = options.gcpServiceAccount;
  if (!given) return { accountId: defaultAccountId(options.clusterName ?? clusterName ?? 'central'), problems: [] };
  const email = /^([^@]+)@([^.]+)\.iam\.gserviceaccount\.com$/.exec(given);
  if (email && email[2] !== projectId) {
    return { accountId: email[1]!, problems: [{ source: '--gcp-service-account', message: `${given} is in project ${email[2]}, but the run's project is ${projectId} (the service account and its grants live in one project): pass --gcp-project ${email[2]} or name an account of ${projectId}` }] };
  }
  return { accountId: email ? email[1]! : given, problems: [] };
}

/**
 * Reads the project and each GKE cluster (reads only). Workload identity off, or a node pool that
 * runs Central or Sensor without the GKE metadata server, is bad input (exit 2) naming the fix.
 */
export async function readGcpFacts(session: GcpSession, options: GcpRunOptions, clusters: ClusterFacts[]): Promise<GcpFacts> {
  const projectId = projectOfRun(options, clusters);
  const project = await readProject(session, projectId);
  const problems: InputProblem[] = [];
  for (const c of clusters) {
    if (c.provider === 'openshift') {
      problems.push(...openShiftProblems(c));
      continue;
    }
    if ((options.command === 'uninstall' || options.command === 'verify') && c.gke) continue;
    if (!c.gke) {
      problems.push({ source: '--context', message: `${c.context ?? 'the current context'} does not say which GKE cluster it is (no GKE issuer or gke_<project>_<location>_<cluster> context name)` });
      continue;
    }
    const gke = await readGkeCluster(session, c.gke);
    for (const p of gkeProblems(gke, c.gke.nodePools)) problems.push({ source: c.context ?? 'cluster', message: `${p.message}. Fix: ${p.fix}` });
  }
  if (problems.length) {
    throw new InputError(problems, 'RHACS\'s pods can act as a Google service account only through GKE workload identity: run the gcloud command above, then run rhacs-sts again. Nothing was changed.');
  }
  const central = clusters.find((c) => c.components.includes('central')) ?? clusters[0]!;
  const clusterName = options.clusterName ?? central.gke?.name ?? central.name;
  return { projectId: project.projectId, projectNumber: project.projectNumber, clusters, ...(clusterName ? { clusterName } : {}), offline: false };
}

/**
 * Pure: the service account the clusters' wiring names — Central's annotation first, then Sensor's —
 * when it is one of the run's project (another project's is left to the wiring row, which names it).
 */
export function annotatedAccountId(facts: Pick<GcpFacts, 'projectId' | 'clusters'>): string | undefined {
  const ordered = [...facts.clusters].sort((a, b) => Number(b.components.includes('central')) - Number(a.components.includes('central')));
  for (const c of ordered) {
    for (const comp of ['central', 'sensor'] as const) {
      const email = c.current?.[comp]?.serviceAccount?.annotations[GKE_SA_ANNOTATION];
      const m = email ? /^([^@]+)@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email) : null;
      if (m && m[2] === facts.projectId) return m[1];
    }
  }
  return undefined;
}

/**
 * Decisions from the flags: a flag wins, else the default (Sensor gets the identity where only
 * Sensor runs). verify and status, which change nothing, check the service account the clusters'
 * annotation names when --gcp-service-account does not say (init may have been given another name).
 */
export function decideGcp(options: GcpRunOptions, facts: GcpFacts): GcpDecisions {
  const annotated = !options.gcpServiceAccount && (options.command === 'verify' || options.command === 'status') ? annotatedAccountId(facts) : undefined;
  const { accountId, problems } = serviceAccountIdOf(annotated ? { ...options, gcpServiceAccount: annotated } : options, facts.projectId, facts.clusterName);
  if (problems.length) throw new InputError(problems);
  const onlySensor = facts.clusters.some((c) => c.components.includes('sensor') && !c.components.includes('central'));
  return {
    accountId,
    delegatedScanning: options.delegatedScanning ?? onlySensor,
    restart: options.restart,
    adoptServiceAccount: options.adoptServiceAccount,
    repositories: options.garRepositories,
    ...(facts.clusters.some((c) => c.provider === 'openshift') ? { workloadIdentity: decideWorkloadIdentity(options, facts), adoptCredentialsSecret: options.adoptCredentialsSecret === true } : {}),
  };
}

/**
 * OpenShift: the pool (--workload-identity-pool, else rhacs-<Central's cluster>) and each cluster's
 * provider (--workload-identity-provider names Central's cluster's, or the only one's; else the
 * cluster's name). The provider's id in the pool's place is the published mistake: refused.
 */
function decideWorkloadIdentity(options: GcpRunOptions, facts: GcpFacts): NonNullable<GcpDecisions['workloadIdentity']> {
  const central = facts.clusters.find((c) => c.components.includes('central')) ?? facts.clusters[0]!;
  const poolId = options.workloadIdentityPool ?? defaultWorkloadIdentityIds(options.clusterName ?? clusterLabel(central)).poolId;
  const providerIds = Object.fromEntries(facts.clusters.map((c) => [c.context ?? '', c === central && options.workloadIdentityProvider
    ? options.workloadIdentityProvider
    : defaultWorkloadIdentityIds(c === central ? options.clusterName ?? clusterLabel(c) : clusterLabel(c)).providerId]));
  return { poolId, providerIds };
}

/** An OpenShift cluster Google can trust: an https issuer and keys it signs with. */
function openShiftProblems(c: ClusterFacts): InputProblem[] {
  const where = c.context ?? 'the current context';
  return [
    ...issuerProblems(c.issuer).map((m) => ({ source: where, message: `its service-account issuer ${m}` })),
    ...(c.openshiftPlatform && c.openshiftPlatform !== 'GCP' ? [{ source: '--cloud', message: `${where} is OpenShift on ${c.openshiftPlatform} (its Infrastructure object says so), not on Google Cloud` }] : []),
  ];
}
