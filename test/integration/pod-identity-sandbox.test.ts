// The sandbox's EKS Pod Identity pieces, against the real servers behind them: the EKS pod identity
// association API at the AWS gate (shapes and errors from the EKS service model; clusters are moto's
// EKS clusters), the webhook stand-in's injection for an associated service account, and the Pod
// Identity Agent stand-in → EKS Auth, which checks the token with the cluster's API server, the
// association and the role's trust policy (service principal, sts:AssumeRole + sts:TagSession,
// aws:SourceAccount / aws:SourceArn) before moto issues credentials that ECR then checks.
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { ensureNamespace, POD_IDENTITY_AGENT, uniqueNamespace } from '../sandbox/fixtures.js';
import { irsaMark, irsaMutations, POD_IDENTITY_CREDENTIALS_URI, POD_IDENTITY_TOKEN_FILE } from '../sandbox/aws/irsa-webhook.js';
import { assumeRoleForPodIdentity } from '../sandbox/aws/pod-identity-agent.js';
import { clusterInfo, gateDecisions, gateMark, kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const eksInfo = clusterInfo(sb, 'eks');
const region = eksInfo.region;
const kc = kubeConfigFor(sb, 'eks');
const core = kc.makeApiClient(CoreV1Api);
const admin = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const eks = new EKSClient({ region, endpoint: sb.awsEndpoint, credentials: admin, maxAttempts: 1 });
const iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: admin, maxAttempts: 1 });
const clusterArn = `arn:aws:eks:${region}:${sb.accountId}:cluster/eks`;

const podIdentityTrust = (over: { actions?: string[]; principal?: string; account?: string; sourceArn?: string } = {}) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: over.principal ?? 'pods.eks.amazonaws.com' },
        Action: over.actions ?? ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': over.account ?? sb.accountId },
          ArnLike: { 'aws:SourceArn': over.sourceArn ?? `arn:aws:eks:*:${sb.accountId}:cluster/*` },
        },
      },
    ],
  });

const ECR_AUTH = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] });

async function role(name: string, trust = podIdentityTrust()): Promise<string> {
  const out = await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'ecr', PolicyDocument: ECR_AUTH }));
  return out.Role!.Arn!;
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

/** A running pod (kwok) of `sa` in `ns`, and a token for it as the kubelet projects it (audience, bound to the pod). */
async function podWithToken(ns: string, sa: string, audience = 'pods.eks.amazonaws.com', bound = true): Promise<{ pod: V1Pod; token: string }> {
  const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { generateName: `${sa}-` }, spec: { serviceAccountName: sa, containers: [{ name: 'c', image: 'app:1' }] } } });
  const tr = await core.createNamespacedServiceAccountToken({
    name: sa,
    namespace: ns,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: [audience],
        expirationSeconds: 3600,
        ...(bound ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! } } : {}),
      },
    },
  });
  return { pod, token: tr.status!.token! };
}

describe('EKS pod identity associations at the AWS gate', () => {
  it('serves the EKS API shapes and errors for moto\'s EKS clusters', async () => {
    const cluster = await eks.send(new DescribeClusterCommand({ name: 'eks' }));
    expect(cluster.cluster?.arn).toBe(clusterArn);
    expect(cluster.cluster?.identity?.oidc?.issuer).toBe(eksInfo.issuer);

    const roleArn = `arn:aws:iam::${sb.accountId}:role/pia-shapes`;
    const ns = uniqueNamespace('pia');
    const created = await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'central', roleArn, tags: { 'rhacs-sts/managed': 'true' } }));
    const a = created.association!;
    expect(a.associationId).toMatch(/^a-[a-z0-9]{17}$/);
    expect(a.associationArn).toBe(`arn:aws:eks:${region}:${sb.accountId}:podidentityassociation/eks/${a.associationId}`);
    expect(a).toMatchObject({ clusterName: 'eks', namespace: ns, serviceAccount: 'central', roleArn, tags: { 'rhacs-sts/managed': 'true' } });
    expect(a.createdAt).toBeInstanceOf(Date);

    // One association per cluster, namespace and service account.
    const dup = await errorOf(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'central', roleArn })));
    expect(dup).toMatchObject({ name: 'ResourceInUseException', status: 409 });
    expect(dup.message).toContain(a.associationId);
    // Unknown cluster, bad role ARN, bad tags, a missing required member.
    expect(await errorOf(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'nope', namespace: ns, serviceAccount: 'x', roleArn })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(await errorOf(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'x', roleArn: 'not-an-arn' })))).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(await errorOf(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'x', roleArn, tags: { ['k'.repeat(129)]: 'v' } })))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await errorOf(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: undefined as unknown as string, roleArn })))).toMatchObject({ name: 'InvalidParameterException' });

    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'sensor', roleArn }));
    const listed = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns }));
    expect(listed.associations?.map((x) => x.serviceAccount).sort()).toEqual(['central', 'sensor']);
    expect(listed.associations?.[0]).not.toHaveProperty('roleArn');
    const one = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'sensor' }));
    expect(one.associations).toHaveLength(1);
    const page = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns, maxResults: 1 }));
    expect(page.associations).toHaveLength(1);
    const rest = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', namespace: ns, maxResults: 1, nextToken: page.nextToken }));
    expect(rest.associations).toHaveLength(1);
    expect(rest.nextToken).toBeUndefined();
    expect(await errorOf(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'eks', maxResults: 101 })))).toMatchObject({ name: 'InvalidParameterException' });

    const other = `arn:aws:iam::${sb.accountId}:role/pia-other`;
    const updated = await eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: 'eks', associationId: a.associationId, roleArn: other }));
    expect(updated.association?.roleArn).toBe(other);
    expect((await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'eks', associationId: a.associationId }))).association?.roleArn).toBe(other);

    await eks.send(new TagResourceCommand({ resourceArn: a.associationArn, tags: { extra: '1' } }));
    expect((await eks.send(new ListTagsForResourceCommand({ resourceArn: a.associationArn }))).tags).toEqual({ 'rhacs-sts/managed': 'true', extra: '1' });
    await eks.send(new UntagResourceCommand({ resourceArn: a.associationArn, tagKeys: ['extra'] }));
    expect((await eks.send(new ListTagsForResourceCommand({ resourceArn: a.associationArn }))).tags).toEqual({ 'rhacs-sts/managed': 'true' });

    const deleted = await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'eks', associationId: a.associationId }));
    expect(deleted.association?.associationId).toBe(a.associationId);
    expect(await errorOf(eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'eks', associationId: a.associationId })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('Pod Identity on the EKS cluster', () => {
  const ns = uniqueNamespace('podid');
  beforeAll(async () => {
    await ensureNamespace(kc, ns);
    for (const sa of ['app', 'other', 'unassociated']) await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
  });

  it('has the agent add-on\'s DaemonSet', async () => {
    const ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet(POD_IDENTITY_AGENT);
    expect(ds.status?.numberReady).toBeGreaterThan(0);
    expect(sb.podIdentityAgents?.eks).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials$/);
  });

  it('injects the container credentials env and token volume for an associated service account only', async () => {
    const roleArn = await role('podid-inject');
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'app', roleArn }));
    const m = irsaMark(sb, 'eks');
    const { pod } = await podWithToken(ns, 'app');
    const env = pod.spec!.containers[0]!.env ?? [];
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_CREDENTIALS_URI },
        { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: POD_IDENTITY_TOKEN_FILE },
        { name: 'AWS_REGION', value: region },
      ]),
    );
    expect(env.map((e) => e.name)).not.toContain('AWS_ROLE_ARN');
    const vol = pod.spec!.volumes!.find((v) => v.name === 'eks-pod-identity-token');
    expect(vol?.projected?.sources?.[0]?.serviceAccountToken).toEqual({ audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' });
    expect(pod.spec!.containers[0]!.volumeMounts).toEqual(expect.arrayContaining([{ name: 'eks-pod-identity-token', mountPath: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount', readOnly: true }]));
    const rec = irsaMutations(sb, 'eks', m, ns).find((r) => r.serviceAccount === 'app' && !r.dryRun);
    expect(rec).toMatchObject({ mutated: true, podIdentityRoleArn: roleArn });

    const plain = await core.createNamespacedPod({ namespace: ns, body: { metadata: { generateName: 'plain-' }, spec: { serviceAccountName: 'unassociated', containers: [{ name: 'c', image: 'app:1' }] } } });
    expect((plain.spec!.containers[0]!.env ?? []).map((e) => e.name)).not.toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI');
  });

  it('gives the associated role\'s credentials through the agent, and ECR checks them', async () => {
    const { token } = await podWithToken(ns, 'app');
    const d = await gateMark(sb);
    const res = await fetch(sb.podIdentityAgents!.eks!, { headers: { authorization: token } });
    expect(res.status).toBe(200);
    const creds = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string; AccountId: string; Expiration: string };
    expect(creds.AccountId).toBe(sb.accountId);
    expect(creds.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ecr = new ECRClient({ region, endpoint: sb.awsEndpoint, credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.Token }, maxAttempts: 1 });
    await ecr.send(new GetAuthorizationTokenCommand({}));
    const decisions = await gateDecisions(sb, d);
    expect(decisions.find((x) => x.action === 'eks-auth:AssumeRoleForPodIdentity')).toMatchObject({ allowed: true, principal: `system:serviceaccount:${ns}:app` });
    expect(decisions.find((x) => x.action === 'ecr:GetAuthorizationToken')).toMatchObject({ allowed: true, role: `arn:aws:iam::${sb.accountId}:role/podid-inject` });

    // Without the Authorization header the agent refuses.
    expect((await fetch(sb.podIdentityAgents!.eks!)).status).toBe(400);
  });

  it('refuses a token of the wrong audience, one not bound to a pod, and a service account without association', async () => {
    const call = (token: string) => assumeRoleForPodIdentity(sb.awsEndpoint, region, 'eks', token);
    expect(await call((await podWithToken(ns, 'app', 'sts.amazonaws.com')).token)).toMatchObject({ status: 400, code: 'InvalidTokenException' });
    expect(await call((await podWithToken(ns, 'app', 'pods.eks.amazonaws.com', false)).token)).toMatchObject({ status: 400, code: 'InvalidTokenException' });
    expect(await call((await podWithToken(ns, 'unassociated')).token)).toMatchObject({ status: 404, code: 'ResourceNotFoundException' });
    expect(await call('not.a.token')).toMatchObject({ status: 400, code: 'InvalidTokenException' });
    expect(await call('')).toMatchObject({ status: 400, code: 'InvalidParameterException' });
    const { token } = await podWithToken(ns, 'app');
    expect(await assumeRoleForPodIdentity(sb.awsEndpoint, region, 'nope', token)).toMatchObject({ status: 404, code: 'ResourceNotFoundException' });
  });

  it('enforces the trust policy: the service principal, sts:TagSession, aws:SourceAccount and aws:SourceArn', async () => {
    const roleArn = await role('podid-trust');
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'eks', namespace: ns, serviceAccount: 'other', roleArn }));
    const call = async () => assumeRoleForPodIdentity(sb.awsEndpoint, region, 'eks', (await podWithToken(ns, 'other')).token);
    const trust = async (doc: string) => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'podid-trust', PolicyDocument: doc }));

    expect(await call()).toMatchObject({ status: 200 });
    for (const doc of [
      podIdentityTrust({ actions: ['sts:AssumeRole'] }),
      podIdentityTrust({ principal: 'ec2.amazonaws.com' }),
      podIdentityTrust({ account: '111122223333' }),
      podIdentityTrust({ sourceArn: `arn:aws:eks:${region}:${sb.accountId}:cluster/another` }),
    ]) {
      await trust(doc);
      const out = await call();
      expect(out, doc).toMatchObject({ status: 400, code: 'AccessDeniedException' });
    }
    await trust(podIdentityTrust({ sourceArn: clusterArn }));
    expect(await call()).toMatchObject({ status: 200 });
  });
});
