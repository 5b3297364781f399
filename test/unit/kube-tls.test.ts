// The cluster's certificate is checked: a kubeconfig cluster with insecure-skip-tls-verify is
// refused before anything is sent (exit 2, naming the flag), accepted with
// --allow-insecure-skip-tls-verify and a warning, and NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn
// the check off. An HTTPS server on 127.0.0.1 plays the API server and records what it received.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openKubeSession } from '../../src/kube/client.js';

let dir: string;
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-kube-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const ca of ['cluster-ca', 'other-ca']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'other-ca.pem', '-CAkey', 'other-ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An API server (certificate from other-ca) that answers /apis; records the Authorization headers it got. */
async function apiServer(fn: (server: string, auth: string[]) => Promise<void>): Promise<void> {
  const auth: string[] = [];
  const s = createServer({ key: read('leaf.key'), cert: read('leaf.pem') }, (req, res) => {
    auth.push(String(req.headers.authorization ?? ''));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] }));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  try {
    await fn(`https://127.0.0.1:${(s.address() as { port: number }).port}`, auth);
  } finally {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
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
        const ca = Buffer.from(read('cluster-ca.pem')).toString('base64');
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
        const ca = Buffer.from(read('cluster-ca.pem')).toString('base64');
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
