// The sandbox's S3: moto behind the AWS gate (gate-s3.ts) with S3's 2023 defaults and refusals, and
// S3's public endpoint (s3-public.ts) answering anonymous reads only where S3 would.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { bucketIssuer, bucketState, publicGet } from '../sandbox/issuers/issuer-bucket.js';
import { awsMark, awsRequests, gateDecisions, gateMark } from '../sandbox/observe.js';

const sb = useSandbox();
const region = sb.awsEnv.AWS_REGION;
const s3 = new S3Client({
  region,
  endpoint: sb.awsEndpoint,
  credentials: { accessKeyId: sb.awsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: sb.awsEnv.AWS_SECRET_ACCESS_KEY },
  maxAttempts: 1,
});
const bucketName = () => `gate-test-${randomBytes(4).toString('hex')}`;
const publicPolicy = (bucket: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'AllowReadPublicAccess', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
};

async function newBucket(): Promise<string> {
  const bucket = bucketName();
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }));
  return bucket;
}

describe('S3 through the AWS gate', () => {
  it('gives new buckets the 2023 defaults: block public access on, ACLs disabled; records the operations', async () => {
    const m = await awsMark(sb);
    const bucket = await newBucket();
    const st = await bucketState(sb, bucket);
    expect(st.guards).toEqual({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true, ownership: 'BucketOwnerEnforced' });
    expect((await awsRequests(sb, m)).map((r) => [r.service, r.action, r.status])).toEqual([['s3', 'CreateBucket', 200]]);
  });

  it('refuses a public bucket policy while BlockPublicPolicy is on, and accepts it once lifted', async () => {
    const bucket = await newBucket();
    const d = await gateMark(sb);
    expect(await errorOf(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await gateDecisions(sb, d)).map((x) => [x.action, x.allowed, x.code])).toEqual([['s3:PutBucketPolicy', false, 'AccessDenied']]);
    // A policy that is not public (pinned to an account) is not blocked.
    const pinned = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 'aws:PrincipalAccount': sb.accountId } } }] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: pinned }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) }));
  });

  it('refuses object ACLs while ACLs are disabled, and public ACLs while BlockPublicAcls is on', async () => {
    const bucket = await newBucket();
    expect(await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keys.json', Body: '{}', ACL: 'public-read' })))).toEqual({ name: 'AccessControlListNotSupported', status: 400 });
    // bucket-owner-full-control is the one canned ACL S3 still takes.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keys.json', Body: '{}', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    expect(await errorOf(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'keys.json', ACL: 'public-read' })))).toEqual({ name: 'AccessDenied', status: 403 });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'keys.json', ACL: 'public-read' }));
    expect((await publicGet(sb, `${bucketIssuer(bucket, region)}/keys.json`)).status).toBe(200);
  });
});

describe("S3's public endpoint (anonymous reads)", () => {
  it('serves an object only when S3 would let anyone read it', async () => {
    const bucket = await newBucket();
    const url = `${bucketIssuer(bucket, region)}/.well-known/openid-configuration`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: '.well-known/openid-configuration', Body: '{"issuer":"x"}', ContentType: 'application/json' }));
    // Private by default.
    expect((await publicGet(sb, url)).status).toBe(403);
    // A public policy with RestrictPublicBuckets still on: only the account's principals get in.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) }));
    expect((await publicGet(sb, url)).status).toBe(403);
    // ccoctl's setting: policies may make it public, ACLs may not.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    const ok = await publicGet(sb, url);
    expect(ok).toMatchObject({ status: 200, body: '{"issuer":"x"}', contentType: 'application/json' });
    // A key that is not there: 403, since nobody may list the bucket.
    expect((await publicGet(sb, `${bucketIssuer(bucket, region)}/keys.json`)).status).toBe(403);
    // The wrong regional endpoint, and a bucket that does not exist.
    const other = await publicGet(sb, `${bucketIssuer(bucket, 'us-east-1')}/.well-known/openid-configuration`).catch((e: Error) => e);
    expect(other).toBeInstanceOf(Error); // the stand-in serves only the sandbox's regions: us-east-1 is not one
    expect((await publicGet(sb, `${bucketIssuer(bucketName(), region)}/keys.json`)).status).toBe(404);
  });

  it('lets an explicit Deny win over the public Allow', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keys.json', Body: '{"keys":[]}' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    const policy = JSON.parse(publicPolicy(bucket)) as { Statement: object[] };
    policy.Statement.push({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/keys.json` });
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    expect((await publicGet(sb, `${bucketIssuer(bucket, region)}/keys.json`)).status).toBe(403);
  });
});
