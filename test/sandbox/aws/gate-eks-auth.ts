// EKS Auth's AssumeRoleForPodIdentity in the AWS gate (gate-eks.ts): the cluster exists, the token
// passes a TokenReview on its API server and is bound to a pod, an association names its service
// account, the role's trust policy allows pods.eks.amazonaws.com with the session tags (iam-engine.ts);
// only then does moto issue the credentials, which the gate remembers for the ECR checks.
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SANDBOX_ACCOUNT_ID } from './ecr-seed.js';
import { ADMIN, EksError, POD_IDENTITY_AUDIENCE, POD_IDENTITY_SERVICE, type Association, type EksBase, type EksClusterSpec } from './gate-eks-base.js';
import { motoIam, withAccount, type GateOutcome, type GateRequest } from './gate-wire.js';
import { evaluate, parsePolicy } from './iam-engine.js';

export class EksAuth {
  constructor(private readonly g: EksBase) {}

  async handle(req: GateRequest): Promise<GateOutcome> {
    const model = this.g.authModel;
    const parsed = this.g.parse(model, req);
    if (!parsed) return this.g.error(model, 'InvalidRequestException', `Unknown EKS Auth operation ${req.method} ${req.path}`, 400);
    if ('kind' in parsed) return parsed;
    const { op, input } = parsed;
    const account = this.g.accountOf(req);
    const clusterName = String(input.clusterName);
    let subject: string | undefined;
    let roleArn: string | undefined;
    try {
      const clusterArn = await this.g.clusterArn(clusterName, req.region, account);
      const spec = this.g.clusters.find((c) => c.name === clusterName && c.region === req.region);
      if (!spec) throw new EksError('ResourceNotFoundException', `No cluster found for name: ${clusterName}.`);
      const who = await this.reviewToken(spec, String(input.token));
      subject = `system:serviceaccount:${who.namespace}:${who.serviceAccount}`;
      const a = [...this.g.associations.values()].find(
        (x) => x.account === account && x.region === req.region && x.clusterName === clusterName && x.namespace === who.namespace && x.serviceAccount === who.serviceAccount,
      );
      if (!a) throw new EksError('ResourceNotFoundException', `No Pod Identity Association found for service account ${who.serviceAccount} in namespace ${who.namespace} of cluster ${clusterName}`);
      roleArn = a.roleArn;
      const tags: Record<string, string> = {
        'eks-cluster-arn': clusterArn,
        'eks-cluster-name': clusterName,
        'kubernetes-namespace': who.namespace,
        'kubernetes-service-account': who.serviceAccount,
        'kubernetes-pod-name': who.podName,
        'kubernetes-pod-uid': who.podUid,
      };
      await this.checkTrust(a, clusterArn, account, a.disableSessionTags ? {} : tags);
      const sessionName = `eks-${clusterName}-${who.podName}-${randomBytes(4).toString('hex')}`.slice(0, 64);
      const creds = await this.assume(a.roleArn, sessionName, a.disableSessionTags ? {} : tags);
      this.g.sts.issued.set(creds.accessKeyId, { roleArn: a.roleArn, assumedRoleArn: creds.assumedRoleArn });
      this.g.ctx.decide({ action: 'eks-auth:AssumeRoleForPodIdentity', principal: subject, role: a.roleArn, allowed: true, reason: 'token verified; association found; trust policy allows pods.eks.amazonaws.com' });
      return this.g.ok(model, op, {
        subject: { namespace: who.namespace, serviceAccount: who.serviceAccount },
        audience: POD_IDENTITY_AUDIENCE,
        podIdentityAssociation: { associationArn: a.associationArn, associationId: a.associationId },
        assumedRoleUser: { arn: creds.assumedRoleArn, assumeRoleId: creds.assumeRoleId },
        credentials: { sessionToken: creds.sessionToken, secretAccessKey: creds.secretAccessKey, accessKeyId: creds.accessKeyId, expiration: creds.expiration },
      });
    } catch (err) {
      if (!(err instanceof EksError)) throw err;
      this.g.ctx.decide({ action: 'eks-auth:AssumeRoleForPodIdentity', principal: subject, role: roleArn, allowed: false, reason: err.message, code: err.code });
      return this.g.error(model, err.code, err.message, err.status);
    }
  }

  /** The token as the cluster's API server sees it (TokenReview), bound to a pod that still exists. */
  private async reviewToken(spec: EksClusterSpec, token: string): Promise<{ namespace: string; serviceAccount: string; podName: string; podUid: string }> {
    let exp: unknown;
    try {
      exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    } catch {
      throw new EksError('InvalidTokenException', 'The service account token is not a valid JWT');
    }
    if (typeof exp === 'number' && exp <= Date.now() / 1000) throw new EksError('ExpiredTokenException', 'The service account token has expired');
    const review = await tokenReview(spec, token, [POD_IDENTITY_AUDIENCE]);
    if (!review.authenticated) throw new EksError('InvalidTokenException', `The service account token is not valid for the cluster: ${review.error ?? 'not authenticated'}`);
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(review.username ?? '');
    if (!m) throw new EksError('InvalidTokenException', `The token is not a service account token (${review.username})`);
    if (!(review.audiences ?? []).includes(POD_IDENTITY_AUDIENCE)) throw new EksError('InvalidTokenException', `The token's audience is not ${POD_IDENTITY_AUDIENCE}`);
    const podName = review.extra?.['authentication.kubernetes.io/pod-name']?.[0];
    const podUid = review.extra?.['authentication.kubernetes.io/pod-uid']?.[0];
    if (!podName || !podUid) throw new EksError('InvalidTokenException', 'The service account token is not bound to a pod');
    return { namespace: m[1]!, serviceAccount: m[2]!, podName, podUid };
  }

  private async checkTrust(a: Association, clusterArn: string, clusterAccount: string, tags: Record<string, string>): Promise<void> {
    const roleAccount = a.roleArn.split(':')[4] ?? '';
    let trust: unknown;
    try {
      const role = await motoIam(this.g.ctx.motoUrl, roleAccount).send(new GetRoleCommand({ RoleName: a.roleArn.split('/').pop() ?? '' }));
      if (role.Role?.Arn !== a.roleArn) throw new EksError('AccessDeniedException', `The role ${a.roleArn} does not exist`);
      trust = parsePolicy(role.Role?.AssumeRolePolicyDocument ?? '{}');
    } catch (err) {
      if (err instanceof EksError) throw err;
      if ((err as { name?: string }).name === 'NoSuchEntityException') throw new EksError('AccessDeniedException', `The role ${a.roleArn} does not exist`);
      throw err;
    }
    const context: Record<string, string | string[]> = { 'aws:SourceAccount': clusterAccount, 'aws:SourceArn': clusterArn };
    for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
    if (Object.keys(tags).length) context['aws:TagKeys'] = Object.keys(tags);
    const actions = Object.keys(tags).length ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'];
    for (const action of actions) {
      const d = evaluate({
        principal: POD_IDENTITY_SERVICE,
        action,
        resource: a.roleArn,
        resourceAccount: roleAccount,
        context,
        resourcePolicy: { name: 'TrustPolicy', document: trust },
        resourcePolicyKind: 'trust',
      });
      if (!d.allowed) {
        throw new EksError(
          'AccessDeniedException',
          `Failed to assume the role ${a.roleArn}: its trust policy does not allow ${POD_IDENTITY_SERVICE} to perform ${action} (${d.result}${d.detail ? `: ${d.detail}` : ''})`,
        );
      }
    }
  }

  private async assume(roleArn: string, sessionName: string, tags: Record<string, string>) {
    const roleAccount = roleArn.split(':')[4] ?? SANDBOX_ACCOUNT_ID;
    const sts = withAccount(new STSClient({ region: 'us-east-1', endpoint: this.g.ctx.motoUrl, credentials: ADMIN, maxAttempts: 1 }), roleAccount);
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
    );
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: Math.floor((c.Expiration ?? new Date(Date.now() + 3600_000)).getTime() / 1000),
      assumedRoleArn: out.AssumedRoleUser?.Arn ?? roleArn,
      assumeRoleId: out.AssumedRoleUser?.AssumedRoleId ?? `${sessionName}`,
    };
  }
}

interface TokenReviewResult {
  authenticated: boolean;
  username?: string;
  audiences?: string[];
  extra?: Record<string, string[]>;
  error?: string;
}

/** POST a TokenReview to the cluster's API server as the EKS Auth stand-in's user. */
function tokenReview(spec: EksClusterSpec, token: string, audiences: string[]): Promise<TokenReviewResult> {
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } });
  const url = new URL('/apis/authentication.k8s.io/v1/tokenreviews', spec.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca: spec.tls.ca, cert: spec.tls.cert, key: spec.tls.key, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 201 && res.statusCode !== 200) return reject(new Error(`TokenReview on ${spec.name}: HTTP ${res.statusCode} ${text}`));
          const status = (JSON.parse(text) as { status?: { authenticated?: boolean; user?: { username?: string; extra?: Record<string, string[]> }; audiences?: string[]; error?: string } }).status ?? {};
          resolve({ authenticated: !!status.authenticated, username: status.user?.username, extra: status.user?.extra, audiences: status.audiences, error: status.error });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`TokenReview on ${spec.name} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
