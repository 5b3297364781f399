import { describe, expect, it } from 'vitest';
import {
  canonicalPolicy,
  ecrRepositoryArns,
  isOurStatement,
  mergeTrustPolicy,
  oidcProviderArn,
  parsePolicyDocument,
  ourTrustedHostPaths,
  permissionsPolicy,
  policySize,
  removeOurStatements,
  roleArn,
  samePolicy,
  trustSid,
  trustStatements,
  type PolicyDocument,
  type PolicyStatement,
} from '../../src/clouds/aws/policies.js';

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const GOV_ISSUER = 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01';
const CN_ISSUER = 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01';

const READ_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:DescribeImages',
  'ecr:DescribeRepositories',
  'ecr:GetDownloadUrlForLayer',
  'ecr:ListImages',
];

const trustPolicy = (statements: PolicyStatement[]): PolicyDocument => mergeTrustPolicy(undefined, statements, []);

describe('ARNs', () => {
  it.each([
    ['aws', EKS_ISSUER, `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}`],
    ['aws-us-gov', GOV_ISSUER, `arn:aws-us-gov:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01`],
    ['aws-cn', CN_ISSUER, `arn:aws-cn:iam::${ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01`],
    ['aws', OCP_ISSUER, `arn:aws:iam::${ACCOUNT}:oidc-provider/my-oidc-bucket.s3.us-east-1.amazonaws.com`],
  ] as const)('OIDC provider ARN in %s for %s', (partition, issuer, want) => {
    expect(oidcProviderArn(partition, ACCOUNT, issuer)).toBe(want);
  });

  it.each([
    ['aws', '/', `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`],
    ['aws', '/rhacs/', `arn:aws:iam::${ACCOUNT}:role/rhacs/rhacs-sts`],
    ['aws-us-gov', '/', `arn:aws-us-gov:iam::${ACCOUNT}:role/rhacs-sts`],
    ['aws-cn', '/a/b/', `arn:aws-cn:iam::${ACCOUNT}:role/a/b/rhacs-sts`],
  ] as const)('role ARN in %s at path %s', (partition, path, want) => {
    expect(roleArn(partition, ACCOUNT, 'rhacs-sts', path)).toBe(want);
  });
});

describe('trust policy (golden documents)', () => {
  it('EKS: Central only, audience sts.amazonaws.com', () => {
    const doc = trustPolicy(trustStatements('aws', ACCOUNT, [
      { issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] },
    ]));
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(EKS_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub': ['system:serviceaccount:stackrox:central'],
            'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud': 'sts.amazonaws.com',
          },
        },
      }],
    });
  });

  it('OpenShift: audience openshift', () => {
    const doc = trustPolicy(trustStatements('aws', ACCOUNT, [
      { issuer: OCP_ISSUER, audience: 'openshift', subjects: ['system:serviceaccount:rhacs:central'] },
    ]));
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(OCP_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/my-oidc-bucket.s3.us-east-1.amazonaws.com' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'my-oidc-bucket.s3.us-east-1.amazonaws.com:sub': ['system:serviceaccount:rhacs:central'],
            'my-oidc-bucket.s3.us-east-1.amazonaws.com:aud': 'openshift',
          },
        },
      }],
    });
  });

  it('delegated scanning: central and sensor subjects, sorted', () => {
    const doc = trustPolicy(trustStatements('aws', ACCOUNT, [
      { issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:sensor', 'system:serviceaccount:stackrox:central'] },
    ]));
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0]!.Condition).toEqual({
      StringEquals: {
        [`${EKS_HP}:sub`]: ['system:serviceaccount:stackrox:central', 'system:serviceaccount:stackrox:sensor'],
        [`${EKS_HP}:aud`]: 'sts.amazonaws.com',
      },
    });
  });

  it('GovCloud: arn:aws-us-gov principal', () => {
    const doc = trustPolicy(trustStatements('aws-us-gov', ACCOUNT, [
      { issuer: GOV_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] },
    ]));
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(GOV_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01:sub': ['system:serviceaccount:stackrox:central'],
            'oidc.eks.us-gov-west-1.amazonaws.com/id/GOVCLUSTER01:aud': 'sts.amazonaws.com',
          },
        },
      }],
    });
  });

  it('China: arn:aws-cn principal and the .com.cn issuer', () => {
    const doc = trustPolicy(trustStatements('aws-cn', ACCOUNT, [
      { issuer: CN_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] },
    ]));
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Sid: trustSid(CN_ISSUER),
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01:sub': ['system:serviceaccount:stackrox:central'],
            'oidc.eks.cn-north-1.amazonaws.com.cn/id/CNCLUSTER01:aud': 'sts.amazonaws.com',
          },
        },
      }],
    });
  });

  it('never uses a wildcard subject or the seed document\'s AssumeRole', () => {
    const [s] = trustStatements('aws', ACCOUNT, [{ issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] }]);
    expect(JSON.stringify(s)).not.toContain('*');
    expect(s!.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(s!.Principal).not.toHaveProperty('AWS');
    expect(s!.Condition).not.toHaveProperty('StringLike');
  });
});

describe('trust policy: several issuers', () => {
  const central = { issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] };
  const sensor = { issuer: OCP_ISSUER, audience: 'openshift', subjects: ['system:serviceaccount:stackrox:sensor'] };

  it('writes one statement per issuer with distinct, stable Sids', () => {
    const statements = trustStatements('aws', ACCOUNT, [central, sensor]);
    expect(statements).toHaveLength(2);
    const sids = statements.map((s) => s.Sid!);
    expect(new Set(sids).size).toBe(2);
    for (const sid of sids) expect(sid).toMatch(/^RhacsStsWebIdentity[0-9a-f]{8}$/);
    expect(statements.map((s) => s.Principal)).toEqual([
      { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}` },
      { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/my-oidc-bucket.s3.us-east-1.amazonaws.com` },
    ]);
    expect(statements[0]!.Condition).toEqual({
      StringEquals: { [`${EKS_HP}:sub`]: ['system:serviceaccount:stackrox:central'], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' },
    });
    expect(statements[1]!.Condition).toEqual({
      StringEquals: {
        'my-oidc-bucket.s3.us-east-1.amazonaws.com:sub': ['system:serviceaccount:stackrox:sensor'],
        'my-oidc-bucket.s3.us-east-1.amazonaws.com:aud': 'openshift',
      },
    });
    // The Sid depends on the issuer only, not on the order of the clusters.
    const reversed = trustStatements('aws', ACCOUNT, [sensor, central]);
    expect(reversed.map((s) => s.Sid)).toEqual([sids[1], sids[0]]);
    expect(trustStatements('aws', ACCOUNT, [central, sensor]).map((s) => s.Sid)).toEqual(sids);
  });

  it('merges clusters that share an issuer into one statement', () => {
    const statements = trustStatements('aws', ACCOUNT, [
      central,
      { issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:sensor', 'system:serviceaccount:stackrox:central'] },
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Sid).toBe(trustSid(EKS_ISSUER));
    expect(statements[0]!.Condition!.StringEquals![`${EKS_HP}:sub`]).toEqual([
      'system:serviceaccount:stackrox:central',
      'system:serviceaccount:stackrox:sensor',
    ]);
  });

  it('refuses one issuer with two audiences', () => {
    expect(() => trustStatements('aws', ACCOUNT, [central, { ...central, audience: 'openshift' }])).toThrow(/two audiences/);
  });
});

describe('merging into an existing trust policy', () => {
  const foreign: PolicyStatement = {
    Sid: 'LetCiAssume',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::444455556666:role/ci' },
    Action: 'sts:AssumeRole',
  };
  const unnamed: PolicyStatement = { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
  const oldOurs: PolicyStatement = {
    Sid: 'RhacsStsWebIdentity',
    Effect: 'Allow',
    Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/old.example.com` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { 'old.example.com:sub': 'system:serviceaccount:old:central' } },
  };
  const oldOursSuffixed: PolicyStatement = { ...oldOurs, Sid: 'RhacsStsWebIdentity0badc0de' };

  const eksOurs = () => trustStatements('aws', ACCOUNT, [{ issuer: EKS_ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:stackrox:central'] }]);
  const ocpOurs = () => trustStatements('aws', ACCOUNT, [{ issuer: OCP_ISSUER, audience: 'openshift', subjects: ['system:serviceaccount:stackrox:sensor'] }]);

  it('keeps foreign statements and our statements for other issuers; replaces ours for the issuers in scope', () => {
    const ours = eksOurs();
    const staleEks: PolicyStatement = { ...ours[0]!, Condition: { StringEquals: { [`${EKS_HP}:sub`]: 'system:serviceaccount:old:central' } } };
    const merged = mergeTrustPolicy({ Version: '2012-10-17', Statement: [foreign, oldOurs, unnamed, staleEks, oldOursSuffixed] }, ours, [EKS_ISSUER]);
    // oldOurs and oldOursSuffixed trust old.example.com: another cluster's, so they stay.
    expect(merged).toEqual({ Version: '2012-10-17', Statement: [foreign, oldOurs, unnamed, ours[0], oldOursSuffixed] });
  });

  it('a second cluster adds its statement; the first cluster\'s stays (hub + spoke2, then hub + spoke3)', () => {
    const hub = eksOurs();
    const spoke = ocpOurs();
    const first = mergeTrustPolicy(undefined, [...hub], [EKS_ISSUER]);
    const second = mergeTrustPolicy(first, [...spoke], [OCP_ISSUER]);
    expect(second.Statement).toEqual([hub[0], spoke[0]]);
    expect(ourTrustedHostPaths(second)).toEqual([EKS_HP, 'my-oidc-bucket.s3.us-east-1.amazonaws.com'].sort());
    // Re-running the first cluster changes nothing, and keeps the order.
    expect(mergeTrustPolicy(second, hub, [EKS_ISSUER])).toEqual(second);
  });

  it('migrates the single RhacsStsWebIdentity statement of earlier versions for its issuer', () => {
    const legacy: PolicyStatement = { ...eksOurs()[0]!, Sid: 'RhacsStsWebIdentity' };
    const merged = mergeTrustPolicy({ Version: '2012-10-17', Statement: [foreign, legacy] }, eksOurs(), [EKS_ISSUER]);
    expect(merged.Statement).toEqual([foreign, eksOurs()[0]]);
    expect(merged.Statement[1]!.Sid).toBe(trustSid(EKS_ISSUER));
    expect(trustSid(EKS_ISSUER)).toMatch(/^RhacsStsWebIdentity[0-9a-f]{8}$/);
  });

  it('is idempotent', () => {
    const once = mergeTrustPolicy({ Version: '2012-10-17', Statement: [foreign] }, eksOurs(), [EKS_ISSUER]);
    expect(mergeTrustPolicy(once, eksOurs(), [EKS_ISSUER])).toEqual(once);
  });

  it('removeOurStatements leaves only foreign statements, or with a scope only that scope\'s statements go', () => {
    expect(removeOurStatements({ Version: '2012-10-17', Statement: [foreign, oldOurs, unnamed] })).toEqual({
      Version: '2012-10-17',
      Statement: [foreign, unnamed],
    });
    const both = { Version: '2012-10-17', Statement: [foreign, ...eksOurs(), ...ocpOurs()] };
    expect(removeOurStatements(both, [OCP_ISSUER]).Statement).toEqual([foreign, ...eksOurs()]);
  });

  it('policySize counts what IAM counts: non-white-space characters', () => {
    const doc = { Version: '2012-10-17', Statement: [foreign] };
    expect(policySize(doc)).toBe(JSON.stringify(doc).length);
    expect(policySize({ Version: '2012-10-17', Statement: [{ ...foreign, Sid: 'With Space' }] })).toBe(JSON.stringify(doc).length - 'LetCiAssume'.length + 'WithSpace'.length);
  });

  it.each([
    ['RhacsStsWebIdentity', true],
    ['RhacsStsEcrRead', true],
    ['rhacssts', false],
    ['Other', false],
    [undefined, false],
  ])('isOurStatement(Sid %s) is %s', (sid, want) => {
    expect(isOurStatement({ Sid: sid, Effect: 'Allow', Action: 'x' })).toBe(want);
  });
});

describe('permissions policy (golden documents)', () => {
  it('same account, any region, every repository', () => {
    expect(permissionsPolicy('aws', { registryId: ACCOUNT, repositories: [] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: 'arn:aws:ecr:*:111122223333:repository/*' },
      ],
    });
  });

  it('cross-account ECR in one region', () => {
    expect(permissionsPolicy('aws', { registryId: '444455556666', region: 'eu-west-1', repositories: [] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: 'arn:aws:ecr:eu-west-1:444455556666:repository/*' },
      ],
    });
  });

  it('scoped repositories: a sorted list of ARNs', () => {
    expect(permissionsPolicy('aws', { registryId: ACCOUNT, region: 'eu-west-1', repositories: ['team-b/app', 'team-a/*', 'base-images'] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        {
          Sid: 'RhacsStsEcrRead',
          Effect: 'Allow',
          Action: READ_ACTIONS,
          Resource: [
            'arn:aws:ecr:eu-west-1:111122223333:repository/base-images',
            'arn:aws:ecr:eu-west-1:111122223333:repository/team-a/*',
            'arn:aws:ecr:eu-west-1:111122223333:repository/team-b/app',
          ],
        },
      ],
    });
  });

  it('one scoped repository is a single ARN string', () => {
    const doc = permissionsPolicy('aws', { registryId: ACCOUNT, repositories: ['rhacs'] });
    expect(doc.Statement[1]!.Resource).toBe('arn:aws:ecr:*:111122223333:repository/rhacs');
  });

  it('GovCloud partition', () => {
    expect(permissionsPolicy('aws-us-gov', { registryId: ACCOUNT, region: 'us-gov-west-1', repositories: [] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: 'arn:aws-us-gov:ecr:us-gov-west-1:111122223333:repository/*' },
      ],
    });
  });

  it('China partition', () => {
    expect(permissionsPolicy('aws-cn', { registryId: ACCOUNT, repositories: ['app'] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'RhacsStsEcrRead', Effect: 'Allow', Action: READ_ACTIONS, Resource: 'arn:aws-cn:ecr:*:111122223333:repository/app' },
      ],
    });
  });

  it('grants read actions only', () => {
    const doc = permissionsPolicy('aws', { registryId: ACCOUNT, repositories: [] });
    const actions = doc.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.every((a) => /^ecr:(Get|Batch(Get|Check)|Describe|List)/.test(a))).toBe(true);
    expect(actions).not.toContain('ecr:*');
    expect(actions.some((a) => /Put|Delete|Upload|Create|Set/.test(a))).toBe(false);
    expect(doc.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('ecrRepositoryArns lists one ARN per scope entry, sorted', () => {
    expect(ecrRepositoryArns('aws', { registryId: '444455556666', region: 'us-east-1', repositories: ['z', 'a/*'] })).toEqual([
      'arn:aws:ecr:us-east-1:444455556666:repository/a/*',
      'arn:aws:ecr:us-east-1:444455556666:repository/z',
    ]);
  });
});

describe('canonical comparison', () => {
  const base: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'RhacsStsEcrRead',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:ListImages'],
      Resource: ['arn:aws:ecr:*:111122223333:repository/a'],
      Condition: { StringEquals: { 'k:sub': ['x'] } },
    }],
  };

  it.each([
    ['key order', { Statement: [{ Resource: 'arn:aws:ecr:*:111122223333:repository/a', Condition: { StringEquals: { 'k:sub': 'x' } }, Action: ['ecr:BatchGetImage', 'ecr:ListImages'], Effect: 'Allow', Sid: 'RhacsStsEcrRead' }], Version: '2012-10-17' }],
    ['single-element arrays as strings', { ...base, Statement: [{ ...base.Statement[0]!, Resource: 'arn:aws:ecr:*:111122223333:repository/a', Condition: { StringEquals: { 'k:sub': 'x' } } }] }],
    ['string array order', { ...base, Statement: [{ ...base.Statement[0]!, Action: ['ecr:ListImages', 'ecr:BatchGetImage'] }] }],
  ])('ignores %s', (_what, other) => {
    expect(samePolicy(base, other)).toBe(true);
    expect(samePolicy(other, base)).toBe(true);
  });

  it.each([
    ['another resource', { ...base, Statement: [{ ...base.Statement[0]!, Resource: 'arn:aws:ecr:*:111122223333:repository/b' }] }],
    ['an extra action', { ...base, Statement: [{ ...base.Statement[0]!, Action: ['ecr:BatchGetImage', 'ecr:ListImages', 'ecr:PutImage'] }] }],
    ['another subject', { ...base, Statement: [{ ...base.Statement[0]!, Condition: { StringEquals: { 'k:sub': ['y'] } } }] }],
    ['an extra statement', { ...base, Statement: [...base.Statement, { Effect: 'Deny', Action: 'x', Resource: '*' }] }],
    ['Deny for Allow', { ...base, Statement: [{ ...base.Statement[0]!, Effect: 'Deny' }] }],
  ])('notices %s', (_what, other) => {
    expect(samePolicy(base, other)).toBe(false);
  });

  it('canonicalPolicy sorts keys and folds arrays', () => {
    expect(JSON.stringify(canonicalPolicy({ b: ['z', 'a'], a: ['only'], c: [{ y: 1, x: 2 }] }))).toBe('{"a":"only","b":["a","z"],"c":[{"x":2,"y":1}]}');
  });
});

describe('parsePolicyDocument', () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } }] };

  it('accepts plain JSON', () => {
    expect(parsePolicyDocument(JSON.stringify(doc))).toEqual(doc);
  });

  it('accepts the URL-encoded form IAM returns', () => {
    expect(parsePolicyDocument(encodeURIComponent(JSON.stringify(doc)))).toEqual(doc);
  });

  it('turns a single Statement object into a list', () => {
    expect(parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: doc.Statement[0] }))).toEqual(doc);
  });

  it('turns a missing Statement into an empty list', () => {
    expect(parsePolicyDocument('{"Version":"2012-10-17"}')).toEqual({ Version: '2012-10-17', Statement: [] });
  });
});

describe('merging keeps every statement in its place', () => {
  const a = 'https://oidc.eks.eu-west-1.amazonaws.com/id/AAAA';
  const b = 'https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB';
  const c = 'https://oidc.eks.eu-west-1.amazonaws.com/id/CCCC';
  const st = (issuer: string, sub = 'system:serviceaccount:stackrox:sensor') =>
    trustStatements('aws', '111122223333', [{ issuer, audience: 'sts.amazonaws.com', subjects: [sub] }])[0]!;
  it('hub+b, then hub+c, then a plan for hub+b again: no reordering, nothing to change', () => {
    const first = mergeTrustPolicy(undefined, [st(a), st(b)], [a, b]);
    const second = mergeTrustPolicy(first, [st(a), st(c)], [a, c]);
    expect(second.Statement).toEqual([st(a), st(b), st(c)]);
    expect(mergeTrustPolicy(second, [st(a), st(b)], [a, b])).toEqual(second);
    // A changed statement is replaced where it stands.
    const changed = mergeTrustPolicy(second, [st(b, 'system:serviceaccount:other:sensor')], [b]);
    expect(changed.Statement).toEqual([st(a), st(b, 'system:serviceaccount:other:sensor'), st(c)]);
  });
});
