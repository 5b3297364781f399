/**
 * Applies Azure's actions through the library's converge functions, each idempotent. Before a
 * credential or a role assignment is written, the identity is read again: it must exist and carry
 * rhacs-sts's tag. A new identity's client id, unknown until Azure makes it, is put into the
 * plan's cluster side (the annotation and its durable copies) as soon as it exists.
 */
import { OperationError } from '../../errors.js';
import { ensureAcrPull } from './acr-pull.js';
import type { AzureArm, IdentityView } from './arm.js';
import { mapAzureError } from './errors.js';
import { convergeCredentials } from './federated-credentials.js';
import { ensureIdentity, isOurs, TAG_MANAGED } from './identity.js';
import { resolvePendingClientId, type AzureAction, type AzurePlan } from './plan.js';

export interface AzureApplyOptions {
  /** Waits between retries (PrincipalNotFound, concurrent writes). */
  sleep?: (ms: number) => Promise<void>;
}

/** Applies one action; true when it wrote. */
export async function applyAzureAction(arm: AzureArm, a: AzureAction, plan: AzurePlan, options: AzureApplyOptions = {}): Promise<boolean> {
  switch (a.type) {
    case 'azure-managed-identity': {
      if (a.status === 'delete') return deleteIdentity(arm, a.resourceGroup, a.name);
      const { identity, created } = await ensureIdentity(arm, { resourceGroup: a.resourceGroup, name: a.name, location: a.location, clusterName: a.clusterName });
      resolvePendingClientId(plan, identity.clientId);
      plan.identity.clientId = identity.clientId;
      plan.identity.principalId = identity.principalId;
      return created;
    }
    case 'azure-federated-credential': {
      await ourIdentity(arm, a.resourceGroup, a.identity);
      if (a.status === 'delete') return call(`removing the federated credential ${a.credential.name}`, () => arm.deleteFederatedCredential(a.resourceGroup, a.identity, a.credential.name));
      const done = await convergeCredentials(arm, { resourceGroup: a.resourceGroup, identity: a.identity }, [a.credential], options);
      return done.create.length + done.update.length > 0;
    }
    case 'azure-acr-pull': {
      const identity = await ourIdentity(arm, a.resourceGroup, a.identity);
      if (a.status === 'delete') return a.assignmentId ? call('removing the AcrPull assignment rhacs-sts made', () => arm.deleteRoleAssignment(a.assignmentId!)) : false;
      const out = await ensureAcrPull(arm, { registryId: a.registryId, principalId: identity.principalId, identityName: a.identity }, options);
      return out.status === 'created';
    }
  }
}

async function call(doing: string, run: () => Promise<void>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (err) {
    throw mapAzureError(err, doing);
  }
}

/** Deletes the identity only while it carries our tag and no federated credential is left on it; one already gone is nothing to do. */
async function deleteIdentity(arm: AzureArm, rg: string, name: string): Promise<boolean> {
  const identity = await arm.getIdentity(rg, name).catch((err: unknown) => {
    throw mapAzureError(err, `reading the managed identity ${name} in resource group ${rg}`);
  });
  if (!identity) return false;
  if (!isOurs(identity)) throw new OperationError(`The managed identity ${name} in resource group ${rg} was not created by rhacs-sts: it is kept.`);
  const left = await arm.listFederatedCredentials(rg, name).catch((err: unknown) => {
    throw mapAzureError(err, `listing the federated credentials of ${name}`);
  });
  if (left.length) {
    throw new OperationError(`The managed identity ${name} is kept: ${left.map((f) => f.name).join(', ')} still trust${left.length === 1 ? 's' : ''} it (added since the plan was made).`, { hint: 'Run uninstall again for those clusters, or remove the credentials first.' });
  }
  return call(`deleting the managed identity ${name}`, () => arm.deleteIdentity(rg, name));
}

/** The identity, read again: it must exist and be ours. */
async function ourIdentity(arm: AzureArm, rg: string, name: string): Promise<IdentityView> {
  let identity: IdentityView | null;
  try {
    identity = await arm.getIdentity(rg, name);
  } catch (err) {
    throw mapAzureError(err, `reading the managed identity ${name} in resource group ${rg}`);
  }
  if (!identity) throw new OperationError(`The managed identity ${name} in resource group ${rg} does not exist (deleted since the plan was made?).`, { hint: 'Run init again.' });
  if (!isOurs(identity)) {
    throw new OperationError(`The managed identity ${name} in resource group ${rg} was not created by rhacs-sts (no ${TAG_MANAGED}=true tag): nothing was written to it.`, { hint: 'Name another one with --azure-identity.' });
  }
  return identity;
}
