// Google Cloud stand-ins: HTTPS on 127.0.0.1 (the sandbox CA from ../certs.ts), one listener per Google host, playing
// IAM, Google STS, IAM Credentials, Resource Manager, GKE, Artifact Registry (its API and its Docker
// registry) and Google's OAuth 2.0 token endpoint; each host is its own port, since Google's clients
// keep only the origin of their `rootUrl`. Every API request is routed to its method in Google's discovery documents
// (discovery.ts) and validated there; every answer is validated before it is sent. Callers need a
// bearer token the stand-ins issued (or a service account's self-signed JWT), and permissions from
// the IAM policies (iam-policy.ts). Everything is recorded (method, API method id, decision), so a
// test can prove what was, and was not, sent.
import { createPublicKey, createSign, generateKeyPairSync, randomBytes, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert } from '../certs.js';
import { loadContract, type ApiContract, type DiscoveryMethod, type GoogleApi } from './discovery.js';
import { GoogleError } from './google-error.js';
import { PolicyStore, type Expr, type Policy } from './iam-policy.js';

/** The issuers' public web, as Google STS reaches it (the sandbox's public issuer stand-in). */
export type PublicFetch = (url: string) => Promise<{ status: number; body: string }>;

export interface GcpProjectSpec {
  projectId: string;
  projectNumber: string;
}

export interface GcpStandinsOptions {
  /** Projects that exist (default one: `sandbox-project`, number `123456789012`). */
  projects?: GcpProjectSpec[];
  /** How long a new service account or IAM grant takes to become effective (default 0). */
  propagationDelayMs?: number;
  /** The stand-ins' clock in ms (default Date.now): tests move it instead of sleeping. */
  now?: () => number;
  /** How Google STS fetches an issuer's discovery document and keys. */
  fetchPublic?: PublicFetch;
  /** Where the CA and serving certificate go (default: a temporary directory, removed on close). */
  certDir?: string;
}

/** One request as the stand-ins saw it. */
export interface GcpRequestRecord {
  seq: number;
  method: string;
  path: string;
  /** The discovery method id (`iam.projects.serviceAccounts.create`), or the endpoint's own name. */
  methodId: string;
  /** Who called (`user:…`, `serviceAccount:…`, `principal://…`), when known. */
  caller?: string;
  decision: 'allowed' | 'denied' | 'invalid' | 'unauthenticated' | 'not-found' | 'conflict' | 'unimplemented';
  status: number;
  reason?: string;
}

export interface GkeNodePoolSpec {
  name: string;
  /** `config.workloadMetadataConfig.mode` (default GKE_METADATA when the cluster has workload identity). */
  metadataMode?: 'GKE_METADATA' | 'GCE_METADATA' | 'MODE_UNSPECIFIED';
  /** The nodes' Compute Engine service account (default: the project's compute default). */
  serviceAccount?: string;
}

export interface GkeClusterSpec {
  projectId: string;
  location: string;
  name: string;
  /** Workload identity on: `workloadIdentityConfig.workloadPool` = `<project>.svc.id.goog`. */
  workloadIdentity: boolean;
  nodePools: GkeNodePoolSpec[];
  /** The cluster's service-account issuer (GKE's own form by default). */
  issuer?: string;
}

export interface ArtifactRepositorySpec {
  projectId: string;
  location: string;
  repository: string;
  /** Image references served by its Docker registry (`image:tag`). */
  images?: string[];
}

/** A resource whose IAM policy the stand-ins keep. */
export type PolicyResource =
  | { kind: 'project'; projectId: string }
  | { kind: 'serviceAccount'; email: string }
  | { kind: 'repository'; projectId: string; location: string; repository: string };

export interface GcpStandinUrls {
  iam: string;
  sts: string;
  iamcredentials: string;
  cloudresourcemanager: string;
  container: string;
  artifactregistry: string;
  /** Google's OAuth 2.0 token endpoint (a key file's `token_uri`, authorized_user refresh). */
  oauth2Token: string;
  /** Google STS's token URL for an `external_account` configuration. */
  stsToken: string;
  /** The Docker registry of `<location>-docker.pkg.dev` (once a repository is seeded there). */
  docker(location: string): string;
}

export interface GcpStandins {
  urls: GcpStandinUrls;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** An HTTPS agent trusting that CA (verification on), for Google's clients (`new Gaxios({agent})`). */
  agent: https.Agent;
  /** The seeded owner (`user:admin@sandbox.example`), as application default credentials (authorized_user). */
  adminCredentials(): { type: 'authorized_user'; client_id: string; client_secret: string; refresh_token: string };
  /** A service account key (`type: service_account`) whose `token_uri` is the stand-in. */
  serviceAccountKey(email: string): Record<string, string>;
  /** An access token for a member (`user:…`, `serviceAccount:…`), as the token endpoint would issue. */
  issueAccessToken(member: string, lifetimeS?: number): string;
  /** Who a bearer token (issued here) stands for, or undefined. */
  tokenPrincipal(token: string): string | undefined;
  /** Seeds a grant (effective at once, as if written long ago). */
  grant(resource: PolicyResource, role: string, member: string, condition?: Expr): void;
  /** Makes another writer change the policy between the caller's next read and write. */
  concurrentWrite(resource: PolicyResource, role: string, member: string, condition?: Expr): void;
  /** The policy as stored (version 3 view). */
  policy(resource: PolicyResource): Policy;
  seedCluster(spec: GkeClusterSpec): void;
  seedRepository(spec: ArtifactRepositorySpec): Promise<void>;
  /** GKE's view of a cluster, for the metadata server stand-in. */
  cluster(projectId: string, location: string, name: string): GkeClusterSpec | undefined;
  /**
   * What the GKE metadata server asks of Google for a pod: a token for the Kubernetes service
   * account's principal (`serviceAccount:<pool>[ns/sa]`), or, with a Google service account to
   * act as, `generateAccessToken` through IAM Credentials' own checks (recorded like any call).
   */
  gkeWorkloadToken(cluster: { projectId: string; location: string; name: string }, ns: string, ksa: string, gsa?: string): Promise<{ accessToken: string; expiresIn: number; principal: string }>;
  setPropagationDelay(ms: number): void;
  projectNumber(projectId: string): string;
  /** Recorded requests with seq > since. */
  requests(since?: number): GcpRequestRecord[];
  mark(): number;
  close(): Promise<void>;
}

const ADMIN = 'user:admin@sandbox.example';
const ADMIN_CLIENT = { client_id: 'sandbox-client.apps.googleusercontent.com', client_secret: 'sandbox-secret' };
const TOKEN_LIFETIME_S = 3600;
const POOL_ID = /^[a-z0-9-]{4,32}$/;
const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;
const RESERVATION_MS = 30 * 24 * 3600 * 1000;
const MAX_BODY = 1024 * 1024;
const STS_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const STS_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const STS_SUBJECT_TYPES = new Set(['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token']);
const MAX_SUBJECT_TOKEN_LIFETIME_S = 24 * 3600;
const CLOCK_SKEW_S = 300;

interface Project extends GcpProjectSpec {
  policy: PolicyStore;
}

interface ServiceAccount {
  projectId: string;
  email: string;
  uniqueId: string;
  displayName?: string;
  description?: string;
  disabled: boolean;
  createdAt: number;
  policy: PolicyStore;
  /** key id → PEM public key. */
  keys: Map<string, string>;
}

interface Provider {
  body: Record<string, unknown>;
  state: 'ACTIVE' | 'DELETED';
  deletedAt?: number;
}

interface Pool {
  projectNumber: string;
  id: string;
  body: Record<string, unknown>;
  state: 'ACTIVE' | 'DELETED';
  deletedAt?: number;
  providers: Map<string, Provider>;
}

interface Repository extends ArtifactRepositorySpec {
  policy: PolicyStore;
}

interface IssuedToken {
  principal: string;
  expiresAt: number;
}

interface Ctx {
  method: DiscoveryMethod;
  params: Record<string, string | string[]>;
  body: Record<string, unknown>;
  caller: string;
}

const API_PREFIXES: Record<string, GoogleApi> = {
  iam: 'iam.v1',
  sts: 'sts.v1',
  iamcredentials: 'iamcredentials.v1',
  cloudresourcemanager: 'cloudresourcemanager.v3',
  container: 'container.v1',
  artifactregistry: 'artifactregistry.v1',
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function b64urlJson(s: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface Jwt {
  header: { alg?: string; kid?: string };
  payload: { iss?: string; sub?: string; aud?: string | string[]; exp?: number; iat?: number; nbf?: number; scope?: string; [k: string]: unknown };
  signingInput: string;
  signature: Buffer;
}

function parseJwt(token: string): Jwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: b64urlJson(parts[0]!), payload: b64urlJson(parts[1]!) as Jwt['payload'], signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

function verifyRs256(jwt: Jwt, key: Parameters<typeof createPublicKey>[0]): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  try {
    return verify('sha256', Buffer.from(jwt.signingInput), createPublicKey(key), jwt.signature);
  } catch {
    return false;
  }
}

/** The OAuth error shape Google's token endpoints (OAuth 2.0, STS) answer with. */
class OAuthError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export async function startGcpStandins(options: GcpStandinsOptions = {}): Promise<GcpStandins> {
  const now = options.now ?? Date.now;
  let delayMs = options.propagationDelayMs ?? 0;
  const contracts = new Map<GoogleApi, ApiContract>(Object.values(API_PREFIXES).map((api) => [api, loadContract(api)]));

  const ownCertDir = options.certDir === undefined;
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'gcp-standins-'));
  const caPair = createCa(certDir, 'rhacs-sts-gcp-standins-ca');
  const serving = issueCert(caPair, certDir, 'gcp-standins', { cn: '127.0.0.1', sans: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server' });
  const ca = readFileSync(caPair.cert, 'utf8');

  const projects = new Map<string, Project>();
  const byNumber = new Map<string, Project>();
  for (const p of options.projects ?? [{ projectId: 'sandbox-project', projectNumber: '123456789012' }]) {
    const project = { ...p, policy: new PolicyStore(now) };
    project.policy.seed('roles/owner', ADMIN);
    projects.set(p.projectId, project);
    byNumber.set(p.projectNumber, project);
  }
  const accounts = new Map<string, ServiceAccount>();
  const pools = new Map<string, Pool>();
  const clusters = new Map<string, GkeClusterSpec>();
  const repositories = new Map<string, Repository>();
  const tokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, string>();
  const adminRefresh = `1//sandbox-${randomBytes(12).toString('hex')}`;
  refreshTokens.set(adminRefresh, ADMIN);
  const operations = new Map<string, { name: string; reads: number; response: Record<string, unknown> }>();
  const records: GcpRequestRecord[] = [];
  let seq = 0;

  const record = (r: Omit<GcpRequestRecord, 'seq'>): void => {
    records.push({ seq: ++seq, ...r });
  };

  // --- lookups --------------------------------------------------------------------------------
  const project = (ref: string): Project => {
    const p = projects.get(ref) ?? byNumber.get(ref);
    if (!p) throw new GoogleError('PERMISSION_DENIED', `Permission denied on resource project ${ref} (or it may not exist).`);
    return p;
  };
  const accountKey = (ref: string): ServiceAccount | undefined => accounts.get(ref) ?? [...accounts.values()].find((a) => a.uniqueId === ref);
  const issue = (principal: string, lifetimeS = TOKEN_LIFETIME_S): string => {
    const token = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    tokens.set(token, { principal, expiresAt: now() + lifetimeS * 1000 });
    return token;
  };
  const poolKey = (projectNumber: string, id: string): string => `${projectNumber}/${id}`;
  const poolName = (pool: Pool): string => `projects/${pool.projectNumber}/locations/global/workloadIdentityPools/${pool.id}`;
  const repoKey = (projectId: string, location: string, repository: string): string => `${projectId}/${location}/${repository}`;
  const policyOf = (r: PolicyResource): PolicyStore => {
    switch (r.kind) {
      case 'project':
        return project(r.projectId).policy;
      case 'serviceAccount': {
        const a = accountKey(r.email);
        if (!a) throw new Error(`no service account ${r.email}`);
        return a.policy;
      }
      case 'repository': {
        const repo = repositories.get(repoKey(r.projectId, r.location, r.repository));
        if (!repo) throw new Error(`no repository ${r.projectId}/${r.location}/${r.repository}`);
        return repo.policy;
      }
    }
  };

  /** Whether `caller` holds `permission` on a resource through its own policy or its project's. */
  const allowed = (caller: string, permission: string, stores: PolicyStore[]): boolean => stores.some((s) => s.grants([caller], permission, delayMs));
  const requirePermission = (caller: string, permission: string, resource: string, stores: PolicyStore[]): void => {
    if (!allowed(caller, permission, stores)) {
      throw new GoogleError('PERMISSION_DENIED', `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`, [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission } },
      ]);
    }
  };

  // --- authentication -------------------------------------------------------------------------
  /** The caller of an API request: a token issued here, or a service account's self-signed JWT. */
  const authenticate = (req: IncomingMessage): string => {
    const refuse = (reason: string): GoogleError => {
      const e = new GoogleError(
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
      e.reason = reason;
      return e;
    };
    const m = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m) throw refuse('no bearer token');
    const token = m[1]!;
    const issued = tokens.get(token);
    if (issued) {
      if (issued.expiresAt <= now()) throw refuse('the access token has expired');
      return issued.principal;
    }
    // Google accepts a JWT signed by a service account key in place of an access token
    // ("service account authorization without OAuth"): iss = sub = the account, aud = the API or a scope.
    const jwt = parseJwt(token);
    if (!jwt) throw refuse('not a token the stand-ins issued, nor a JWT');
    const sa = jwt.payload.iss ? accounts.get(jwt.payload.iss) : undefined;
    const pem = sa && jwt.header.kid ? sa.keys.get(jwt.header.kid) : undefined;
    const t = Math.floor(now() / 1000);
    if (!sa || !pem) throw refuse('self-signed JWT: no such service account key');
    if (sa.disabled || jwt.payload.sub !== jwt.payload.iss) throw refuse('self-signed JWT: disabled account, or sub differs from iss');
    if (!verifyRs256(jwt, pem)) throw refuse('self-signed JWT: the signature does not verify against the key');
    if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp < t || typeof jwt.payload.iat !== 'number' || jwt.payload.iat > t + CLOCK_SKEW_S || jwt.payload.exp - jwt.payload.iat > 3600) {
      throw refuse('self-signed JWT: expired, from the future, or longer than an hour');
    }
    if (!jwt.payload.aud && !jwt.payload.scope) throw refuse('self-signed JWT: neither aud nor scope');
    return `serviceAccount:${sa.email}`;
  };

  // --- IAM: service accounts --------------------------------------------------------------------
  const saBody = (a: ServiceAccount): Record<string, unknown> => ({
    name: `projects/${a.projectId}/serviceAccounts/${a.email}`,
    projectId: a.projectId,
    uniqueId: a.uniqueId,
    email: a.email,
    ...(a.displayName ? { displayName: a.displayName } : {}),
    ...(a.description ? { description: a.description } : {}),
    etag: 'MDEwMjE5MjA=',
    oauth2ClientId: a.uniqueId,
    ...(a.disabled ? { disabled: true } : {}),
  });
  /** `projects/P/serviceAccounts/EMAIL|UNIQUE_ID` (P may be `-`), as IAM resolves it. */
  const saByName = (name: string): ServiceAccount => {
    const [, p, ref] = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name) ?? [];
    const a = ref ? accountKey(ref) : undefined;
    if (!a || (p !== '-' && project(p!).projectId !== a.projectId)) throw new GoogleError('NOT_FOUND', `Unknown service account`);
    return a;
  };
  const rewriteDeletedMember = (a: ServiceAccount): void => {
    // What Google shows for a deleted account's grants: `deleted:serviceAccount:EMAIL?uid=ID`.
    const member = `serviceAccount:${a.email}`;
    const stores = [...projects.values()].map((p) => p.policy).concat([...accounts.values()].map((x) => x.policy), [...repositories.values()].map((r) => r.policy));
    for (const s of stores) {
      const p = s.read(3);
      if (!p.bindings?.some((b) => b.members.includes(member))) continue;
      s.write({ version: 3, etag: p.etag, bindings: p.bindings.map((b) => ({ ...b, members: b.members.map((m) => (m === member ? `deleted:${member}?uid=${a.uniqueId}` : m)) })) });
    }
  };

  const iamPolicyRequest = (ctx: Ctx): number | undefined => {
    const q = ctx.params['options.requestedPolicyVersion'];
    if (typeof q === 'string') return Number(q);
    const opts = ctx.body.options as { requestedPolicyVersion?: number } | undefined;
    return opts?.requestedPolicyVersion;
  };

  // --- IAM: workload identity pools and providers ----------------------------------------------
  const parsePoolName = (name: string): { project: Project; id: string; pool?: Pool } => {
    const [, p, loc, id] = /^projects\/([^/]+)\/locations\/([^/]+)\/workloadIdentityPools\/([^/]+)/.exec(name) ?? [];
    const proj = project(p!);
    if (loc !== 'global') throw new GoogleError('INVALID_ARGUMENT', `Workload identity pools exist only in location "global", not "${loc}".`);
    return { project: proj, id: id!, pool: pools.get(poolKey(proj.projectNumber, id!)) };
  };
  const livePool = (name: string): Pool => {
    const { pool } = parsePoolName(name);
    if (!pool) throw new GoogleError('NOT_FOUND', `Requested entity was not found.`);
    return pool;
  };
  const expire = (deletedAt: number | undefined): Record<string, unknown> => (deletedAt === undefined ? {} : { expireTime: new Date(deletedAt + RESERVATION_MS).toISOString() });
  const poolBody = (p: Pool): Record<string, unknown> => ({ ...p.body, name: poolName(p), state: p.state, ...expire(p.deletedAt) });
  const providerBody = (pool: Pool, id: string, pr: Provider): Record<string, unknown> => ({ ...pr.body, name: `${poolName(pool)}/providers/${id}`, state: pr.state, ...expire(pr.deletedAt) });
  const operation = (resourceName: string, response: Record<string, unknown>, type: string): Record<string, unknown> => {
    const name = `${resourceName}/operations/${randomUUID().replace(/-/g, '')}`;
    operations.set(name, { name, reads: 0, response: { '@type': `type.googleapis.com/google.iam.v1.${type}`, ...response } });
    // Google answers before the operation is done; operations.get reports it done.
    return { name, done: false };
  };
  const checkId = (kind: 'pool' | 'provider', id: string | undefined): string => {
    const what = kind === 'pool' ? 'workload_identity_pool_id' : 'workload_identity_pool_provider_id';
    if (!id) throw new GoogleError('INVALID_ARGUMENT', `Request contains an invalid argument: ${what} is required.`);
    if (!POOL_ID.test(id)) throw new GoogleError('INVALID_ARGUMENT', `Invalid ${what} "${id}": it must be 4 to 32 characters of lowercase letters, digits and hyphens.`);
    if (id.startsWith('gcp-')) throw new GoogleError('INVALID_ARGUMENT', `Invalid ${what} "${id}": the prefix "gcp-" is reserved for use by Google.`);
    return id;
  };
  const checkProvider = (body: Record<string, unknown>, partial?: Set<string>): void => {
    const has = (f: string): boolean => !partial || partial.has(f) || [...partial].some((p) => p.startsWith(`${f}.`));
    const oidc = body.oidc as { issuerUri?: string; allowedAudiences?: string[]; jwksJson?: string } | undefined;
    if (!partial && (body.aws || body.saml || body.x509)) throw new GoogleError('INVALID_ARGUMENT', 'The sandbox provides OIDC providers only.');
    if (has('oidc')) {
      if (!oidc?.issuerUri) throw new GoogleError('INVALID_ARGUMENT', 'oidc.issuer_uri is required.');
      let issuer: URL;
      try {
        issuer = new URL(oidc.issuerUri);
      } catch {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid issuer uri "${oidc.issuerUri}".`);
      }
      if (issuer.protocol !== 'https:') throw new GoogleError('INVALID_ARGUMENT', `The issuer uri must use https: "${oidc.issuerUri}".`);
      if ((oidc.allowedAudiences?.length ?? 0) > 10) throw new GoogleError('INVALID_ARGUMENT', 'oidc.allowed_audiences must have at most 10 entries.');
      if (oidc.jwksJson !== undefined) {
        let keys: unknown;
        try {
          keys = (JSON.parse(oidc.jwksJson) as { keys?: unknown }).keys;
        } catch {
          keys = undefined;
        }
        if (!Array.isArray(keys) || keys.length === 0) throw new GoogleError('INVALID_ARGUMENT', 'oidc.jwks_json must be a JSON Web Key Set with at least one key.');
      }
    }
    if (has('attributeMapping')) {
      const mapping = body.attributeMapping as Record<string, string> | undefined;
      if (!mapping?.['google.subject']) throw new GoogleError('INVALID_ARGUMENT', 'attribute_mapping must include a mapping for google.subject.');
    }
  };

  // --- Google STS ------------------------------------------------------------------------------
  const issuerKeys = async (issuerUri: string): Promise<{ keys: (JsonWebKey & { kid?: string })[] }> => {
    if (!options.fetchPublic) throw new OAuthError(400, 'invalid_grant', `Failed to fetch the OpenID configuration of ${issuerUri}: the issuer is not reachable.`);
    const get = async (url: string): Promise<unknown> => {
      const r = await options.fetchPublic!(url);
      if (r.status !== 200) throw new OAuthError(400, 'invalid_grant', `Failed to fetch ${url}: HTTP ${r.status}.`);
      try {
        return JSON.parse(r.body);
      } catch {
        throw new OAuthError(400, 'invalid_grant', `${url} is not JSON.`);
      }
    };
    const config = (await get(`${issuerUri.replace(/\/$/, '')}/.well-known/openid-configuration`)) as { jwks_uri?: string };
    if (!config.jwks_uri?.startsWith('https://')) throw new OAuthError(400, 'invalid_grant', `The OpenID configuration of ${issuerUri} has no https jwks_uri.`);
    return (await get(config.jwks_uri)) as { keys: (JsonWebKey & { kid?: string })[] };
  };

  /** The value of a simple CEL mapping (`assertion.sub`, `assertion['k']`); others are not evaluated here. */
  const mapAttribute = (expr: string, claims: Record<string, unknown>): unknown => {
    const m = /^\s*assertion(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[['"]([^'"]+)['"]\])\s*$/.exec(expr);
    if (!m) throw new OAuthError(400, 'invalid_request', `The sandbox evaluates only attribute mappings of the form assertion.<claim>, not "${expr}".`);
    return claims[m[1] ?? m[2]!];
  };

  const exchange = async (body: Record<string, unknown>): Promise<{ out: Record<string, unknown>; principal: string }> => {
    const s = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    if (s('grantType') !== STS_GRANT) throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant type: ${s('grantType') ?? '(none)'}.`);
    if (s('requestedTokenType') !== STS_ACCESS) throw new OAuthError(400, 'invalid_request', `Invalid requested_token_type: ${s('requestedTokenType') ?? '(none)'}.`);
    if (!STS_SUBJECT_TYPES.has(s('subjectTokenType') ?? '')) throw new OAuthError(400, 'invalid_request', `Invalid subject_token_type: ${s('subjectTokenType') ?? '(none)'}.`);
    const subjectToken = s('subjectToken');
    if (!subjectToken) throw new OAuthError(400, 'invalid_request', 'The subject_token is required.');
    const audience = s('audience') ?? '';
    const invalidTarget = new OAuthError(
      400,
      'invalid_target',
      'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
    );
    // The audience names the provider by project NUMBER; a project id there names nothing.
    const am = /^\/\/iam\.googleapis\.com\/projects\/([0-9]+)\/locations\/global\/workloadIdentityPools\/([^/]+)\/providers\/([^/]+)$/.exec(audience);
    if (!am) throw invalidTarget;
    const pool = pools.get(poolKey(am[1]!, am[2]!));
    const provider = pool?.providers.get(am[3]!);
    if (!pool || pool.state !== 'ACTIVE' || pool.body.disabled || !provider || provider.state !== 'ACTIVE' || provider.body.disabled) throw invalidTarget;
    const oidc = provider.body.oidc as { issuerUri: string; allowedAudiences?: string[]; jwksJson?: string };
    const jwt = parseJwt(subjectToken);
    if (!jwt) throw new OAuthError(400, 'invalid_grant', 'Invalid subject token: not a JWT.');
    if (jwt.payload.iss !== oidc.issuerUri) throw new OAuthError(400, 'invalid_grant', `The issuer in ID Token ${String(jwt.payload.iss)} does not match the expected ones.`);
    const keys = oidc.jwksJson ? (JSON.parse(oidc.jwksJson) as { keys: (JsonWebKey & { kid?: string })[] }) : await issuerKeys(oidc.issuerUri);
    const jwk = keys.keys.find((k) => k.kid === jwt.header.kid) ?? (jwt.header.kid ? undefined : keys.keys[0]);
    if (!jwk || !verifyRs256(jwt, { key: jwk, format: 'jwk' })) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT signature.');
    const t = Math.floor(now() / 1000);
    const { exp, iat } = jwt.payload;
    if (typeof exp !== 'number' || typeof iat !== 'number') throw new OAuthError(400, 'invalid_grant', 'The ID Token must carry exp and iat.');
    if (exp <= t) throw new OAuthError(400, 'invalid_grant', `The ID Token has expired at ${new Date(exp * 1000).toISOString()}.`);
    if (iat > t + CLOCK_SKEW_S) throw new OAuthError(400, 'invalid_grant', 'The ID Token was issued in the future.');
    if (exp - iat > MAX_SUBJECT_TOKEN_LIFETIME_S) throw new OAuthError(400, 'invalid_grant', 'The ID Token has a lifetime longer than 24 hours.');
    const fullName = `//iam.googleapis.com/${poolName(pool)}/providers/${am[3]}`;
    const accepted = oidc.allowedAudiences?.length ? oidc.allowedAudiences : [fullName, `https:${fullName}`];
    const auds = Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [jwt.payload.aud];
    if (!auds.some((a) => typeof a === 'string' && accepted.includes(a))) {
      throw new OAuthError(400, 'invalid_grant', `The audience in ID Token [${auds.join(', ')}] does not match the expected audience.`);
    }
    const mapping = (provider.body.attributeMapping ?? {}) as Record<string, string>;
    if (provider.body.attributeCondition) throw new OAuthError(400, 'invalid_request', 'The sandbox does not evaluate attribute conditions.');
    const subject = mapAttribute(mapping['google.subject']!, jwt.payload);
    if (typeof subject !== 'string' || !subject) throw new OAuthError(400, 'invalid_grant', 'The mapped google.subject is empty.');
    if (Buffer.byteLength(subject) > 127) throw new OAuthError(400, 'invalid_grant', 'The mapped google.subject is longer than 127 bytes.');
    const principal = `principal://iam.googleapis.com/${poolName(pool)}/subject/${subject}`;
    const lifetime = Math.min(TOKEN_LIFETIME_S, exp - t);
    return { out: { access_token: issue(principal, lifetime), issued_token_type: STS_ACCESS, token_type: 'Bearer', expires_in: lifetime }, principal };
  };

  // --- IAM Credentials -------------------------------------------------------------------------
  const generateAccessToken = (caller: string, name: string, body: Record<string, unknown>): Record<string, unknown> => {
    const [, , ref] = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name) ?? [];
    const a = ref ? accountKey(ref) : undefined;
    const denied = new GoogleError('PERMISSION_DENIED', "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission: 'iam.serviceAccounts.getAccessToken' } },
    ]);
    if (!a) throw denied;
    // A new account is not yet known to the token service until it propagates.
    if (a.createdAt + delayMs > now()) throw new GoogleError('NOT_FOUND', `Not found; Gaia id not found for email ${a.email}`);
    if (a.disabled) throw new GoogleError('FAILED_PRECONDITION', `Service account ${a.email} is disabled.`);
    if (Array.isArray(body.delegates) && body.delegates.length) throw new GoogleError('INVALID_ARGUMENT', 'The sandbox does not follow delegation chains.');
    if (!allowed(caller, 'iam.serviceAccounts.getAccessToken', [a.policy, project(a.projectId).policy])) throw denied;
    const lifetime = typeof body.lifetime === 'string' ? Number(body.lifetime.replace(/s$/, '')) : TOKEN_LIFETIME_S;
    if (!(lifetime > 0 && lifetime <= 3600)) throw new GoogleError('INVALID_ARGUMENT', 'The lifetime must be at most 3600s.');
    if (!Array.isArray(body.scope) || body.scope.length === 0) throw new GoogleError('INVALID_ARGUMENT', 'Scope required.');
    return { accessToken: issue(`serviceAccount:${a.email}`, lifetime), expireTime: new Date(now() + lifetime * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  };

  // --- handlers, by discovery method id --------------------------------------------------------
  const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v[0]! : (v ?? ''));
  const handlers: Record<string, (ctx: Ctx) => Record<string, unknown> | Promise<Record<string, unknown>>> = {
    'iam.projects.serviceAccounts.create': ({ params, body, caller }) => {
      const proj = project(str(params.name).replace(/^projects\//, ''));
      requirePermission(caller, 'iam.serviceAccounts.create', `projects/${proj.projectId}`, [proj.policy]);
      const accountId = String(body.accountId ?? '');
      if (accountId.length < 6 || accountId.length > 30 || !ACCOUNT_ID.test(accountId)) {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid account ID "${accountId}": it must be 6 to 30 characters, start with a lowercase letter, and contain only lowercase letters, digits and hyphens, ending in a letter or digit (${ACCOUNT_ID.source}).`);
      }
      const email = `${accountId}@${proj.projectId}.iam.gserviceaccount.com`;
      if (accounts.has(email)) throw new GoogleError('ALREADY_EXISTS', `Service account ${accountId} already exists within project projects/${proj.projectId}.`);
      const sa = (body.serviceAccount ?? {}) as { displayName?: string; description?: string };
      if ((sa.displayName?.length ?? 0) > 100) throw new GoogleError('INVALID_ARGUMENT', 'displayName must be at most 100 characters.');
      const a: ServiceAccount = {
        projectId: proj.projectId,
        email,
        uniqueId: `1${Array.from(randomBytes(20), (b) => String(b % 10)).join('')}`,
        displayName: sa.displayName,
        description: sa.description,
        disabled: false,
        createdAt: now(),
        policy: new PolicyStore(now),
        keys: new Map(),
      };
      accounts.set(email, a);
      return saBody(a);
    },
    'iam.projects.serviceAccounts.get': ({ params, caller }) => {
      const a = saByName(str(params.name));
      requirePermission(caller, 'iam.serviceAccounts.get', str(params.name), [a.policy, project(a.projectId).policy]);
      return saBody(a);
    },
    'iam.projects.serviceAccounts.list': ({ params, caller }) => {
      const proj = project(str(params.name).replace(/^projects\//, ''));
      requirePermission(caller, 'iam.serviceAccounts.list', `projects/${proj.projectId}`, [proj.policy]);
      const list = [...accounts.values()].filter((a) => a.projectId === proj.projectId).map(saBody);
      return list.length ? { accounts: list } : {};
    },
    'iam.projects.serviceAccounts.delete': ({ params, caller }) => {
      const a = saByName(str(params.name));
      requirePermission(caller, 'iam.serviceAccounts.delete', str(params.name), [a.policy, project(a.projectId).policy]);
      rewriteDeletedMember(a);
      accounts.delete(a.email);
      return {};
    },
    'iam.projects.serviceAccounts.getIamPolicy': (ctx) => {
      const a = saByName(str(ctx.params.resource));
      requirePermission(ctx.caller, 'iam.serviceAccounts.getIamPolicy', str(ctx.params.resource), [a.policy, project(a.projectId).policy]);
      return a.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'iam.projects.serviceAccounts.setIamPolicy': ({ params, body, caller }) => {
      const a = saByName(str(params.resource));
      requirePermission(caller, 'iam.serviceAccounts.setIamPolicy', str(params.resource), [a.policy, project(a.projectId).policy]);
      return a.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
    'iam.projects.locations.workloadIdentityPools.create': ({ params, body, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(`${parent}/workloadIdentityPools/x`);
      requirePermission(caller, 'iam.workloadIdentityPools.create', parent, [proj.policy]);
      const id = checkId('pool', str(params.workloadIdentityPoolId));
      const existing = pools.get(poolKey(proj.projectNumber, id));
      if (existing) {
        throw new GoogleError('ALREADY_EXISTS', existing.state === 'DELETED' ? `Requested entity already exists: the pool ${id} was deleted and its id stays reserved until ${String(expire(existing.deletedAt).expireTime)}; undelete it or choose another id.` : 'Requested entity already exists');
      }
      if (body.name || body.state) throw new GoogleError('INVALID_ARGUMENT', 'name and state are output only.');
      const pool: Pool = { projectNumber: proj.projectNumber, id, body: { ...body }, state: 'ACTIVE', providers: new Map() };
      pools.set(poolKey(proj.projectNumber, id), pool);
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.get': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.get', str(params.name), [proj.policy]);
      return poolBody(livePool(str(params.name)));
    },
    'iam.projects.locations.workloadIdentityPools.list': ({ params, caller }) => {
      const { project: proj } = parsePoolName(`${str(params.parent)}/workloadIdentityPools/x`);
      requirePermission(caller, 'iam.workloadIdentityPools.list', str(params.parent), [proj.policy]);
      const all = [...pools.values()].filter((p) => p.projectNumber === proj.projectNumber && (p.state === 'ACTIVE' || params.showDeleted === 'true'));
      return all.length ? { workloadIdentityPools: all.map(poolBody) } : {};
    },
    'iam.projects.locations.workloadIdentityPools.delete': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.delete', str(params.name), [proj.policy]);
      const pool = livePool(str(params.name));
      if (pool.state === 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is already deleted.');
      pool.state = 'DELETED';
      pool.deletedAt = now();
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.undelete': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.undelete', str(params.name), [proj.policy]);
      const pool = livePool(str(params.name));
      if (pool.state !== 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is not deleted.');
      pool.state = 'ACTIVE';
      pool.deletedAt = undefined;
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.providers.create': ({ params, body, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(parent);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.create', parent, [proj.policy]);
      const pool = livePool(parent);
      if (pool.state !== 'ACTIVE') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is deleted.');
      const id = checkId('provider', str(params.workloadIdentityPoolProviderId));
      if (pool.providers.has(id)) throw new GoogleError('ALREADY_EXISTS', 'Requested entity already exists');
      checkProvider(body);
      const pr: Provider = { body: { ...body }, state: 'ACTIVE' };
      pool.providers.set(id, pr);
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.get': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.get', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      return providerBody(pool, id, pr);
    },
    'iam.projects.locations.workloadIdentityPools.providers.list': ({ params, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(parent);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.list', parent, [proj.policy]);
      const pool = livePool(parent);
      const all = [...pool.providers.entries()].filter(([, p]) => p.state === 'ACTIVE' || params.showDeleted === 'true');
      return all.length ? { workloadIdentityPoolProviders: all.map(([id, p]) => providerBody(pool, id, p)) } : {};
    },
    'iam.projects.locations.workloadIdentityPools.providers.patch': ({ params, body, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.update', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr || pr.state !== 'ACTIVE') throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      const mask = str(params.updateMask);
      if (!mask) throw new GoogleError('INVALID_ARGUMENT', 'update_mask is required.');
      const fields = new Set(mask.split(','));
      const allowedFields = new Set(['displayName', 'description', 'disabled', 'attributeMapping', 'attributeCondition', 'oidc', 'oidc.issuerUri', 'oidc.allowedAudiences', 'oidc.jwksJson']);
      for (const f of fields) if (!allowedFields.has(f)) throw new GoogleError('INVALID_ARGUMENT', `Invalid update_mask path "${f}".`);
      const next = structuredClone(pr.body);
      for (const f of fields) {
        const [head, sub] = f.split('.') as [string, string | undefined];
        if (sub) {
          const target = ((next[head] ??= {}) as Record<string, unknown>);
          const src = (body[head] ?? {}) as Record<string, unknown>;
          if (src[sub] === undefined) delete target[sub];
          else target[sub] = src[sub];
        } else if (body[head] === undefined) delete next[head];
        else next[head] = body[head];
      }
      checkProvider(next);
      pr.body = next;
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.delete': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.delete', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      if (pr.state === 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The provider is already deleted.');
      pr.state = 'DELETED';
      pr.deletedAt = now();
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.undelete': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.undelete', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      if (pr.state !== 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The provider is not deleted.');
      pr.state = 'ACTIVE';
      pr.deletedAt = undefined;
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.operations.get': (ctx) => getOperation(ctx, 'iam.workloadIdentityPools.get'),
    'iam.projects.locations.workloadIdentityPools.providers.operations.get': (ctx) => getOperation(ctx, 'iam.workloadIdentityPoolProviders.get'),
    'cloudresourcemanager.projects.get': ({ params, caller }) => {
      const ref = str(params.name).replace(/^projects\//, '');
      const proj = project(ref);
      requirePermission(caller, 'resourcemanager.projects.get', str(params.name), [proj.policy]);
      return { name: `projects/${proj.projectNumber}`, projectId: proj.projectId, state: 'ACTIVE', displayName: proj.projectId, parent: 'organizations/0', createTime: '2024-01-01T00:00:00.000Z', etag: 'W/"sandbox"' };
    },
    'cloudresourcemanager.projects.getIamPolicy': (ctx) => {
      const proj = project(str(ctx.params.resource).replace(/^projects\//, ''));
      requirePermission(ctx.caller, 'resourcemanager.projects.getIamPolicy', str(ctx.params.resource), [proj.policy]);
      return proj.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'cloudresourcemanager.projects.setIamPolicy': ({ params, body, caller }) => {
      const proj = project(str(params.resource).replace(/^projects\//, ''));
      requirePermission(caller, 'resourcemanager.projects.setIamPolicy', str(params.resource), [proj.policy]);
      return proj.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
    'container.projects.locations.clusters.get': ({ params, caller }) => {
      const [, p, l, c] = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(str(params.name))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.get', str(params.name), [proj.policy]);
      const spec = clusters.get(`${proj.projectId}/${l}/${c}`);
      if (!spec) throw new GoogleError('NOT_FOUND', `Not found: projects/${p}/locations/${l}/clusters/${c}.`);
      return clusterBody(spec);
    },
    'container.projects.locations.clusters.list': ({ params, caller }) => {
      const [, p, l] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.list', str(params.parent), [proj.policy]);
      const list = [...clusters.values()].filter((c) => c.projectId === proj.projectId && (l === '-' || c.location === l)).map(clusterBody);
      return list.length ? { clusters: list } : {};
    },
    'container.projects.locations.clusters.nodePools.list': ({ params, caller }) => {
      const [, p, l, c] = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.get', str(params.parent), [proj.policy]);
      const spec = clusters.get(`${proj.projectId}/${l}/${c}`);
      if (!spec) throw new GoogleError('NOT_FOUND', `Not found: projects/${p}/locations/${l}/clusters/${c}.`);
      return { nodePools: (clusterBody(spec).nodePools as unknown[]) ?? [] };
    },
    'artifactregistry.projects.locations.repositories.get': ({ params, caller }) => {
      const repo = repositoryByName(str(params.name));
      requirePermission(caller, 'artifactregistry.repositories.get', str(params.name), [repo.policy, project(repo.projectId).policy]);
      return repositoryBody(repo);
    },
    'artifactregistry.projects.locations.repositories.list': ({ params, caller }) => {
      const [, p, l] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'artifactregistry.repositories.list', str(params.parent), [proj.policy]);
      const list = [...repositories.values()].filter((r) => r.projectId === proj.projectId && r.location === l).map(repositoryBody);
      return list.length ? { repositories: list } : {};
    },
    'artifactregistry.projects.locations.repositories.getIamPolicy': (ctx) => {
      const repo = repositoryByName(str(ctx.params.resource));
      requirePermission(ctx.caller, 'artifactregistry.repositories.getIamPolicy', str(ctx.params.resource), [repo.policy, project(repo.projectId).policy]);
      return repo.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'artifactregistry.projects.locations.repositories.setIamPolicy': ({ params, body, caller }) => {
      const repo = repositoryByName(str(params.resource));
      requirePermission(caller, 'artifactregistry.repositories.setIamPolicy', str(params.resource), [repo.policy, project(repo.projectId).policy]);
      return repo.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
    'artifactregistry.projects.locations.repositories.testIamPermissions': ({ params, body, caller }) => {
      const repo = repositoryByName(str(params.resource));
      const asked = (body.permissions ?? []) as string[];
      const held = asked.filter((p) => allowed(caller, p, [repo.policy, project(repo.projectId).policy]));
      return held.length ? { permissions: held } : {};
    },
    'iamcredentials.projects.serviceAccounts.generateAccessToken': ({ params, body, caller }) => generateAccessToken(caller, str(params.name), body),
  };

  function getOperation({ params, caller }: Ctx, permission: string): Record<string, unknown> {
    const name = str(params.name);
    const { project: proj } = parsePoolName(name);
    requirePermission(caller, permission, name, [proj.policy]);
    // Operation names carry the pool's project NUMBER; a project id names the same operation.
    const canonical = name.replace(/^projects\/[^/]+/, `projects/${proj.projectNumber}`);
    const op = operations.get(canonical);
    if (!op) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
    op.reads += 1;
    return { name: op.name, done: true, response: op.response };
  }

  const clusterBody = (c: GkeClusterSpec): Record<string, unknown> => {
    const proj = project(c.projectId);
    return {
      name: c.name,
      location: c.location,
      selfLink: `https://container.googleapis.com/v1/projects/${c.projectId}/locations/${c.location}/clusters/${c.name}`,
      status: 'RUNNING',
      ...(c.workloadIdentity ? { workloadIdentityConfig: { workloadPool: `${c.projectId}.svc.id.goog` } } : {}),
      nodePools: c.nodePools.map((np) => ({
        name: np.name,
        status: 'RUNNING',
        config: {
          serviceAccount: np.serviceAccount ?? `${proj.projectNumber}-compute@developer.gserviceaccount.com`,
          workloadMetadataConfig: { mode: np.metadataMode ?? (c.workloadIdentity ? 'GKE_METADATA' : 'GCE_METADATA') },
        },
      })),
    };
  };

  const repositoryByName = (name: string): Repository => {
    const [, p, l, r] = /^projects\/([^/]+)\/locations\/([^/]+)\/repositories\/([^/]+)$/.exec(name) ?? [];
    const proj = project(p!);
    const repo = repositories.get(repoKey(proj.projectId, l!, r!));
    if (!repo) throw new GoogleError('NOT_FOUND', `Requested entity was not found.`);
    return repo;
  };
  const repositoryBody = (r: Repository): Record<string, unknown> => ({
    name: `projects/${r.projectId}/locations/${r.location}/repositories/${r.repository}`,
    format: 'DOCKER',
    mode: 'STANDARD_REPOSITORY',
    registryUri: `${r.location}-docker.pkg.dev/${r.projectId}/${r.repository}`,
    createTime: '2024-01-01T00:00:00Z',
    updateTime: '2024-01-01T00:00:00Z',
  });

  // --- the server ------------------------------------------------------------------------------
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const decisionOf = (status: number): GcpRequestRecord['decision'] =>
    status < 300 ? 'allowed' : status === 401 ? 'unauthenticated' : status === 403 ? 'denied' : status === 404 ? 'not-found' : status === 409 ? 'conflict' : status === 501 ? 'unimplemented' : 'invalid';

  const parseBody = (req: IncomingMessage, raw: Buffer): Record<string, unknown> => {
    if (!raw.length) return {};
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.includes('application/x-www-form-urlencoded')) {
      // Form fields use the proto names (snake_case); JSON uses lowerCamel: Google accepts both.
      return Object.fromEntries([...new URLSearchParams(raw.toString('utf8'))].map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Expected an object.');
    return parsed as Record<string, unknown>;
  };

  const handleOAuth = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const form = new URLSearchParams(raw.toString('utf8'));
    const grant = form.get('grant_type');
    try {
      let principal: string;
      if (grant === 'refresh_token') {
        const p = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!p || form.get('client_id') !== ADMIN_CLIENT.client_id || form.get('client_secret') !== ADMIN_CLIENT.client_secret) throw new OAuthError(400, 'invalid_grant', 'Bad Request');
        principal = p;
      } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        const jwt = parseJwt(form.get('assertion') ?? '');
        const a = jwt?.payload.iss ? accounts.get(jwt.payload.iss) : undefined;
        const pem = a && jwt?.header.kid ? a.keys.get(jwt.header.kid) : undefined;
        if (!jwt || !a || !pem || !verifyRs256(jwt, pem)) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
        const t = Math.floor(now() / 1000);
        if (jwt.payload.aud !== 'https://oauth2.googleapis.com/token' && jwt.payload.aud !== urls.oauth2Token) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
        if (typeof jwt.payload.exp !== 'number' || typeof jwt.payload.iat !== 'number' || jwt.payload.exp < t || jwt.payload.exp - jwt.payload.iat > 3600 || jwt.payload.iat > t + CLOCK_SKEW_S) {
          throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
        }
        if (a.disabled) throw new OAuthError(400, 'invalid_grant', 'Invalid grant: account not found');
        principal = `serviceAccount:${a.email}`;
      } else {
        throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
      }
      record({ method: req.method ?? 'POST', path: '/oauth2/token', methodId: 'oauth2.token', caller: principal, decision: 'allowed', status: 200 });
      send(res, 200, { access_token: issue(principal), expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer', scope: form.get('scope') ?? 'https://www.googleapis.com/auth/cloud-platform' });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      record({ method: req.method ?? 'POST', path: '/oauth2/token', methodId: 'oauth2.token', decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.description });
      send(res, err.httpStatus, { error: err.error, error_description: err.description });
    }
  };

  const handleDocker = (req: IncomingMessage, res: ServerResponse, location: string, path: string): void => {
    const reg = `${location}-docker.pkg.dev`;
    const deny = (status: number, code: string, message: string, caller?: string): void => {
      record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller, decision: decisionOf(status), status, reason: message });
      send(res, status, { errors: [{ code, message }] }, status === 401 ? { 'www-authenticate': `Bearer realm="${servers.get(`docker:${location}`)?.origin ?? ''}/v2/token",service="${reg}"` } : {});
    };
    // Docker clients send the access token as a bearer token, or as the password of `oauth2accesstoken`.
    const auth = String(req.headers.authorization ?? '');
    let token: string | undefined;
    if (/^Bearer /i.test(auth)) token = auth.slice(7);
    else if (/^Basic /i.test(auth)) {
      const [user, pass] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (user === 'oauth2accesstoken') token = pass;
    }
    const issued = token ? tokens.get(token) : undefined;
    if (!issued || issued.expiresAt <= now()) return deny(401, 'UNAUTHORIZED', 'authentication failed');
    if (path === '/v2/' || path === '/v2') {
      record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
      return send(res, 200, {});
    }
    const m = /^\/v2\/([^/]+)\/([^/]+)\/(.+)\/(manifests|tags)\/(.+)$/.exec(path);
    if (!m) return deny(404, 'NAME_UNKNOWN', 'Requested repository was not found.', issued.principal);
    const [, p, r, image, kind, ref] = m;
    const repo = repositories.get(repoKey(p!, location, r!));
    const resource = `projects/${p}/locations/${location}/repositories/${r}`;
    const proj = projects.get(p!);
    if (!repo || !proj || !allowed(issued.principal, 'artifactregistry.repositories.downloadArtifacts', [repo.policy, proj.policy])) {
      return deny(403, 'DENIED', `Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "${resource}" (or it may not exist)`, issued.principal);
    }
    const tags = (repo.images ?? []).filter((i) => i.startsWith(`${image}:`)).map((i) => i.slice(image!.length + 1));
    if (kind === 'tags') {
      record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
      return send(res, 200, { name: `${p}/${r}/${image}`, tags });
    }
    if (!tags.includes(ref!)) return deny(404, 'MANIFEST_UNKNOWN', `Failed to fetch "${ref}"`, issued.principal);
    record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
    send(res, 200, { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${'0'.repeat(64)}` }, layers: [] }, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
  };

  /** One listener per Google host (the clients keep only the origin of `rootUrl`). */
  const handle = async (host: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const raw = await readBody(req);
    if (host === 'oauth2' && url.pathname === '/token' && req.method === 'POST') return handleOAuth(req, res, raw);
    if (host.startsWith('docker:')) return handleDocker(req, res, host.slice('docker:'.length), url.pathname);
    const api = API_PREFIXES[host];
    const contract = api ? contracts.get(api) : undefined;
    const m = contract?.route(req.method ?? 'GET', url.pathname);
    if (!contract || !m) {
      record({ method: req.method ?? 'GET', path: url.pathname, methodId: '(none)', decision: 'not-found', status: 404, reason: `no such method on ${host}` });
      res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
      res.end('<!DOCTYPE html><title>Error 404 (Not Found)</title><p>The requested URL was not found on this server.</p>');
      return;
    }
    let caller: string | undefined;
    try {
      // Google authenticates before it reads the request (Google STS takes no credentials).
      if (m.id !== 'sts.token') caller = authenticate(req);
      const params = contract.parameters(m, url.pathname, url.searchParams);
      const body = parseBody(req, raw);
      contract.checkRequest(m, body);
      if (m.id === 'sts.token') {
        try {
          const { out, principal } = await exchange(body);
          contract.checkResponse(m, out);
          record({ method: req.method!, path: url.pathname, methodId: m.id, caller: principal, decision: 'allowed', status: 200 });
          return send(res, 200, out);
        } catch (err) {
          if (!(err instanceof OAuthError)) throw err;
          record({ method: req.method!, path: url.pathname, methodId: m.id, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.description });
          return send(res, err.httpStatus, { error: err.error, error_description: err.description });
        }
      }
      const handler = handlers[m.id];
      if (!handler) throw new GoogleError('UNIMPLEMENTED', `The sandbox does not implement ${m.id}.`);
      const out = await handler({ method: m, params, body, caller: caller! });
      contract.checkResponse(m, out);
      record({ method: req.method!, path: url.pathname, methodId: m.id, caller, decision: 'allowed', status: 200 });
      send(res, 200, out);
    } catch (err) {
      if (!(err instanceof GoogleError)) throw err;
      record({ method: req.method!, path: url.pathname, methodId: m.id, caller, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.reason ?? err.message });
      send(res, err.httpStatus, err.body());
    }
  };

  const tls = { cert: readFileSync(serving.cert), key: readFileSync(serving.key) };
  const servers = new Map<string, { server: https.Server; origin: string }>();
  const listen = async (host: string): Promise<string> => {
    const hit = servers.get(host);
    if (hit) return hit.origin;
    const server = https.createServer(tls, (req, res) => {
      handle(host, req, res).catch((err: unknown) => {
        // A stand-in bug (e.g. an answer that breaks the contract): loud, never a plausible answer.
        const message = err instanceof Error ? err.message : String(err);
        record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: '(stand-in bug)', decision: 'invalid', status: 500, reason: message });
        console.error(`gcp stand-in: ${message}`);
        if (!res.headersSent) send(res, 500, { error: { code: 500, message: `stand-in bug: ${message}`, status: 'INTERNAL' } });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    servers.set(host, { server, origin });
    return origin;
  };
  const origins: Record<string, string> = {};
  for (const host of [...Object.keys(API_PREFIXES), 'oauth2']) origins[host] = await listen(host);
  const urls: GcpStandinUrls = {
    iam: `${origins.iam}/`,
    sts: `${origins.sts}/`,
    iamcredentials: `${origins.iamcredentials}/`,
    cloudresourcemanager: `${origins.cloudresourcemanager}/`,
    container: `${origins.container}/`,
    artifactregistry: `${origins.artifactregistry}/`,
    oauth2Token: `${origins.oauth2}/token`,
    stsToken: `${origins.sts}/v1/token`,
    docker: (location) => {
      const origin = servers.get(`docker:${location}`)?.origin;
      if (!origin) throw new Error(`no Artifact Registry repository in ${location}: seed one first`);
      return origin;
    },
  };
  const agent = new https.Agent({ ca, keepAlive: false });

  return {
    urls,
    ca,
    agent,
    adminCredentials: () => ({ type: 'authorized_user', ...ADMIN_CLIENT, refresh_token: adminRefresh }),
    serviceAccountKey: (email) => {
      const a = accounts.get(email);
      if (!a) throw new Error(`no service account ${email}`);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyId = randomBytes(20).toString('hex');
      a.keys.set(keyId, publicKey.export({ type: 'spki', format: 'pem' }).toString());
      return {
        type: 'service_account',
        project_id: a.projectId,
        private_key_id: keyId,
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: a.email,
        client_id: a.uniqueId,
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: urls.oauth2Token,
      };
    },
    issueAccessToken: (member, lifetimeS) => issue(member, lifetimeS),
    tokenPrincipal: (token) => {
      const t = tokens.get(token);
      return t && t.expiresAt > now() ? t.principal : undefined;
    },
    grant: (r, role, member, condition) => policyOf(r).seed(role, member, condition),
    concurrentWrite: (r, role, member, condition) => {
      const store = policyOf(r);
      store.beforeNextWrite = () => store.concurrentGrant(role, member, condition);
    },
    policy: (r) => policyOf(r).read(3),
    seedCluster: (spec) => {
      project(spec.projectId);
      clusters.set(`${spec.projectId}/${spec.location}/${spec.name}`, structuredClone(spec));
    },
    seedRepository: async (spec) => {
      project(spec.projectId);
      await listen(`docker:${spec.location}`);
      repositories.set(repoKey(spec.projectId, spec.location, spec.repository), { ...spec, policy: new PolicyStore(now) });
    },
    cluster: (p, l, n) => clusters.get(`${p}/${l}/${n}`),
    gkeWorkloadToken: async (c, ns, ksa, gsa) => {
      const principal = `serviceAccount:${c.projectId}.svc.id.goog[${ns}/${ksa}]`;
      if (!gsa) {
        record({ method: 'POST', path: '/sts/v1/token', methodId: 'sts.token', caller: principal, decision: 'allowed', status: 200, reason: 'GKE metadata server: the Kubernetes service account principal' });
        return { accessToken: issue(principal), expiresIn: TOKEN_LIFETIME_S, principal };
      }
      const path = `/iamcredentials/v1/projects/-/serviceAccounts/${gsa}:generateAccessToken`;
      try {
        const out = generateAccessToken(principal, `projects/-/serviceAccounts/${gsa}`, { scope: ['https://www.googleapis.com/auth/cloud-platform'] });
        record({ method: 'POST', path, methodId: 'iamcredentials.projects.serviceAccounts.generateAccessToken', caller: principal, decision: 'allowed', status: 200, reason: 'GKE metadata server' });
        return { accessToken: out.accessToken as string, expiresIn: TOKEN_LIFETIME_S, principal: `serviceAccount:${gsa}` };
      } catch (err) {
        if (err instanceof GoogleError) record({ method: 'POST', path, methodId: 'iamcredentials.projects.serviceAccounts.generateAccessToken', caller: principal, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.message });
        throw err;
      }
    },
    setPropagationDelay: (ms) => {
      delayMs = ms;
    },
    projectNumber: (projectId) => project(projectId).projectNumber,
    requests: (since = 0) => records.filter((r) => r.seq > since),
    mark: () => seq,
    close: async () => {
      agent.destroy();
      await Promise.all(
        [...servers.values()].map(({ server }) => {
          server.closeAllConnections();
          return new Promise<void>((resolve) => server.close(() => resolve()));
        }),
      );
      if (ownCertDir) rmSync(certDir, { recursive: true, force: true });
    },
  };
}

/** A signed RS256 JWT (for the tests: the subject tokens of the clusters' issuers). */
export function signJwt(privateKeyPem: string, kid: string, payload: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', typ: 'JWT', kid })}.${enc(payload)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(privateKeyPem).toString('base64url');
  return `${input}.${sig}`;
}
