import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerThumbprint } from '../../src/aws/thumbprint.js';

// A real TLS server on 127.0.0.1 with a generated chain: root CA → intermediate CA → leaf.
let dir: string;
const sha1 = (pem: string) => createHash('sha1').update(new X509Certificate(pem).raw).digest('hex');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function listen(server: Server | ReturnType<typeof createTlsServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-tls-'));
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:oidc.example.test\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '2', '-subj', '/CN=Test Root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Test Intermediate');
  openssl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '2', '-extfile', 'ca.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=oidc.example.test');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => readFileSync(join(dir, f), 'utf8');

async function withServer(chain: string[], fn: (port: number) => Promise<void>): Promise<void> {
  const server = createTlsServer({ key: read('leaf.key'), cert: chain.map(read).join('') }, (s) => s.end());
  const port = await listen(server);
  try {
    await fn(port);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('issuerThumbprint', () => {
  it('is the SHA-1 of the top certificate the host presents (leaf + intermediate → intermediate)', async () => {
    await withServer(['leaf.pem', 'int.pem'], async (port) => {
      const r = await issuerThumbprint('https://oidc.example.test/id/ABC', { connectHost: '127.0.0.1', port });
      expect(r).toEqual({ thumbprint: sha1(read('int.pem')) });
      expect(sha1(read('int.pem'))).toMatch(/^[0-9a-f]{40}$/);
    });
  });

  it('takes the root when the host sends it too', async () => {
    await withServer(['leaf.pem', 'int.pem', 'root.pem'], async (port) => {
      const r = await issuerThumbprint('https://oidc.example.test', { connectHost: '127.0.0.1', port });
      expect(r).toEqual({ thumbprint: sha1(read('root.pem')) });
    });
  });

  it('takes the leaf when the host presents only the leaf', async () => {
    await withServer(['leaf.pem'], async (port) => {
      const r = await issuerThumbprint('https://oidc.example.test', { connectHost: '127.0.0.1', port });
      expect(r).toEqual({ thumbprint: sha1(read('leaf.pem')) });
    });
  });

  it('reports an unreachable issuer as an error, not an exception', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const r = await issuerThumbprint('https://oidc.example.test', { connectHost: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r).toEqual({ error: 'oidc.example.test: ECONNREFUSED' });
  });

  it('gives up after the timeout when the host never answers TLS', async () => {
    const silent = createServer(() => {});
    const port = await listen(silent);
    try {
      const r = await issuerThumbprint('https://oidc.example.test', { connectHost: '127.0.0.1', port, timeoutMs: 300 });
      expect(r).toEqual({ error: 'no TLS answer from oidc.example.test within 300 ms' });
    } finally {
      silent.close();
    }
  });
});
