// Stand-in for what S3 enforces and moto 5.2.5 does not, in front of moto's S3 (see aws-gate.ts).
// moto stores buckets, objects, policies, tags and the bucket-level public access block, but creates
// buckets wide open and never reads those settings. Since April 2023 S3 (User Guide, "Blocking public
// access to your Amazon S3 storage" and "Controlling ownership of objects and disabling ACLs"):
//   1. every new bucket has S3 Block Public Access on (all four settings) and Object Ownership
//      `BucketOwnerEnforced` (ACLs disabled), unless CreateBucket names another ownership
//      (`x-amz-object-ownership`); a CreateBucket with an ACL other than private under
//      BucketOwnerEnforced → 400 InvalidBucketAclWithObjectOwnership;
//   2. PutBucketPolicy with a public policy while BlockPublicPolicy is on → 403 AccessDenied;
//   3. an ACL on an object or the bucket (x-amz-acl / x-amz-grant-* headers, or an ACL body) when
//      ownership is BucketOwnerEnforced → 400 AccessControlListNotSupported ("The bucket does not
//      allow ACLs"), except the canned `bucket-owner-full-control` / `private`; a public ACL (AllUsers,
//      AuthenticatedUsers) while BlockPublicAcls is on → 403 AccessDenied.
// Anonymous reads of objects (the public web) are s3-public.ts's. Not covered: the account-level
// block public access (s3control), access points, SCPs, and object lock.
//
// Each S3 request is also given its operation name (CreateBucket, PutObject, …) for the request log.
import { randomUUID } from 'node:crypto';
import {
  GetBucketOwnershipControlsCommand,
  GetPublicAccessBlockCommand,
  PutBucketOwnershipControlsCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { FORWARD, xmlEscape, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';

const ADMIN = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const s3Clients = new Map<string, S3Client>();

/** S3 on moto as the sandbox admin (path-style, not through the gate). */
export function motoS3(motoUrl: string, region = 'us-east-1'): S3Client {
  const key = `${motoUrl}|${region}`;
  let c = s3Clients.get(key);
  if (!c) s3Clients.set(key, (c = new S3Client({ region, endpoint: motoUrl, credentials: ADMIN, forcePathStyle: true, maxAttempts: 1 })));
  return c;
}

/** S3's REST error shape. */
export function s3Error(status: number, code: string, message: string, extra: Record<string, string> = {}): GateOutcome {
  const more = Object.entries(extra)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  return {
    kind: 'reply',
    status,
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${more}<RequestId>${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}</RequestId></Error>`,
  };
}

/** Bucket and key of a path-style request (`/bucket/key…`). */
export function s3Target(path: string): { bucket?: string; key?: string; query: URLSearchParams } {
  const u = new URL(path, 'http://x');
  const [, bucket, ...rest] = u.pathname.split('/');
  return { bucket: bucket ? decodeURIComponent(bucket) : undefined, key: rest.length && rest.join('/') ? decodeURIComponent(rest.join('/')) : undefined, query: u.searchParams };
}

const BUCKET_SUB: Record<string, string> = {
  policy: 'BucketPolicy',
  policyStatus: 'BucketPolicyStatus',
  tagging: 'BucketTagging',
  publicAccessBlock: 'PublicAccessBlock',
  ownershipControls: 'BucketOwnershipControls',
  acl: 'BucketAcl',
  location: 'BucketLocation',
  versioning: 'BucketVersioning',
  encryption: 'BucketEncryption',
  cors: 'BucketCors',
  website: 'BucketWebsite',
  lifecycle: 'BucketLifecycleConfiguration',
  logging: 'BucketLogging',
  notification: 'BucketNotificationConfiguration',
};
const VERB: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };

/** The S3 operation a path-style REST request is (as the API Reference names it). */
export function s3Operation(method: string, path: string, headers: Record<string, string | string[] | undefined> = {}): string {
  const { bucket, key, query } = s3Target(path);
  if (!bucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`;
  if (!key) {
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    for (const [sub, name] of Object.entries(BUCKET_SUB)) if (query.has(sub) && VERB[method]) return `${VERB[method]}${name}`;
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'GET') return query.get('list-type') === '2' ? 'ListObjectsV2' : query.has('uploads') ? 'ListMultipartUploads' : query.has('versions') ? 'ListObjectVersions' : 'ListObjects';
    return `${method}Bucket`;
  }
  if (query.has('acl') && VERB[method]) return `${VERB[method]}ObjectAcl`;
  if (query.has('tagging') && VERB[method]) return `${VERB[method]}ObjectTagging`;
  if (method === 'PUT') return headers['x-amz-copy-source'] ? 'CopyObject' : query.has('uploadId') ? 'UploadPart' : 'PutObject';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'POST') return query.has('uploads') ? 'CreateMultipartUpload' : query.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  return `${method}Object`;
}

/** Condition keys that make a grant to `*` non-public (S3 User Guide, "The meaning of 'public'"). */
const FIXED_VALUE_KEYS = new Set(
  [
    'aws:SourceIp',
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceAccount',
    'aws:SourceOwner',
    'aws:PrincipalOrgID',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:userid',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
  ].map((k) => k.toLowerCase()),
);

/** A statement of a bucket policy, as far as the gate and S3's public endpoint read it. */
export interface Statement {
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function statements(policy: unknown): Statement[] {
  const s = (policy as { Statement?: unknown })?.Statement;
  return (Array.isArray(s) ? s : s ? [s] : []) as Statement[];
}

/** The principal names everyone: "*" or {"AWS": "*"} (or a list containing "*"). */
export function principalIsEveryone(p: unknown): boolean {
  if (p === '*') return true;
  const aws = (p as { AWS?: unknown })?.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

/** S3's definition of a public bucket policy: an Allow to everyone not pinned by a fixed-value condition key. */
export function policyIsPublic(policy: unknown): boolean {
  return statements(policy).some((st) => {
    if (st.Effect !== 'Allow') return false;
    if (st.NotPrincipal !== undefined) return true;
    if (!principalIsEveryone(st.Principal)) return false;
    const keys = Object.values(st.Condition ?? {}).flatMap((o) => Object.keys(o ?? {}).map((k) => k.toLowerCase()));
    return !keys.some((k) => FIXED_VALUE_KEYS.has(k));
  });
}

const ACL_GRANT_HEADERS = ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'];
const PUBLIC_CANNED = new Set(['public-read', 'public-read-write', 'authenticated-read']);
const PUBLIC_GROUP = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;

/** What ACL a write request carries: none, an allowed canned one under BucketOwnerEnforced, or another (public or not). */
export function aclOf(r: { headers: Record<string, string | string[] | undefined>; body: Buffer; operation: string }): { present: boolean; ownerOnly: boolean; isPublic: boolean } {
  const canned = String(r.headers['x-amz-acl'] ?? '');
  const grants = ACL_GRANT_HEADERS.map((h) => r.headers[h]).filter((v) => v !== undefined).map(String);
  const body = /Acl$/.test(r.operation) ? r.body.toString('utf8') : '';
  const present = !!canned || grants.length > 0 || body.length > 0;
  const isPublic = PUBLIC_CANNED.has(canned) || grants.some((g) => PUBLIC_GROUP.test(g)) || PUBLIC_GROUP.test(body);
  const ownerOnly = !grants.length && !body && (canned === '' || canned === 'private' || canned === 'bucket-owner-full-control');
  return { present, ownerOnly, isPublic };
}

export interface BucketGuards {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
  /** BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter */
  ownership: string;
}

function isMissing(err: unknown, ...codes: string[]): boolean {
  const name = (err as { name?: string; Code?: string })?.name ?? '';
  return codes.includes(name) || codes.includes((err as { Code?: string })?.Code ?? '');
}

/** A bucket's public access block and object ownership as moto holds them (no block = all off; no rule = ObjectWriter, as before 2023). */
export async function bucketGuards(motoUrl: string, bucket: string): Promise<BucketGuards> {
  const s3 = motoS3(motoUrl);
  let bpa = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
  try {
    const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    bpa = { ...bpa, ...(out.PublicAccessBlockConfiguration ?? {}) } as typeof bpa;
  } catch (err) {
    if (!isMissing(err, 'NoSuchPublicAccessBlockConfiguration')) throw err;
  }
  let ownership = 'ObjectWriter';
  try {
    const out = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
    ownership = out.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? ownership;
  } catch (err) {
    if (!isMissing(err, 'OwnershipControlsNotFoundError')) throw err;
  }
  return {
    blockPublicAcls: !!bpa.BlockPublicAcls,
    ignorePublicAcls: !!bpa.IgnorePublicAcls,
    blockPublicPolicy: !!bpa.BlockPublicPolicy,
    restrictPublicBuckets: !!bpa.RestrictPublicBuckets,
    ownership,
  };
}

export class S3Gate {
  constructor(private readonly ctx: GateContext) {}

  async handle(req: GateRequest, operation: string): Promise<GateOutcome> {
    // Defaults of a bucket created by an earlier request are in place before anything else is served.
    await this.settle();
    const { bucket } = s3Target(req.path);
    const principal = req.accessKeyId;
    const deny = (status: number, code: string, message: string, reason: string): GateOutcome => {
      this.ctx.decide({ action: `s3:${operation}`, principal, resource: bucket, allowed: false, reason, code });
      return s3Error(status, code, message);
    };
    if (!bucket) return FORWARD;

    if (operation === 'CreateBucket') {
      const ownership = String(req.headers['x-amz-object-ownership'] ?? 'BucketOwnerEnforced');
      const acl = aclOf({ headers: req.headers, body: Buffer.alloc(0), operation });
      if (ownership === 'BucketOwnerEnforced' && acl.present && !acl.ownerOnly) {
        return deny(400, 'InvalidBucketAclWithObjectOwnership', "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 'ACL on a new bucket with ACLs disabled');
      }
      return {
        kind: 'forward',
        response: (status) => {
          if (status !== 200) return;
          // S3's defaults for every new bucket since April 2023, applied before the client sees the answer.
          const s3 = motoS3(this.ctx.motoUrl);
          const done = Promise.all([
            s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } })),
            s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: ownership as 'BucketOwnerEnforced' }] } })),
          ]);
          this.pending.push(done.then(() => undefined, (err: Error) => void process.stderr.write(`[sandbox] S3 gate: bucket defaults for ${bucket}: ${err.message}\n`)));
          this.ctx.decide({ action: 's3:CreateBucket', principal, resource: bucket, allowed: true, reason: `new bucket: block public access on, object ownership ${ownership}` });
        },
      };
    }

    if (operation === 'PutBucketPolicy') {
      let policy: unknown;
      try {
        policy = JSON.parse(req.body.toString('utf8'));
      } catch {
        return deny(400, 'MalformedPolicy', 'Policies must be valid JSON and the first byte must be \'{\'', 'policy is not JSON');
      }
      const g = await this.guards(bucket);
      if (g && g.blockPublicPolicy && policyIsPublic(policy)) {
        return deny(
          403,
          'AccessDenied',
          `User: ${principal ?? 'anonymous'} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
          'public policy while BlockPublicPolicy is on',
        );
      }
      return FORWARD;
    }

    if (['PutObject', 'PutObjectAcl', 'PutBucketAcl', 'CopyObject', 'CreateMultipartUpload'].includes(operation)) {
      const acl = aclOf({ headers: req.headers, body: req.body, operation });
      if (!acl.present) return FORWARD;
      const g = await this.guards(bucket);
      if (!g) return FORWARD;
      if (g.ownership === 'BucketOwnerEnforced' && !acl.ownerOnly) {
        return deny(400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs', 'ACL while object ownership is BucketOwnerEnforced');
      }
      if (g.blockPublicAcls && acl.isPublic) return deny(403, 'AccessDenied', 'Access Denied', 'public ACL while BlockPublicAcls is on');
      return FORWARD;
    }
    return FORWARD;
  }

  /** Bucket defaults being applied (a client's next request waits for them). */
  private pending: Promise<void>[] = [];

  /** Settles pending bucket defaults, then reads the bucket's guards; undefined when the bucket does not exist (moto answers). */
  private async guards(bucket: string): Promise<BucketGuards | undefined> {
    await Promise.all(this.pending.splice(0));
    try {
      return await bucketGuards(this.ctx.motoUrl, bucket);
    } catch (err) {
      if (isMissing(err, 'NoSuchBucket')) return undefined;
      throw err;
    }
  }

  /** Waits for bucket defaults still being applied (before any S3 request is forwarded). */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}
