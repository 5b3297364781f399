// Google Cloud stand-ins: HTTPS on 127.0.0.1 (the sandbox CA from ../certs.ts), one listener per Google host, playing
// IAM, Google STS, IAM Credentials, Resource Manager, GKE, Artifact Registry (its API and its Docker
// registry) and Google's OAuth 2.0 token endpoint; each host is its own port, since Google's clients
// keep only the origin of their `rootUrl`. Every API request is routed to its method in Google's discovery documents
// (discovery.ts) and validated there; every answer is validated before it is sent. Callers need a
// bearer token the stand-ins issued (or a service account's self-signed JWT), and permissions from
// the IAM policies (iam-policy.ts). Everything is recorded (method, API method id, decision), so a
// test can prove what was, and was not, sent.
//
// Rooms: world.ts (the shared state, lookups, permission checks), server.ts (the listeners and the
// routing), credentials.ts (callers, the OAuth 2.0 token endpoint), iam-service-accounts.ts,
// iam-pools.ts, sts.ts, iam-credentials.ts, resource-manager.ts, gke.ts, artifact-registry.ts.
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert } from '../certs.js';
import { gkeWorkloadToken } from './iam-credentials.js';
import { PolicyStore, type Expr, type Policy } from './iam-policy.js';
import { GcpServers, HOSTS, loadContracts } from './server.js';
import type { ArtifactRepositorySpec, GcpProjectSpec, GcpRequestRecord, GcpStandinUrls, GkeClusterSpec, PolicyResource, PublicFetch } from './types.js';
import { ADMIN_CLIENT, GcpWorld, repoKey } from './world.js';

export type { ArtifactRepositorySpec, GcpProjectSpec, GcpRequestRecord, GcpStandinUrls, GkeClusterSpec, GkeNodePoolSpec, PolicyResource, PublicFetch } from './types.js';

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

export async function startGcpStandins(options: GcpStandinsOptions = {}): Promise<GcpStandins> {
  const now = options.now ?? Date.now;
  const contracts = loadContracts();

  const ownCertDir = options.certDir === undefined;
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'gcp-standins-'));
  const caPair = createCa(certDir, 'rhacs-sts-gcp-standins-ca');
  const serving = issueCert(caPair, certDir, 'gcp-standins', { cn: '127.0.0.1', sans: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server' });
  const ca = readFileSync(caPair.cert, 'utf8');

  const w = new GcpWorld(now, options.propagationDelayMs ?? 0, options.projects ?? [{ projectId: 'sandbox-project', projectNumber: '123456789012' }], options.fetchPublic);
  const servers = new GcpServers(w, contracts, { cert: readFileSync(serving.cert), key: readFileSync(serving.key) });
  const origins: Record<string, string> = {};
  for (const host of HOSTS) origins[host] = await servers.listen(host);
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
      const origin = w.origin(`docker:${location}`);
      if (!origin) throw new Error(`no Artifact Registry repository in ${location}: seed one first`);
      return origin;
    },
  };
  const agent = new https.Agent({ ca, keepAlive: false });
  const { accounts, tokens, clusters, repositories, project, policyOf, issue } = w;

  return {
    urls,
    ca,
    agent,
    adminCredentials: () => ({ type: 'authorized_user', ...ADMIN_CLIENT, refresh_token: w.adminRefresh }),
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
      await servers.listen(`docker:${spec.location}`);
      repositories.set(repoKey(spec.projectId, spec.location, spec.repository), { ...spec, policy: new PolicyStore(now) });
    },
    cluster: (p, l, n) => clusters.get(`${p}/${l}/${n}`),
    gkeWorkloadToken: (c, ns, ksa, gsa) => gkeWorkloadToken(w, c, ns, ksa, gsa),
    setPropagationDelay: (ms) => {
      w.delayMs = ms;
    },
    projectNumber: (projectId) => project(projectId).projectNumber,
    requests: (since = 0) => w.records.filter((r) => r.seq > since),
    mark: () => w.seq,
    close: async () => {
      agent.destroy();
      await servers.close();
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
