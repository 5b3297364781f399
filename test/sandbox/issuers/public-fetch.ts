// A GET of a public URL through the public issuer stand-in, as the internet would serve it: how a
// cloud stand-in (Google STS, Entra) reaches a cluster's issuer documents.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { SandboxInfo } from '../types.js';

export type PublicGet = (url: string) => Promise<{ status: number; body: string }>;

export function publicFetcher(info: Pick<SandboxInfo, 'publicIssuers'>): PublicGet {
  const ca = readFileSync(info.publicIssuers.caCertPath);
  const port = Number(new URL(info.publicIssuers.url).port);
  return (target) =>
    new Promise((resolve, reject) => {
      const u = new URL(target);
      const req = https.get({ host: '127.0.0.1', port, path: `${u.pathname}${u.search}`, servername: u.hostname, headers: { host: u.hostname }, ca, timeout: 5000, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout fetching ${target}`)));
      req.on('error', reject);
    });
}
