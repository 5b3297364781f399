// The Azure flags' checks (AKS): each returns the problem with a value, naming what it should be.
import { ACR_RESOURCE_ID } from '../clouds/azure/acr-pull.js';
import { IDENTITY_NAME } from '../clouds/azure/identity.js';

/** An Azure subscription id: a GUID. */
export function azureSubscriptionProblem(id: string): string | undefined {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? undefined : `"${id}" is not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)`;
}

/** An Azure resource group name: 1–90 letters, digits, `_`, `-`, `.`, `(`, `)`, not ending in `.`. */
export function resourceGroupProblem(name: string): string | undefined {
  return /^[-\w.()]{1,90}$/u.test(name) && !name.endsWith('.') ? undefined : `"${name}" is not a resource group name (1–90 letters, digits, _ - . ( ), not ending in ".")`;
}

/** A user-assigned managed identity's name (Azure's rule). */
export function azureIdentityProblem(name: string): string | undefined {
  return IDENTITY_NAME.test(name) ? undefined : `"${name}" is not a managed identity name (3–128 letters, digits, "-" and "_", a letter or digit first)`;
}

/** --acr: a registry name (5–50 letters and digits, optionally with its .azurecr.io host suffix) or a registry's resource id. */
export function acrProblem(value: string): string | undefined {
  return ACR_RESOURCE_ID.test(value) || /^[a-zA-Z0-9]{5,50}(\.azurecr\.(io|us|cn))?$/.test(value)
    ? undefined
    : `"${value}" is neither a registry name (5–50 letters and digits) nor a registry's resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>)`;
}

/** --acr-repository: a repository path as the Docker registry API names it (lower case, `/`-separated components). */
export function acrRepositoryProblem(value: string): string | undefined {
  return /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(value) && value.length <= 256
    ? undefined
    : `"${value}" is not a repository name (lower-case letters, digits, ".", "_", "-", components separated by "/", e.g. stackrox/main)`;
}

/** The AKS options, each checked (a bad value is a problem naming its flag, and left out). */
export function azureOptions(check: (key: string, fn: (value: string) => string | undefined) => string | undefined) {
  return {
    azureSubscription: check('azureSubscription', azureSubscriptionProblem),
    resourceGroup: check('resourceGroup', resourceGroupProblem),
    azureIdentity: check('azureIdentity', azureIdentityProblem),
    acr: check('acr', acrProblem),
    acrRepository: check('acrRepository', acrRepositoryProblem),
  };
}
