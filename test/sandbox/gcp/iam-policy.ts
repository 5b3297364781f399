// IAM policies as Google keeps them (IAM docs "Policies", "Policy versions", "Using etags"): one per
// resource, an `etag` that changes on every write, version 1 or 3 (3 when a binding has a condition),
// and a roles → permissions table for the roles the product meets. Each binding member remembers
// when it was written, so the stand-ins can make a new grant wait for the IAM propagation delay.
import { createHash, randomBytes } from 'node:crypto';
import { GoogleError } from './google-error.js';

export interface Expr {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}

export interface Binding {
  role: string;
  members: string[];
  condition?: Expr;
}

export interface Policy {
  version?: number;
  etag?: string;
  bindings?: Binding[];
}

/**
 * The permissions of the roles involved (IAM "roles and permissions index"; only the permissions the
 * stand-ins check). `roles/owner` holds every permission.
 */
export const ROLE_PERMISSIONS: Record<string, readonly string[]> = {
  'roles/viewer': [
    'resourcemanager.projects.get', 'resourcemanager.projects.getIamPolicy', 'iam.serviceAccounts.get', 'iam.serviceAccounts.list',
    'iam.serviceAccounts.getIamPolicy', 'iam.workloadIdentityPools.get', 'iam.workloadIdentityPools.list',
    'iam.workloadIdentityPoolProviders.get', 'iam.workloadIdentityPoolProviders.list', 'container.clusters.get', 'container.clusters.list',
    'artifactregistry.repositories.get', 'artifactregistry.repositories.list', 'artifactregistry.repositories.getIamPolicy',
  ],
  'roles/browser': ['resourcemanager.projects.get'],
  'roles/iam.serviceAccountAdmin': [
    'iam.serviceAccounts.create', 'iam.serviceAccounts.delete', 'iam.serviceAccounts.get', 'iam.serviceAccounts.list',
    'iam.serviceAccounts.update', 'iam.serviceAccounts.undelete', 'iam.serviceAccounts.enable', 'iam.serviceAccounts.disable',
    'iam.serviceAccounts.getIamPolicy', 'iam.serviceAccounts.setIamPolicy', 'resourcemanager.projects.get',
  ],
  'roles/iam.workloadIdentityPoolAdmin': [
    'iam.workloadIdentityPools.create', 'iam.workloadIdentityPools.delete', 'iam.workloadIdentityPools.get',
    'iam.workloadIdentityPools.list', 'iam.workloadIdentityPools.update', 'iam.workloadIdentityPools.undelete',
    'iam.workloadIdentityPoolProviders.create', 'iam.workloadIdentityPoolProviders.delete', 'iam.workloadIdentityPoolProviders.get',
    'iam.workloadIdentityPoolProviders.list', 'iam.workloadIdentityPoolProviders.update', 'iam.workloadIdentityPoolProviders.undelete',
    'resourcemanager.projects.get',
  ],
  'roles/resourcemanager.projectIamAdmin': ['resourcemanager.projects.get', 'resourcemanager.projects.getIamPolicy', 'resourcemanager.projects.setIamPolicy'],
  'roles/artifactregistry.admin': [
    'artifactregistry.repositories.get', 'artifactregistry.repositories.list', 'artifactregistry.repositories.getIamPolicy',
    'artifactregistry.repositories.setIamPolicy', 'artifactregistry.repositories.downloadArtifacts', 'artifactregistry.repositories.uploadArtifacts',
  ],
  'roles/artifactregistry.reader': [
    'artifactregistry.repositories.get', 'artifactregistry.repositories.list', 'artifactregistry.repositories.downloadArtifacts',
  ],
  'roles/iam.workloadIdentityUser': [
    'iam.serviceAccounts.get', 'iam.serviceAccounts.list', 'iam.serviceAccounts.getAccessToken', 'iam.serviceAccounts.getOpenIdToken',
  ],
  'roles/iam.serviceAccountTokenCreator': [
    'iam.serviceAccounts.get', 'iam.serviceAccounts.getAccessToken', 'iam.serviceAccounts.getOpenIdToken', 'iam.serviceAccounts.signJwt', 'iam.serviceAccounts.signBlob',
  ],
  'roles/container.viewer': ['container.clusters.get', 'container.clusters.list', 'resourcemanager.projects.get'],
};

export function roleGrants(role: string, permission: string): boolean {
  return role === 'roles/owner' || (ROLE_PERMISSIONS[role]?.includes(permission) ?? false);
}

/** An etag as Google shows them: base64 of 8 bytes. */
function newEtag(): string {
  return randomBytes(8).toString('base64');
}

const VERSIONS = new Set([0, 1, 3]);

/** One resource's policy, with when each (role, member) was written. */
export class PolicyStore {
  private bindings: Binding[] = [];
  private etag = 'ACAB';
  /** `role|member` → when it was written (ms); seeded grants are effective at once (written at -∞). */
  private readonly writtenAt = new Map<string, number>();
  /** Runs once between a read and the next write (the concurrent writer of a test). */
  beforeNextWrite: (() => void) | undefined;

  constructor(private readonly now: () => number) {}

  /** Seeds a grant as if written long ago (no propagation wait). */
  seed(role: string, member: string, condition?: Expr): void {
    this.addBinding(role, member, condition);
    this.writtenAt.set(`${role}|${member}`, Number.NEGATIVE_INFINITY);
    this.etag = newEtag();
  }

  /** A write made by someone else (no etag check), recorded as written now. */
  concurrentGrant(role: string, member: string, condition?: Expr): void {
    this.addBinding(role, member, condition);
    this.writtenAt.set(`${role}|${member}`, this.now());
    this.etag = newEtag();
  }

  private addBinding(role: string, member: string, condition?: Expr): void {
    const same = this.bindings.find((b) => b.role === role && JSON.stringify(b.condition ?? null) === JSON.stringify(condition ?? null));
    if (same) {
      if (!same.members.includes(member)) same.members.push(member);
    } else this.bindings.push({ role, members: [member], ...(condition ? { condition } : {}) });
  }

  private hasConditions(): boolean {
    return this.bindings.some((b) => b.condition);
  }

  /** The policy as getIamPolicy answers it for `requestedPolicyVersion`. */
  read(requestedPolicyVersion: number | undefined): Policy {
    const requested = requestedPolicyVersion ?? 0;
    if (!VERSIONS.has(requested)) throw new GoogleError('INVALID_ARGUMENT', `Invalid requested policy version: ${requested}. Valid values are 0, 1 and 3.`);
    const conditional = this.hasConditions();
    const bindings =
      conditional && requested < 3
        ? // Google hides conditions from a reader that asked for version 1: the role gets a
          // `_withcond_<hash>` suffix, so a blind write of it back fails instead of dropping the condition.
          this.bindings.map((b) => (b.condition ? { role: `${b.role}_withcond_${createHash('sha256').update(JSON.stringify(b.condition)).digest('hex').slice(0, 20)}`, members: [...b.members] } : { role: b.role, members: [...b.members] }))
        : this.bindings.map((b) => ({ role: b.role, members: [...b.members], ...(b.condition ? { condition: { ...b.condition } } : {}) }));
    return {
      version: conditional && requested >= 3 ? 3 : 1,
      etag: this.etag,
      ...(bindings.length ? { bindings } : {}),
    };
  }

  /** setIamPolicy: a stale etag → 409 ABORTED; no etag overwrites blindly (as Google does). */
  write(policy: Policy): Policy {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
    if (policy.etag !== undefined && policy.etag !== this.etag) {
      throw new GoogleError('ABORTED', 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
    }
    const version = policy.version ?? 1;
    if (!VERSIONS.has(version)) throw new GoogleError('INVALID_ARGUMENT', `Invalid policy version: ${version}. Valid values are 0, 1 and 3.`);
    const bindings = policy.bindings ?? [];
    for (const b of bindings) {
      if (b.role.includes('_withcond_')) throw new GoogleError('INVALID_ARGUMENT', `Role ${b.role} is not supported: read the policy with requestedPolicyVersion 3 to see its condition.`);
      if (!/^roles\/[A-Za-z0-9_.]+$|^projects\/[^/]+\/roles\/[A-Za-z0-9_.]+$|^organizations\/[^/]+\/roles\/[A-Za-z0-9_.]+$/.test(b.role)) throw new GoogleError('INVALID_ARGUMENT', `Role ${b.role} is not supported for this resource.`);
      if (b.condition && version < 3) throw new GoogleError('INVALID_ARGUMENT', 'Conditions are only supported in policy version 3: set version to 3 for a policy with conditional role bindings.');
      if (b.condition && !b.condition.expression) throw new GoogleError('INVALID_ARGUMENT', 'A condition needs an expression.');
      if (!b.members?.length) throw new GoogleError('INVALID_ARGUMENT', `Binding for ${b.role} has no members.`);
      for (const m of b.members) {
        if (!/^(user|serviceAccount|group|domain|deleted:serviceAccount|deleted:user|deleted:group):|^principal(Set)?:\/\/|^(allUsers|allAuthenticatedUsers)$/.test(m)) {
          throw new GoogleError('INVALID_ARGUMENT', `Invalid member: ${m}`);
        }
      }
    }
    if (this.hasConditions() && version < 3) {
      // Any write that affects conditional role bindings must say version 3 (IAM "Policy versions").
      throw new GoogleError('INVALID_ARGUMENT', 'The policy has conditional role bindings: set version 3 to change it.');
    }
    const now = this.now();
    const next = new Map<string, number>();
    for (const b of bindings) for (const m of b.members) next.set(`${b.role}|${m}`, this.writtenAt.get(`${b.role}|${m}`) ?? now);
    this.writtenAt.clear();
    for (const [k, v] of next) this.writtenAt.set(k, v);
    this.bindings = bindings.map((b) => ({ role: b.role, members: [...new Set(b.members)], ...(b.condition ? { condition: { ...b.condition } } : {}) }));
    this.etag = newEtag();
    return this.read(3);
  }

  /**
   * Whether `members` (the caller's identities) hold `permission` here through an unconditional
   * binding written at least `delayMs` ago. Conditional bindings never grant (the stand-in does
   * not evaluate CEL).
   */
  grants(members: string[], permission: string, delayMs: number): boolean {
    const now = this.now();
    return this.bindings.some(
      (b) =>
        !b.condition &&
        roleGrants(b.role, permission) &&
        b.members.some((m) => members.includes(m) && (this.writtenAt.get(`${b.role}|${m}`) ?? now) + delayMs <= now),
    );
  }

  /** Whether a grant exists but is still propagating (for the stand-in's decision log). */
  pending(members: string[], permission: string, delayMs: number): boolean {
    return !this.grants(members, permission, delayMs) && this.grants(members, permission, Number.NEGATIVE_INFINITY);
  }
}
