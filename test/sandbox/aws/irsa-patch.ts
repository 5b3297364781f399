// The IRSA webhook stand-in's mutation, pure: what amazon-eks-pod-identity-webhook adds to a pod
// (handler.go, cache.go, annotations.go) for its service account's annotations or EKS Pod Identity
// association, container by container. The server around it is irsa-webhook.ts.

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
