// The state the Azure stand-ins share: one tenant and subscription, the directory's principals
// (apps with secrets, managed identities), ARM's resources, role assignments, a virtual clock, the
// knobs tests turn, the key Entra signs its tokens with, and the observation log.
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/** Host names of one Azure cloud (public, US Government, China). */
export interface CloudHosts {
  name: 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud';
  /** The authority host a real client would use. */
  authorityHost: string;
  /** The ARM resource (token audience) and its `.default` scope base. */
  armResource: string;
  /** ARM's older resource name (Azure Service Management), still accepted. */
  legacyArmResource: string;
  /** ACR's login server suffix. */
  acrSuffix: string;
  /** The v1 token issuer's host. */
  stsHost: string;
}

export const CLOUDS: Record<'public' | 'usgov' | 'china', CloudHosts> = {
  public: { name: 'AzureCloud', authorityHost: 'https://login.microsoftonline.com', armResource: 'https://management.azure.com', legacyArmResource: 'https://management.core.windows.net', acrSuffix: 'azurecr.io', stsHost: 'sts.windows.net' },
  usgov: { name: 'AzureUSGovernment', authorityHost: 'https://login.microsoftonline.us', armResource: 'https://management.usgovcloudapi.net', legacyArmResource: 'https://management.core.usgovcloudapi.net', acrSuffix: 'azurecr.us', stsHost: 'login.microsoftonline.us' },
  china: { name: 'AzureChinaCloud', authorityHost: 'https://login.chinacloudapi.cn', armResource: 'https://management.chinacloudapi.cn', legacyArmResource: 'https://management.core.chinacloudapi.cn', acrSuffix: 'azurecr.cn', stsHost: 'sts.chinacloudapi.cn' },
};

/** ACR's own AAD audience, accepted at the registry's exchange besides ARM's. */
export const ACR_AAD_RESOURCE = 'https://containerregistry.azure.net';

export interface App {
  clientId: string;
  principalId: string;
  displayName: string;
  secret?: string;
}

export interface IdentityRecord {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  clientId: string;
  principalId: string;
  /** Virtual-clock ms when the identity was created (PrincipalNotFound until + delay). */
  createdAt: number;
  fics: Map<string, FicRecord>;
}

export interface FicRecord {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface RoleAssignmentRecord {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType?: string;
  description?: string;
  createdOn: string;
  createdBy: string;
}

export interface ObservedRequest {
  seq: number;
  time: string;
  service: 'arm' | 'entra' | 'acr' | 'webhook';
  method: string;
  path: string;
  /** The specification's operation id (`FederatedIdentityCredentials_CreateOrUpdate`), or the endpoint's name. */
  operationId: string;
  status: number;
  /** The caller (principal or client id) when known. */
  caller?: string;
  decision: { allowed: boolean; code?: string; reason: string };
}

export interface Knobs {
  /** How long after an identity's creation role assignments for it fail with PrincipalNotFound. */
  principalPropagationMs: number;
  /**
   * Called while a federated-credential write holds its identity's write lock: a test returns a
   * promise it resolves later to force another write on the same identity to overlap (→ 409).
   */
  ficWriteHold?: (identityId: string, ficName: string) => Promise<void> | void;
}

const MAX_LOG = 50_000;

export class World {
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly cloud: CloudHosts;
  readonly apps = new Map<string, App>();
  readonly identities = new Map<string, IdentityRecord>();
  readonly resourceGroups = new Map<string, { name: string; location: string; tags: Record<string, string> }>();
  readonly clusters = new Map<string, Record<string, unknown>>();
  readonly registries = new Map<string, { id: string; name: string; resourceGroup: string; location: string; loginServer: string; repositories: Map<string, string[]> }>();
  readonly roleAssignments = new Map<string, RoleAssignmentRecord>();
  /** Identities (lower-case id) with a federated-credential write in progress. */
  readonly ficWriting = new Set<string>();
  readonly knobs: Knobs;
  readonly log: ObservedRequest[] = [];
  private seq = 0;
  private offsetMs = 0;
  private readonly key: KeyObject;
  readonly keyId = randomUUID();

  constructor(opts: { tenantId?: string; subscriptionId?: string; cloud?: keyof typeof CLOUDS; knobs?: Partial<Knobs>; clock?: () => number }) {
    this.tenantId = opts.tenantId ?? randomUUID();
    this.subscriptionId = opts.subscriptionId ?? randomUUID();
    this.cloud = CLOUDS[opts.cloud ?? 'public'];
    this.knobs = { principalPropagationMs: 0, ...opts.knobs };
    this.baseClock = opts.clock ?? Date.now;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  }

  private readonly baseClock: () => number;

  /** Virtual time in ms: the base clock plus what tests advanced. */
  now(): number {
    return this.baseClock() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  observe(r: Omit<ObservedRequest, 'seq' | 'time'>): void {
    this.log.push({ seq: ++this.seq, time: new Date(this.now()).toISOString(), ...r });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  mark(): number {
    return this.seq;
  }

  /** A principal the directory knows now (an identity becomes known after the propagation delay). */
  principal(principalId: string): { kind: 'app' | 'identity'; clientId: string } | undefined {
    for (const a of this.apps.values()) if (a.principalId === principalId) return { kind: 'app', clientId: a.clientId };
    for (const i of this.identities.values()) {
      if (i.principalId === principalId && this.now() >= i.createdAt + this.knobs.principalPropagationMs) return { kind: 'identity', clientId: i.clientId };
    }
    return undefined;
  }

  identityByClientId(clientId: string): IdentityRecord | undefined {
    for (const i of this.identities.values()) if (i.clientId === clientId.toLowerCase()) return i;
    return undefined;
  }

  /** JWKS of Entra's signing key. */
  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.key.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid: this.keyId, n: jwk.n, e: jwk.e }] };
  }

  /** Signs a JWT (RS256) with Entra's key. */
  signJwt(payload: Record<string, unknown>): string {
    const h = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.keyId })).toString('base64url');
    const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const s = sign('sha256', Buffer.from(`${h}.${p}`), this.key).toString('base64url');
    return `${h}.${p}.${s}`;
  }

  /** Verifies a token this Entra issued: signature, expiry (virtual clock). Returns its claims or why not. */
  verifyOwn(token: string): { claims: Record<string, unknown> } | { error: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'not a JWT' };
    let claims: Record<string, unknown>;
    try {
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { kid?: string };
      if (header.kid !== this.keyId) return { error: 'signed by an unknown key' };
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { error: 'not a JWT' };
    }
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.key, Buffer.from(parts[2]!, 'base64url'))) return { error: 'signature does not verify' };
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) return { error: 'expired' };
    return { claims };
  }
}
