/**
 * What is in place at Azure for an AKS run (reads only): the identity, its federated credentials,
 * and its role assignments on the registry. AcrPull's definition is checked against the built-in
 * role here, so that a tenant where the name means something else stops the run before any write.
 */
import { verifyAcrPullRole } from './acr-pull.js';
import { mapAzureError } from './errors.js';
import type { AzureDecisions, AzureFacts, AzureState } from './plan.js';
import type { AzureSession } from './session.js';

export async function readAzureState(session: AzureSession, facts: AzureFacts, decisions: AzureDecisions): Promise<AzureState> {
  const { arm } = session;
  const { identityResourceGroup: rg, identityName: name } = decisions;
  const [identity] = await Promise.all([
    arm.getIdentity(rg, name).catch((err: unknown) => {
      throw mapAzureError(err, `reading the managed identity ${name} in resource group ${rg}`);
    }),
    facts.registry ? verifyAcrPullRole(arm, facts.registry.id) : Promise.resolve(undefined),
  ]);
  if (!identity) return { identity: null, credentials: [], assignments: [] };
  const [credentials, assignments] = await Promise.all([
    arm.listFederatedCredentials(rg, name).catch((err: unknown) => {
      throw mapAzureError(err, `listing the federated credentials of ${name}`);
    }),
    // On the registry; without one (uninstall), every assignment of the identity in the subscription.
    arm.roleAssignmentsOf(facts.registry?.id ?? `/subscriptions/${facts.subscriptionId}`, identity.principalId).catch((err: unknown) => {
      throw mapAzureError(err, `listing the role assignments of ${name}`);
    }),
  ]);
  return { identity, credentials, assignments };
}
