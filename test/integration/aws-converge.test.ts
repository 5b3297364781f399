// The AWS half of init against moto's IAM/STS: create, converge drift, respect ownership,
// and prove that re-runs and dry runs write nothing (counted at the sandbox's proxy).
import { CreatePolicyCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand, TagRoleCommand, UntagRoleCommand, UpdateAssumeRolePolicyCommand, CreateRoleCommand, GetOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSession } from '../../src/clouds/aws/client.js';
import { isAwsAction, type AwsSession } from '../../src/clouds/aws/session.js';
import { buildPlan } from '../../src/plan/build.js';
import type { Decisions, Facts, Plan } from '../../src/plan/model.js';
import { parsePolicyDocument, PERMISSIONS_POLICY_NAME, trustSid, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { useSandbox } from '../sandbox/context.js';
import { awsMark, awsRequests, awsWrites, resetAws } from '../sandbox/observe.js';

const info = useSandbox();
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
let iam: IAMClient;
let session: AwsSession;

beforeAll(() => {
  Object.assign(process.env, info.awsEnv);
  iam = new IAMClient({ region: 'us-east-1', endpoint: info.awsEndpoint });
});
beforeEach(async () => {
  await resetAws(info);
  session = createAwsSession({ log: () => undefined, sleep: async () => undefined });
});

function facts(accountId: string, over: Partial<Facts> = {}): Facts {
  return {
    partition: 'aws', accountId, region: 'eu-west-1', clusterName: 'prod', offline: false,
    clusters: [{ provider: 'eks', issuer: ISSUER, namespace: 'stackrox', components: ['central', 'sensor'], installMethod: 'manifests', current: {} }],
    ...over,
  };
}

function decisions(over: Partial<Decisions> = {}): Decisions {
  return {
    roleName: 'rhacs-sts-prod', rolePath: '/', ecr: { registryId: info.accountId, repositories: [] }, delegatedScanning: true,
    restart: true, adoptRole: false, adoptOidcProvider: false, thumbprints: {}, ...over,
  };
}

async function planNow(d: Decisions = decisions(), f: Facts = facts(info.accountId)): Promise<Plan> {
  const id = await session.identity();
  expect(id.accountId).toBe(info.accountId);
  const state = await session.readState({ accountId: id.accountId, partition: id.partition, issuers: [ISSUER], roleName: d.roleName });
  return buildPlan({ ...f, accountId: id.accountId, partition: id.partition }, d, state);
}

async function applyAws(plan: Plan): Promise<number> {
  let wrote = 0;
  for (const a of plan.actions) if (isAwsAction(a) && a.status !== 'unchanged' && (await session.apply(a, plan))) wrote++;
  return wrote;
}

const awsStatuses = (plan: Plan) => Object.fromEntries(plan.actions.filter(isAwsAction).map((a) => [a.id, a.status]));

async function roleNow(name = 'rhacs-sts-prod') {
  const r = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
  return { role: r, trust: parsePolicyDocument(r.AssumeRolePolicyDocument!) };
}

describe('init, AWS half, against moto', () => {
  it('creates exactly the provider, role and policies the plan shows; a re-run and a dry run write nothing', async () => {
    const mark0 = await awsMark(info);
    const plan = await planNow();
    // Discovery is read-only.
    expect(await awsWrites(info, mark0)).toEqual([]);
    expect(awsStatuses(plan)).toEqual({
      [`oidc-provider:${ISSUER}`]: 'create', role: 'create', 'trust-policy': 'create', 'permissions-policy': 'create',
    });

    const mark1 = await awsMark(info);
    expect(await applyAws(plan)).toBe(3);
    const writes = (await awsWrites(info, mark1)).map((r) => r.action);
    // Creating the role carries the trust policy, so the trust action finds it in place.
    expect(writes).toEqual(['CreateOpenIDConnectProvider', 'CreateRole', 'PutRolePolicy']);

    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: plan.oidcProvider.arn }));
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(provider.Tags).toEqual(expect.arrayContaining([{ Key: 'rhacs-sts/managed', Value: 'true' }, { Key: 'rhacs-sts/cluster', Value: 'prod' }]));
    const { role, trust } = await roleNow();
    expect(role.Arn).toBe(`arn:aws:iam::${info.accountId}:role/rhacs-sts-prod`);
    expect(trust).toEqual(plan.role.trustPolicy);
    const inline = await session.readState({ accountId: info.accountId, partition: 'aws', issuers: [ISSUER], roleName: 'rhacs-sts-prod' });
    expect(inline.role!.inlinePolicies[PERMISSIONS_POLICY_NAME]).toEqual(plan.role.permissionsPolicy);

    // Second run (a new process, so a new session: one session reads the role once until it writes): everything unchanged, zero writes.
    session = createAwsSession({ log: () => undefined, sleep: async () => undefined });
    const mark2 = await awsMark(info);
    const again = await planNow();
    expect(Object.values(awsStatuses(again))).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(await applyAws(again)).toBe(0);
    expect(await awsWrites(info, mark2)).toEqual([]);
    const reads = (await awsRequests(info, mark2)).map((r) => r.action);
    expect(reads).toContain('GetRole');
  });

  it('converges a drifted trust policy by Sid and keeps statements it did not write', async () => {
    await applyAws(await planNow());
    const foreign = { Sid: 'SomeoneElse', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
    const { trust } = await roleNow();
    const drifted: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        foreign as PolicyDocument['Statement'][number],
        { ...trust.Statement[0]!, Condition: { StringEquals: { [`${ISSUER.slice(8)}:sub`]: 'system:serviceaccount:other:central', [`${ISSUER.slice(8)}:aud`]: 'sts.amazonaws.com' } } },
      ],
    };
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'rhacs-sts-prod', PolicyDocument: JSON.stringify(drifted) }));

    const plan = await planNow();
    expect(awsStatuses(plan)['trust-policy']).toBe('update');
    const mark = await awsMark(info);
    expect(await applyAws(plan)).toBe(1);
    expect((await awsWrites(info, mark)).map((r) => r.action)).toEqual(['UpdateAssumeRolePolicy']);
    const after = (await roleNow()).trust;
    expect(after.Statement[0]).toEqual(foreign);
    expect(after.Statement[1]).toEqual(plan.role.trustPolicy.Statement[1]);
    expect(JSON.stringify(after)).toContain('system:serviceaccount:stackrox:central');
    expect(JSON.stringify(after)).not.toContain('system:serviceaccount:other:central');
  });

  it('converges a drifted inline permissions policy', async () => {
    await applyAws(await planNow());
    await iam.send(new PutRolePolicyCommand({
      RoleName: 'rhacs-sts-prod', PolicyName: PERMISSIONS_POLICY_NAME,
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
    }));
    const plan = await planNow();
    expect(awsStatuses(plan)['permissions-policy']).toBe('update');
    expect(await applyAws(plan)).toBe(1);
    expect(awsStatuses(await planNow())['permissions-policy']).toBe('unchanged');
  });

  it('restores a missing cluster tag on a role it owns', async () => {
    await applyAws(await planNow());
    await iam.send(new UntagRoleCommand({ RoleName: 'rhacs-sts-prod', TagKeys: ['rhacs-sts/cluster'] }));
    const plan = await planNow();
    expect(awsStatuses(plan)['role-tags']).toBe('update');
    expect(plan.blockers).toEqual([]);
    expect(await applyAws(plan)).toBe(1);
    expect((await roleNow()).role.Tags).toEqual(expect.arrayContaining([{ Key: 'rhacs-sts/cluster', Value: 'prod' }]));
  });

  it('refuses an existing untagged role without --adopt-role, and adopts it with the flag', async () => {
    const theirs = { Version: '2012-10-17', Statement: [{ Sid: 'Theirs', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iam.send(new CreateRoleCommand({ RoleName: 'rhacs-sts-prod', AssumeRolePolicyDocument: JSON.stringify(theirs) }));

    const refused = await planNow();
    expect(refused.blockers.map((b) => b.hint).join(' ')).toMatch(/--adopt-role/);
    // Even if someone applied the plan anyway, the session refuses to touch the role.
    const trustAction = refused.actions.find((a) => a.type === 'trust-policy')!;
    const mark = await awsMark(info);
    await expect(session.apply(trustAction as never, { ...refused, actions: refused.actions.filter((a) => a.type !== 'role-tags') })).rejects.toThrow(/not created by rhacs-sts/);
    expect(await awsWrites(info, mark)).toEqual([]);

    const adopted = await planNow(decisions({ adoptRole: true }));
    expect(adopted.blockers).toEqual([]);
    await applyAws(adopted);
    const { role, trust } = await roleNow();
    expect(trust.Statement.map((s) => s.Sid)).toEqual(['Theirs', trustSid(ISSUER)]);
    expect(role.Tags).toEqual(expect.arrayContaining([{ Key: 'rhacs-sts/managed', Value: 'true' }]));
    expect(Object.values(awsStatuses(await planNow(decisions({ adoptRole: true }))))).not.toContain('update');
  });

  it('scopes ECR access to another account (cross-account registry) and sets a permissions boundary', async () => {
    const boundary = (await iam.send(new CreatePolicyCommand({
      PolicyName: 'rhacs-boundary',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
    }))).Policy!.Arn!;
    const d = decisions({ ecr: { registryId: '444455556666', region: 'eu-central-1', repositories: ['team-a/*'] }, permissionsBoundary: boundary });
    const plan = await planNow(d);
    await applyAws(plan);
    const { role } = await roleNow();
    expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary);
    const state = await session.readState({ accountId: info.accountId, partition: 'aws', issuers: [ISSUER], roleName: 'rhacs-sts-prod' });
    expect(state.role!.inlinePolicies[PERMISSIONS_POLICY_NAME]!.Statement[1]!.Resource).toBe('arn:aws:ecr:eu-central-1:444455556666:repository/team-a/*');
    expect(Object.values(awsStatuses(await planNow(d)))).not.toContain('update');
  });

  it('does not touch a role tagged by someone else: the tag must say managed=true', async () => {
    await applyAws(await planNow());
    await iam.send(new TagRoleCommand({ RoleName: 'rhacs-sts-prod', Tags: [{ Key: 'rhacs-sts/managed', Value: 'false' }] }));
    const plan = await planNow();
    expect(plan.blockers).toHaveLength(1);
  });
});
