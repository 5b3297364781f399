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

export { IRSA_WEBHOOK_USER };
export const WEBHOOK_CONFIGURATION_NAME = 'pod-identity-webhook';
export const WEBHOOK_NAME = 'iam-for-pods.amazonaws.com';
export const SKIP_LABEL = 'eks.amazonaws.com/skip-pod-identity-webhook';
const DOMAIN = 'eks.amazonaws.com';
export const ROLE_ARN_ANNOTATION = `${DOMAIN}/role-arn`;
export const AUDIENCE_ANNOTATION = `${DOMAIN}/audience`;
export const REGIONAL_STS_ANNOTATION = `${DOMAIN}/sts-regional-endpoints`;
export const TOKEN_EXPIRATION_ANNOTATION = `${DOMAIN}/token-expiration`;
export const SKIP_CONTAINERS_ANNOTATION = `${DOMAIN}/skip-containers`;
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
export const DEFAULT_TOKEN_EXPIRATION = 86400;
export const MIN_TOKEN_EXPIRATION = 3600;
export const MOUNT_PATH = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
export const VOLUME_NAME = 'aws-iam-token';
export const TOKEN_PATH = 'token';
export const TOKEN_FILE = `${MOUNT_PATH}/${TOKEN_PATH}`;
/** EKS Pod Identity (container credentials), as the webhook injects it for an associated service account. */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_VOLUME = 'eks-pod-identity-token';
export const POD_IDENTITY_MOUNT_PATH = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount';
export const POD_IDENTITY_TOKEN_PATH = 'eks-pod-identity-token';
export const POD_IDENTITY_TOKEN_FILE = `${POD_IDENTITY_MOUNT_PATH}/${POD_IDENTITY_TOKEN_PATH}`;
/** Where the EKS Pod Identity Agent serves credentials on every node (its IPv4 link-local address). */
export const POD_IDENTITY_CREDENTIALS_URI = 'http://169.254.170.23/v1/credentials';
export const POD_IDENTITY_TOKEN_EXPIRATION = 86400;

/** Label of the dry-run pods used to wait until the API server calls the webhook (not recorded). */
const PROBE_LABEL = 'sandbox.rhacs-sts.test/irsa-webhook-probe';

// ---------------------------------------------------------------------------------------------------
// The mutation (pure)

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  [k: string]: unknown;
}
export interface PodLike {
  metadata?: { name?: string; generateName?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    serviceAccount?: string;
    nodeSelector?: Record<string, string>;
    containers?: Container[];
    initContainers?: Container[];
    volumes?: { name: string; [k: string]: unknown }[];
  };
}

/** What the webhook takes from a service account's annotations (the real cache's CacheResponse). */
export interface ServiceAccountConfig {
  roleArn: string;
  audience: string;
  regionalSts: boolean;
  tokenExpiration: number;
}

export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** Go's strconv.ParseBool, which the real webhook uses for the sts-regional-endpoints annotation. */
function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** An integer annotation, or undefined when it does not parse (the real one then keeps its default). */
function parseSeconds(v: string | undefined): number | undefined {
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  return Math.max(Number(v), MIN_TOKEN_EXPIRATION);
}

/** The service account's settings, or undefined when it has no role annotation (no mutation). */
export function serviceAccountConfig(annotations: Record<string, string> | undefined, defaultRegionalSts = true): ServiceAccountConfig | undefined {
  const a = annotations ?? {};
  const roleArn = a[ROLE_ARN_ANNOTATION];
  if (!roleArn) return undefined;
  const regional = a[REGIONAL_STS_ANNOTATION] === undefined ? undefined : parseGoBool(a[REGIONAL_STS_ANNOTATION]);
  return {
    roleArn,
    audience: a[AUDIENCE_ANNOTATION] ?? DEFAULT_AUDIENCE,
    regionalSts: regional ?? defaultRegionalSts,
    tokenExpiration: parseSeconds(a[TOKEN_EXPIRATION_ANNOTATION]) ?? DEFAULT_TOKEN_EXPIRATION,
  };
}

/** Container names listed in the pod's skip-containers annotation (one CSV record). */
function containersToSkip(pod: PodLike): Set<string> {
  const v = pod.metadata?.annotations?.[SKIP_CONTAINERS_ANNOTATION];
  if (v === undefined) return new Set();
  return new Set(v.split(',').map((s) => s.replace(/^"(.*)"$/, '$1')));
}

/** What one kind of credentials adds to a container: its two variables and its token mount. */
interface Injection {
  credentials: [{ name: string; value: string }, { name: string; value: string }];
  volume: string;
  mountPath: string;
}

/**
 * Adds what the container lacks; returns whether anything changed (handler.go addEnvToContainer and
 * its container-credentials branch): the two credential variables unless the container sets either,
 * the region variables unless it sets one, AWS_STS_REGIONAL_ENDPOINTS unless set, and the read-only
 * mount of the token volume.
 */
function injectInto(c: Container, i: Injection, region: string, regionalSts: boolean): boolean {
  const names = new Set((c.env ?? []).map((e) => e.name));
  const credsSet = i.credentials.some((e) => names.has(e.name));
  const regionSet = names.has('AWS_REGION') || names.has('AWS_DEFAULT_REGION');
  const stsSet = names.has('AWS_STS_REGIONAL_ENDPOINTS');
  if (credsSet && regionSet && stsSet) return false;
  const env = [...(c.env ?? [])];
  let changed = false;
  if (!stsSet && regionalSts) {
    env.push({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' });
    changed = true;
  }
  if (!regionSet && region) {
    env.push({ name: 'AWS_DEFAULT_REGION', value: region }, { name: 'AWS_REGION', value: region });
    changed = true;
  }
  if (!credsSet) {
    env.push(...i.credentials);
    changed = true;
  }
  c.env = env;
  if (!(c.volumeMounts ?? []).some((m) => m.name === i.volume)) {
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: i.volume, readOnly: true, mountPath: i.mountPath }];
    changed = true;
  }
  return changed;
}

/** IRSA: the role and the web-identity token file. */
function addEnvToContainer(c: Container, cfg: ServiceAccountConfig, region: string, tokenFile: string): boolean {
  return injectInto(c, {
    credentials: [{ name: 'AWS_ROLE_ARN', value: cfg.roleArn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: tokenFile }],
    volume: VOLUME_NAME, mountPath: MOUNT_PATH,
  }, region, cfg.regionalSts);
}

/** EKS Pod Identity: the agent's credentials URI and the Pod Identity token file. */
function addContainerCredentials(c: Container, region: string, regionalSts: boolean): boolean {
  return injectInto(c, {
    credentials: [{ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_CREDENTIALS_URI }, { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: POD_IDENTITY_TOKEN_FILE }],
    volume: POD_IDENTITY_VOLUME, mountPath: POD_IDENTITY_MOUNT_PATH,
  }, region, regionalSts);
}

/** The pod annotation overrides the service account's token expiration (handler.go parsePodAnnotations). */
export function tokenExpirationFor(pod: PodLike, cfg: ServiceAccountConfig): number {
  return parseSeconds(pod.metadata?.annotations?.[TOKEN_EXPIRATION_ANNOTATION]) ?? cfg.tokenExpiration;
}

/** The JSON patch the real webhook returns for this pod (handler.go getPodSpecPatch), and whether it changes anything. */
export function podPatch(
  pod: PodLike,
  cfg: ServiceAccountConfig | undefined,
  region: string,
  podIdentity?: { regionalSts: boolean },
): { patch: JsonPatchOp[]; changed: boolean } {
  const spec = pod.spec ?? {};
  const windows = spec.nodeSelector?.['kubernetes.io/os'] === 'windows' || spec.nodeSelector?.['beta.kubernetes.io/os'] === 'windows';
  const tokenFile = windows ? `C:${TOKEN_FILE.replace(/\//g, '\\')}` : TOKEN_FILE;
  const skip = containersToSkip(pod);
  let changed = false;
  const mutate = (list: Container[] | undefined) =>
    (list ?? []).map((orig) => {
      const c: Container = structuredClone(orig);
      if (!skip.has(c.name) && cfg && addEnvToContainer(c, cfg, region, tokenFile)) changed = true;
      // An associated service account also gets container credentials; with the IRSA annotation still
      // there the pod carries both, and the AWS SDKs' default chain takes web identity first.
      if (!skip.has(c.name) && podIdentity && addContainerCredentials(c, region, podIdentity.regionalSts)) changed = true;
      return c;
    });
  const initContainers = mutate(spec.initContainers);
  const containers = mutate(spec.containers);
  const patch: JsonPatchOp[] = [];
  let hasVolumes = !!spec.volumes;
  const addVolume = (volume: { name: string; projected: unknown }) => {
    patch.push(hasVolumes ? { op: 'add', path: '/spec/volumes/0', value: volume } : { op: 'add', path: '/spec/volumes', value: [volume] });
    hasVolumes = true;
    changed = true;
  };
  if (cfg && !(spec.volumes ?? []).some((v) => v.name === VOLUME_NAME)) {
    addVolume({
      name: VOLUME_NAME,
      projected: {
        sources: [{ serviceAccountToken: { audience: cfg.audience, expirationSeconds: tokenExpirationFor(pod, cfg), path: TOKEN_PATH } }],
      },
    });
  }
  if (podIdentity && !(spec.volumes ?? []).some((v) => v.name === POD_IDENTITY_VOLUME)) {
    addVolume({
      name: POD_IDENTITY_VOLUME,
      projected: {
        sources: [{ serviceAccountToken: { audience: POD_IDENTITY_AUDIENCE, expirationSeconds: POD_IDENTITY_TOKEN_EXPIRATION, path: POD_IDENTITY_TOKEN_PATH } }],
      },
    });
  }
  patch.push({ op: 'add', path: '/spec/containers', value: containers });
  if (initContainers.length) patch.push({ op: 'add', path: '/spec/initContainers', value: initContainers });
  return { patch, changed };
}

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
