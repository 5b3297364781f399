// verify's Azure rows as pure functions: the token's audience and expiry, Entra's answer (an
// AADSTS70021 shown as what differs between the token and the nearest federated credential), and
// the registry links.
import { describe, expect, it } from 'vitest';
import { aadsts, acrExchangeCheck, acrPullAssignmentCheck, assertionClaims, credentialDiffs, entraCheck, registryReadCheck, tokenCheck } from '../../src/clouds/azure/verify-checks.js';

const ISS = 'https://eastus.oic.prod-aks.azure.com/t/c/';
const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const place = { resourceGroup: 'rg', identityName: 'rhacs-sts-prod' };
const fic = (name: string, issuer: string, subject = 'system:serviceaccount:stackrox:central', audiences = ['api://AzureADTokenExchange']) => ({ name, issuer, subject, audiences });

describe('Azure verify rows', () => {
  it('decodes iss, sub and aud (a string or a list) and refuses what is not a JWT', () => {
    expect(assertionClaims(jwt({ iss: ISS, sub: 's', aud: 'a', exp: 5 }))).toEqual({ iss: ISS, sub: 's', aud: ['a'], exp: 5 });
    expect(assertionClaims(jwt({ aud: ['a', 'b'] }))).toEqual({ aud: ['a', 'b'] });
    expect(assertionClaims('not-a-jwt')).toBeUndefined();
    expect(tokenCheck(undefined, 'api://AzureADTokenExchange', 0, 'x').result).toBe('fail');
  });

  it('fails an expired token and one with another audience, naming the platform\'s fix', () => {
    expect(tokenCheck({ aud: ['api://AzureADTokenExchange'], exp: 10 }, 'api://AzureADTokenExchange', 10, 'stackrox/central').detail).toContain('expired');
    const os = tokenCheck({ aud: ['https://kubernetes.default.svc'] }, 'openshift', 0, 'stackrox/central');
    expect(os.fix).toContain('/var/run/secrets/openshift/serviceaccount/token');
    expect(tokenCheck({ iss: ISS, sub: 's', aud: ['openshift'] }, 'openshift', 0, 'x').result).toBe('pass');
  });

  it('reads the AADSTS code from error_codes, else from the description', () => {
    expect(aadsts({ error_codes: [70021] })).toBe(70021);
    expect(aadsts({ error_description: 'AADSTS700016: Application with identifier' })).toBe(700016);
    expect(aadsts({ error: 'invalid_client' })).toBeUndefined();
  });

  it('orders federated credentials nearest first and says what differs, the trailing slash by name', () => {
    const claims = { iss: ISS, sub: 'system:serviceaccount:stackrox:central', aud: ['api://AzureADTokenExchange'] };
    const diffs = credentialDiffs(claims, [fic('far', 'https://x/', 'system:serviceaccount:stackrox:sensor', ['openshift']), fic('near', ISS.slice(0, -1))]);
    expect(diffs.map((d) => d.credential)).toEqual(['near', 'far']);
    expect(diffs[0]!.differences).toEqual([`issuer: the token says '${ISS}', the credential '${ISS.slice(0, -1)}' (only the trailing slash differs: Entra compares strings)`]);
    expect(diffs[1]!.differences).toHaveLength(3);
  });

  it('turns an AADSTS70021 into the nearest credential\'s difference and its update command', () => {
    const claims = { iss: ISS, sub: 'system:serviceaccount:stackrox:central', aud: ['api://AzureADTokenExchange'] };
    const r = entraCheck({ outcome: { status: 400, error: { error_codes: [70021], error_description: 'AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: x' } }, claims, clientId: 'c', tenantId: 't', credentials: [fic('central', 'https://other/', 'system:serviceaccount:stackrox:central')], place, authorityHost: 'https://login' });
    expect(r.detail).not.toContain('Trace ID');
    expect(r.fix).toBe(`Re-run "rhacs-sts init" (it writes the issuer exactly as the cluster publishes it), or: az identity federated-credential update --resource-group rg --identity-name rhacs-sts-prod --name central --issuer '${ISS}'`);
    const none = entraCheck({ outcome: { status: 400, error: { error_codes: [70021] } }, claims, clientId: 'c', tenantId: 't', credentials: [], place, authorityHost: 'https://login' });
    expect(none.detail).toContain('has no federated credential');
    expect(entraCheck({ outcome: { networkError: 'ECONNREFUSED' }, claims, clientId: 'c', tenantId: 't', place, authorityHost: 'https://login' }).detail).toContain('Could not reach Entra ID at https://login');
  });

  it('tells a missing repository (warn) from a refused read (AcrPull) and a registry failure', () => {
    const base = { loginServer: 'r.azurecr.io', repository: 'stackrox/main', identityName: 'id' };
    expect(registryReadCheck({ ...base, status: 200 }).result).toBe('pass');
    expect(registryReadCheck({ ...base, status: 404 }).result).toBe('warn');
    expect(registryReadCheck({ ...base, status: 401, principalId: 'p' }).fix).toContain('--assignee-object-id p --assignee-principal-type ServicePrincipal --role AcrPull --scope $(az acr show --name r');
    expect(registryReadCheck({ ...base, status: 503 }).detail).toContain('HTTP 503');
    expect(acrExchangeCheck('r.azurecr.io', 'exchange', 'HTTP 401 UNAUTHORIZED: no').detail).toContain('/oauth2/exchange');
  });

  it('without a repository named, reads the pull permission from the role assignments: AcrPull passes, another role warns, none fails', () => {
    const base = { loginServer: 'r.azurecr.io', identityName: 'id', principalId: 'p' };
    const pass = acrPullAssignmentCheck({ ...base, acrPull: true, otherRoles: [] });
    expect(pass).toMatchObject({ result: 'pass', detail: expect.stringContaining('--acr-repository') });
    expect(acrPullAssignmentCheck({ ...base, acrPull: false, otherRoles: ['Reader'] })).toMatchObject({ result: 'warn', detail: expect.stringContaining('(Reader)') });
    const none = acrPullAssignmentCheck({ ...base, acrPull: false, otherRoles: [] });
    expect(none.result).toBe('fail');
    expect(none.fix).toContain('--assignee-object-id p --assignee-principal-type ServicePrincipal --role AcrPull');
    expect(acrPullAssignmentCheck({ ...base, acrPull: false, otherRoles: [], error: 'AuthorizationFailed' }).result).toBe('warn');
  });
});
