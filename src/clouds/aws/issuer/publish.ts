/**
 * Publishing a cluster's service-account issuer in S3, for clusters whose issuer AWS cannot reach
 * (OpenShift installed without STS issues tokens as https://kubernetes.default.svc).
 *
 * The layout is ccoctl's (`ccoctl aws create-identity-provider`): a bucket in the cluster's region,
 * the issuer URL being the bucket's regional virtual-hosted URL `https://<bucket>.s3.<region>.<dns suffix>`,
 * the discovery document at `.well-known/openid-configuration` and the keys at `keys.json`.
 *
 * Public objects, not CloudFront: AWS STS must fetch both documents anonymously over HTTPS. ccoctl's
 * default makes them readable by a bucket policy (s3:GetObject for everyone) with the bucket's block
 * public access lifted for policies only (ACLs stay blocked and ignored); `--create-private-s3-bucket`
 * instead keeps the bucket private behind a CloudFront distribution, whose issuer URL is then the
 * distribution's. We take the bucket-policy way: the documents hold public keys only, the issuer URL
 * stays the bucket's (no distribution to create, pay for and wait ~15 minutes to deploy, no extra
 * service permissions), and our policy grants exactly the two objects, not the whole bucket. Where an
 * organisation forbids public buckets (account-level block public access, an SCP), S3 refuses the
 * policy: we say so and point at ccoctl's CloudFront variant.
 *
 * Key rotation: the published JWKS is the cluster's current keys plus keys it listed before, each
 * kept until it has been gone from the cluster for RETIRED_KEY_GRACE_MS (longer than any token
 * carrying it stays usable: see README). When each key was first seen missing is kept in the keys
 * object's metadata, so re-publishing is idempotent and the grace survives between runs.
 *
 * This module plans and applies a publish; the names and URLs (bucket-names.ts), the documents
 * (documents.ts), the keys (keys.ts), the bucket's state (bucket.ts) and uninstall's removal
 * (unpublish.ts) sit beside it, and everything is exported from here.
 */
import { CancelledError, InputError, OperationError } from '../../../errors.js';
import type { Jwk } from '../../../kube/session.js';
import { ADOPTED_TAG, CLUSTER_TAG, MANAGED_TAG } from '../policies.js';
import { bucketNameProblem, type Partition } from '../../../validate.js';
import { ISSUER_PUBLIC_ACCESS_BLOCK, isOurBucket, type BucketState, type IssuerBucketApi, type PublicAccessBlock } from './bucket.js';
import { bucketIssuerUrl } from './bucket-names.js';
import { bucketPolicyWithOurs, DISCOVERY_KEY, discoveryDocument, KEYS_KEY, keysDocument, samePolicy, sameJsonText } from './documents.js';
import { formatRetired, mergeKeys, parseKeys, parseRetired, RETIRED_KEY_GRACE_MS, RETIRED_META, type KeyMerge } from './keys.js';

export { bucketNameProblem } from '../../../validate.js';
export { bucketIssuerUrl, bucketOfIssuer, defaultBucketName } from './bucket-names.js';
export {
  bucketPolicyWithOurs,
  DISCOVERY_KEY,
  discoveryDocument,
  KEYS_KEY,
  keysDocument,
  PUBLIC_READ_SID,
  publicJwk,
  publicReadStatement,
  sameJsonText,
  type PolicyStatement,
} from './documents.js';
export { compareKeys, formatRetired, mergeKeys, parseRetired, RETIRED_KEY_GRACE_MS, RETIRED_META, sameKey, type KeyComparison, type KeyMerge } from './keys.js';
export {
  ISSUER_PUBLIC_ACCESS_BLOCK,
  isOurBucket,
  readBucket,
  type BucketAccess,
  type BucketState,
  type IssuerBucketApi,
  type PublicAccessBlock,
  type StoredObject,
} from './bucket.js';
export { applyUnpublish, planUnpublish, type UnpublishPlan } from './unpublish.js';

export type PublishStepId = 'bucket' | 'bucket-tags' | 'public-access-block' | 'bucket-policy' | 'discovery' | 'keys';

export interface PublishStep {
  id: PublishStepId;
  status: 'create' | 'update' | 'unchanged';
  summary: string;
}

export interface PublishInput {
  bucket: string;
  region: string;
  partition: Partition;
  /** Tagged on the bucket (rhacs-sts/cluster). */
  clusterName?: string;
  /** The cluster's current keys (its API server's /openid/v1/jwks). */
  clusterKeys: Jwk[];
  /** Take over a bucket rhacs-sts did not create (tagged as adopted: never deleted). */
  adopt?: boolean;
  now?: Date;
  graceMs?: number;
}

export interface PublishPlan {
  bucket: string;
  region: string;
  issuer: string;
  steps: PublishStep[];
  /** Why nothing may be written (not ours, another region, someone else's bucket). */
  blockers: { message: string; hint?: string }[];
  keys: KeyMerge;
  /** What the steps write (for apply). */
  desired: {
    tags: Record<string, string>;
    policy: string;
    discovery: string;
    keys: string;
    retiredMeta: string;
  };
}

/** Whose bucket it is: there at all, created by rhacs-sts, or adopted (now or by an earlier run). */
interface Ownership {
  exists: boolean;
  owned: boolean;
  adopted: boolean;
}

export function planPublish(state: BucketState, input: PublishInput): PublishPlan {
  const problem = bucketNameProblem(input.bucket);
  if (problem) throw new InputError([{ source: '--bucket', message: problem }]);
  const issuer = bucketIssuerUrl(input.bucket, input.region, input.partition);
  const now = input.now ?? new Date();
  const exists = state.access === 'ok';
  const owned = exists && isOurBucket(state.tags);
  const ownership: Ownership = { exists, owned, adopted: exists && !owned && (input.adopt || state.tags[ADOPTED_TAG] === 'true') };
  const blockers = publishBlockers(state, input, ownership);

  // An adopted bucket is marked as such, never as ours: uninstall leaves it. PutBucketTagging
  // replaces the whole set, so every tag already there is kept.
  const cluster: Record<string, string> = input.clusterName ? { [CLUSTER_TAG]: input.clusterName } : {};
  const tags: Record<string, string> = { ...state.tags, ...(ownership.adopted ? { [ADOPTED_TAG]: 'true' } : { [MANAGED_TAG]: 'true' }), ...cluster };
  const policy = bucketPolicyWithOurs(exists ? state.policy : null, input.bucket, input.partition);
  const merge = mergeKeys(parseKeys(state.keys), input.clusterKeys, parseRetired(state.keys?.metadata[RETIRED_META]), now, input.graceMs);
  const desired: PublishPlan['desired'] = { tags, policy: JSON.stringify(policy), discovery: discoveryDocument(issuer), keys: keysDocument(merge.keys), retiredMeta: formatRetired(merge.retired) };
  const steps = publishSteps(state, input, ownership, { issuer, policy, merge, desired });
  return { bucket: input.bucket, region: input.region, issuer, steps, blockers, keys: merge, desired };
}

function publishBlockers(state: BucketState, input: PublishInput, { exists, owned, adopted }: Ownership): PublishPlan['blockers'] {
  const blockers: PublishPlan['blockers'] = [];
  if (state.access === 'forbidden') {
    blockers.push({
      message: `The bucket ${input.bucket} exists and belongs to someone else (S3 bucket names are global).`,
      hint: 'Choose another name with --bucket.',
    });
  } else if (exists && !owned && !adopted) {
    blockers.push({
      message: `The bucket ${input.bucket} exists and was not created by rhacs-sts (it has no ${MANAGED_TAG} tag). rhacs-sts never changes a bucket it does not own.`,
      hint: 'Choose another name with --bucket, or pass --adopt-bucket to publish the issuer there (it is then never deleted by uninstall).',
    });
  } else if (exists && state.region && state.region !== input.region) {
    blockers.push({
      message: `The bucket ${input.bucket} is in ${state.region}, not in ${input.region}: the issuer URL names the bucket's region.`,
      hint: `Pass --region ${state.region}, or choose another bucket with --bucket.`,
    });
  }
  if (input.clusterKeys.filter((k) => k.kid).length === 0) {
    blockers.push({ message: "The cluster's API server lists no signing keys with a kid at /openid/v1/jwks.", hint: 'Check the kube-apiserver; nothing can be published without its keys.' });
  }
  return blockers;
}

/** Each step compared with what is in place: create, update, or unchanged (with what it writes or finds). */
function publishSteps(
  state: BucketState,
  input: PublishInput,
  { exists, adopted }: Ownership,
  want: { issuer: string; policy: object; merge: KeyMerge; desired: PublishPlan['desired'] },
): PublishStep[] {
  const { issuer, merge, desired } = want;
  const steps: PublishStep[] = [];
  const step = (id: PublishStepId, status: PublishStep['status'], summary: string) => steps.push({ id, status, summary });
  const pab = state.publicAccessBlock;
  const pabOk = !!pab && (Object.keys(ISSUER_PUBLIC_ACCESS_BLOCK) as (keyof PublicAccessBlock)[]).every((k) => pab[k] === ISSUER_PUBLIC_ACCESS_BLOCK[k]);
  const tagsOk = Object.entries(desired.tags).every(([k, v]) => state.tags[k] === v);

  step('bucket', exists ? 'unchanged' : 'create', exists ? `Bucket ${input.bucket} (${state.region ?? input.region}) is in place${adopted ? ' (adopted)' : ''}` : `Create the bucket ${input.bucket} in ${input.region}`);
  step('bucket-tags', exists && tagsOk ? 'unchanged' : exists ? 'update' : 'create', exists && tagsOk ? 'Bucket tags are in place' : `Tag the bucket: ${Object.entries(desired.tags).filter(([k, v]) => state.tags[k] !== v).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  step(
    'public-access-block',
    pabOk ? 'unchanged' : exists && pab ? 'update' : 'create',
    pabOk ? 'Block public access: ACLs blocked, public policies allowed (in place)' : 'Block public access: keep ACLs blocked and ignored, allow a public bucket policy (as ccoctl does)',
  );
  const policySame = exists && samePolicy(state.policy, want.policy);
  step(
    'bucket-policy',
    policySame ? 'unchanged' : exists && state.policy ? 'update' : 'create',
    policySame ? 'Bucket policy lets everyone read the two documents (in place)' : `Bucket policy: let everyone (AWS STS included) read ${DISCOVERY_KEY} and ${KEYS_KEY}, nothing else`,
  );
  const discoverySame = sameJsonText(state.discovery?.body, desired.discovery);
  step(
    'discovery',
    discoverySame ? 'unchanged' : state.discovery ? 'update' : 'create',
    discoverySame ? `Discovery document ${issuer}/${DISCOVERY_KEY} is in place` : `Publish the discovery document at ${issuer}/${DISCOVERY_KEY}`,
  );
  const keysSame = sameJsonText(state.keys?.body, desired.keys) && (state.keys?.metadata[RETIRED_META] ?? '') === desired.retiredMeta;
  const keyNotes = [
    merge.added.length ? `add ${merge.added.join(', ')}` : '',
    merge.kept.length ? `keep retired ${merge.kept.join(', ')}` : '',
    merge.dropped.length ? `remove ${merge.dropped.join(', ')} (retired over ${Math.round((input.graceMs ?? RETIRED_KEY_GRACE_MS) / 3_600_000)} h ago)` : '',
  ].filter(Boolean);
  step(
    'keys',
    keysSame ? 'unchanged' : state.keys ? 'update' : 'create',
    keysSame ? `Keys ${issuer}/${KEYS_KEY} match the cluster's (${merge.keys.map((k) => k.kid).join(', ')})` : `Publish the keys at ${issuer}/${KEYS_KEY}${keyNotes.length ? `: ${keyNotes.join('; ')}` : ''}`,
  );
  return steps;
}

/** Applies the steps that change something, in order; returns the ids written. Never called with blockers. */
export async function applyPublish(s3: IssuerBucketApi, plan: PublishPlan, progress: (summary: string) => void = () => undefined, signal?: AbortSignal, done: PublishStepId[] = []): Promise<PublishStepId[]> {
  if (plan.blockers.length) throw new OperationError(plan.blockers[0]!.message, { hint: plan.blockers[0]!.hint });
  const objectTags = { [MANAGED_TAG]: 'true' };
  for (const s of plan.steps) {
    if (s.status === 'unchanged') continue;
    // Ctrl-C: the step in progress was finished; none starts after it.
    if (signal?.aborted) {
      throw new CancelledError(
        `Interrupted: the step in progress was finished; no further step was started. ${done.length ? `Done before the interruption: ${done.join(', ')}.` : 'Nothing was changed before the interruption.'}`,
        'Re-running "rhacs-sts issuer publish" resumes: every step checks what is already in place.',
      );
    }
    progress(s.summary);
    switch (s.id) {
      case 'bucket':
        await s3.createBucket(plan.bucket, plan.region);
        break;
      case 'bucket-tags':
        await s3.putBucketTags(plan.bucket, plan.desired.tags);
        break;
      case 'public-access-block':
        await s3.putPublicAccessBlock(plan.bucket, ISSUER_PUBLIC_ACCESS_BLOCK);
        break;
      case 'bucket-policy':
        await s3.putBucketPolicy(plan.bucket, plan.desired.policy);
        break;
      case 'discovery':
        await s3.putObject(plan.bucket, DISCOVERY_KEY, plan.desired.discovery, { contentType: 'application/json', tags: objectTags });
        break;
      case 'keys':
        await s3.putObject(plan.bucket, KEYS_KEY, plan.desired.keys, {
          contentType: 'application/json',
          tags: objectTags,
          ...(plan.desired.retiredMeta ? { metadata: { [RETIRED_META]: plan.desired.retiredMeta } } : {}),
        });
        break;
    }
    done.push(s.id);
  }
  return done;
}
