/**
 * The real IssuerBucketApi: S3 through the SDK v3 client, loaded lazily (only `issuer publish`,
 * `verify` of a published issuer and `uninstall` of one load it). Credentials come from the SDK's
 * default chain (or --profile); AWS_ENDPOINT_URL is honoured by the SDK itself. Calls are logged by
 * operation name only, never parameters.
 */
import { OperationError } from '../../../errors.js';
import { mapAwsError } from '../errors.js';
import { boundedRequests, watchCalls } from '../http.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../../options/options.js';
import type { BucketAccess, IssuerBucketApi, PublicAccessBlock, StoredObject } from './bucket.js';

/** The S3 SDK module and one client of it, as each group of calls below is given them. */
interface S3 {
  sdk: typeof import('@aws-sdk/client-s3');
  client: InstanceType<typeof import('@aws-sdk/client-s3').S3Client>;
}

export interface S3Options {
  region: string;
  profile?: string;
  log: (message: string) => void;
  /** Bound of each request attempt (--request-timeout). */
  timeoutMs?: number;
}

function code(err: unknown): string {
  const e = err as { name?: string; Code?: string };
  return e?.Code ?? e?.name ?? '';
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** What S3 says when a public bucket policy is refused: the account (or organisation) blocks public buckets. */
const PUBLIC_BLOCKED_HINT =
  'S3 refused a public bucket policy: block public access is on for the account or the organisation (or an SCP forbids it). ' +
  'Either allow public bucket policies for this bucket (S3 console → Block Public Access settings for this account), ' +
  'or publish the issuer privately behind CloudFront with "ccoctl aws create-identity-provider --create-private-s3-bucket" and use its issuer URL.';

export async function createIssuerBucketApi(o: S3Options): Promise<IssuerBucketApi> {
  const sdk = await import('@aws-sdk/client-s3');
  const timeoutMs = o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const client = new sdk.S3Client({ region: o.region, ...(o.profile ? { profile: o.profile } : {}), maxAttempts: 5, ...boundedRequests(timeoutMs) });
  watchCalls(client, { timeoutMs, log: o.log });
  const s3: S3 = { sdk, client };
  return { ...bucketReads(s3), ...objectCalls(s3), ...bucketWrites(s3) };
}

async function call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAwsError(err, doing);
  }
}

/** Reads that answer "nothing there" with one of these codes. */
async function orNull<T>(doing: string, codes: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (codes.includes(code(err))) return null;
    throw mapAwsError(err, doing);
  }
}

type BucketReads = Pick<IssuerBucketApi, 'headBucket' | 'bucketRegion' | 'bucketTags' | 'publicAccessBlock' | 'bucketPolicy'>;

/** What a bucket is: whether it is there and ours to read, its region, tags, block public access and policy. */
function bucketReads({ sdk, client }: S3): BucketReads {
  return {
    async headBucket(bucket): Promise<BucketAccess> {
      try {
        await client.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
        return 'ok';
      } catch (err) {
        if (status(err) === 404 || code(err) === 'NotFound' || code(err) === 'NoSuchBucket') return 'missing';
        if (status(err) === 403) return 'forbidden';
        // A bucket in another region answers 301 to a regional client: it is there and readable.
        if (status(err) === 301) return 'ok';
        throw mapAwsError(err, `looking for the bucket ${bucket}`);
      }
    },
    async bucketRegion(bucket) {
      const out = await call(`reading the region of ${bucket}`, () => client.send(new sdk.GetBucketLocationCommand({ Bucket: bucket })));
      const loc = out.LocationConstraint as string | undefined;
      return !loc ? 'us-east-1' : loc === 'EU' ? 'eu-west-1' : loc;
    },
    async bucketTags(bucket) {
      const out = await orNull(`reading the tags of ${bucket}`, ['NoSuchTagSet', 'NoSuchTagSetError'], () => client.send(new sdk.GetBucketTaggingCommand({ Bucket: bucket })));
      return Object.fromEntries((out?.TagSet ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
    },
    async publicAccessBlock(bucket): Promise<PublicAccessBlock | null> {
      const out = await orNull(`reading the block public access settings of ${bucket}`, ['NoSuchPublicAccessBlockConfiguration'], () =>
        client.send(new sdk.GetPublicAccessBlockCommand({ Bucket: bucket })),
      );
      const c = out?.PublicAccessBlockConfiguration;
      return c
        ? { BlockPublicAcls: !!c.BlockPublicAcls, IgnorePublicAcls: !!c.IgnorePublicAcls, BlockPublicPolicy: !!c.BlockPublicPolicy, RestrictPublicBuckets: !!c.RestrictPublicBuckets }
        : null;
    },
    async bucketPolicy(bucket) {
      const out = await orNull(`reading the policy of ${bucket}`, ['NoSuchBucketPolicy'], () => client.send(new sdk.GetBucketPolicyCommand({ Bucket: bucket })));
      return out?.Policy ?? null;
    },
  };
}

type ObjectCalls = Pick<IssuerBucketApi, 'getObject' | 'listKeys' | 'putObject' | 'deleteObject'>;

/** The bucket's objects: read, list (bounded), write, delete. */
function objectCalls({ sdk, client }: S3): ObjectCalls {
  return {
    async getObject(bucket, key): Promise<StoredObject | null> {
      const out = await orNull(`reading s3://${bucket}/${key}`, ['NoSuchKey'], () => client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })));
      if (!out) return null;
      const body = (await out.Body?.transformToString('utf8')) ?? '';
      return { body, metadata: out.Metadata ?? {}, ...(out.ContentType ? { contentType: out.ContentType } : {}) };
    },
    async listKeys(bucket) {
      const keys: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 100; page++) {
        const out = await call(`listing ${bucket}`, () => client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 1000 })));
        keys.push(...(out.Contents ?? []).map((c) => c.Key ?? '').filter(Boolean));
        if (!out.IsTruncated || !out.NextContinuationToken) return keys;
        token = out.NextContinuationToken;
      }
      return keys;
    },
    async putObject(bucket, key, body, opts) {
      await call(`writing s3://${bucket}/${key}`, () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: opts.contentType,
            CacheControl: 'max-age=300',
            ...(opts.metadata ? { Metadata: opts.metadata } : {}),
            ...(opts.tags ? { Tagging: new URLSearchParams(opts.tags).toString() } : {}),
          }),
        ),
      );
    },
    async deleteObject(bucket, key) {
      await call(`deleting s3://${bucket}/${key}`, () => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },
  };
}

type BucketWrites = Omit<IssuerBucketApi, keyof BucketReads | keyof ObjectCalls>;

/** The bucket itself: create it (owner-enforced), tag it, block public access, its policy, delete it. */
function bucketWrites({ sdk, client }: S3): BucketWrites {
  return {
    async createBucket(bucket, region) {
      try {
        await client.send(
          new sdk.CreateBucketCommand({
            Bucket: bucket,
            ObjectOwnership: 'BucketOwnerEnforced',
            ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          }),
        );
      } catch (err) {
        if (code(err) === 'BucketAlreadyOwnedByYou') return;
        if (code(err) === 'BucketAlreadyExists') {
          throw new OperationError(`The bucket name ${bucket} is taken (S3 bucket names are global).`, { hint: 'Choose another name with --bucket.', cause: err });
        }
        throw mapAwsError(err, `creating the bucket ${bucket}`);
      }
    },
    async putBucketTags(bucket, tags) {
      await call(`tagging the bucket ${bucket}`, () =>
        client.send(new sdk.PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } })),
      );
    },
    async putPublicAccessBlock(bucket, config) {
      await call(`setting block public access on ${bucket}`, () => client.send(new sdk.PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: config })));
    },
    async putBucketPolicy(bucket, policy) {
      try {
        await client.send(new sdk.PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
      } catch (err) {
        if (status(err) === 403 || /AccessDenied/.test(code(err))) {
          throw new OperationError(`S3 refused the public-read policy on ${bucket}: ${(err as Error).message}`, { hint: PUBLIC_BLOCKED_HINT, cause: err });
        }
        throw mapAwsError(err, `setting the policy of ${bucket}`);
      }
    },
    async deleteBucketPolicy(bucket) {
      await call(`removing the policy of ${bucket}`, () => client.send(new sdk.DeleteBucketPolicyCommand({ Bucket: bucket })));
    },
    async deleteBucket(bucket) {
      await call(`deleting the bucket ${bucket}`, () => client.send(new sdk.DeleteBucketCommand({ Bucket: bucket })));
    },
  };
}
