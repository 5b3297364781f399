// The readiness probe's one GET (processes.ts): plain http, https with the sandbox's CA and a client
// certificate, a self-signed component, and its bounds (body size, time).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueCert } from './certs.js';
import { httpGet } from './processes.js';

let dir: string;
let tls: { ca: Buffer; cert: Buffer; key: Buffer };
let serving: { cert: Buffer; key: Buffer };
const servers: (http.Server | https.Server)[] = [];

async function listen(server: http.Server | https.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-probe-'));
  const ca = createCa(dir);
  const server = issueCert(ca, dir, 'server', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'], usage: 'server' });
  const client = issueCert(ca, dir, 'admin', { cn: 'admin', usage: 'client' });
  tls = { ca: readFileSync(ca.cert), cert: readFileSync(client.cert), key: readFileSync(client.key) };
  serving = { cert: readFileSync(server.cert), key: readFileSync(server.key) };
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('httpGet, the probe of every sandbox server', () => {
  it('reads a plain http answer', async () => {
    const port = await listen(http.createServer((_req, res) => res.writeHead(200).end('{"health":"true"}')));
    expect(await httpGet(`http://127.0.0.1:${port}/health`)).toEqual({ status: 200, body: '{"health":"true"}' });
  });

  it('over https presents the client certificate and trusts only the CA it is given', async () => {
    const port = await listen(https.createServer({ ...serving, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.writeHead(200).end(`hello ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN}`);
    }));
    expect(await httpGet(`https://127.0.0.1:${port}/readyz`, { tls })).toEqual({ status: 200, body: 'hello admin' });
    // Without the CA the server's certificate is refused; a self-signed component is probed with rejectUnauthorized: false.
    await expect(httpGet(`https://127.0.0.1:${port}/readyz`)).rejects.toThrow(/certificate/);
    const selfSigned = await listen(https.createServer(serving, (_req, res) => res.writeHead(503).end('not yet')));
    expect(await httpGet(`https://127.0.0.1:${selfSigned}/healthz`, { tls: { rejectUnauthorized: false } })).toEqual({ status: 503, body: 'not yet' });
  });

  it('gives up on an endless body and on a server that never answers', async () => {
    const endless = await listen(http.createServer((_req, res) => {
      res.writeHead(200);
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const more = () => { while (sent++ < 64 && res.write(chunk)); if (sent < 64) res.once('drain', more); else res.end(); };
      more();
    }));
    await expect(httpGet(`http://127.0.0.1:${endless}/`)).rejects.toThrow(/more than 1048576 bytes/);
    const silent = await listen(http.createServer(() => undefined));
    await expect(httpGet(`http://127.0.0.1:${silent}/`, { timeoutMs: 200 })).rejects.toThrow('timeout');
  });
});
