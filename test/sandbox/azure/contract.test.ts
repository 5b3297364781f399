import { describe, expect, it } from 'vitest';
import { assertAnswer, ContractBreach, FIC_NAME_PATTERN, validate } from './contract.js';

describe("the stand-ins' contract, read from the Azure SDKs' mappers", () => {
  it("takes the federated credential name's pattern from @azure/arm-msi's parameter mapper", () => {
    expect(FIC_NAME_PATTERN.source).toBe('^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$');
    expect(FIC_NAME_PATTERN.test('central')).toBe(true);
    expect(FIC_NAME_PATTERN.test('x'.repeat(121))).toBe(false);
  });

  it('reads flattened properties at their wire paths, with types', () => {
    expect(validate('msi', 'FederatedIdentityCredential', { properties: { issuer: 'https://i/', subject: 's', audiences: 'api://AzureADTokenExchange' } }, 'request')).toEqual([{ path: 'properties.audiences', message: 'must be an array' }]);
    expect(validate('authorization', 'RoleAssignmentCreateParameters', { properties: { principalId: 'p' } }, 'request')).toEqual([{ path: 'properties.roleDefinitionId', message: 'is required' }]);
  });

  it('ignores read-only properties in a request but checks them in an answer', () => {
    const identity = { location: 'eastus', properties: { principalId: 'not-a-guid' } };
    expect(validate('msi', 'Identity', identity, 'request')).toEqual([]);
    expect(validate('msi', 'Identity', identity, 'response')).toEqual([{ path: 'properties.principalId', message: 'must be a GUID' }]);
    expect(() => assertAnswer('msi', 'Identity', identity)).toThrow(ContractBreach);
  });

  it('checks AKS answers against @azure/arm-containerservice and registries against the arm-containerregistry model', () => {
    expect(validate('containerservice', 'ManagedCluster', { location: 'eastus', properties: { securityProfile: { workloadIdentity: { enabled: 'yes' } } } }, 'response')).toEqual([{ path: 'properties.securityProfile.workloadIdentity.enabled', message: 'must be a boolean' }]);
    expect(validate('containerregistry', 'Registry', { location: 'eastus' }, 'response')).toEqual([{ path: 'sku', message: 'is required' }]);
  });
});
