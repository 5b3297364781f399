// A session reads the role, the providers and the quota once until it writes (src/clouds/aws/iam/read-memo.ts),
// here through the real session against a mocked SDK: the number of calls IAM received is counted.
import { GetAccountSummaryCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSession } from '../../src/clouds/aws/client.js';
import { readMemo } from '../../src/clouds/aws/iam/read-memo.js';
import type { Plan } from '../../src/plan/model.js';

const iam = mockClient(IAMClient);
const ROLE = {
  RoleName: 'rhacs-sts', RoleId: 'AROAEXAMPLE', Path: '/', CreateDate: new Date(0), Arn: 'arn:aws:iam::111122223333:role/rhacs-sts',
  AssumeRolePolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}'), Tags: [{ Key: 'rhacs-sts/managed', Value: 'true' }],
};
const input = { accountId: '111122223333', partition: 'aws' as const, issuers: [], roleName: 'rhacs-sts' };

beforeEach(() => {
  iam.reset();
  iam.on(GetRoleCommand).resolves({ Role: ROLE });
  iam.on(GetRolePolicyCommand).rejects(Object.assign(new Error('no policy'), { name: 'NoSuchEntity' }));
  iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AssumeRolePolicySizeQuota: 4096 } });
  iam.on(TagRoleCommand).resolves({});
});
afterEach(() => iam.reset());

const calls = (command: unknown) => iam.commandCalls(command as never).length;

describe('one session reads the role and the account summary once until it writes', () => {
  it('serves a second read of the same role from the first, and a copy the caller may change', async () => {
    const session = createAwsSession({ log: () => undefined, sleep: async () => undefined });
    const first = await session.readState(input);
    first.role!.tags.changed = 'by the caller';
    const [second, third] = await Promise.all([session.readState(input), session.readState(input)]);
    expect(calls(GetRoleCommand)).toBe(1);
    expect(calls(GetAccountSummaryCommand)).toBe(1);
    expect(calls(ListAttachedRolePoliciesCommand)).toBe(1);
    expect(second.role!.tags).toEqual({ 'rhacs-sts/managed': 'true' });
    expect(third).toEqual(second);
    expect(second.trustPolicySizeQuota).toBe(4096);
  });

  it('reads afresh after a write, and the re-check before a write is its own read', async () => {
    const session = createAwsSession({ log: () => undefined, sleep: async () => undefined });
    await session.readState(input);
    const tags = { type: 'role-tags', id: 'role-tags', status: 'update', roleName: 'rhacs-sts', tags: { 'rhacs-sts/cluster': 'prod' } };
    expect(await session.apply(tags as never, {} as Plan)).toBe(true);
    // The apply re-read the role before tagging it: not from what the plan read.
    expect(calls(GetRoleCommand)).toBe(2);
    await session.readState(input);
    expect(calls(GetRoleCommand)).toBe(3);
    expect(calls(GetAccountSummaryCommand)).toBe(2);
  });

  it('keeps roles apart by name, and sessions apart', async () => {
    const a = createAwsSession({ log: () => undefined, sleep: async () => undefined });
    await a.readState(input);
    await a.readState({ ...input, roleName: 'rhacs-sts-spoke' });
    await createAwsSession({ log: () => undefined, sleep: async () => undefined }).readState(input);
    expect(iam.commandCalls(GetRoleCommand).map((c) => c.args[0].input.RoleName)).toEqual(['rhacs-sts', 'rhacs-sts-spoke', 'rhacs-sts']);
  });

  it('does not keep a read that failed', async () => {
    const memo = readMemo();
    let n = 0;
    const flaky = async () => {
      n++;
      if (n === 1) throw new Error('throttled');
      return { n };
    };
    await expect(memo.read('k', flaky)).rejects.toThrow('throttled');
    expect(await memo.read('k', flaky)).toEqual({ n: 2 });
    expect(await memo.read('k', flaky)).toEqual({ n: 2 });
    memo.forget();
    expect(await memo.read('k', flaky)).toEqual({ n: 3 });
  });
});
