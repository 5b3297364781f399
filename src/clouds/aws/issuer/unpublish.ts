/** Removing a published issuer on uninstall: only what rhacs-sts created, and only once nothing trusts it. */
import { ADOPTED_TAG } from '../policies.js';
import { isOurBucket, type BucketState, type IssuerBucketApi } from './bucket.js';
import { DISCOVERY_KEY, KEYS_KEY } from './documents.js';

export interface UnpublishPlan {
  /** What is deleted, in order (objects, then the bucket). */
  deleteObjects: string[];
  deleteBucket: boolean;
  /** Why something is kept. */
  notes: string[];
}

/**
 * Removes the documents and the bucket only when rhacs-sts created the bucket (tagged, not adopted)
 * and no IAM role trusts the issuer's OIDC provider. A bucket holding anything else is kept.
 */
export function planUnpublish(state: BucketState, rolesTrusting: string[]): UnpublishPlan {
  const none: UnpublishPlan = { deleteObjects: [], deleteBucket: false, notes: [] };
  if (state.access === 'missing') return { ...none, notes: [`The bucket ${state.bucket} does not exist: nothing to remove.`] };
  if (state.access === 'forbidden' || !isOurBucket(state.tags)) {
    return { ...none, notes: [`The bucket ${state.bucket} was not created by rhacs-sts${state.tags[ADOPTED_TAG] === 'true' ? ' (adopted)' : ''}: kept as it is.`] };
  }
  if (rolesTrusting.length) {
    return { ...none, notes: [`The bucket ${state.bucket} is kept: the issuer's OIDC provider is still trusted by ${rolesTrusting.join(', ')}; without the bucket their web identity exchanges would fail.`] };
  }
  const ours = [DISCOVERY_KEY, KEYS_KEY].filter((k) => state.objectKeys.includes(k));
  const others = state.objectKeys.filter((k) => k !== DISCOVERY_KEY && k !== KEYS_KEY);
  if (others.length) {
    return { deleteObjects: ours, deleteBucket: false, notes: [`The bucket ${state.bucket} holds ${others.length} object(s) rhacs-sts did not write: only its two documents are removed, the bucket is kept.`] };
  }
  return { deleteObjects: ours, deleteBucket: true, notes: [] };
}

export async function applyUnpublish(s3: IssuerBucketApi, bucket: string, plan: UnpublishPlan): Promise<void> {
  for (const key of plan.deleteObjects) await s3.deleteObject(bucket, key);
  if (plan.deleteBucket) await s3.deleteBucket(bucket);
}
