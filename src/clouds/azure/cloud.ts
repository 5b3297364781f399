/**
 * Azure as the pipeline sees it (src/clouds/types.ts): a user-assigned managed identity RHACS acts
 * as, federated identity credentials trusting each AKS cluster's issuer for the RHACS service
 * accounts (AKS workload identity), AcrPull on the registry, and Central's `azure` integration.
 * Loaded through src/clouds/registry.ts only for an Azure run.
 */
import type { ConnectTo } from '../../net/https.js';
import { planAksUninstall } from './uninstall.js';
import type { ClusterFacts } from '../../plan/model.js';
import type { Ui } from '../../ui/ui.js';
import type { AzureAnswers } from './questions.js';
import type { Cloud, CloudSession } from '../types.js';
import { applyAzureAction } from './apply.js';
import type { AzureCloudName } from './clouds.js';
import type { AzureEnvironment } from './environment.js';
import { AUDIENCE } from './federated-credentials.js';
import { decideAzure, readAzureFacts, type AzureRunOptions } from './facts.js';
import { isAzureAction, planAks, type AzureAction, type AzureDecisions, type AzureFacts, type AzurePlan, type AzureState } from './plan.js';
import type { AzureSession } from './session.js';
import { readAzureState } from './state.js';
import type { AksCheckInput, AzureVerifyReport } from './verify-aks.js';
import { azureWiring } from './wiring.js';

/** What an Azure run reads from the environment and its flags before any cluster is read. */
export interface AzureRunEnvironment {
  credentials: AzureEnvironment;
  /** --azure-subscription, else the cluster's (its nodes' providerID); absent: AZURE_SUBSCRIPTION_ID, else az's default. */
  subscriptionId?: string;
  /** OpenShift on Azure: the cloud its Infrastructure object names (else the one AZURE_AUTHORITY_HOST names, else public). */
  cloud?: AzureCloudName;
  /** Where ARM is reached when not at the cloud's own host (RHACS_STS_AZURE_ARM_ENDPOINT). */
  endpoints?: { arm?: string };
  /** RHACS_STS_CONNECT_TO: hosts reached at another address (Entra's and ARM's too). */
  connectTo?: readonly ConnectTo[];
}

/** What verify gives the checks besides the session, the facts and the decisions. */
export type AzureChecksInput = Omit<AksCheckInput, 'azure' | 'http'> & { timeoutMs?: number; connectTo?: readonly ConnectTo[] };

export interface AzureCloudSession extends CloudSession<AzureAction, AzurePlan> {
  azure: AzureSession;
}

export type AzureCloud = Cloud<
  AzureAction, AzurePlan, AzureCloudSession, AzureRunEnvironment,
  [facts: AzureFacts, decisions: AzureDecisions, state: AzureState | undefined],
  [facts: AzureFacts, decisions: AzureDecisions, state: AzureState],
  [session: AzureCloudSession, input: AzureChecksInput], AzureVerifyReport,
  [session: AzureCloudSession, facts: AzureFacts, decisions: AzureDecisions],
  AzureState
> & {
  /** The run's Azure facts for its clusters (reads only); what keeps workload identity from working is bad input with its fix. */
  readFacts: (session: AzureCloudSession, options: AzureRunOptions, clusters: ClusterFacts[]) => Promise<AzureFacts>;
  decide: (options: AzureRunOptions, facts: AzureFacts) => AzureDecisions;
  summary: (plan: AzurePlan) => string[];
  /** init's questions at a terminal: only what the flags left open (questions.ts). */
  ask: (options: AzureRunOptions & { sensorContexts: readonly string[] }, clusters: ClusterFacts[], ui: Ui) => Promise<AzureAnswers>;
};

export function azureCloudSession(azure: AzureSession): AzureCloudSession {
  return { azure, apply: (a, plan) => applyAzureAction(azure.arm, a, plan) };
}

export const azure: AzureCloud = {
  id: 'azure',
  title: 'Azure',
  platforms: ['aks', 'openshift'],
  audience: (platform) => AUDIENCE[platform === 'openshift' ? 'openshift' : 'aks'],
  wiring: (platform, clientId) => azureWiring(platform === 'openshift' ? 'openshift' : 'aks', { clientId, tenantId: '', cloud: 'public' }),
  isAction: (a): a is AzureAction => isAzureAction(a),
  openSession: async (i) => {
    const { openAzureSession } = await import('./session.js');
    const session = await openAzureSession({
      ...(i.environment ? { environment: i.environment.credentials } : {}),
      ...(i.environment?.subscriptionId ? { subscriptionId: i.environment.subscriptionId } : {}),
      ...(i.environment?.cloud ? { cloud: i.environment.cloud } : {}),
      ...(i.environment?.endpoints?.arm ? { endpoints: { arm: i.environment.endpoints.arm } } : {}),
      ...(i.environment?.connectTo?.length ? { connectTo: i.environment.connectTo } : {}),
      ...(i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {}),
    });
    return azureCloudSession(session);
  },
  readState: (session, facts, decisions) => readAzureState(session.azure, facts, decisions),
  plan: planAks,
  planUninstall: planAksUninstall,
  checks: async (session, input) => {
    const [{ checkAks }, { azureHttp }] = await Promise.all([import('./verify-aks.js'), import('./verify-http.js')]);
    const { timeoutMs, connectTo, ...rest } = input;
    return checkAks({ ...rest, azure: session.azure, http: azureHttp({ timeoutMs: timeoutMs ?? 30_000, ...(connectTo?.length ? { connectTo } : {}) }) });
  },
  integration: { type: 'azure', identityField: 'azure.wifEnabled' },
  readFacts: (session, options, clusters) => readAzureFacts(session.azure, options, clusters),
  decide: decideAzure,
  ask: async (options, clusters, ui) => (await import('./questions.js')).askAzure(options, clusters, ui),
  summary: (plan) => [
    `RHACS acts as the managed identity ${plan.identity.name} (client id ${plan.identity.clientId}, resource group ${plan.identity.resourceGroup}, subscription ${plan.subscriptionId}).`,
    ...plan.federatedCredentials.map((f) => `  trusts ${f.subject} of ${f.issuer}`),
    ...(plan.registry ? [`  ${plan.registry.role} on ${plan.registry.loginServer}`] : []),
  ],
};
