// Minimal JWT helpers for tests: decode a service-account token and verify its signature against a
// JWKS document (as an OIDC relying party such as AWS STS would).
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

export interface DecodedJwt {
  header: { alg: string; kid?: string; typ?: string };
  payload: {
    iss: string;
    sub: string;
    aud: string | string[];
    exp: number;
    iat: number;
    nbf?: number;
    'kubernetes.io'?: { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string } };
    [k: string]: unknown;
  };
  signingInput: string;
  signature: Buffer;
}

export function decodeJwt(token: string): DecodedJwt {
  const [h, p, sig] = token.split('.');
  if (h === undefined || p === undefined || sig === undefined || token.split('.').length !== 3) {
    throw new Error('not a JWT (expected three dot-separated parts)');
  }
  const json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return {
    header: json(h),
    payload: json(p),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(sig, 'base64url'),
  };
}

/** Verifies an RS256/ES256 JWT against the key with its `kid` in `jwks`. Returns the decoded token. */
export function verifyJwt(token: string, jwks: { keys: (JsonWebKey & { kid?: string })[] }): DecodedJwt {
  const jwt = decodeJwt(token);
  const jwk = jwks.keys.find((k) => k.kid === jwt.header.kid);
  if (!jwk) throw new Error(`no key with kid ${jwt.header.kid} in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const algs: Record<string, { hash: string; dsaEncoding?: 'ieee-p1363' }> = {
    RS256: { hash: 'sha256' },
    ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  };
  const alg = algs[jwt.header.alg];
  if (!alg) throw new Error(`unsupported JWT alg ${jwt.header.alg}`);
  const ok = verify(alg.hash, Buffer.from(jwt.signingInput), { key, dsaEncoding: alg.dsaEncoding }, jwt.signature);
  if (!ok) throw new Error('JWT signature does not verify against the JWKS');
  return jwt;
}
