/**
 * The narrow interface through which the pipeline reaches a Kubernetes cluster. Only the calls
 * rhacs-sts makes are listed; the real implementation wraps @kubernetes/client-node and is
 * loaded lazily (see ./client.ts), tests may pass fakes.
 */
import type { KubeEnvironment } from './environment.js';
import type { Provider } from '../options/options.js';
import type { Action, ClusterFacts } from '../plan/model.js';
import type { CloudId } from '../clouds/ids.js';
import type { OpenShiftIssuerState, OperatorStatus } from './openshift-issuer.js';

export type KubeAction = Extract<
  Action,
  { type: 'service-account-annotation' | 'deployment-env' | 'operator-overlay' | 'pod-labels' | 'restart' | 'credentials-secret' }
>;

export const KUBE_ACTION_TYPES: ReadonlySet<string> = new Set<Action['type']>([
  'service-account-annotation',
  'deployment-env',
  'operator-overlay',
  'pod-labels',
  'restart',
  'credentials-secret',
]);

export function isKubeAction(a: { type: string }): a is KubeAction {
  return KUBE_ACTION_TYPES.has(a.type);
}

export interface KubeTarget {
  kubeconfig?: string;
  /** Where the kubeconfig is found without --kubeconfig (read at the entry point). */
  environment?: KubeEnvironment;
  context?: string;
  /** The flag that named the context, for messages (default --context). */
  flag?: '--context' | '--central-context' | '--sensor-context';
}

export interface DiscoverInput {
  /** Namespace given by the user; otherwise detected (default stackrox). */
  namespace?: string;
  provider?: Provider;
  oidcIssuer?: string;
  /** Region given by the user, for the EKS issuer/region cross-check. */
  region?: string;
  /** --cloud: OpenShift's cloud as the run says it (absent: its Infrastructure object decides, and another cloud's cluster is handed over). */
  cloud?: CloudId;
}

export interface ClusterDiscovery {
  facts: ClusterFacts;
  /** Region from the EKS issuer or the OpenShift infrastructure object. */
  region?: string;
  /** Things the user should know (e.g. token volume missing). */
  warnings: string[];
  /** Cluster name if the cluster reveals one (e.g. OpenShift infrastructureName), for defaults. */
  clusterName?: string;
  /**
   * With --oidc-issuer: the issuer the cluster's tokens carry (their `iss`), to hold the flag against,
   * and where it was read; or why it could not be read.
   */
  tokenIssuer?: { issuer: string; source: string } | { error: string };
}

export interface RolloutProgress {
  namespace: string;
  name: string;
  message: string;
  /** The rollout completed. */
  done?: boolean;
}

export interface KubeSession {
  readonly contextName: string;
  readonly server: string;
  /** The AWS region the kubeconfig entry names (an EKS context ARN, or `aws eks get-token --region`), if any. */
  readonly regionHint?: string;
  discover(input: DiscoverInput): Promise<ClusterDiscovery>;
  /** Applies one planned action; re-reads current state first and does nothing if already in place. Returns true when it wrote. */
  apply(action: KubeAction): Promise<boolean>;
  /** Watches the deployments until ready or the timeout; progress lines through the callback. */
  /** Waits until each deployment is rolled out; stops early (CancelledError) when `signal` aborts. */
  waitForRollouts(refs: { namespace: string; name: string }[], timeoutMs: number, onProgress: (p: RolloutProgress) => void, signal?: AbortSignal): Promise<void>;
  /** A credentials Secret: whether rhacs-sts wrote it (and then its value under `key`); null when there is none. Read-only. */
  credentialsSecret?(namespace: string, name: string, key: string): Promise<CredentialsSecretState | null>;
  /** The service-account issuer's discovery document and JWKS, read through the API server. Read-only. */
  issuerDiscovery(): Promise<IssuerDocuments>;
  /** OpenShift: spec.serviceAccountIssuer and the infrastructure's name and region; null on other clusters. Read-only. */
  openShiftIssuer?(): Promise<OpenShiftIssuerState | null>;
  /** OpenShift: sets authentications.config.openshift.io/cluster spec.serviceAccountIssuer (cluster-wide). */
  setServiceAccountIssuer?(issuer: string): Promise<void>;
  /** OpenShift: a ClusterOperator's Available/Progressing/Degraded conditions; null when absent. Read-only. */
  clusterOperator?(name: string): Promise<OperatorStatus | null>;
  /**
   * A short-lived token for the service account (TokenRequest API) with the given audience. The
   * token is a secret: callers must never log or print it.
   */
  requestToken(namespace: string, serviceAccount: string, audience: string, pod?: { name: string; uid: string }): Promise<string>;
  /** The deployment's rollout state and its pods (null pods when they may not be listed); null when the deployment is missing. */
  pods(namespace: string, deployment: string): Promise<WorkloadState | null>;
  /**
   * When the annotation `key` of the service account was last set, from metadata.managedFields
   * (the latest entry that owns it); undefined when the object records no such entry, null when
   * the service account does not exist.
   */
  annotationSetAt(namespace: string, serviceAccount: string, key: string): Promise<Date | undefined | null>;
}

export type { Jwk } from '../plan/credentials-secret.js';
import type { CredentialsSecretState, Jwk } from '../plan/credentials-secret.js';

export interface IssuerDocuments {
  /** `issuer` of /.well-known/openid-configuration (normalised: no trailing slash). */
  issuer?: string;
  jwksUri?: string;
  /** The keys of the JWKS (/openid/v1/jwks). */
  keys: Jwk[];
}

export interface PodState {
  name: string;
  uid?: string;
  startTime?: Date;
  ready: boolean;
  /** Being deleted (a replaced pod on its way out). */
  terminating: boolean;
  serviceAccountName?: string;
  /** Env of the component's container (plain values; valueFrom entries without a value). */
  env: { name: string; value?: string }[];
  /** Projected service-account tokens mounted in that container: mount path, file name in it, audience. */
  tokenMounts: { mountPath: string; path: string; audience: string }[];
  /**
   * EKS: why the pod identity webhook would leave that container alone, when the pod says so (the
   * `eks.amazonaws.com/skip-pod-identity-webhook` label or the `eks.amazonaws.com/skip-containers` annotation).
   */
  webhookOptOut?: string;
}

export interface WorkloadState {
  generation?: number;
  rollout: { state: 'done' | 'progressing' | 'failed'; message: string };
  podTemplateAnnotations: Record<string, string>;
  /** null when the pods could not be listed (see podsError). */
  pods: PodState[] | null;
  podsError?: string;
}

export type KubeLog = (message: string) => void;
