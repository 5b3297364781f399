/**
 * The OIDC provider thumbprint, as IAM defines it: the SHA-1 of the top intermediate CA certificate
 * of the host that serves the keys (the `jwks_uri` host, which may differ from the issuer's) — the
 * CA certificate just below the root in the chain. Never a leaf: a leaf changes at every renewal,
 * and pinning it would break the trust then. A host whose certificate a root signs directly has no
 * intermediate, so no thumbprint (IAM then takes one itself).
 *
 * It is taken from the very connection that fetched the keys, whose chain Node has verified (see
 * public.ts): never from a second, unverified connection, which could reach another server.
 *
 * IAM has not needed it since 2024 for hosts whose certificate chains to a CA it trusts (every EKS
 * issuer, ccoctl's S3 buckets); it falls back to it for other hosts, and retrieves it itself when
 * none is given. So anything short of a clear answer here means "omit it", never an error.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';

export type ThumbprintResult =
  | { thumbprint: string; host: string }
  /** Why there is none (the host answered, but not with a CA above its leaf). */
  | { omitted: string; host: string }
  | { error: string; host: string };

/** The verified chain, leaf first (Node links each certificate to its issuer, up to the root). */
export function verifiedChain(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const chain = [leaf];
  const seen = new Set([leaf.fingerprint256]);
  let cert = leaf;
  // A self-signed root links to itself; 20 is far beyond any real chain.
  for (let i = 0; i < 20 && cert.issuerCertificate && !seen.has(cert.issuerCertificate.fingerprint256); i++) {
    cert = cert.issuerCertificate;
    seen.add(cert.fingerprint256);
    chain.push(cert);
  }
  return chain;
}

export function sha1Thumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

/** The thumbprint of `host` from the chain of a verified connection to it (see HttpsResponse.chain). */
export function thumbprintFromChain(host: string, leaf: DetailedPeerCertificate | undefined): ThumbprintResult {
  if (!leaf?.raw) return { error: `${host} presented no certificate`, host };
  const chain = verifiedChain(leaf).map((c) => ({ c, x: new X509Certificate(c.raw) }));
  // Everything above the leaf that is a CA and not a self-signed root: the top one is IAM's.
  const intermediates = chain.slice(1).filter(({ x }) => x.ca && !(x.issuer === x.subject && x.checkIssued(x)));
  const top = intermediates[intermediates.length - 1];
  if (!top) return { omitted: `${host} sends only its own certificate, not the CA certificate that issued it`, host };
  return { thumbprint: sha1Thumbprint(top.c.raw), host };
}
