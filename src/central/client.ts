/**
 * Central's API, reached without a public endpoint: a port-forward over the Kubernetes API to the
 * pod behind the `central` Service (what `kubectl port-forward svc/central` does), TLS end to end,
 * trusting Central's own CA from the cluster (Secret central-tls, ca.pem) for the name
 * central.<namespace>.svc. Or, with --central-endpoint, straight to that URL (the system's CAs and
 * Central's CA). Never without verifying the certificate. Authentication as roxctl does it: a bearer
 * API token, or basic auth as admin. Loaded lazily; tokens and passwords never leave this module.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Duplex, PassThrough, Writable } from 'node:stream';
import tls from 'node:tls';
import { PortForward } from '@kubernetes/client-node';
import { InputError, OperationError } from '../errors.js';
import { patchOptions, type KubeApi } from '../kube/api.js';
import type { KubeSession } from '../kube/session.js';
import type { CentralCredentialInput } from '../options/options.js';
import { redact } from '../render/safe-text.js';
import type { ImageIntegration } from './integration.js';

export const CENTRAL_SERVICE = 'central';
/** Bound of one request to Central, idle and in total (its integration test contacts the registry, so it may take a while). */
const REQUEST_TIMEOUT_MS = 60_000;
/** Central's answers are small JSON documents; anything larger is not read further. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** A Central pod that has just started may not listen yet: bounded attempts to reach it. */
const CONNECT_ATTEMPTS = 10;

export interface CentralCapabilities {
  centralScanningCanUseContainerIamRoleForEcr?: string;
  [k: string]: unknown;
}

/** Central's answer was too large, or too slow to complete: nothing more is read. */
export class CentralAnswerError extends OperationError {}

/** An error answer of Central's API (gRPC status over HTTP). */
export class CentralApiError extends OperationError {
  constructor(readonly status: number, readonly grpcCode: number | undefined, readonly centralMessage: string, what: string, hint?: string) {
    super(`Central refused ${what} (HTTP ${status}): ${centralMessage}`, { hint });
  }
}

export interface CentralClient {
  /** How Central was reached, for messages: "port-forward to pod X" or the endpoint. */
  readonly via: string;
  capabilities(): Promise<CentralCapabilities>;
  metadata(): Promise<{ version?: string }>;
  integrations(): Promise<ImageIntegration[]>;
  /** POST /v1/imageintegrations/test: Central tests a new integration, as its pod. */
  test(i: ImageIntegration): Promise<void>;
  /**
   * POST /v1/imageintegrations/test/updated with the stored credentials (updatePassword=false), or,
   * with `updatePassword`, with the ones given (none, for an integration that holds no secret).
   */
  testUpdated(i: ImageIntegration & { id: string }, o?: { updatePassword?: boolean }): Promise<void>;
  create(i: ImageIntegration): Promise<ImageIntegration & { id: string }>;
  /** PATCH /v1/imageintegrations/{id}, keeping the stored credentials (updatePassword=false) unless told. */
  update(i: ImageIntegration & { id: string }, o?: { updatePassword?: boolean }): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface OpenCentralOptions {
  kube: KubeSession;
  namespace: string;
  endpoint?: string;
  credentials: CentralCredentialInput;
  log: (message: string) => void;
  /**
   * The file NODE_EXTRA_CA_CERTS names: Node adds it to the CAs it trusts by default, but an
   * explicit CA list (Central's CA and the system's) replaces that default, so it is added here.
   */
  extraCaFile?: string;
  /** Bound of one request, idle and in total (default 60s). */
  timeoutMs?: number;
  /** Bound of one answer's size (default 16 MiB). */
  maxBytes?: number;
}

function apiOf(kube: KubeSession): KubeApi {
  const api = (kube as KubeSession & { api?: KubeApi }).api;
  if (!api) throw new OperationError('Internal error: the Kubernetes session cannot port-forward.');
  return api;
}

/** The Authorization header from the credentials; the secret itself never leaves here. */
async function authorization(o: OpenCentralOptions, api: KubeApi): Promise<string> {
  const c = o.credentials;
  switch (c.kind) {
    case 'token':
      return `Bearer ${c.token}`;
    case 'token-file': {
      let token: string;
      try {
        token = readFileSync(c.path, 'utf8').trim();
      } catch (err) {
        throw new InputError([{ source: 'ROX_API_TOKEN_FILE', message: `cannot read "${c.path}" (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
      }
      if (!token) throw new InputError([{ source: 'ROX_API_TOKEN_FILE', message: `"${c.path}" is empty` }]);
      return `Bearer ${token}`;
    }
    case 'password':
      return `Basic ${Buffer.from(`admin:${c.password}`).toString('base64')}`;
    case 'generated-password': {
      const secret = await api.optional({ verb: 'get', group: '', resource: 'secrets', namespace: o.namespace, name: 'central-htpasswd' }, () =>
        api.core.readNamespacedSecret({ name: 'central-htpasswd', namespace: o.namespace }));
      const pw = secret?.data?.password;
      if (!pw) {
        throw new InputError([{
          source: '--use-generated-admin-password',
          message: `Secret ${o.namespace}/central-htpasswd has no generated password (key "password": the operator keeps it only when it generated the password)`,
        }], 'Set ROX_ADMIN_PASSWORD (or ROX_API_TOKEN) instead.');
      }
      return `Basic ${Buffer.from(`admin:${Buffer.from(pw, 'base64').toString('utf8')}`).toString('base64')}`;
    }
    default:
      throw new InputError([{ source: 'ROX_API_TOKEN', message: 'Central credentials are needed: set ROX_API_TOKEN (or ROX_API_TOKEN_FILE), or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password' }]);
  }
}

/** Central's CA from the cluster (Secret central-tls, key ca.pem); undefined when it cannot be read. */
async function centralCa(api: KubeApi, namespace: string): Promise<Buffer | undefined> {
  const s = await api.optional({ verb: 'get', group: '', resource: 'secrets', namespace, name: 'central-tls' }, () =>
    api.core.readNamespacedSecret({ name: 'central-tls', namespace }));
  const ca = s?.data?.['ca.pem'];
  return ca ? Buffer.from(ca, 'base64') : undefined;
}

/** The pod and port behind Service central's port 443, as `kubectl port-forward svc/central` picks them. */
async function servicePod(api: KubeApi, namespace: string): Promise<{ pod: string; port: number }> {
  const svc = await api.optional({ verb: 'get', group: '', resource: 'services', namespace, name: CENTRAL_SERVICE }, () =>
    api.core.readNamespacedService({ name: CENTRAL_SERVICE, namespace }));
  if (!svc) {
    throw new OperationError(`There is no Service ${CENTRAL_SERVICE} in namespace ${namespace} to reach Central through.`, {
      hint: 'Check --namespace, or give Central\'s address with --central-endpoint.',
    });
  }
  const sp = svc.spec?.ports?.find((p) => p.port === 443) ?? svc.spec?.ports?.[0];
  const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await api.call({ verb: 'list', group: '', resource: 'pods', namespace }, () => api.core.listNamespacedPod({ namespace, labelSelector: selector || undefined }));
  const ready = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running'
    && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const pod = ready.sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')))[0];
  if (!pod || !sp) {
    throw new OperationError(`No ready Central pod behind Service ${namespace}/${CENTRAL_SERVICE}.`, { hint: `kubectl -n ${namespace} get pods -l ${selector || 'app=central'}` });
  }
  const target = sp.targetPort ?? sp.port;
  let port = typeof target === 'number' ? target : Number.isFinite(Number(target)) ? Number(target) : undefined;
  if (port === undefined) {
    port = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
  }
  if (!port) throw new OperationError(`Service ${namespace}/${CENTRAL_SERVICE} names port "${String(target)}", which pod ${pod.metadata?.name} does not have.`);
  return { pod: pod.metadata!.name!, port };
}

/** A TCP stream to the pod's port over the Kubernetes API (WebSocket port-forward). */
async function forwardStream(api: KubeApi, namespace: string, pod: string, port: number): Promise<{ stream: Duplex; failure: () => string; close: () => void; onClose: (f: () => void) => void }> {
  const input = new PassThrough();
  let failure = '';
  const stream = new Duplex({
    read() {},
    write(chunk, _enc, cb) { input.write(chunk, cb); },
    final(cb) { input.end(); cb(); },
  });
  const output = new Writable({ write(chunk, _enc, cb) { stream.push(chunk); cb(); } });
  const errors = new Writable({ write(chunk, _enc, cb) { failure += String(chunk); cb(); } });
  api.log(`kube GET /api/v1/namespaces/${namespace}/pods/${pod}/portforward?ports=${port} (WebSocket)`);
  const ws = (await new PortForward(api.kc).portForward(namespace, pod, [port], output, errors, input)) as unknown as { on(e: string, f: () => void): void; close(): void };
  return { stream, failure: () => failure.trim(), close: () => ws.close(), onClose: (f) => ws.on('close', f) };
}

class Client implements CentralClient {
  constructor(
    readonly via: string,
    private readonly send: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: string }>,
  ) {}

  private async json<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    const r = await this.send(method, path, body);
    let parsed: unknown;
    try {
      parsed = r.body ? JSON.parse(r.body) : {};
    } catch {
      parsed = undefined;
    }
    if (r.status < 200 || r.status >= 300) {
      const e = (parsed ?? {}) as { code?: number; message?: string; error?: string };
      const message = redact(String(e.message ?? e.error ?? r.body.slice(0, 300)));
      const hint = r.status === 401
        ? 'Check the credentials (ROX_API_TOKEN, ROX_API_TOKEN_FILE or ROX_ADMIN_PASSWORD).'
        : r.status === 403 ? 'The token\'s role may not change integrations: use a token with the Admin role (or one with write access to Integration).' : undefined;
      throw new CentralApiError(r.status, e.code, message, what, hint);
    }
    if (parsed === undefined) throw new OperationError(`Central's answer to ${what} is not JSON.`);
    return parsed as T;
  }

  capabilities() { return this.json<CentralCapabilities>('GET', '/v1/central-capabilities', 'reading its capabilities'); }
  metadata() { return this.json<{ version?: string }>('GET', '/v1/metadata', 'reading its version'); }
  async integrations() { return (await this.json<{ integrations?: ImageIntegration[] }>('GET', '/v1/imageintegrations', 'listing image integrations')).integrations ?? []; }
  async test(i: ImageIntegration) { await this.json('POST', '/v1/imageintegrations/test', 'the test of the integration', i); }
  async testUpdated(i: ImageIntegration & { id: string }, o: { updatePassword?: boolean } = {}) { await this.json('POST', '/v1/imageintegrations/test/updated', 'the test of the integration', { config: i, updatePassword: o.updatePassword === true }); }
  create(i: ImageIntegration) { return this.json<ImageIntegration & { id: string }>('POST', '/v1/imageintegrations', 'creating the integration', i); }
  async update(i: ImageIntegration & { id: string }, o: { updatePassword?: boolean } = {}) {
    // The id is in the path; the body's config has no id field.
    const { id, ...config } = i;
    await this.json('PATCH', `/v1/imageintegrations/${encodeURIComponent(id)}`, 'updating the integration', { config, updatePassword: o.updatePassword === true });
  }
  async remove(id: string) { await this.json('DELETE', `/v1/imageintegrations/${encodeURIComponent(id)}`, 'deleting the integration'); }
}

function tlsFailure(err: Error, where: string): OperationError {
  if (err instanceof CentralAnswerError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code) || /certificate/i.test(err.message)) {
    return new OperationError(`Central's certificate could not be verified at ${where}: ${err.message}`, {
      hint: 'rhacs-sts trusts Central\'s own CA (Secret central-tls, ca.pem) and the system\'s CAs, and never skips the check. For an endpoint with another certificate, make its CA trusted (NODE_EXTRA_CA_CERTS), or leave out --central-endpoint to go through the cluster.',
      cause: err,
    });
  }
  return new OperationError(`Could not reach Central at ${where}: ${err.message}`, { cause: err });
}

interface Bounds {
  /** Where the request goes, for messages. */
  where: string;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * One request, bounded: no byte for timeoutMs, or no complete answer within timeoutMs in total,
 * fails it, and an answer is read only up to maxBytes (streamed and counted, never buffered past
 * the cap). The certificate is always verified, whatever NODE_TLS_REJECT_UNAUTHORIZED says.
 */
function request(opts: https.RequestOptions & { createConnection?: () => Duplex }, payload: string | undefined, mod: typeof http | typeof https, b: Bounds): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      f();
    };
    const req = mod.request({ ...opts, timeout: b.timeoutMs, rejectUnauthorized: true } as https.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > b.maxBytes) {
          req.destroy(new CentralAnswerError(`Central's answer at ${b.where} is larger than ${b.maxBytes / (1024 * 1024)} MiB, far beyond what its API sends: rhacs-sts stopped reading it.`, {
            hint: 'Check that the address is Central\'s API (--central-endpoint), not something else answering there.',
          }));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => settle(() => reject(err)));
    });
    const deadline = setTimeout(() => req.destroy(new CentralAnswerError(`Central at ${b.where} did not complete its answer within ${b.timeoutMs / 1000}s.`, {
      hint: 'Central (or something in front of it) answers too slowly; check its pod and the route or load balancer, then re-run.',
    })), b.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${b.timeoutMs / 1000}s`)));
    req.on('error', (err) => settle(() => reject(err)));
    req.end(payload);
  });
}

/** The CAs in the file NODE_EXTRA_CA_CERTS names (PEM); none when it cannot be read (Node warns about that itself). */
function extraCas(file: string | undefined, log: (m: string) => void): string[] {
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch (err) {
    log(`NODE_EXTRA_CA_CERTS: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return [];
  }
}

export async function openCentral(o: OpenCentralOptions): Promise<CentralClient> {
  const api = apiOf(o.kube);
  const auth = await authorization(o, api);
  const ca = await centralCa(api, o.namespace);
  const headers = (payload?: string) => ({
    accept: 'application/json',
    authorization: auth,
    'user-agent': 'rhacs-sts',
    ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
  });

  if (o.endpoint) {
    const url = new URL(o.endpoint);
    const trust = [...tls.rootCertificates, ...extraCas(o.extraCaFile, o.log), ...(ca ? [ca.toString('utf8')] : [])];
    const bounds: Bounds = { where: o.endpoint, timeoutMs: o.timeoutMs ?? REQUEST_TIMEOUT_MS, maxBytes: o.maxBytes ?? MAX_ANSWER_BYTES };
    return new Client(o.endpoint, async (method, path, body) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      o.log(`central ${method} ${path} (${url.host})`);
      try {
        return await request({ method, host: url.hostname, port: url.port || 443, path, ca: trust, servername: url.hostname, headers: headers(payload) }, payload, https, bounds);
      } catch (err) {
        throw tlsFailure(err as Error, o.endpoint!);
      }
    });
  }

  if (!ca) {
    throw new OperationError(`Cannot verify Central: Secret ${o.namespace}/central-tls (ca.pem, Central's CA) cannot be read.`, {
      hint: `Central's certificate is checked against its own CA; grant "get" on that Secret (kubectl -n ${o.namespace} get secret central-tls), or use --central-endpoint with a certificate the system trusts.`,
    });
  }
  const servername = `${CENTRAL_SERVICE}.${o.namespace}.svc`;
  let target: { pod: string; port: number } | undefined;
  const once = async (method: string, path: string, payload: string | undefined) => {
    // The pod behind the Service, each time: Central may have been restarted since the last request.
    target = await servicePod(api, o.namespace);
    const f = await forwardStream(api, o.namespace, target.pod, target.port);
    // Central's own CA only, and checked whatever NODE_TLS_REJECT_UNAUTHORIZED says.
    const socket = tls.connect({ socket: f.stream, ca, servername, rejectUnauthorized: true });
    f.onClose(() => (f.failure() ? socket.destroy(new Error(f.failure())) : f.stream.push(null)));
    try {
      return await request({ method, path, host: servername, createConnection: () => socket, headers: headers(payload) }, payload, http, {
        where: `${servername} (port-forward to pod ${target.pod})`, timeoutMs: o.timeoutMs ?? REQUEST_TIMEOUT_MS, maxBytes: o.maxBytes ?? MAX_ANSWER_BYTES,
      });
    } finally {
      socket.destroy();
      f.close();
    }
  };
  return new Client(`port-forward to ${o.namespace}/svc/${CENTRAL_SERVICE}`, async (method, path, body) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    o.log(`central ${method} ${path} (port-forward)`);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(method, path, payload);
      } catch (err) {
        const e = err as Error;
        const notReady = /No ready Central pod/.test(e.message);
        const transient = notReady || /no forward found|connection refused|ECONNREFUSED|socket hang up|ECONNRESET|error forwarding port|Unexpected server response: 404/i.test(e.message);
        if (notReady && attempt >= CONNECT_ATTEMPTS) {
          // Central is starting (or failing to): say so, and how long we waited, rather than name no pod.
          throw new OperationError(`Central is not ready: no pod behind Service ${o.namespace}/${CENTRAL_SERVICE} became ready in the ${Math.round((Date.now() - started) / 1000)} s rhacs-sts waited (${attempt} attempts).`, {
            hint: `${(e as OperationError).hint ?? `kubectl -n ${o.namespace} get pods -l app=central`}; when Central is ready, run the command again.`,
            cause: e,
          });
        }
        if (!transient || attempt >= CONNECT_ATTEMPTS) throw tlsFailure(e, target ? `${servername} (port-forward to pod ${target.pod})` : servername);
        o.log(`central: ${e.message}; again in a moment (attempt ${attempt}/${CONNECT_ATTEMPTS})`);
        target = undefined;
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  });
}

/** Field manager of the integration record: its own, so the role annotation's write time stays its own. */
const RECORD_FIELD_MANAGER = 'rhacs-sts-integration';

/** Writes (or, with null, removes) the annotation `key` on Central's service account. */
export async function writeServiceAccountRecord(kube: KubeSession, namespace: string, key: string, value: string | null): Promise<void> {
  const api = apiOf(kube);
  const call = { verb: 'patch' as const, group: '', resource: 'serviceaccounts', namespace, name: 'central' };
  await api.call(call, () => api.core.patchNamespacedServiceAccount(
    { name: 'central', namespace, fieldManager: RECORD_FIELD_MANAGER, body: { metadata: { annotations: { [key]: value } } } },
    patchOptions.merge(),
  ));
}
