// The issuer rule for every host the CLI fetches from on the issuer's word (its jwks_uri, every
// redirect, the host the thumbprint comes from), and the bounds of each fetch: hostile HTTPS
// servers on 127.0.0.1, reached for public-looking names through the explicit connect-to mapping.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPublicIssuer, publicGetter } from '../../src/clouds/aws/issuer/public.js';
import { nonPublicAddress, nonPublicHost, type Resolver } from '../../src/net/guard.js';
import { httpsGet, NetworkError, type ConnectTo } from '../../src/net/https.js';
import { createTestPki, withServer, type TestPki } from '../sandbox/tls-servers.js';

let pki: TestPki;
const ISSUER_HOST = 'issuer.example.test';
const REDIRECT_HOST = 'moved.example.test';
const KEYS_HOST = 'keys.example.test';

const HOSTS = [ISSUER_HOST, REDIRECT_HOST, KEYS_HOST];
beforeAll(() => {
  pki = createTestPki('rhacs-sts-guard');
  pki.serving('Guard Root', HOSTS);
});
afterAll(() => pki.remove());
const root = () => pki.ca('Guard Root').pem;

/** A hostile HTTPS server on 127.0.0.1; records every path asked for. */
async function hostile(handler: (req: IncomingMessage, res: ServerResponse, port: number) => void, fn: (port: number, asked: string[]) => Promise<void>): Promise<void> {
  const asked: string[] = [];
  const record = (req: IncomingMessage, res: ServerResponse, port: number) => {
    asked.push(`${req.headers.host}${req.url}`);
    handler(req, res, port);
  };
  await withServer(pki.serving('Guard Root', HOSTS), record, (s) => fn(s.port, asked));
}

const mapped = (port: number, ...hosts: string[]): ConnectTo[] => hosts.map((host) => ({ host, port: 443, toHost: '127.0.0.1', toPort: port }));

describe('the issuer rule: which hosts are not public', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.8.9.1', 'loopback'], ['::1', 'loopback'], ['[::1]', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'], ['169.254.170.2', 'link-local (cloud metadata)'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['fd00:ec2::254', 'unique-local (incl. cloud metadata)'], ['fc00::1', 'unique-local (incl. cloud metadata)'],
    ['100.100.100.200', 'shared (carrier-grade NAT, cloud metadata)'], ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'link-local (cloud metadata)'], ['64:ff9b::a00:1', 'private'],
  ])('%s is %s', (ip, kind) => {
    expect(nonPublicAddress(ip)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '172.15.255.255', '169.253.1.1', '2600:1f18::1', '::ffff:8.8.8.8', 'oidc.example.com'])('%s is public (or no address)', (ip) => {
    expect(nonPublicAddress(ip)).toBeUndefined();
  });

  it('checks names by their kind and address literals by their range', () => {
    expect(nonPublicHost('localhost')).toMatch(/private or local name/);
    expect(nonPublicHost('metadata.google.internal')).toMatch(/private or local name/);
    expect(nonPublicHost('kubernetes.default.svc')).toMatch(/private or local name/);
    expect(nonPublicHost('[fe80::1]')).toBe('fe80::1 is a link-local address');
    expect(nonPublicHost('169.254.169.254')).toBe('169.254.169.254 is a link-local (cloud metadata) address');
    expect(nonPublicHost('oidc.eks.eu-west-1.amazonaws.com')).toBeUndefined();
    expect(nonPublicHost('52.94.1.1')).toBeUndefined();
  });
});

describe('a hostile issuer cannot steer the CLI to private addresses', () => {
  it('refuses a jwks_uri on a loopback address, and never fetches it', async () => {
    await hostile((req, res, port) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/.well-known/openid-configuration'
        ? { issuer: `https://${ISSUER_HOST}`, jwks_uri: `https://127.0.0.1:${port}/internal-keys` }
        : { keys: [{ kid: 'internal' }] }));
    }, async (port, asked) => {
      const connectTo = mapped(port, ISSUER_HOST);
      const r = await fetchPublicIssuer(`https://${ISSUER_HOST}`, { get: publicGetter({ connectTo, extraCa: [root()] }), connectTo });
      expect(r).toMatchObject({ reachable: true, error: `its jwks_uri https://127.0.0.1:${port}/internal-keys points at 127.0.0.1 is a loopback address, which AWS cannot reach from the internet; rhacs-sts does not fetch it` });
      expect(r).not.toHaveProperty('thumbprint');
      expect(asked).toEqual([`${ISSUER_HOST}/.well-known/openid-configuration`]);
    });
  });

  it('refuses a redirect to localhost, and never follows it', async () => {
    await hostile((req, res, port) => {
      res.statusCode = 302;
      res.setHeader('location', `https://localhost:${port}/.well-known/openid-configuration`);
      res.end();
    }, async (port, asked) => {
      const connectTo = mapped(port, REDIRECT_HOST);
      const r = await fetchPublicIssuer(`https://${REDIRECT_HOST}`, { get: publicGetter({ connectTo, extraCa: [root()] }), connectTo });
      expect(r).toMatchObject({ reachable: true, error: expect.stringContaining(`redirects to https://localhost:${port}/.well-known/openid-configuration: localhost is a private or local name`) });
      expect(asked).toEqual([`${REDIRECT_HOST}/.well-known/openid-configuration`]);
    });
  });

  it('refuses a public name that resolves to a private address, before connecting', async () => {
    await hostile((_req, res) => res.end('{}'), async (_port, asked) => {
      const resolve: Resolver = (_host, _o, cb) => cb(null, [{ address: '203.0.113.7', family: 4 }, { address: '127.0.0.1', family: 4 }]);
      const err = await httpsGet(`https://${KEYS_HOST}/keys`, { timeoutMs: 2000, resolve }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkError);
      expect(err).toMatchObject({ code: 'ENONPUBLIC', message: `${KEYS_HOST} resolves to 127.0.0.1, a loopback address` });
      expect(asked).toEqual([]);
    });
  });

  it('refuses an address literal outright', async () => {
    await expect(httpsGet('https://169.254.169.254/latest/meta-data/', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ENONPUBLIC', message: expect.stringMatching(/169\.254\.169\.254 is a link-local \(cloud metadata\) address/) });
    await expect(httpsGet('https://[::1]:18444/internal-keys', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ENONPUBLIC' });
  });

  it('takes the thumbprint from the host that served the keys, over the same verified connection', async () => {
    await hostile((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/.well-known/openid-configuration'
        ? { issuer: `https://${ISSUER_HOST}`, jwks_uri: `https://${KEYS_HOST}/keys` }
        : { keys: [{ kid: 'k1' }] }));
    }, async (port) => {
      const connectTo = mapped(port, ISSUER_HOST, KEYS_HOST);
      const r = await fetchPublicIssuer(`https://${ISSUER_HOST}`, { get: publicGetter({ connectTo, extraCa: [root()] }), connectTo });
      // The leaf is signed by the root directly: no intermediate, so none (never the leaf's).
      expect(r).toMatchObject({ reachable: true, keys: [{ kid: 'k1' }], thumbprint: { host: KEYS_HOST, omitted: expect.any(String) } });
    });
  });
});

describe('every fetch is bounded', () => {
  it('gives up on a server sending a byte at a time at the total deadline, though it is never idle', async () => {
    await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    }, async (port) => {
      const err = await httpsGet(`https://${ISSUER_HOST}/.well-known/openid-configuration`, {
        connectTo: mapped(port, ISSUER_HOST), timeoutMs: 1000, deadlineMs: 400, extraCa: [root()],
      }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'ETIMEDOUT', message: `${ISSUER_HOST} did not complete its answer within 400 ms` });
    });
  });

  it('cuts off an answer over the size cap', async () => {
    await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(64 * 1024, 0x20));
    }, async (port) => {
      const url = `https://${ISSUER_HOST}/.well-known/openid-configuration`;
      const err = await httpsGet(url, { connectTo: mapped(port, ISSUER_HOST), timeoutMs: 2000, maxBytes: 1024, extraCa: [root()] }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'E2BIG', message: `${url} answered with more than 1024 bytes` });
    });
  });
});
