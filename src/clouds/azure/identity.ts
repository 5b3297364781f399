/**
 * The user-assigned managed identity Central (and Sensor) act as: created with tags recording that
 * rhacs-sts owns it and for which cluster; an identity of the same name without our tag is refused.
 */
import { OperationError } from '../../errors.js';
import type { AzureArm, IdentityView } from './arm.js';
import { mapAzureError } from './errors.js';

export const TAG_MANAGED = 'rhacs-sts/managed';
export const TAG_CLUSTER = 'rhacs-sts/cluster';

/** Azure's rule for a user-assigned identity's name: 3–128 characters, letters, digits, `-` and `_`, a letter or digit first. */
export const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;

/** Pure: the default identity name for a cluster (`rhacs-sts-<cluster>`), within Azure's rule. */
export function defaultIdentityName(clusterName: string): string {
  const cleaned = clusterName.replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return `rhacs-sts-${cleaned || 'cluster'}`.slice(0, 128).replace(/-+$/, '');
}

export function isOurs(identity: Pick<IdentityView, 'tags'>): boolean {
  return identity.tags[TAG_MANAGED] === 'true';
}

export interface IdentityRequest {
  resourceGroup: string;
  name: string;
  /** Where a new identity is made (the cluster's region). */
  location: string;
  /** The cluster it is made for (recorded in a tag at creation). */
  clusterName: string;
}

/** Creates the identity, or finds ours; refuses one that is not ours. */
export async function ensureIdentity(arm: AzureArm, req: IdentityRequest): Promise<{ identity: IdentityView; created: boolean }> {
  const doing = `the managed identity ${req.name} in resource group ${req.resourceGroup}`;
  try {
    const existing = await arm.getIdentity(req.resourceGroup, req.name);
    if (existing) {
      if (!isOurs(existing)) {
        throw new OperationError(`The managed identity ${req.name} in resource group ${req.resourceGroup} exists and was not created by rhacs-sts (no ${TAG_MANAGED}=true tag); it is left as it is.`, {
          hint: 'Choose another name with --azure-identity, or tag this identity rhacs-sts/managed=true yourself if rhacs-sts may manage it.',
        });
      }
      return { identity: existing, created: false };
    }
    const identity = await arm.putIdentity(req.resourceGroup, req.name, { location: req.location, tags: { [TAG_MANAGED]: 'true', [TAG_CLUSTER]: req.clusterName.slice(0, 256) } });
    return { identity, created: true };
  } catch (err) {
    throw mapAzureError(err, `creating or reading ${doing}`);
  }
}
