/**
 * The end-to-end proof of EKS Pod Identity used by `verify`: what the Pod Identity Agent does for a
 * pod — EKS Auth `AssumeRoleForPodIdentity` with the pod's projected token (audience
 * pods.eks.amazonaws.com, bound to the pod), which EKS answers only when the token is the cluster's,
 * an association exists for its namespace and service account, and the role's trust policy lets
 * pods.eks.amazonaws.com assume and tag it — then ECR with the credentials it returns. The caller's
 * own credentials sign the call (it needs eks-auth:AssumeRoleForPodIdentity, as the nodes' role has).
 * Credentials and tokens stay inside this module.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { STSClient } from '@aws-sdk/client-sts';
import { OperationError } from '../../errors.js';
import type { AwsEnvironment } from './environment.js';
import { readEcrWith, type ExchangeResult, type RegistryProbe } from './exchange.js';

export interface PodIdentityExchangeInput {
  clusterName: string;
  region: string;
  token: string;
  profile?: string;
  registryId?: string;
  probe?: RegistryProbe;
  /** Where EKS Auth is (the SDKs' rule: AWS_ENDPOINT_URL_EKS_AUTH, else AWS_ENDPOINT_URL, else the regional endpoint). */
  endpoint?: string;
  /** The AWS variables the endpoint rule reads, when `endpoint` is not given. */
  environment?: AwsEnvironment;
  log: (message: string) => void;
  /** Bound of each request (--request-timeout). */
  timeoutMs?: number;
}

export interface PodIdentityExchangeResult extends ExchangeResult {
  associationId: string;
  subject: string;
}

/** EKS Auth's error: its type (x-amzn-errortype) and message. */
export class EksAuthError extends OperationError {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Bytes): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 (and HMAC) from node:crypto, in the shape the signer takes. */
class Sha256 {
  private readonly h;
  constructor(secret?: Bytes) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: Bytes): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** The EKS Auth endpoint for a region, as the AWS SDKs resolve it. */
export function eksAuthEndpoint(region: string, env: AwsEnvironment): string {
  const configured = env.endpointUrlEksAuth ?? env.endpointUrl;
  if (configured) return configured;
  return region.startsWith('cn-') ? `https://eks-auth.${region}.api.amazonwebservices.com.cn` : `https://eks-auth.${region}.api.aws`;
}

export async function exchangePodIdentity(i: PodIdentityExchangeInput): Promise<PodIdentityExchangeResult> {
  // The caller's credentials from the SDK's default chain (with --profile), as every other call.
  const credentials = await new STSClient({ region: i.region, ...(i.profile ? { profile: i.profile } : {}) }).config.credentials();
  const url = new URL(`/clusters/${encodeURIComponent(i.clusterName)}/assume-role-for-pod-identity`, i.endpoint ?? eksAuthEndpoint(i.region, i.environment ?? {}));
  const body = JSON.stringify({ token: i.token });
  const signer = new SignatureV4({ service: 'eks-auth', region: i.region, credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  i.log('aws EKSAuth.AssumeRoleForPodIdentity');
  const timeoutMs = i.timeoutMs ?? 30_000;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    if ((err as Error)?.name !== 'TimeoutError') throw err;
    throw new OperationError(`EKS Auth did not answer AssumeRoleForPodIdentity at ${url.origin} within ${timeoutMs / 1000}s.`, {
      hint: 'Check the network and AWS_ENDPOINT_URL_EKS_AUTH / AWS_ENDPOINT_URL; give a slow network longer with --request-timeout.',
      cause: err,
    });
  }
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { message: text };
  }
  if (res.status !== 200) {
    const code = (res.headers.get('x-amzn-errortype') ?? String(parsed.__type ?? `HTTP ${res.status}`)).split(':')[0]!;
    throw new EksAuthError(code, String(parsed.message ?? parsed.Message ?? text).slice(0, 500));
  }
  const c = parsed.credentials as { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; expiration?: number | string } | undefined;
  if (!c?.accessKeyId || !c.secretAccessKey) throw new EksAuthError('InvalidResponse', 'EKS Auth returned no credentials');
  const ecr = await readEcrWith({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }, { region: i.region, registryId: i.registryId, probe: i.probe, log: i.log, timeoutMs: i.timeoutMs });
  const subject = parsed.subject as { namespace?: string; serviceAccount?: string } | undefined;
  return {
    assumedRoleArn: String((parsed.assumedRoleUser as { arn?: string } | undefined)?.arn ?? ''),
    ...(c.expiration !== undefined ? { expiration: new Date(typeof c.expiration === 'number' ? c.expiration * 1000 : c.expiration) } : {}),
    associationId: String((parsed.podIdentityAssociation as { associationId?: string } | undefined)?.associationId ?? ''),
    subject: `system:serviceaccount:${subject?.namespace}:${subject?.serviceAccount}`,
    ecr,
  };
}
