/**
 * What a failed test by Central says about the chain, for the Artifact Registry and Azure
 * integrations: Central's error (Google's and the Azure SDK's error chain inside Central's pod)
 * mapped to the broken link and its fix. Pure; ECR's own mapping is explainTestFailure in
 * integration.ts.
 */
import type { TestFailure } from './integration.js';
import type { IntegrationKindId } from './kinds.js';

export interface KindFailureContext {
  /** Central's namespace. */
  namespace: string;
  /** The cloud identity Central acts as: the Google service account's email, the managed identity's client id. */
  identity: string;
  /** The command that converges the chain. */
  initCommand: string;
}

function googleFailure(message: string, c: KindFailureContext, detail: string): TestFailure {
  const restart = `kubectl -n ${c.namespace} rollout restart deployment/central`;
  if (/could not find default credentials/.test(message)) {
    return { link: 'wiring', detail: `${detail}. Central found no Google credentials: no Secret gcp-cloud-credentials in ${c.namespace}, and no GKE metadata server for its pod.`, fix: c.initCommand };
  }
  if (/failed to open credential file/.test(message)) {
    return { link: 'token volume', detail: `${detail}. The external_account configuration names a token file no projected volume of Central's pod provides.`, fix: `${c.initCommand}, then: ${restart}` };
  }
  if (/invalid_target/.test(message)) {
    return { link: 'audience or project number', detail: `${detail}. Google STS knows no workload identity provider by the configuration's audience: it must name the project by NUMBER, the pool and the provider.`, fix: c.initCommand };
  }
  if (/invalid_grant/.test(message)) {
    return { link: 'provider', detail: `${detail}. Google STS refused the cluster's token: its issuer, keys (stale after a rotation?) or audience do not match the workload identity provider.`, fix: c.initCommand };
  }
  if (/iam\.serviceAccounts\.getAccessToken|compute: Received 403/.test(message)) {
    return { link: 'binding', detail: `${detail}. Central's identity may not act as ${c.identity} (no roles/iam.workloadIdentityUser for it on that service account, or not yet propagated).`, fix: c.initCommand };
  }
  if (/Gaia id not found|compute: Received 404/.test(message)) {
    return { link: 'service account', detail: `${detail}. ${c.identity} is unknown to Google's token service (just created and not yet propagated, or deleted), or the pod's node runs no GKE metadata server.`, fix: `Wait a minute, then: ${c.initCommand}` };
  }
  if (/code: 40[13]/.test(message)) {
    return { link: 'permissions', detail: `${detail}. The registry refused ${c.identity}'s token.`, fix: c.initCommand };
  }
  if (/no such host/.test(message)) {
    return { link: 'registry endpoint', detail: `${detail}. Central's pod cannot reach the registry or Google's endpoints.`, fix: 'Check the integration\'s endpoint (<location>-docker.pkg.dev) and the pod\'s egress to Google.' };
  }
  return { link: 'Central\'s test', detail, fix: `Check Central's logs (kubectl -n ${c.namespace} logs deployment/central), then: ${c.initCommand}` };
}

function azureFailure(message: string, c: KindFailureContext, detail: string): TestFailure {
  const restart = `kubectl -n ${c.namespace} rollout restart deployment/central`;
  if (/no client ID specified|no tenant ID specified|no token file specified|DefaultAzureCredential/.test(message)) {
    return { link: 'wiring', detail: `${detail}. Central's pod has no workload identity variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE): on AKS the webhook mutates only pods labelled azure.workload.identity/use=true, and only pods created after it.`, fix: `${c.initCommand}, then: ${restart}` };
  }
  if (/failed to read the token file/.test(message)) {
    return { link: 'token volume', detail: `${detail}. AZURE_FEDERATED_TOKEN_FILE points at a file no projected token volume provides.`, fix: `${c.initCommand}, then: ${restart}` };
  }
  if (/AADSTS70021/.test(message)) {
    return { link: 'federated credential', detail: `${detail}. No federated credential of ${c.identity} matches the token's issuer, subject and audience exactly (an issuer differing by its trailing slash does not match).`, fix: c.initCommand };
  }
  if (/AADSTS700016/.test(message)) {
    return { link: 'client id', detail: `${detail}. Entra knows no identity with the client id Central's pod presents.`, fix: c.initCommand };
  }
  if (/AADSTS50166|AADSTS50013/.test(message)) {
    return { link: 'issuer', detail: `${detail}. Entra could not fetch the issuer's discovery document and keys, or they do not verify the token.`, fix: 'Check that the cluster\'s OIDC issuer is reachable from the internet and its keys are current.' };
  }
  if (/code: 40[13]|refresh token: POST .* RESPONSE 401/.test(message)) {
    return { link: 'permissions', detail: `${detail}. ${c.identity} may not pull from the registry (no AcrPull there).`, fix: c.initCommand };
  }
  if (/no such host/.test(message)) {
    return { link: 'registry endpoint', detail: `${detail}. Central's pod cannot reach the registry or Entra.`, fix: 'Check the integration\'s endpoint (<registry>.azurecr.io) and the pod\'s egress to Azure.' };
  }
  return { link: 'Central\'s test', detail, fix: `Check Central's logs (kubectl -n ${c.namespace} logs deployment/central), then: ${c.initCommand}` };
}

/** Maps Central's test error for an Artifact Registry or Azure integration to the broken link of the chain. */
export function explainKindTestFailure(kind: Exclude<IntegrationKindId, 'ecr'>, message: string, c: KindFailureContext): TestFailure {
  const detail = `Central's test of the integration failed: ${message}`;
  return kind === 'artifactregistry' ? googleFailure(message, c, detail) : azureFailure(message, c, detail);
}
