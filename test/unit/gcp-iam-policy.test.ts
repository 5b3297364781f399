// The pure parts of src/clouds/gcp/iam-policy.ts, and its read-modify-write loop against a fake session.
import { describe, expect, it } from 'vitest';
import { GoogleApiError } from '../../src/clouds/gcp/errors.js';
import { changeMember, policyBackoffMs, policyCalls, updateMember, type IamPolicy } from '../../src/clouds/gcp/iam-policy.js';
import type { GcpSession, GoogleCall } from '../../src/clouds/gcp/session.js';
import { OperationError } from '../../src/errors.js';

const ROLE = 'roles/iam.workloadIdentityUser';
const ME = 'serviceAccount:p.svc.id.goog[stackrox/central]';
const condition = { title: 'hours', expression: 'request.time.getHours("UTC") < 18' };

describe('changeMember', () => {
  it('adds to the unconditional binding of the role, keeps the others and their conditions, and says version 3', () => {
    const policy: IamPolicy = { version: 1, etag: 'BwX1', bindings: [
      { role: ROLE, members: ['user:a@x'] },
      { role: ROLE, members: ['user:b@x'], condition },
      { role: 'roles/viewer', members: ['user:c@x'] },
    ] };
    const r = changeMember(policy, { op: 'add', role: ROLE, member: ME });
    expect(r.changed).toBe(true);
    expect(r.policy).toEqual({ version: 3, etag: 'BwX1', bindings: [
      { role: ROLE, members: ['user:a@x', ME] },
      { role: ROLE, members: ['user:b@x'], condition },
      { role: 'roles/viewer', members: ['user:c@x'] },
    ] });
    // The input is not changed.
    expect(policy.bindings![0]!.members).toEqual(['user:a@x']);
  });

  it('creates the binding when the role has only a conditional one, never joining the condition', () => {
    const r = changeMember({ etag: 'e', bindings: [{ role: ROLE, members: ['user:b@x'], condition }] }, { op: 'add', role: ROLE, member: ME });
    expect(r.policy.bindings).toEqual([{ role: ROLE, members: ['user:b@x'], condition }, { role: ROLE, members: [ME] }]);
  });

  it('is a no-op when the member is already there (add) or absent (remove)', () => {
    const policy: IamPolicy = { etag: 'e', bindings: [{ role: ROLE, members: [ME] }] };
    expect(changeMember(policy, { op: 'add', role: ROLE, member: ME })).toEqual({ policy, changed: false });
    expect(changeMember({ etag: 'e' }, { op: 'remove', role: ROLE, member: ME })).toEqual({ policy: { etag: 'e' }, changed: false });
  });

  it('removes only that member; the binding goes when it empties; a conditional grant of the same member stays', () => {
    const policy: IamPolicy = { etag: 'e', bindings: [{ role: ROLE, members: [ME, 'user:a@x'] }, { role: ROLE, members: [ME], condition }] };
    const once = changeMember(policy, { op: 'remove', role: ROLE, member: ME });
    expect(once.policy.bindings).toEqual([{ role: ROLE, members: ['user:a@x'] }, { role: ROLE, members: [ME], condition }]);
    const twice = changeMember(once.policy, { op: 'remove', role: ROLE, member: 'user:a@x' });
    expect(twice.policy.bindings).toEqual([{ role: ROLE, members: [ME], condition }]);
  });
});

describe('policyCalls', () => {
  it.each([
    [{ kind: 'project', projectId: 'p-1' } as const, 'cloudresourcemanager', 'v3/projects/p-1:getIamPolicy'],
    [{ kind: 'serviceAccount', email: 'sa@p.iam.gserviceaccount.com' } as const, 'iam', 'v1/projects/-/serviceAccounts/sa%40p.iam.gserviceaccount.com:getIamPolicy'],
    [{ kind: 'repository', projectId: 'p', location: 'europe-west1', repository: 'images' } as const, 'artifactregistry', 'v1/projects/p/locations/europe-west1/repositories/images:getIamPolicy'],
  ])('asks for policy version 3 on %j', (resource, api, path) => {
    const { get } = policyCalls(resource);
    expect({ api: get.api, path: get.path, safe: get.safe }).toEqual({ api, path, safe: true });
    expect(JSON.stringify({ q: get.query, b: get.body })).toMatch(/requestedPolicyVersion":3/);
    expect(policyCalls(resource).set({}).safe).toBe(false);
  });
});

/** A session whose policy another writer changes during the first `conflicts` writes. */
function fakeSession(conflicts: number) {
  let stored: IamPolicy = { version: 1, etag: 'e0', bindings: [{ role: 'roles/viewer', members: ['user:c@x'] }] };
  let n = 0;
  const sets: IamPolicy[] = [];
  const sleeps: number[] = [];
  const session: GcpSession = {
    credentialsFrom: 'fake',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    call: async <T>(c: GoogleCall): Promise<T> => {
      if (c.name.endsWith('getIamPolicy')) return structuredClone(stored) as T;
      const policy = (c.body as { policy: IamPolicy }).policy;
      sets.push(policy);
      if (conflicts > 0) {
        conflicts--;
        stored = { ...stored, etag: `other${++n}`, bindings: [...stored.bindings!, { role: 'roles/browser', members: [`user:other${n}@x`] }] };
      }
      if (policy.etag !== stored.etag) throw new GoogleApiError(c.name, 409, 'ABORTED', 'There were concurrent policy changes.');
      stored = { ...policy, etag: `mine${sets.length}` };
      return stored as T;
    },
  };
  return { session, sets, sleeps, stored: () => stored };
}

describe('updateMember', () => {
  it('sends the etag it read, and after a concurrent change reads again: the other writer\'s binding is kept', async () => {
    const f = fakeSession(1);
    const r = await updateMember(f.session, { kind: 'project', projectId: 'p-1' }, { op: 'add', role: ROLE, member: ME });
    expect(r).toEqual({ changed: true, attempts: 2 });
    expect(f.sets.map((s) => s.etag)).toEqual(['e0', 'other1']);
    expect(f.stored().bindings).toEqual([{ role: 'roles/viewer', members: ['user:c@x'] }, { role: 'roles/browser', members: ['user:other1@x'] }, { role: ROLE, members: [ME] }]);
    expect(f.sleeps).toEqual([policyBackoffMs(1)]);
  });

  it('gives up after a bounded number of attempts, with an operation error naming the resource', async () => {
    const f = fakeSession(100);
    const err = await updateMember(f.session, { kind: 'serviceAccount', email: 'sa@p.iam.gserviceaccount.com' }, { op: 'add', role: ROLE, member: ME }, 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/service account sa@p\.iam\.gserviceaccount\.com changed under every one of 4 attempts/);
    expect(f.sets).toHaveLength(4);
    expect(f.sleeps).toEqual([500, 1000, 2000]);
  });

  it('writes nothing when the member is already there', async () => {
    const f = fakeSession(0);
    await updateMember(f.session, { kind: 'project', projectId: 'p-1' }, { op: 'add', role: ROLE, member: ME });
    const again = await updateMember(f.session, { kind: 'project', projectId: 'p-1' }, { op: 'add', role: ROLE, member: ME });
    expect(again).toEqual({ changed: false, attempts: 1 });
    expect(f.sets).toHaveLength(1);
  });

  it('does not retry another refusal', async () => {
    const session: GcpSession = { credentialsFrom: 'fake', sleep: async () => {}, call: async <T>(c: GoogleCall): Promise<T> => {
      if (c.safe) return { etag: 'e' } as T;
      throw new GoogleApiError(c.name, 403, 'PERMISSION_DENIED', 'denied');
    } };
    await expect(updateMember(session, { kind: 'project', projectId: 'p-1' }, { op: 'add', role: ROLE, member: ME })).rejects.toMatchObject({ httpStatus: 403 });
  });

  it('backs off doubling, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(policyBackoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });
});
