// For the Central stand-in's own tests (project `standins`): one Central API in-process on
// 127.0.0.1, in front of a Kubernetes API played by a small fake (the serving pod, Secrets in its
// namespace, and service-account tokens signed by the test's issuer, as the kubelet would write
// them into the pod's projected volumes), so Central's tests of integrations walk the Google and
// Azure stand-ins as a Central pod would.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { CentralApi } from './central-api.js';
import type { SandboxInfo } from '../types.js';

export const NS = 'stackrox';
export const ADMIN_TOKEN = 'central-admin-token';

export interface FakeCentral {
  api: CentralApi;
  url: string;
  pod: V1Pod;
  secrets: Map<string, Record<string, string>>;
  /** Tokens the fake kubelet minted: subject and audience. */
  minted: { subject: string; audience: string }[];
  /** A request to Central's API as an admin; the answer's status and JSON body. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A Central pod: its central container with `env`, and a projected service-account token mounted at `tokenFile` for `audience`. */
export function centralPod(o: { env?: Record<string, string>; tokenFile?: string; audience?: string; serviceAccount?: string } = {}): V1Pod {
  const file = o.tokenFile;
  const dir = file?.slice(0, file.lastIndexOf('/'));
  return {
    metadata: { name: 'central-6d4f9c7b8-x2k4p', namespace: NS, uid: '0d6e2f0a-1111-4222-8333-444455556666', labels: { app: 'central' }, creationTimestamp: new Date() },
    spec: {
      serviceAccountName: o.serviceAccount ?? 'central',
      containers: [{
        name: 'central',
        image: 'registry.redhat.io/advanced-cluster-security/rhacs-main-rhel8:4.7.2',
        env: Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
        volumeMounts: file ? [{ name: 'cloud-token', mountPath: dir!, readOnly: true }] : [],
      }],
      volumes: file ? [{ name: 'cloud-token', projected: { sources: [{ serviceAccountToken: { path: file.slice(file.lastIndexOf('/') + 1), audience: o.audience, expirationSeconds: 3600 } }] } }] : [],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Starts one Central API whose pod is `pod` and whose cluster signs tokens with `sign`. */
export async function startFakeCentral(pod: V1Pod, sign: (subject: string, audience: string) => string): Promise<FakeCentral> {
  const secrets = new Map<string, Record<string, string>>();
  const minted: FakeCentral['minted'] = [];
  const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { code: 404 });
  const core = {
    listNamespacedPod: async () => ({ items: [fake.pod] }),
    readNamespacedPod: async () => fake.pod,
    readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
      const data = secrets.get(`${namespace}/${name}`);
      if (!data) throw notFound(`secrets "${name}"`);
      return { metadata: { name, namespace }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
    },
    createNamespacedServiceAccountToken: async ({ name, namespace, body }: { name: string; namespace: string; body: { spec: { audiences?: string[] } } }) => {
      const subject = `system:serviceaccount:${namespace}:${name}`;
      const audience = body.spec.audiences?.[0] ?? '';
      minted.push({ subject, audience });
      return { status: { token: sign(subject, audience) } };
    },
  } as unknown as CoreV1Api;
  const api = new CentralApi({} as SandboxInfo, 'test', core, () => undefined);
  api.state(NS).tokens.set(ADMIN_TOKEN, 'Admin');
  const server = http.createServer((req, res) => void api.handle(NS, undefined, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeCentral = {
    api,
    url,
    pod,
    secrets,
    minted,
    call: async (method, path, body) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
