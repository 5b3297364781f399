/**
 * The data that flows through the pipeline: facts (discovered or given), decisions (flags,
 * prompts, defaults), current state (read from AWS and the cluster; absent offline), and the
 * plan (an ordered list of actions, each with current and desired state).
 */
import type { Mechanism, Provider } from '../options/options.js';
import type { CloudId } from '../clouds/ids.js';
export type { Mechanism };
import type { Partition } from '../validate.js';
import type { EcrScope, PolicyDocument, RepositoryGrant } from '../clouds/aws/policies.js';
import type { ImageIntegration, IntegrationRecord } from './central-types.js';
import type { CredentialsSecretAction, OpenShiftCloudFacts } from './credentials-secret.js';

export type Component = 'central' | 'sensor';
export const COMPONENTS: readonly Component[] = ['central', 'sensor'];
export type InstallMethod = 'operator' | 'helm' | 'manifests';

/** The platforms AWS pairs with (a GKE or AKS cluster's pods are wired to their own cloud). */
export type AwsProvider = Extract<Provider, 'eks' | 'openshift'>;
/**
 * The audience of the token a cluster presents to AWS STS, by platform. Only AWS's platforms have
 * one: the AWS pipeline (the only reader) never holds a GKE cluster, whose pods act through GKE's
 * metadata server with no token of their own to present.
 */
export const AUDIENCE: Readonly<Record<Provider, string>> = { eks: 'sts.amazonaws.com', openshift: 'openshift' } satisfies Record<AwsProvider, string> as Record<Provider, string>;

/** The audience of the token EKS Pod Identity exchanges (the projected volume the webhook adds). */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
/** The env EKS injects into the pods of a service account with a Pod Identity association. */
export const POD_IDENTITY_ENV = ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'] as const;
/** The Pod Identity Agent add-on's DaemonSet. */
export const POD_IDENTITY_AGENT = { namespace: 'kube-system', name: 'eks-pod-identity-agent' } as const;
/** The first RHACS version whose AWS SDK reads container credentials (EKS Pod Identity). */
export const POD_IDENTITY_MIN_RHACS = '4.4';

/** One EKS Pod Identity association, as the EKS API describes it. */
export interface AssociationState {
  clusterName: string;
  region: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationId: string;
  associationArn: string;
  tags: Record<string, string>;
  /** Set when an EKS add-on owns it. */
  ownerArn?: string;
}
// How pods receive an identity is the platforms' (src/platforms/); re-exported for the rooms that read the wiring.
export { EKS_ROLE_ANNOTATION } from '../platforms/eks/constants.js';
export { OPENSHIFT_TOKEN_DIR, OPENSHIFT_TOKEN_FILE, OPENSHIFT_TOKEN_VOLUME, TOKEN_EXPIRATION_SECONDS } from '../platforms/openshift/constants.js';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/**
 * Where init records the role that Central's or Sensor's wiring named before it was replaced
 * (--replace-role-wiring): on the service account (EKS) or the deployment (OpenShift). Uninstall
 * puts that role back.
 */
export const PREVIOUS_ROLE_ANNOTATION = 'rhacs-sts/previous-role-arn';

/** The operator CR that owns a component. */
export interface OperatorCr {
  kind: 'Central' | 'SecuredCluster';
  name: string;
  /** Current spec.overlays of the CR, when read. */
  overlays?: unknown[];
}

export interface DeploymentState {
  container: string;
  /** Env of the target container (plain values only; valueFrom entries are listed with value undefined). */
  env: { name: string; value?: string }[];
  /** A projected SA token volume mounted at the OpenShift token path in the target container. */
  hasTokenMount: boolean;
  podTemplateAnnotations: Record<string, string>;
  podTemplateLabels?: Record<string, string>;
  /** The deployment's own annotations (where init records a replaced role on OpenShift). */
  annotations?: Record<string, string>;
  /** spec.strategy.type (Recreate: a restart stops the old pod before the new one is ready). */
  strategy?: 'Recreate' | 'RollingUpdate';
  /**
   * The deployment's last rollout, judged as `kubectl rollout status` does, when it has not
   * finished (absent: rolled out). An interrupted or timed-out wait leaves it so; a re-run waits again.
   */
  rollout?: { state: 'progressing' | 'failed'; message: string };
}

/**
 * EKS: what one running pod of a component carries. The IRSA webhook injects AWS_ROLE_ARN when a
 * pod is created, so this, not any timestamp, says whether the pods already have the role.
 */
export interface PodRole {
  name: string;
  /** AWS_ROLE_ARN of the component's container (undefined: none). */
  roleArn?: string;
  /** Why the webhook leaves the pod alone (its opt-out label or annotation), if it does. */
  webhookOptOut?: string;
  /** EKS Pod Identity: the container has AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. */
  containerCredentials?: boolean;
}

export interface ComponentState {
  /**
   * roleAnnotationSetAt: when rhacs-sts last wrote the role annotation (ISO), from its own
   * managedFields entry; what other managers (Helm, the operator, kubectl) do to the object does not count.
   */
  serviceAccount: { annotations: Record<string, string>; roleAnnotationSetAt?: string } | null;
  deployment: DeploymentState | null;
  /** EKS: the running (not terminating) pods of the deployment; null when they may not be listed; absent when not read. */
  pods?: PodRole[] | null;
}

/** One cluster in which RHACS components run. */
export interface ClusterFacts extends OpenShiftCloudFacts {
  /** kubeconfig context (undefined offline or for the current context). */
  context?: string;
  /** The cluster's name (EKS cluster name, OpenShift infrastructure name, else the context name), when known. */
  name?: string;
  provider: Provider;
  issuer: string;
  namespace: string;
  /** Components that run in this cluster. */
  components: Component[];
  installMethod: InstallMethod;
  /** How we learned the install method (for the "why" in the plan). */
  installEvidence?: string;
  operatorCrs?: Partial<Record<Component, OperatorCr>>;
  helmReleases?: Partial<Record<Component, string>>;
  /** Helm installs: the chart version of each component's release (its helm.sh/chart label). */
  helmChartVersions?: Partial<Record<Component, string>>;
  version?: string;
  /** EKS: the AWS region the cluster runs in (from its issuer or kubeconfig), for the EKS API. */
  region?: string;
  /**
   * EKS: whether the Pod Identity Agent add-on runs (DaemonSet kube-system/eks-pod-identity-agent
   * with ready pods); undefined when not read (offline, or not allowed to read DaemonSets).
   */
  podIdentityAgent?: boolean;
  /** Current state by component; undefined offline (unknown). */
  current?: Partial<Record<Component, ComponentState>>;
  /** GKE: where Google has the cluster (issuer or kubeconfig context), and the node pools (cloud.google.com/gke-nodepool) of Central's and Sensor's nodes, when read. */
  gke?: { projectId: string; location: string; name: string; nodePools?: string[] };
  aks?: { subscription?: string; resourceGroup?: string; name?: string; region?: string; tenant?: string }; // AKS: where Azure has it, as its signals say
  openshift?: import('../platforms/openshift/azure.js').OpenShiftClusterFacts; // OpenShift: what its Authentication and Infrastructure objects say
}

export interface Facts {
  partition: Partition;
  accountId: string;
  region: string;
  clusterName?: string;
  clusters: ClusterFacts[];
  /** True when nothing was read: current state is unknown. */
  offline: boolean;
}

export interface OidcProviderState {
  arn: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
}

export interface RoleState {
  arn: string;
  path: string;
  trustPolicy: PolicyDocument;
  inlinePolicies: Record<string, PolicyDocument>;
  /** Names of every inline policy of the role (ours is read in full into inlinePolicies), when listed. */
  inlinePolicyNames?: string[];
  attachedPolicyArns: string[];
  permissionsBoundary?: string;
  tags: Record<string, string>;
}

/** What is in the AWS account now; undefined (the whole object) offline. */
export interface AwsState {
  oidcProviders: Record<string, OidcProviderState | null>;
  role: RoleState | null;
  /** The account's trust-policy size quota (GetAccountSummary AssumeRolePolicySizeQuota), when read. */
  trustPolicySizeQuota?: number;
  /** EKS Pod Identity associations of the components' service accounts (EKS clusters only), when read. */
  associations?: AssociationState[];
  /**
   * Names of the roles whose trust policy names each issuer's OIDC provider (ListRoles), read for
   * the providers of clusters on Pod Identity: one nobody trusts any more goes.
   */
  oidcProviderTrusters?: Record<string, string[]>;
}

export interface Decisions {
  roleName: string;
  rolePath: string;
  permissionsBoundary?: string;
  /** Managed policies to attach (--attach-policy-arn). */
  attachPolicyArns?: string[];
  ecr: EcrScope;
  delegatedScanning: boolean;
  restart: boolean;
  adoptRole: boolean;
  adoptOidcProvider: boolean;
  /** Point Central/Sensor at our role even where their wiring names another role (recorded, restored by uninstall). */
  replaceRoleWiring?: boolean;
  /** Thumbprints computed for each issuer, where it was reachable. */
  thumbprints: Record<string, string[]>;
  /** EKS: how pods get the role (default irsa). */
  mechanism?: Mechanism;
  /** Let rhacs-sts point an existing Pod Identity association it did not create at its role. */
  adoptAssociation?: boolean;
}

export type ActionStatus = 'create' | 'update' | 'unchanged' | 'delete';

interface BaseAction {
  /** Stable identifier, unique within a plan. */
  id: string;
  status: ActionStatus;
  /** What the action touches, for people (an ARN or namespace/kind/name). */
  target: string;
  summary: string;
  current?: unknown;
  desired?: unknown;
}

export interface KubeRef {
  context?: string;
  namespace: string;
  name: string;
}

export type Action =
  | (BaseAction & {
      type: 'oidc-provider'; issuer: string; arn: string; addClientIds: string[]; tags: Record<string, string>; thumbprints: string[];
      /** This run adopts a provider rhacs-sts did not create (--adopt-oidc-provider): re-checked when it is written. */
      adopt?: boolean;
      /** Uninstall of an adopted provider: the audiences we added, and our tag keys, to remove. */
      removeClientIds?: string[]; removeTags?: string[];
    })
  | (BaseAction & { type: 'role'; name: string; path: string; arn: string; tags: Record<string, string>; permissionsBoundary?: string })
  | (BaseAction & { type: 'role-tags'; roleName: string; tags: Record<string, string> })
  | (BaseAction & {
      type: 'managed-policy'; roleName: string; policyArn: string;
      /** The role tag that records that rhacs-sts attached it (uninstall detaches only those). */
      tagKey: string;
    })
  | (BaseAction & {
      type: 'trust-policy'; roleName: string; document: PolicyDocument;
      /**
       * The issuers whose statements of ours this action owns: applying it replaces exactly those
       * with the document's statements for them (none: removes them), against the policy as it is then.
       */
      scope?: string[];
    })
  | (BaseAction & { type: 'permissions-policy'; roleName: string; policyName: string; document: PolicyDocument })
  | (BaseAction & {
      type: 'pod-identity-association'; clusterName: string; region: string; namespace: string; serviceAccount: string;
      roleArn: string; tags: Record<string, string>;
      /** The existing association (update, delete, adopt). */
      associationId?: string;
      /** Kubernetes context of the cluster (for people). */
      context?: string;
    })
  | (BaseAction & {
      type: 'service-account-annotation'; ref: KubeRef; annotations: Record<string, string>;
      /** Annotation keys to remove along the way (uninstall: the record of a replaced role). */
      removeAnnotations?: string[];
    })
  | (BaseAction & {
      type: 'deployment-env'; ref: KubeRef; container: string; env: { name: string; value: string }[];
      /** Annotations of the deployment to set with the env (the record of a replaced role); null removes one. */
      annotations?: Record<string, string | null>;
      /**
       * Also mount a projected service-account token for this audience at the OpenShift token
       * path, in the same patch (one pod-template change, so one rollout).
       */
      tokenVolume?: { audience: string };
      /**
       * Not applied live (--no-restart on OpenShift: any env change rolls the pods); the Helm
       * values carry it, and "helm upgrade" applies it when a rollout suits.
       */
      deferred?: boolean;
    })
  | (BaseAction & { type: 'operator-overlay'; ref: KubeRef; crKind: 'Central' | 'SecuredCluster'; overlays: OperatorOverlay[] })
  // Pod-template labels (AKS: the webhook's selector); deferred: not live (--no-restart, it would roll the pods).
  | (BaseAction & { type: 'pod-labels'; ref: KubeRef; labels: Record<string, string>; deferred?: boolean }) | (BaseAction & CredentialsSecretAction)
  | (BaseAction & {
      type: 'restart'; ref: KubeRef; method: 'restartedAt' | 'rollout'; deferred: boolean;
      /** The deployment uses the Recreate strategy: the restart stops every pod before the new ones are ready (a short outage). */
      outage?: boolean;
      /**
       * Uninstall: restart by removing the pod-template restartedAt marker when there is one (so the
       * template is again as it was before init set it), else by setting it.
       */
      revertMarker?: boolean;
    })
  // --- Central's ECR integration (src/central/) ---
  | (BaseAction & {
      type: 'central-integration';
      /** Central's cluster and namespace (its service account carries the record). */
      ref: KubeRef;
      op: 'create' | 'update' | 'adopt' | 'restore' | 'delete' | 'forget';
      /** The integration as it is to be saved (or, to delete, as it is). */
      integration: ImageIntegration;
      integrationId?: string;
      /** What rhacs-sts records on Central's service account once applied (null: remove the record; undefined: keep). */
      record?: IntegrationRecord | null;
    });

export type ActionType = Action['type'];

/** One entry of a StackRox CR's spec.overlays. */
export interface OperatorOverlay {
  apiVersion: string;
  kind: string;
  name: string;
  patches: { path: string; value: string }[];
}

export interface KubeChange {
  kind: 'ServiceAccount' | 'Deployment';
  context?: string;
  namespace: string;
  name: string;
  container?: string;
  annotations?: Record<string, string>;
  env?: { name: string; value: string }[];
  /** Where the change is made durable. */
  durability: 'live' | 'operator-overlay' | 'helm-values';
}

/** The StackRox chart of each component. */
export const HELM_CHART: Record<Component, string> = {
  central: 'stackrox-central-services',
  sensor: 'stackrox-secured-cluster-services',
};

export interface HelmValues {
  release: string;
  chart: string;
  /** The installed chart's version (from its helm.sh/chart label), so that applying the values does not upgrade RHACS. */
  chartVersion?: string;
  context?: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** The flags that take over, or point elsewhere, what blocks a plan: init asks about the adopt ones at a terminal. */
export type BlockerFix = '--adopt-role' | '--adopt-oidc-provider' | '--adopt-association' | '--adopt-integration' | '--replace-role-wiring' | '--adopt-service-account';

/** A reason the plan cannot be applied as it stands, and the fix (`hint`, for people; `fix`, the flag that resolves it, where one does). */
export interface Blocker {
  message: string;
  hint: string;
  fix?: BlockerFix;
}

/** The Kubernetes actions of a plan (any cloud): applied by the cluster's session. */
export type KubeAction = Extract<Action, { type: 'service-account-annotation' | 'deployment-env' | 'operator-overlay' | 'pod-labels' | 'restart' | 'credentials-secret' }>;
/** Central's integration action (src/central/). */
export type CentralAction = Extract<Action, { type: 'central-integration' }>;

/** What every action of a plan has, whichever cloud or cluster it touches. */
export interface PlanActionBase {
  id: string;
  type: string;
  status: ActionStatus;
  target: string;
  summary: string;
  current?: unknown;
  desired?: unknown;
  /** A cloud's action: what it touches, for people (e.g. "Google service account"); the AWS and Kubernetes kinds have theirs in the renderer. */
  label?: string;
}

/**
 * A cloud's own action (its type starts with the cloud's id: `gcp-service-account`), as the generic
 * steps see it; AWS's actions, from before other clouds, are in `Action` under their own names.
 */
export interface CloudPlanAction extends PlanActionBase {
  type: `${Exclude<CloudId, 'aws'>}-${string}`;
}

/** Any action of any cloud's plan: what rendering, confirming and applying accept. */
export type AnyAction = Action | CloudPlanAction;

/** Any cloud's plan, as the generic steps see it. */
export type AnyPlan = BasePlan<AnyAction>;

/** Whether a plan is AWS's (the one plan whose cloud is not named, for its format's sake). */
export function isAwsPlan(plan: AnyPlan): plan is Plan {
  return plan.cloud === undefined || plan.cloud === 'aws';
}

/**
 * The cloud-neutral part of a plan: what the generic steps (rendering the Kubernetes side, confirming,
 * the Kubernetes applier, restarts, Helm values) read. Each cloud's plan extends it with its own
 * identity fields, and its actions are the Kubernetes ones, Central's, and the cloud's own (which
 * apply hands to the cloud's session).
 */
export interface BasePlan<A extends PlanActionBase = PlanActionBase> {
  /** Version of the plan document format. */
  planVersion: 1;
  command: 'init' | 'uninstall';
  /** The cloud the identity lives in; absent: AWS (the format from before other clouds, unchanged). */
  cloud?: CloudId;
  /** A cloud other than AWS: the lines that head the text plan (where the identity lives), for people. */
  heading?: string[];
  provider: Provider;
  clusterName?: string;
  offline: boolean;
  kubernetes: KubeChange[];
  restarts: {
    kind: 'Deployment'; context?: string; namespace: string; name: string; method: 'restartedAt' | 'rollout'; deferred: boolean;
    /** Recreate strategy: a short outage. */
    outage?: boolean;
  }[];
  /**
   * Helm values per release: init's make the live changes durable across `helm upgrade`;
   * uninstall's undo them (null removes a key in Helm's merge).
   */
  helmValues?: HelmValues[];
  actions: A[];
  /** Reasons the plan cannot be applied as it stands (each names the flag that resolves it). */
  blockers: Blocker[];
  notes: string[];
}

/** AWS's plan: an IAM role trusted through OIDC providers (or EKS Pod Identity), ECR read. */
export interface Plan extends BasePlan<Action> {
  /** EKS: how the pods get the role (absent: irsa). */
  mechanism?: Mechanism;
  partition: Partition;
  accountId: string;
  region: string;
  oidcProvider: { arn: string; url: string; clientIds: string[] };
  oidcProviders: { arn: string; url: string; clientIds: string[] }[];
  role: {
    name: string;
    path: string;
    arn: string;
    trustPolicy: PolicyDocument;
    permissionsPolicyName: string;
    permissionsPolicy: PolicyDocument;
    permissionsBoundary?: string;
    tags: Record<string, string>;
  };
  /** The registry is in another account: what its owner must add to the repository policies (see policies.repositoryGrant). */
  repositoryGrant?: RepositoryGrant;
}
