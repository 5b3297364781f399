import { describe, expect, it } from 'vitest';
import { trustSid, trustStatements, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { decodeJwtClaims, evaluateTrust } from '../../src/clouds/aws/verify/trust-eval.js';

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const HP = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${HP}`;
const ours = (audience = 'sts.amazonaws.com', subjects = ['system:serviceaccount:stackrox:central']) => ({
  Version: '2012-10-17',
  Statement: trustStatements('aws', '111122223333', [{ issuer: ISSUER, audience, subjects }]),
});
const central = { iss: ISSUER, sub: 'system:serviceaccount:stackrox:central', aud: ['sts.amazonaws.com'] };

describe('evaluateTrust', () => {
  it('allows the exact subject and audience our policy names', () => {
    const r = evaluateTrust(ours(), central, PROVIDER);
    expect(r).toMatchObject({ allowed: true, reason: `statement ${trustSid(ISSUER)} allows system:serviceaccount:stackrox:central` });
  });

  it('names the audience mismatch', () => {
    const r = evaluateTrust(ours(), { ...central, aud: ['openshift'] }, PROVIDER);
    expect(r.allowed).toBe(false);
    expect(r.reason).toBe(`statement ${trustSid(ISSUER)}: aud is openshift but the policy wants sts.amazonaws.com`);
  });

  it('names the subject mismatch (another namespace)', () => {
    const r = evaluateTrust(ours(), { ...central, sub: 'system:serviceaccount:other:central' }, PROVIDER);
    expect(r.reason).toBe(`statement ${trustSid(ISSUER)}: sub is system:serviceaccount:other:central but the policy wants system:serviceaccount:stackrox:central`);
  });

  it('names a provider mismatch', () => {
    const r = evaluateTrust(ours(), central, 'arn:aws:iam::111122223333:oidc-provider/other.example.com');
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/not the OIDC provider arn:aws:iam::111122223333:oidc-provider\/other\.example\.com/);
  });

  it('says when a token from another issuer does not meet the conditions', () => {
    const r = evaluateTrust(ours(), { ...central, iss: 'https://other.example.com' }, PROVIDER);
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/ABC:sub is not in the token/);
  });

  it('supports StringLike wildcards and explicit Deny', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Like', Effect: 'Allow' as const, Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [`${HP}:sub`]: 'system:serviceaccount:stackrox:*' } } },
        { Sid: 'NoSensor', Effect: 'Deny' as const, Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${HP}:sub`]: 'system:serviceaccount:stackrox:sensor' } } },
      ],
    };
    expect(evaluateTrust(policy, central, PROVIDER).allowed).toBe(true);
    const sensor = evaluateTrust(policy, { ...central, sub: 'system:serviceaccount:stackrox:sensor' }, PROVIDER);
    expect(sensor).toMatchObject({ allowed: false, reason: 'statement NoSensor denies it explicitly' });
  });

  it('ignores statements that do not concern web identity and says when none allows it', () => {
    const policy: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const r = evaluateTrust(policy, central, PROVIDER);
    expect(r).toEqual({ allowed: false, statements: [], reason: 'no statement allows sts:AssumeRoleWithWebIdentity' });
  });

  it('accepts either of two subjects (delegated scanning)', () => {
    const p = ours('sts.amazonaws.com', ['system:serviceaccount:stackrox:central', 'system:serviceaccount:stackrox:sensor']);
    expect(evaluateTrust(p, { ...central, sub: 'system:serviceaccount:stackrox:sensor' }, PROVIDER).allowed).toBe(true);
  });
});

describe('decodeJwtClaims', () => {
  it('reads the payload of a JWT', () => {
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, sub: 's', aud: ['a'] })).toString('base64url');
    expect(decodeJwtClaims(`eyJhbGciOiJSUzI1NiJ9.${payload}.sig`)).toEqual({ iss: ISSUER, sub: 's', aud: ['a'] });
  });
  it('rejects what is not a JWT', () => {
    expect(() => decodeJwtClaims('nonsense')).toThrow('not a JWT');
  });
});
