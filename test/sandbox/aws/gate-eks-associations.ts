// The EKS part of the AWS gate (gate-eks.ts): Pod Identity associations (Create, Describe, List,
// Update, Delete; Tag, Untag, ListTagsForResource on an association ARN), answered by the stand-in
// and held to botocore's EKS model; DescribeCluster forwarded to moto with the cluster's real issuer.
import { randomBytes } from 'node:crypto';
import { FORWARD, type GateOutcome, type GateRequest } from './gate-wire.js';
import { EksBase, EksError, type Association } from './gate-eks-base.js';

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/.+$/;

function newAssociationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `a-${[...randomBytes(17)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export class EksAssociations extends EksBase {
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
      case 'CreatePodIdentityAssociation':
        return this.create(input, region, account, now);
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
      case 'ListPodIdentityAssociations':
        return this.list(input, region, account);
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource':
        return this.tagCall(op, input, account);
    }
    throw new Error(`unexpected EKS operation ${op}`);
  }

  private async create(input: Record<string, unknown>, region: string, account: string, now: number): Promise<Record<string, unknown>> {
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

  private async list(input: Record<string, unknown>, region: string, account: string): Promise<Record<string, unknown>> {
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

  private tagCall(op: string, input: Record<string, unknown>, account: string): Record<string, unknown> {
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
