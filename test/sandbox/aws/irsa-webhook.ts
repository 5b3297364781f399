// STAND-IN for amazon-eks-pod-identity-webhook (github.com/aws/amazon-eks-pod-identity-webhook, the
// "IAM roles for service accounts" mutating admission webhook that EKS runs on its control plane).
// The Go module proxy does not serve it, so this reproduces its documented behaviour (README and
// pkg/handler/handler.go, pkg/cache/cache.go, pkg/annotations.go) as EKS configures it:
//
// - registered as MutatingWebhookConfiguration `pod-identity-webhook` / webhook
//   `iam-for-pods.amazonaws.com`, pods CREATE only, failurePolicy Ignore, objectSelector
//   `eks.amazonaws.com/skip-pod-identity-webhook` DoesNotExist, reinvocationPolicy IfNeeded,
//   timeoutSeconds 10, sideEffects None (the EKS copy speaks v1beta1; this one v1);
// - a pod whose service account has `eks.amazonaws.com/role-arn` gets, in every container and init
//   container not named in the pod annotation `eks.amazonaws.com/skip-containers`:
//   AWS_STS_REGIONAL_ENDPOINTS=regional (unless the SA says `eks.amazonaws.com/sts-regional-endpoints:
//   "false"`), AWS_DEFAULT_REGION and AWS_REGION (the cluster's region), AWS_ROLE_ARN and
//   AWS_WEB_IDENTITY_TOKEN_FILE, and a read-only mount of the projected volume `aws-iam-token`
//   (serviceAccountToken: audience `sts.amazonaws.com` or the SA's `eks.amazonaws.com/audience`,
//   expirationSeconds 86400 or the SA's / pod's `eks.amazonaws.com/token-expiration`, at least 3600;
//   path `token`) at /var/run/secrets/eks.amazonaws.com/serviceaccount;
// - per container, as the real one does: a container that already sets AWS_ROLE_ARN or
//   AWS_WEB_IDENTITY_TOKEN_FILE keeps its own pair (none of the two is added); either region variable
//   set: neither is added; AWS_STS_REGIONAL_ENDPOINTS set: kept; a container with all three groups
//   set is left alone entirely (no mount either); an existing `aws-iam-token` volume or mount is kept;
//   a pod with a windows nodeSelector gets a C:\ token path.
// Pods that already exist are never touched (CREATE only): a pod started before the annotation keeps
// running without credentials until it is replaced.
//
// Left out: the service-account informer cache (this reads the service account from the API server
// at admission, i.e. a cache that is always in sync), EKS Pod Identity associations (container
// credentials), AWS_ENDPOINT_URL, metrics and certificate rotation. The ServiceAccount admission
// plugin is off in the sandbox, so a pod without serviceAccountName is treated as `default`, as
// that plugin would have set it before the webhook runs.
//
// Every admission decision is appended to a JSON-lines file next to the cluster's audit log, so
// test files (other processes) can read what was mutated: irsaMutations() / irsaMark().
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { createRestrictedUser } from '../kube/restricted-users.js';
import { issueCert } from '../certs.js';
import { clusterInfo, IRSA_WEBHOOK_USER, kubeConfigFor } from '../observe.js';
import type { ClusterInfo, SandboxInfo } from '../types.js';
import {
  podPatch,
  ROLE_ARN_ANNOTATION,
  serviceAccountConfig,
  SKIP_LABEL,
  WEBHOOK_CONFIGURATION_NAME,
  WEBHOOK_NAME,
  type JsonPatchOp,
  type PodLike,
} from './irsa-patch.js';

export * from './irsa-patch.js';
export { IRSA_WEBHOOK_USER };

/** Label of the dry-run pods used to wait until the API server calls the webhook (not recorded). */
const PROBE_LABEL = 'sandbox.rhacs-sts.test/irsa-webhook-probe';


// ---------------------------------------------------------------------------------------------------
// Records (read by tests in other processes)

/** One admission decision of the webhook. */
export interface IrsaMutation {
  seq: number;
  time: string;
  uid: string;
  namespace: string;
  /** metadata.name, or generateName when the name is generated. */
  pod: string;
  serviceAccount: string;
  dryRun: boolean;
  /** True when the response carried a patch that changes the pod. */
  mutated: boolean;
  /** Why nothing was injected (no role annotation, service account not found, …). */
  reason?: string;
  /** The IRSA role (service account annotation). */
  roleArn?: string;
  /** The role of the service account's EKS Pod Identity association. */
  podIdentityRoleArn?: string;
  patch?: JsonPatchOp[];
}

/** The records file of a cluster's webhook (next to its audit log). */
export function irsaRecordsPath(cluster: ClusterInfo): string {
  return join(dirname(cluster.auditLogPath), 'irsa-webhook.jsonl');
}

function readRecords(info: SandboxInfo, cluster: string): IrsaMutation[] {
  let text = '';
  try {
    text = readFileSync(irsaRecordsPath(clusterInfo(info, cluster)), 'utf8');
  } catch {
    return [];
  }
  const out: IrsaMutation[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as IrsaMutation);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** Current position in the webhook's records; pass it to irsaMutations(). */
export function irsaMark(info: SandboxInfo, cluster: string): number {
  return readRecords(info, cluster).at(-1)?.seq ?? 0;
}

/** The webhook's decisions after `since` (a value from irsaMark), optionally for one namespace. */
export function irsaMutations(info: SandboxInfo, cluster: string, since = 0, namespace?: string): IrsaMutation[] {
  return readRecords(info, cluster)
    .filter((r) => r.seq > since)
    .filter((r) => namespace === undefined || r.namespace === namespace);
}

/** True when the cluster has the webhook registered (only EKS-flavour clusters do). */
export function hasIrsaWebhook(info: SandboxInfo, cluster: string): boolean {
  try {
    statSync(irsaRecordsPath(clusterInfo(info, cluster)));
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The server

export interface IrsaWebhook {
  cluster: string;
  /** https://127.0.0.1:PORT/mutate */
  url: string;
  recordsPath: string;
  /** Closes the server and removes the registration (best effort). */
  stop(): Promise<void>;
}

export interface IrsaWebhookOptions {
  /** Inject AWS_STS_REGIONAL_ENDPOINTS by default (the EKS webhook does; default true). */
  regionalSts?: boolean;
  log?: (message: string) => void;
  /** Bound for waiting until the API server calls the webhook (default 20 s). */
  readyTimeoutMs?: number;
}

interface AdmissionRequest {
  uid: string;
  kind?: { kind?: string };
  operation?: string;
  namespace?: string;
  dryRun?: boolean;
  object?: PodLike;
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

/** A throwaway serving certificate for 127.0.0.1 from the sandbox CA (the API server trusts it through caBundle). */
function servingCertificate(info: SandboxInfo, cluster: string): { cert: Buffer; key: Buffer } {
  const name = `irsa-webhook-${cluster}`;
  const pair = issueCert({ cert: info.caCertPath, key: info.caKeyPath }, info.certDir, name, { cn: name, usage: 'server', sans: ['IP:127.0.0.1'] });
  return { cert: readFileSync(pair.cert), key: readFileSync(pair.key) };
}

/** Registers the webhook with the EKS configuration (replacing an older registration). */
async function register(kc: KubeConfig, url: string, caBundle: string): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const body: V1MutatingWebhookConfiguration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: WEBHOOK_CONFIGURATION_NAME },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        clientConfig: { url, caBundle },
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        objectSelector: { matchExpressions: [{ key: SKIP_LABEL, operator: 'DoesNotExist' }] },
        reinvocationPolicy: 'IfNeeded',
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
        sideEffects: 'None',
        timeoutSeconds: 10,
      },
    ],
  };
  await api.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await api.createMutatingWebhookConfiguration({ body });
}

/**
 * Starts the webhook for an EKS-flavour cluster: an HTTPS server on 127.0.0.1 with a serving
 * certificate from the sandbox CA, its own user (reads service accounts only, like the real one's
 * ClusterRole), and the MutatingWebhookConfiguration. Resolves once the API server calls it.
 */
export async function startIrsaWebhook(info: SandboxInfo, cluster: string, opts: IrsaWebhookOptions = {}): Promise<IrsaWebhook> {
  const t0 = Date.now();
  const c = clusterInfo(info, cluster);
  if (c.flavour !== 'eks') throw new Error(`the IRSA webhook runs on EKS-flavour clusters only (${cluster} is ${c.flavour})`);
  const log = opts.log ?? (() => undefined);
  const regionalSts = opts.regionalSts ?? true;
  const recordsPath = irsaRecordsPath(c);
  appendFileSync(recordsPath, '');
  // Numbering continues across restarts of the webhook, so marks stay valid.
  let seq = irsaMark(info, cluster);
  const record = (r: Omit<IrsaMutation, 'seq' | 'time'>) => {
    appendFileSync(recordsPath, JSON.stringify({ seq: ++seq, time: new Date().toISOString(), ...r }) + '\n');
  };

  const user = await createRestrictedUser(info, cluster, {
    name: IRSA_WEBHOOK_USER,
    namespace: 'kube-system',
    rules: [],
    clusterRules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] }],
  });
  const ukc = new KubeConfig();
  ukc.loadFromFile(user.kubeconfig);
  const core = ukc.makeApiClient(CoreV1Api);

  let probeSeen = false;
  async function review(req: AdmissionRequest): Promise<{ patch?: JsonPatchOp[] }> {
    const pod = req.object ?? {};
    const namespace = req.namespace ?? '';
    if (pod.metadata?.labels?.[PROBE_LABEL] !== undefined) {
      probeSeen = true;
      return {};
    }
    const sa = pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
    const base = { uid: req.uid, namespace, pod: pod.metadata?.name || pod.metadata?.generateName || '', serviceAccount: sa, dryRun: !!req.dryRun };
    if (req.kind?.kind !== 'Pod' || req.operation !== 'CREATE') {
      record({ ...base, mutated: false, reason: `not a pod CREATE (${req.kind?.kind} ${req.operation})` });
      return {};
    }
    let annotations: Record<string, string> | undefined;
    try {
      annotations = (await core.readNamespacedServiceAccount({ name: sa, namespace })).metadata?.annotations;
    } catch (err) {
      record({ ...base, mutated: false, reason: `service account ${namespace}/${sa} not found (${(err as { code?: number }).code ?? (err as Error).message})` });
      return {};
    }
    const cfg = serviceAccountConfig(annotations, regionalSts);
    const association = await podIdentityAssociation(info, c, namespace, sa);
    if (!cfg && !association) {
      record({ ...base, mutated: false, reason: `service account ${namespace}/${sa} has no ${ROLE_ARN_ANNOTATION} annotation and no pod identity association` });
      return {};
    }
    const { patch, changed } = podPatch(pod, cfg, c.region, association ? { regionalSts } : undefined);
    record({
      ...base,
      mutated: changed,
      ...(cfg ? { roleArn: cfg.roleArn } : {}),
      ...(association ? { podIdentityRoleArn: association.roleArn } : {}),
      patch,
      ...(changed ? {} : { reason: 'the variables and the volume were already present' }),
    });
    return { patch };
  }

  const server = https.createServer(
    servingCertificate(info, cluster),
    (req, res) => {
      void (async () => {
        if (req.method !== 'POST' || req.url?.split('?')[0] !== '/mutate') return reply(res, 404, 'not found');
        // The real handler insists on this content type (HTTP 415 otherwise).
        if (req.headers['content-type'] !== 'application/json') return reply(res, 415, 'Invalid Content-Type, expected `application/json`');
        let ar: { apiVersion?: string; request?: AdmissionRequest };
        try {
          ar = JSON.parse(await readBody(req));
        } catch (err) {
          return reply(res, 400, `cannot decode the AdmissionReview: ${(err as Error).message}`);
        }
        if (ar.apiVersion !== 'admission.k8s.io/v1' || !ar.request?.uid) return reply(res, 400, 'expected an admission.k8s.io/v1 AdmissionReview with a request');
        const { patch } = await review(ar.request);
        const response: Record<string, unknown> = { uid: ar.request.uid, allowed: true };
        if (patch) Object.assign(response, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
        reply(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
      })().catch((err) => {
        log(`irsa-webhook: ${(err as Error).message}`);
        if (!res.headersSent) reply(res, 500, (err as Error).message);
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/mutate`;
  const admin = kubeConfigFor(info, cluster);
  const close = () => new Promise<void>((r) => server.close(() => r()));
  try {
    await register(admin, url, readFileSync(info.caCertPath).toString('base64'));
    await waitUntilCalled(admin, () => probeSeen, opts.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await close();
    throw new Error(`IRSA webhook for ${cluster} did not start: ${(err as Error).message}`);
  }
  log(`IRSA webhook for ${cluster} at ${url} (ready in ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  server.unref();
  return {
    cluster,
    url,
    recordsPath,
    async stop() {
      server.closeAllConnections();
      await close();
      await admin.makeApiClient(AdmissionregistrationV1Api).deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
    },
  };
}

/**
 * The service account's EKS Pod Identity association, as the EKS control plane knows it: the AWS
 * gate's associations (gate-eks.ts), read through its sandbox endpoint so the read is not an AWS request.
 */
async function podIdentityAssociation(info: SandboxInfo, c: ClusterInfo, namespace: string, serviceAccount: string): Promise<{ roleArn: string } | undefined> {
  if (!info.counterUrl) return undefined;
  const q = new URLSearchParams({ cluster: c.name, region: c.region, namespace, serviceAccount });
  const res = await fetch(`${info.counterUrl}/pod-identity-associations?${q}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`reading pod identity associations: HTTP ${res.status}`);
  const { associations } = (await res.json()) as { associations: { roleArn: string }[] };
  return associations[0];
}

/** The API server picks up a new webhook configuration asynchronously: dry-run pods until it calls us (bounded). */
async function waitUntilCalled(kc: KubeConfig, seen: () => boolean, timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    await core.createNamespacedPod({
      namespace: 'default',
      dryRun: 'All',
      body: {
        metadata: { generateName: 'irsa-webhook-probe-', labels: { [PROBE_LABEL]: 'true' } },
        spec: { containers: [{ name: 'probe', image: 'probe' }] },
      },
    });
    if (seen()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API server did not call the webhook within ${timeoutMs} ms`);
}

/** Starts the webhook on every EKS-flavour cluster of the sandbox (none elsewhere). */
export async function startIrsaWebhooks(info: SandboxInfo, opts: IrsaWebhookOptions = {}): Promise<IrsaWebhook[]> {
  const eks = Object.values(info.clusters).filter((c) => c.flavour === 'eks');
  const started = await Promise.allSettled(eks.map((c) => startIrsaWebhook(info, c.name, opts)));
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((w) => w.stop()));
    throw failed.reason;
  }
  return ok;
}
