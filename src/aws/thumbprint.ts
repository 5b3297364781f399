/**
 * The OIDC provider thumbprint, as eksctl and ccoctl compute it: the SHA-1 fingerprint of the last
 * (top) certificate in the chain that the issuer's host presents over TLS. IAM no longer needs it
 * for issuers with publicly trusted certificates, so failure is a warning, never an error.
 */
import { createHash } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';

export interface ThumbprintOptions {
  /** Port to connect to (443 for real issuers; tests use a local server). */
  port?: number;
  /** Host to connect to instead of the issuer's (tests); SNI still uses the issuer's host. */
  connectHost?: string;
  timeoutMs?: number;
}

export type ThumbprintResult = { thumbprint: string } | { error: string };

export function topCertificate(leaf: DetailedPeerCertificate): DetailedPeerCertificate {
  let cert = leaf;
  const seen = new Set<string>();
  // Node links each certificate to its issuer; a self-signed root links to itself.
  for (let i = 0; i < 20 && cert.issuerCertificate && cert.issuerCertificate !== cert; i++) {
    const fp = cert.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    if (cert.issuerCertificate.fingerprint256 === fp) break;
    cert = cert.issuerCertificate;
  }
  return cert;
}

export function sha1Thumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

export function issuerThumbprint(issuer: string, o: ThumbprintOptions = {}): Promise<ThumbprintResult> {
  const url = new URL(issuer);
  const timeoutMs = o.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ThumbprintResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = connect({
      host: o.connectHost ?? url.hostname,
      port: o.port ?? 443,
      servername: url.hostname,
      // The thumbprint is of the chain the host *presents* (as "openssl s_client -showcerts" shows
      // it, and as eksctl computes it). With Node's trust store in play, Node would append the root
      // from the store to the chain; an empty CA list keeps the chain to what was sent. Trust is
      // IAM's job, not ours, so the connection is not verified here.
      rejectUnauthorized: false,
      ca: [],
    });
    const timer = setTimeout(() => done({ error: `no TLS answer from ${url.hostname} within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true);
      if (!leaf || !leaf.raw) return done({ error: `${url.hostname} presented no certificate` });
      done({ thumbprint: sha1Thumbprint(topCertificate(leaf).raw) });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done({ error: `${url.hostname}: ${err.code ?? err.message}` }));
  });
}
