/**
 * The real KubeSession, over @kubernetes/client-node. Loaded lazily by the pipeline (see
 * ../discover.ts). Opening a session loads the kubeconfig, selects the context and checks, with
 * one read, that the server answers and accepts our credentials, so that a wrong kubeconfig or
 * context fails at once (exit 1) with the context and server named.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ExitCode, InputError, OperationError } from '../errors.js';
import { KubeApi, type KubeApiOptions } from './api.js';
import { applyKubeAction } from './apply.js';
import { discoverCluster } from './detect.js';
import { clusterNameFromKubeconfig, connectionError, isConnectionError, kubeStatus, regionFromKubeconfig } from './errors.js';
import { annotationSetAt, issuerDiscovery, requestToken, workloadState } from './inspect.js';
import { readCredentialsSecret } from './secret.js';
import type { CredentialsSecretState } from '../plan/credentials-secret.js';
import { waitForRollouts } from './rollout.js';
import { clusterOperatorStatus, readOpenShiftIssuer, setServiceAccountIssuer, type OpenShiftIssuerState, type OperatorStatus } from './openshift-issuer.js';
import type {
  ClusterDiscovery,
  DiscoverInput,
  IssuerDocuments,
  KubeAction,
  KubeSession,
  KubeTarget,
  RolloutProgress,
  WorkloadState,
} from './session.js';

export interface OpenKubeSessionOptions extends KubeApiOptions {
  /** Skip the connectivity check at open (tests of later failures). */
  skipProbe?: boolean;
  /** The user accepts a cluster with insecure-skip-tls-verify (--allow-insecure-skip-tls-verify). */
  allowInsecureSkipTlsVerify?: boolean;
  /** Where the warning about such a cluster goes (every run). */
  warn?: (message: string) => void;
}

/**
 * A kubeconfig cluster with insecure-skip-tls-verify: true would get our credentials (bearer
 * tokens, exec plugin tokens) without its certificate being checked, and the issuer IAM is told
 * to trust would be read from it. Refused before anything is sent, unless the user says so.
 */
function checkTlsVerification(contextName: string, server: string, skip: boolean, o: OpenKubeSessionOptions): void {
  if (!skip) return;
  const what = `the cluster of context "${contextName}" (server ${server}) sets insecure-skip-tls-verify: true in the kubeconfig`;
  if (!o.allowInsecureSkipTlsVerify) {
    throw new InputError(
      [{ source: '--allow-insecure-skip-tls-verify', message: `${what}: its certificate would not be checked, yet it would get your credentials and name the issuer that IAM is to trust. rhacs-sts refuses it unless you pass --allow-insecure-skip-tls-verify` }],
      'Give the cluster its CA instead (certificate-authority or certificate-authority-data in the kubeconfig, e.g. from "aws eks update-kubeconfig" or "oc login --certificate-authority"), or accept the risk with --allow-insecure-skip-tls-verify.',
    );
  }
  o.warn?.(`TLS verification is off for ${what}, accepted with --allow-insecure-skip-tls-verify: anyone in the network path can read your credentials and answer in the cluster's place.`);
}

/** Loads the kubeconfig: --kubeconfig, else KUBECONFIG, else ~/.kube/config (or in-cluster). */
export function loadKubeConfig(target: KubeTarget): KubeConfig {
  const kc = new KubeConfig();
  if (target.kubeconfig) {
    if (!existsSync(target.kubeconfig)) {
      throw new InputError([{ source: '--kubeconfig', message: `${target.kubeconfig} does not exist` }]);
    }
    try {
      kc.loadFromFile(target.kubeconfig);
    } catch (err) {
      throw new InputError([{ source: '--kubeconfig', message: `cannot be read as a kubeconfig: ${(err as Error).message}` }]);
    }
  } else {
    // Without any kubeconfig the client falls back to http://localhost:8080, whose error says
    // nothing useful: say what is missing instead.
    const environment = target.environment ?? {};
    const env = environment.kubeconfig;
    const files = env ? env.split(delimiter).filter(Boolean) : [join(environment.home ?? homedir(), '.kube', 'config')];
    if (!files.some((f) => existsSync(f)) && !environment.kubernetesServiceHost) {
      throw new InputError(
        [{ source: '--kubeconfig', message: env ? `no file that KUBECONFIG names exists (${files.join(', ')})` : `no kubeconfig found: KUBECONFIG is not set and ${files[0]} does not exist` }],
        'Connect to the cluster first (EKS: aws eks update-kubeconfig --name <cluster> --region <region>; OpenShift: oc login <api-url>), or pass --kubeconfig <file>.',
      );
    }
    try {
      kc.loadFromDefault();
    } catch (err) {
      const from = environment.kubeconfig ? `KUBECONFIG (${environment.kubeconfig})` : 'the default kubeconfig (~/.kube/config)';
      throw new InputError([{ source: '--kubeconfig', message: `${from} cannot be read: ${(err as Error).message}` }]);
    }
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (target.context) {
    if (!contexts.includes(target.context)) {
      throw new InputError(
        [{ source: target.flag ?? '--context', message: `"${target.context}" is not a context in the kubeconfig (available: ${contexts.length ? contexts.join(', ') : 'none'})` }],
        'List contexts with: kubectl config get-contexts',
      );
    }
    kc.setCurrentContext(target.context);
  }
  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    throw new InputError(
      [{
        source: '--context',
        message: contexts.length
          ? `no current context is set in the kubeconfig; choose one of: ${contexts.join(', ')}`
          : 'the kubeconfig has no contexts (is the cluster configured? for EKS: aws eks update-kubeconfig; for OpenShift: oc login)',
      }],
    );
  }
  return kc;
}

type AgentFactory = (cluster: { skipTLSVerify?: boolean } | null, agentOptions: Record<string, unknown>) => unknown;

/**
 * Every agent the client makes — API requests, watches, port-forward WebSockets — checks the
 * server's certificate unless the kubeconfig itself turns that off (accepted only with
 * --allow-insecure-skip-tls-verify): the client leaves it to NODE_TLS_REJECT_UNAUTHORIZED
 * otherwise, and "0" there would send the credentials to any server.
 */
function alwaysVerifyCertificates(kc: KubeConfig): void {
  const k = kc as unknown as { createAgent: AgentFactory };
  const create = k.createAgent.bind(kc);
  k.createAgent = (cluster, agentOptions) => create(cluster, { ...agentOptions, rejectUnauthorized: cluster?.skipTLSVerify !== true });
}

class ClientKubeSession implements KubeSession {
  constructor(readonly api: KubeApi) {}

  get contextName(): string {
    return this.api.endpoint.contextName;
  }

  get server(): string {
    return this.api.endpoint.server;
  }

  get regionHint(): string | undefined {
    return this.api.endpoint.region;
  }

  discover(input: DiscoverInput): Promise<ClusterDiscovery> {
    return discoverCluster(this.api, input);
  }

  apply(action: KubeAction): Promise<boolean> {
    return applyKubeAction(this.api, action);
  }

  waitForRollouts(refs: { namespace: string; name: string }[], timeoutMs: number, onProgress: (p: RolloutProgress) => void, signal?: AbortSignal): Promise<void> {
    return waitForRollouts(this.api, refs, timeoutMs, onProgress, signal);
  }

  issuerDiscovery(): Promise<IssuerDocuments> {
    return issuerDiscovery(this.api);
  }

  credentialsSecret(namespace: string, name: string, key: string): Promise<CredentialsSecretState | null> {
    return readCredentialsSecret(this.api, namespace, name, key);
  }

  openShiftIssuer(): Promise<OpenShiftIssuerState | null> {
    return readOpenShiftIssuer(this.api);
  }

  setServiceAccountIssuer(issuer: string): Promise<void> {
    return setServiceAccountIssuer(this.api, issuer);
  }

  clusterOperator(name: string): Promise<OperatorStatus | null> {
    return clusterOperatorStatus(this.api, name);
  }

  requestToken(namespace: string, serviceAccount: string, audience: string, pod?: { name: string; uid: string }): Promise<string> {
    return requestToken(this.api, namespace, serviceAccount, audience, pod);
  }

  pods(namespace: string, deployment: string): Promise<WorkloadState | null> {
    return workloadState(this.api, namespace, deployment);
  }

  annotationSetAt(namespace: string, serviceAccount: string, key: string): Promise<Date | undefined | null> {
    return annotationSetAt(this.api, namespace, serviceAccount, key);
  }
}

/** The session behind the KubeSession interface, with its request counters (tests, --verbose). */
export type KubeSessionWithApi = KubeSession & { readonly api: KubeApi };

export async function openKubeSession(
  target: KubeTarget,
  log: (msg: string) => void,
  options: OpenKubeSessionOptions = {},
): Promise<KubeSessionWithApi> {
  const kc = loadKubeConfig(target);
  const contextName = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser();
  const exec = user?.exec as { args?: string[]; command?: string } | undefined;
  const endpoint = { contextName, server: cluster.server, clusterName: clusterNameFromKubeconfig(contextName, exec), region: regionFromKubeconfig(contextName, exec), ...(exec?.command ? { execCommand: exec.command } : {}) };
  if (!user) {
    throw connectionError(endpoint, 'the context has no user, so there are no credentials to send.',
      'Fix the context\'s "user" in the kubeconfig (for EKS: aws eks update-kubeconfig; for OpenShift: oc login).', undefined, ExitCode.InvalidInput);
  }
  checkTlsVerification(contextName, cluster.server, cluster.skipTLSVerify === true, options);
  alwaysVerifyCertificates(kc);
  log(`kube context ${contextName}, server ${cluster.server}`);
  const api = new KubeApi(kc, endpoint, log, options);
  if (!options.skipProbe) {
    // The API group list needs an authenticated user: this checks reachability and credentials.
    try {
      await api.apiGroups();
    } catch (err) {
      // No HTTP status and no network error: the credentials could not be obtained (e.g. an exec
      // plugin such as `aws eks get-token` failed or is missing), so nothing was sent.
      if (err instanceof OperationError && kubeStatus(err.cause) === undefined && !isConnectionError(err.cause)) {
        throw connectionError(endpoint, `could not get credentials for the request: ${(err.cause as Error | undefined)?.message ?? err.message}`,
          'Check the user of this context in the kubeconfig (its exec plugin, token or certificate files).', err.cause, ExitCode.InvalidInput);
      }
      throw err;
    }
  }
  return new ClientKubeSession(api);
}

/**
 * The context a run names (or the current one) and its user's exec plugin, from the kubeconfig
 * alone (no request): what tells a GKE cluster before anything is contacted. Undefined when the
 * kubeconfig cannot be read (opening the session reports why).
 */
export function kubeconfigContext(target: KubeTarget, context: string | undefined): { contextName: string; userName?: string; execCommand?: string } | undefined {
  try {
    const kc = loadKubeConfig(target);
    const name = context ?? kc.getCurrentContext();
    const ctx = kc.getContextObject(name);
    if (!ctx) return undefined;
    const command = (kc.getUser(ctx.user)?.exec as { command?: string } | undefined)?.command;
    return { contextName: name, ...(ctx.user ? { userName: ctx.user } : {}), ...(command ? { execCommand: command } : {}) };
  } catch {
    return undefined;
  }
}
