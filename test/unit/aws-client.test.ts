import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetAccountSummaryCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  TagOpenIDConnectProviderCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSession } from '../../src/clouds/aws/client.js';
import { mapAwsError } from '../../src/clouds/aws/errors.js';
import { ExitCode, OperationError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/build.js';
import type { Action, Facts, Decisions } from '../../src/plan/model.js';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789';
const PROVIDER_ARN = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789';

const facts: Facts = buildFacts([clusterFacts({ issuer: ISSUER, components: ['central'], current: {} })], { clusterName: undefined });
const decisions: Decisions = buildDecisions({ roleName: 'rhacs-sts' });

function session(logs: string[] = []) {
  return createAwsSession({ log: (m) => logs.push(m), sleep: async () => {} });
}

function providerAction(plan: ReturnType<typeof buildPlan>): Extract<Action, { type: 'oidc-provider' }> {
  return plan.actions.find((a): a is Extract<Action, { type: 'oidc-provider' }> => a.type === 'oidc-provider')!;
}

beforeEach(() => {
  iam.reset();
  sts.reset();
});
afterEach(() => {
  iam.reset();
  sts.reset();
});

describe('AWS session against a mocked SDK (paths moto does not implement)', () => {
  it('adds a missing audience to an existing provider we own instead of recreating it', async () => {
    const current = { arn: PROVIDER_ARN, clientIds: ['other-audience'], thumbprints: [], tags: { 'rhacs-sts/managed': 'true' } };
    const plan = buildPlan(facts, decisions, { oidcProviders: { [ISSUER]: current }, role: null });
    const action = providerAction(plan);
    expect(action.status).toBe('update');
    expect(action.addClientIds).toEqual(['sts.amazonaws.com']);

    iam.on(GetOpenIDConnectProviderCommand).resolves({ ClientIDList: ['other-audience'], ThumbprintList: [], Tags: [{ Key: 'rhacs-sts/managed', Value: 'true' }] });
    iam.on(AddClientIDToOpenIDConnectProviderCommand).resolves({});
    const wrote = await session().apply(action, plan);

    expect(wrote).toBe(true);
    const calls = iam.commandCalls(AddClientIDToOpenIDConnectProviderCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ OpenIDConnectProviderArn: PROVIDER_ARN, ClientID: 'sts.amazonaws.com' });
    expect(iam.commandCalls(CreateOpenIDConnectProviderCommand)).toHaveLength(0);
  });

  it('treats EntityAlreadyExists from a concurrent run of ours as "re-read and converge"', async () => {
    const plan = buildPlan(facts, decisions, { oidcProviders: { [ISSUER]: null }, role: null });
    iam.on(GetOpenIDConnectProviderCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'not found', 404))
      .resolves({ ClientIDList: [], ThumbprintList: [], Tags: [{ Key: 'rhacs-sts/managed', Value: 'true' }, { Key: 'rhacs-sts/cluster', Value: 'other' }] });
    iam.on(CreateOpenIDConnectProviderCommand).rejects(awsError('EntityAlreadyExists', 'Provider with url already exists.', 409));
    iam.on(AddClientIDToOpenIDConnectProviderCommand).resolves({});
    iam.on(TagOpenIDConnectProviderCommand).resolves({});

    const logs: string[] = [];
    expect(await session(logs).apply(providerAction(plan), plan)).toBe(true);
    expect(iam.commandCalls(AddClientIDToOpenIDConnectProviderCommand)[0]!.args[0].input.ClientID).toBe('sts.amazonaws.com');
    expect(logs.some((l) => l.includes('created concurrently'))).toBe(true);
  });

  it('refuses a provider someone else created between the read and the write, without --adopt-oidc-provider', async () => {
    const plan = buildPlan(facts, decisions, { oidcProviders: { [ISSUER]: null }, role: null });
    iam.on(GetOpenIDConnectProviderCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'not found', 404))
      .resolves({ ClientIDList: ['their-app'], ThumbprintList: [], Tags: [] });
    iam.on(CreateOpenIDConnectProviderCommand).rejects(awsError('EntityAlreadyExists', 'Provider with url already exists.', 409));
    await expect(session().apply(providerAction(plan), plan)).rejects.toThrow(/not created by rhacs-sts/);
    expect(iam.commandCalls(AddClientIDToOpenIDConnectProviderCommand)).toHaveLength(0);
    expect(iam.commandCalls(TagOpenIDConnectProviderCommand)).toHaveLength(0);

    // Found by the write's own read (no create attempted): refused the same way.
    iam.reset();
    iam.on(GetOpenIDConnectProviderCommand).resolves({ ClientIDList: ['their-app'], ThumbprintList: [], Tags: [] });
    const refused = await session().apply(providerAction(plan), plan).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationError);
    expect((refused as OperationError).hint).toMatch(/--adopt-oidc-provider/);
    expect(iam.commandCalls(CreateOpenIDConnectProviderCommand)).toHaveLength(0);
    expect(iam.commandCalls(TagOpenIDConnectProviderCommand)).toHaveLength(0);
  });

  it('with --adopt-oidc-provider, marks a provider that appeared before the write as adopted (never deleted)', async () => {
    const plan = buildPlan(facts, { ...decisions, adoptOidcProvider: true }, { oidcProviders: { [ISSUER]: null }, role: null });
    iam.on(GetOpenIDConnectProviderCommand).resolves({ ClientIDList: ['their-app'], ThumbprintList: [], Tags: [] });
    iam.on(AddClientIDToOpenIDConnectProviderCommand).resolves({});
    iam.on(TagOpenIDConnectProviderCommand).resolves({});
    expect(await session().apply(providerAction(plan), plan)).toBe(true);
    const tags = iam.commandCalls(TagOpenIDConnectProviderCommand)[0]!.args[0].input.Tags;
    expect(tags).toEqual(expect.arrayContaining([
      { Key: 'rhacs-sts/managed', Value: 'true' }, { Key: 'rhacs-sts/adopted', Value: 'true' }, { Key: 'rhacs-sts/added-client-ids', Value: 'sts.amazonaws.com' },
    ]));
  });

  it('retries role creation while IAM has not yet propagated a new OIDC provider', async () => {
    const plan = buildPlan(facts, decisions, { oidcProviders: { [ISSUER]: null }, role: null });
    const role = plan.actions.find((a) => a.type === 'role')!;
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'role not found', 404));
    iam.on(CreateRoleCommand)
      .rejectsOnce(awsError('MalformedPolicyDocument', 'Invalid principal in policy: "Federated":"arn:aws:iam::111122223333:oidc-provider/x"'))
      .resolves({});
    expect(await session().apply(role as Extract<Action, { type: 'role' }>, plan)).toBe(true);
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(2);
    const input = iam.commandCalls(CreateRoleCommand)[1]!.args[0].input;
    expect(JSON.parse(input.AssumeRolePolicyDocument!)).toEqual(plan.role.trustPolicy);
    expect(input.Tags).toEqual([{ Key: 'rhacs-sts/managed', Value: 'true' }]);
  });

  it('refuses to write the inline policy of a role that is not ours', async () => {
    const trust = { Version: '2012-10-17', Statement: [] };
    const plan = buildPlan(facts, decisions, { oidcProviders: { [ISSUER]: null }, role: null });
    const perms = plan.actions.find((a) => a.type === 'permissions-policy')! as Extract<Action, { type: 'permissions-policy' }>;
    iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'no policy', 404));
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'rhacs-sts', Arn: 'arn:aws:iam::111122223333:role/rhacs-sts', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)), Tags: [] } });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    await expect(session().apply(perms, plan)).rejects.toThrow(/not created by rhacs-sts/);
  });

  it.each([
    ['an account "*"', '*', 'arn:aws:iam::111122223333:user/admin', /Account: "\*" is not an AWS account id/],
    ['a partition "*"', '111122223333', 'arn:*:iam::111122223333:user/admin', /Arn: .*not the ARN|not an AWS partition/],
    ['an unknown partition', '111122223333', 'arn:aws-moon:iam::111122223333:user/admin', /"aws-moon" is not an AWS partition/],
    ['an ARN of another account', '111122223333', 'arn:aws:iam::444455556666:user/admin', /names account 444455556666, but Account is 111122223333/],
    ['no ARN', '111122223333', undefined, /is not the ARN of an IAM or STS principal/],
  ])('refuses a caller identity with %s', async (_what, account, arn, message) => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: arn, UserId: 'AIDA' });
    await expect(session().identity()).rejects.toThrow(message);
  });

  it('names the role whose trust policy is not JSON', async () => {
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: {} });
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'rhacs-sts', Arn: 'arn:aws:iam::111122223333:role/rhacs-sts', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: '%7Bnot%20json', Tags: [] } });
    iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'no policy', 404));
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    await expect(session().readState({ accountId: '111122223333', partition: 'aws', issuers: [], roleName: 'rhacs-sts' }))
      .rejects.toThrow(/the trust policy of the role rhacs-sts as something that is not a JSON policy document/);
  });

  it('refuses a role ARN with a wildcard from IAM', async () => {
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: {} });
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'rhacs-sts', Arn: 'arn:aws:iam::*:role/rhacs-sts', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: '{"Statement":[]}', Tags: [] } });
    await expect(session().readState({ accountId: '111122223333', partition: 'aws', issuers: [], roleName: 'rhacs-sts' }))
      .rejects.toThrow(/not the ARN of a role/);
  });

  it('reads the partition from the caller ARN', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws-us-gov:iam::111122223333:user/admin', UserId: 'AIDA' });
    expect(await session().identity()).toEqual({ accountId: '111122223333', partition: 'aws-us-gov', arn: 'arn:aws-us-gov:iam::111122223333:user/admin' });
  });

  it('maps missing credentials to exit 2 with a way to provide them', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const err = await session().identity().catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.InvalidInput });
    expect((err as OperationError).message).toMatch(/No AWS credentials/);
    expect((err as OperationError).hint).toMatch(/--profile/);
  });
});

describe('mapAwsError', () => {
  it.each([
    ['ExpiredToken', 'The security token included in the request is expired', ExitCode.Failed, /expired/],
    ['ExpiredTokenException', 'Token expired', ExitCode.Failed, /expired/],
    ['InvalidClientTokenId', 'The security token included in the request is invalid.', ExitCode.Failed, /rejected the credentials/],
    ['Throttling', 'Rate exceeded', ExitCode.Failed, /throttling/],
    ['LimitExceeded', 'Cannot exceed quota for RolesPerAccount: 1000', ExitCode.Failed, /quota/],
    ['ServiceFailure', 'internal error', ExitCode.Failed, /ServiceFailure: internal error/],
  ])('%s → exit %s', (name, message, exitCode, text) => {
    const e = mapAwsError(awsError(name, message), 'creating the role r');
    expect(e.exitCode).toBe(exitCode);
    expect(e.message).toMatch(text);
  });

  it('names the denied IAM action and the principal', () => {
    const e = mapAwsError(
      awsError('AccessDenied', 'User: arn:aws:iam::111122223333:user/dev is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/rhacs-sts because no identity-based policy allows the iam:CreateRole action', 403),
      'creating the role rhacs-sts',
    );
    expect(e.exitCode).toBe(ExitCode.Failed);
    expect(e.message).toBe('Access denied while creating the role rhacs-sts: arn:aws:iam::111122223333:user/dev may not call iam:CreateRole on arn:aws:iam::111122223333:role/rhacs-sts.');
    expect(e.hint).toMatch(/^Grant iam:CreateRole on arn:aws:iam::111122223333:role\/rhacs-sts to arn:aws:iam::111122223333:user\/dev/);
  });
});
