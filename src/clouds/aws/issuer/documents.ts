/** What the issuer bucket holds: the discovery document, the keys, and the bucket policy that makes both public. */
import { OperationError } from '../../../errors.js';
import type { Jwk } from '../../../kube/session.js';
import type { Partition } from '../../../validate.js';

export const DISCOVERY_KEY = '.well-known/openid-configuration';
export const KEYS_KEY = 'keys.json';
/** Our statement in the bucket policy. */
export const PUBLIC_READ_SID = 'RhacsStsPublicIssuerRead';

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

/** The bucket policy in place (as S3 returned it) says the same as `b`. */
export function samePolicy(a: string | null, b: object): boolean {
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
