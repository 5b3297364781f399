// The built CLI against hostile servers on 127.0.0.1, with the real sandbox cluster behind it: an AWS
// endpoint that accepts and never answers (or answers an HTML 502), an issuer whose documents point
// at private addresses, and a Central endpoint with a certificate from the wrong CA while
// NODE_TLS_REJECT_UNAUTHORIZED=0. Each run fails cleanly (exit 1, one JSON document with
// --output json), nothing is fetched where the issuer pointed, and no credential is sent.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { createTestPki, withServer, type TestPki } from '../sandbox/tls-servers.js';

const sb = useSandbox();
let pki: TestPki;
let ns: string;
let issuerHost: string;

beforeAll(async () => {
  pki = createTestPki('rhacs-sts-hostile');
  issuerHost = new URL(sb.clusters.eks!.issuer).hostname;
  pki.serving('Hostile Root', [issuerHost]);
  ns = uniqueNamespace('hostile');
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
});
afterAll(() => pki.remove());

type Handler = (req: IncomingMessage, res: ServerResponse, port: number) => void;

/** A server on 127.0.0.1 (HTTPS with the hostile CA's certificate, or plain HTTP); records what it was asked. */
async function hostile(tls: boolean, handler: Handler, fn: (port: number, asked: { path: string; auth: string }[]) => Promise<void>): Promise<void> {
  const asked: { path: string; auth: string }[] = [];
  const record: Handler = (req, res, port) => {
    asked.push({ path: `${req.headers.host}${req.url}`, auth: String(req.headers.authorization ?? '') });
    req.resume();
    handler(req, res, port);
  };
  await withServer(tls ? pki.serving('Hostile Root', [issuerHost]) : undefined, record, (s) => fn(s.port, asked));
}

const plan = (extra: string[], env: Record<string, string>) =>
  cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', `hostile-${ns.slice(-6)}`, ...extra], env);

describe('AWS endpoints that misbehave', () => {
  it('one that accepts and never answers: exit 1 after the bounded attempts, the JSON error naming the call, the endpoint and the bound', async () => {
    await hostile(false, () => undefined, async (port, asked) => {
      const r = await plan(['--output', 'json', '--request-timeout', '1s'], { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
      expect(r.code, r.stderr).toBe(1);
      const doc = JSON.parse(r.stdout) as { error: { message: string; hint: string; exitCode: number } };
      expect(doc.error.exitCode).toBe(1);
      expect(doc.error.message).toMatch(new RegExp(`^AWS did not answer STS\\.GetCallerIdentity at http://127\\.0\\.0\\.1:${port} within 1s \\(5 attempts\\)`));
      expect(doc.error.hint).toMatch(/--request-timeout/);
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(asked.length).toBe(5);
    });
  });

  it('one that answers an HTML 502: the status and the endpoint, not "Unknown: Unknown"', async () => {
    await hostile(false, (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    }, async (port) => {
      const r = await plan([], { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`http://127.0.0.1:${port} answered STS.GetCallerIdentity with HTTP 502 and no AWS error in the body`);
      expect(r.stderr).not.toContain('Unknown');
    });
  });
});

describe('an issuer whose documents point at private addresses', () => {
  const env = (port: number) => ({ RHACS_STS_CONNECT_TO: `${issuerHost}:443:127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: pki.ca('Hostile Root').certPath });

  it('a jwks_uri on 127.0.0.1: the plan stops, and the internal keys are never fetched', async () => {
    await hostile(true, (req, res, port) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url?.endsWith('/.well-known/openid-configuration')
        ? { issuer: sb.clusters.eks!.issuer, jwks_uri: `https://127.0.0.1:${port}/internal-keys` }
        : { keys: [{ kid: 'internal', kty: 'RSA', n: 'AQAB', e: 'AQAB' }] }));
    }, async (port, asked) => {
      const r = await plan([], env(port));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`its jwks_uri https://127.0.0.1:${port}/internal-keys points at 127.0.0.1 is a loopback address`);
      expect(r.stderr).toContain('nothing was changed');
      expect(asked.map((a) => a.path)).toEqual([`${issuerHost}${new URL(sb.clusters.eks!.issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`]);
    });
  });

  it('a redirect to localhost: not followed, and no thumbprint of that host goes into the plan', async () => {
    await hostile(true, (_req, res, port) => {
      res.statusCode = 302;
      res.setHeader('location', `https://localhost:${port}/.well-known/openid-configuration`);
      res.end();
    }, async (port, asked) => {
      const r = await plan(['--output', 'json'], env(port));
      expect(r.code, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).error.message).toContain(`redirects to https://localhost:${port}/.well-known/openid-configuration: localhost is a private or local name`);
      expect(asked).toHaveLength(1);
    });
  });
});

describe('Central at --central-endpoint', () => {
  it('with NODE_TLS_REJECT_UNAUTHORIZED=0 and a certificate from another CA: the admin password is never sent', async () => {
    await hostile(true, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    }, async (port, asked) => {
      const password = 'hostile-test-admin-password';
      const r = await plan(['--configure-integration', '--central-endpoint', `https://127.0.0.1:${port}`], { NODE_TLS_REJECT_UNAUTHORIZED: '0', ROX_ADMIN_PASSWORD: password });
      expect(r.stderr).toMatch(/Central's certificate could not be verified at https:\/\/127\.0\.0\.1:\d+/);
      expect(asked).toEqual([]);
      expect(r.stdout + r.stderr).not.toContain(password);
    });
  });
});
