// Stand-in for the EKS APIs moto lacks, in the AWS gate (see aws-gate.ts):
//
// 1. EKS Pod Identity associations (EKS API Reference: CreatePodIdentityAssociation,
//    DescribePodIdentityAssociation, ListPodIdentityAssociations, UpdatePodIdentityAssociation,
//    DeletePodIdentityAssociation; TagResource / UntagResource / ListTagsForResource on an
//    association ARN). Every request is validated against the EKS service model botocore ships
//    (aws-model.ts: required members, types, lengths, ranges) and every answer against the output
//    shape. The cluster must be one of moto's EKS clusters in the caller's account and region
//    (ResourceNotFoundException "No cluster found for name: …", as moto and EKS say); one association
//    per cluster, namespace and service account (ResourceInUseException 409 "Association already
//    exists: <id>"); the role must be an IAM role ARN (InvalidParameterException); tags: at most 50,
//    keys 1–128 and values ≤ 256 characters, no `aws:` prefix. IDs `a-` + 17 lowercase letters and
//    digits; ARN `arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>`.
//    Any other EKS call (DescribeCluster, …) goes to moto; DescribeCluster answers with the
//    cluster's real issuer (moto makes up a random one).
//
// 2. EKS Auth AssumeRoleForPodIdentity (the call the EKS Pod Identity Agent makes for a pod;
//    validated against botocore's `eks-auth` model): the cluster exists (ResourceNotFoundException);
//    the token is the cluster's: a TokenReview on the cluster's API server with the audience
//    `pods.eks.amazonaws.com` (signature by the cluster's key, expiry — ExpiredTokenException —,
//    audience, and the pod it is bound to still existing: InvalidTokenException otherwise); the
//    token must be bound to a pod (EKS Pod Identity tags the session with the pod's name and uid,
//    which only a pod-bound token carries); an association must exist for the token's namespace
//    and service account (ResourceNotFoundException); the role's trust policy must allow the service
//    principal `pods.eks.amazonaws.com` both `sts:AssumeRole` and `sts:TagSession` (unless the
//    association disables session tags) with `aws:SourceAccount` = the cluster's account,
//    `aws:SourceArn` = the cluster's ARN and the six session tags as `aws:RequestTag/…`
//    (`aws:TagKeys`), evaluated by the independent engine (iam-engine.ts) → AccessDeniedException.
//    Only then does moto issue the credentials (sts:AssumeRole as the sandbox admin, with the
//    session tags); the gate remembers their access key, so ECR calls made with them are checked
//    against the role's policies (gate-ecr.ts) like web-identity credentials.
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { errorStatus, loadServiceModel, matchOperation, validateShape, type Operation, type ServiceModel } from './aws-model.js';
import { evaluate, parsePolicy } from './iam-engine.js';
import { FORWARD, MOTO_ACCOUNT_HEADER, motoIam, withAccount, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';
import type { StsGate } from './gate-sts.js';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { SANDBOX_ACCOUNT_ID } from './ecr-seed.js';

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';
/** The session tags EKS Pod Identity adds (EKS User Guide, "List of session tags added by EKS Pod Identity"). */
export const SESSION_TAG_KEYS = ['eks-cluster-arn', 'eks-cluster-name', 'kubernetes-namespace', 'kubernetes-service-account', 'kubernetes-pod-name', 'kubernetes-pod-uid'] as const;

/** An EKS-flavour sandbox cluster: moto gets an EKS cluster of this name; its API server checks the tokens. */
export interface EksClusterSpec {
  name: string;
  region: string;
  issuer: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The sandbox CA and the EKS Auth stand-in's client certificate (user `sandbox:eks-auth`). */
  tls: { ca: Buffer; cert: Buffer; key: Buffer };
}

export interface Association {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationArn: string;
  associationId: string;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  disableSessionTags: boolean;
  /** Where it lives: account and region (EKS is regional). */
  account: string;
  region: string;
}

class EksError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const ADMIN = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/.+$/;

function newAssociationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `a-${[...randomBytes(17)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

export class EksGate {
  private readonly eksModel: ServiceModel = loadServiceModel('eks');
  private readonly authModel: ServiceModel = loadServiceModel('eks-auth');
  readonly associations = new Map<string, Association>();
  private readonly eksClients = new Map<string, EKSClient>();

  constructor(
    private readonly ctx: GateContext,
    private readonly sts: StsGate,
    private readonly clusters: readonly EksClusterSpec[],
  ) {}

  reset(): void {
    this.associations.clear();
  }

  /** moto's EKS as the sandbox admin, in `account` and `region`. */
  private moto(region: string, account: string): EKSClient {
    const key = `${region}|${account}`;
    let c = this.eksClients.get(key);
    if (!c) {
      c = withAccount(new EKSClient({ region, endpoint: this.ctx.motoUrl, credentials: ADMIN, maxAttempts: 1 }), account);
      this.eksClients.set(key, c);
    }
    return c;
  }

  /** Creates moto's EKS cluster for every EKS-flavour sandbox cluster (at start and after each reset). */
  async seedClusters(): Promise<void> {
    for (const c of this.clusters) {
      await this.moto(c.region, SANDBOX_ACCOUNT_ID)
        .send(
          new CreateClusterCommand({
            name: c.name,
            roleArn: `arn:${partitionOf(c.region)}:iam::${SANDBOX_ACCOUNT_ID}:role/sandbox-eks-cluster`,
            resourcesVpcConfig: { subnetIds: [] },
            version: '1.31',
          }),
        )
        .catch((err: { name?: string }) => {
          if (err.name !== 'ResourceInUseException') throw err;
        });
    }
  }

  /** The account a request acts in: moto's account header, the role behind gate-issued keys, else the sandbox account. */
  private accountOf(req: GateRequest): string {
    const header = req.headers[MOTO_ACCOUNT_HEADER];
    if (typeof header === 'string' && header) return header;
    const issued = req.accessKeyId ? this.sts.issued.get(req.accessKeyId) : undefined;
    return issued ? (issued.roleArn.split(':')[4] ?? SANDBOX_ACCOUNT_ID) : SANDBOX_ACCOUNT_ID;
  }

  private async clusterArn(name: string, region: string, account: string): Promise<string> {
    try {
      const out = await this.moto(region, account).send(new DescribeClusterCommand({ name }));
      return out.cluster!.arn!;
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceNotFoundException') throw new EksError('ResourceNotFoundException', `No cluster found for name: ${name}.`);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Wire: rest-json requests in, rest-json answers (or errors) out

  /** The operation's input, assembled from the URI labels, the query string and the JSON body. */
  private input(model: ServiceModel, op: Operation, labels: Record<string, string>, req: GateRequest): Record<string, unknown> {
    const url = new URL(req.path, 'http://x');
    const shape = op.input ? model.shapes[op.input.shape] : undefined;
    const input: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(shape?.members ?? {})) {
      const wire = m.locationName ?? name;
      if (m.location === 'uri') {
        if (labels[wire] !== undefined) input[name] = labels[wire];
      } else if (m.location === 'querystring') {
        const target = model.shapes[m.shape];
        const all = url.searchParams.getAll(wire);
        if (!all.length) continue;
        if (target?.type === 'list') input[name] = all;
        else if (target?.type === 'integer' || target?.type === 'long') input[name] = /^-?\d+$/.test(all[0]!) ? Number(all[0]) : all[0];
        else if (target?.type === 'boolean') input[name] = all[0] === 'true' ? true : all[0] === 'false' ? false : all[0];
        else input[name] = all[0];
      } else if (m.location === 'header') {
        const h = req.headers[wire.toLowerCase()];
        if (typeof h === 'string') input[name] = h;
      } else if (req.json[name] !== undefined) {
        input[name] = req.json[name];
      }
    }
    return input;
  }

  private error(model: ServiceModel, code: string, message: string, status?: number): GateOutcome {
    return {
      kind: 'reply',
      status: status ?? errorStatus(model, code),
      contentType: 'application/json',
      headers: { 'x-amzn-errortype': code },
      body: JSON.stringify({ message }),
    };
  }

  private ok(model: ServiceModel, op: Operation, body: Record<string, unknown>): GateOutcome {
    if (op.output) {
      const violations = validateShape(model, op.output.shape, body);
      if (violations.length) throw new Error(`the EKS stand-in's ${op.name} answer breaks ${op.output.shape}: ${violations.map((v) => `${v.path} ${v.message}`).join('; ')}`);
    }
    return { kind: 'reply', status: op.http.responseCode ?? 200, contentType: 'application/json', body: JSON.stringify(body) };
  }

  private parse(model: ServiceModel, req: GateRequest): { op: Operation; input: Record<string, unknown> } | GateOutcome | undefined {
    const url = new URL(req.path, 'http://x');
    const hit = matchOperation(model, req.method, url.pathname);
    if (!hit) return undefined;
    const input = this.input(model, hit.op, hit.labels, req);
    const violations = hit.op.input ? validateShape(model, hit.op.input.shape, input) : [];
    if (violations.length) {
      return this.error(model, 'InvalidParameterException', violations.map((v) => `${v.path}: ${v.message}`).join('; '), 400);
    }
    return { op: hit.op, input };
  }

  /** The operation a rest-json EKS or EKS Auth request calls (by method and URI), for the request log. */
  operationName(req: GateRequest): string | undefined {
    const model = req.service === 'eks-auth' ? this.authModel : req.service === 'eks' ? this.eksModel : undefined;
    return model ? matchOperation(model, req.method, new URL(req.path, 'http://x').pathname)?.op.name : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // EKS: pod identity associations

  async handle(req: GateRequest): Promise<GateOutcome> {
    const parsed = this.parse(this.eksModel, req);
    if (!parsed) return FORWARD;
    if ('kind' in parsed) return parsed;
    const { op, input } = parsed;
    const isTagOp = op.name === 'TagResource' || op.name === 'UntagResource' || op.name === 'ListTagsForResource';
    if (isTagOp && !/:podidentityassociation\//.test(String(input.resourceArn))) return FORWARD;
    if (op.name === 'DescribeCluster') return this.describeCluster(String(input.clusterName ?? input.name ?? ''));
    if (!op.name.includes('PodIdentityAssociation') && !isTagOp) return FORWARD;
    const account = this.accountOf(req);
    // A call either answers in the model's shape or changes nothing (the stand-in's own bug must not leave state behind).
    const before = new Map([...this.associations].map(([k, v]) => [k, structuredClone(v)]));
    try {
      const body = await this.associationCall(op.name, input, req.region, account);
      try {
        this.ok(this.eksModel, op, body);
      } catch (err) {
        this.associations.clear();
        for (const [k, v] of before) this.associations.set(k, v);
        throw err;
      }
      this.ctx.decide({ action: `eks:${op.name}`, principal: req.accessKeyId, allowed: true, reason: 'served by the EKS stand-in', resource: String(input.resourceArn ?? input.clusterName ?? '') });
      return this.ok(this.eksModel, op, body);
    } catch (err) {
      if (!(err instanceof EksError)) throw err;
      this.ctx.decide({ action: `eks:${op.name}`, principal: req.accessKeyId, allowed: false, reason: err.message, code: err.code });
      return this.error(this.eksModel, err.code, err.message, err.status);
    }
  }

  /** DescribeCluster from moto, with the cluster's real issuer in place of the one moto made up. */
  private describeCluster(name: string): GateOutcome {
    const spec = this.clusters.find((c) => c.name === name);
    if (!spec) return FORWARD;
    return {
      kind: 'forward',
      response: (status, body) => {
        if (status !== 200) return;
        const parsed = JSON.parse(body) as { cluster?: { identity?: { oidc?: { issuer?: string } } } };
        if (parsed.cluster?.identity?.oidc) parsed.cluster.identity.oidc.issuer = spec.issuer;
        return JSON.stringify(parsed);
      },
    };
  }

  private view(a: Association): Record<string, unknown> {
    return {
      clusterName: a.clusterName,
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
      roleArn: a.roleArn,
      associationArn: a.associationArn,
      associationId: a.associationId,
      // A TagMap has at least one entry: no tags, no member.
      ...(Object.keys(a.tags).length ? { tags: a.tags } : {}),
      createdAt: a.createdAt,
      modifiedAt: a.modifiedAt,
      disableSessionTags: a.disableSessionTags,
    };
  }

  private find(account: string, region: string, cluster: string, id: string): Association {
    const a = this.associations.get(id);
    if (!a || a.account !== account || a.region !== region || a.clusterName !== cluster) {
      throw new EksError('ResourceNotFoundException', `No Pod Identity Association found for id: ${id}`);
    }
    return a;
  }

  private checkTags(tags: unknown): Record<string, string> {
    const t = (tags ?? {}) as Record<string, string>;
    for (const k of Object.keys(t)) {
      if (/^aws:/i.test(k)) throw new EksError('InvalidParameterException', `Tag keys may not start with aws: (${k})`, 400);
    }
    return t;
  }

  private checkRole(roleArn: unknown): string {
    const arn = String(roleArn ?? '');
    if (!ROLE_ARN.test(arn)) throw new EksError('InvalidParameterException', `Invalid Role Arn: '${arn}'`);
    return arn;
  }

  private async associationCall(op: string, input: Record<string, unknown>, region: string, account: string): Promise<Record<string, unknown>> {
    const now = Math.floor(Date.now() / 1000);
    switch (op) {
      case 'CreatePodIdentityAssociation': {
        const clusterName = String(input.clusterName);
        const clusterArn = await this.clusterArn(clusterName, region, account);
        const roleArn = this.checkRole(input.roleArn);
        const tags = this.checkTags(input.tags);
        const namespace = String(input.namespace);
        const serviceAccount = String(input.serviceAccount);
        const existing = [...this.associations.values()].find(
          (a) => a.account === account && a.region === region && a.clusterName === clusterName && a.namespace === namespace && a.serviceAccount === serviceAccount,
        );
        if (existing) throw new EksError('ResourceInUseException', `Association already exists: ${existing.associationId}`);
        const associationId = newAssociationId();
        const a: Association = {
          clusterName,
          namespace,
          serviceAccount,
          roleArn,
          associationId,
          associationArn: `${clusterArn.replace(/:cluster\/.*$/, '')}:podidentityassociation/${clusterName}/${associationId}`,
          tags,
          createdAt: now,
          modifiedAt: now,
          disableSessionTags: input.disableSessionTags === true,
          account,
          region,
        };
        this.associations.set(associationId, a);
        return { association: this.view(a) };
      }
      case 'DescribePodIdentityAssociation': {
        await this.clusterArn(String(input.clusterName), region, account);
        return { association: this.view(this.find(account, region, String(input.clusterName), String(input.associationId))) };
      }
      case 'UpdatePodIdentityAssociation': {
        await this.clusterArn(String(input.clusterName), region, account);
        const a = this.find(account, region, String(input.clusterName), String(input.associationId));
        if (input.roleArn !== undefined) a.roleArn = this.checkRole(input.roleArn);
        if (typeof input.disableSessionTags === 'boolean') a.disableSessionTags = input.disableSessionTags;
        a.modifiedAt = now;
        return { association: this.view(a) };
      }
      case 'DeletePodIdentityAssociation': {
        await this.clusterArn(String(input.clusterName), region, account);
        const a = this.find(account, region, String(input.clusterName), String(input.associationId));
        this.associations.delete(a.associationId);
        return { association: this.view(a) };
      }
      case 'ListPodIdentityAssociations': {
        const clusterName = String(input.clusterName);
        await this.clusterArn(clusterName, region, account);
        const all = [...this.associations.values()]
          .filter((a) => a.account === account && a.region === region && a.clusterName === clusterName)
          .filter((a) => input.namespace === undefined || a.namespace === input.namespace)
          .filter((a) => input.serviceAccount === undefined || a.serviceAccount === input.serviceAccount)
          .sort((x, y) => x.createdAt - y.createdAt || x.associationId.localeCompare(y.associationId));
        const max = typeof input.maxResults === 'number' ? input.maxResults : 100;
        let start = 0;
        if (input.nextToken !== undefined) {
          start = Number(Buffer.from(String(input.nextToken), 'base64url').toString('utf8'));
          if (!Number.isInteger(start) || start < 0 || start > all.length) throw new EksError('InvalidParameterException', 'The nextToken is not valid', 400);
        }
        const page = all.slice(start, start + max);
        const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
        return {
          associations: page.map((a) => ({ clusterName: a.clusterName, namespace: a.namespace, serviceAccount: a.serviceAccount, associationArn: a.associationArn, associationId: a.associationId })),
          ...(next ? { nextToken: next } : {}),
        };
      }
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource': {
        const arn = String(input.resourceArn);
        const a = [...this.associations.values()].find((x) => x.associationArn === arn && x.account === account);
        if (!a) throw new EksError('NotFoundException', `Resource ${arn} not found`, 404);
        if (op === 'TagResource') {
          const merged = { ...a.tags, ...this.checkTags(input.tags) };
          if (Object.keys(merged).length > 50) throw new EksError('BadRequestException', 'A resource can have at most 50 tags', 400);
          a.tags = merged;
          return {};
        }
        if (op === 'UntagResource') {
          for (const k of input.tagKeys as string[]) delete a.tags[k];
          return {};
        }
        return Object.keys(a.tags).length ? { tags: a.tags } : {};
      }
    }
    throw new Error(`unexpected EKS operation ${op}`);
  }

  // ---------------------------------------------------------------------------------------------
  // EKS Auth: AssumeRoleForPodIdentity

  async handleAuth(req: GateRequest): Promise<GateOutcome> {
    const model = this.authModel;
    const parsed = this.parse(model, req);
    if (!parsed) return this.error(model, 'InvalidRequestException', `Unknown EKS Auth operation ${req.method} ${req.path}`, 400);
    if ('kind' in parsed) return parsed;
    const { op, input } = parsed;
    const account = this.accountOf(req);
    const clusterName = String(input.clusterName);
    let subject: string | undefined;
    let roleArn: string | undefined;
    try {
      const clusterArn = await this.clusterArn(clusterName, req.region, account);
      const spec = this.clusters.find((c) => c.name === clusterName && c.region === req.region);
      if (!spec) throw new EksError('ResourceNotFoundException', `No cluster found for name: ${clusterName}.`);
      const who = await this.reviewToken(spec, String(input.token));
      subject = `system:serviceaccount:${who.namespace}:${who.serviceAccount}`;
      const a = [...this.associations.values()].find(
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
      this.sts.issued.set(creds.accessKeyId, { roleArn: a.roleArn, assumedRoleArn: creds.assumedRoleArn });
      this.ctx.decide({ action: 'eks-auth:AssumeRoleForPodIdentity', principal: subject, role: a.roleArn, allowed: true, reason: 'token verified; association found; trust policy allows pods.eks.amazonaws.com' });
      return this.ok(model, op, {
        subject: { namespace: who.namespace, serviceAccount: who.serviceAccount },
        audience: POD_IDENTITY_AUDIENCE,
        podIdentityAssociation: { associationArn: a.associationArn, associationId: a.associationId },
        assumedRoleUser: { arn: creds.assumedRoleArn, assumeRoleId: creds.assumeRoleId },
        credentials: { sessionToken: creds.sessionToken, secretAccessKey: creds.secretAccessKey, accessKeyId: creds.accessKeyId, expiration: creds.expiration },
      });
    } catch (err) {
      if (!(err instanceof EksError)) throw err;
      this.ctx.decide({ action: 'eks-auth:AssumeRoleForPodIdentity', principal: subject, role: roleArn, allowed: false, reason: err.message, code: err.code });
      return this.error(model, err.code, err.message, err.status);
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
      const role = await motoIam(this.ctx.motoUrl, roleAccount).send(new GetRoleCommand({ RoleName: a.roleArn.split('/').pop() ?? '' }));
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
    const sts = withAccount(new STSClient({ region: 'us-east-1', endpoint: this.ctx.motoUrl, credentials: ADMIN, maxAttempts: 1 }), roleAccount);
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
