// Azure's built-in role definitions the stand-ins know, with their real GUIDs (the same in every
// tenant) and the actions that matter here, and RBAC's evaluation: a role grants an action when one
// of its `actions` patterns (`*` matches any run of characters, case-insensitive) matches it and none
// of its `notActions` does (Azure RBAC, "Understand Azure role definitions").
export interface RoleDefinitionSpec {
  guid: string;
  roleName: string;
  description: string;
  actions: string[];
  notActions: string[];
  dataActions?: string[];
}

export const ACR_PULL_ACTION = 'Microsoft.ContainerRegistry/registries/pull/read';

export const BUILT_IN_ROLES: readonly RoleDefinitionSpec[] = [
  { guid: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', roleName: 'Owner', description: 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.', actions: ['*'], notActions: [] },
  {
    guid: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    roleName: 'Contributor',
    description: 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.',
    actions: ['*'],
    notActions: ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action', 'Microsoft.Blueprint/blueprintAssignments/write', 'Microsoft.Blueprint/blueprintAssignments/delete', 'Microsoft.Compute/galleries/share/action'],
  },
  { guid: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', roleName: 'Reader', description: 'View all resources, but does not allow you to make any changes.', actions: ['*/read'], notActions: [] },
  { guid: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', roleName: 'User Access Administrator', description: 'Lets you manage user access to Azure resources.', actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'], notActions: [] },
  {
    guid: 'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59',
    roleName: 'Managed Identity Contributor',
    description: 'Create, Read, Update, and Delete User Assigned Identity',
    actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/write', 'Microsoft.ManagedIdentity/userAssignedIdentities/delete', 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write', 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete', 'Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action', 'Microsoft.Authorization/*/read', 'Microsoft.Insights/alertRules/*', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Resources/deployments/*', 'Microsoft.Support/*'],
    notActions: [],
  },
  { guid: 'f1a07417-d97a-45cb-824c-7a7467783830', roleName: 'Managed Identity Operator', description: 'Read and Assign User Assigned Identity', actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/*/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', 'Microsoft.Authorization/*/read', 'Microsoft.Insights/alertRules/*', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Resources/deployments/*', 'Microsoft.Support/*'], notActions: [] },
  { guid: '7f951dda-4ed3-4680-a7ca-43fe172d538d', roleName: 'AcrPull', description: 'acr pull', actions: [ACR_PULL_ACTION], notActions: [] },
  { guid: '8311e382-0749-4cb8-b61a-304f252e45ec', roleName: 'AcrPush', description: 'acr push', actions: [ACR_PULL_ACTION, 'Microsoft.ContainerRegistry/registries/push/write'], notActions: [] },
  { guid: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168', roleName: 'Role Based Access Control Administrator', description: 'Manage access to Azure resources by assigning roles using Azure RBAC.', actions: ['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete', '*/read', 'Microsoft.Support/*'], notActions: [] },
];

export const ROLE = Object.fromEntries(BUILT_IN_ROLES.map((r) => [r.roleName, r.guid])) as Record<string, string>;

function matches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

/** Whether the role grants the control-plane action. */
export function grants(role: RoleDefinitionSpec, action: string): boolean {
  return role.actions.some((p) => matches(p, action)) && !role.notActions.some((p) => matches(p, action));
}

export function roleByGuid(guid: string): RoleDefinitionSpec | undefined {
  return BUILT_IN_ROLES.find((r) => r.guid === guid.toLowerCase());
}
