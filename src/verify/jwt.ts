/**
 * The parts of a service-account token that verify looks at without printing it: the header's
 * key id and algorithm, and whether a published key verifies its signature (as AWS does with the
 * issuer's JWKS before it trusts the claims).
 */
import { constants, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import type { Jwk } from '../kube/session.js';

export interface JwtHeader {
  alg?: string;
  kid?: string;
  typ?: string;
}

export function decodeJwtHeader(token: string): JwtHeader {
  const part = token.split('.')[0];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JwtHeader;
}

/**
 * True when `jwk` verifies the token's signature, false when it does not; undefined when the
 * algorithm or key type is one we cannot check.
 */
export function verifiesSignature(token: string, jwk: Jwk): boolean | undefined {
  const [h, p, sig] = token.split('.');
  if (!h || !p || sig === undefined) return false;
  let alg: string | undefined;
  try {
    alg = decodeJwtHeader(token).alg;
  } catch {
    return false;
  }
  let key;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  const bits = /^(?:RS|PS|ES)(256|384|512)$/.exec(alg ?? '')?.[1];
  if (!bits) return undefined;
  const hash = `sha${bits}`;
  try {
    if (alg!.startsWith('RS')) return verify(hash, data, key, signature);
    if (alg!.startsWith('PS')) return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }, signature);
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
