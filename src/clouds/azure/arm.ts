/**
 * The narrow interface through which rhacs-sts reaches Azure Resource Manager: only the calls it
 * makes, in plain shapes. The real implementation (session.ts) wraps the SDK clients; the converge
 * functions take this interface, so tests can pass a fake.
 */

export interface ManagedClusterView {
  id: string;
  name: string;
  location: string;
  oidcIssuerEnabled: boolean;
  /** `oidcIssuerProfile.issuerURL`, exactly as AKS publishes it. */
  issuerUrl?: string;
  workloadIdentityEnabled: boolean;
}

export interface RegistryView {
  id: string;
  name: string;
  loginServer: string;
}

export interface IdentityView {
  id: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  clientId: string;
  principalId: string;
  tenantId: string;
}

export interface FederatedCredentialView {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface RoleDefinitionView {
  id: string;
  /** The GUID. */
  name: string;
  roleName: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
}

export interface RoleAssignmentView {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  description?: string;
}

export interface AzureArm {
  getManagedCluster(resourceGroup: string, name: string): Promise<ManagedClusterView | null>;
  getRegistry(resourceGroup: string, name: string): Promise<RegistryView | null>;
  getIdentity(resourceGroup: string, name: string): Promise<IdentityView | null>;
  putIdentity(resourceGroup: string, name: string, body: { location: string; tags: Record<string, string> }): Promise<IdentityView>;
  listFederatedCredentials(resourceGroup: string, identity: string): Promise<FederatedCredentialView[]>;
  putFederatedCredential(resourceGroup: string, identity: string, credential: FederatedCredentialView): Promise<void>;
  /** Role definitions visible at the scope with this role name. */
  roleDefinitionsNamed(scope: string, roleName: string): Promise<RoleDefinitionView[]>;
  /** Assignments of this principal at, above and below the scope. */
  roleAssignmentsOf(scope: string, principalId: string): Promise<RoleAssignmentView[]>;
  createRoleAssignment(scope: string, name: string, body: { roleDefinitionId: string; principalId: string; principalType: 'ServicePrincipal'; description: string }): Promise<RoleAssignmentView>;
  /** Deletes (uninstall); one already gone is not an error. */
  deleteFederatedCredential(resourceGroup: string, identity: string, name: string): Promise<void>;
  deleteRoleAssignment(id: string): Promise<void>;
  deleteIdentity(resourceGroup: string, name: string): Promise<void>;
}
