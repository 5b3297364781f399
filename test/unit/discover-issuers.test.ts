import { describe, expect, it } from 'vitest';
import { checkIssuers } from '../../src/discover.js';
import { InputError, OperationError } from '../../src/errors.js';

const EKS = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const BUCKET = 'https://rhacs-oidc.s3.us-east-1.amazonaws.com';
const WELL_KNOWN = "the API server's /.well-known/openid-configuration";

function thrown(fn: () => unknown): InputError | OperationError {
  try {
    fn();
  } catch (err) {
    return err as InputError;
  }
  throw new Error('did not throw');
}

describe('checkIssuers: the issuer AWS is told to trust is the one the tokens carry', () => {
  it('accepts --oidc-issuer when the tokens carry it, and a detected public issuer', () => {
    expect(checkIssuers({ oidcIssuer: EKS }, [{ context: 'eks', provider: 'eks', issuer: EKS, tokenIssuer: { issuer: EKS, source: WELL_KNOWN } }])).toEqual([]);
    expect(checkIssuers({}, [{ context: 'eks', provider: 'eks', issuer: EKS }])).toEqual([]);
  });

  it('refuses --oidc-issuer that differs from what the tokens carry, exit 2 naming the flag, every cluster at once', () => {
    const err = thrown(() => checkIssuers({ oidcIssuer: BUCKET }, [
      { context: 'a', provider: 'eks', issuer: BUCKET, tokenIssuer: { issuer: EKS, source: WELL_KNOWN } },
      { context: 'b', provider: 'eks', issuer: BUCKET, tokenIssuer: { issuer: `${EKS}2`, source: WELL_KNOWN } },
    ]));
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    const problems = (err as InputError).problems;
    expect(problems.map((p) => p.source)).toEqual(['--oidc-issuer', '--oidc-issuer']);
    expect(problems[0]!.message).toBe(`is ${BUCKET}, but the tokens of context "a" carry the issuer ${EKS} (${WELL_KNOWN}): AWS matches a token's iss against the OIDC provider, so it would reject every token of this cluster`);
    expect(problems[1]!.message).toContain('context "b"');
    expect(err.hint).toMatch(/^Drop --oidc-issuer/);
  });

  it('OpenShift without STS: a public --oidc-issuer is refused, and the hint names the real prerequisite', () => {
    const err = thrown(() => checkIssuers({ oidcIssuer: BUCKET }, [
      { context: 'ocp', provider: 'openshift', issuer: BUCKET, tokenIssuer: { issuer: 'https://kubernetes.default.svc', source: WELL_KNOWN } },
    ]));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems[0]!.message).toMatch(/carry the issuer https:\/\/kubernetes\.default\.svc .*, and it can never reach https:\/\/kubernetes\.default\.svc itself$/);
    expect(err.hint).toMatch(/rhacs-sts issuer publish --set-cluster-issuer.*sets spec\.serviceAccountIssuer on authentications\.config\.openshift\.io\/cluster/);
  });

  it('warns, and goes on, when the tokens\' issuer cannot be read (no right to /.well-known)', () => {
    const w = checkIssuers({ oidcIssuer: EKS }, [{ context: 'eks', provider: 'eks', issuer: EKS, tokenIssuer: { error: 'forbidden' } }]);
    expect(w).toEqual([`Could not read which issuer the tokens of context "eks" carry (forbidden); --oidc-issuer ${EKS} is used as given: it must be the cluster's service-account issuer.`]);
  });

  it('stops (exit 1) on a detected issuer AWS cannot reach, pointing at the cluster\'s configuration', () => {
    const err = thrown(() => checkIssuers({}, [{ context: 'ocp', provider: 'openshift', issuer: 'https://kubernetes.default.svc' }]));
    expect(err).toBeInstanceOf(OperationError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/^The service-account issuer of context "ocp" is https:\/\/kubernetes\.default\.svc, which AWS cannot use: "kubernetes\.default\.svc" is an in-cluster name/);
    expect(err.hint).toMatch(/ccoctl aws create-identity-provider/);
    const plain = thrown(() => checkIssuers({}, [{ context: 'k', provider: 'eks', issuer: 'https://kubernetes.default.svc.cluster.local' }]));
    expect(plain.hint).toMatch(/--service-account-issuer/);
  });

  it('uninstall removes trust, it never adds any: a mismatch or an unreachable issuer is said, not refused', () => {
    const w = checkIssuers({ command: 'uninstall', oidcIssuer: 'https://kubernetes.default.svc' }, [
      { context: 'ocp', provider: 'openshift', issuer: 'https://kubernetes.default.svc', tokenIssuer: { issuer: BUCKET, source: WELL_KNOWN } },
    ]);
    expect(w).toEqual([`--oidc-issuer https://kubernetes.default.svc is not the issuer the tokens of context "ocp" carry (${BUCKET}); removing what rhacs-sts set up for https://kubernetes.default.svc.`]);
    expect(checkIssuers({ command: 'uninstall' }, [{ context: 'k', provider: 'eks', issuer: 'https://kubernetes.default.svc.cluster.local' }])).toEqual([]);
  });
});
