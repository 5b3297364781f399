import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbprintFromChain } from '../../src/clouds/aws/issuer/thumbprint.js';
import { connectAddress, httpsGet, NetworkError, parseConnectTo, type ConnectTo } from '../../src/net/https.js';

// Real TLS servers on 127.0.0.1 with a generated chain: root CA → intermediate CA → leaf for the
// keys' host (keys.example.test, not the issuer's host: IAM takes the thumbprint where the keys are).
let dir: string;
const KEYS_HOST = 'keys.example.test';
const JWKS_URI = `https://${KEYS_HOST}/oidc/jwks`;
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
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=DNS:${KEYS_HOST}\n`);
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '2', '-subj', '/CN=Test Root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Test Intermediate');
  openssl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '2', '-extfile', 'ca.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${KEYS_HOST}`);
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
  // The same host's certificate signed by the root itself (no intermediate).
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'direct.pem', '-days', '2', '-extfile', 'leaf.ext');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => readFileSync(join(dir, f), 'utf8');

/** A TLS server sending `chain`; records the SNI each client asked for. */
async function withServer(chain: string[], fn: (port: number, sni: string[]) => Promise<void>): Promise<void> {
  const sni: string[] = [];
  const server = createTlsServer({
    key: read('leaf.key'),
    cert: chain.map(read).join(''),
    // Called during the handshake, before the client sees the certificate; no context: the default one.
    SNICallback: (name, cb) => {
      sni.push(name);
      cb(null, undefined);
    },
  }, (s) => {
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"keys":[]}'));
  });
  const port = await listen(server);
  try {
    await fn(port, sni);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

const to = (port: number, host = KEYS_HOST, from = 443): ConnectTo[] => [{ host, port: from, toHost: '127.0.0.1', toPort: port }];
/** The keys fetched over a connection verified against the test root, and the thumbprint from that connection's chain. */
async function thumbprintOf(url: string, connectTo: ConnectTo[]) {
  const res = await httpsGet(url, { connectTo, timeoutMs: 2000, extraCa: [read('root.pem')] });
  expect(res.status).toBe(200);
  return thumbprintFromChain(new URL(url).hostname, res.chain);
}

describe('thumbprintFromChain: the jwks_uri host, its top intermediate CA, from the verified connection, never a leaf', () => {
  it('takes the top intermediate of the chain the keys were fetched over, asking for that host', async () => {
    await withServer(['leaf.pem', 'int.pem'], async (port, sni) => {
      expect(await thumbprintOf(JWKS_URI, to(port))).toEqual({ thumbprint: sha1(read('int.pem')), host: KEYS_HOST });
      expect(sha1(read('int.pem'))).toMatch(/^[0-9a-f]{40}$/);
      expect(sni).toEqual([KEYS_HOST]);
    });
  });

  it('takes the top intermediate, not the root, when the host sends the root too', async () => {
    await withServer(['leaf.pem', 'int.pem', 'root.pem'], async (port) => {
      expect(await thumbprintOf(JWKS_URI, to(port))).toEqual({ thumbprint: sha1(read('int.pem')), host: KEYS_HOST });
    });
  });

  it('omits it, saying why, when a root signs the host\'s own certificate (no intermediate; a leaf changes at every renewal)', async () => {
    await withServer(['direct.pem'], async (port) => {
      const r = await thumbprintOf(JWKS_URI, to(port));
      expect(r).toEqual({ omitted: `${KEYS_HOST} sends only its own certificate, not the CA certificate that issued it`, host: KEYS_HOST });
      expect(JSON.stringify(r)).not.toContain(sha1(read('direct.pem')));
    });
  });

  it('honours a port in the jwks_uri', async () => {
    await withServer(['leaf.pem', 'int.pem'], async (port) => {
      expect(await thumbprintOf(`https://${KEYS_HOST}:8443/jwks`, to(port, KEYS_HOST, 8443))).toMatchObject({ thumbprint: sha1(read('int.pem')) });
    });
  });

  it('never reads a chain without verifying it: an unknown CA gives no chain and no thumbprint, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await withServer(['leaf.pem', 'int.pem'], async (port) => {
        const err = await httpsGet(JWKS_URI, { connectTo: to(port), timeoutMs: 2000 }).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(NetworkError);
        expect((err as NetworkError).code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      });
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });

  it('reports a connection without a certificate as an error, not an exception', () => {
    expect(thumbprintFromChain(KEYS_HOST, undefined)).toEqual({ error: `${KEYS_HOST} presented no certificate`, host: KEYS_HOST });
  });
});

describe('RHACS_STS_CONNECT_TO and httpsGet', () => {
  it('parses curl --connect-to entries and names the bad ones', () => {
    expect(parseConnectTo('oidc.example.com:443:127.0.0.1:8443, Keys.Example.com:443:10.0.0.1:443')).toEqual({
      value: [
        { host: 'oidc.example.com', port: 443, toHost: '127.0.0.1', toPort: 8443 },
        { host: 'keys.example.com', port: 443, toHost: '10.0.0.1', toPort: 443 },
      ],
      errors: [],
    });
    expect(parseConnectTo('')).toEqual({ value: [], errors: [] });
    expect(parseConnectTo('a:443:b, x:y:z:1, a:0:b:1').errors).toEqual([
      '"a:443:b" is not host:port:address:port (as curl\'s --connect-to, e.g. oidc.example.com:443:127.0.0.1:8443)',
      '"x:y:z:1" is not host:port:address:port (as curl\'s --connect-to, e.g. oidc.example.com:443:127.0.0.1:8443)',
      '"a:0:b:1" is not host:port:address:port (as curl\'s --connect-to, e.g. oidc.example.com:443:127.0.0.1:8443)',
    ]);
  });

  it('connects elsewhere only for the listed host and port', () => {
    const list = to(9000);
    expect(connectAddress(list, KEYS_HOST, 443)).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(connectAddress(list, 'KEYS.example.test', 443)).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(connectAddress(list, KEYS_HOST, 8443)).toEqual({ host: KEYS_HOST, port: 8443 });
    expect(connectAddress(list, 'other.example.test', 443)).toEqual({ host: 'other.example.test', port: 443 });
  });

  it('checks the certificate against the trusted CAs for the URL\'s host: an unknown CA answers nothing', async () => {
    await withServer(['leaf.pem', 'int.pem'], async (port, sni) => {
      const err = await httpsGet(JWKS_URI, { connectTo: to(port), timeoutMs: 2000 }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkError);
      expect((err as NetworkError).code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      expect(sni).toEqual([KEYS_HOST]);
    });
  });

  it('refuses anything but https', async () => {
    await expect(httpsGet('http://oidc.example.test/x', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'EPROTO' });
  });
});
