// The API of one cluster's Central stand-ins (central-standin.ts): authentication (bearer API tokens,
// basic `admin` against the install's htpasswd; both or none refused), /v1/metadata,
// /v1/central-capabilities and /v1/imageintegrations, every body validated against StackRox's
// swagger (central-schema.ts); integrations stored per Central (cluster and namespace), secrets
// scrubbed on the way out and reconciled on PATCH (integrations.ts); Central's test of an ECR,
// Artifact Registry or Azure integration, one file per kind (*-integration-test.ts).
import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { bodySchema, IMAGE_INTEGRATION_API, validate, type SwaggerSchema } from './central-schema.js';
import { testArtifactRegistryIntegration } from './artifactregistry-integration-test.js';
import { testAzureIntegration } from './azure-integration-test.js';
import type { CentralClouds } from './cloud-sides.js';
import { testEcrIntegration } from './ecr-integration-test.js';
import { clone, Failure, invalid, reconcile, scrub, type Integration } from './integrations.js';
import type { SandboxInfo } from '../types.js';

export type TokenRole = 'Admin' | 'Analyst';

export interface CentralRequest {
  seq: number;
  cluster: string;
  namespace: string;
  pod?: string;
  method: string;
  path: string;
  auth: 'bearer' | 'basic' | 'both' | 'none';
  status: number;
}

export interface CentralState {
  integrations: Map<string, Integration>;
  tokens: Map<string, TokenRole>;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function htpasswdMatches(htpasswd: string, user: string, password: string): boolean {
  for (const line of htpasswd.split('\n')) {
    const [u, hash] = line.trim().split(':', 2);
    if (u !== user || !hash) continue;
    if (hash.startsWith('{SHA}')) return hash.slice(5) === createHash('sha1').update(password).digest('base64');
  }
  return false;
}

/** The version of the image in the pod's central container (tag), else the chart's version label. */
function podVersion(pod: V1Pod): string {
  const image = pod.spec?.containers?.find((c) => c.name === 'central')?.image ?? '';
  const last = image.split('@')[0]!.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return /^\d+\.\d+/.test(tag) ? tag : (pod.metadata?.labels?.['app.kubernetes.io/version'] ?? '');
}

/** Central's test of an integration, by its type (ECR, Artifact Registry, Azure; other types are not tested here). */
async function testIntegration(api: CentralApi, ns: string, podName: string | undefined, i: Integration): Promise<void> {
  await testEcrIntegration(api, ns, podName, i);
  await testArtifactRegistryIntegration(api, ns, podName, i);
  await testAzureIntegration(api, ns, podName, i);
}

/** One cluster's Centrals, as their API answers: state per namespace, requests recorded. */
export class CentralApi {
  readonly states = new Map<string, CentralState>();
  private cloudsNow: () => CentralClouds = () => ({});

  /** The Google and Azure stand-ins this cluster's pods reach (none: the clouds are unreachable from them). */
  get clouds(): CentralClouds {
    return this.cloudsNow();
  }

  /** Set once, or as a function asked at each test (stand-ins started after Central's are then found too). */
  set clouds(c: CentralClouds | (() => CentralClouds)) {
    this.cloudsNow = typeof c === 'function' ? c : () => c;
  }

  constructor(
    readonly info: SandboxInfo,
    readonly cluster: string,
    readonly core: CoreV1Api,
    readonly record: (r: Omit<CentralRequest, 'seq'>) => void,
  ) {}

  state(namespace: string): CentralState {
    let s = this.states.get(namespace);
    if (!s) this.states.set(namespace, (s = { integrations: new Map(), tokens: new Map() }));
    return s;
  }

  /** The pod that serves a request: the one forwarded to, else the newest running Central of the namespace. */
  async servingPod(ns: string, podName: string | undefined): Promise<V1Pod> {
    if (podName) return this.core.readNamespacedPod({ name: podName, namespace: ns });
    const list = await this.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=central' });
    const running = list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
    const pod = running.sort((a, b) => String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)))[0];
    if (!pod) throw new Failure(503, 14, 'no Central pod is running');
    return pod;
  }

  private async authenticate(ns: string, req: http.IncomingMessage): Promise<{ kind: CentralRequest['auth']; role?: TokenRole }> {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'authorization') headers.push(req.rawHeaders[i + 1]!);
    if (headers.length === 0) return { kind: 'none' };
    const kinds = headers.map((h) => (/^Bearer /i.test(h) ? 'bearer' : /^Basic /i.test(h) ? 'basic' : 'other'));
    if (headers.length > 1) return { kind: kinds.includes('bearer') && kinds.includes('basic') ? 'both' : 'none' };
    const h = headers[0]!;
    if (kinds[0] === 'bearer') return { kind: 'bearer', role: this.state(ns).tokens.get(h.slice(7).trim()) };
    if (kinds[0] === 'basic') {
      const [user, ...rest] = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8').split(':');
      const secret = await this.core.readNamespacedSecret({ name: 'central-htpasswd', namespace: ns }).catch(() => undefined);
      const htpasswd = secret?.data?.htpasswd ? Buffer.from(secret.data.htpasswd, 'base64').toString('utf8') : '';
      return { kind: 'basic', role: user === 'admin' && htpasswdMatches(htpasswd, 'admin', rest.join(':')) ? 'Admin' : undefined };
    }
    return { kind: 'none' };
  }

  async handle(ns: string, podName: string | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://central');
    const method = req.method ?? 'GET';
    let auth: CentralRequest['auth'] = 'none';
    let status = 200;
    try {
      const a = await this.authenticate(ns, req);
      auth = a.kind;
      if (a.kind === 'both') throw new Failure(401, 16, 'credentials not found: more than one Authorization header (a token and a password): use one');
      if (!a.role) throw new Failure(401, 16, a.kind === 'none' ? 'credentials not found: no credentials in the request' : 'credentials not valid');
      const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);
      const out = await this.route(ns, podName, method, url, body, a.role);
      json(res, 200, out);
    } catch (err) {
      const f = err instanceof Failure ? err : new Failure(500, 13, (err as Error).message);
      status = f.status;
      json(res, f.status, { code: f.code, message: f.message, details: [] });
    } finally {
      this.record({ cluster: this.cluster, namespace: ns, pod: podName, method, path: url.pathname, auth, status });
    }
  }

  private parse(body: string | undefined, schema: SwaggerSchema | undefined): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(body || '{}');
    } catch {
      throw invalid('proto: syntax error: the body is not JSON');
    }
    const problems = schema ? validate(IMAGE_INTEGRATION_API, schema, value) : [];
    if (problems.length) throw invalid(problems.join('; '));
    return value as Record<string, unknown>;
  }

  private async route(ns: string, podName: string | undefined, method: string, url: URL, body: string | undefined, role: TokenRole): Promise<unknown> {
    const p = url.pathname.replace(/\/+$/, '');
    const write = () => {
      if (role !== 'Admin') throw new Failure(403, 7, 'access for this user is not authorized: not authorized to modify Integration');
    };
    const st = this.state(ns);
    const schemaOf = (path: string) => bodySchema(IMAGE_INTEGRATION_API, path, method.toLowerCase());
    if (method === 'GET' && p === '/v1/metadata') {
      const pod = await this.servingPod(ns, podName);
      return { version: podVersion(pod), buildFlavor: 'release', releaseBuild: true, licenseStatus: 'VALID' };
    }
    if (method === 'GET' && p === '/v1/central-capabilities') {
      const pod = await this.servingPod(ns, podName);
      const managed = pod.spec?.containers?.find((c) => c.name === 'central')?.env?.find((e) => e.name === 'ROX_MANAGED_CENTRAL')?.value === 'true';
      const s = (disabled: boolean) => (disabled ? 'CapabilityDisabled' : 'CapabilityAvailable');
      return {
        centralScanningCanUseContainerIamRoleForEcr: s(managed),
        centralCanUseCloudBackupIntegrations: s(managed),
        centralCanDisplayDeclarativeConfigHealth: s(managed),
        centralCanUpdateCert: s(managed),
        centralCanUseAcscsEmailIntegration: s(!managed),
      };
    }
    if (p === '/v1/imageintegrations' && method === 'GET') {
      const name = url.searchParams.get('name');
      return { integrations: [...st.integrations.values()].filter((i) => !name || i.name === name).map(scrub) };
    }
    if (p === '/v1/imageintegrations' && method === 'POST') {
      write();
      const i = this.parse(body, schemaOf('/v1/imageintegrations')) as Integration;
      if (i.id) throw invalid('id field should be empty when posting a new image integration');
      this.validateIntegration(st, i);
      if (!i.skipTestIntegration) await testIntegration(this, ns, podName, i);
      const stored = { ...clone(i), id: randomUUID() };
      st.integrations.set(stored.id, stored);
      return scrub(stored);
    }
    if ((p === '/v1/imageintegrations/test' || p === '/v1/imageintegrations/test/updated') && method === 'POST') {
      write();
      const parsed = this.parse(body, schemaOf(p));
      const updated = p.endsWith('/updated');
      const config = (updated ? parsed.config ?? {} : parsed) as Integration;
      this.validateIntegration(st, config);
      if (updated && config.id) {
        const stored = st.integrations.get(config.id);
        if (!stored) throw new Failure(404, 5, `image integration "${config.id}" not found`);
        if (parsed.updatePassword !== true) reconcile(config, stored);
      } else if (updated && parsed.updatePassword !== true) {
        throw invalid('id required for stored credential reconciliation');
      }
      await testIntegration(this, ns, podName, config);
      return {};
    }
    const byId = /^\/v1\/imageintegrations\/([^/]+)$/.exec(p);
    if (byId) {
      const id = decodeURIComponent(byId[1]!);
      const stored = st.integrations.get(id);
      if (method === 'GET') {
        if (!stored) throw new Failure(404, 5, `image integration ${id} not found`);
        return scrub(stored);
      }
      write();
      if (method === 'DELETE') {
        st.integrations.delete(id);
        return {};
      }
      if (method === 'PUT' || method === 'PATCH') {
        const parsed = this.parse(body, schemaOf(method === 'PUT' ? '/v1/imageintegrations/{id}' : '/v1/imageintegrations/{config.id}'));
        const config = { ...((method === 'PUT' ? parsed : parsed.config ?? {}) as Integration), id } as Integration;
        if (!stored) throw new Failure(404, 5, `image integration "${id}" not found`);
        this.validateIntegration(st, config);
        if (method === 'PATCH' && parsed.updatePassword !== true) reconcile(config, stored);
        if (!config.skipTestIntegration) await testIntegration(this, ns, podName, config);
        st.integrations.set(id, clone(config));
        return {};
      }
    }
    throw new Failure(404, 5, `Not Found: ${method} ${url.pathname}`);
  }

  /** central/imageintegration/service validateIntegration: categories, a name, unique. */
  private validateIntegration(st: CentralState, i: Integration): void {
    const errors: string[] = [];
    if (!Array.isArray(i.categories) || i.categories.length === 0) errors.push('integrations require a category');
    if (!i.name) errors.push('name for integration is required');
    else {
      const same = [...st.integrations.values()].find((x) => x.name === i.name);
      if (same && same.id !== i.id) errors.push(`integration with name "${i.name}" already exists`);
    }
    if (errors.length) throw invalid(`Validation errors: ${errors.map((e) => `[${e}]`).join(', ')}`);
  }
}
