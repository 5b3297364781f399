// Central's API at --central-endpoint against hostile HTTPS servers on 127.0.0.1: credentials go
// only over a verified connection (whatever NODE_TLS_REJECT_UNAUTHORIZED says), NODE_EXTRA_CA_CERTS
// is trusted as the error hint promises, and every answer is bounded in time and size.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralAnswerError, openCentral, type OpenCentralOptions } from '../../src/central/client.js';
import { OperationError } from '../../src/errors.js';
import type { KubeSession } from '../../src/kube/session.js';
import { createTestPki, withServer, type TestPki } from '../sandbox/tls-servers.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki('rhacs-sts-central');
  for (const ca of ['central-ca', 'other-ca']) pki.serving(ca);
});
afterAll(() => pki.remove());

/** A kube session whose only use here is Central's CA (Secret central-tls, ca.pem). */
const kube = () => ({
  api: { optional: async () => ({ data: { 'ca.pem': Buffer.from(pki.ca('central-ca').pem).toString('base64') } }) },
}) as unknown as KubeSession;

/** An HTTPS server on 127.0.0.1 with a certificate from `ca`; records the Authorization headers it received. */
async function server(ca: string, handler: (req: IncomingMessage, res: ServerResponse) => void, fn: (endpoint: string, auth: string[]) => Promise<void>): Promise<void> {
  const auth: string[] = [];
  const record = (req: IncomingMessage, res: ServerResponse) => {
    auth.push(String(req.headers.authorization ?? ''));
    handler(req, res);
  };
  await withServer(pki.serving(ca), record, (s) => fn(s.url, auth));
}

const open = (endpoint: string, extra: Partial<OpenCentralOptions> = {}) => openCentral({
  kube: kube(), namespace: 'stackrox', endpoint, log: () => undefined,
  credentials: { kind: 'password', password: 'admin-secret', source: 'ROX_ADMIN_PASSWORD' }, ...extra,
});
const metadata = (res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"version":"4.7.2"}');
};
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('Central at --central-endpoint: TLS is never skipped', () => {
  it('never sends the admin password to a certificate from another CA, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await server('other-ca', (_req, res) => metadata(res), async (endpoint, auth) => {
        const err = await failure((await open(endpoint)).metadata());
        expect(err).toBeInstanceOf(OperationError);
        expect((err as OperationError).message).toMatch(new RegExp(`^Central's certificate could not be verified at ${endpoint.replace(/\./g, '\\.')}`));
        expect(auth).toEqual([]);
      });
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });

  it('trusts Central\'s own CA', async () => {
    await server('central-ca', (_req, res) => metadata(res), async (endpoint, auth) => {
      expect(await (await open(endpoint)).metadata()).toEqual({ version: '4.7.2' });
      expect(auth).toEqual([`Basic ${Buffer.from('admin:admin-secret').toString('base64')}`]);
    });
  });

  it('trusts the CAs NODE_EXTRA_CA_CERTS names, as the hint says', async () => {
    await server('other-ca', (_req, res) => metadata(res), async (endpoint) => {
      const err = await failure((await open(endpoint)).metadata());
      expect((err as OperationError).hint).toMatch(/NODE_EXTRA_CA_CERTS/);
      expect(await (await open(endpoint, { extraCaFile: pki.ca('other-ca').certPath })).metadata()).toEqual({ version: '4.7.2' });
    });
  });
});

describe('Central\'s answers are bounded', () => {
  it('gives up at the total deadline on a server sending a byte at a time', async () => {
    await server('central-ca', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    }, async (endpoint) => {
      const err = await failure((await open(endpoint, { timeoutMs: 500 })).metadata());
      expect(err).toBeInstanceOf(CentralAnswerError);
      expect((err as CentralAnswerError).message).toBe(`Central at ${endpoint} did not complete its answer within 0.5s.`);
    });
  });

  it('stops reading an answer past the size cap, with a typed error naming the endpoint and the cap', async () => {
    await server('central-ca', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', more);
        else res.end();
      };
      more();
    }, async (endpoint) => {
      const err = await failure((await open(endpoint, { maxBytes: 1024 * 1024 })).metadata());
      expect(err).toBeInstanceOf(CentralAnswerError);
      expect((err as CentralAnswerError).message).toBe(`Central's answer at ${endpoint} is larger than 1 MiB, far beyond what its API sends: rhacs-sts stopped reading it.`);
    });
  });
});
