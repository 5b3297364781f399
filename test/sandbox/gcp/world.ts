// The state the Google Cloud stand-ins share: projects, service accounts, workload identity pools,
// GKE clusters, Artifact Registry repositories, the tokens issued, long-running operations, the
// stand-ins' clock and propagation delay, and the request log; with the lookups and permission
// checks every API uses.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { DiscoveryMethod } from './discovery.js';
import { GoogleError } from './google-error.js';
import { PolicyStore } from './iam-policy.js';
import type { ArtifactRepositorySpec, GcpProjectSpec, GcpRequestRecord, GkeClusterSpec, PolicyResource, PublicFetch } from './types.js';

export const ADMIN = 'user:admin@sandbox.example';
export const ADMIN_CLIENT = { client_id: 'sandbox-client.apps.googleusercontent.com', client_secret: 'sandbox-secret' };
export const TOKEN_LIFETIME_S = 3600;
export const CLOCK_SKEW_S = 300;

export interface Project extends GcpProjectSpec {
  policy: PolicyStore;
}

export interface ServiceAccount {
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

export interface Provider {
  body: Record<string, unknown>;
  state: 'ACTIVE' | 'DELETED';
  deletedAt?: number;
}

export interface Pool {
  projectNumber: string;
  id: string;
  body: Record<string, unknown>;
  state: 'ACTIVE' | 'DELETED';
  deletedAt?: number;
  providers: Map<string, Provider>;
}

export interface Repository extends ArtifactRepositorySpec {
  policy: PolicyStore;
}

interface IssuedToken {
  principal: string;
  expiresAt: number;
}

/** One API call, routed to its discovery method and validated. */
export interface Ctx {
  method: DiscoveryMethod;
  params: Record<string, string | string[]>;
  body: Record<string, unknown>;
  caller: string;
}

/** The stand-in of one discovery method. */
export type Handler = (ctx: Ctx) => Record<string, unknown> | Promise<Record<string, unknown>>;

export const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v[0]! : (v ?? ''));

export const repoKey = (projectId: string, location: string, repository: string): string => `${projectId}/${location}/${repository}`;

/** The policy version a getIamPolicy call asks for (query parameter or body). */
export const iamPolicyRequest = (ctx: Ctx): number | undefined => {
  const q = ctx.params['options.requestedPolicyVersion'];
  if (typeof q === 'string') return Number(q);
  const opts = ctx.body.options as { requestedPolicyVersion?: number } | undefined;
  return opts?.requestedPolicyVersion;
};

export const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
};

export const decisionOf = (status: number): GcpRequestRecord['decision'] =>
  status < 300 ? 'allowed' : status === 401 ? 'unauthenticated' : status === 403 ? 'denied' : status === 404 ? 'not-found' : status === 409 ? 'conflict' : status === 501 ? 'unimplemented' : 'invalid';

export class GcpWorld {
  /** How long a new service account or IAM grant takes to become effective. */
  delayMs: number;
  readonly projects = new Map<string, Project>();
  readonly byNumber = new Map<string, Project>();
  readonly accounts = new Map<string, ServiceAccount>();
  readonly pools = new Map<string, Pool>();
  readonly clusters = new Map<string, GkeClusterSpec>();
  readonly repositories = new Map<string, Repository>();
  readonly tokens = new Map<string, IssuedToken>();
  readonly refreshTokens = new Map<string, string>();
  readonly adminRefresh = `1//sandbox-${randomBytes(12).toString('hex')}`;
  readonly operations = new Map<string, { name: string; reads: number; response: Record<string, unknown> }>();
  readonly records: GcpRequestRecord[] = [];
  seq = 0;
  /** The origin a host's listener serves (set by the server once it listens). */
  origin: (host: string) => string | undefined = () => undefined;

  constructor(
    readonly now: () => number,
    delayMs: number,
    projects: GcpProjectSpec[],
    readonly fetchPublic?: PublicFetch,
  ) {
    this.delayMs = delayMs;
    for (const p of projects) {
      const project = { ...p, policy: new PolicyStore(now) };
      project.policy.seed('roles/owner', ADMIN);
      this.projects.set(p.projectId, project);
      this.byNumber.set(p.projectNumber, project);
    }
    this.refreshTokens.set(this.adminRefresh, ADMIN);
  }

  record = (r: Omit<GcpRequestRecord, 'seq'>): void => {
    this.records.push({ seq: ++this.seq, ...r });
  };

  /** Google's OAuth 2.0 token endpoint (a key file's `token_uri`). */
  get oauth2Token(): string {
    return `${this.origin('oauth2')}/token`;
  }

  project = (ref: string): Project => {
    const p = this.projects.get(ref) ?? this.byNumber.get(ref);
    if (!p) throw new GoogleError('PERMISSION_DENIED', `Permission denied on resource project ${ref} (or it may not exist).`);
    return p;
  };

  accountKey = (ref: string): ServiceAccount | undefined => this.accounts.get(ref) ?? [...this.accounts.values()].find((a) => a.uniqueId === ref);

  issue = (principal: string, lifetimeS = TOKEN_LIFETIME_S): string => {
    const token = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { principal, expiresAt: this.now() + lifetimeS * 1000 });
    return token;
  };

  policyOf = (r: PolicyResource): PolicyStore => {
    switch (r.kind) {
      case 'project':
        return this.project(r.projectId).policy;
      case 'serviceAccount': {
        const a = this.accountKey(r.email);
        if (!a) throw new Error(`no service account ${r.email}`);
        return a.policy;
      }
      case 'repository': {
        const repo = this.repositories.get(repoKey(r.projectId, r.location, r.repository));
        if (!repo) throw new Error(`no repository ${r.projectId}/${r.location}/${r.repository}`);
        return repo.policy;
      }
    }
  };

  /** Whether `caller` holds `permission` on a resource through its own policy or its project's. */
  allowed = (caller: string, permission: string, stores: PolicyStore[]): boolean => stores.some((s) => s.grants([caller], permission, this.delayMs));

  requirePermission = (caller: string, permission: string, resource: string, stores: PolicyStore[]): void => {
    if (!this.allowed(caller, permission, stores)) {
      throw new GoogleError('PERMISSION_DENIED', `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`, [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission } },
      ]);
    }
  };
}
