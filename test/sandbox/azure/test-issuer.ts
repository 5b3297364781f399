// A cluster's service-account issuer for the Azure stand-ins' tests: an RSA key, its discovery
// document and JWKS served through a `fetchPublic` as the internet would, and tokens signed with it.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface TestIssuer {
  /** The issuer exactly as tokens carry it (AKS's ends in `/`). */
  issuer: string;
  fetchPublic(url: string): Promise<{ status: number; body: string }>;
  /** A token for `system:serviceaccount:<ns>:<sa>` (or `claims` overrides), valid for an hour from `nowS`. */
  token(o: { subject?: string; audience?: string; nowS?: number; claims?: Record<string, unknown>; key?: KeyObject }): string;
  /** Where the documents were fetched from. */
  fetched: string[];
}

export function testIssuer(issuer: string): TestIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const base = issuer.replace(/\/+$/, '');
  const jwksUri = `${base}/openid/v1/jwks`;
  const fetched: string[] = [];
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    issuer,
    fetched,
    fetchPublic: async (url) => {
      fetched.push(url);
      if (url === `${base}/.well-known/openid-configuration`) return { status: 200, body: JSON.stringify({ issuer, jwks_uri: jwksUri, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] }) };
      if (url === jwksUri) return { status: 200, body: JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: jwk.n, e: jwk.e }] }) };
      return { status: 404, body: '{}' };
    },
    token: ({ subject = 'system:serviceaccount:stackrox:central', audience = 'api://AzureADTokenExchange', nowS = Math.floor(Date.now() / 1000), claims = {}, key = privateKey }) => {
      const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' })).toString('base64url');
      const p = Buffer.from(JSON.stringify({ iss: issuer, sub: subject, aud: [audience], iat: nowS, nbf: nowS, exp: nowS + 3600, ...claims })).toString('base64url');
      return `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), key).toString('base64url')}`;
    },
  };
}

