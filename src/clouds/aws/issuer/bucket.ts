/** The issuer bucket as S3 holds it, reached through a narrow interface (the real one is s3.ts). */
import { MANAGED_TAG } from '../policies.js';
import { DISCOVERY_KEY, KEYS_KEY } from './documents.js';

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/** ccoctl's setting for a public-by-policy issuer bucket: ACLs blocked and ignored, policies may make it public. */
export const ISSUER_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false };

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
