/**
 * The OIDC provider thumbprint, as IAM defines it: the SHA-1 of the top intermediate CA certificate
 * of the host that serves the keys (the `jwks_uri` host, which may differ from the issuer's) —
 * the last certificate in the chain that host sends. Never a leaf: a leaf changes at every renewal,
 * and pinning it would break the trust then. A host that sends only its leaf gets no thumbprint
 * (IAM then takes the intermediate itself).
 *
 * IAM has not needed it since 2024 for hosts whose certificate chains to a CA it trusts (every EKS
 * issuer, ccoctl's S3 buckets); it falls back to it for other hosts, and retrieves it itself when
 * none is given. So anything short of a clear answer here means "omit it", never an error.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { connectAddress, type ConnectTo } from '../net/https.js';

export interface ThumbprintOptions {
  connectTo?: readonly ConnectTo[];
  timeoutMs?: number;
}

export type ThumbprintResult =
  | { thumbprint: string; host: string }
  /** Why there is none (the host answered, but not with a CA above its leaf). */
  | { omitted: string; host: string }
  | { error: string; host: string };

/** The chain as the host sent it, leaf first (Node links each certificate to its issuer within it). */
export function sentChain(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
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

export function jwksThumbprint(jwksUri: string, o: ThumbprintOptions = {}): Promise<ThumbprintResult> {
  const url = new URL(jwksUri);
  const host = url.hostname;
  const to = connectAddress(o.connectTo ?? [], host, url.port ? Number(url.port) : 443);
  const timeoutMs = o.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<ThumbprintResult, 'host'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, host } as ThumbprintResult);
    };
    const socket = connect({
      host: to.host,
      port: to.port,
      servername: host,
      // The thumbprint is of the chain the host *sends* (as "openssl s_client -showcerts" shows it).
      // With Node's trust store in play, Node would append the root from the store to the chain; an
      // empty CA list keeps it to what was sent. The keys were already fetched from this host over
      // a verified connection (see public.ts); IAM checks the certificate itself.
      rejectUnauthorized: false,
      ca: [],
    });
    const timer = setTimeout(() => done({ error: `no TLS answer from ${host} within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true);
      if (!leaf || !leaf.raw) return done({ error: `${host} presented no certificate` });
      const chain = sentChain(leaf);
      const top = chain[chain.length - 1]!;
      if (chain.length === 1 || !new X509Certificate(top.raw).ca) {
        return done({ omitted: `${host} sends only its own certificate, not the CA certificate that issued it` });
      }
      done({ thumbprint: sha1Thumbprint(top.raw) });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done({ error: `${host}: ${err.code ?? err.message}` }));
  });
}
