// Stand-in for S3's public website-less endpoint as an anonymous client sees it: what AWS STS (and
// anyone on the internet) gets from `GET https://<bucket>.s3.<region>.amazonaws.com/<key>` with no
// credentials. The objects are moto's (the real server holding what rhacs-sts wrote); the decision
// whether an anonymous caller may read them is made here, as S3 makes it (S3 User Guide: "Blocking
// public access", "The meaning of 'public'", "Bucket policies", "Access control list overview";
// IAM policy evaluation logic), because moto serves any caller:
//   - no such bucket → 404 NoSuchBucket; a bucket of another region → 301 PermanentRedirect;
//   - an explicit Deny in the bucket policy that applies → 403;
//   - a bucket-policy Allow to everyone (`*`) for s3:GetObject on the object, unless the policy is
//     public and RestrictPublicBuckets is on (then only the account's own principals get in);
//   - else an object ACL granting READ to AllUsers, unless IgnorePublicAcls is on or ACLs are
//     disabled (Object Ownership BucketOwnerEnforced);
//   - else 403 AccessDenied. A missing key is 403 too unless everyone may s3:ListBucket (then 404
//     NoSuchKey), as S3 answers callers without list permission.
// Conditions: `aws:SecureTransport` is true (https); an Allow with any other condition does not apply
// to an anonymous caller, a Deny with any other condition does (the strict reading of both).
import { GetBucketLocationCommand, GetBucketPolicyCommand, GetObjectAclCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { bucketGuards, motoS3, policyIsPublic, principalIsEveryone, type Statement } from '../aws/gate-s3.js';

/** `<bucket>.s3.<region>.amazonaws.com` (virtual-hosted style; the bucket has no dots, as a wildcard certificate needs). */
const S3_HOST = /^([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.s3\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/;

export function parseS3Host(host: string): { bucket: string; region: string } | undefined {
  const m = S3_HOST.exec(host.toLowerCase());
  return m ? { bucket: m[1]!, region: m[2]! } : undefined;
}

export interface PublicAnswer {
  status: number;
  body: string;
  contentType: string;
}

const xml = (status: number, code: string, message: string, extra = ''): PublicAnswer => ({
  status,
  contentType: 'application/xml',
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`,
});


const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function matches(st: Statement, action: string, resource: string): boolean {
  const actionOk = st.NotAction !== undefined ? !list(st.NotAction).some((a) => wildcard(a, action, true)) : list(st.Action).some((a) => wildcard(a, action, true));
  const resourceOk =
    st.NotResource !== undefined ? !list(st.NotResource).some((r) => wildcard(r, resource, false)) : list(st.Resource).some((r) => wildcard(r, resource, false));
  return actionOk && resourceOk;
}

/** Whether the statement's conditions hold for an anonymous HTTPS caller; undefined when they name anything else. */
function conditionsHold(st: Statement): boolean | undefined {
  let result = true;
  for (const [op, kv] of Object.entries(st.Condition ?? {})) {
    for (const [key, value] of Object.entries(kv ?? {})) {
      if (op === 'Bool' && key.toLowerCase() === 'aws:securetransport') {
        result &&= [value].flat().map(String).includes('true');
      } else return undefined;
    }
  }
  return result;
}

/** Does the bucket policy let everyone do `action` on `resource`? Explicit deny wins. */
export function policyAllowsEveryone(policy: unknown, action: string, resource: string): 'allow' | 'deny' | 'none' {
  const sts = (() => {
    const s = (policy as { Statement?: unknown })?.Statement;
    return (Array.isArray(s) ? s : s ? [s] : []) as Statement[];
  })();
  const applies = (st: Statement) => (st.NotPrincipal !== undefined ? true : principalIsEveryone(st.Principal)) && matches(st, action, resource);
  if (sts.some((st) => st.Effect === 'Deny' && applies(st) && conditionsHold(st) !== false)) return 'deny';
  if (sts.some((st) => st.Effect === 'Allow' && st.NotPrincipal === undefined && applies(st) && conditionsHold(st) === true)) return 'allow';
  return 'none';
}

function errName(err: unknown): string {
  return (err as { name?: string; Code?: string })?.name ?? (err as { Code?: string })?.Code ?? '';
}

/** An anonymous GET (or HEAD) of `key` in `bucket` through the regional endpoint of `region`. */
export async function anonymousGet(motoUrl: string, bucket: string, region: string, key: string): Promise<PublicAnswer> {
  const s3 = motoS3(motoUrl);
  if (!key) return xml(403, 'AccessDenied', 'Access Denied');
  let location: string;
  try {
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    location = out.LocationConstraint || 'us-east-1';
    if (location === 'EU') location = 'eu-west-1';
  } catch (err) {
    if (errName(err) === 'NoSuchBucket') return xml(404, 'NoSuchBucket', 'The specified bucket does not exist', `<BucketName>${bucket}</BucketName>`);
    throw err;
  }
  if (location !== region) {
    return xml(301, 'PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', `<Endpoint>${bucket}.s3.${location}.amazonaws.com</Endpoint><Bucket>${bucket}</Bucket>`);
  }
  const guards = await bucketGuards(motoUrl, bucket);
  let policy: unknown;
  try {
    const out = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    policy = out.Policy ? JSON.parse(out.Policy) : undefined;
  } catch (err) {
    if (errName(err) !== 'NoSuchBucketPolicy') throw err;
  }
  const policyCounts = policy !== undefined && !(guards.restrictPublicBuckets && policyIsPublic(policy));
  const objectArn = `arn:aws:s3:::${bucket}/${key}`;
  const byPolicy = policyCounts ? policyAllowsEveryone(policy, 's3:GetObject', objectArn) : policy !== undefined && policyAllowsEveryone(policy, 's3:GetObject', objectArn) === 'deny' ? 'deny' : 'none';
  const denied = xml(403, 'AccessDenied', 'Access Denied');
  if (byPolicy === 'deny') return denied;

  let body: string;
  let contentType: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = (await out.Body?.transformToString('utf8')) ?? '';
    contentType = out.ContentType ?? 'binary/octet-stream';
  } catch (err) {
    if (errName(err) !== 'NoSuchKey') throw err;
    const canList = policyCounts && policyAllowsEveryone(policy, 's3:ListBucket', `arn:aws:s3:::${bucket}`) === 'allow';
    return canList ? xml(404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${key}</Key>`) : denied;
  }
  let allowed = byPolicy === 'allow';
  if (!allowed && !guards.ignorePublicAcls && guards.ownership !== 'BucketOwnerEnforced') {
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
    allowed = (acl.Grants ?? []).some(
      (g) => /\/groups\/global\/AllUsers$/.test(g.Grantee?.URI ?? '') && (g.Permission === 'READ' || g.Permission === 'FULL_CONTROL'),
    );
  }
  return allowed ? { status: 200, body, contentType } : denied;
}
