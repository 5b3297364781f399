/**
 * Google Cloud's plan for GKE (pure): the Google service account RHACS acts as (ours by its
 * description marker), `roles/artifactregistry.reader` for it (on the repositories named, else on the
 * project), `roles/iam.workloadIdentityUser` on it for exactly the RHACS Kubernetes service accounts
 * (`serviceAccount:<project>.svc.id.goog[<ns>/<sa>]`), and the cluster side: the annotation
 * `iam.gke.io/gcp-service-account` in the durable place, and a restart.
 */
import { GKE_SA_ANNOTATION } from '../../platforms/gke/constants.js';
import type { BasePlan, Blocker, ClusterFacts, KubeAction, PlanActionBase } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { planAnnotationWiring } from '../../plan/wiring.js';
import { changeMember, describeResource, type IamPolicy, type IamResource } from './iam-policy.js';
import { DEFAULT_PROPAGATION_WAIT_MS } from './propagation.js';
import { accountEmail, ownershipDescription, type ServiceAccountFacts } from './service-account.js';
import type { PoolRef, ProviderRef } from './external-account.js';
import type { PoolFacts, ProviderFacts } from './pools.js';
import type { Jwk } from '../../kube/session.js';

export const ARTIFACT_READER = 'roles/artifactregistry.reader';
export const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';

/** What a GKE run knows of Google and the clusters. */
export interface GcpFacts {
  projectId: string;
  projectNumber: string;
  /** The clusters, each with its GKE reference (cluster.gke). */
  clusters: ClusterFacts[];
  clusterName?: string;
  offline: boolean;
}

export interface GarRepository {
  location: string;
  repository: string;
}

export interface GcpDecisions {
  /** The service account's id (the part before @). */
  accountId: string;
  delegatedScanning: boolean;
  restart: boolean;
  /** Use a service account rhacs-sts did not create (--adopt-service-account): it is not marked, and uninstall keeps it. */
  adoptServiceAccount: boolean;
  /** --gar-repository: the reader grant goes on these; none: on the project. */
  repositories: GarRepository[];
  /** OpenShift: the workload identity pool, and each cluster's OIDC provider in it (by context, '' for the current one). */
  workloadIdentity?: { poolId: string; providerIds: Record<string, string> };
  /** OpenShift: replace a Secret gcp-cloud-credentials rhacs-sts did not write (--adopt-credentials-secret). */
  adoptCredentialsSecret?: boolean;
}

/** What is in place at Google for a run (read-only). */
export interface GcpState {
  serviceAccount: ServiceAccountFacts | null;
  /** The service account's own IAM policy (null: the account does not exist yet). */
  serviceAccountPolicy: IamPolicy | null;
  /** The policy of each resource the reader grant goes on, by its description. */
  readerPolicies: Record<string, IamPolicy>;
  /** OpenShift: the pool (null: none has that id), and each cluster's provider by its id (null: none). */
  pool?: PoolFacts | null;
  providers?: Record<string, ProviderFacts | null>;
}

export type GcpAction =
  | (PlanActionBase & {
      type: 'gcp-service-account'; projectId: string; accountId: string; email: string;
      /** The clusters its ownership marker lists when it is created. */
      clusters: string[];
      /** Using an account rhacs-sts did not create (--adopt-service-account). */
      adopt?: boolean;
    })
  | (PlanActionBase & {
      type: 'gcp-iam-member'; resource: IamResource; role: string; member: string; op: 'add' | 'remove';
      /** The service account whose policy this is must be ours (or adopted) when it is written. */
      adopt?: boolean;
    })
  | (PlanActionBase & {
      type: 'gcp-propagation'; projectId: string; email: string; repositories: GarRepository[];
      /** Each Kubernetes service account that acts as the Google one: its token chain proves the grants effective. */
      probes: PropagationProbe[];
    })
  /** OpenShift: the workload identity pool (ours by its description marker; `update`: undelete ours). */
  | (PlanActionBase & { type: 'gcp-workload-identity-pool'; ref: PoolRef; clusters: string[] })
  /** OpenShift: the cluster's OIDC provider in the pool (`update`: the drifted fields patched, stale keys re-synced). */
  | (PlanActionBase & { type: 'gcp-oidc-provider'; ref: ProviderRef; issuer: string; keys?: Jwk[]; cluster: string });

/** One Kubernetes service account whose token chain the propagation wait walks. */
export interface PropagationProbe {
  context?: string;
  namespace: string;
  serviceAccount: string;
  issuer: string;
}

export const GCP_ACTION_TYPES: ReadonlySet<string> = new Set(['gcp-service-account', 'gcp-iam-member', 'gcp-propagation', 'gcp-workload-identity-pool', 'gcp-oidc-provider']);

export function isGcpAction(a: { type: string }): a is GcpAction {
  return GCP_ACTION_TYPES.has(a.type);
}

/** Google Cloud's plan: the cloud-neutral base and where its identity lives. */
export interface GcpPlan extends BasePlan<GcpAction | KubeAction> {
  cloud: 'gcp';
  projectId: string;
  projectNumber: string;
  workloadPool: string;
  serviceAccount: { email: string; accountId: string; managed: boolean };
  /** Every member this plan grants, on which resource and role. */
  grants: { resource: string; role: string; member: string }[];
  /** OpenShift: the pool and the clusters' providers (by project number). */
  workloadIdentity?: { pool: string; providers: string[] };
}

/** The workload pool of a GKE project: workload identity's principals live there. */
export function workloadPool(projectId: string): string {
  return `${projectId}.svc.id.goog`;
}

/** The principal of a Kubernetes service account under GKE workload identity. */
export function gkeMember(projectId: string, namespace: string, ksa: string): string {
  return `serviceAccount:${workloadPool(projectId)}[${namespace}/${ksa}]`;
}

/** The resources the reader grant goes on: the repositories named, else the project. */
export function readerResources(projectId: string, repositories: readonly GarRepository[]): IamResource[] {
  return repositories.length
    ? repositories.map((r) => ({ kind: 'repository' as const, projectId, location: r.location, repository: r.repository }))
    : [{ kind: 'project', projectId }];
}

function members(policy: IamPolicy | null | undefined, role: string): string[] {
  return (policy?.bindings ?? []).find((b) => b.role === role && b.condition === undefined)?.members ?? [];
}

/** A new account or grant is honoured only after IAM propagation: a wait, before the pods use it, proven per Kubernetes service account. */
function propagationWait(facts: GcpFacts, decisions: GcpDecisions, email: string, created: boolean): GcpAction | undefined {
  const probes: PropagationProbe[] = facts.clusters.flatMap((c) => targetComponents(c, decisions.delegatedScanning).map((comp) => ({
    ...(c.context !== undefined ? { context: c.context } : {}), namespace: c.namespace, serviceAccount: comp, issuer: c.issuer,
  })));
  if (!created || !probes.length) return undefined;
  return {
    id: 'gcp-propagation', type: 'gcp-propagation', label: 'IAM propagation', status: 'create', target: email,
    summary: `Wait until Google honours the new account and grants (IAM propagation, at most ${DEFAULT_PROPAGATION_WAIT_MS / 60_000} minutes)`,
    projectId: facts.projectId, email, repositories: decisions.repositories, probes,
  };
}

export function planGke(facts: GcpFacts, decisions: GcpDecisions, state: GcpState | undefined): GcpPlan {
  if (facts.clusters.length === 0) throw new Error('planGke: no cluster');
  const { projectId } = facts;
  const email = accountEmail(decisions.accountId, projectId);
  const known = state !== undefined;
  const sa = state?.serviceAccount ?? null;
  const foreign = sa !== null && !sa.managed;
  const adopt = foreign && decisions.adoptServiceAccount;
  const blockers: Blocker[] = [];
  const notes: string[] = [];
  const actions: (GcpAction | KubeAction)[] = [];
  const clusterNames = facts.clusters.map((c) => c.gke?.name ?? c.name ?? c.context ?? 'cluster');

  if (foreign && !adopt) {
    blockers.push({
      message: `The Google service account ${email} exists and rhacs-sts did not create it (its description carries no rhacs-sts marker).`,
      hint: `Name another one with --gcp-service-account, or let rhacs-sts use this one with --adopt-service-account (it is not marked as ours: uninstall removes our grants and keeps the account).`,
      fix: '--adopt-service-account',
    });
  }
  if (sa?.disabled) {
    blockers.push({ message: `The Google service account ${email} is disabled.`, hint: `Enable it (gcloud iam service-accounts enable ${email}) or name another with --gcp-service-account.` });
  }
  actions.push({
    id: 'gcp-service-account', type: 'gcp-service-account', label: 'Google service account',
    status: known && sa ? 'unchanged' : 'create',
    target: email,
    summary: !known || !sa ? 'Create the Google service account RHACS acts as (its description records that rhacs-sts manages it)'
      : foreign ? (adopt ? 'Use the existing service account (adopted: --adopt-service-account)' : 'Exists, not created by rhacs-sts')
      : 'Exists, managed by rhacs-sts',
    current: known ? (sa ? { email: sa.email, description: sa.description ?? null } : null) : undefined,
    desired: { email, description: sa?.description ?? ownershipDescription(clusterNames) },
    projectId, accountId: decisions.accountId, email, clusters: clusterNames, ...(adopt ? { adopt: true } : {}),
  });

  const grants: GcpPlan['grants'] = [];
  const grant = (resource: IamResource, policy: IamPolicy | null | undefined, role: string, member: string, why: string, id: string) => {
    const where = describeResource(resource);
    // GKE's workload pool is the project's: the same namespace and service account in two clusters of a fleet are one member.
    if (grants.some((g) => g.resource === where && g.role === role && g.member === member)) return;
    grants.push({ resource: where, role, member });
    const before = members(policy, role);
    const has = policy ? !changeMember(policy, { op: 'add', role, member }).changed : false;
    actions.push({
      id, type: 'gcp-iam-member', label: 'Google IAM binding',
      status: known && has ? 'unchanged' : 'create',
      target: `${where}: ${role}`,
      summary: `${why}: ${member}`,
      current: known ? { role, members: before } : undefined,
      desired: { role, members: has ? before : [...before, member] },
      resource, role, member, op: 'add', ...(adopt ? { adopt: true } : {}),
    });
  };
  const saMember = `serviceAccount:${email}`;
  for (const r of readerResources(projectId, decisions.repositories)) {
    grant(r, state?.readerPolicies[describeResource(r)], ARTIFACT_READER, saMember, 'Let the service account read images from Artifact Registry', `gcp-reader:${describeResource(r)}`);
  }
  const saResource: IamResource = { kind: 'serviceAccount', email };
  for (const c of facts.clusters) {
    for (const comp of targetComponents(c, decisions.delegatedScanning)) {
      grant(saResource, state?.serviceAccountPolicy, WORKLOAD_IDENTITY_USER, gkeMember(projectId, c.namespace, comp),
        `Let ${comp} (Kubernetes service account ${c.namespace}/${comp}) act as the service account`, `gcp-wi-user:${c.context ?? ''}:${c.namespace}:${comp}`);
    }
  }

  const wait = propagationWait(facts, decisions, email, known && actions.some((a) => a.status === 'create'));
  if (wait) actions.push(wait);

  const wiring = planAnnotationWiring({
    clusters: facts.clusters,
    delegatedScanning: decisions.delegatedScanning,
    restart: decisions.restart,
    wiring: () => ({ serviceAccountAnnotations: { [GKE_SA_ANNOTATION]: email } }),
    identity: `Google service account ${email}`,
    foreignHint: (current) => `Configure that service account instead (--gcp-service-account ${current.replace(/@.*$/, '')}, with --adopt-service-account if rhacs-sts did not create it), or remove the annotation first.`,
    restartWhy: "GKE's metadata server gives a pod the identity its service account names when the pod starts",
  });
  actions.push(...wiring.actions);
  blockers.push(...wiring.blockers);
  notes.push(...wiring.notes);
  const pools = new Set(facts.clusters.map((c) => c.gke?.projectId ?? projectId));
  if (facts.clusters.length > 1 && pools.size < facts.clusters.length) {
    notes.push(`GKE names a pod's identity by project, namespace and service account, not by cluster: each ${WORKLOAD_IDENTITY_USER} member here is granted once, and holds for every cluster of project ${projectId} whose pods run as that namespace and service account.`);
  }
  if (!decisions.repositories.length) {
    notes.push(`The reader role is granted on the whole project ${projectId} (every Artifact Registry repository in it); --gar-repository <location>/<repository> narrows it.`);
  }
  return {
    planVersion: 1,
    command: 'init',
    cloud: 'gcp',
    provider: facts.clusters[0]!.provider,
    ...(facts.clusterName ? { clusterName: facts.clusterName } : {}),
    offline: facts.offline,
    heading: [
      `project ${projectId} (number ${facts.projectNumber})`,
      `Service account: ${email}${foreign ? (adopt ? ' (adopted, not created by rhacs-sts)' : ' (not created by rhacs-sts)') : ''}`,
      `Workload pool:   ${workloadPool(projectId)}`,
    ],
    projectId,
    projectNumber: facts.projectNumber,
    workloadPool: workloadPool(projectId),
    serviceAccount: { email, accountId: decisions.accountId, managed: !foreign },
    grants,
    kubernetes: wiring.kubernetes,
    restarts: wiring.restarts,
    ...(wiring.helmValues ? { helmValues: wiring.helmValues } : {}),
    actions,
    blockers,
    notes,
  };
}
