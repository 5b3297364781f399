// Throwaway certificates (made by certs.ts) and short-lived servers on 127.0.0.1, for tests that play
// a peer over TLS or plain HTTP: an API server, Central, an issuer's web host, a hostile endpoint.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert, type KeyPair } from './certs.js';

/** A serving certificate and its key, as PEM text. */
export interface ServerTls {
  key: string;
  cert: string;
}

export interface TestCa {
  /** Path of the CA certificate (for NODE_EXTRA_CA_CERTS and --*-ca-file style options). */
  certPath: string;
  /** The CA certificate as PEM text. */
  pem: string;
}

export interface TestPki {
  dir: string;
  /** The CA named `name`, created on first use. */
  ca(name: string): TestCa;
  /** A serving certificate from CA `caName` for `hosts` (DNS names; localhost and 127.0.0.1 always), made once. */
  serving(caName: string, hosts?: string[]): ServerTls;
  /** Deletes the directory and everything in it. */
  remove(): void;
}

/** A throwaway directory (`<tmp>/<prefix>-…`) of test CAs and serving certificates. */
export function createTestPki(prefix: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const cas = new Map<string, KeyPair>();
  const leaves = new Map<string, ServerTls>();
  const caPair = (name: string) => {
    let pair = cas.get(name);
    if (!pair) cas.set(name, (pair = createCa(join(dir, name), name)));
    return pair;
  };
  return {
    dir,
    ca(name) {
      const pair = caPair(name);
      return { certPath: pair.cert, pem: readFileSync(pair.cert, 'utf8') };
    },
    serving(caName, hosts = []) {
      const id = `${caName}|${hosts.join(',')}`;
      let tls = leaves.get(id);
      if (!tls) {
        const sans = [...hosts, 'localhost'].map((h) => `DNS:${h}`).concat('IP:127.0.0.1');
        const pair = issueCert(caPair(caName), join(dir, caName), `leaf-${leaves.size}`, { cn: hosts[0] ?? 'localhost', usage: 'server', sans });
        leaves.set(id, (tls = { key: readFileSync(pair.key, 'utf8'), cert: readFileSync(pair.cert, 'utf8') }));
      }
      return tls;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TestServer {
  port: number;
  /** `https://127.0.0.1:<port>` (or `http://` without TLS). */
  url: string;
}

export type TestHandler = (req: IncomingMessage, res: ServerResponse, port: number) => void;

/**
 * Runs `fn` with a server on 127.0.0.1 (HTTPS with `tls`, plain HTTP without) that answers with
 * `handler`; then closes it, open connections included, whatever `fn` did.
 */
export async function withServer<T>(tls: ServerTls | undefined, handler: TestHandler, fn: (server: TestServer) => Promise<T>): Promise<T> {
  let port = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => handler(req, res, port);
  const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  try {
    return await fn({ port, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}` });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
