/**
 * IAM policies of service accounts, projects and Artifact Registry repositories, changed by exactly
 * one member on one role: read with `requestedPolicyVersion: 3` (so conditions are seen), change
 * only the role's unconditional binding, write back with the `etag` read, and on 409 ABORTED (another
 * writer came between) read again and retry, a bounded number of times. Every other binding, every
 * condition and the audit configs go back as they were read.
 */
import { OperationError } from '../../errors.js';
import { isConcurrentPolicyChange } from './errors.js';
import type { GcpSession, GoogleCall } from './session.js';

export interface IamCondition {
  title?: string;
  description?: string;
  expression: string;
  location?: string;
}

export interface IamBinding {
  role: string;
  members?: string[];
  condition?: IamCondition;
}

export interface IamPolicy {
  version?: number;
  etag?: string;
  bindings?: IamBinding[];
  auditConfigs?: unknown[];
}

/** A resource with an IAM policy. */
export type IamResource =
  | { kind: 'project'; projectId: string }
  | { kind: 'serviceAccount'; email: string }
  | { kind: 'repository'; projectId: string; location: string; repository: string };

export interface MemberChange {
  op: 'add' | 'remove';
  role: string;
  member: string;
}

/** Attempts of a read-modify-write before giving up on a policy that keeps changing. */
export const POLICY_WRITE_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;

/** The wait before attempt `attempt + 1` (doubling, capped). */
export function policyBackoffMs(attempt: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS);
}

/**
 * Pure: the policy with one member added to, or removed from, the role's unconditional binding;
 * `changed` is false when it was already so. Conditional bindings are never touched: a member with
 * a condition is not the grant we make, and rewriting one would change what the owner meant.
 */
export function changeMember(policy: IamPolicy, change: MemberChange): { policy: IamPolicy; changed: boolean } {
  const bindings = (policy.bindings ?? []).map((b) => ({ ...b, ...(b.members ? { members: [...b.members] } : {}) }));
  const i = bindings.findIndex((b) => b.role === change.role && b.condition === undefined);
  const has = i >= 0 && (bindings[i]!.members ?? []).includes(change.member);
  if ((change.op === 'add') === has) return { policy, changed: false };
  if (change.op === 'add') {
    if (i >= 0) bindings[i]!.members = [...(bindings[i]!.members ?? []), change.member];
    else bindings.push({ role: change.role, members: [change.member] });
  } else {
    const left = bindings[i]!.members!.filter((m) => m !== change.member);
    if (left.length) bindings[i]!.members = left;
    else bindings.splice(i, 1);
  }
  // Version 3 on every write: required over conditions, accepted without them.
  return { policy: { ...policy, version: 3, bindings }, changed: true };
}

/** Pure: the two calls for a resource's policy. */
export function policyCalls(resource: IamResource): { get: GoogleCall; set: (policy: IamPolicy) => GoogleCall } {
  const enc = encodeURIComponent;
  switch (resource.kind) {
    case 'project': {
      const path = `v3/projects/${enc(resource.projectId)}`;
      return {
        get: { api: 'cloudresourcemanager', name: 'cloudresourcemanager.projects.getIamPolicy', method: 'POST', path: `${path}:getIamPolicy`, body: { options: { requestedPolicyVersion: 3 } }, safe: true },
        set: (policy) => ({ api: 'cloudresourcemanager', name: 'cloudresourcemanager.projects.setIamPolicy', method: 'POST', path: `${path}:setIamPolicy`, body: { policy }, safe: false }),
      };
    }
    case 'serviceAccount': {
      // `-` lets Google infer the project from the account's email.
      const path = `v1/projects/-/serviceAccounts/${enc(resource.email)}`;
      return {
        get: { api: 'iam', name: 'iam.projects.serviceAccounts.getIamPolicy', method: 'POST', path: `${path}:getIamPolicy`, query: { 'options.requestedPolicyVersion': 3 }, safe: true },
        set: (policy) => ({ api: 'iam', name: 'iam.projects.serviceAccounts.setIamPolicy', method: 'POST', path: `${path}:setIamPolicy`, body: { policy }, safe: false }),
      };
    }
    case 'repository': {
      const path = `v1/projects/${enc(resource.projectId)}/locations/${enc(resource.location)}/repositories/${enc(resource.repository)}`;
      return {
        get: { api: 'artifactregistry', name: 'artifactregistry.projects.locations.repositories.getIamPolicy', method: 'GET', path: `${path}:getIamPolicy`, query: { 'options.requestedPolicyVersion': 3 }, safe: true },
        set: (policy) => ({ api: 'artifactregistry', name: 'artifactregistry.projects.locations.repositories.setIamPolicy', method: 'POST', path: `${path}:setIamPolicy`, body: { policy }, safe: false }),
      };
    }
  }
}

export function describeResource(resource: IamResource): string {
  switch (resource.kind) {
    case 'project': return `project ${resource.projectId}`;
    case 'serviceAccount': return `service account ${resource.email}`;
    case 'repository': return `repository ${resource.location}/${resource.repository} in project ${resource.projectId}`;
  }
}

export async function readPolicy(session: GcpSession, resource: IamResource): Promise<IamPolicy> {
  return session.call<IamPolicy>(policyCalls(resource).get);
}

/**
 * Read-modify-write of one member on one role, with the etag; a concurrent change (409 ABORTED) is
 * read again and retried after a backoff, at most `attempts` times. Returns whether it wrote.
 */
export async function updateMember(session: GcpSession, resource: IamResource, change: MemberChange, attempts = POLICY_WRITE_ATTEMPTS): Promise<{ changed: boolean; attempts: number }> {
  const calls = policyCalls(resource);
  for (let attempt = 1; ; attempt++) {
    const current = await session.call<IamPolicy>(calls.get);
    const next = changeMember(current, change);
    if (!next.changed) return { changed: false, attempts: attempt };
    try {
      await session.call(calls.set(next.policy));
      return { changed: true, attempts: attempt };
    } catch (err) {
      if (!isConcurrentPolicyChange(err)) throw err;
      if (attempt >= attempts) {
        throw new OperationError(`The IAM policy of ${describeResource(resource)} changed under every one of ${attempts} attempts to ${change.op} ${change.member} on ${change.role}.`, {
          cause: err,
          hint: 'Another tool is writing this policy at the same time; run again when it is done.',
        });
      }
      await session.sleep(policyBackoffMs(attempt));
    }
  }
}
