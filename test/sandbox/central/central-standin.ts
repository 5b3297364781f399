// Stand-in for RHACS Central's API (no Central runs in the sandbox: kwok pods run no container).
// It plays the `central` container of every Central pod of a cluster, and follows the published
// contract (StackRox's generated swagger, see central-schema.ts and stackrox-api/):
//
//   reach   For each Central pod (label app=central) it listens on 127.0.0.1 with the install's own
//           certificate (Secret central-tls, cert.pem/key.pem; for a server name other than
//           central.<ns>[.svc], the exposure's central-default-tls-cert when there is one, as Central
//           serves it) and tells kwok, the pod's kubelet, to forward the pod's port 8443 there (a kwok
//           PortForward named like the pod, owned by it). So `kubectl port-forward` — through the real
//           kube-apiserver, the cluster network stand-in and kwok — reaches "the Central of that pod".
//   auth    Bearer API tokens (issued through the control API) or HTTP basic `admin` against the
//           install's Secret central-htpasswd (key htpasswd, `admin:{SHA}…`); both in one request, or
//           none, are refused (401, gRPC code 16); a read-only token may not write (403, code 7).
//   API     /v1/metadata (the pod's image version), /v1/central-capabilities (capabilities disabled
//           when the pod runs with ROX_MANAGED_CENTRAL=true, as a managed Central does),
//           /v1/imageintegrations (GET, POST, PUT /{id}, PATCH /{config.id}, DELETE), /test and
//           /test/updated. Every body is validated against the swagger (unknown fields, wrong types:
//           400, code 3). Integrations are stored per Central (cluster and namespace) across pod
//           restarts, secrets scrubbed to "******" on the way out and reconciled on PATCH with
//           updatePassword=false (central/imageintegration/service, pkg/secrets).
//   test    What Central does for an ECR integration (pkg/registries/ecr): the ECR validation
//           (registry ID and region required, keys unless useIam, an assume-role ID with
//           useAssumeRole), then the AWS SDK's default credential chain AS THE SERVING POD HAS IT:
//           AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE → a token for the pod's service account with the
//           audience and lifetime of the projected volume behind that file, bound to the pod
//           (TokenRequest against the real kube-apiserver) → sts:AssumeRoleWithWebIdentity at the AWS
//           gate (gate-sts.ts: issuer, keys, audience, trust policy) → with useAssumeRole,
//           sts:AssumeRole of arn:aws:iam::<registryId>:role/<assumeRoleId> → ecr:GetAuthorizationToken
//           (gate-ecr.ts: the role's policies); else AWS_CONTAINER_CREDENTIALS_FULL_URI +
//           AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity) → the projected token behind that
//           file in the Authorization header of a GET to the cluster's Pod Identity Agent stand-in
//           (pod-identity-agent.ts → EKS Auth at the gate, gate-eks.ts); with neither, no credentials (no
//           instance metadata in the sandbox). Failures come back as Central words them (the Go SDK's
//           error chain under "registry integration: …").
//
// Not covered: the registry's Docker API (Central lists /v2/_catalog with the authorization token;
// the sandbox has no registry endpoint), and the trust of a
// cross-account role assumed with sts:AssumeRole (the gate does not check plain AssumeRole).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { bodySchema, IMAGE_INTEGRATION_API, validate, type SwaggerSchema } from './central-schema.js';
import { clone, Failure, invalid, reconcile, scrub, type Integration } from './integrations.js';
import { apiError, podCredentials } from './pod-credentials.js';
import { createRestrictedUser } from '../kube/restricted-users.js';
import { CENTRAL_STANDIN_USER } from '../observe.js';
import type { SandboxInfo } from '../types.js';

export const CENTRAL_PORT = 8443;
export { SCRUBBED, scrub } from './integrations.js';

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

interface CentralState {
  integrations: Map<string, Integration>;
  tokens: Map<string, TokenRole>;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
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

interface PodListener {
  pod: string;
  uid: string;
  server: https.Server;
  port: number;
}

/** One cluster's Centrals. */
class ClusterCentrals {
  readonly states = new Map<string, CentralState>();
  private readonly listeners = new Map<string, PodListener>();
  private readonly pending = new Set<string>();
  private readonly endpoints = new Map<string, { server: https.Server; url: string }>();
  private watchAbort?: AbortController;
  private stopped = false;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;

  constructor(
    readonly info: SandboxInfo,
    readonly cluster: string,
    readonly kc: KubeConfig,
    readonly record: (r: Omit<CentralRequest, 'seq'>) => void,
    readonly log: (m: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  state(namespace: string): CentralState {
    let s = this.states.get(namespace);
    if (!s) this.states.set(namespace, (s = { integrations: new Map(), tokens: new Map() }));
    return s;
  }

  async start(): Promise<void> {
    const list = await this.core.listPodForAllNamespaces({ labelSelector: 'app=central' });
    for (const p of list.items) await this.onPod('ADDED', p);
    this.watch(list.metadata?.resourceVersion);
  }

  private watch(resourceVersion?: string): void {
    if (this.stopped) return;
    const w = new Watch(this.kc);
    w.watch(
      '/api/v1/pods',
      { labelSelector: 'app=central', ...(resourceVersion ? { resourceVersion } : {}) },
      (type: string, pod: V1Pod) => void this.onPod(type, pod).catch((err) => this.log(`central stand-in ${this.cluster}: ${(err as Error).message}`)),
      () => {
        // The API server ends watches now and then: start again from a fresh list.
        if (!this.stopped) setTimeout(() => void this.start().catch((err) => this.log(`central stand-in ${this.cluster}: ${(err as Error).message}`)), 200).unref();
      },
    ).then((ctrl) => {
      this.watchAbort = ctrl;
    }, () => undefined);
  }

  private async onPod(type: string, pod: V1Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const key = `${ns}/${name}`;
    if (type === 'DELETED' || pod.metadata?.deletionTimestamp) {
      const l = this.listeners.get(key);
      if (l) {
        this.listeners.delete(key);
        l.server.close();
        l.server.closeAllConnections?.();
      }
      return;
    }
    if (this.listeners.has(key) || this.pending.has(key) || !pod.spec?.nodeName) return;
    this.pending.add(key);
    try {
      await this.listen(pod);
    } finally {
      this.pending.delete(key);
    }
  }

  /** Starts "the Central of this pod" once the install's certificates are there (as Central waits for its volume). */
  private async listen(pod: V1Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const key = `${ns}/${name}`;
    let certs: Awaited<ReturnType<ClusterCentrals['certificates']>>;
    for (let attempt = 0; attempt < 50 && !this.stopped; attempt++) {
      certs = await this.certificates(ns);
      if (certs) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!certs || this.stopped) return; // a Central without its certificates does not start
    const server = https.createServer({ ...certs.internal, SNICallback: this.sni(ns, certs) }, (req, res) => void this.handle(ns, name, req, res));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
    server.unref();
    this.listeners.set(key, { pod: name, uid: pod.metadata!.uid!, server, port });
    await this.custom.createNamespacedCustomObject({
      group: 'kwok.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'portforwards',
      body: {
        apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'PortForward',
        metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata!.uid! }] },
        spec: { forwards: [{ ports: [CENTRAL_PORT], target: { address: '127.0.0.1', port } }] },
      },
    }).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  }

  /** The install's certificates: central-tls (internal name), central-default-tls-cert (exposure), when present. */
  private async certificates(ns: string): Promise<{ internal: { cert: Buffer; key: Buffer }; exposed?: { cert: Buffer; key: Buffer } } | undefined> {
    const read = (name: string) => this.core.readNamespacedSecret({ name, namespace: ns }).catch(() => undefined);
    const [internal, exposed] = await Promise.all([read('central-tls'), read('central-default-tls-cert')]);
    const d = internal?.data;
    if (!d?.['cert.pem'] || !d['key.pem']) return undefined;
    const b = (s: string) => Buffer.from(s, 'base64');
    const e = exposed?.data;
    return {
      internal: { cert: b(d['cert.pem']), key: b(d['key.pem']) },
      ...(e?.['tls.crt'] && e['tls.key'] ? { exposed: { cert: b(e['tls.crt']), key: b(e['tls.key']) } } : {}),
    };
  }

  private sni(ns: string, certs: NonNullable<Awaited<ReturnType<ClusterCentrals['certificates']>>>) {
    const internal = tls.createSecureContext(certs.internal);
    const exposed = certs.exposed ? tls.createSecureContext(certs.exposed) : internal;
    const names = new Set([`central.${ns}`, `central.${ns}.svc`, `central.${ns}.svc.cluster.local`, 'central']);
    return (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => cb(null, names.has(servername) ? internal : exposed);
  }

  /** An exposed endpoint for the namespace's Central (a route or load balancer): https://127.0.0.1:PORT. */
  async endpoint(ns: string): Promise<string> {
    const have = this.endpoints.get(ns);
    if (have) return have.url;
    const certs = await this.certificates(ns);
    if (!certs) throw new Error(`namespace ${ns} of ${this.cluster} has no Central certificates (Secret central-tls)`);
    const server = https.createServer({ ...(certs.exposed ?? certs.internal), SNICallback: this.sni(ns, certs) }, (req, res) => void this.handle(ns, undefined, req, res));
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
    server.unref();
    const url = `https://127.0.0.1:${port}`;
    this.endpoints.set(ns, { server, url });
    return url;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchAbort?.abort();
    for (const l of this.listeners.values()) {
      l.server.close();
      l.server.closeAllConnections?.();
    }
    for (const e of this.endpoints.values()) {
      e.server.close();
      e.server.closeAllConnections?.();
    }
  }

  // --- requests ---------------------------------------------------------------------------------

  private async servingPod(ns: string, podName: string | undefined): Promise<V1Pod> {
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

  private async handle(ns: string, podName: string | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
      if (!i.skipTestIntegration) await this.test(ns, podName, i);
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
      await this.test(ns, podName, config);
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
        if (!config.skipTestIntegration) await this.test(ns, podName, config);
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

  // --- the test: what Central's ECR registry does -------------------------------------------------

  private async test(ns: string, podName: string | undefined, i: Integration): Promise<void> {
    if (i.type !== 'ecr') return; // only ECR is played here
    const c = (i.ecr ?? {}) as Record<string, unknown>;
    const errors: string[] = [];
    if (!c.registryId) errors.push('Registry ID must be specified');
    if (!c.useIam) {
      if (!c.accessKeyId) errors.push('Access Key ID must be specified if not using IAM');
      if (!c.secretAccessKey) errors.push('Secret Access Key must be specified if not using IAM');
    }
    if (c.useAssumeRole) {
      if (c.endpoint) errors.push('AssumeRole cannot be done with an endpoint defined');
      if (!c.assumeRoleId) errors.push('AssumeRole ID must be set to use AssumeRole');
    }
    if (!c.region) errors.push('Region must be specified');
    if (errors.length) throw invalid(`registry integration: ECR Validation errors: ${errors.map((e) => `[${e}]`).join(', ')}: invalid arguments`);
    const region = String(c.region);
    const registry = `${String(c.registryId)}.dkr.ecr.${region}.amazonaws.com`;
    const wrap = (chain: string) =>
      invalid(`registry integration: Get "https://${registry}/v2/_catalog": failed to get authorization token: operation error ECR: GetAuthorizationToken, ${chain}: invalid arguments`);
    const endpoint = this.info.awsEndpoint;
    let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    if (c.useIam) {
      const pod = await this.servingPod(ns, podName);
      credentials = await this.podCredentials(pod, region, wrap);
    } else {
      credentials = { accessKeyId: String(c.accessKeyId), secretAccessKey: String(c.secretAccessKey) };
    }
    if (c.useAssumeRole) {
      const arn = `arn:aws:iam::${String(c.registryId)}:role/${String(c.assumeRoleId)}`;
      try {
        const out = await new STSClient({ region, endpoint, credentials, maxAttempts: 1 }).send(new AssumeRoleCommand({
          RoleArn: arn, RoleSessionName: `aws-go-sdk-${Date.now()}`, ...(c.assumeRoleExternalId ? { ExternalId: String(c.assumeRoleExternalId) } : {}),
        }));
        const k = out.Credentials!;
        credentials = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey!, sessionToken: k.SessionToken };
      } catch (err) {
        throw wrap(`get identity: get credentials: failed to refresh cached credentials, operation error STS: AssumeRole, ${apiError(err)}`);
      }
    }
    try {
      await new ECRClient({ region, endpoint, credentials, maxAttempts: 1 }).send(new GetAuthorizationTokenCommand({}));
    } catch (err) {
      throw wrap(apiError(err));
    }
  }

  /** The AWS SDK's default chain inside the pod (pod-credentials.ts). */
  private podCredentials(pod: V1Pod, region: string, wrap: (chain: string) => Failure) {
    return podCredentials({ core: this.core, awsEndpoint: this.info.awsEndpoint, podIdentityAgent: this.info.podIdentityAgents?.[this.cluster] }, pod, region, wrap);
  }
}

// ---------------------------------------------------------------------------------------------------
// The stand-ins of every cluster, and their control API (tests and people: tokens, state, requests)

export interface CentralStandIns {
  /** http://127.0.0.1:PORT: POST /tokens, GET/POST /integrations, GET /endpoint, GET /requests, GET /mark. */
  controlUrl: string;
  stop(): Promise<void>;
}

export async function startCentralStandIns(info: SandboxInfo, opts: { log?: (m: string) => void } = {}): Promise<CentralStandIns> {
  const log = opts.log ?? (() => undefined);
  const requests: CentralRequest[] = [];
  let seq = 0;
  const record = (r: Omit<CentralRequest, 'seq'>) => requests.push({ ...r, seq: ++seq });
  const clusters = new Map<string, ClusterCentrals>();
  for (const name of Object.keys(info.clusters)) {
    // Its own user, with what a kubelet does for Central's pods (watch them, read their Secrets,
    // request their service-account tokens, tell kwok where their port goes), so audit queries
    // can tell its requests from rhacs-sts's (observe.ts: isClusterComponent).
    const user = await createRestrictedUser(info, name, {
      name: CENTRAL_STANDIN_USER,
      namespace: 'kube-system',
      rules: [],
      clusterRules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
        { apiGroups: ['kwok.x-k8s.io'], resources: ['portforwards'], verbs: ['create'] },
      ],
    });
    const kc = new KubeConfig();
    kc.loadFromFile(user.kubeconfig);
    const cc = new ClusterCentrals(info, name, kc, record, log);
    await cc.start();
    clusters.set(name, cc);
  }
  const of = (cluster: string | null) => {
    const cc = clusters.get(cluster ?? '');
    if (!cc) throw new Error(`no cluster ${cluster}`);
    return cc;
  };
  const control = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const q = (k: string) => url.searchParams.get(k);
      try {
        if (req.method === 'POST' && url.pathname === '/tokens') {
          const b = JSON.parse(await readBody(req)) as { cluster: string; namespace: string; role?: TokenRole };
          const token = `sandbox-api-token-${randomBytes(24).toString('base64url')}`;
          of(b.cluster).state(b.namespace).tokens.set(token, b.role ?? 'Admin');
          return json(res, 200, { token });
        }
        if (url.pathname === '/integrations') {
          const st = of(q('cluster')).state(q('namespace') ?? '');
          if (req.method === 'POST') {
            // As Sensor (autogenerated) or a person in the portal would have made it: stored as given.
            const i = JSON.parse(await readBody(req)) as Integration;
            const problems = validate(IMAGE_INTEGRATION_API, { $ref: '#/definitions/storageImageIntegration' }, i);
            if (problems.length) return json(res, 400, { problems });
            const stored = { ...i, id: randomUUID() };
            st.integrations.set(stored.id, stored);
            return json(res, 200, stored);
          }
          return json(res, 200, { integrations: [...st.integrations.values()] });
        }
        if (url.pathname === '/endpoint') return json(res, 200, { url: await of(q('cluster')).endpoint(q('namespace') ?? '') });
        if (url.pathname === '/mark') return json(res, 200, { seq });
        if (url.pathname === '/requests') {
          const since = Number(q('since') ?? 0);
          return json(res, 200, { requests: requests.filter((r) => r.seq > since) });
        }
        json(res, 404, { error: 'not found' });
      } catch (err) {
        json(res, 500, { error: (err as Error).message });
      }
    })();
  });
  const port = await new Promise<number>((resolve) => control.listen(0, '127.0.0.1', () => resolve((control.address() as AddressInfo).port)));
  control.unref();
  return {
    controlUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      await Promise.all([...clusters.values()].map((c) => c.stop()));
      await new Promise((r) => control.close(r));
    },
  };
}
