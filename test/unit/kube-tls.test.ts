// The cluster's certificate is checked: a kubeconfig cluster with insecure-skip-tls-verify is
// refused before anything is sent (exit 2, naming the flag), accepted with
// --allow-insecure-skip-tls-verify and a warning, and NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn
// the check off. An HTTPS server on 127.0.0.1 plays the API server and records what it received.
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openKubeSession } from '../../src/kube/client.js';
import { createTestPki, withServer, type TestPki } from '../sandbox/tls-servers.js';

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = createTestPki('rhacs-sts-kube-tls');
  dir = pki.dir;
  pki.ca('cluster-ca');
  pki.serving('other-ca');
});
afterAll(() => pki.remove());

/** An API server (certificate from other-ca) that answers /apis; records the Authorization headers it got. */
async function apiServer(fn: (server: string, auth: string[]) => Promise<void>): Promise<void> {
  const auth: string[] = [];
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    auth.push(String(req.headers.authorization ?? ''));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] }));
  };
  await withServer(pki.serving('other-ca'), answer, (s) => fn(s.url, auth));
}

function kubeconfig(name: string, server: string, cluster: string): string {
  const p = join(dir, name);
  writeFileSync(p, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
${cluster}
users:
- name: u
  user:
    token: secret-bearer-token
contexts:
- name: ctx
  context: { cluster: c, user: u }
current-context: ctx
`);
  return p;
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('kubeconfig clusters and TLS', () => {
  it('refuses insecure-skip-tls-verify before sending anything: exit 2, naming the flag', async () => {
    await apiServer(async (server, auth) => {
      const warnings: string[] = [];
      const err = await failure(openKubeSession({ kubeconfig: kubeconfig('insecure.yaml', server, '    insecure-skip-tls-verify: true') }, () => undefined, { warn: (m) => warnings.push(m) }));
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(2);
      expect((err as InputError).problems).toEqual([{
        source: '--allow-insecure-skip-tls-verify',
        message: expect.stringMatching(new RegExp(`^the cluster of context "ctx" \\(server ${server.replace(/\./g, '\\.')}\\) sets insecure-skip-tls-verify: true in the kubeconfig`)),
      }]);
      expect(auth).toEqual([]);
      expect(warnings).toEqual([]);
    });
  });

  it('uses it with --allow-insecure-skip-tls-verify, and warns', async () => {
    await apiServer(async (server, auth) => {
      const warnings: string[] = [];
      await openKubeSession({ kubeconfig: kubeconfig('allowed.yaml', server, '    insecure-skip-tls-verify: true') }, () => undefined, { allowInsecureSkipTlsVerify: true, warn: (m) => warnings.push(m) });
      expect(auth).toEqual(['Bearer secret-bearer-token']);
      expect(warnings).toEqual([expect.stringMatching(/^TLS verification is off for the cluster of context "ctx" .* accepted with --allow-insecure-skip-tls-verify/)]);
    });
  });

  it('checks the certificate against the kubeconfig\'s CA even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await apiServer(async (server, auth) => {
        const ca = Buffer.from(pki.ca('cluster-ca').pem).toString('base64');
        const err = await failure(openKubeSession({ kubeconfig: kubeconfig('wrong-ca.yaml', server, `    certificate-authority-data: ${ca}`) }, () => undefined));
        expect(err).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^Cannot use the Kubernetes cluster of context "ctx"/) });
        expect(String((err as Error).message)).toMatch(/certificate|TLS/i);
        expect(auth).toEqual([]);
      });
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });

  it('checks it on the client\'s other connections too (watches, port-forwards), even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await apiServer(async (server, auth) => {
        const ca = Buffer.from(pki.ca('cluster-ca').pem).toString('base64');
        const session = await openKubeSession({ kubeconfig: kubeconfig('wrong-ca-ws.yaml', server, `    certificate-authority-data: ${ca}`) }, () => undefined, { skipProbe: true });
        // What the Watch and the port-forward WebSocket get from the kubeconfig.
        const opts: Record<string, unknown> = { headers: {} };
        await session.api.kc.applyToHTTPSOptions(opts);
        const err = await new Promise<unknown>((resolve) => {
          get(`${server}/api/v1/pods?watch=true`, opts, (res) => resolve(res.statusCode)).on('error', resolve);
        });
        expect(err).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
        expect(auth).toEqual([]);
      });
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
});
