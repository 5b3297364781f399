import { describe, expect, it } from 'vitest';
import { decisionsFromOptions, defaultRoleName, offlineFacts } from '../../src/decide.js';
import { parseOptions, type RawOptions } from '../../src/options/options.js';
import { buildPlan, operatorOverlays } from '../../src/plan/build.js';
import type { Action, AwsState, ClusterFacts, ComponentState, Plan } from '../../src/plan/model.js';
import { trustSid, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { clusterFacts, decisions, facts } from './builders.js';

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}`;
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const OCP_HP = 'my-oidc-bucket.s3.us-east-1.amazonaws.com';
const OCP_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${OCP_HP}`;
const ROLE_NAME = 'rhacs-sts-prod';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
const ANNOTATION = 'eks.amazonaws.com/role-arn';
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const TAGS = { 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'prod' };

const READ_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:DescribeImages',
  'ecr:DescribeRepositories',
  'ecr:GetDownloadUrlForLayer',
  'ecr:ListImages',
];

/** Golden: the EKS trust policy for Central in namespace stackrox. */
const EKS_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{
    Sid: trustSid(EKS_ISSUER),
    Effect: 'Allow',
    Principal: { Federated: EKS_PROVIDER_ARN },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${EKS_HP}:sub`]: ['system:serviceaccount:stackrox:central'], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' } },
  }],
};

/** Golden: read access to every repository of the role's account, any region. */
const PERMS_ALL: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: `arn:aws:ecr:*:${ACCOUNT}:repository/*` },
  ],
};

const cluster = clusterFacts;

/** AWS as rhacs-sts would leave it for the EKS cluster of `facts()`. */
function awsInPlace(over: Partial<AwsState> = {}): AwsState {
  return {
    oidcProviders: {
      [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['sts.amazonaws.com'], thumbprints: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'], tags: TAGS },
    },
    role: {
      arn: ROLE_ARN,
      path: '/',
      trustPolicy: EKS_TRUST,
      inlinePolicies: { 'rhacs-sts-ecr-read': PERMS_ALL },
      attachedPolicyArns: [],
      tags: TAGS,
    },
    ...over,
  };
}

const eksCentralInPlace: ComponentState = {
  serviceAccount: { annotations: { [ANNOTATION]: ROLE_ARN } },
  deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
};

function offlinePlan(raw: RawOptions): Plan {
  const options = parseOptions('plan', { offline: true, ...raw }, {});
  const f = offlineFacts(options);
  return buildPlan(f, decisionsFromOptions(options, f), undefined);
}

const brief = (plan: Plan) => plan.actions.map((a) => ({ type: a.type, status: a.status, target: a.target }));
const ofType = <T extends Action['type']>(plan: Plan, type: T) => plan.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

describe('offline plans from flags (golden)', () => {
  it('EKS: provider, role, policies, annotation and restart of Central', () => {
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, clusterName: 'prod' });
    expect(plan).toMatchObject({
      planVersion: 1,
      command: 'init',
      provider: 'eks',
      partition: 'aws',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      clusterName: 'prod',
      offline: true,
      blockers: [],
    });
    expect(plan.oidcProvider).toEqual({ arn: EKS_PROVIDER_ARN, url: EKS_ISSUER, clientIds: ['sts.amazonaws.com'] });
    expect(plan.oidcProviders).toEqual([plan.oidcProvider]);
    expect(plan.role).toEqual({
      name: ROLE_NAME,
      path: '/',
      arn: ROLE_ARN,
      trustPolicy: EKS_TRUST,
      permissionsPolicyName: 'rhacs-sts-ecr-read',
      permissionsPolicy: PERMS_ALL,
      permissionsBoundary: undefined,
      tags: TAGS,
    });
    expect(plan.kubernetes).toEqual([
      { kind: 'ServiceAccount', context: undefined, namespace: 'stackrox', name: 'central', annotations: { [ANNOTATION]: ROLE_ARN }, durability: 'live' },
    ]);
    expect(plan.restarts).toEqual([
      { kind: 'Deployment', context: undefined, namespace: 'stackrox', name: 'central', method: 'restartedAt', deferred: false, outage: true },
    ]);
    expect(plan.helmValues).toBeUndefined();
    expect(brief(plan)).toEqual([
      { type: 'oidc-provider', status: 'create', target: EKS_PROVIDER_ARN },
      { type: 'role', status: 'create', target: ROLE_ARN },
      { type: 'trust-policy', status: 'create', target: ROLE_ARN },
      { type: 'permissions-policy', status: 'create', target: `${ROLE_ARN} (inline policy rhacs-sts-ecr-read)` },
      { type: 'service-account-annotation', status: 'create', target: 'stackrox/serviceaccount/central' },
      { type: 'restart', status: 'update', target: 'stackrox/deployment/central' },
    ]);
    // Offline, the current state is unknown rather than "absent".
    for (const a of plan.actions) expect(a.current).toBeUndefined();
  });

  it('OpenShift: audience openshift and env vars instead of an annotation', () => {
    const plan = offlinePlan({ provider: 'openshift', accountId: ACCOUNT, region: 'us-east-1', oidcIssuer: OCP_ISSUER, namespace: 'rhacs' });
    expect(plan.provider).toBe('openshift');
    expect(plan.oidcProvider).toEqual({ arn: OCP_PROVIDER_ARN, url: OCP_ISSUER, clientIds: ['openshift'] });
    expect(plan.role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/rhacs-sts`);
    expect(plan.role.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(OCP_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: OCP_PROVIDER_ARN },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${OCP_HP}:sub`]: ['system:serviceaccount:rhacs:central'], [`${OCP_HP}:aud`]: 'openshift' } },
      }],
    });
    const arn = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`;
    expect(plan.kubernetes).toEqual([{
      kind: 'Deployment',
      context: undefined,
      namespace: 'rhacs',
      name: 'central',
      container: 'central',
      env: [{ name: 'AWS_ROLE_ARN', value: arn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }],
      durability: 'live',
    }]);
    // Offline the strategy is not read: Central counts as Recreate, as the StackRox chart renders it.
    expect(plan.restarts).toEqual([{ kind: 'Deployment', context: undefined, namespace: 'rhacs', name: 'central', method: 'rollout', deferred: false, outage: true }]);
    expect(brief(plan).map((a) => a.type)).toEqual(['oidc-provider', 'role', 'trust-policy', 'permissions-policy', 'deployment-env', 'restart']);
    expect(ofType(plan, 'service-account-annotation')).toEqual([]);
    expect(ofType(plan, 'deployment-env')[0]!.desired).toEqual({ AWS_ROLE_ARN: arn, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE });
    // Offline the token mount cannot be checked, so no volume is planned.
    expect(ofType(plan, 'deployment-env')[0]!.tokenVolume).toBeUndefined();
  });

  it('delegated scanning: Sensor is trusted and annotated too', () => {
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, delegatedScanning: true });
    expect(plan.role.trustPolicy.Statement).toHaveLength(1);
    expect(plan.role.trustPolicy.Statement[0]!.Condition!.StringEquals![`${EKS_HP}:sub`]).toEqual([
      'system:serviceaccount:stackrox:central',
      'system:serviceaccount:stackrox:sensor',
    ]);
    expect(plan.kubernetes.map((k) => [k.kind, k.name, k.annotations?.[ANNOTATION]])).toEqual([
      ['ServiceAccount', 'central', `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`],
      ['ServiceAccount', 'sensor', `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`],
    ]);
    expect(plan.restarts.map((r) => r.name)).toEqual(['central', 'sensor']);
    expect(ofType(plan, 'service-account-annotation').map((a) => a.target)).toEqual([
      'stackrox/serviceaccount/central',
      'stackrox/serviceaccount/sensor',
    ]);
  });

  it('delegated scanning on OpenShift sets the env on the sensor container', () => {
    const plan = offlinePlan({ provider: 'openshift', accountId: ACCOUNT, region: 'us-east-1', oidcIssuer: OCP_ISSUER, delegatedScanning: true });
    expect(plan.kubernetes.map((k) => [k.name, k.container, k.env?.map((e) => e.name)])).toEqual([
      ['central', 'central', ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE']],
      ['sensor', 'sensor', ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE']],
    ]);
  });

  it('cross-account ECR: the registry account differs from the role account', () => {
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, ecrRegistryId: '444455556666', ecrRegion: 'eu-central-1' });
    expect(plan.role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/rhacs-sts`);
    expect(plan.role.permissionsPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: 'arn:aws:ecr:eu-central-1:444455556666:repository/*' },
      ],
    });
    expect(ofType(plan, 'permissions-policy')[0]!.summary).toContain('444455556666');
  });

  it('GovCloud: every ARN in aws-us-gov', () => {
    const issuer = 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01';
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: issuer });
    expect(plan.partition).toBe('aws-us-gov');
    expect(plan.region).toBe('us-gov-west-1');
    expect(plan.oidcProvider.arn).toBe(`arn:aws-us-gov:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01`);
    expect(plan.role.arn).toBe(`arn:aws-us-gov:iam::${ACCOUNT}:role/rhacs-sts`);
    expect(plan.role.trustPolicy.Statement[0]!.Principal).toEqual({ Federated: plan.oidcProvider.arn });
    expect(plan.role.permissionsPolicy.Statement[1]!.Resource).toBe(`arn:aws-us-gov:ecr:*:${ACCOUNT}:repository/*`);
    expect(plan.kubernetes[0]!.annotations).toEqual({ [ANNOTATION]: `arn:aws-us-gov:iam::${ACCOUNT}:role/rhacs-sts` });
    expect(JSON.stringify(plan)).not.toMatch(/arn:aws:/);
  });

  it('China: every ARN in aws-cn', () => {
    const issuer = 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01';
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: issuer, ecrRegion: 'cn-northwest-1' });
    expect(plan.partition).toBe('aws-cn');
    expect(plan.region).toBe('cn-north-1');
    expect(plan.oidcProvider.arn).toBe(`arn:aws-cn:iam::${ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01`);
    expect(plan.role.arn).toBe(`arn:aws-cn:iam::${ACCOUNT}:role/rhacs-sts`);
    expect(plan.role.permissionsPolicy.Statement[1]!.Resource).toBe(`arn:aws-cn:ecr:cn-northwest-1:${ACCOUNT}:repository/*`);
    expect(JSON.stringify(plan)).not.toMatch(/arn:aws:/);
  });

  it('scoped repositories: a sorted list of ARNs', () => {
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, ecrRepository: ['team-b/app', 'team-a/*'] });
    expect(plan.role.permissionsPolicy.Statement[1]!.Resource).toEqual([
      `arn:aws:ecr:*:${ACCOUNT}:repository/team-a/*`,
      `arn:aws:ecr:*:${ACCOUNT}:repository/team-b/app`,
    ]);
    expect(ofType(plan, 'permissions-policy')[0]!.summary).toContain('team-b/app, team-a/*');
  });

  it('permissions boundary: on the role and its create action', () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/rhacs-boundary`;
    const plan = offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, permissionsBoundary: boundary, rolePath: '/rhacs/' });
    expect(plan.role.permissionsBoundary).toBe(boundary);
    expect(plan.role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/rhacs/rhacs-sts`);
    const [role] = ofType(plan, 'role');
    expect(role).toMatchObject({ status: 'create', permissionsBoundary: boundary, path: '/rhacs/', name: 'rhacs-sts' });
    expect(role!.summary).toContain('permissions boundary');
  });

  it('names the role after the cluster, within 64 characters', () => {
    expect(defaultRoleName(undefined)).toBe('rhacs-sts');
    expect(defaultRoleName('prod')).toBe('rhacs-sts-prod');
    expect(defaultRoleName('c'.repeat(100))).toHaveLength(64);
    expect(offlinePlan({ accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, roleName: 'mine' }).role.name).toBe('mine');
  });
});

describe('buildPlan against the current AWS state', () => {
  it('is unchanged everywhere when current equals desired', () => {
    // The current documents come back from IAM with other key order and single strings.
    const current = awsInPlace();
    current.role!.trustPolicy = {
      Statement: [{
        Condition: { StringEquals: { [`${EKS_HP}:aud`]: 'sts.amazonaws.com', [`${EKS_HP}:sub`]: 'system:serviceaccount:stackrox:central' } },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: EKS_PROVIDER_ARN },
        Effect: 'Allow',
        Sid: trustSid(EKS_ISSUER),
      }],
      Version: '2012-10-17',
    };
    const plan = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), current);
    expect(plan.actions.map((a) => [a.type, a.status])).toEqual([
      ['oidc-provider', 'unchanged'],
      ['role', 'unchanged'],
      ['role-tags', 'unchanged'],
      ['trust-policy', 'unchanged'],
      ['permissions-policy', 'unchanged'],
      ['service-account-annotation', 'unchanged'],
      ['restart', 'unchanged'],
    ]);
    expect(plan.blockers).toEqual([]);
    expect(plan.offline).toBe(false);
  });

  it('is unchanged everywhere for OpenShift in place', () => {
    const state: ComponentState = {
      serviceAccount: { annotations: {} },
      deployment: {
        container: 'central',
        env: [{ name: 'OTHER', value: 'x' }, { name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }],
        hasTokenMount: true,
        podTemplateAnnotations: {},
      },
    };
    const ocpTrust: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(OCP_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: OCP_PROVIDER_ARN },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${OCP_HP}:sub`]: ['system:serviceaccount:stackrox:central'], [`${OCP_HP}:aud`]: 'openshift' } },
      }],
    };
    const aws: AwsState = {
      oidcProviders: { [OCP_ISSUER]: { arn: OCP_PROVIDER_ARN, clientIds: ['openshift'], thumbprints: [], tags: TAGS } },
      role: { ...awsInPlace().role!, trustPolicy: ocpTrust },
    };
    const plan = buildPlan(facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, current: { central: state } })]), decisions(), aws);
    expect(plan.actions.map((a) => [a.type, a.status])).toEqual([
      ['oidc-provider', 'unchanged'],
      ['role', 'unchanged'],
      ['role-tags', 'unchanged'],
      ['trust-policy', 'unchanged'],
      ['permissions-policy', 'unchanged'],
      ['deployment-env', 'unchanged'],
      ['restart', 'unchanged'],
    ]);
  });

  it('updates a drifted trust policy and keeps foreign statements', () => {
    const foreign = { Sid: 'LetCiAssume', Effect: 'Allow' as const, Principal: { AWS: 'arn:aws:iam::444455556666:role/ci' }, Action: 'sts:AssumeRole' };
    const drifted: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [foreign, {
        ...EKS_TRUST.Statement[0]!,
        Condition: { StringEquals: { [`${EKS_HP}:sub`]: ['system:serviceaccount:old-ns:central'], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' } },
      }],
    };
    const current = awsInPlace();
    current.role!.trustPolicy = drifted;
    const plan = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), current);
    const [trust] = ofType(plan, 'trust-policy');
    expect(trust!.status).toBe('update');
    expect(trust!.current).toEqual(drifted);
    expect(trust!.document).toEqual({ Version: '2012-10-17', Statement: [foreign, EKS_TRUST.Statement[0]] });
    expect(plan.role.trustPolicy).toEqual(trust!.document);
    expect(plan.blockers).toEqual([]);
  });

  it('updates a drifted permissions policy', () => {
    const current = awsInPlace();
    current.role!.inlinePolicies = { 'rhacs-sts-ecr-read': { ...PERMS_ALL, Statement: [PERMS_ALL.Statement[0]!, { ...PERMS_ALL.Statement[1]!, Action: 'ecr:*' }] } };
    const plan = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), current);
    expect(ofType(plan, 'permissions-policy')[0]!.status).toBe('update');
  });

  it('creates the permissions policy on an existing role that lacks it', () => {
    const current = awsInPlace();
    current.role!.inlinePolicies = {};
    const plan = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), current);
    const [perms] = ofType(plan, 'permissions-policy');
    expect(perms!.status).toBe('create');
    expect(perms!.current).toBeNull();
  });

  it('marks absent resources as create with a null current state', () => {
    const plan = buildPlan(facts([cluster({ current: { central: { serviceAccount: { annotations: {} }, deployment: null } } })]), decisions(), { oidcProviders: {}, role: null });
    expect(plan.actions.map((a) => [a.type, a.status, a.current])).toEqual([
      ['oidc-provider', 'create', null],
      ['role', 'create', null],
      ['trust-policy', 'create', null],
      ['permissions-policy', 'create', null],
      ['service-account-annotation', 'create', null],
      ['restart', 'update', undefined],
    ]);
  });

  it('updates an annotation that points at another role', () => {
    const state: ComponentState = { ...eksCentralInPlace, serviceAccount: { annotations: { [ANNOTATION]: 'arn:aws:iam::111122223333:role/old' } } };
    const plan = buildPlan(facts([cluster({ current: { central: state } })]), decisions(), awsInPlace());
    const [sa] = ofType(plan, 'service-account-annotation');
    expect(sa).toMatchObject({ status: 'update', current: { [ANNOTATION]: 'arn:aws:iam::111122223333:role/old' }, desired: { [ANNOTATION]: ROLE_ARN } });
    expect(ofType(plan, 'restart')[0]!.status).toBe('update');
  });

  describe('an existing role not created by rhacs-sts', () => {
    const untagged = () => {
      const current = awsInPlace();
      current.role!.tags = { team: 'platform' };
      return current;
    };

    it('is a blocker that names --adopt-role', () => {
      const plan = buildPlan(facts(), decisions(), untagged());
      expect(plan.blockers).toHaveLength(1);
      expect(plan.blockers[0]!.message).toContain(ROLE_ARN);
      expect(plan.blockers[0]!.hint).toContain('--adopt-role');
    });

    it('is adopted with --adopt-role: no blocker, our tags added', () => {
      const plan = buildPlan(facts(), decisions({ adoptRole: true }), untagged());
      expect(plan.blockers).toEqual([]);
      const [tags] = ofType(plan, 'role-tags');
      expect(tags).toMatchObject({ status: 'update', tags: TAGS, current: { team: 'platform' }, desired: { team: 'platform', ...TAGS } });
      expect(ofType(plan, 'role')[0]!.summary).toContain('adopting');
    });
  });

  it('keeps an existing role at its path and says so', () => {
    const current = awsInPlace();
    current.role!.path = '/legacy/';
    const plan = buildPlan(facts(), decisions(), current);
    expect(plan.role.path).toBe('/legacy/');
    expect(plan.notes.join('\n')).toContain('/legacy/');
  });

  it('updates the permissions boundary of an existing role', () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/new-boundary`;
    const plan = buildPlan(facts(), decisions({ permissionsBoundary: boundary }), awsInPlace());
    expect(ofType(plan, 'role')[0]).toMatchObject({ status: 'update', permissionsBoundary: boundary });
  });

  describe('an existing OIDC provider that lacks our audience', () => {
    const lacking = (tags: Record<string, string>) =>
      awsInPlace({ oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['other-audience'], thumbprints: [], tags } } });

    it('ours: update with addClientIds, no blocker', () => {
      const plan = buildPlan(facts(), decisions(), lacking(TAGS));
      const [p] = ofType(plan, 'oidc-provider');
      expect(p).toMatchObject({ status: 'update', addClientIds: ['sts.amazonaws.com'] });
      expect(p!.tags).toEqual({});
      expect(p!.desired).toEqual({ clientIds: ['other-audience', 'sts.amazonaws.com'], tags: TAGS });
      expect(plan.blockers).toEqual([]);
    });

    it('not ours: a blocker naming --adopt-oidc-provider', () => {
      const plan = buildPlan(facts(), decisions(), lacking({}));
      expect(plan.blockers).toHaveLength(1);
      expect(plan.blockers[0]!.message).toContain(EKS_PROVIDER_ARN);
      expect(plan.blockers[0]!.message).toContain('sts.amazonaws.com');
      expect(plan.blockers[0]!.hint).toContain('--adopt-oidc-provider');
    });

    it('not ours but adopted: update with the audience, our tags, marked adopted with the audience it added', () => {
      const plan = buildPlan(facts(), decisions({ adoptOidcProvider: true }), lacking({}));
      expect(plan.blockers).toEqual([]);
      expect(ofType(plan, 'oidc-provider')[0]).toMatchObject({
        status: 'update', addClientIds: ['sts.amazonaws.com'],
        tags: { ...TAGS, 'rhacs-sts/adopted': 'true', 'rhacs-sts/added-client-ids': 'sts.amazonaws.com' },
      });
      // Once adopted, a re-run has nothing to change.
      const after = { ...TAGS, 'rhacs-sts/adopted': 'true', 'rhacs-sts/added-client-ids': 'sts.amazonaws.com' };
      const again = awsInPlace({ oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['other-audience', 'sts.amazonaws.com'], thumbprints: [], tags: after } } });
      expect(ofType(buildPlan(facts(), decisions(), again), 'oidc-provider')[0]!.status).toBe('unchanged');
    });

    it('not ours but with the audience: used as it is, unchanged', () => {
      const current = awsInPlace({ oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} } } });
      const plan = buildPlan(facts(), decisions(), current);
      expect(plan.blockers).toEqual([]);
      expect(ofType(plan, 'oidc-provider')[0]).toMatchObject({ status: 'unchanged', addClientIds: [] });
    });
  });
});

describe('several clusters', () => {
  it('one OIDC provider and one trust statement per issuer', () => {
    const central = cluster({ context: 'hub', components: ['central'] });
    const sensor = cluster({ context: 'spoke', provider: 'openshift', issuer: OCP_ISSUER, components: ['sensor'] });
    const plan = buildPlan(facts([central, sensor]), decisions({ delegatedScanning: true }), undefined);
    expect(plan.oidcProviders).toEqual([
      { arn: EKS_PROVIDER_ARN, url: EKS_ISSUER, clientIds: ['sts.amazonaws.com'] },
      { arn: OCP_PROVIDER_ARN, url: OCP_ISSUER, clientIds: ['openshift'] },
    ]);
    const statements = plan.role.trustPolicy.Statement;
    expect(statements).toHaveLength(2);
    expect(new Set(statements.map((s) => s.Sid)).size).toBe(2);
    expect(statements.map((s) => s.Principal)).toEqual([{ Federated: EKS_PROVIDER_ARN }, { Federated: OCP_PROVIDER_ARN }]);
    expect(statements[1]!.Condition!.StringEquals).toEqual({ [`${OCP_HP}:sub`]: ['system:serviceaccount:stackrox:sensor'], [`${OCP_HP}:aud`]: 'openshift' });
    expect(plan.kubernetes.map((k) => [k.context, k.kind, k.name])).toEqual([
      ['hub', 'ServiceAccount', 'central'],
      ['spoke', 'Deployment', 'sensor'],
    ]);
    expect(ofType(plan, 'restart').map((a) => a.target)).toEqual(['hub: stackrox/deployment/central', 'spoke: stackrox/deployment/sensor']);
  });

  it('the role\'s tags say which clusters it serves, one tag per cluster valued with its issuer', () => {
    const central = cluster({ context: 'hub', name: 'hub', components: ['central'] });
    const sensor = cluster({ context: 'spoke', name: 'spoke-1', provider: 'openshift', issuer: OCP_ISSUER, components: ['sensor'] });
    const created = buildPlan(facts([central, sensor]), decisions({ delegatedScanning: true }), undefined);
    expect(ofType(created, 'role')[0]!.tags).toMatchObject({
      'rhacs-sts/managed': 'true',
      'rhacs-sts/serves/hub': EKS_ISSUER.replace('https://', ''),
      'rhacs-sts/serves/spoke-1': OCP_HP,
    });
    // An existing role of ours that serves only the hub gets the spoke's tag, nothing else.
    const existing = buildPlan(facts([central, sensor]), decisions({ delegatedScanning: true }), {
      oidcProviders: {}, role: { arn: ROLE_ARN, path: '/', trustPolicy: { Version: '2012-10-17', Statement: [] }, inlinePolicies: {}, attachedPolicyArns: [],
        tags: { ...ofType(created, 'role')[0]!.tags, 'rhacs-sts/serves/spoke-1': 'gone' } },
    });
    const tags = ofType(existing, 'role-tags')[0]!;
    expect(tags).toMatchObject({ status: 'update', tags: { 'rhacs-sts/serves/spoke-1': OCP_HP } });
    expect(tags.summary).toBe('Tag the role: serves spoke-1');
  });

  it('refuses a role that would carry more than IAM\'s 50 tags', () => {
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`team-${i}`, 'x']));
    const plan = buildPlan(facts([cluster({ name: 'hub' })]), decisions(), {
      oidcProviders: {}, role: { arn: ROLE_ARN, path: '/', trustPolicy: { Version: '2012-10-17', Statement: [] }, inlinePolicies: {}, attachedPolicyArns: [], tags: { ...many, 'rhacs-sts/managed': 'true' } },
    });
    expect(plan.blockers.map((b) => b.message).join('\n')).toMatch(/52 tags, over IAM's limit of 50/);
  });

  it('a Sensor-only cluster without delegated scanning has nothing to configure', () => {
    const plan = buildPlan(facts([cluster({ components: ['sensor'] })]), decisions(), undefined);
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]!.hint).toContain('--delegated-scanning');
    expect(plan.kubernetes).toEqual([]);
  });

  it('refuses an empty cluster list', () => {
    expect(() => buildPlan(facts([]), decisions(), undefined)).toThrow(/no cluster/);
  });
});

describe('Kubernetes changes per install method', () => {
  it('operator + EKS: a ServiceAccount overlay on the Central CR', () => {
    const c = cluster({ installMethod: 'operator', operatorCrs: { central: { kind: 'Central', name: 'stackrox-central-services' } } });
    const plan = buildPlan(facts([c]), decisions(), undefined);
    const [overlay] = ofType(plan, 'operator-overlay');
    expect(overlay).toMatchObject({
      status: 'create',
      target: 'stackrox/central/stackrox-central-services',
      crKind: 'Central',
      ref: { namespace: 'stackrox', name: 'stackrox-central-services' },
      overlays: [{
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        name: 'central',
        patches: [{ path: 'metadata.annotations.eks\\.amazonaws\\.com/role-arn', value: ROLE_ARN }],
      }],
    });
    expect(plan.kubernetes[0]!.durability).toBe('operator-overlay');
    expect(plan.notes.join('\n')).toMatch(/operator/);
    expect(plan.actions.map((a) => a.type)).toEqual([
      'oidc-provider', 'role', 'trust-policy', 'permissions-policy', 'service-account-annotation', 'operator-overlay', 'restart',
    ]);
  });

  it('operator + OpenShift + delegated scanning: Deployment overlays on both CRs', () => {
    const c = cluster({
      provider: 'openshift',
      issuer: OCP_ISSUER,
      installMethod: 'operator',
      operatorCrs: { central: { kind: 'Central', name: 'central' }, sensor: { kind: 'SecuredCluster', name: 'secured' } },
    });
    const plan = buildPlan(facts([c]), decisions({ delegatedScanning: true }), undefined);
    const overlays = ofType(plan, 'operator-overlay');
    expect(overlays.map((o) => [o.crKind, o.target])).toEqual([
      ['Central', 'stackrox/central/central'],
      ['SecuredCluster', 'stackrox/securedcluster/secured'],
    ]);
    expect(overlays[1]!.overlays).toEqual([{
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'sensor',
      patches: [
        { path: 'spec.template.spec.containers[name:sensor].env[-1]', value: `name: AWS_ROLE_ARN\nvalue: ${ROLE_ARN}\n` },
        { path: 'spec.template.spec.containers[name:sensor].env[-1]', value: `name: AWS_WEB_IDENTITY_TOKEN_FILE\nvalue: ${TOKEN_FILE}\n` },
      ],
    }]);
  });

  it('operator overlay already present: unchanged', () => {
    const c = cluster({
      installMethod: 'operator',
      operatorCrs: { central: { kind: 'Central', name: 'central', overlays: [{ kind: 'Other', name: 'x', patches: [] }, ...operatorOverlays('eks', 'central', ROLE_ARN)] } },
      current: { central: eksCentralInPlace },
    });
    const plan = buildPlan(facts([c]), decisions(), awsInPlace());
    expect(ofType(plan, 'operator-overlay')[0]!.status).toBe('unchanged');
  });

  it('operator overlay list without ours: update', () => {
    const c = cluster({
      installMethod: 'operator',
      operatorCrs: { central: { kind: 'Central', name: 'central', overlays: [{ kind: 'Other', name: 'x', patches: [] }] } },
      current: { central: eksCentralInPlace },
    });
    const plan = buildPlan(facts([c]), decisions(), awsInPlace());
    expect(ofType(plan, 'operator-overlay')[0]!.status).toBe('update');
  });

  it('helm + EKS: values under customize.other."serviceaccount/<name>".annotations, per release', () => {
    const c = cluster({ installMethod: 'helm', helmReleases: { central: 'central-release' } });
    const plan = buildPlan(facts([c]), decisions({ delegatedScanning: true }), undefined);
    expect(plan.helmValues).toEqual([
      {
        release: 'central-release',
        chart: 'stackrox-central-services',
        context: undefined,
        namespace: 'stackrox',
        values: { customize: { other: { 'serviceaccount/central': { annotations: { [ANNOTATION]: ROLE_ARN } } } } },
      },
      {
        release: 'stackrox-secured-cluster-services',
        chart: 'stackrox-secured-cluster-services',
        context: undefined,
        namespace: 'stackrox',
        values: { customize: { other: { 'serviceaccount/sensor': { annotations: { [ANNOTATION]: ROLE_ARN } } } } },
      },
    ]);
    expect(plan.kubernetes.every((k) => k.durability === 'helm-values')).toBe(true);
    expect(ofType(plan, 'operator-overlay')).toEqual([]);
    expect(plan.notes.join('\n')).toContain('helm upgrade');
  });

  it('helm + OpenShift: values under customize.central.envVars', () => {
    const c = cluster({ provider: 'openshift', issuer: OCP_ISSUER, installMethod: 'helm' });
    const plan = buildPlan(facts([c]), decisions(), undefined);
    expect(plan.helmValues).toEqual([{
      release: 'stackrox-central-services',
      chart: 'stackrox-central-services',
      context: undefined,
      namespace: 'stackrox',
      values: { customize: { central: { envVars: { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE } } } },
    }]);
  });

  it('helm with Central and Sensor in one release merges the values', () => {
    const c = cluster({ provider: 'openshift', issuer: OCP_ISSUER, installMethod: 'helm', helmReleases: { central: 'rhacs', sensor: 'rhacs' } });
    const plan = buildPlan(facts([c]), decisions({ delegatedScanning: true }), undefined);
    expect(plan.helmValues).toEqual([{
      release: 'rhacs',
      chart: 'stackrox-central-services',
      context: undefined,
      namespace: 'stackrox',
      values: {
        customize: {
          central: { envVars: { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE } },
          sensor: { envVars: { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE } },
        },
      },
    }]);
  });

  it('manifests: live changes only', () => {
    const plan = buildPlan(facts(), decisions(), undefined);
    expect(plan.kubernetes.map((k) => k.durability)).toEqual(['live']);
    expect(plan.helmValues).toBeUndefined();
    expect(ofType(plan, 'operator-overlay')).toEqual([]);
  });
});

describe('restarts', () => {
  it('are deferred with restart=false', () => {
    const plan = buildPlan(facts(), decisions({ restart: false, delegatedScanning: true }), undefined);
    expect(plan.restarts.map((r) => [r.name, r.deferred])).toEqual([['central', true], ['sensor', true]]);
    for (const a of ofType(plan, 'restart')) {
      expect(a.status).toBe('unchanged');
      expect(a.deferred).toBe(true);
      expect(a.summary).toContain('--no-restart');
    }
  });

  it('restart when something changed, using restartedAt on EKS and rollout on OpenShift', () => {
    const eks = ofType(buildPlan(facts(), decisions(), undefined), 'restart');
    expect(eks.map((a) => [a.status, a.method, a.deferred])).toEqual([['update', 'restartedAt', false]]);
    const ocp = ofType(buildPlan(facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER })]), decisions(), undefined), 'restart');
    expect(ocp.map((a) => [a.status, a.method, a.deferred])).toEqual([['update', 'rollout', false]]);
  });

  it('are not needed when nothing changed', () => {
    const plan = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), awsInPlace());
    const [r] = ofType(plan, 'restart');
    expect(r).toMatchObject({ status: 'unchanged', deferred: false });
    expect(r!.summary).toMatch(/No restart needed/);
  });
});

describe('OpenShift token mount', () => {
  const ocp = (state: ComponentState, over: Partial<ClusterFacts> = {}) => cluster({ provider: 'openshift', issuer: OCP_ISSUER, current: { central: state }, ...over });
  const noMount = (env: { name: string; value?: string }[] = []): ComponentState =>
    ({ serviceAccount: { annotations: {} }, deployment: { container: 'central', env, hasTokenMount: false, podTemplateAnnotations: {} } });

  it('mounts a projected token volume in the same patch as the env when the deployment lacks it (plain manifests)', () => {
    const plan = buildPlan(facts([ocp(noMount())]), decisions(), undefined);
    const [env] = ofType(plan, 'deployment-env');
    expect(env).toMatchObject({
      status: 'create',
      container: 'central',
      tokenVolume: { audience: 'openshift' },
      target: 'stackrox/deployment/central (container central)',
      desired: { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE, tokenMount: { mountPath: '/var/run/secrets/openshift/serviceaccount', audience: 'openshift', expirationSeconds: 3600 } },
    });
    expect(env!.summary).toContain('mount a projected service-account token');
    // One action, so one patch and one rollout.
    expect(plan.actions.map((a) => a.type)).toEqual(['oidc-provider', 'role', 'trust-policy', 'permissions-policy', 'deployment-env', 'restart']);
    expect(plan.blockers).toEqual([]);
  });

  it('updates a deployment whose env is in place but whose token is missing', () => {
    const plan = buildPlan(facts([ocp(noMount([{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }]))]), decisions(), undefined);
    expect(ofType(plan, 'deployment-env')[0]).toMatchObject({ status: 'update', tokenVolume: { audience: 'openshift' } });
    expect(ofType(plan, 'restart')[0]!.status).toBe('update');
  });

  it.each([
    ['helm', 'Helm values', /customize carries environment variables/],
    ['operator', "operator's overlays", /collide with the mount the 4\.4\+ charts add/],
  ] as const)('refuses RHACS 4.3 installed by %s: the durable copy cannot hold the volume; names the upgrade', (installMethod, where, why) => {
    const plan = buildPlan(facts([ocp(noMount(), {
      installMethod, version: '4.3.8',
      ...(installMethod === 'operator' ? { operatorCrs: { central: { kind: 'Central' as const, name: 'stackrox-central-services', overlays: [] } } } : {}),
    })]), decisions(), undefined);
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]!.message).toContain('(this install is 4.3.8)');
    expect(plan.blockers[0]!.message).toContain(where);
    expect(plan.blockers[0]!.message).toMatch(why);
    expect(plan.blockers[0]!.hint).toBe('Upgrade RHACS to 4.4 or later (its charts mount the token themselves), then re-run rhacs-sts init.');
    expect(ofType(plan, 'deployment-env')[0]!.tokenVolume).toBeUndefined();
  });

  it('adds none when the mount is there', () => {
    const plan = buildPlan(facts([ocp({ serviceAccount: { annotations: {} }, deployment: { container: 'central', env: [], hasTokenMount: true, podTemplateAnnotations: {} } }, { installMethod: 'helm', version: '4.3.8' })]), decisions(), undefined);
    expect(ofType(plan, 'deployment-env')[0]!.tokenVolume).toBeUndefined();
    expect(plan.blockers).toEqual([]);
  });

  it('updates env that is partly wrong', () => {
    const plan = buildPlan(facts([ocp({
      serviceAccount: { annotations: {} },
      deployment: { container: 'central', env: [{ name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::111122223333:role/old' }], hasTokenMount: true, podTemplateAnnotations: {} },
    })]), decisions({ replaceRoleWiring: true }), undefined);
    expect(ofType(plan, 'deployment-env')[0]).toMatchObject({
      status: 'update',
      current: { AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/old', AWS_WEB_IDENTITY_TOKEN_FILE: undefined },
    });
  });
});

describe('offlineFacts and decisionsFromOptions', () => {
  it('take every fact from flags', () => {
    const options = parseOptions('plan', { offline: true, accountId: ACCOUNT, oidcIssuer: EKS_ISSUER, clusterName: 'prod', context: 'ctx' }, {});
    const f = offlineFacts(options);
    expect(f).toEqual({
      partition: 'aws',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      clusterName: 'prod',
      offline: true,
      clusters: [{
        context: 'ctx',
        name: 'prod',
        provider: 'eks',
        issuer: EKS_ISSUER,
        namespace: 'stackrox',
        components: ['central', 'sensor'],
        installMethod: 'manifests',
        installEvidence: expect.stringContaining('offline'),
      }],
    });
    expect(decisionsFromOptions(options, f)).toEqual({
      roleName: 'rhacs-sts-prod',
      rolePath: '/',
      permissionsBoundary: undefined,
      ecr: { registryId: ACCOUNT, region: undefined, repositories: [] },
      delegatedScanning: false,
      attachPolicyArns: [],
      replaceRoleWiring: false,
      restart: true,
      adoptRole: false,
      adoptOidcProvider: false,
      mechanism: 'irsa',
      adoptAssociation: false,
      thumbprints: {},
    });
  });
});

describe('trust policy ownership and size', () => {
  it('a run for another cluster keeps this cluster\'s statement; the legacy Sid migrates for its own issuer', () => {
    const legacy = { ...EKS_TRUST.Statement[0]!, Sid: 'RhacsStsWebIdentity' };
    const spoke = cluster({ context: 'spoke', provider: 'openshift', issuer: OCP_ISSUER, components: ['sensor'] });
    const current = awsInPlace({ role: { ...awsInPlace().role!, trustPolicy: { Version: '2012-10-17', Statement: [legacy] } } });
    const plan = buildPlan(facts([spoke]), decisions({ delegatedScanning: true }), current);
    // The hub's statement (still with its old Sid) is another cluster's: kept as it is.
    expect(plan.role.trustPolicy.Statement.map((s) => s.Sid)).toEqual(['RhacsStsWebIdentity', trustSid(OCP_ISSUER)]);
    // A run for the hub migrates its statement to the per-issuer Sid, in place.
    const hub = buildPlan(facts([cluster({ current: { central: eksCentralInPlace } })]), decisions(), current);
    expect(hub.role.trustPolicy).toEqual(EKS_TRUST);
    expect(ofType(hub, 'trust-policy')[0]!.status).toBe('update');
  });

  it('blocks before any write when the trust policy would exceed the account quota, naming size, quota and the ways out', () => {
    const plan = buildPlan(facts(), decisions(), awsInPlace({ trustPolicySizeQuota: 200 }));
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]!.message).toMatch(/would be \d+ characters .* over the account's quota of 200/);
    expect(plan.blockers[0]!.hint).toMatch(/L-C07B4B0D/);
    expect(buildPlan(facts(), decisions(), awsInPlace({ trustPolicySizeQuota: 4096 })).blockers).toEqual([]);
  });

  it('offline, measures against the default quota of 2,048 characters', () => {
    const many = Array.from({ length: 12 }, (_, i) => cluster({ context: `c${i}`, issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${String(i).padStart(32, '0')}` }));
    const plan = buildPlan(facts(many), decisions(), undefined);
    expect(plan.blockers.map((b) => b.message).join('\n')).toMatch(/over the account's quota of 2048 \(the default; not read from the account\)/);
  });
});

describe('wiring that names another role', () => {
  const THEIRS = `arn:aws:iam::${ACCOUNT}:role/backup-and-securityhub`;
  const wiredElsewhere: ComponentState = {
    serviceAccount: { annotations: { [ANNOTATION]: THEIRS } },
    deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
  };

  it('is refused before any write, naming the role and both ways out', () => {
    const plan = buildPlan(facts([cluster({ current: { central: wiredElsewhere } })]), decisions(), awsInPlace());
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]!.message).toContain(`already names the role ${THEIRS}`);
    expect(plan.blockers[0]!.message).toMatch(/S3 backups, the Security Hub notifier/);
    expect(plan.blockers[0]!.hint).toContain('--role-name backup-and-securityhub');
    expect(plan.blockers[0]!.hint).toContain('--replace-role-wiring');
  });

  it('with --replace-role-wiring, shows the old value and records it on the service account', () => {
    const plan = buildPlan(facts([cluster({ current: { central: wiredElsewhere } })]), decisions({ replaceRoleWiring: true }), awsInPlace());
    expect(plan.blockers).toEqual([]);
    const sa = ofType(plan, 'service-account-annotation')[0]!;
    expect(sa.status).toBe('update');
    expect(sa.current).toEqual({ [ANNOTATION]: THEIRS });
    expect(sa.annotations).toEqual({ [ANNOTATION]: ROLE_ARN, 'rhacs-sts/previous-role-arn': THEIRS });
    expect(sa.summary).toContain(`replaces ${THEIRS}`);
  });

  it('on OpenShift, records the replaced AWS_ROLE_ARN on the deployment', () => {
    const ocp: ComponentState = {
      serviceAccount: { annotations: {} },
      deployment: { container: 'central', env: [{ name: 'AWS_ROLE_ARN', value: THEIRS }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }], hasTokenMount: true, podTemplateAnnotations: {}, annotations: {} },
    };
    const f = facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, current: { central: ocp } })]);
    expect(buildPlan(f, decisions(), undefined).blockers.map((b) => b.message).join()).toContain(THEIRS);
    const env = ofType(buildPlan(f, decisions({ replaceRoleWiring: true }), undefined), 'deployment-env')[0]!;
    expect(env.annotations).toEqual({ 'rhacs-sts/previous-role-arn': THEIRS });
    expect(env.current).toEqual({ AWS_ROLE_ARN: THEIRS, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE });
  });
});

describe('--attach-policy-arn', () => {
  const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
  it('attaches each policy once and records it; a re-run is unchanged; others are left alone', () => {
    const plan = buildPlan(facts(), decisions({ attachPolicyArns: [S3] }), awsInPlace());
    expect(ofType(plan, 'managed-policy')).toEqual([expect.objectContaining({ status: 'create', policyArn: S3, tagKey: expect.stringMatching(/^rhacs-sts\/attached-[0-9a-f]{8}$/) })]);
    const tagKey = ofType(plan, 'managed-policy')[0]!.tagKey;
    const after = awsInPlace({ role: { ...awsInPlace().role!, attachedPolicyArns: [S3, 'arn:aws:iam::aws:policy/Theirs'], tags: { ...TAGS, [tagKey]: S3 } } });
    const again = buildPlan(facts(), decisions({ attachPolicyArns: [S3] }), after);
    expect(ofType(again, 'managed-policy')[0]!.status).toBe('unchanged');
    expect(again.notes.join('\n')).toContain('attached managed policies (arn:aws:iam::aws:policy/Theirs); rhacs-sts leaves them alone');
  });
});
