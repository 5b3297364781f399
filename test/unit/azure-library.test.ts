// The pure parts of src/clouds/azure/ and its converge functions over a fake ARM.
import { describe, expect, it } from 'vitest';
import type { AzureArm, FederatedCredentialView, RoleDefinitionView } from '../../src/clouds/azure/arm.js';
import { aadstsCode, credentialError, isCredentialError, mapAzureError } from '../../src/clouds/azure/errors.js';
import { cliDefaultSubscription, resolveSubscription, tokenClaims } from '../../src/clouds/azure/account.js';
import { ACR_PULL_ROLE_ID, assignmentCovers, checkAcrPull, ensureAcrPull, parseRegistryRef, PRINCIPAL_RETRY_DELAYS_MS } from '../../src/clouds/azure/acr-pull.js';
import { aksFacts, requireWorkloadIdentity } from '../../src/clouds/azure/cluster.js';
import { AZURE_CLOUDS, armScope, cloudOfAuthority } from '../../src/clouds/azure/clouds.js';
import { AUDIENCE, CONCURRENT_WRITE, convergeCredentials, CREDENTIAL_NAME, desiredCredentials, federatedCredentialName, FederatedCredentialLimitError, MAX_FEDERATED_CREDENTIALS, planCredentials } from '../../src/clouds/azure/federated-credentials.js';
import { defaultIdentityName, IDENTITY_NAME } from '../../src/clouds/azure/identity.js';
import { boundedPolicy, isKnownAuthority } from '../../src/clouds/azure/session.js';
import { InputError, OperationError, isInputError } from '../../src/errors.js';

const ISSUER = 'https://eastus.oic.prod-aks.azure.com/tenant/cluster-id/';
const restError = (statusCode: number, code: string, message = code) => Object.assign(new Error(message), { name: 'RestError', statusCode, code });

describe('Azure clouds', () => {
  it.each([
    ['public', 'https://login.microsoftonline.com', 'https://management.azure.com/.default', 'azurecr.io'],
    ['usgov', 'https://login.microsoftonline.us', 'https://management.usgovcloudapi.net/.default', 'azurecr.us'],
    ['china', 'https://login.chinacloudapi.cn', 'https://management.chinacloudapi.cn/.default', 'azurecr.cn'],
  ] as const)('%s: authority, ARM scope and registry suffix', (name, authority, scope, suffix) => {
    const c = AZURE_CLOUDS[name];
    expect([c.authorityHost, armScope(c), c.acrSuffix]).toEqual([authority, scope, suffix]);
    expect(cloudOfAuthority(`${authority}/`)).toBe(name);
    expect(isKnownAuthority(authority)).toBe(true);
  });

  it('asks MSAL not to look an unknown authority up in the public cloud', () => {
    expect(isKnownAuthority('https://127.0.0.1:8443')).toBe(false);
    expect(cloudOfAuthority('not a url')).toBeUndefined();
  });
});

describe('Azure credentials and subscription', () => {
  it('maps a refused secret, an empty chain and an expired ARM token to InputError with the fix', () => {
    const refused = credentialError(Object.assign(new Error('ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided.'), { name: 'AuthenticationError' }));
    expect(refused.problems[0]!.message).toContain('the client secret is wrong (AADSTS7000215)');
    expect(refused.hint).toMatch(/az login.*AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/);
    const none = Object.assign(new Error('ChainedTokenCredential authentication failed.'), { name: 'AggregateAuthenticationError', errors: [Object.assign(new Error("Azure CLI could not be found. Please run 'az login'"), { name: 'CredentialUnavailableError' })] });
    const refusedInChain = Object.assign(new Error('ChainedTokenCredential authentication failed.'), { name: 'AggregateAuthenticationError', errors: [Object.assign(new Error('invalid_client: AADSTS7000222: The provided client secret keys are expired.'), { name: 'AuthenticationRequiredError' }), none.errors[0]] });
    expect(credentialError(refusedInChain).problems[0]!.message).toBe('Entra ID refused the credentials: the client secret has expired (AADSTS7000222)');
    expect(isCredentialError(none)).toBe(true);
    expect(mapAzureError(none, 'x')).toBeInstanceOf(InputError);
    expect((mapAzureError(none, 'x') as InputError).problems[0]!.message).toContain("no Azure credentials were found (Azure CLI could not be found. Please run 'az login')");
    const expired = restError(401, 'ExpiredAuthenticationToken');
    expect((mapAzureError(expired, 'x') as InputError).problems[0]!.message).toContain('it has expired');
    expect(aadstsCode('AADSTS70021: No matching federated identity record found')).toBe('AADSTS70021');
  });

  it('maps other failures to OperationError naming the call, and 403 with the roles needed', () => {
    const e = mapAzureError(restError(403, 'AuthorizationFailed', 'no'), 'creating the identity');
    expect(e).toBeInstanceOf(OperationError);
    expect(isInputError(e)).toBe(false);
    expect(e.message).toContain('creating the identity');
    expect(e.hint).toContain('Managed Identity Contributor');
    expect(mapAzureError(restError(500, 'InternalServerError'), 'listing').message).toContain('InternalServerError');
  });

  it('takes the subscription from the flag, then the environment, then az login, and names the flag when bad', () => {
    const sub = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
    const profile = `\uFEFF${JSON.stringify({ subscriptions: [{ id: 'aaaaaaaa-1bf0-4dda-aec3-cb9272f09590', isDefault: false }, { id: sub, isDefault: true }] })}`;
    const read = (p: string) => {
      if (p !== '/home/u/.azure/azureProfile.json') throw new Error('ENOENT');
      return profile;
    };
    expect(resolveSubscription({ environment: { home: '/home/u' }, read })).toBe(sub);
    expect(cliDefaultSubscription({ configDir: '/elsewhere' }, read)).toBeUndefined();
    expect(resolveSubscription({ flag: sub.toUpperCase(), environment: { subscriptionId: 'x' }, read })).toBe(sub);
    const bad = (() => resolveSubscription({ environment: { subscriptionId: 'my-sub' }, read }))as () => never;
    expect(bad).toThrow(InputError);
    expect(() => resolveSubscription({ environment: {}, read })).toThrow(/--azure-subscription: no Azure subscription given/);
  });

  it('reads the tenant and the caller from a token', () => {
    const payload = Buffer.from(JSON.stringify({ tid: 't', oid: 'o', appid: 'a' })).toString('base64url');
    expect(tokenClaims(`h.${payload}.s`)).toEqual({ tenantId: 't', objectId: 'o', appId: 'a' });
    expect(tokenClaims('opaque')).toEqual({ tenantId: '', objectId: '' });
  });
});

describe('Azure request bound', () => {
  it('aborts an attempt that gets no complete answer in time and says so', async () => {
    const policy = boundedPolicy(20);
    const request = { abortSignal: undefined, timeout: 0 } as unknown as Parameters<typeof policy.sendRequest>[0];
    const hang = (r: typeof request) => new Promise<never>((_, reject) => r.abortSignal!.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    await expect(policy.sendRequest(request, hang)).rejects.toThrow(/timed out: no complete answer within 20 ms/);
    expect(request.abortSignal).toBeUndefined();
    const probe = { abortSignal: undefined, timeout: 5 } as unknown as Parameters<typeof policy.sendRequest>[0];
    await expect(boundedPolicy(60_000).sendRequest(probe, hang)).rejects.toThrow(/within 5 ms/);
  });
});

describe('AKS facts', () => {
  const view = { id: '/x', name: 'c1', location: 'eastus', oidcIssuerEnabled: true, issuerUrl: ISSUER, workloadIdentityEnabled: true };
  it('keeps the issuer exactly as published', () => {
    expect(aksFacts(view, 'rg')).toMatchObject({ issuerUrl: ISSUER, problems: [] });
  });
  it('names every problem and the one az aks update that fixes them', () => {
    const f = aksFacts({ ...view, oidcIssuerEnabled: false, issuerUrl: undefined, workloadIdentityEnabled: false }, 'rg');
    expect(f.problems.map((p) => p.code)).toEqual(['oidc-issuer-disabled', 'workload-identity-disabled']);
    expect(f.fix).toBe('az aks update --resource-group rg --name c1 --enable-oidc-issuer --enable-workload-identity');
    expect(() => requireWorkloadIdentity(f)).toThrow(OperationError);
    expect(() => requireWorkloadIdentity(aksFacts(view, 'rg'))).not.toThrow();
  });
});

describe('names', () => {
  it('makes identity and credential names within Azure\'s rules', () => {
    expect(defaultIdentityName('prod.east')).toBe('rhacs-sts-prod-east');
    expect(IDENTITY_NAME.test(defaultIdentityName('x'.repeat(300)))).toBe(true);
    expect(federatedCredentialName('c1', 'stackrox', 'central')).toBe('rhacs-sts-c1-stackrox-central');
    const long = federatedCredentialName('c'.repeat(100), 'stackrox', 'central');
    expect(CREDENTIAL_NAME.test(long)).toBe(true);
    expect(long).not.toBe(federatedCredentialName('c'.repeat(100), 'stackrox', 'sensor'));
  });
});

describe('federated credentials', () => {
  const desired = desiredCredentials({ clusterName: 'c1', issuer: ISSUER, namespace: 'stackrox', serviceAccounts: ['central', 'sensor'], platform: 'aks' });

  it('uses the issuer as given and the platform\'s audience', () => {
    expect(desired.map((d) => [d.issuer, d.subject, d.audiences])).toEqual([
      [ISSUER, 'system:serviceaccount:stackrox:central', ['api://AzureADTokenExchange']],
      [ISSUER, 'system:serviceaccount:stackrox:sensor', ['api://AzureADTokenExchange']],
    ]);
    expect(desiredCredentials({ clusterName: 'o', issuer: 'https://x', namespace: 'ns', serviceAccounts: ['central'], platform: 'openshift' })[0]!.audiences).toEqual([AUDIENCE.openshift]);
  });

  it('updates ours when the issuer differs by a trailing slash, and counts the creates', () => {
    const ours = { ...desired[0]!, issuer: ISSUER.slice(0, -1) };
    const plan = planCredentials([ours], desired);
    expect(plan.update).toEqual([{ current: ours, desired: desired[0] }]);
    expect(plan.create).toEqual([desired[1]]);
    expect(plan.total).toBe(2);
  });

  it('takes a credential of another name that already trusts the same issuer, subject and audience', () => {
    const theirs = { ...desired[0]!, name: 'hand-made' };
    expect(planCredentials([theirs], desired.slice(0, 1))).toMatchObject({ create: [], update: [], unchanged: [theirs] });
  });

  function fakeArm(existing: FederatedCredentialView[], onPut: (f: FederatedCredentialView) => Promise<void> | void = () => undefined) {
    const puts: string[] = [];
    const arm = {
      listFederatedCredentials: async () => [...existing],
      putFederatedCredential: async (_rg: string, _id: string, f: FederatedCredentialView) => {
        puts.push(f.name);
        await onPut(f);
      },
    } as unknown as AzureArm;
    return { arm, puts };
  }

  it(`refuses before any write when the identity would carry more than ${MAX_FEDERATED_CREDENTIALS}`, async () => {
    const existing = Array.from({ length: 19 }, (_, i) => ({ name: `o${i}`, issuer: `https://i${i}`, subject: 's', audiences: ['a'] }));
    const { arm, puts } = fakeArm(existing);
    await expect(convergeCredentials(arm, { resourceGroup: 'rg', identity: 'id' }, desired)).rejects.toBeInstanceOf(FederatedCredentialLimitError);
    expect(puts).toEqual([]);
    const { arm: arm20, puts: puts20 } = fakeArm(existing);
    await convergeCredentials(arm20, { resourceGroup: 'rg', identity: 'id' }, desired.slice(0, 1));
    expect(puts20).toEqual([desired[0]!.name]);
  });

  it('writes on one identity one at a time, and retries a write Azure refused as concurrent', async () => {
    let inFlight = 0;
    let most = 0;
    let refusals = 1;
    const { arm, puts } = fakeArm([], async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      if (refusals-- > 0) throw restError(409, CONCURRENT_WRITE);
    });
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const other = desiredCredentials({ clusterName: 'c2', issuer: ISSUER, namespace: 'stackrox', serviceAccounts: ['central'], platform: 'aks' });
    await Promise.all([convergeCredentials(arm, { resourceGroup: 'rg', identity: 'id' }, desired, { sleep }), convergeCredentials(arm, { resourceGroup: 'rg', identity: 'id' }, other, { sleep })]);
    expect(most).toBe(1);
    expect(waits).toEqual([1_000]);
    expect(puts).toEqual([desired[0]!.name, desired[0]!.name, desired[1]!.name, other[0]!.name]);
  });
});

describe('AcrPull', () => {
  const def: RoleDefinitionView = { id: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`, name: ACR_PULL_ROLE_ID, roleName: 'AcrPull', actions: ['Microsoft.ContainerRegistry/registries/pull/read'], notActions: [], dataActions: [] };
  const registryId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1';

  it('checks the definition is the built-in AcrPull and grants only the pull', () => {
    expect(checkAcrPull([def])).toBe(def);
    expect(checkAcrPull([{ ...def, name: 'another', id: '/x/another' }])).toMatch(/not the built-in/);
    expect(checkAcrPull([{ ...def, actions: [...def.actions, 'Microsoft.ContainerRegistry/registries/push/write'] }])).toMatch(/grants more than pulling/);
    expect(checkAcrPull([])).toMatch(/0 role definitions/);
  });

  it('reads --acr as a name with --resource-group or a resource id, and names the flags', () => {
    expect(parseRegistryRef(registryId, undefined)).toEqual({ subscriptionId: 's', resourceGroup: 'rg', name: 'acr1' });
    expect(parseRegistryRef('myregistry.azurecr.io', 'rg')).toEqual({ resourceGroup: 'rg', name: 'myregistry' });
    const err = (() => {
      try {
        parseRegistryRef('a!', undefined);
      } catch (e) {
        return e as InputError;
      }
    })();
    expect(err!.problems.map((p) => p.source)).toEqual(['--acr', '--resource-group']);
  });

  it('counts an assignment at the scope or above, not below or of another role', () => {
    const a = (scope: string, role = ACR_PULL_ROLE_ID) => ({ id: 'x', name: 'x', scope, roleDefinitionId: `/r/${role}`, principalId: 'p' });
    expect(assignmentCovers(a(registryId), ACR_PULL_ROLE_ID, registryId)).toBe(true);
    expect(assignmentCovers(a('/subscriptions/s/resourceGroups/rg'), ACR_PULL_ROLE_ID, registryId)).toBe(true);
    expect(assignmentCovers(a('/subscriptions/s/resourceGroups/rg2'), ACR_PULL_ROLE_ID, registryId)).toBe(false);
    expect(assignmentCovers(a(registryId, '8311e382-0749-4cb8-b61a-304f252e45ec'), ACR_PULL_ROLE_ID, registryId)).toBe(false);
  });

  it('gives up on PrincipalNotFound after its bounded retries, saying a re-run resumes', async () => {
    let creates = 0;
    const arm = {
      roleDefinitionsNamed: async () => [def],
      roleAssignmentsOf: async () => [],
      createRoleAssignment: async () => {
        creates++;
        throw restError(400, 'PrincipalNotFound');
      },
    } as unknown as AzureArm;
    const waits: number[] = [];
    const err = await ensureAcrPull(arm, { registryId, principalId: 'p', identityName: 'id' }, { sleep: async (ms) => void waits.push(ms) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).hint).toContain('Re-run');
    expect(waits).toEqual([...PRINCIPAL_RETRY_DELAYS_MS]);
    expect(creates).toBe(PRINCIPAL_RETRY_DELAYS_MS.length + 1);
  });
});
