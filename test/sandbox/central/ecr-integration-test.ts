// What Central does when it tests an ECR integration (pkg/registries/ecr): the ECR validation, then
// the AWS SDK's default credential chain as the serving pod has it (pod-credentials.ts), an optional
// sts:AssumeRole, and ecr:GetAuthorizationToken at the AWS gate; failures worded as Central words them.
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { CentralApi } from './central-api.js';
import { invalid, type Integration } from './integrations.js';
import { apiError, podCredentials } from './pod-credentials.js';

export async function testEcrIntegration(api: CentralApi, ns: string, podName: string | undefined, i: Integration): Promise<void> {
  if (i.type !== 'ecr') return; // only ECR is played here
  const c = (i.ecr ?? {}) as Record<string, unknown>;
  const errors: string[] = [];
  if (!c.registryId) errors.push('Registry ID must be specified');
  if (!c.useIam) {
    if (!c.accessKeyId) errors.push('Access Key ID must be specified if not using IAM');
    if (!c.secretAccessKey) errors.push('Secret Access Key must be specified if not using IAM');
  }
  if (c.useAssumeRole) {
    if (c.endpoint) errors.push('AssumeRole cannot be done with an endpoint defined');
    if (!c.assumeRoleId) errors.push('AssumeRole ID must be set to use AssumeRole');
  }
  if (!c.region) errors.push('Region must be specified');
  if (errors.length) throw invalid(`registry integration: ECR Validation errors: ${errors.map((e) => `[${e}]`).join(', ')}: invalid arguments`);
  const region = String(c.region);
  const registry = `${String(c.registryId)}.dkr.ecr.${region}.amazonaws.com`;
  const wrap = (chain: string) =>
    invalid(`registry integration: Get "https://${registry}/v2/_catalog": failed to get authorization token: operation error ECR: GetAuthorizationToken, ${chain}: invalid arguments`);
  const endpoint = api.info.awsEndpoint;
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  if (c.useIam) {
    const pod = await api.servingPod(ns, podName);
    credentials = await podCredentials({ core: api.core, awsEndpoint: api.info.awsEndpoint, podIdentityAgent: api.info.podIdentityAgents?.[api.cluster] }, pod, region, wrap);
  } else {
    credentials = { accessKeyId: String(c.accessKeyId), secretAccessKey: String(c.secretAccessKey) };
  }
  if (c.useAssumeRole) {
    const arn = `arn:aws:iam::${String(c.registryId)}:role/${String(c.assumeRoleId)}`;
    try {
      const out = await new STSClient({ region, endpoint, credentials, maxAttempts: 1 }).send(new AssumeRoleCommand({
        RoleArn: arn, RoleSessionName: `aws-go-sdk-${Date.now()}`, ...(c.assumeRoleExternalId ? { ExternalId: String(c.assumeRoleExternalId) } : {}),
      }));
      const k = out.Credentials!;
      credentials = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey!, sessionToken: k.SessionToken };
    } catch (err) {
      throw wrap(`get identity: get credentials: failed to refresh cached credentials, operation error STS: AssumeRole, ${apiError(err)}`);
    }
  }
  try {
    await new ECRClient({ region, endpoint, credentials, maxAttempts: 1 }).send(new GetAuthorizationTokenCommand({}));
  } catch (err) {
    throw wrap(apiError(err));
  }
}
