/**
 * The identity's permission on the registry: AcrPull at the registry's scope, the least privilege
 * that pulls (the published procedure's Reader also pulls, but reads every other resource in its
 * scope too). AcrPull's id is checked against the role definitions before it is used. A role
 * assignment right after the identity is made fails with PrincipalNotFound until the directory has
 * it: retried with bounded backoff (`principalType: ServicePrincipal` set, as Azure advises).
 * RoleAssignmentExists means done. Nothing here removes an assignment.
 */
import { randomUUID } from 'node:crypto';
import { InputError, OperationError } from '../../errors.js';
import type { AzureArm, RegistryView, RoleAssignmentView, RoleDefinitionView } from './arm.js';
import { azureErrorCode, mapAzureError } from './errors.js';

/** AcrPull's built-in id (the same in every tenant; checked against the role definitions at run time). */
export const ACR_PULL_ROLE_ID = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
export const ACR_PULL_ROLE_NAME = 'AcrPull';
export const ACR_PULL_ACTION = 'Microsoft.ContainerRegistry/registries/pull/read';

/** Waits before each retry through PrincipalNotFound: about 4 minutes in all (ccoctl waits up to 24 × 10 s). */
export const PRINCIPAL_RETRY_DELAYS_MS: readonly number[] = [2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000];

/** A registry's resource id. */
export const ACR_RESOURCE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;
const REGISTRY_NAME = /^[a-zA-Z0-9]{5,50}$/;

export type RegistryRef = { resourceGroup: string; name: string; subscriptionId?: string };

/** Pure: --acr as a registry name (with --resource-group) or a resource id. Input problems name the flag. */
export function parseRegistryRef(acr: string, resourceGroup: string | undefined): RegistryRef {
  const id = ACR_RESOURCE_ID.exec(acr.trim());
  if (id) return { subscriptionId: id[1]!, resourceGroup: id[2]!, name: id[3]! };
  const name = acr.trim().replace(/\.azurecr\.(io|us|cn)$/i, '');
  const problems = [];
  if (!REGISTRY_NAME.test(name)) problems.push({ source: '--acr', message: `"${acr}" is neither a registry name (5–50 letters and digits) nor a registry's resource id` });
  if (!resourceGroup) problems.push({ source: '--resource-group', message: `the registry's resource group is needed with a registry name (or pass --acr as a resource id)` });
  if (problems.length) throw new InputError(problems);
  return { resourceGroup: resourceGroup!, name };
}

export async function readRegistry(arm: AzureArm, ref: RegistryRef): Promise<RegistryView> {
  let r: RegistryView | null;
  try {
    r = await arm.getRegistry(ref.resourceGroup, ref.name);
  } catch (err) {
    throw mapAzureError(err, `reading registry ${ref.name} in resource group ${ref.resourceGroup}`);
  }
  if (!r) throw new InputError([{ source: '--acr', message: `registry ${ref.name} was not found in resource group ${ref.resourceGroup}` }], 'List registries with "az acr list -o table".');
  return r;
}

const guidOf = (id: string) => id.split('/').pop()?.toLowerCase() ?? '';

/** Pure: the one AcrPull definition among those named so, with the id and the pull action expected; else why not. */
export function checkAcrPull(definitions: readonly RoleDefinitionView[]): RoleDefinitionView | string {
  const named = definitions.filter((d) => d.roleName === ACR_PULL_ROLE_NAME);
  if (named.length !== 1) return `${named.length} role definitions are named ${ACR_PULL_ROLE_NAME} at the registry's scope (expected the built-in one)`;
  const d = named[0]!;
  if (d.name.toLowerCase() !== ACR_PULL_ROLE_ID || guidOf(d.id) !== ACR_PULL_ROLE_ID) return `the role named ${ACR_PULL_ROLE_NAME} has id ${d.name}, not the built-in ${ACR_PULL_ROLE_ID}`;
  if (!d.actions.some((a) => a.toLowerCase() === ACR_PULL_ACTION.toLowerCase())) return `the role named ${ACR_PULL_ROLE_NAME} does not grant ${ACR_PULL_ACTION}`;
  if (d.actions.some((a) => a.includes('*') || /\/(write|delete|action)$/i.test(a))) return `the role named ${ACR_PULL_ROLE_NAME} grants more than pulling (${d.actions.join(', ')})`;
  return d;
}

/** Reads AcrPull's definition at the scope and checks it is the built-in role. */
export async function verifyAcrPullRole(arm: AzureArm, scope: string): Promise<RoleDefinitionView> {
  let defs: RoleDefinitionView[];
  try {
    defs = await arm.roleDefinitionsNamed(scope, ACR_PULL_ROLE_NAME);
  } catch (err) {
    throw mapAzureError(err, `reading the ${ACR_PULL_ROLE_NAME} role definition`);
  }
  const checked = checkAcrPull(defs);
  if (typeof checked === 'string') throw new OperationError(`Refusing to assign ${ACR_PULL_ROLE_NAME}: ${checked}.`, { hint: 'Check the role definitions at the registry\'s scope ("az role definition list --name AcrPull").' });
  return checked;
}

/** Pure: whether an assignment gives this role at the scope or above it (what ARM would inherit). */
export function assignmentCovers(a: RoleAssignmentView, roleId: string, scope: string): boolean {
  const s = scope.toLowerCase();
  const at = a.scope.toLowerCase();
  return guidOf(a.roleDefinitionId) === roleId && (s === at || s.startsWith(`${at}/`));
}

export interface AcrPullOptions {
  sleep?: (ms: number) => Promise<void>;
  /** The new assignment's name (a GUID; random by default). */
  newName?: () => string;
}

export type AcrPullResult = { status: 'created'; assignment: RoleAssignmentView; retries: number } | { status: 'unchanged'; reason: 'assigned' | 'exists' };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Converges AcrPull for the principal on the registry. Never removes or changes another assignment. */
export async function ensureAcrPull(arm: AzureArm, req: { registryId: string; principalId: string; identityName: string }, options: AcrPullOptions = {}): Promise<AcrPullResult> {
  const sleep = options.sleep ?? realSleep;
  const role = await verifyAcrPullRole(arm, req.registryId);
  let current: RoleAssignmentView[];
  try {
    current = await arm.roleAssignmentsOf(req.registryId, req.principalId);
  } catch (err) {
    throw mapAzureError(err, `listing the role assignments of ${req.identityName} on the registry`);
  }
  if (current.some((a) => a.principalId.toLowerCase() === req.principalId.toLowerCase() && assignmentCovers(a, ACR_PULL_ROLE_ID, req.registryId))) return { status: 'unchanged', reason: 'assigned' };
  const name = (options.newName ?? randomUUID)();
  const body = { roleDefinitionId: role.id, principalId: req.principalId, principalType: 'ServicePrincipal' as const, description: `rhacs-sts: ${ACR_PULL_ROLE_NAME} for ${req.identityName}` };
  for (let attempt = 0; ; attempt++) {
    try {
      const assignment = await arm.createRoleAssignment(req.registryId, name, body);
      return { status: 'created', assignment, retries: attempt };
    } catch (err) {
      const code = azureErrorCode(err);
      if (code === 'RoleAssignmentExists') return { status: 'unchanged', reason: 'exists' };
      const delay = PRINCIPAL_RETRY_DELAYS_MS[attempt];
      if (code === 'PrincipalNotFound' && delay !== undefined) {
        await sleep(delay);
        continue;
      }
      const mapped = mapAzureError(err, `assigning ${ACR_PULL_ROLE_NAME} to ${req.identityName} on the registry`);
      if (code === 'PrincipalNotFound') {
        throw new OperationError(`${mapped.message} The identity was still unknown to the directory after ${PRINCIPAL_RETRY_DELAYS_MS.length} retries.`, { hint: 'Re-run in a few minutes: the identity is created and the run resumes.', cause: err });
      }
      throw mapped;
    }
  }
}
