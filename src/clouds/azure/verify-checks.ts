/**
 * verify's Azure rows, on Entra's terms, as pure functions from what was read to one row each:
 * the cluster token (its audience), Entra's token endpoint with that token as the client
 * assertion (an AADSTS70021 shown as the difference between what the token says and what each
 * federated credential says), ACR's token exchange, and a registry read (which proves the role).
 */
import { row, type CheckRow } from '../../verify/rows.js';
import type { FederatedCredentialView } from './arm.js';

/** The claims of a service-account token that Entra matches against a federated credential. */
export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud: string[];
  exp?: number;
}

/** Decodes a token's claims without checking it (Entra checks it); undefined when it is not a JWT. */
export function assertionClaims(token: string): AssertionClaims | undefined {
  const part = token.split('.')[1];
  if (!part || token.split('.').length !== 3) return undefined;
  try {
    const c = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      ...(typeof c.iss === 'string' ? { iss: c.iss } : {}),
      ...(typeof c.sub === 'string' ? { sub: c.sub } : {}),
      aud: [c.aud].flat().filter((a): a is string => typeof a === 'string'),
      ...(typeof c.exp === 'number' ? { exp: c.exp } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Where the identity and its credentials are, for the fixes. */
export interface IdentityPlace {
  resourceGroup: string;
  identityName: string;
}

/** The token link: a JWT whose audience is the platform's (api://AzureADTokenExchange on AKS, openshift on OpenShift). */
export function tokenCheck(claims: AssertionClaims | undefined, audience: string, nowS: number, where: string): CheckRow {
  const id = 'azure-token';
  const name = 'Cluster token';
  if (!claims) return row(id, name, 'fail', `The token from ${where} is not a JWT.`, 'Check that the path holds the projected service-account token.');
  if (!claims.aud.includes(audience)) {
    return row(id, name, 'fail', `The token from ${where} has audience ${claims.aud.join(', ') || '(none)'}; the federated credential and Entra expect ${audience}.`,
      audience === 'openshift'
        ? 'Point AZURE_FEDERATED_TOKEN_FILE at the token OpenShift projects with audience openshift (/var/run/secrets/openshift/serviceaccount/token).'
        : 'Let the workload identity webhook project the token (pod label azure.workload.identity/use: "true"); do not set azure.workload.identity/audience on the service account.');
  }
  if (claims.exp !== undefined && claims.exp <= nowS) return row(id, name, 'fail', `The token from ${where} expired at ${new Date(claims.exp * 1000).toISOString()}.`, 'Read a fresh token: the kubelet renews projected tokens; a copied token does not.');
  return row(id, name, 'pass', `Issuer ${claims.iss ?? '(none)'}, subject ${claims.sub ?? '(none)'}, audience ${audience}.`);
}

/** Entra's error answer, as its token endpoint writes it. */
export interface EntraError {
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/** The AADSTS code of an Entra answer (from error_codes, else the description). */
export function aadsts(e: EntraError): number | undefined {
  if (Array.isArray(e.error_codes) && typeof e.error_codes[0] === 'number') return e.error_codes[0];
  const m = /AADSTS(\d+)/.exec(e.error_description ?? '');
  return m ? Number(m[1]) : undefined;
}

/** How one claim of the token differs from the credential's; undefined when equal. */
function fieldDiff(what: string, token: string | undefined, credential: string): string | undefined {
  if (token === credential) return undefined;
  const slash = token !== undefined && (token === `${credential}/` || `${token}/` === credential);
  return `${what}: the token says '${token ?? '(none)'}', the credential '${credential}'${slash ? ' (only the trailing slash differs: Entra compares strings)' : ''}`;
}

/** Per federated credential, what differs from the token's iss, sub and aud; the nearest credential first. */
export function credentialDiffs(claims: AssertionClaims, credentials: readonly FederatedCredentialView[]): { credential: string; differences: string[] }[] {
  const out = credentials.map((c) => {
    const differences = [
      fieldDiff('issuer', claims.iss, c.issuer),
      fieldDiff('subject', claims.sub, c.subject),
      claims.aud.some((a) => c.audiences.includes(a)) ? undefined : `audience: the token says '${claims.aud.join(', ') || '(none)'}', the credential '${c.audiences.join(', ')}'`,
    ].filter((d): d is string => d !== undefined);
    return { credential: c.name, differences };
  });
  return out.sort((a, b) => a.differences.length - b.differences.length);
}

/** The fix for the nearest credential's differences. */
function credentialFix(place: IdentityPlace, credential: string, claims: AssertionClaims, differences: readonly string[]): string {
  const args = [
    differences.some((d) => d.startsWith('issuer')) && claims.iss ? `--issuer '${claims.iss}'` : '',
    differences.some((d) => d.startsWith('subject')) && claims.sub ? `--subject '${claims.sub}'` : '',
    differences.some((d) => d.startsWith('audience')) && claims.aud[0] ? `--audiences '${claims.aud[0]}'` : '',
  ].filter(Boolean);
  return `Re-run "rhacs-sts init" (it writes the issuer exactly as the cluster publishes it), or: az identity federated-credential update --resource-group ${place.resourceGroup} --identity-name ${place.identityName} --name ${credential} ${args.join(' ')}`;
}

export type EntraOutcome = { status: number; token?: string; error?: EntraError } | { networkError: string };

/** The Entra link: the token as client assertion for an ARM token, as Central's default Azure credential asks. */
export function entraCheck(o: {
  outcome: EntraOutcome;
  claims: AssertionClaims | undefined;
  clientId: string;
  tenantId: string;
  credentials?: readonly FederatedCredentialView[];
  place: IdentityPlace;
  authorityHost: string;
}): CheckRow {
  const id = 'azure-entra';
  const name = 'Entra ID token exchange';
  if ('networkError' in o.outcome) return row(id, name, 'fail', `Could not reach Entra ID at ${o.authorityHost}: ${o.outcome.networkError}`, 'Check the network path to Entra ID (and AZURE_AUTHORITY_HOST outside the public cloud).');
  if (o.outcome.token) return row(id, name, 'pass', `Entra ID accepted the token for managed identity ${o.clientId} and issued an ARM token.`);
  const e = o.outcome.error ?? {};
  const code = aadsts(e);
  const said = `Entra ID refused the token${code ? ` (AADSTS${code})` : ''}: ${(e.error_description ?? e.error ?? `HTTP ${o.outcome.status}`).split(' Trace ID:')[0]}`;
  if (code === 70021) {
    if (!o.claims || !o.credentials) return row(id, name, 'fail', said, `Compare the federated credentials of ${o.place.identityName} (az identity federated-credential list --resource-group ${o.place.resourceGroup} --identity-name ${o.place.identityName}) with the token's iss, sub and aud.`);
    if (o.credentials.length === 0) return row(id, name, 'fail', `${said} Managed identity ${o.place.identityName} has no federated credential.`, 'Run "rhacs-sts init" to create it.');
    const [near] = credentialDiffs(o.claims, o.credentials);
    return row(id, name, 'fail', `${said} Nearest federated credential ${near!.credential}: ${near!.differences.join('; ')}.`, credentialFix(o.place, near!.credential, o.claims, near!.differences));
  }
  const fixes: Record<number, string> = {
    700016: `No managed identity or app with client id ${o.clientId} in tenant ${o.tenantId}: check the azure.workload.identity/client-id annotation (AKS) or AZURE_CLIENT_ID (OpenShift), and the tenant.`,
    90002: `Tenant ${o.tenantId} does not exist in this cloud: check AZURE_TENANT_ID (and AZURE_AUTHORITY_HOST outside the public cloud).`,
    50166: 'Entra ID could not fetch the issuer\'s discovery document: the issuer must be publicly reachable over HTTPS (AKS publishes it; on OpenShift, publish it).',
    50013: 'The token\'s signature does not match the issuer\'s published keys: publish the cluster\'s current service-account keys at the issuer.',
    700024: 'The token has expired or is not yet valid: read a fresh token, and check the cluster\'s clock.',
  };
  return row(id, name, 'fail', said, (code !== undefined && fixes[code]) || 'See the AADSTS code in Microsoft\'s error reference (https://login.microsoftonline.com/error).');
}

/** The ACR exchange link: Entra's token for the registry's refresh token (`/oauth2/exchange`), then a pull token (`/oauth2/token`). */
export function acrExchangeCheck(loginServer: string, step: 'exchange' | 'token' | 'done', detail?: string): CheckRow {
  const id = 'azure-acr-exchange';
  const name = 'ACR token exchange';
  if (step === 'done') return row(id, name, 'pass', `${loginServer} exchanged the Entra token for a registry token.`);
  return row(id, name, 'fail', `${loginServer} refused ${step === 'exchange' ? 'the Entra token at /oauth2/exchange' : 'the refresh token at /oauth2/token'}: ${detail ?? 'no reason given'}`,
    `Check that the registry is ${loginServer} in the identity's tenant, and that its authentication-as-ARM policy allows Entra tokens (az acr config authentication-as-arm show --registry ${loginServer.split('.')[0]}).`);
}

/** The registry read link: a tags list of one repository, which only a role granting pull allows. */
export function registryReadCheck(o: { loginServer: string; repository: string; status: number; detail?: string; principalId?: string; identityName: string }): CheckRow {
  const id = 'azure-acr-read';
  const name = 'Registry read';
  if (o.status === 200) return row(id, name, 'pass', `Listed the tags of ${o.repository} in ${o.loginServer}: the identity may pull.`);
  if (o.status === 404) return row(id, name, 'warn', `${o.loginServer} has no repository ${o.repository}; the token was accepted.`, 'Name a repository that exists to prove the pull permission.');
  if (o.status === 401 || o.status === 403) {
    const registry = o.loginServer.split('.')[0]!;
    return row(id, name, 'fail', `${o.loginServer} refused to list ${o.repository} (HTTP ${o.status}): managed identity ${o.identityName} has no role that grants pull on the registry (AcrPull).${o.detail ? ` ${o.detail}` : ''}`,
      `Re-run "rhacs-sts init" with --acr ${registry}, or: az role assignment create --assignee-object-id ${o.principalId ?? '<principal id>'} --assignee-principal-type ServicePrincipal --role AcrPull --scope $(az acr show --name ${registry} --query id --output tsv)`);
  }
  return row(id, name, 'fail', `${o.loginServer} answered HTTP ${o.status} to a tags list of ${o.repository}.${o.detail ? ` ${o.detail}` : ''}`, 'Check the registry\'s health and network rules (az acr check-health).');
}

/**
 * The registry read link when no repository is named (--acr-repository): the registry accepted the
 * identity at its exchange, and ARM says whether AcrPull covers the registry (its own scope, or the
 * resource group's or subscription's above it). A real read needs a repository that exists; the
 * assignment is what a read would be allowed by.
 */
export function acrPullAssignmentCheck(o: { loginServer: string; identityName: string; principalId?: string; acrPull: boolean; otherRoles: readonly string[]; error?: string }): CheckRow {
  const id = 'azure-acr-read';
  const name = 'Registry read';
  const registry = o.loginServer.split('.')[0]!;
  const prove = 'pass --acr-repository <repository> to list its tags and prove the pull end to end';
  if (o.error) return row(id, name, 'warn', `Not checked: the role assignments of managed identity ${o.identityName} could not be read (${o.error}).`, `Grant yourself read on role assignments, or ${prove}.`);
  if (o.acrPull) return row(id, name, 'pass', `Managed identity ${o.identityName} has AcrPull on ${o.loginServer} (its role assignments, read from Azure Resource Manager): the registry lets it pull. No repository was named, so none was read (${prove}).`);
  const fix = `Re-run "rhacs-sts init" with --acr ${registry}, or: az role assignment create --assignee-object-id ${o.principalId ?? '<principal id>'} --assignee-principal-type ServicePrincipal --role AcrPull --scope $(az acr show --name ${registry} --query id --output tsv)`;
  if (o.otherRoles.length) return row(id, name, 'warn', `Managed identity ${o.identityName} has no AcrPull on ${o.loginServer}, but other roles over it (${o.otherRoles.join(', ')}), which may grant pull: ${prove}.`, fix);
  return row(id, name, 'fail', `Managed identity ${o.identityName} has no role assignment over ${o.loginServer} (AcrPull is the least privilege that pulls).`, fix);
}

/** A link not tried because an earlier one failed. */
export function notTried(id: string, name: string, because: string): CheckRow {
  return row(id, name, 'warn', `Not checked: ${because} failed.`);
}
