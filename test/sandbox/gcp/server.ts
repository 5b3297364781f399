// The Google Cloud stand-ins' listeners: one HTTPS server on 127.0.0.1 per Google host (Google's
// clients keep only the origin of their `rootUrl`). Each API request is authenticated, routed to its
// discovery method (discovery.ts), validated, handed to the method's stand-in, and its answer
// validated before it is sent; the OAuth 2.0 token endpoint and the Docker registries are served
// beside them.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { artifactRegistryHandlers, handleDocker } from './artifact-registry.js';
import { authenticate, handleOAuth, OAuthError } from './credentials.js';
import { loadContract, type ApiContract, type GoogleApi } from './discovery.js';
import { gkeHandlers } from './gke.js';
import { GoogleError } from './google-error.js';
import { iamCredentialsHandlers } from './iam-credentials.js';
import { poolHandlers, providerHandlers } from './iam-pools.js';
import { serviceAccountHandlers } from './iam-service-accounts.js';
import { resourceManagerHandlers } from './resource-manager.js';
import { exchange } from './sts.js';
import { decisionOf, send, type GcpWorld, type Handler } from './world.js';

const MAX_BODY = 1024 * 1024;

const API_PREFIXES: Record<string, GoogleApi> = {
  iam: 'iam.v1',
  sts: 'sts.v1',
  iamcredentials: 'iamcredentials.v1',
  cloudresourcemanager: 'cloudresourcemanager.v3',
  container: 'container.v1',
  artifactregistry: 'artifactregistry.v1',
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(req: IncomingMessage, raw: Buffer): Record<string, unknown> {
  if (!raw.length) return {};
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.includes('application/x-www-form-urlencoded')) {
    // Form fields use the proto names (snake_case); JSON uses lowerCamel: Google accepts both.
    return Object.fromEntries([...new URLSearchParams(raw.toString('utf8'))].map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Expected an object.');
  return parsed as Record<string, unknown>;
}

/** The discovery documents of every API the stand-ins play (a missing one is a loud error). */
export function loadContracts(): Map<GoogleApi, ApiContract> {
  return new Map<GoogleApi, ApiContract>(Object.values(API_PREFIXES).map((api) => [api, loadContract(api)]));
}

/** The hosts listening from the start (Docker registries join as repositories are seeded). */
export const HOSTS = [...Object.keys(API_PREFIXES), 'oauth2'];

export class GcpServers {
  private readonly servers = new Map<string, { server: https.Server; origin: string }>();
  private readonly handlers: Record<string, Handler>;

  constructor(
    private readonly w: GcpWorld,
    private readonly contracts: Map<GoogleApi, ApiContract>,
    private readonly tls: { cert: Buffer; key: Buffer },
  ) {
    this.handlers = {
      ...serviceAccountHandlers(w),
      ...poolHandlers(w),
      ...providerHandlers(w),
      ...resourceManagerHandlers(w),
      ...gkeHandlers(w),
      ...artifactRegistryHandlers(w),
      ...iamCredentialsHandlers(w),
    };
    w.origin = (host) => this.servers.get(host)?.origin;
  }

  /** One listener per Google host (the clients keep only the origin of `rootUrl`). */
  private async handle(host: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { record } = this.w;
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const raw = await readBody(req);
    if (host === 'oauth2' && url.pathname === '/token' && req.method === 'POST') return handleOAuth(this.w, req, res, raw);
    if (host.startsWith('docker:')) return handleDocker(this.w, req, res, host.slice('docker:'.length), url.pathname);
    const api = API_PREFIXES[host];
    const contract = api ? this.contracts.get(api) : undefined;
    const m = contract?.route(req.method ?? 'GET', url.pathname);
    if (!contract || !m) {
      record({ method: req.method ?? 'GET', path: url.pathname, methodId: '(none)', decision: 'not-found', status: 404, reason: `no such method on ${host}` });
      res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
      res.end('<!DOCTYPE html><title>Error 404 (Not Found)</title><p>The requested URL was not found on this server.</p>');
      return;
    }
    let caller: string | undefined;
    try {
      // Google authenticates before it reads the request (Google STS takes no credentials).
      if (m.id !== 'sts.token') caller = authenticate(this.w, req);
      const params = contract.parameters(m, url.pathname, url.searchParams);
      const body = parseBody(req, raw);
      contract.checkRequest(m, body);
      if (m.id === 'sts.token') {
        try {
          const { out, principal } = await exchange(this.w, body);
          contract.checkResponse(m, out);
          record({ method: req.method!, path: url.pathname, methodId: m.id, caller: principal, decision: 'allowed', status: 200 });
          return send(res, 200, out);
        } catch (err) {
          if (!(err instanceof OAuthError)) throw err;
          record({ method: req.method!, path: url.pathname, methodId: m.id, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.description });
          return send(res, err.httpStatus, { error: err.error, error_description: err.description });
        }
      }
      const handler = this.handlers[m.id];
      if (!handler) throw new GoogleError('UNIMPLEMENTED', `The sandbox does not implement ${m.id}.`);
      const out = await handler({ method: m, params, body, caller: caller! });
      contract.checkResponse(m, out);
      record({ method: req.method!, path: url.pathname, methodId: m.id, caller, decision: 'allowed', status: 200 });
      send(res, 200, out);
    } catch (err) {
      if (!(err instanceof GoogleError)) throw err;
      record({ method: req.method!, path: url.pathname, methodId: m.id, caller, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.reason ?? err.message });
      send(res, err.httpStatus, err.body());
    }
  }

  async listen(host: string): Promise<string> {
    const { record } = this.w;
    const hit = this.servers.get(host);
    if (hit) return hit.origin;
    const server = https.createServer(this.tls, (req, res) => {
      this.handle(host, req, res).catch((err: unknown) => {
        // A stand-in bug (e.g. an answer that breaks the contract): loud, never a plausible answer.
        const message = err instanceof Error ? err.message : String(err);
        record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: '(stand-in bug)', decision: 'invalid', status: 500, reason: message });
        console.error(`gcp stand-in: ${message}`);
        if (!res.headersSent) send(res, 500, { error: { code: 500, message: `stand-in bug: ${message}`, status: 'INTERNAL' } });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.servers.set(host, { server, origin });
    return origin;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.servers.values()].map(({ server }) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }
}
