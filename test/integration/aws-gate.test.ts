// The AWS gate in front of moto bites where AWS bites: STS checks the token (issuer, reachability,
// signature, expiry, audience) and the trust policy; IAM enforces the trust-policy size quota and
// implements the OIDC provider client-ID calls; ECR authorizes role credentials against the role's
// policies, its permissions boundary and (cross-account) the repository policy. Each test here
// fails against a proxy that only forwards to moto.
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, OpenidApi, type KubeConfig } from '@kubernetes/client-node';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetAccountSummaryCommand,
  GetOpenIDConnectProviderCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { REGISTRY_ACCOUNT_ID, SANDBOX_ACCOUNT_ID } from '../sandbox/aws/ecr-seed.js';
import { ensureNamespace, uniqueNamespace } from '../sandbox/fixtures.js';
import { gateDecisions, gateMark, kubeConfigFor, setTrustPolicyQuota } from '../sandbox/observe.js';
import { iamClient } from './verify-support.js';

const sb = useSandbox();
const region = sb.awsEnv.AWS_REGION;
const eks = sb.clusters.eks!;
const hostPath = (issuer: string) => issuer.replace(/^https:\/\//, '');
const providerArn = (issuer: string) => `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:oidc-provider/${hostPath(issuer)}`;
const THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string, audience: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  const tr = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [audience], expirationSeconds: 3600 } } });
  return tr.status!.token;
}

/** A token signed with the cluster's real service-account key (for claims no API server would mint). */
async function forgedToken(claims: Record<string, unknown>): Promise<string> {
  // Typed as a string by the client, but resolves to the parsed key set.
  const jwks = (await kubeConfigFor(sb, 'eks').makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset()) as unknown as { keys: { kid: string }[] };
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', kid: jwks.keys[0]!.kid })}.${enc(claims)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(readFileSync(join(sb.certDir, 'eks-sa.key')));
  return `${input}.${sig.toString('base64url')}`;
}

function trustPolicy(issuer: string, subjects: string[], audience = 'sts.amazonaws.com') {
  const hp = hostPath(issuer);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn(issuer) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${hp}:sub`]: subjects, [`${hp}:aud`]: audience } },
      },
    ],
  };
}

const ecrRead = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:GetDownloadUrlForLayer'],
      Resource: [`arn:aws:ecr:${region}:${SANDBOX_ACCOUNT_ID}:repository/rhacs-sandbox/app`, `arn:aws:ecr:${region}:${REGISTRY_ACCOUNT_ID}:repository/shared/*`],
    },
  ],
};

const sts = () => new STSClient({ region, endpoint: sb.awsEndpoint, maxAttempts: 1 });

async function assume(roleArn: string, token: string) {
  return sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'gate-test', WebIdentityToken: token }));
}

/** The error an AWS call fails with (code, HTTP status, message); fails the test if it succeeds. */
async function failure(p: Promise<unknown>): Promise<{ code: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    // Query-protocol errors keep AWS's code in `Code` (the SDK's `name` is its exception class).
    const e = err as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: e.Code ?? e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the AWS call to fail, it succeeded');
}

describe('the AWS gate', () => {
  let iam: IAMClient;
  let kc: KubeConfig;
  let ns: string;
  let roleArn: string;
  let centralToken: string;

  beforeAll(async () => {
    iam = iamClient(sb);
    kc = kubeConfigFor(sb, 'eks');
    ns = uniqueNamespace('gate');
    await ensureNamespace(kc, ns);
    centralToken = await serviceAccountToken(kc, ns, 'central', 'sts.amazonaws.com');
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: eks.issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [THUMBPRINT] }));
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: 'gate-central', AssumeRolePolicyDocument: JSON.stringify(trustPolicy(eks.issuer, [`system:serviceaccount:${ns}:central`])) }),
    );
    roleArn = role.Role!.Arn!;
    await iam.send(new PutRolePolicyCommand({ RoleName: 'gate-central', PolicyName: 'ecr-read', PolicyDocument: JSON.stringify(ecrRead) }));
  });

  describe('STS AssumeRoleWithWebIdentity', () => {
    it('issues credentials for a real token the trust policy allows, and records the decision', async () => {
      const mark = await gateMark(sb);
      const out = await assume(roleArn, centralToken);
      expect(out.Credentials?.AccessKeyId).toBeTruthy();
      expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/gate-central/gate-test`);
      expect(await gateDecisions(sb, mark)).toEqual([
        expect.objectContaining({ action: 'sts:AssumeRoleWithWebIdentity', role: roleArn, principal: `system:serviceaccount:${ns}:central`, allowed: true }),
      ]);
    });

    it('refuses a token whose audience is not a client ID of the provider', async () => {
      const token = await serviceAccountToken(kc, ns, 'central', 'https://kubernetes.default.svc');
      const mark = await gateMark(sb);
      const err = await failure(assume(roleArn, token));
      expect(err).toMatchObject({ code: 'InvalidIdentityToken', status: 400, message: 'Incorrect token audience' });
      expect(await gateDecisions(sb, mark)).toEqual([expect.objectContaining({ allowed: false, code: 'InvalidIdentityToken' })]);
    });

    it('refuses a token from an issuer that has no IAM OIDC provider', async () => {
      const openshiftToken = await serviceAccountToken(kubeConfigFor(sb, 'openshift'), 'default', `gate-${Date.now().toString(36)}`, 'sts.amazonaws.com');
      const err = await failure(assume(roleArn, openshiftToken));
      expect(err.code).toBe('InvalidIdentityToken');
      expect(err.message).toBe(`No OpenIDConnect provider found in your account for ${sb.clusters.openshift!.issuer}`);
    });

    it('cannot reach an issuer that has a provider but nothing serving its discovery document', async () => {
      const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0000000000000000000000000000DEAD';
      await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [THUMBPRINT] }));
      const now = Math.floor(Date.now() / 1000);
      const token = await forgedToken({ iss: issuer, sub: `system:serviceaccount:${ns}:central`, aud: ['sts.amazonaws.com'], iat: now, nbf: now, exp: now + 600 });
      const err = await failure(assume(roleArn, token));
      expect(err).toMatchObject({ code: 'IDPCommunicationError', status: 400 });
    });

    it('refuses a token whose signature does not verify, and an expired one', async () => {
      const [h, p, s] = centralToken.split('.') as [string, string, string];
      const flipped = Buffer.from(s, 'base64url');
      flipped[10] = flipped[10]! ^ 0xff;
      expect((await failure(assume(roleArn, `${h}.${p}.${flipped.toString('base64url')}`))).code).toBe('InvalidIdentityToken');

      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const expired = await forgedToken({ ...claims, iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_003_600 });
      const err = await failure(assume(roleArn, expired));
      expect(err.code).toBe('ExpiredTokenException');
      expect(err.message).toMatch(/^Token expired: current date\/time .* must be before the expiration date\/time 2023-11-14T23:13:20.000Z$/);
    });

    it('refuses a subject the trust policy does not name (AccessDenied, 403)', async () => {
      const token = await serviceAccountToken(kc, ns, 'sensor', 'sts.amazonaws.com');
      const mark = await gateMark(sb);
      const err = await failure(assume(roleArn, token));
      expect(err).toMatchObject({ code: 'AccessDenied', status: 403, message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' });
      const [d] = await gateDecisions(sb, mark);
      expect(d).toMatchObject({ allowed: false, code: 'AccessDenied', principal: `system:serviceaccount:${ns}:sensor`, role: roleArn });
      expect(d!.reason).toContain('trust policy');
    });
  });

  describe('IAM', () => {
    /** A trust policy with exactly `size` non-whitespace characters, padded with whitespace too. */
    function trustOfSize(size: number): string {
      const base = JSON.stringify(trustPolicy(eks.issuer, ['x']));
      const doc = base.replace('"x"', `"${'x'.repeat(size - base.length + 1)}"`);
      expect(doc.length).toBe(size);
      return doc.replace(/,/g, ',\n    ');
    }

    it('refuses a trust policy over 2,048 non-whitespace characters (LimitExceeded, 409) and reports the quota', async () => {
      const summary = await iam.send(new GetAccountSummaryCommand({}));
      expect(summary.SummaryMap?.AssumeRolePolicySizeQuota).toBe(2048);

      await iam.send(new CreateRoleCommand({ RoleName: 'gate-at-quota', AssumeRolePolicyDocument: trustOfSize(2048) }));
      const err = await failure(iam.send(new CreateRoleCommand({ RoleName: 'gate-over-quota', AssumeRolePolicyDocument: trustOfSize(2049) })));
      expect(err).toMatchObject({ code: 'LimitExceeded', status: 409, message: 'Cannot exceed quota for ACLSizePerRole: 2048' });
      const upd = await failure(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'gate-at-quota', PolicyDocument: trustOfSize(2049) })));
      expect(upd).toMatchObject({ code: 'LimitExceeded', status: 409 });
    });

    it('applies a raised quota and GetAccountSummary reports it', async () => {
      await setTrustPolicyQuota(sb, 4096);
      try {
        expect((await iam.send(new GetAccountSummaryCommand({}))).SummaryMap?.AssumeRolePolicySizeQuota).toBe(4096);
        await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'gate-at-quota', PolicyDocument: trustOfSize(4000) }));
      } finally {
        await setTrustPolicyQuota(sb, 2048);
      }
    });

    it('adds and removes OIDC provider client IDs, as GetOpenIDConnectProvider and the STS audience check see them', async () => {
      const arn = providerArn(eks.issuer);
      const openshiftAud = await serviceAccountToken(kc, ns, 'central', 'openshift');
      expect((await failure(assume(roleArn, openshiftAud))).message).toBe('Incorrect token audience');

      await iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'openshift' }));
      await iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'openshift' })); // idempotent
      expect((await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).ClientIDList).toEqual(['sts.amazonaws.com', 'openshift']);
      // The audience is accepted now; the trust policy (aud sts.amazonaws.com) still refuses it.
      expect((await failure(assume(roleArn, openshiftAud))).code).toBe('AccessDenied');

      await iam.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'openshift' }));
      expect((await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).ClientIDList).toEqual(['sts.amazonaws.com']);
      expect((await failure(assume(roleArn, openshiftAud))).message).toBe('Incorrect token audience');

      const missing = `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:oidc-provider/example.com/none`;
      expect(await failure(iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: missing, ClientID: 'a' })))).toMatchObject({
        code: 'NoSuchEntity',
        status: 404,
      });
      expect((await failure(iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: 'not-an-arn-at-all-really', ClientID: 'a' })))).code).toBe(
        'InvalidInput',
      );
    });
  });

  describe('ECR with the role credentials', () => {
    let ecr: ECRClient;
    let assumedArn: string;

    beforeAll(async () => {
      const out = await assume(roleArn, centralToken);
      const c = out.Credentials!;
      assumedArn = out.AssumedRoleUser!.Arn!;
      ecr = new ECRClient({
        region,
        endpoint: sb.awsEndpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken },
      });
    });

    it('allows what the role policy grants', async () => {
      expect((await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.length).toBe(1);
      const images = await ecr.send(new DescribeImagesCommand({ repositoryName: 'rhacs-sandbox/app' }));
      expect(images.imageDetails?.flatMap((d) => d.imageTags ?? []).sort()).toEqual(['1.0', '1.1']);
    });

    it('refuses a repository outside the role policy (AccessDeniedException)', async () => {
      const mark = await gateMark(sb);
      const err = await failure(ecr.send(new DescribeImagesCommand({ repositoryName: 'rhacs-sandbox/tools' })));
      const resource = `arn:aws:ecr:${region}:${SANDBOX_ACCOUNT_ID}:repository/rhacs-sandbox/tools`;
      expect(err).toMatchObject({
        code: 'AccessDeniedException',
        status: 400,
        message: `User: ${assumedArn} is not authorized to perform: ecr:DescribeImages on resource: ${resource} because no identity-based policy allows the ecr:DescribeImages action`,
      });
      expect(await gateDecisions(sb, mark)).toEqual([
        expect.objectContaining({ action: 'ecr:DescribeImages', role: roleArn, resource, allowed: false, code: 'AccessDeniedException' }),
      ]);
    });

    it('refuses another account\'s repository without a repository policy, allows it with one', async () => {
      const shared = { registryId: REGISTRY_ACCOUNT_ID, repositoryName: 'shared/base' };
      const denied = await failure(ecr.send(new DescribeImagesCommand(shared)));
      expect(denied.code).toBe('AccessDeniedException');
      expect(denied.message).toContain('because no resource-based policy allows the ecr:DescribeImages action');
      expect((await failure(ecr.send(new DescribeImagesCommand({ ...shared, repositoryName: 'shared/locked' })))).code).toBe('AccessDeniedException');

      // The registry account's admin grants the sandbox account read access (moto maps the assumed
      // role's keys to that account).
      const admin = await new STSClient({ region, endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${REGISTRY_ACCOUNT_ID}:role/registry-admin`, RoleSessionName: 'seed' }),
      );
      const registry = new ECRClient({
        region,
        endpoint: sb.awsEndpoint,
        credentials: { accessKeyId: admin.Credentials!.AccessKeyId!, secretAccessKey: admin.Credentials!.SecretAccessKey!, sessionToken: admin.Credentials!.SessionToken },
      });
      await registry.send(
        new SetRepositoryPolicyCommand({
          repositoryName: 'shared/base',
          policyText: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:root` }, Action: ['ecr:DescribeImages', 'ecr:BatchGetImage'] }],
          }),
        }),
      );
      const images = await ecr.send(new DescribeImagesCommand(shared));
      expect(images.imageDetails?.flatMap((d) => d.imageTags ?? []).sort()).toEqual(['9.4', 'latest']);
      expect(images.imageDetails?.[0]?.registryId).toBe(REGISTRY_ACCOUNT_ID);
    });

    it('applies the role\'s permissions boundary', async () => {
      const boundary = await iam.send(
        new CreatePolicyCommand({
          PolicyName: 'gate-boundary',
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage'], Resource: '*' }] }),
        }),
      );
      await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'gate-central', PermissionsBoundary: boundary.Policy!.Arn }));
      const out = await ecr.send(new BatchGetImageCommand({ repositoryName: 'rhacs-sandbox/app', imageIds: [{ imageTag: '1.0' }] }));
      expect(out.images?.length).toBe(1);
      const err = await failure(ecr.send(new DescribeImagesCommand({ repositoryName: 'rhacs-sandbox/app' })));
      expect(err.code).toBe('AccessDeniedException');
      expect(err.message).toContain('because no permissions boundary allows the ecr:DescribeImages action');
    });
  });
});
