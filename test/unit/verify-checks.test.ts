// The verdicts of `verify`, check by check (pure functions), the public issuer fetch with a fake
// fetch, the token signature check with generated keys, the renderers, and runChecks end to end
// over fake sessions (no token in the report).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { AwsSession } from '../../src/clouds/aws/session.js';
import type { Discovered, Sessions } from '../../src/discover.js';
import type { Jwk, KubeSession, PodState, WorkloadState } from '../../src/kube/session.js';
import { parseOptions } from '../../src/options/options.js';
import { operatorOverlays } from '../../src/plan/build.js';
import type { ClusterFacts, ComponentState, OidcProviderState, RoleState } from '../../src/plan/model.js';
import { permissionsPolicy, trustSid, trustStatements, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { verifyToJson } from '../../src/render/verify-json.js';
import { renderVerifyText } from '../../src/render/verify-text.js';
import {
  durabilityCheck,
  issuerApiCheck,
  issuerPublicCheck,
  localExchangeFailures,
  missingEcrActions,
  oidcProviderCheck,
  permissionsCheck,
  podsCheck,
  roleCheck,
  tokenVolumeCheck,
  trustCheck,
  wiringCheck,
  type Where,
} from '../../src/verify/checks.js';
import { fetchPublicIssuer, type GetLike } from '../../src/clouds/aws/issuer/public.js';
import { NetworkError } from '../../src/net/https.js';
import { decodeJwtHeader, verifiesSignature } from '../../src/verify/jwt.js';
import { initCommand, pointedRoleArn, runChecks } from '../../src/verify/run.js';
import { clusterFacts } from './builders.js';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const HP = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${HP}`;
const OCP_ISSUER = 'https://bucket.s3.us-east-1.amazonaws.com';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts`;
const OTHER_ARN = `arn:aws:iam::${ACCOUNT}:role/other`;
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const FIX = 'rhacs-sts init --namespace stackrox';
const TAGS = { 'rhacs-sts/managed': 'true' };

const eks = (over: Partial<ClusterFacts> = {}): ClusterFacts => clusterFacts({ issuer: ISSUER, ...over });
const ocp = (over: Partial<ClusterFacts> = {}): ClusterFacts => eks({ provider: 'openshift', issuer: OCP_ISSUER, ...over });
const where = (cluster: ClusterFacts): Where => ({ cluster, multi: false });
const trust = (audience = 'sts.amazonaws.com', subjects = ['system:serviceaccount:stackrox:central']): PolicyDocument =>
  ({ Version: '2012-10-17', Statement: trustStatements('aws', ACCOUNT, [{ issuer: ISSUER, audience, subjects }]) });
const role = (over: Partial<RoleState> = {}): RoleState => ({
  arn: ROLE_ARN, path: '/', trustPolicy: trust(), inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: ACCOUNT, repositories: [] }) },
  attachedPolicyArns: [], tags: TAGS, ...over,
});
const provider = (clientIds = ['sts.amazonaws.com'], tags: Record<string, string> = TAGS): OidcProviderState => ({ arn: PROVIDER_ARN, clientIds, thumbprints: [], tags });

describe('issuer checks', () => {
  it('cluster API: pass, mismatch (with the OpenShift fix), no keys, unreadable', () => {
    const keys = [{ kid: 'k1', kty: 'RSA' }];
    expect(issuerApiCheck(where(eks()), { issuer: ISSUER, keys })).toMatchObject({ result: 'pass', detail: `Issuer ${ISSUER} matches; the JWKS has 1 key (k1).` });
    const mismatch = issuerApiCheck(where(ocp()), { issuer: 'https://kubernetes.default.svc', keys });
    expect(mismatch).toMatchObject({ result: 'fail', detail: expect.stringMatching(/issues tokens as https:\/\/kubernetes\.default\.svc, but the configuration uses https:\/\/bucket/) });
    expect(mismatch.fix).toMatch(/spec\.serviceAccountIssuer/);
    expect(issuerApiCheck(where(eks()), { issuer: ISSUER, keys: [] })).toMatchObject({ result: 'fail', detail: expect.stringMatching(/has no keys/) });
    expect(issuerApiCheck(where(eks()), { error: 'denied', hint: 'grant it' })).toMatchObject({ result: 'fail', fix: 'grant it' });
  });

  it('public URL: unreachable is a warning; a bad answer, a wrong issuer or unpublished keys fail', () => {
    const w = where(eks());
    const apiKeys: Jwk[] = [{ kid: 'k1' }, { kid: 'k2' }];
    expect(issuerPublicCheck(w, { reachable: false, error: 'ENOTFOUND' }, apiKeys)).toMatchObject({ result: 'warn', detail: expect.stringMatching(/could not be reached from here \(ENOTFOUND\)/) });
    expect(issuerPublicCheck(w, { reachable: true, url: 'u', error: 'u answered HTTP 403' }, apiKeys)).toMatchObject({ result: 'fail', detail: expect.stringMatching(/HTTP 403/) });
    expect(issuerPublicCheck(w, { reachable: true, url: 'u', issuer: 'https://elsewhere', keys: apiKeys }, apiKeys).result).toBe('fail');
    expect(issuerPublicCheck(w, { reachable: true, url: 'u', issuer: ISSUER, jwksUri: 'j', keys: [{ kid: 'old' }] }, apiKeys)).toMatchObject({ result: 'fail', detail: expect.stringMatching(/none of the cluster's signing keys \(k1, k2\)/) });
    expect(issuerPublicCheck(w, { reachable: true, url: 'u', issuer: ISSUER, jwksUri: 'j', keys: [{ kid: 'k1' }] }, apiKeys)).toMatchObject({ result: 'warn', detail: expect.stringMatching(/lacks some of the cluster's keys \(k2\)/) });
    expect(issuerPublicCheck(w, { reachable: true, url: 'u', issuer: ISSUER, jwksUri: 'j', keys: apiKeys }, apiKeys).result).toBe('pass');
  });

  it('fetchPublicIssuer: network failure, HTTP error, non-https jwks_uri, redirects, and a good issuer', async () => {
    const docs: Record<string, { status: number; body: string; location?: string }> = {
      [`${ISSUER}/.well-known/openid-configuration`]: { status: 200, body: JSON.stringify({ issuer: `${ISSUER}/`, jwks_uri: `${ISSUER}/keys` }) },
      [`${ISSUER}/keys`]: { status: 200, body: JSON.stringify({ keys: [{ kid: 'k1' }] }) },
      'https://forbidden.example/.well-known/openid-configuration': { status: 403, body: '<Error/>' },
      'https://plain.example/.well-known/openid-configuration': { status: 200, body: JSON.stringify({ issuer: 'https://plain.example', jwks_uri: 'http://plain.example/keys' }) },
      'https://moved.example/.well-known/openid-configuration': { status: 301, body: '', location: `${ISSUER}/.well-known/openid-configuration` },
      'https://downgrade.example/.well-known/openid-configuration': { status: 302, body: '', location: 'http://downgrade.example/doc' },
      'https://keyless.example/.well-known/openid-configuration': { status: 200, body: JSON.stringify({ issuer: 'https://keyless.example', jwks_uri: 'https://keys.keyless.example/jwks' }) },
    };
    const get: GetLike = async (url) => {
      const d = docs[url];
      if (!d) throw new NetworkError('ENOTFOUND', `getaddrinfo ENOTFOUND ${new URL(url).hostname}`);
      return d;
    };
    expect(await fetchPublicIssuer('https://nowhere.example', { get })).toEqual({ reachable: false, error: 'ENOTFOUND' });
    expect(await fetchPublicIssuer('https://forbidden.example', { get })).toMatchObject({ reachable: true, error: expect.stringMatching(/answered HTTP 403/) });
    expect(await fetchPublicIssuer('https://plain.example', { get })).toMatchObject({ reachable: true, error: expect.stringMatching(/is not https/) });
    expect(await fetchPublicIssuer('https://moved.example', { get })).toMatchObject({ reachable: true, issuer: ISSUER, keys: [{ kid: 'k1' }] });
    expect(await fetchPublicIssuer('https://downgrade.example', { get })).toMatchObject({ reachable: true, error: expect.stringMatching(/redirects to http:\/\/downgrade\.example\/doc, which is not https/) });
    // The keys' host answers nothing from here: unreachable, not wrong.
    expect(await fetchPublicIssuer('https://keyless.example', { get })).toEqual({ reachable: false, error: 'the keys at https://keys.keyless.example/jwks: ENOTFOUND' });
    expect(await fetchPublicIssuer(ISSUER, { get })).toEqual({ reachable: true, url: `${ISSUER}/.well-known/openid-configuration`, issuer: ISSUER, jwksUri: `${ISSUER}/keys`, keys: [{ kid: 'k1' }] });
  });
});

describe('AWS checks', () => {
  const w = where(eks());
  it('OIDC provider: missing, wrong audience (ours: init; not ours: the aws command), present', () => {
    expect(oidcProviderCheck(w, PROVIDER_ARN, null, FIX)).toMatchObject({ result: 'fail', fix: FIX, detail: expect.stringMatching(/^There is no IAM OIDC provider/) });
    expect(oidcProviderCheck(w, PROVIDER_ARN, provider(['openshift']), FIX)).toMatchObject({ result: 'fail', fix: FIX, detail: expect.stringMatching(/audiences \(openshift\) do not include sts\.amazonaws\.com/) });
    expect(oidcProviderCheck(w, PROVIDER_ARN, provider(['x'], {}), FIX).fix).toMatch(/^aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \S+ --client-id sts\.amazonaws\.com/);
    expect(oidcProviderCheck(w, PROVIDER_ARN, provider(), FIX)).toEqual({ id: 'oidc-provider::stackrox', check: 'IAM OIDC provider', result: 'pass', detail: `${PROVIDER_ARN} exists with audience sts.amazonaws.com.` });
  });

  it('role and trust: missing role; each expected subject evaluated, naming the failing condition', () => {
    expect(roleCheck('rhacs-sts', ROLE_ARN, null, FIX)).toMatchObject({ result: 'fail', detail: 'The role rhacs-sts does not exist.' });
    expect(trustCheck(w, role(), PROVIDER_ARN, ['central'], FIX).result).toBe('pass');
    const sensorMissing = trustCheck(w, role(), PROVIDER_ARN, ['central', 'sensor'], FIX);
    expect(sensorMissing).toMatchObject({ result: 'fail', fix: FIX });
    expect(sensorMissing.detail).toBe(`The role does not let system:serviceaccount:stackrox:sensor: statement ${trustSid(ISSUER)}: sub is system:serviceaccount:stackrox:sensor but the policy wants system:serviceaccount:stackrox:central.`);
    expect(trustCheck(w, role({ trustPolicy: trust('openshift') }), PROVIDER_ARN, ['central'], FIX).detail).toMatch(/aud is sts\.amazonaws\.com but the policy wants openshift/);
    const theirs = role({ trustPolicy: { Version: '2012-10-17', Statement: [{ ...trust().Statement[0]!, Sid: 'Theirs' }] } });
    expect(trustCheck(w, theirs, PROVIDER_ARN, ['central'], FIX)).toMatchObject({ result: 'pass', detail: expect.stringMatching(/allowed by a statement rhacs-sts did not write/) });
  });

  it('ECR permissions: ours pass; missing actions fail; attached policies make it a warning; a Deny counts', () => {
    expect(permissionsCheck(role(), FIX)).toMatchObject({ result: 'pass', detail: expect.stringMatching(/arn:aws:ecr:\*:111122223333:repository\/\*/) });
    const onlyAuth: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] };
    expect(missingEcrActions(onlyAuth)).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages']);
    expect(missingEcrActions({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] })).toEqual([]);
    expect(missingEcrActions({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: 'arn:aws:ecr:*:1:repository/*' }, { Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:*:1:repository/*' }] })).toEqual(['ecr:GetAuthorizationToken']);
    expect(missingEcrActions({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: '*' }] })).toEqual(['ecr:BatchGetImage']);
    expect(permissionsCheck(role({ inlinePolicies: { 'rhacs-sts-ecr-read': onlyAuth } }), FIX)).toMatchObject({ result: 'fail', detail: expect.stringMatching(/does not grant ecr:BatchCheckLayerAvailability/) });
    expect(permissionsCheck(role({ inlinePolicies: {}, attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly'] }), FIX)).toMatchObject({ result: 'warn' });
    expect(permissionsCheck(role({ inlinePolicies: {} }), FIX)).toMatchObject({ result: 'fail', detail: expect.stringMatching(/no inline policy rhacs-sts-ecr-read/) });
  });

  describe('ECR permissions through the permissions boundary (a role gets only what both allow)', () => {
    const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/rhacs-boundary`;
    const shared = role({ permissionsBoundary: BOUNDARY, inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: '444455556666', region: 'eu-west-1', repositories: ['shared/base'] }) } });
    const doc = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '2012-10-17', Statement });

    it('passes when the boundary covers the scope and the token call', () => {
      const b = doc({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' });
      expect(permissionsCheck(shared, FIX, { arn: BOUNDARY, document: b })).toMatchObject({ result: 'pass', detail: expect.stringMatching(/the permissions boundary arn:aws:iam::111122223333:policy\/rhacs-boundary allows them too\.$/) });
      const scoped = doc({ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }, { Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:eu-west-1:444455556666:repository/shared/*' });
      expect(permissionsCheck(shared, FIX, { arn: BOUNDARY, document: scoped }).result).toBe('pass');
    });

    it('fails, naming the action and resource, when the boundary leaves the registry out or denies', () => {
      const ownAccountOnly = doc({ Effect: 'Allow', Action: 'ecr:*', Resource: [`arn:aws:ecr:*:${ACCOUNT}:repository/*`] });
      const r = permissionsCheck(shared, FIX, { arn: BOUNDARY, document: ownAccountOnly });
      expect(r.result).toBe('fail');
      expect(r.detail).toMatch(/^The inline policy rhacs-sts-ecr-read grants .*, but the permissions boundary arn:aws:iam::111122223333:policy\/rhacs-boundary does not allow ecr:GetAuthorizationToken on \*, ecr:BatchCheckLayerAvailability on arn:aws:ecr:eu-west-1:444455556666:repository\/shared\/base, ecr:BatchGetImage on .* and 4 more: a role gets only what its policies and its boundary both allow/);
      expect(r.fix).toMatch(/^Have the boundary allow ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, .* on \*, arn:aws:ecr:eu-west-1:444455556666:repository\/shared\/base/);
      const denying = doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: 'arn:aws:ecr:*:444455556666:repository/*' });
      expect(permissionsCheck(shared, FIX, { arn: BOUNDARY, document: denying })).toMatchObject({ result: 'fail', detail: expect.stringMatching(/does not allow ecr:BatchGetImage on arn:aws:ecr:eu-west-1:444455556666:repository\/shared\/base \(denied explicitly\):/) });
    });

    it('warns when the boundary cannot be read', () => {
      expect(permissionsCheck(shared, FIX, { arn: BOUNDARY, error: 'AccessDenied' })).toMatchObject({ result: 'warn', detail: expect.stringMatching(/could not be read \(AccessDenied\)/) });
      expect(permissionsCheck(shared, FIX).result).toBe('warn');
    });
  });
});

const eksState = (arn?: string): ComponentState => ({
  serviceAccount: { annotations: arn ? { 'eks.amazonaws.com/role-arn': arn } : {} },
  deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
});
const ocpState = (env: { name: string; value?: string }[], hasTokenMount = true): ComponentState => ({
  serviceAccount: { annotations: {} },
  deployment: { container: 'central', env, hasTokenMount, podTemplateAnnotations: {} },
});
const OUR_ENV = [{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }];

describe('Kubernetes checks', () => {
  it('EKS service account: missing annotation, another role, ours', () => {
    const input = (state: ComponentState) => ({ w: where(eks()), comp: 'central' as const, roleArn: ROLE_ARN, state });
    expect(wiringCheck(input(eksState()), FIX)).toMatchObject({
      check: 'Service account central', result: 'fail',
      fix: `${FIX}   (or: kubectl -n stackrox annotate serviceaccount central eks.amazonaws.com/role-arn=${ROLE_ARN} --overwrite)`,
    });
    expect(wiringCheck(input(eksState(OTHER_ARN)), FIX).detail).toBe(`Service account stackrox/central points at ${OTHER_ARN}, not ${ROLE_ARN}.`);
    expect(wiringCheck(input(eksState(ROLE_ARN)), FIX).result).toBe('pass');
    expect(tokenVolumeCheck(input(eksState(ROLE_ARN)), FIX)).toBeUndefined();
  });

  it('OpenShift env and token volume', () => {
    const input = (state: ComponentState) => ({ w: where(ocp()), comp: 'central' as const, roleArn: ROLE_ARN, state });
    expect(wiringCheck(input(ocpState([])), FIX)).toMatchObject({ check: 'Deployment central env', result: 'fail', detail: 'In container central: AWS_ROLE_ARN is not set; AWS_WEB_IDENTITY_TOKEN_FILE is not set.' });
    expect(wiringCheck(input(ocpState([{ name: 'AWS_ROLE_ARN', value: OTHER_ARN }, OUR_ENV[1]!])), FIX).detail).toBe(`In container central: AWS_ROLE_ARN is ${OTHER_ARN}, not ${ROLE_ARN}.`);
    expect(wiringCheck(input(ocpState(OUR_ENV)), FIX).result).toBe('pass');
    expect(tokenVolumeCheck(input(ocpState(OUR_ENV, false)), FIX)).toMatchObject({ result: 'fail', fix: FIX });
    expect(tokenVolumeCheck(input(ocpState(OUR_ENV)), FIX)?.result).toBe('pass');
  });

  it('operator overlay: only for operator installs; missing is a warning', () => {
    const cluster = (overlays: unknown[]) => eks({ installMethod: 'operator', operatorCrs: { central: { kind: 'Central', name: 'c', overlays } } });
    const input = (c: ClusterFacts) => ({ w: where(c), comp: 'central' as const, roleArn: ROLE_ARN, state: eksState(ROLE_ARN) });
    expect(durabilityCheck(input(eks()), FIX)).toBeUndefined();
    expect(durabilityCheck(input(cluster([])), FIX)?.result).toBe('warn');
    expect(durabilityCheck(input(cluster(operatorOverlays('eks', 'central', ROLE_ARN))), FIX)?.result).toBe('pass');
  });
});

describe('pods restarted', () => {
  const SET = new Date('2025-01-01T10:00:05Z');
  const pod = (over: Partial<PodState> = {}): PodState => ({ name: 'central-abc', startTime: new Date('2025-01-01T10:00:07Z'), ready: true, terminating: false, env: [], tokenMounts: [], ...over });
  const EKS_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
  // What the pod identity webhook injects into the container (its env and the aws-iam-token mount).
  const injected = {
    env: [
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }, { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${EKS_DIR}/token` },
    ],
    tokenMounts: [{ mountPath: EKS_DIR, path: 'token', audience: 'sts.amazonaws.com' }],
  };
  const wl = (pods: PodState[] | null, over: Partial<WorkloadState> = {}): WorkloadState => ({
    rollout: { state: 'done', message: 'rolled out' }, podTemplateAnnotations: {}, pods, ...over,
  });
  // null: no managedFields entry tells when the annotation was set.
  const eksInput = (workload: WorkloadState | null, setAt: Date | null = SET, state = eksState(ROLE_ARN)) =>
    ({ w: where(eks()), comp: 'central' as const, roleArn: ROLE_ARN, state, workload, annotationSetAt: setAt ?? undefined });
  const RESTART = 'kubectl -n stackrox rollout restart deployment/central';

  it('EKS: a pod older than the annotation, without the injection, fails with the restart command', () => {
    const r = podsCheck(eksInput(wl([pod({ startTime: new Date('2025-01-01T10:00:04Z') })])));
    expect(r).toMatchObject({ result: 'fail', fix: RESTART });
    expect(r.detail).toBe('1 pod started before the role annotation was set (2025-01-01T10:00:05Z): central-abc started 2025-01-01T10:00:04Z. EKS injects credentials only when a pod starts, so it runs without the role.');
  });

  it('EKS: injected credentials pass; the same second counts as after; terminating pods are ignored; not ready is a warning', () => {
    expect(podsCheck(eksInput(wl([pod({ startTime: SET, ...injected })])))).toMatchObject({
      result: 'pass',
      detail: `1 pod started after the role annotation was set (2025-01-01T10:00:05Z), with the role injected: AWS_ROLE_ARN=${ROLE_ARN} and a token for sts.amazonaws.com at ${EKS_DIR}/token.`,
    });
    expect(podsCheck(eksInput(wl([pod(injected), pod({ name: 'old', startTime: new Date(0), terminating: true })]))).result).toBe('pass');
    expect(podsCheck(eksInput(wl([pod({ ...injected, ready: false })])))).toMatchObject({ result: 'warn', detail: expect.stringMatching(/central-abc is not ready yet/) });
  });

  it('EKS: a pod started after the annotation without the injection fails: the webhook did not mutate it', () => {
    const r = podsCheck(eksInput(wl([pod()])));
    expect(r).toMatchObject({ result: 'fail', fix: expect.stringMatching(/install amazon-eks-pod-identity-webhook\. Then: kubectl -n stackrox rollout restart deployment\/central$/) });
    expect(r.detail).toBe('Pod central-abc started 2025-01-01T10:00:07Z, after the role annotation was set (2025-01-01T10:00:05Z), but carries no AWS_ROLE_ARN or token: the EKS pod identity webhook did not mutate it, so it runs without the role.');
    // A pod that opted out says so, and the fix is to remove the opt-out.
    const optOut = podsCheck(eksInput(wl([pod({ webhookOptOut: 'the pod has the label eks.amazonaws.com/skip-pod-identity-webhook' })])));
    expect(optOut.detail).toMatch(/did not mutate it \(the pod has the label eks\.amazonaws\.com\/skip-pod-identity-webhook\)/);
    expect(optOut.fix).toBe(`Remove that from the pod template of deployment/central, then: ${RESTART}`);
  });

  it('EKS: without the injection and without a decidable start, it still fails (the pod has no credentials)', () => {
    for (const r of [podsCheck(eksInput(wl([pod()]), null)), podsCheck(eksInput(wl([pod({ startTime: new Date('2025-01-01T10:00:05.900Z') })])))]) {
      expect(r).toMatchObject({ result: 'fail', fix: expect.stringMatching(/^kubectl -n stackrox rollout restart deployment\/central {3}\(if a new pod still lacks AWS_ROLE_ARN/) });
      expect(r.detail).toMatch(/^Pod central-abc carries no AWS_ROLE_ARN or token, so it runs without the role: it started before the role annotation was set, or the EKS pod identity webhook did not mutate it/);
    }
  });

  it('EKS: another role, a Pod Identity association, or a broken token fail; a role from a reference is a warning', () => {
    expect(podsCheck(eksInput(wl([pod({ env: [{ name: 'AWS_ROLE_ARN', value: OTHER_ARN }] })])))).toMatchObject({ result: 'fail', fix: RESTART });
    expect(podsCheck(eksInput(wl([pod(injected)]), null))).toMatchObject({ result: 'pass', detail: expect.stringMatching(/^1 pod runs with the role injected: /) });
    expect(podsCheck(eksInput(wl([pod({ env: [{ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' }] })]))))
      .toMatchObject({ result: 'fail', detail: expect.stringMatching(/EKS Pod Identity association/) });
    const env = injected.env;
    expect(podsCheck(eksInput(wl([pod({ ...injected, tokenMounts: [] })])))).toMatchObject({
      result: 'fail', detail: `Pod central-abc has AWS_ROLE_ARN=${ROLE_ARN} but no projected service-account token is mounted at ${EKS_DIR}/token: the AWS SDK cannot read a web identity token for sts.amazonaws.com.`,
    });
    expect(podsCheck(eksInput(wl([pod({ env, tokenMounts: [{ mountPath: EKS_DIR, path: 'token', audience: 'openshift' }] })]))).detail)
      .toMatch(/the token at \S+ is for audience openshift, not sts\.amazonaws\.com/);
    expect(podsCheck(eksInput(wl([pod({ env: env.filter((e) => e.name !== 'AWS_WEB_IDENTITY_TOKEN_FILE'), tokenMounts: injected.tokenMounts })]))).detail)
      .toMatch(/but no AWS_WEB_IDENTITY_TOKEN_FILE/);
    expect(podsCheck(eksInput(wl([pod({ env: [{ name: 'AWS_ROLE_ARN' }] })]))).result).toBe('warn');
  });

  it('EKS: the token audience follows the service account\'s eks.amazonaws.com/audience annotation', () => {
    const state: ComponentState = { ...eksState(ROLE_ARN), serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN, 'eks.amazonaws.com/audience': 'custom' } } };
    const custom = { env: injected.env, tokenMounts: [{ mountPath: EKS_DIR, path: 'token', audience: 'custom' }] };
    expect(podsCheck(eksInput(wl([pod(custom)]), SET, state)).result).toBe('pass');
    expect(podsCheck(eksInput(wl([pod(injected)]), SET, state)).detail).toMatch(/is for audience sts\.amazonaws\.com, not custom/);
    // …and the service account row fails: AWS accepts only sts.amazonaws.com for this setup.
    expect(wiringCheck({ w: where(eks()), comp: 'central', roleArn: ROLE_ARN, state }, FIX)).toMatchObject({
      result: 'fail', detail: expect.stringMatching(/has eks\.amazonaws\.com\/audience=custom: its pods get tokens for custom/),
      fix: 'kubectl -n stackrox annotate serviceaccount central eks.amazonaws.com/audience-   (then: kubectl -n stackrox rollout restart deployment/central)',
    });
  });

  it('EKS without readable pods: judged by the restartedAt marker and the rollout', () => {
    const noPods = (marker: string | undefined, state: WorkloadState['rollout']['state'] = 'done') =>
      wl(null, { podsError: 'forbidden', rollout: { state, message: 'm' }, podTemplateAnnotations: marker ? { 'kubectl.kubernetes.io/restartedAt': marker } : {} });
    expect(podsCheck(eksInput(noPods('2025-01-01T10:00:05.400Z')))).toMatchObject({ result: 'pass', detail: expect.stringMatching(/the pods cannot be listed \(forbidden\)/) });
    expect(podsCheck(eksInput(noPods('2025-01-01T10:00:01Z')))).toMatchObject({ result: 'fail', fix: 'kubectl -n stackrox rollout restart deployment/central' });
    expect(podsCheck(eksInput(noPods(undefined))).result).toBe('fail');
    expect(podsCheck(eksInput(noPods('2025-01-01T10:00:09Z', 'progressing'))).result).toBe('warn');
    expect(podsCheck(eksInput(noPods('2025-01-01T10:00:09Z', 'failed'))).result).toBe('fail');
  });

  it('not configured: not checked; deployment missing: fail', () => {
    expect(podsCheck(eksInput(wl([pod()]), SET, eksState()))).toMatchObject({ result: 'warn', detail: expect.stringMatching(/^Not checked/) });
    expect(podsCheck(eksInput(null)).result).toBe('fail');
  });

  it('OpenShift: pods carry the env; a pod without it fails; no pods: the rollout decides', () => {
    const input = (workload: WorkloadState) => ({ w: where(ocp()), comp: 'central' as const, roleArn: ROLE_ARN, state: ocpState(OUR_ENV), workload });
    expect(podsCheck(input(wl([pod({ env: OUR_ENV })])))).toMatchObject({ result: 'pass', detail: `1 pod runs with AWS_ROLE_ARN=${ROLE_ARN}.` });
    expect(podsCheck(input(wl([pod({ env: OUR_ENV }), pod({ name: 'central-old' })])))).toMatchObject({ result: 'fail', detail: expect.stringMatching(/1 pod runs without AWS_ROLE_ARN=\S+ \(started before the change\): central-old/) });
    expect(podsCheck(input(wl([])))).toMatchObject({ result: 'pass', detail: expect.stringMatching(/no pods are running/) });
    expect(podsCheck(input(wl([], { rollout: { state: 'progressing', message: '0/1 updated' } }))).result).toBe('warn');
  });
});

describe('the token, checked locally as AWS would', () => {
  const claims = { iss: ISSUER, sub: 'system:serviceaccount:stackrox:central', aud: ['sts.amazonaws.com'] };
  const base = { cluster: eks(), claims, kid: 'k1', apiKeys: [{ kid: 'k1' }], provider: provider(), providerArn: PROVIDER_ARN, role: role() };

  it('passes a good token and names each thing AWS would refuse', () => {
    expect(localExchangeFailures(base)).toEqual([]);
    expect(localExchangeFailures({ ...base, provider: null })).toEqual([`no IAM OIDC provider exists for ${ISSUER}`]);
    expect(localExchangeFailures({ ...base, provider: provider(['openshift']) })).toEqual(["the token's aud is sts.amazonaws.com, but the OIDC provider accepts only openshift"]);
    expect(localExchangeFailures({ ...base, claims: { ...claims, aud: ['openshift'] }, provider: provider(['sts.amazonaws.com', 'openshift']) }))
      .toEqual([`the trust policy refuses it: statement ${trustSid(ISSUER)}: aud is openshift but the policy wants sts.amazonaws.com`]);
    expect(localExchangeFailures({ ...base, claims: { ...claims, iss: 'https://kubernetes.default.svc' } })[0]).toBe(`the token's iss is https://kubernetes.default.svc, but the OIDC provider is for ${ISSUER}`);
    expect(localExchangeFailures({ ...base, signatureVerified: false })).toEqual(["the token's signature does not verify with the cluster's JWKS key k1"]);
    expect(localExchangeFailures({ ...base, publicIssuer: { reachable: true, url: 'u', issuer: ISSUER, jwksUri: 'https://j', keys: [{ kid: 'old' }] } }))
      .toEqual(["the token's signing key k1 is not published in the public JWKS https://j"]);
    expect(localExchangeFailures({ ...base, publicIssuer: { reachable: false, error: 'ENOTFOUND' } })).toEqual([]);
    expect(localExchangeFailures({ ...base, role: null })).toEqual(['the role does not exist']);
  });
});

function jwt(key: KeyObject, header: Record<string, string>, payload: object): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const data = Buffer.from(`${h}.${p}`);
  const sig = header.alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
  return `${h}.${p}.${sig.toString('base64url')}`;
}

describe('token signatures', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaJwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'r1' };
  const ecJwk = { ...(ec.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'e1' };
  const payload = { iss: ISSUER, sub: 'system:serviceaccount:stackrox:central', aud: ['sts.amazonaws.com'] };

  it('verifies RS256 and ES256 with the published key; a tampered token or another key does not', () => {
    const t = jwt(rsa.privateKey, { alg: 'RS256', kid: 'r1' }, payload);
    expect(decodeJwtHeader(t)).toEqual({ alg: 'RS256', kid: 'r1' });
    expect(verifiesSignature(t, rsaJwk)).toBe(true);
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'system:serviceaccount:x:y' })).toString('base64url')}.${s}`;
    expect(verifiesSignature(forged, rsaJwk)).toBe(false);
    const e = jwt(ec.privateKey, { alg: 'ES256', kid: 'e1' }, payload);
    expect(verifiesSignature(e, ecJwk)).toBe(true);
    expect(verifiesSignature(e, rsaJwk)).toBe(false);
    expect(verifiesSignature(jwt(rsa.privateKey, { alg: 'HS256' }, payload), rsaJwk)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('pointedRoleArn: the one role the cluster points at, or none when they disagree', () => {
    const c = (central: ComponentState, sensor: ComponentState) => eks({ current: { central, sensor } });
    expect(pointedRoleArn([c(eksState(ROLE_ARN), eksState(ROLE_ARN))])).toBe(ROLE_ARN);
    expect(pointedRoleArn([c(eksState(ROLE_ARN), eksState(OTHER_ARN))])).toBeUndefined();
    expect(pointedRoleArn([ocp({ components: ['central'], current: { central: ocpState(OUR_ENV) } })])).toBe(ROLE_ARN);
  });

  it('initCommand repeats the flags that name the setup', () => {
    const o = parseOptions('verify', { namespace: 'rhacs', roleName: 'r', context: 'prod' }, {});
    expect(initCommand(o, { delegated: true })).toBe('rhacs-sts init --context prod --namespace rhacs --role-name r --delegated-scanning');
    expect(initCommand(parseOptions('verify', {}, {}), { roleName: 'found' })).toBe('rhacs-sts init --role-name found');
  });
});

// --- runChecks over fake sessions ----------------------------------------------------------

describe('runChecks', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'k1', alg: 'RS256', use: 'sig' };
  const tokens: string[] = [];
  const fakeKube = (over: Partial<KubeSession> = {}): KubeSession => ({
    contextName: 'ctx', server: 'https://x',
    discover: async () => { throw new Error('unused'); },
    apply: async () => false,
    waitForRollouts: async () => undefined,
    issuerDiscovery: async () => ({ issuer: ISSUER, jwksUri: `${ISSUER}/keys`, keys: [jwk] }),
    requestToken: async (namespace, sa, audience) => {
      const t = jwt(rsa.privateKey, { alg: 'RS256', kid: 'k1' }, { iss: ISSUER, sub: `system:serviceaccount:${namespace}:${sa}`, aud: [audience] });
      tokens.push(t);
      return t;
    },
    pods: async () => ({
      rollout: { state: 'done', message: 'ok' }, podTemplateAnnotations: {},
      pods: [{
        name: 'central-1', startTime: new Date('2025-01-01T10:00:09Z'), ready: true, terminating: false,
        env: [{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' }],
        tokenMounts: [{ mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', path: 'token', audience: 'sts.amazonaws.com' }],
      }],
    }),
    annotationSetAt: async () => new Date('2025-01-01T10:00:05Z'),
    ...over,
  });
  const found = (r: RoleState | null = role(), p: OidcProviderState | null = provider()): Discovered => ({
    facts: { partition: 'aws', accountId: ACCOUNT, region: 'eu-west-1', offline: false, clusters: [eks({ components: ['central'], current: { central: eksState(ROLE_ARN) } })] },
    decisions: { roleName: 'rhacs-sts', rolePath: '/', ecr: { registryId: ACCOUNT, repositories: [] }, delegatedScanning: false, restart: true, adoptRole: false, adoptOidcProvider: false, thumbprints: {} },
    aws: { oidcProviders: { [ISSUER]: p }, role: r },
    warnings: [],
  });
  const sessions = (kube = fakeKube()): Sessions => ({ aws: { readState: async () => found().aws } as unknown as AwsSession, kube: new Map([['', kube]]) });
  const options = parseOptions('verify', { namespace: 'stackrox' }, {});
  const deps = (seen: string[] = []) => ({
    log: () => undefined,
    fetchPublicIssuer: async () => ({ reachable: true as const, url: `${ISSUER}/.well-known/openid-configuration`, issuer: ISSUER, jwksUri: `${ISSUER}/keys`, keys: [jwk] }),
    exchange: async (i: { roleArn: string; webIdentityToken: string }) => {
      seen.push(i.webIdentityToken);
      return {
        assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/rhacs-sts/rhacs-sts-verify`,
        ecr: { ok: true as const, reads: [{ repository: 'team/app', ok: true as const, calls: ['DescribeRepositories', 'ListImages', 'BatchGetImage'], image: '1.0' }] },
      };
    },
  });

  it('every check passes; the exchange gets the token, the report never contains it', async () => {
    const seen: string[] = [];
    const report = await runChecks(options, sessions(), found(), deps(seen));
    expect(report.checks.filter((c) => c.result !== 'pass')).toEqual([]);
    expect(report).toMatchObject({ ok: true, summary: { pass: report.checks.length, warn: 0, fail: 0 }, role: { arn: ROLE_ARN, exists: true } });
    expect(seen).toHaveLength(1);
    const json = verifyToJson(report);
    const text = renderVerifyText(report, new Chalk({ level: 0 }));
    for (const t of tokens) {
      expect(json).not.toContain(t);
      expect(text).not.toContain(t);
    }
    expect(JSON.parse(json)).toMatchObject({ command: 'verify', ok: true });
    expect(text).toMatch(/^CHECK {2,}RESULT {2}DETAIL$/m);
    expect(text).toMatch(/^End to end central +pass +Exchanged a token for system:serviceaccount:stackrox:central \(aud sts\.amazonaws\.com\)/m);
    expect(report.checks.find((c) => c.check === 'End to end central')!.detail).toMatch(/; read team\/app \(DescribeRepositories, ListImages, BatchGetImage of 1\.0\) in registry 111122223333\.$/);
    expect(text).toMatch(/\d+ passed: the chain works\.$/);
  });

  it('a local refusal skips the exchange and names the condition; failures show their fix in the table', async () => {
    const seen: string[] = [];
    const report = await runChecks(options, sessions(), found(role({ trustPolicy: trust('openshift') })), deps(seen));
    expect(seen).toEqual([]);
    expect(report.ok).toBe(false);
    const e2e = report.checks.find((c) => c.check === 'End to end central')!;
    expect(e2e).toMatchObject({ result: 'fail', fix: 'rhacs-sts init --namespace stackrox' });
    expect(e2e.detail).toMatch(/aud is sts\.amazonaws\.com but the policy wants openshift/);
    const text = renderVerifyText(report, new Chalk({ level: 0 }));
    expect(text).toMatch(/^Trust policy +FAIL +The role does not let/m);
    expect(text).toMatch(/^ +fix: rhacs-sts init --namespace stackrox$/m);
    expect(text).toMatch(/2 failed\.$/);
  });

  it('a TokenRequest refused by RBAC fails the end-to-end check, naming the fix and --skip-exchange', async () => {
    const kube = fakeKube({ requestToken: async () => { throw Object.assign(new Error('Kubernetes denied the request'), {}); } });
    const report = await runChecks(options, sessions(kube), found(), deps());
    expect(report.checks.find((c) => c.check === 'End to end central')).toMatchObject({
      result: 'fail', detail: expect.stringMatching(/Could not request a token for system:serviceaccount:stackrox:central \(audience sts\.amazonaws\.com\)/),
      fix: expect.stringMatching(/--skip-exchange/),
    });
  });

  it('reads the registry with the role\'s credentials: a refused read fails, across accounts naming the repository-policy statement', async () => {
    const probes: unknown[] = [];
    const withReads = (reads: unknown) => ({
      ...deps(),
      exchange: async (i: { probe?: unknown }) => {
        probes.push(i.probe);
        return { assumedRoleArn: 'arn:x', ecr: { ok: true as const, reads } } as never;
      },
    });
    // Same account, every repository: the first one listed is read.
    await runChecks(options, sessions(), found(), withReads([]));
    expect(probes.pop()).toEqual({ registryId: ACCOUNT, region: 'eu-west-1', repositories: [], list: true });

    // The role's own policy names a repository in another account: that one is read (no flags needed).
    const cross = role({ inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: '444455556666', region: 'us-east-1', repositories: ['shared/base', 'team/*'] }) } });
    const denied = 'AccessDeniedException: User: arn:x is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:us-east-1:444455556666:repository/shared/base because no resource-based policy allows the ecr:DescribeRepositories action';
    const r = await runChecks(options, sessions(), found(cross), withReads([{ repository: 'shared/base', ok: false, action: 'ecr:DescribeRepositories', error: denied }]));
    expect(probes.pop()).toEqual({ registryId: '444455556666', region: 'us-east-1', repositories: ['shared/base'], list: false });
    const e2e = r.checks.find((c) => c.check === 'End to end central')!;
    expect(e2e).toMatchObject({ result: 'fail', detail: expect.stringMatching(/ecr:GetAuthorizationToken succeeded, but reading repository shared\/base in registry 444455556666 \(us-east-1\) failed: ecr:DescribeRepositories: AccessDeniedException/) });
    expect(e2e.fix).toMatch(/^The owner of registry 444455556666 must add this statement to the repository policy of shared\/base: \{"Sid":"RhacsStsRead[0-9a-f]{8}","Effect":"Allow","Principal":\{"AWS":"arn:aws:iam::111122223333:role\/rhacs-sts"\},"Action":\["ecr:BatchCheckLayerAvailability",/);

    // Another account, only prefixes: nothing can be read, so nothing is proven.
    const prefixes = role({ inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: '444455556666', repositories: ['team/*'] }) } });
    const w = (await runChecks(options, sessions(), found(prefixes), withReads(undefined))).checks.find((c) => c.check === 'End to end central')!;
    expect(probes.pop()).toEqual({ registryId: '444455556666', region: 'eu-west-1', repositories: [], list: false });
    expect(w).toMatchObject({ result: 'warn', detail: expect.stringMatching(/no repository was read: ECR does not list another account's repositories/), fix: 'Name a repository for verify to read: rhacs-sts verify --ecr-repository <name> (with the other flags as before)' });

    // --ecr-repository names one: it is read in the registry the role's policy names.
    await runChecks(parseOptions('verify', { namespace: 'stackrox', ecrRepository: ['team/app'] }, {}), sessions(), found(prefixes), withReads([]));
    expect(probes.pop()).toEqual({ registryId: '444455556666', region: 'eu-west-1', repositories: ['team/app'], list: false });
  });

  it('AWS refusing the exchange after the local checks passed, and ECR failing, are failures', async () => {
    const refuse = { ...deps(), exchange: async () => { throw Object.assign(new Error('wrapped'), { cause: { name: 'InvalidIdentityToken', message: "Couldn't retrieve verification key" } }); } };
    const r1 = await runChecks(options, sessions(), found(), refuse);
    expect(r1.checks.find((c) => c.check === 'End to end central')!.detail).toMatch(/passed the local checks, but sts:AssumeRoleWithWebIdentity failed: InvalidIdentityToken: Couldn't retrieve verification key/);
    const noEcr = { ...deps(), exchange: async () => ({ assumedRoleArn: 'arn:x', ecr: { ok: false as const, error: 'AccessDenied' } }) };
    const r2 = await runChecks(options, sessions(), found(), noEcr);
    expect(r2.checks.find((c) => c.check === 'End to end central')).toMatchObject({ result: 'fail', detail: expect.stringMatching(/ecr:GetAuthorizationToken failed: AccessDenied/) });
  });
});
