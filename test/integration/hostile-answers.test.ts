// Answers a CLI must not trust or print (hostile-servers.test.ts covers bounds, private addresses and TLS).
// Servers that answer with what a CLI must not trust or print, started by the test on 127.0.0.1:
// - an AWS endpoint whose sts:GetCallerIdentity names account "*" (which would have become
//   arn:aws:ecr:*:*:repository/* and arn:aws:iam::*:oidc-provider/…): refused before any IAM call;
// - a Central behind a proxy that echoes the request's headers in its error text: the credential
//   never reaches stderr or the JSON document.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueCert } from '../sandbox/certs.js';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-hostile-'));
const servers: (http.Server | https.Server)[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

async function listen(server: http.Server | https.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('an AWS endpoint answering account "*"', () => {
  const actions: string[] = [];
  let endpoint: string;
  beforeAll(async () => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const action = new URLSearchParams(body).get('Action') ?? `${req.method} ${req.url}`;
        actions.push(action);
        if (action !== 'GetCallerIdentity') {
          res.writeHead(400, { 'content-type': 'text/xml' }).end('<ErrorResponse><Error><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/xml' }).end(
          '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
          + '<Arn>arn:aws:iam::*:user/admin</Arn><UserId>AIDA</UserId><Account>*</Account>'
          + '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
        );
      });
    });
    endpoint = `http://127.0.0.1:${await listen(server)}`;
  });

  it('is refused, naming the field, before any IAM request; nothing is written in the cluster', async () => {
    const ns = uniqueNamespace('hostile-sts');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const k = kubeMark(sb, 'eks');
    const r = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'hostile'], { AWS_ENDPOINT_URL: endpoint });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/AWS answered sts:GetCallerIdentity with values that cannot be used \(Account: "\*" is not an AWS account id/);
    // Nothing was planned with it: no ECR grant or provider ARN for account "*".
    expect(r.stderr).not.toMatch(/arn:aws:ecr:\*:\*|iam::\*:oidc-provider/);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a === 'GetCallerIdentity')).toBe(true);
    expect(await kubeRequests(sb, 'eks', k, { namespace: ns, writesOnly: true })).toEqual([]);
  });
});

describe("a Central whose error text echoes the request's headers", () => {
  const seen: string[] = [];
  let endpoint: string;
  let ns: string;
  const password = 'hunter2-hostile';
  beforeAll(async () => {
    const ca = createCa(join(dir, 'ca'), 'hostile-central-ca');
    const leaf = issueCert(ca, join(dir, 'ca'), 'central', { cn: 'localhost', sans: ['DNS:localhost'], usage: 'server' });
    const server = https.createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      // A proxy in front of Central that reflects what it was sent, credentials included, plus a terminal escape.
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({
        code: 14, message: `upstream failed; request headers: Authorization: ${req.headers.authorization ?? ''}\u001b]0;PWNED\u0007`,
      }));
    });
    endpoint = `https://localhost:${await listen(server)}`;
    ns = uniqueNamespace('hostile-central');
    const kc = kubeConfigFor(sb, 'eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    // Central's CA, as the install keeps it: the client trusts Central's certificate through it.
    const core = kc.makeApiClient(CoreV1Api);
    const body = { metadata: { name: 'central-tls', namespace: ns }, data: { 'ca.pem': Buffer.from(readFileSync(ca.cert)).toString('base64') } };
    await core.deleteNamespacedSecret({ name: 'central-tls', namespace: ns }).catch(() => undefined);
    await core.createNamespacedSecret({ namespace: ns, body });
  });

  it('prints the error with the credential redacted and the escape shown, on stderr and in the JSON document', async () => {
    const r = await cli(sb, 'eks', ['plan', '--configure-integration', '--namespace', ns, '--role-name', 'hostile-central', '--central-endpoint', endpoint, '--output', 'json'], { ROX_ADMIN_PASSWORD: password });
    expect(seen.length, r.stderr).toBeGreaterThan(0);
    const basic = Buffer.from(`admin:${password}`).toString('base64');
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/Authorization: \[redacted\]/);
    expect(all).not.toContain(basic);
    expect(all).not.toContain(basic.slice(0, 12));
    expect(all).not.toContain(password);
    expect(all).not.toMatch(/[\x07\x1b]/);
  });
});
