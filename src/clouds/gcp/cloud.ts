/**
 * Google Cloud as the pipeline sees it (src/clouds/types.ts): a Google service account RHACS acts as,
 * `roles/artifactregistry.reader` for it, `roles/iam.workloadIdentityUser` on it for the RHACS
 * Kubernetes service accounts (GKE workload identity), and Central's `artifactregistry` integration.
 * Loaded through src/clouds/registry.ts only for a Google run.
 */
import { GKE_SA_ANNOTATION } from '../../platforms/gke/constants.js';
import type { CloudSession, Cloud } from '../types.js';
import { applyGcpAction } from './apply.js';
import type { GcpEnvironment } from './environment.js';
import { isGcpAction, planGke, type GcpAction, type GcpDecisions, type GcpFacts, type GcpPlan, type GcpState } from './plan.js';
import type { GrantWaitDeps } from './grant-wait.js';
import { DEFAULT_PROPAGATION_WAIT_MS } from './propagation.js';
import type { GcpSession, GoogleApi } from './session.js';
import type { TokenChainEndpoints } from './verify.js';
import { readGcpState } from './state.js';
import { checkGke, type GcpVerifyReport, type GkeCheckInput } from './verify-gke.js';
import { planGkeUninstall } from './uninstall.js';
import { decideGcp, readGcpFacts, type GcpRunOptions } from './facts.js';
import type { ClusterFacts } from '../../plan/model.js';
import type { Ui } from '../../ui/ui.js';
import type { GcpAnswers } from './questions.js';
import { CREDENTIALS_SECRET, CREDENTIALS_SECRET_KEY, OPENSHIFT_AUDIENCE, OPENSHIFT_TOKEN_FILE } from './external-account.js';
import { planOpenShiftGcp } from './plan-openshift.js';
import { planOpenShiftGcpUninstall } from './uninstall-openshift.js';

/** What a Google run reads from the environment: the credentials' places, and endpoint overrides (gcloud's CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>). */
export interface GcpRunEnvironment {
  credentials: GcpEnvironment;
  endpoints?: Partial<Record<GoogleApi | 'oauth2Token' | 'sts' | 'iamcredentials', string>>;
}

/** An open Google session: the bounded caller, and how the pipeline applies this cloud's actions with it. */
export interface GcpCloudSession extends CloudSession<GcpAction, GcpPlan> {
  google: GcpSession;
}

export type GcpCloud = Cloud<
  GcpAction, GcpPlan, GcpCloudSession, GcpRunEnvironment,
  [facts: GcpFacts, decisions: GcpDecisions, state: GcpState | undefined],
  [facts: GcpFacts, decisions: GcpDecisions, state: GcpState],
  [session: GcpCloudSession, input: Omit<GkeCheckInput, 'google' | 'http'> & { timeoutMs?: number }], GcpVerifyReport,
  [session: GcpCloudSession, facts: GcpFacts, decisions: GcpDecisions],
  GcpState
> & {
  /** The run's Google facts for its clusters (reads only); what keeps workload identity from working is bad input with its fix. */
  readFacts: (session: GcpCloudSession, options: GcpRunOptions, clusters: ClusterFacts[]) => Promise<GcpFacts>;
  /** Decisions from the flags (a flag wins, else the default). */
  decide: (options: GcpRunOptions, facts: GcpFacts) => GcpDecisions;
  /** The outcome, for people, once applied. */
  summary: (plan: GcpPlan) => string[];
  /** init's questions at a terminal: only what the flags left open (questions.ts). */
  ask: (options: GcpRunOptions & { sensorContexts: readonly string[] }, clusters: ClusterFacts[], ui: Ui) => Promise<GcpAnswers>;
};

/** `wait`: what init's wait for IAM propagation needs (the clusters' tokens); without it, a plan with that wait cannot be applied. */
export function gcpCloudSession(google: GcpSession, wait?: GrantWaitDeps): GcpCloudSession {
  return {
    google,
    apply: (a) => applyGcpAction(google, a, wait),
  };
}

/** The token chain's endpoints among the run's overrides. */
function chainEndpoints(e: GcpRunEnvironment['endpoints'] = {}): Partial<TokenChainEndpoints> {
  return Object.fromEntries((['sts', 'iamcredentials', 'artifactregistry', 'cloudresourcemanager'] as const).flatMap((k) => (e[k] ? [[k, e[k]]] : [])));
}

export const gcp: GcpCloud = {
  id: 'gcp',
  title: 'Google Cloud',
  platforms: ['gke', 'openshift'],
  audience: (platform) => (platform === 'openshift' ? 'openshift' : '<project>.svc.id.goog'),
  // On OpenShift the identity is the external_account configuration itself, in the Secret Central watches.
  wiring: (platform, identity) => (platform === 'openshift'
    ? { secret: { name: CREDENTIALS_SECRET, data: { [CREDENTIALS_SECRET_KEY]: identity } }, token: { audience: OPENSHIFT_AUDIENCE, path: OPENSHIFT_TOKEN_FILE, expirationSeconds: 3600 } }
    : { serviceAccountAnnotations: { [GKE_SA_ANNOTATION]: identity } }),
  isAction: (a): a is GcpAction => isGcpAction(a),
  openSession: async (i) => {
    const { openGcpSession } = await import('./session.js');
    const google = await openGcpSession({
      log: i.log,
      ...(i.environment ? { environment: i.environment.credentials } : {}),
      ...(i.environment?.endpoints ? { endpoints: i.environment.endpoints } : {}),
      ...(i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {}),
    });
    if (!i.clusterToken) return gcpCloudSession(google);
    const { tokenHttp } = await import('./token-http.js');
    return gcpCloudSession(google, {
      clusterToken: i.clusterToken,
      http: tokenHttp(i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {}),
      endpoints: chainEndpoints(i.environment?.endpoints),
      progress: i.progress ?? i.log,
      warn: i.warn ?? i.log,
      ...(i.waitMs !== undefined ? { maxWaitMs: Math.min(i.waitMs, DEFAULT_PROPAGATION_WAIT_MS) } : {}),
    });
  },
  readState: (session, facts, decisions) => readGcpState(session.google, facts, decisions),
  plan: (facts, decisions, state) => (decisions.workloadIdentity ? planOpenShiftGcp(facts, decisions, state) : planGke(facts, decisions, state)),
  planUninstall: (facts, decisions, state) => (decisions.workloadIdentity ? planOpenShiftGcpUninstall(facts, decisions, state) : planGkeUninstall(facts, decisions, state)),
  checks: async (session, { timeoutMs, ...input }) => {
    const { tokenHttp } = await import('./token-http.js');
    const checking = { ...input, google: session.google, http: tokenHttp(timeoutMs !== undefined ? { timeoutMs } : {}) };
    if (input.decisions.workloadIdentity) return (await import('./verify-openshift.js')).checkOpenShiftGcp(checking);
    return checkGke(checking);
  },
  integration: { type: 'artifactregistry', identityField: 'google.wifEnabled' },
  readFacts: (session, options, clusters) => readGcpFacts(session.google, options, clusters),
  decide: decideGcp,
  ask: async (options, clusters, ui) => (await import('./questions.js')).askGcp(options, clusters, ui),
  summary: (plan) => [
    `RHACS acts as the Google service account ${plan.serviceAccount.email} (project ${plan.projectId}).`,
    ...(plan.workloadIdentity ? [`  trusted through ${plan.workloadIdentity.providers.join(', ')}`] : []),
    ...plan.grants.map((g) => `  ${g.role} on ${g.resource}: ${g.member}`),
  ],
};
