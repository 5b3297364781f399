/**
 * The narrow interface through which the pipeline reaches a Kubernetes cluster. Only the calls
 * rhacs-sts makes are listed; the real implementation wraps @kubernetes/client-node and is
 * loaded lazily (see ./client.ts), tests may pass fakes.
 */
import type { Provider } from '../options.js';
import type { Action, ClusterFacts } from '../plan/model.js';

export type KubeAction = Extract<
  Action,
  { type: 'service-account-annotation' | 'deployment-env' | 'deployment-token-volume' | 'operator-overlay' | 'restart' }
>;

export const KUBE_ACTION_TYPES: ReadonlySet<Action['type']> = new Set([
  'service-account-annotation',
  'deployment-env',
  'deployment-token-volume',
  'operator-overlay',
  'restart',
]);

export function isKubeAction(a: Action): a is KubeAction {
  return KUBE_ACTION_TYPES.has(a.type);
}

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

export interface DiscoverInput {
  /** Namespace given by the user; otherwise detected (default stackrox). */
  namespace?: string;
  provider?: Provider;
  oidcIssuer?: string;
  /** Region given by the user, for the EKS issuer/region cross-check. */
  region?: string;
}

export interface ClusterDiscovery {
  facts: ClusterFacts;
  /** Region from the EKS issuer or the OpenShift infrastructure object. */
  region?: string;
  /** Things the user should know (e.g. token volume missing). */
  warnings: string[];
  /** Cluster name if the cluster reveals one (e.g. OpenShift infrastructureName), for defaults. */
  clusterName?: string;
}

export interface RolloutProgress {
  namespace: string;
  name: string;
  message: string;
}

export interface KubeSession {
  readonly contextName: string;
  readonly server: string;
  discover(input: DiscoverInput): Promise<ClusterDiscovery>;
  /** Applies one planned action; re-reads current state first and does nothing if already in place. Returns true when it wrote. */
  apply(action: KubeAction): Promise<boolean>;
  /** Watches the deployments until ready or the timeout; progress lines through the callback. */
  waitForRollouts(refs: { namespace: string; name: string }[], timeoutMs: number, onProgress: (p: RolloutProgress) => void): Promise<void>;
}

export type KubeLog = (message: string) => void;
