// Stand-in for the Azure Workload Identity mutating webhook (Azure/azure-workload-identity,
// pkg/webhook; its Go module is not served here, so this follows its documented behaviour: the
// project's "Mutating Admission Webhook" and "Service Account Labels and Annotations" pages and
// pkg/webhook/consts.go as read in the reference notes):
//   - only pods labelled `azure.workload.identity/use: "true"` are mutated (the configuration's
//     objectSelector says so to the API server, and the handler checks again);
//   - the pod's service account must carry `azure.workload.identity/client-id`; the tenant comes from
//     its `azure.workload.identity/tenant-id` annotation or the webhook's default tenant;
//   - every container and init container not named in the pod annotation
//     `azure.workload.identity/skip-containers` (`a;b`) gets AZURE_CLIENT_ID, AZURE_TENANT_ID,
//     AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST (a variable the container already sets is
//     kept) and the volume mount `azure-identity-token` read-only at the v1.6 path;
//   - the pod gets the projected volume `azure-identity-token`: a service-account token with audience
//     `api://AzureADTokenExchange` and `expirationSeconds` from the pod's or else the service account's
//     `azure.workload.identity/service-account-token-expiration` (pod wins; 3600–86400, default 3600;
//     outside the range the pod is refused);
//   - the answer is an AdmissionReview v1 with a base64 JSONPatch.
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export const WI = {
  useLabel: 'azure.workload.identity/use',
  clientIdAnnotation: 'azure.workload.identity/client-id',
  tenantIdAnnotation: 'azure.workload.identity/tenant-id',
  expirationAnnotation: 'azure.workload.identity/service-account-token-expiration',
  skipContainersAnnotation: 'azure.workload.identity/skip-containers',
  volumeName: 'azure-identity-token',
  audience: 'api://AzureADTokenExchange',
  /** v1.6 moved the token from /var/run/secrets/azure/tokens to here. */
  mountPath: '/var/run/secrets/azure/wi/token',
  tokenPath: 'azure-identity-token',
  defaultExpiration: 3600,
  minExpiration: 3600,
  maxExpiration: 86400,
} as const;

export interface ServiceAccountView {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

export interface WebhookOptions {
  /** The webhook's default tenant (its AZURE_TENANT_ID). */
  tenantId: string;
  /** The authority host it injects (its AZURE_ENVIRONMENT's), e.g. https://login.microsoftonline.com/. */
  authorityHost: string;
  /** Reads a service account, as the webhook does from its informer. */
  serviceAccount(namespace: string, name: string): Promise<ServiceAccountView | undefined> | ServiceAccountView | undefined;
}

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface Pod {
  metadata?: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { serviceAccountName?: string; containers?: Container[]; initContainers?: Container[]; volumes?: unknown[] };
}

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: { uid: string; namespace?: string; operation?: string; object?: Pod };
  response?: { uid: string; allowed: boolean; patchType?: 'JSONPatch'; patch?: string; status?: { code: number; message: string } };
}

export interface MutationResult {
  review: AdmissionReview;
  /** Why the pod was or was not mutated. */
  reason: string;
  mutated: boolean;
}


/** Answers one AdmissionReview for a pod. */
export async function mutatePod(review: AdmissionReview, opts: WebhookOptions): Promise<MutationResult> {
  const req = review.request;
  if (!req) throw new Error('AdmissionReview without a request');
  const answer = (allowed: boolean, reason: string, patch?: unknown[], status?: { code: number; message: string }): MutationResult => ({
    review: {
      apiVersion: review.apiVersion || 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: req.uid, allowed, ...(patch?.length ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}), ...(status ? { status } : {}) },
    },
    reason,
    mutated: Boolean(patch?.length),
  });
  const pod = req.object ?? {};
  const labels = pod.metadata?.labels ?? {};
  if (labels[WI.useLabel] !== 'true') return answer(true, `pod is not labelled ${WI.useLabel}: "true"`);
  const namespace = pod.metadata?.namespace ?? req.namespace ?? 'default';
  const saName = pod.spec?.serviceAccountName || 'default';
  const sa = await opts.serviceAccount(namespace, saName);
  const saAnn = sa?.metadata.annotations ?? {};
  const clientId = saAnn[WI.clientIdAnnotation];
  if (!clientId) return answer(true, `service account ${namespace}/${saName} has no ${WI.clientIdAnnotation} annotation`);
  const tenantId = saAnn[WI.tenantIdAnnotation] || opts.tenantId;
  const podAnn = pod.metadata?.annotations ?? {};
  const rawExp = podAnn[WI.expirationAnnotation] ?? saAnn[WI.expirationAnnotation];
  const exp = rawExp === undefined ? WI.defaultExpiration : Number(rawExp);
  if (!Number.isInteger(exp) || exp < WI.minExpiration || exp > WI.maxExpiration) {
    return answer(false, 'bad token expiration', undefined, { code: 400, message: `token expiration ${rawExp} not valid. Expected value to be between ${WI.minExpiration} and ${WI.maxExpiration}` });
  }
  const skip = new Set((podAnn[WI.skipContainersAnnotation] ?? '').split(';').map((s) => s.trim()).filter(Boolean));
  const env = [
    { name: 'AZURE_CLIENT_ID', value: clientId },
    { name: 'AZURE_TENANT_ID', value: tenantId },
    { name: 'AZURE_FEDERATED_TOKEN_FILE', value: `${WI.mountPath}/${WI.tokenPath}` },
    { name: 'AZURE_AUTHORITY_HOST', value: opts.authorityHost },
  ];
  const patch: unknown[] = [];
  const mutated: string[] = [];
  for (const kind of ['initContainers', 'containers'] as const) {
    (pod.spec?.[kind] ?? []).forEach((c, i) => {
      if (skip.has(c.name)) return;
      mutated.push(c.name);
      const have = new Set((c.env ?? []).map((e) => e.name));
      const add = env.filter((e) => !have.has(e.name));
      if (!c.env) patch.push({ op: 'add', path: `/spec/${kind}/${i}/env`, value: add });
      else for (const e of add) patch.push({ op: 'add', path: `/spec/${kind}/${i}/env/-`, value: e });
      const mount = { name: WI.volumeName, mountPath: WI.mountPath, readOnly: true };
      if ((c.volumeMounts ?? []).some((m) => m.name === WI.volumeName)) return;
      if (!c.volumeMounts) patch.push({ op: 'add', path: `/spec/${kind}/${i}/volumeMounts`, value: [mount] });
      else patch.push({ op: 'add', path: `/spec/${kind}/${i}/volumeMounts/-`, value: mount });
    });
  }
  const volume = { name: WI.volumeName, projected: { sources: [{ serviceAccountToken: { path: WI.tokenPath, expirationSeconds: exp, audience: WI.audience } }] } };
  const hasVolume = (pod.spec?.volumes ?? []).some((v) => (v as { name?: string }).name === WI.volumeName);
  if (!hasVolume) patch.push(pod.spec?.volumes ? { op: 'add', path: '/spec/volumes/-', value: volume } : { op: 'add', path: '/spec/volumes', value: [volume] });
  return answer(true, `mutated containers ${mutated.join(', ') || '(none)'} for ${namespace}/${saName}`, patch);
}

/** The MutatingWebhookConfiguration the webhook's chart installs, pointed at `url`. */
export function mutatingWebhookConfiguration(opts: { url: string; caBundle: string; name?: string }): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: opts.name ?? 'azure-wi-webhook-mutating-webhook-configuration', labels: { 'azure-workload-identity.io/system': 'true' } },
    webhooks: [
      {
        name: 'mutation.azure-workload-identity.io',
        admissionReviewVersions: ['v1', 'v1beta1'],
        clientConfig: { url: `${opts.url.replace(/\/+$/, '')}/mutate-v1-pod`, caBundle: opts.caBundle },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        objectSelector: { matchLabels: { [WI.useLabel]: 'true' } },
        reinvocationPolicy: 'IfNeeded',
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        sideEffects: 'None',
        timeoutSeconds: 10,
      },
    ],
  };
}

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

/** Serves POST /mutate-v1-pod over HTTPS on 127.0.0.1; `onDecision` sees each answer (and the review it answered). */
export async function startWebhookServer(opts: WebhookOptions & { cert: Buffer; key: Buffer; onDecision?: (r: MutationResult, status: number, asked: AdmissionReview) => void }): Promise<WebhookServer> {
  const server = https.createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 4 * 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'https://x').pathname !== '/mutate-v1-pod') return reply(404, { message: 'not found' });
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      } catch {
        return reply(400, { message: 'body is not an AdmissionReview' });
      }
      if (review.kind !== 'AdmissionReview' || !review.request) return reply(400, { message: 'body is not an AdmissionReview' });
      mutatePod(review, opts).then(
        (r) => {
          opts.onDecision?.(r, 200, review);
          reply(200, r.review);
        },
        (err: Error) => reply(500, { message: err.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as AddressInfo).port;
  // An API server keeps its connections to a webhook alive: close them, or close() waits for them.
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
