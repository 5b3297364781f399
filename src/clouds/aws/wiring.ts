/**
 * How pods receive an IAM role, by platform: on EKS the IRSA webhook reads the role from the service
 * account's annotation; on OpenShift the deployment names it in the environment the AWS SDKs read,
 * with the token OpenShift projects for audience `openshift`.
 */
import { EKS_ROLE_ANNOTATION } from '../../platforms/eks/constants.js';
import { OPENSHIFT_AUDIENCE, OPENSHIFT_TOKEN_FILE, TOKEN_EXPIRATION_SECONDS } from '../../platforms/openshift/constants.js';
import type { PlatformId, PodWiring } from '../../platforms/types.js';

/** The token audience STS is told to expect, by platform (the trust policy's `aud`). */
export const AWS_AUDIENCE: Record<AwsPlatform, string> = { eks: 'sts.amazonaws.com', openshift: OPENSHIFT_AUDIENCE };

/** The platforms AWS pairs with. */
export type AwsPlatform = Extract<PlatformId, 'eks' | 'openshift'>;

export function awsWiring(platform: PlatformId, roleArn: string): PodWiring {
  if (platform === 'eks') return { serviceAccountAnnotations: { [EKS_ROLE_ANNOTATION]: roleArn } };
  return {
    env: [
      { name: 'AWS_ROLE_ARN', value: roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: OPENSHIFT_TOKEN_FILE },
    ],
    token: { audience: OPENSHIFT_AUDIENCE, path: OPENSHIFT_TOKEN_FILE, expirationSeconds: TOKEN_EXPIRATION_SECONDS },
  };
}
