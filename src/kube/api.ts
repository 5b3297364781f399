/**
 * The typed clients of one cluster, built from a KubeConfig with a middleware that logs every
 * request (method and path only: never headers or bodies, so never a token), names us in the
 * User-Agent, bounds each request in time, and in read-only mode refuses to send anything that
 * is not a GET. Every call goes through `call()`, which maps errors to our typed errors.
 */
import {
  ApisApi,
  AppsV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  KubeConfig,
  OpenidApi,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  Watch,
  WellKnownApi,
  type Middleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { Agent as HttpsAgent } from 'node:https';
import { OperationError } from '../errors.js';
import { isConflict, isNotFound, kubeStatus, mapKubeError, type KubeCall, type KubeEndpoint } from './errors.js';

export const USER_AGENT = 'rhacs-sts';
/**
 * The field manager our writes are recorded under in metadata.managedFields (named explicitly,
 * though the API server would derive the same name from the User-Agent): it tells our writes
 * from Helm's, the operator's or kubectl's.
 */
export const FIELD_MANAGER = 'rhacs-sts';
/** How long an idle connection to the API server stays open for the next request. */
export const KEEP_ALIVE_MS = 10_000;
/** Bound for one (non-watch) request. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Bounded retries of an optimistic-concurrency conflict (409). */
export const CONFLICT_ATTEMPTS = 5;
/** Bounded attempts when the server is briefly unavailable (429/503/504). */
export const TRANSIENT_ATTEMPTS = 5;

export const STACKROX_GROUP = 'platform.stackrox.io';
export const STACKROX_VERSION = 'v1alpha1';
export const OPENSHIFT_CONFIG_GROUP = 'config.openshift.io';

export const patchOptions = {
  merge: () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  strategic: () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
};

export interface KubeApiOptions {
  /** Refuse (before sending) every request that is not a GET: a guarantee for dry runs. */
  readOnly?: boolean;
}

export class KubeApi {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly apis: ApisApi;
  readonly wellKnown: WellKnownApi;
  readonly openid: OpenidApi;
  /** Number of requests sent, by HTTP method. */
  readonly sent: Record<string, number> = {};

  constructor(
    readonly kc: KubeConfig,
    readonly endpoint: KubeEndpoint,
    readonly log: (message: string) => void,
    readonly options: KubeApiOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new OperationError('The kubeconfig context has no cluster.');
    const middleware: Middleware = {
      pre: async (ctx: RequestContext) => {
        const method = ctx.getHttpMethod().toString();
        const url = new URL(ctx.getUrl());
        if (options.readOnly && method !== 'GET') {
          throw new OperationError(`Internal error: refused to send ${method} ${url.pathname} in a read-only session (dry run).`);
        }
        this.sent[method] = (this.sent[method] ?? 0) + 1;
        this.log(`kube ${method} ${url.pathname}${url.search}`);
        ctx.setHeaderParam('User-Agent', USER_AGENT);
        if (!ctx.getSignal()) ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
        const agent = this.reusableAgent(ctx.getAgent());
        if (agent) ctx.setAgent(agent);
        return ctx;
      },
      post: async (ctx: ResponseContext) => ctx,
    };
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [middleware],
    });
    this.core = new CoreV1Api(config);
    this.apps = new AppsV1Api(config);
    this.custom = new CustomObjectsApi(config);
    this.apis = new ApisApi(config);
    this.wellKnown = new WellKnownApi(config);
    this.openid = new OpenidApi(config);
  }

  private readonly agents = new Map<string, HttpsAgent>();

  /**
   * The client builds a new HTTPS agent for every request, so each one would open its own
   * connection and TLS handshake. Requests with the same TLS settings (server, CA, client
   * certificate; credentials from tokens and exec plugins travel in headers) share one agent that
   * keeps its connections open a little while. Proxy agents are left as they are.
   */
  private reusableAgent(agent: unknown): HttpsAgent | undefined {
    if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent) return undefined;
    const o = agent.options as Record<string, unknown>;
    const key = JSON.stringify(['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'].map((k) => {
      const v = o[k];
      return Buffer.isBuffer(v) ? v.toString('base64') : v;
    }));
    let shared = this.agents.get(key);
    if (!shared) {
      // The certificate is checked unless the kubeconfig itself turns it off (allowed only with
      // --allow-insecure-skip-tls-verify): NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn it off.
      shared = new HttpsAgent({ ...o, keepAlive: true, timeout: KEEP_ALIVE_MS, rejectUnauthorized: o.rejectUnauthorized !== false });
      this.agents.set(key, shared);
    }
    return shared;
  }

  /**
   * A Watch (client-node streams it over its own fetch, outside the middleware) that still names
   * us in the User-Agent, so audit logs attribute its requests to rhacs-sts.
   */
  makeWatch(): Watch {
    const kc = this.kc;
    const withAgent = Object.create(kc) as KubeConfig;
    withAgent.applyToFetchOptions = async (opts) => {
      const init = await kc.applyToFetchOptions(opts);
      (init.headers as { set(k: string, v: string): void } | undefined)?.set('User-Agent', USER_AGENT);
      return init;
    };
    return new Watch(withAgent);
  }

  private groups?: Promise<Set<string>>;

  /** Names of the API groups the server serves (read once per session). */
  apiGroups(): Promise<Set<string>> {
    this.groups ??= this.call({ verb: 'get', group: '', resource: '', nonResourceUrl: '/apis' }, () => this.apis.getAPIVersions())
      .then((list) => new Set(list.groups.map((g) => g.name)));
    this.groups.catch(() => (this.groups = undefined));
    return this.groups;
  }

  /**
   * Runs `fn`, again after a pause when the server says it is briefly unable to answer (429 Too
   * Many Requests, e.g. "storage is (re)initializing" right after a CRD is created, or 503/504),
   * a bounded number of times. Our writes are idempotent patches, so repeating them is safe.
   */
  async transient<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const status = kubeStatus(err);
        if (!(status === 429 || status === 503 || status === 504) || attempt >= TRANSIENT_ATTEMPTS) throw err;
        const after = Number((err as { headers?: Record<string, string> }).headers?.['retry-after']);
        const ms = Math.min(5000, Number.isFinite(after) && after > 0 ? after * 1000 : 250 * attempt);
        this.log(`kube: HTTP ${status}, retrying in ${ms} ms (attempt ${attempt}/${TRANSIENT_ATTEMPTS})`);
        await new Promise((r) => setTimeout(r, ms));
      }
    }
  }

  /** Runs one API call; any error becomes a typed error naming the call. */
  async call<T>(call: KubeCall, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.transient(fn);
    } catch (err) {
      throw mapKubeError(err, call, this.endpoint);
    }
  }

  /** Like call(), but 404 Not Found is `null`. */
  async optional<T>(call: KubeCall, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await this.transient(fn);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw mapKubeError(err, call, this.endpoint);
    }
  }

  /**
   * Runs `attempt` (which re-reads and writes) again on a 409 Conflict, a bounded number of
   * times. `attempt` must use raw client calls for the write, so that the conflict reaches here.
   */
  async retryOnConflict<T>(call: KubeCall, attempt: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let i = 0; i < CONFLICT_ATTEMPTS; i++) {
      try {
        return await this.transient(attempt);
      } catch (err) {
        if (!isConflict(err)) throw mapKubeError(err, call, this.endpoint);
        last = err;
        this.log(`kube conflict on ${call.resource}/${call.name ?? ''} (attempt ${i + 1}/${CONFLICT_ATTEMPTS}); re-reading`);
        await new Promise((r) => setTimeout(r, 50 * (i + 1)));
      }
    }
    throw new OperationError(
      `${call.resource}/${call.name ?? ''} in namespace ${call.namespace ?? ''} kept changing while rhacs-sts updated it (${CONFLICT_ATTEMPTS} conflicts in a row).`,
      { hint: 'Something else is writing to it continuously (a controller?); re-run in a moment.', cause: last },
    );
  }
}
