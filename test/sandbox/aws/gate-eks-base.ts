// What the EKS part of the AWS gate (gate-eks.ts) shares: its types and constants, moto's EKS as the
// sandbox admin, the account a request acts in, the clusters moto knows, and the rest-json wire
// (requests assembled and validated against botocore's models, answers checked against the output
// shape, errors in EKS's shape).
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { errorStatus, loadServiceModel, matchOperation, validateShape, type Operation, type ServiceModel } from './aws-model.js';
import { MOTO_ACCOUNT_HEADER, withAccount, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';
import type { StsGate } from './gate-sts.js';
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

export class EksError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}


export const ADMIN = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

export class EksBase {
  readonly eksModel: ServiceModel = loadServiceModel('eks');
  readonly authModel: ServiceModel = loadServiceModel('eks-auth');
  readonly associations = new Map<string, Association>();
  private readonly eksClients = new Map<string, EKSClient>();

  constructor(
    readonly ctx: GateContext,
    readonly sts: StsGate,
    readonly clusters: readonly EksClusterSpec[],
  ) {}

  reset(): void {
    this.associations.clear();
  }

  /** moto's EKS as the sandbox admin, in `account` and `region`. */
  moto(region: string, account: string): EKSClient {
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
  accountOf(req: GateRequest): string {
    const header = req.headers[MOTO_ACCOUNT_HEADER];
    if (typeof header === 'string' && header) return header;
    const issued = req.accessKeyId ? this.sts.issued.get(req.accessKeyId) : undefined;
    return issued ? (issued.roleArn.split(':')[4] ?? SANDBOX_ACCOUNT_ID) : SANDBOX_ACCOUNT_ID;
  }

  async clusterArn(name: string, region: string, account: string): Promise<string> {
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
  input(model: ServiceModel, op: Operation, labels: Record<string, string>, req: GateRequest): Record<string, unknown> {
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

  error(model: ServiceModel, code: string, message: string, status?: number): GateOutcome {
    return {
      kind: 'reply',
      status: status ?? errorStatus(model, code),
      contentType: 'application/json',
      headers: { 'x-amzn-errortype': code },
      body: JSON.stringify({ message }),
    };
  }

  ok(model: ServiceModel, op: Operation, body: Record<string, unknown>): GateOutcome {
    if (op.output) {
      const violations = validateShape(model, op.output.shape, body);
      if (violations.length) throw new Error(`the EKS stand-in's ${op.name} answer breaks ${op.output.shape}: ${violations.map((v) => `${v.path} ${v.message}`).join('; ')}`);
    }
    return { kind: 'reply', status: op.http.responseCode ?? 200, contentType: 'application/json', body: JSON.stringify(body) };
  }

  parse(model: ServiceModel, req: GateRequest): { op: Operation; input: Record<string, unknown> } | GateOutcome | undefined {
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
}
