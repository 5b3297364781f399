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
 */
import { CancelledError, InputError, OperationError } from '../../../errors.js';
import type { Jwk } from '../../../kube/session.js';
import { ADOPTED_TAG, CLUSTER_TAG, MANAGED_TAG } from '../policies.js';
import { bucketNameProblem, type Partition } from '../../../validate.js';

export const DISCOVERY_KEY = '.well-known/openid-configuration';
export const KEYS_KEY = 'keys.json';
/** Our statement in the bucket policy. */
export const PUBLIC_READ_SID = 'RhacsStsPublicIssuerRead';
/** Object metadata (x-amz-meta-…) on keys.json: `kid=ISO time` of keys the cluster no longer lists. */
export const RETIRED_META = 'rhacs-sts-retired-keys';
/** How long a key the cluster no longer lists stays published. */
export const RETIRED_KEY_GRACE_MS = 24 * 60 * 60 * 1000;
/** ccoctl's setting for a public-by-policy issuer bucket: ACLs blocked and ignored, policies may make it public. */
export const ISSUER_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false };

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

// ---------------------------------------------------------------------------------------------
// Names and URLs

const DNS_SUFFIX: Partial<Record<Partition, string>> = { aws: 'amazonaws.com', 'aws-us-gov': 'amazonaws.com', 'aws-cn': 'amazonaws.com.cn' };

export { bucketNameProblem } from '../../../validate.js';

/** A default bucket name from the cluster's infrastructure name (unique per install), within S3's rules. */
export function defaultBucketName(infrastructureName: string): string {
  const base = infrastructureName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'cluster';
  const suffix = '-rhacs-sts-oidc';
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** The issuer URL of a bucket: S3's regional virtual-hosted endpoint, as ccoctl writes it. */
export function bucketIssuerUrl(bucket: string, region: string, partition: Partition): string {
  const suffix = DNS_SUFFIX[partition];
  if (!suffix) throw new InputError([{ source: '--region', message: `publishing an issuer in S3 is not supported in the ${partition} partition` }]);
  return `https://${bucket}.s3.${region}.${suffix}`;
}

/** The bucket behind an issuer URL of that form, if it is one. */
export function bucketOfIssuer(issuer: string): { bucket: string; region: string } | undefined {
  const m = /^https:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.s3\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/?$/.exec(issuer);
  return m ? { bucket: m[1]!, region: m[2]! } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Documents

/** The discovery document, as ccoctl publishes it. */
export function discoveryDocument(issuer: string): string {
  return `${JSON.stringify(
    {
      issuer,
      jwks_uri: `${issuer}/${KEYS_KEY}`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'exp', 'sub', 'iat', 'iss', 'sub'],
    },
    null,
    2,
  )}\n`;
}

/** Only the public members of a key, in a fixed order (so equal keys serialise equally). */
export function publicJwk(k: Jwk): Jwk {
  const out: Jwk = {};
  for (const f of ['use', 'kty', 'kid', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const) if (k[f] !== undefined) out[f] = k[f];
  return out;
}

export function keysDocument(keys: Jwk[]): string {
  return `${JSON.stringify({ keys: keys.map(publicJwk) }, null, 2)}\n`;
}

/** Same key material (not just the same kid). */
export function sameKey(a: Jwk, b: Jwk): boolean {
  return a.kty === b.kty && a.n === b.n && a.e === b.e && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

/** The statement that lets everyone (AWS STS included) read the two documents, and nothing else. */
export function publicReadStatement(bucket: string, partition: Partition): PolicyStatement {
  return {
    Sid: PUBLIC_READ_SID,
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: [`arn:${partition}:s3:::${bucket}/${DISCOVERY_KEY}`, `arn:${partition}:s3:::${bucket}/${KEYS_KEY}`],
  };
}

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action?: unknown;
  Resource?: unknown;
  [k: string]: unknown;
}

/** The bucket policy with our statement in place, every other statement kept. */
export function bucketPolicyWithOurs(current: string | null, bucket: string, partition: Partition): { Version: string; Statement: PolicyStatement[] } {
  let doc: { Version?: string; Statement?: PolicyStatement | PolicyStatement[] } = {};
  if (current) {
    try {
      doc = JSON.parse(current) as typeof doc;
    } catch {
      throw new OperationError(`The bucket policy of ${bucket} is not JSON.`);
    }
  }
  const others = [doc.Statement ?? []].flat().filter((s) => s.Sid !== PUBLIC_READ_SID);
  return { Version: doc.Version ?? '2012-10-17', Statement: [...others, publicReadStatement(bucket, partition)] };
}

function samePolicy(a: string | null, b: object): boolean {
  if (!a) return false;
  try {
    return JSON.stringify(normalise(JSON.parse(a))) === JSON.stringify(normalise(b));
  } catch {
    return false;
  }
}

/** Same JSON content, whatever the formatting (a document ccoctl wrote is not rewritten for whitespace). */
export function sameJsonText(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  try {
    return JSON.stringify(normalise(JSON.parse(a))) === JSON.stringify(normalise(JSON.parse(b)));
  } catch {
    return false;
  }
}

function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, normalise(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Keys: merge on publish, compare on verify

export function parseRetired(meta: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (meta ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.lastIndexOf('=');
    if (i > 0 && !Number.isNaN(Date.parse(part.slice(i + 1)))) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function formatRetired(retired: Record<string, string>): string {
  return Object.entries(retired)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export interface KeyMerge {
  keys: Jwk[];
  /** kid → when it was first seen missing from the cluster (kept keys only). */
  retired: Record<string, string>;
  /** The cluster's keys that were not published. */
  added: string[];
  /** Published keys the cluster no longer lists, still within the grace. */
  kept: string[];
  /** Published keys past the grace: removed now. */
  dropped: string[];
}

/**
 * The keys to publish: the cluster's (they are the truth; a kid with new material replaces the
 * old), then each published key the cluster no longer lists, until it has been gone for `graceMs`.
 */
export function mergeKeys(published: Jwk[], cluster: Jwk[], retiredBefore: Record<string, string>, now: Date, graceMs = RETIRED_KEY_GRACE_MS): KeyMerge {
  const clusterKids = new Set(cluster.map((k) => k.kid).filter((k): k is string => !!k));
  const added = cluster.filter((k) => k.kid && !published.some((p) => p.kid === k.kid && sameKey(p, k))).map((k) => k.kid!);
  const keys = [...cluster.filter((k) => k.kid)];
  const retired: Record<string, string> = {};
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const p of published) {
    if (!p.kid || clusterKids.has(p.kid) || keys.some((k) => k.kid === p.kid)) continue;
    const since = retiredBefore[p.kid] ?? now.toISOString();
    if (now.getTime() - Date.parse(since) >= graceMs) {
      dropped.push(p.kid);
      continue;
    }
    retired[p.kid] = since;
    kept.push(p.kid);
    keys.push(p);
  }
  return { keys, retired, added, kept, dropped };
}

export interface KeyComparison {
  /** kids the cluster lists and the published JWKS lacks (or has with other material). */
  missing: string[];
  /** kids published and no longer listed by the cluster (retired keys: fine). */
  extra: string[];
}

export function compareKeys(published: Jwk[], cluster: Jwk[]): KeyComparison {
  return {
    missing: cluster.filter((k) => k.kid && !published.some((p) => p.kid === k.kid && sameKey(p, k))).map((k) => k.kid!),
    extra: published.filter((p) => p.kid && !cluster.some((k) => k.kid === p.kid)).map((p) => p.kid!),
  };
}

// ---------------------------------------------------------------------------------------------
// S3, reached through a narrow interface

export interface StoredObject {
  body: string;
  metadata: Record<string, string>;
  contentType?: string;
}

export type BucketAccess = 'ok' | 'missing' | 'forbidden';

export interface IssuerBucketApi {
  /** HeadBucket: ours to read ('ok'), not there, or someone else's (403). */
  headBucket(bucket: string): Promise<BucketAccess>;
  bucketRegion(bucket: string): Promise<string>;
  bucketTags(bucket: string): Promise<Record<string, string>>;
  publicAccessBlock(bucket: string): Promise<PublicAccessBlock | null>;
  bucketPolicy(bucket: string): Promise<string | null>;
  getObject(bucket: string, key: string): Promise<StoredObject | null>;
  listKeys(bucket: string): Promise<string[]>;
  createBucket(bucket: string, region: string): Promise<void>;
  putBucketTags(bucket: string, tags: Record<string, string>): Promise<void>;
  putPublicAccessBlock(bucket: string, config: PublicAccessBlock): Promise<void>;
  putBucketPolicy(bucket: string, policy: string): Promise<void>;
  deleteBucketPolicy(bucket: string): Promise<void>;
  putObject(bucket: string, key: string, body: string, o: { contentType: string; metadata?: Record<string, string>; tags?: Record<string, string> }): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  deleteBucket(bucket: string): Promise<void>;
}

export interface BucketState {
  bucket: string;
  access: BucketAccess;
  region?: string;
  tags: Record<string, string>;
  publicAccessBlock: PublicAccessBlock | null;
  policy: string | null;
  discovery: StoredObject | null;
  keys: StoredObject | null;
  /** Every key in the bucket (uninstall: a bucket holding more than ours is kept). */
  objectKeys: string[];
}

/** Reads what the bucket holds (read-only). */
export async function readBucket(s3: IssuerBucketApi, bucket: string): Promise<BucketState> {
  const access = await s3.headBucket(bucket);
  const empty: BucketState = { bucket, access, tags: {}, publicAccessBlock: null, policy: null, discovery: null, keys: null, objectKeys: [] };
  if (access !== 'ok') return empty;
  const [region, tags, publicAccessBlock, policy, discovery, keys, objectKeys] = await Promise.all([
    s3.bucketRegion(bucket),
    s3.bucketTags(bucket),
    s3.publicAccessBlock(bucket),
    s3.bucketPolicy(bucket),
    s3.getObject(bucket, DISCOVERY_KEY),
    s3.getObject(bucket, KEYS_KEY),
    s3.listKeys(bucket),
  ]);
  return { ...empty, region, tags, publicAccessBlock, policy, discovery, keys, objectKeys };
}

export function isOurBucket(tags: Record<string, string>): boolean {
  return tags[MANAGED_TAG] === 'true';
}

function parseKeys(o: StoredObject | null): Jwk[] {
  if (!o) return [];
  try {
    const v = JSON.parse(o.body) as { keys?: unknown };
    return Array.isArray(v.keys) ? (v.keys as Jwk[]) : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Plan and apply

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

export function planPublish(state: BucketState, input: PublishInput): PublishPlan {
  const problem = bucketNameProblem(input.bucket);
  if (problem) throw new InputError([{ source: '--bucket', message: problem }]);
  const issuer = bucketIssuerUrl(input.bucket, input.region, input.partition);
  const now = input.now ?? new Date();
  const exists = state.access === 'ok';
  const owned = exists && isOurBucket(state.tags);
  const adopted = exists && !owned && (input.adopt || state.tags[ADOPTED_TAG] === 'true');
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

  // An adopted bucket is marked as such, never as ours: uninstall leaves it. PutBucketTagging
  // replaces the whole set, so every tag already there is kept.
  const cluster: Record<string, string> = input.clusterName ? { [CLUSTER_TAG]: input.clusterName } : {};
  const wantTags: Record<string, string> = { ...state.tags, ...(adopted ? { [ADOPTED_TAG]: 'true' } : { [MANAGED_TAG]: 'true' }), ...cluster };
  const policy = bucketPolicyWithOurs(exists ? state.policy : null, input.bucket, input.partition);
  const discovery = discoveryDocument(issuer);
  const published = parseKeys(state.keys);
  const retiredBefore = parseRetired(state.keys?.metadata[RETIRED_META]);
  const merge = mergeKeys(published, input.clusterKeys, retiredBefore, now, input.graceMs);
  const keys = keysDocument(merge.keys);
  const retiredMeta = formatRetired(merge.retired);

  const steps: PublishStep[] = [];
  const step = (id: PublishStepId, status: PublishStep['status'], summary: string) => steps.push({ id, status, summary });
  const pab = state.publicAccessBlock;
  const pabOk = !!pab && (Object.keys(ISSUER_PUBLIC_ACCESS_BLOCK) as (keyof PublicAccessBlock)[]).every((k) => pab[k] === ISSUER_PUBLIC_ACCESS_BLOCK[k]);
  const tagsOk = Object.entries(wantTags).every(([k, v]) => state.tags[k] === v);

  step('bucket', exists ? 'unchanged' : 'create', exists ? `Bucket ${input.bucket} (${state.region ?? input.region}) is in place${adopted ? ' (adopted)' : ''}` : `Create the bucket ${input.bucket} in ${input.region}`);
  step('bucket-tags', exists && tagsOk ? 'unchanged' : exists ? 'update' : 'create', exists && tagsOk ? 'Bucket tags are in place' : `Tag the bucket: ${Object.entries(wantTags).filter(([k, v]) => state.tags[k] !== v).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  step(
    'public-access-block',
    pabOk ? 'unchanged' : exists && pab ? 'update' : 'create',
    pabOk ? 'Block public access: ACLs blocked, public policies allowed (in place)' : 'Block public access: keep ACLs blocked and ignored, allow a public bucket policy (as ccoctl does)',
  );
  step(
    'bucket-policy',
    exists && samePolicy(state.policy, policy) ? 'unchanged' : exists && state.policy ? 'update' : 'create',
    exists && samePolicy(state.policy, policy) ? 'Bucket policy lets everyone read the two documents (in place)' : `Bucket policy: let everyone (AWS STS included) read ${DISCOVERY_KEY} and ${KEYS_KEY}, nothing else`,
  );
  const discoverySame = sameJsonText(state.discovery?.body, discovery);
  step(
    'discovery',
    discoverySame ? 'unchanged' : state.discovery ? 'update' : 'create',
    discoverySame ? `Discovery document ${issuer}/${DISCOVERY_KEY} is in place` : `Publish the discovery document at ${issuer}/${DISCOVERY_KEY}`,
  );
  const keysSame = sameJsonText(state.keys?.body, keys) && (state.keys?.metadata[RETIRED_META] ?? '') === retiredMeta;
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
  return {
    bucket: input.bucket,
    region: input.region,
    issuer,
    steps,
    blockers,
    keys: merge,
    desired: { tags: wantTags, policy: JSON.stringify(policy), discovery, keys, retiredMeta },
  };
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

// ---------------------------------------------------------------------------------------------
// Uninstall

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
