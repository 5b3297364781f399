import { describe, expect, it } from 'vitest';
import { CancelledError, InputError } from '../../src/errors.js';
import {
  applyPublish,
  bucketIssuerUrl,
  bucketNameProblem,
  bucketOfIssuer,
  bucketPolicyWithOurs,
  compareKeys,
  defaultBucketName,
  discoveryDocument,
  DISCOVERY_KEY,
  KEYS_KEY,
  mergeKeys,
  planPublish,
  planUnpublish,
  readBucket,
  RETIRED_META,
  type BucketState,
  type IssuerBucketApi,
  type PublicAccessBlock,
  type StoredObject,
  type PublishStepId,
} from '../../src/clouds/aws/issuer/publish.js';
import type { Jwk } from '../../src/kube/session.js';
import { issuerPublicCheck } from '../../src/verify/checks.js';

const key = (kid: string, n = `n-${kid}`): Jwk => ({ use: 'sig', kty: 'RSA', kid, alg: 'RS256', n, e: 'AQAB' });
const HOUR = 3_600_000;

/** An in-memory bucket store with S3's answers for what the planner reads. */
function memoryS3(): IssuerBucketApi & { buckets: Map<string, { region: string; tags: Record<string, string>; pab: PublicAccessBlock | null; policy: string | null; objects: Map<string, StoredObject> }>; writes: string[] } {
  const buckets = new Map<string, { region: string; tags: Record<string, string>; pab: PublicAccessBlock | null; policy: string | null; objects: Map<string, StoredObject> }>();
  const writes: string[] = [];
  const b = (name: string) => {
    const x = buckets.get(name);
    if (!x) throw new Error(`NoSuchBucket ${name}`);
    return x;
  };
  return {
    buckets,
    writes,
    headBucket: async (n) => (buckets.has(n) ? 'ok' : 'missing'),
    bucketRegion: async (n) => b(n).region,
    bucketTags: async (n) => ({ ...b(n).tags }),
    publicAccessBlock: async (n) => b(n).pab,
    bucketPolicy: async (n) => b(n).policy,
    getObject: async (n, k) => b(n).objects.get(k) ?? null,
    listKeys: async (n) => [...b(n).objects.keys()],
    createBucket: async (n, region) => {
      writes.push('CreateBucket');
      buckets.set(n, { region, tags: {}, pab: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true }, policy: null, objects: new Map() });
    },
    putBucketTags: async (n, tags) => void (writes.push('PutBucketTagging'), (b(n).tags = { ...tags })),
    putPublicAccessBlock: async (n, c) => void (writes.push('PutPublicAccessBlock'), (b(n).pab = { ...c })),
    putBucketPolicy: async (n, p) => void (writes.push('PutBucketPolicy'), (b(n).policy = p)),
    deleteBucketPolicy: async (n) => void (writes.push('DeleteBucketPolicy'), (b(n).policy = null)),
    putObject: async (n, k, body, o) => void (writes.push(`PutObject ${k}`), b(n).objects.set(k, { body, metadata: { ...(o.metadata ?? {}) }, contentType: o.contentType })),
    deleteObject: async (n, k) => void (writes.push(`DeleteObject ${k}`), b(n).objects.delete(k)),
    deleteBucket: async (n) => void (writes.push('DeleteBucket'), buckets.delete(n)),
  };
}

describe('bucket names and URLs', () => {
  it.each([
    ['ab', /3 to 63/],
    ['a'.repeat(64), /3 to 63/],
    ['My-bucket', /upper-case/],
    ['my.bucket', /dot/],
    ['my_bucket', /only lower-case/],
    ['-bucket', /begin and end/],
    ['bucket-', /begin and end/],
    ['xn--bucket', /xn--/],
    ['sthree-bucket', /sthree-/],
    ['bucket-s3alias', /-s3alias/],
    ['bucket--ol-s3', /--ol-s3/],
  ])('refuses %s', (name, why) => {
    expect(bucketNameProblem(name)).toMatch(why);
  });

  it('accepts S3-valid names without dots', () => {
    expect(bucketNameProblem('rhacs-prod-x7k2p-rhacs-sts-oidc')).toBeUndefined();
    expect(bucketNameProblem('abc')).toBeUndefined();
  });

  it('derives a valid default name from the infrastructure name', () => {
    expect(defaultBucketName('prod-x7k2p')).toBe('prod-x7k2p-rhacs-sts-oidc');
    const long = defaultBucketName(`${'a'.repeat(70)}_X`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(bucketNameProblem(long)).toBeUndefined();
  });

  it('builds the regional virtual-hosted issuer URL per partition and parses it back', () => {
    expect(bucketIssuerUrl('b-oidc', 'eu-west-1', 'aws')).toBe('https://b-oidc.s3.eu-west-1.amazonaws.com');
    expect(bucketIssuerUrl('b-oidc', 'cn-north-1', 'aws-cn')).toBe('https://b-oidc.s3.cn-north-1.amazonaws.com.cn');
    expect(bucketOfIssuer('https://b-oidc.s3.eu-west-1.amazonaws.com')).toEqual({ bucket: 'b-oidc', region: 'eu-west-1' });
    expect(bucketOfIssuer('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC')).toBeUndefined();
    expect(() => bucketIssuerUrl('b', 'us-iso-east-1', 'aws-iso')).toThrow(InputError);
  });

  it("writes ccoctl's discovery document", () => {
    const doc = JSON.parse(discoveryDocument('https://b.s3.eu-west-1.amazonaws.com')) as Record<string, unknown>;
    expect(doc).toEqual({
      issuer: 'https://b.s3.eu-west-1.amazonaws.com',
      jwks_uri: 'https://b.s3.eu-west-1.amazonaws.com/keys.json',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'exp', 'sub', 'iat', 'iss', 'sub'],
    });
  });

  it('keeps the statements of a bucket policy that are not ours, and grants only the two documents', () => {
    const other = { Sid: 'Theirs', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' };
    const p = bucketPolicyWithOurs(JSON.stringify({ Version: '2012-10-17', Statement: [other] }), 'b', 'aws');
    expect(p.Statement[0]).toEqual(other);
    expect(p.Statement[1]).toMatchObject({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: [`arn:aws:s3:::b/${DISCOVERY_KEY}`, `arn:aws:s3:::b/${KEYS_KEY}`] });
    // Ours is replaced, not duplicated.
    expect(bucketPolicyWithOurs(JSON.stringify(p), 'b', 'aws').Statement).toHaveLength(2);
  });
});

describe('key rotation', () => {
  const now = new Date('2026-11-30T12:00:00Z');

  it("publishes the cluster's keys and keeps a retired one within the grace", () => {
    const m = mergeKeys([key('old')], [key('new')], {}, now);
    expect(m.keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(m).toMatchObject({ added: ['new'], kept: ['old'], dropped: [], retired: { old: now.toISOString() } });
    // An hour later the retirement time is the first one seen, not now.
    const later = mergeKeys(m.keys, [key('new')], m.retired, new Date(now.getTime() + HOUR));
    expect(later).toMatchObject({ added: [], kept: ['old'], retired: { old: now.toISOString() } });
  });

  it('drops a retired key once it has been gone for the grace', () => {
    const m = mergeKeys([key('new'), key('old')], [key('new')], { old: now.toISOString() }, new Date(now.getTime() + 25 * HOUR));
    expect(m).toMatchObject({ keys: [key('new')], dropped: ['old'], kept: [], retired: {} });
  });

  it('replaces a key whose kid now has other material', () => {
    const m = mergeKeys([key('k', 'old-n')], [key('k', 'new-n')], {}, now);
    expect(m.keys).toEqual([key('k', 'new-n')]);
    expect(m.added).toEqual(['k']);
  });

  it('names the kids the published JWKS lacks', () => {
    expect(compareKeys([key('a')], [key('a'), key('b')])).toEqual({ missing: ['b'], extra: [] });
    expect(compareKeys([key('a'), key('old')], [key('a')])).toEqual({ missing: [], extra: ['old'] });
    expect(compareKeys([key('a', 'x')], [key('a', 'y')]).missing).toEqual(['a']);
  });
});

describe('plan and apply', () => {
  const input = { bucket: 'c1-rhacs-sts-oidc', region: 'eu-west-1', partition: 'aws' as const, clusterName: 'c1', clusterKeys: [key('k1')], now: new Date('2026-11-30T12:00:00Z') };

  it('creates everything in a fresh account, then a second run changes nothing', async () => {
    const s3 = memoryS3();
    const plan = planPublish(await readBucket(s3, input.bucket), input);
    expect(plan.blockers).toEqual([]);
    expect(plan.issuer).toBe('https://c1-rhacs-sts-oidc.s3.eu-west-1.amazonaws.com');
    expect(plan.steps.map((s) => [s.id, s.status])).toEqual([
      ['bucket', 'create'],
      ['bucket-tags', 'create'],
      ['public-access-block', 'create'],
      ['bucket-policy', 'create'],
      ['discovery', 'create'],
      ['keys', 'create'],
    ]);
    await applyPublish(s3, plan);
    expect(s3.writes).toEqual(['CreateBucket', 'PutBucketTagging', 'PutPublicAccessBlock', 'PutBucketPolicy', `PutObject ${DISCOVERY_KEY}`, `PutObject ${KEYS_KEY}`]);
    expect(s3.buckets.get(input.bucket)!.tags).toEqual({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'c1' });
    s3.writes.length = 0;
    const again = planPublish(await readBucket(s3, input.bucket), input);
    expect(again.steps.every((s) => s.status === 'unchanged')).toBe(true);
    expect(await applyPublish(s3, again)).toEqual([]);
    expect(s3.writes).toEqual([]);
  });

  it('Ctrl-C finishes the step in progress and starts no other, saying what was done', async () => {
    const s3 = memoryS3();
    const plan = planPublish(await readBucket(s3, input.bucket), input);
    const controller = new AbortController();
    const done: PublishStepId[] = [];
    // The interrupt arrives while the second step is under way.
    const err = await applyPublish(s3, plan, () => { if (done.length === 1) controller.abort(); }, controller.signal, done).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).message).toBe('Interrupted: the step in progress was finished; no further step was started. Done before the interruption: bucket, bucket-tags.');
    expect((err as CancelledError).hint).toMatch(/Re-running "rhacs-sts issuer publish" resumes/);
    expect(s3.writes).toEqual(['CreateBucket', 'PutBucketTagging']);
    expect(done).toEqual(['bucket', 'bucket-tags']);
  });

  it('after a rotation rewrites only the keys, keeping the old one and recording when it retired', async () => {
    const s3 = memoryS3();
    await applyPublish(s3, planPublish(await readBucket(s3, input.bucket), input));
    s3.writes.length = 0;
    const rotated = { ...input, clusterKeys: [key('k2')] };
    const plan = planPublish(await readBucket(s3, input.bucket), rotated);
    expect(plan.steps.filter((s) => s.status !== 'unchanged').map((s) => s.id)).toEqual(['keys']);
    expect(plan.steps.find((s) => s.id === 'keys')!.summary).toMatch(/add k2; keep retired k1/);
    await applyPublish(s3, plan);
    expect(s3.writes).toEqual([`PutObject ${KEYS_KEY}`]);
    const stored = s3.buckets.get(input.bucket)!.objects.get(KEYS_KEY)!;
    expect((JSON.parse(stored.body) as { keys: Jwk[] }).keys.map((k) => k.kid)).toEqual(['k2', 'k1']);
    expect(stored.metadata[RETIRED_META]).toBe(`k1=${input.now.toISOString()}`);
    // Idempotent while within the grace; the old key goes after it.
    expect(planPublish(await readBucket(s3, input.bucket), rotated).steps.every((s) => s.status === 'unchanged')).toBe(true);
    const dayLater = planPublish(await readBucket(s3, input.bucket), { ...rotated, now: new Date(input.now.getTime() + 25 * HOUR) });
    expect(dayLater.keys.dropped).toEqual(['k1']);
  });

  it("does not rewrite documents that differ only in formatting (a ccoctl bucket, adopted)", async () => {
    const s3 = memoryS3();
    await s3.createBucket(input.bucket, 'eu-west-1');
    const issuer = 'https://c1-rhacs-sts-oidc.s3.eu-west-1.amazonaws.com';
    await s3.putObject(input.bucket, DISCOVERY_KEY, JSON.stringify(JSON.parse(discoveryDocument(issuer))), { contentType: 'application/json' });
    await s3.putObject(input.bucket, KEYS_KEY, JSON.stringify({ keys: [key('k1')] }), { contentType: 'application/json' });
    const plan = planPublish(await readBucket(s3, input.bucket), { ...input, adopt: true });
    expect(plan.steps.filter((s) => s.id === 'discovery' || s.id === 'keys').map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
  });

  it('refuses a bucket it does not own unless adopted, someone else’s bucket, and a bucket in another region', async () => {
    const s3 = memoryS3();
    await s3.createBucket(input.bucket, 'eu-west-1');
    await s3.putBucketTags(input.bucket, { team: 'x' });
    const st = await readBucket(s3, input.bucket);
    expect(planPublish(st, input).blockers[0]!.message).toMatch(/not created by rhacs-sts/);
    const adopted = planPublish(st, { ...input, adopt: true });
    expect(adopted.blockers).toEqual([]);
    expect(adopted.desired.tags).toEqual({ team: 'x', 'rhacs-sts/adopted': 'true', 'rhacs-sts/cluster': 'c1' });
    const forbidden: BucketState = { ...st, access: 'forbidden', tags: {} };
    expect(planPublish(forbidden, input).blockers[0]!.message).toMatch(/belongs to someone else/);
    await s3.putBucketTags(input.bucket, { 'rhacs-sts/managed': 'true' });
    expect(planPublish(await readBucket(s3, input.bucket), { ...input, region: 'us-east-1' }).blockers[0]!.message).toMatch(/is in eu-west-1, not in us-east-1/);
    expect(() => planPublish(st, { ...input, bucket: 'Bad.Name' })).toThrow(InputError);
  });
});

describe('uninstall', () => {
  const base: BucketState = { bucket: 'b', access: 'ok', region: 'eu-west-1', tags: { 'rhacs-sts/managed': 'true' }, publicAccessBlock: null, policy: null, discovery: null, keys: null, objectKeys: [DISCOVERY_KEY, KEYS_KEY] };

  it('removes the documents and our bucket when no role trusts the provider', () => {
    expect(planUnpublish(base, [])).toEqual({ deleteObjects: [DISCOVERY_KEY, KEYS_KEY], deleteBucket: true, notes: [] });
  });
  it('keeps everything while a role trusts the provider, and never touches a bucket not ours', () => {
    expect(planUnpublish(base, ['other-role'])).toMatchObject({ deleteObjects: [], deleteBucket: false, notes: [expect.stringMatching(/other-role/)] });
    expect(planUnpublish({ ...base, tags: { 'rhacs-sts/adopted': 'true' } }, [])).toMatchObject({ deleteObjects: [], deleteBucket: false, notes: [expect.stringMatching(/adopted/)] });
  });
  it('keeps a bucket holding objects it did not write', () => {
    expect(planUnpublish({ ...base, objectKeys: [...base.objectKeys, 'other.txt'] }, [])).toMatchObject({ deleteObjects: [DISCOVERY_KEY, KEYS_KEY], deleteBucket: false });
  });
});

describe("verify: the public keys against the cluster's", () => {
  const OCP = 'https://b-oidc.s3.eu-west-1.amazonaws.com';
  const w = { cluster: { provider: 'openshift' as const, issuer: OCP, namespace: 'stackrox', components: ['central' as const], installMethod: 'manifests' as const }, multi: false };
  const pub = (keys: Jwk[]) => ({ reachable: true as const, url: `${OCP}/.well-known/openid-configuration`, issuer: OCP, jwksUri: `${OCP}/keys.json`, keys });

  it('fails naming the kid the cluster signs with when the bucket lacks it, pointing at issuer publish', () => {
    const r = issuerPublicCheck(w, pub([key('k1')]), [key('k2'), key('k1')], ['k2']);
    expect(r).toMatchObject({ result: 'fail', detail: expect.stringMatching(/signs its tokens with the key k2, which the public JWKS .*keys\.json lacks/), fix: expect.stringMatching(/rhacs-sts issuer publish/) });
  });
  it('fails too when the kid is published with other key material', () => {
    expect(issuerPublicCheck(w, pub([key('k2', 'stale')]), [key('k2')], ['k2']).result).toBe('fail');
  });
  it('passes when every key is published, retired keys included', () => {
    expect(issuerPublicCheck(w, pub([key('k2'), key('k1')]), [key('k2')], ['k2']).result).toBe('pass');
  });
});
