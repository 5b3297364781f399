// What the AWS SDK in a Central pod would get as credentials, as the Central stand-in plays it: the
// default chain's web identity (the projected token the kubelet would write, exchanged at STS through
// the AWS gate) or EKS Pod Identity's container credentials (from the cluster's agent stand-in).
// Failures are worded as the Go SDK v2 inside Central words them.
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';

/** What the pod's side of the world offers: its API server, the AWS endpoint, its cluster's Pod Identity Agent. */
export interface PodSide {
  core: CoreV1Api;
  awsEndpoint: string;
  podIdentityAgent?: string;
}

/** The AWS SDK's default chain inside the pod: web identity from its env and volumes, else nothing. */
export async function podCredentials(side: PodSide, pod: V1Pod, region: string, wrap: (chain: string) => Error) {
  const container = pod.spec?.containers?.find((x) => x.name === 'central') ?? pod.spec?.containers?.[0];
  const env = new Map((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const roleArn = env.get('AWS_ROLE_ARN');
  const tokenFile = env.get('AWS_WEB_IDENTITY_TOKEN_FILE');
  if (!roleArn || !tokenFile) {
    const fullUri = env.get('AWS_CONTAINER_CREDENTIALS_FULL_URI');
    const authFile = env.get('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE');
    if (fullUri && authFile) return containerCredentials(side, pod, container, fullUri, authFile, wrap);
    throw wrap('get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, request canceled, context deadline exceeded');
  }
  const token = await projectedToken(side.core, pod, container, tokenFile);
  if (!token) {
    throw wrap(`get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, failed to read web identity token file: open ${tokenFile}: no such file or directory`);
  }
  try {
    const out = await new STSClient({ region, endpoint: side.awsEndpoint, maxAttempts: 1 }).send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn, RoleSessionName: `aws-go-sdk-${Date.now()}`, WebIdentityToken: token,
    }));
    const k = out.Credentials!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey!, sessionToken: k.SessionToken };
  } catch (err) {
    throw wrap(`get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, ${apiError(err)}`);
  }
}

/**
 * What the kubelet writes into the projected token file `tokenFile` of this container: a token for the
 * pod's service account with the volume's audience and lifetime, bound to the pod; undefined when no
 * projected volume is mounted there.
 */
export async function projectedToken(core: CoreV1Api, pod: V1Pod, container: V1Container | undefined, tokenFile: string): Promise<string | undefined> {
  const dir = tokenFile.slice(0, tokenFile.lastIndexOf('/'));
  const file = tokenFile.slice(tokenFile.lastIndexOf('/') + 1);
  const mount = container?.volumeMounts?.find((m) => m.mountPath.replace(/\/+$/, '') === dir);
  const source = pod.spec?.volumes?.find((v) => v.name === mount?.name)?.projected?.sources?.find((s) => s.serviceAccountToken?.path === file)?.serviceAccountToken;
  if (!source) return undefined;
  const tr = await core.createNamespacedServiceAccountToken({
    name: pod.spec?.serviceAccountName ?? 'default',
    namespace: pod.metadata!.namespace!,
    body: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: {
        audiences: source.audience ? [source.audience] : [],
        expirationSeconds: Math.max(600, source.expirationSeconds ?? 3600),
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      },
    },
  });
  return tr.status!.token!;
}

/**
 * The SDK's container credentials provider (EKS Pod Identity): the token from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE in the Authorization header of a GET to
 * AWS_CONTAINER_CREDENTIALS_FULL_URI. The agent's link-local address is played by the cluster's
 * Pod Identity Agent stand-in (pod-identity-agent.ts); any other URI is unreachable from the pod.
 */
async function containerCredentials(side: PodSide, pod: V1Pod, container: V1Container | undefined, fullUri: string, tokenFile: string, wrap: (chain: string) => Error) {
  const fail = (why: string) => wrap(`get identity: get credentials: failed to refresh cached credentials, failed to load credentials, ${why}`);
  const token = await projectedToken(side.core, pod, container, tokenFile);
  if (!token) throw fail(`failed to read authorization token file: open ${tokenFile}: no such file or directory`);
  const agent = fullUri === 'http://169.254.170.23/v1/credentials' ? side.podIdentityAgent : undefined;
  if (!agent) throw fail(`operation error ec2imds: GetCredentials, failed to get credentials: dial tcp ${new URL(fullUri).host}: connect: no route to host`);
  const res = await fetch(agent, { headers: { authorization: token }, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status !== 200) throw fail(`operation error ec2imds: GetCredentials, http response error StatusCode: ${res.status}, ${text}`);
  const k = JSON.parse(text) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
  return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, sessionToken: k.Token };
}

export /** An AWS error as the Go SDK v2 words it. */
function apiError(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  return `https response error StatusCode: ${e.$metadata?.httpStatusCode ?? 0}, RequestID: ${e.$metadata?.requestId ?? ''}, api error ${e.name ?? 'Unknown'}: ${e.message ?? String(err)}`;
}
