// How a cluster's Central stand-ins are reached (central-standin.ts): for each Central pod, a listener
// on 127.0.0.1 with the install's own certificates (central-tls; the exposure's
// central-default-tls-cert for other server names) and a kwok PortForward named like the pod, so a
// port-forward through the real API server reaches "the Central of that pod"; and, for tests, an
// exposed endpoint per namespace. Requests go to the cluster's CentralApi (central-api.ts).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { CentralApi, type CentralRequest, type CentralState } from './central-api.js';
import type { SandboxInfo } from '../types.js';

export const CENTRAL_PORT = 8443;

interface PodListener {
  pod: string;
  uid: string;
  server: https.Server;
  port: number;
}

/** One cluster's Centrals. */
export class ClusterCentrals {
  private readonly listeners = new Map<string, PodListener>();
  private readonly pending = new Set<string>();
  private readonly endpoints = new Map<string, { server: https.Server; url: string }>();
  private watchAbort?: AbortController;
  private stopped = false;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly api: CentralApi;

  constructor(
    readonly info: SandboxInfo,
    readonly cluster: string,
    readonly kc: KubeConfig,
    readonly record: (r: Omit<CentralRequest, 'seq'>) => void,
    readonly log: (m: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.api = new CentralApi(info, cluster, this.core, record);
  }

  state(namespace: string): CentralState {
    return this.api.state(namespace);
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
    const server = https.createServer({ ...certs.internal, SNICallback: this.sni(ns, certs) }, (req, res) => void this.api.handle(ns, name, req, res));
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
    const server = https.createServer({ ...(certs.exposed ?? certs.internal), SNICallback: this.sni(ns, certs) }, (req, res) => void this.api.handle(ns, undefined, req, res));
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
}
