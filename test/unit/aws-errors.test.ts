// Messages for the refusals AWS (and the sandbox's AWS gate) answer: the trust policy size quota and
// the web-identity exchange's error codes, each naming what to fix.
import { describe, expect, it } from 'vitest';
import { mapAwsError, mapWebIdentityError, TRUST_POLICY_QUOTA_CODE } from '../../src/clouds/aws/errors.js';

const awsError = (name: string, message: string, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const id = {
  roleArn: 'arn:aws:iam::123456789012:role/rhacs',
  issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  subject: 'system:serviceaccount:stackrox:central',
  audience: 'sts.amazonaws.com',
};

describe('AWS error messages', () => {
  it('a trust policy over the quota names its size, the quota and the Service Quotas code', () => {
    const doc = JSON.stringify({ Statement: [{ Sid: 'x'.repeat(3000) }] });
    const e = mapAwsError(awsError('LimitExceeded', 'Cannot exceed quota for ACLSizePerRole: 2048', 409), 'creating the role r', { trustPolicy: `${doc}\n  ` });
    expect(e.message).toBe(`The trust policy is too large while creating the role r: ${doc.length} characters (whitespace not counted), over the IAM quota of 2048 (ACLSizePerRole).`);
    expect(e.hint).toContain(TRUST_POLICY_QUOTA_CODE);
    expect(TRUST_POLICY_QUOTA_CODE).toBe('L-C07B4B0D');
  });

  it('other IAM limits keep the generic message', () => {
    expect(mapAwsError(awsError('LimitExceeded', 'Cannot exceed quota for RolesPerAccount: 1000', 409), 'creating the role r').message).toMatch(/^An IAM quota was reached/);
  });

  it('web identity refusals point at the issuer, the audience or the trust policy', () => {
    expect(mapWebIdentityError(awsError('IDPCommunicationError', "Couldn't retrieve verification key"), id).message).toBe(
      `AWS cannot reach the issuer ${id.issuer} to verify the token for ${id.roleArn}: Couldn't retrieve verification key`,
    );
    const aud = mapWebIdentityError(awsError('InvalidIdentityToken', 'Incorrect token audience'), id);
    expect(aud.message).toBe(`AWS refused the token's audience sts.amazonaws.com: it is not a client ID of the IAM OIDC provider for ${id.issuer}.`);
    expect(aud.hint).toMatch(/--client-id sts\.amazonaws\.com .*--adopt-oidc-provider/);
    const denied = mapWebIdentityError(awsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403), id);
    expect(denied.message).toBe(`The trust policy of ${id.roleArn} does not allow ${id.subject} (audience sts.amazonaws.com) to assume it (sts:AssumeRoleWithWebIdentity was denied).`);
    expect(mapWebIdentityError(awsError('InvalidIdentityToken', 'No OpenIDConnect provider found in your account for x'), id).message).toMatch(/^AWS refused the service-account token/);
  });
});
