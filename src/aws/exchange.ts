/**
 * The end-to-end proof used by `verify`: exchange a service-account token for role credentials
 * (sts:AssumeRoleWithWebIdentity), then use them for ecr:GetAuthorizationToken. Credentials and
 * tokens stay inside this module: callers get only non-secret facts back.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mapAwsError, mapWebIdentityError, type WebIdentity } from './errors.js';

export interface ExchangeResult {
  assumedRoleArn: string;
  expiration?: Date;
  /** Whether ecr:GetAuthorizationToken succeeded with the role credentials, and where it pointed. */
  ecr: { ok: true; proxyEndpoint?: string; expiresAt?: Date } | { ok: false; error: string };
}

export interface ExchangeInput {
  roleArn: string;
  webIdentityToken: string;
  /** Region of the STS and ECR endpoints. */
  region: string;
  /** ECR registry to ask for an authorization token (account id). */
  registryId?: string;
  log: (message: string) => void;
}

export async function exchangeAndPullAuth(i: ExchangeInput): Promise<ExchangeResult> {
  // The SDK sends this call unsigned (it needs no credentials of the caller), as the pods will.
  const sts = new STSClient({ region: i.region, maxAttempts: 3 });
  i.log('aws STS.AssumeRoleWithWebIdentity');
  let out;
  try {
    out = await sts.send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: i.roleArn,
      RoleSessionName: 'rhacs-sts-verify',
      WebIdentityToken: i.webIdentityToken,
      DurationSeconds: 900,
    }));
  } catch (err) {
    throw mapWebIdentityError(err, webIdentity(i.roleArn, i.webIdentityToken));
  }
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw mapAwsError(new Error('STS returned no credentials'), 'exchanging the token');
  const ecr = new ECRClient({
    region: i.region,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    maxAttempts: 3,
  });
  i.log('aws ECR.GetAuthorizationToken (with the role credentials)');
  let ecrResult: ExchangeResult['ecr'];
  try {
    const auth = await ecr.send(new GetAuthorizationTokenCommand(i.registryId ? { registryIds: [i.registryId] } : {}));
    const d = auth.authorizationData?.[0];
    ecrResult = { ok: true, proxyEndpoint: d?.proxyEndpoint, expiresAt: d?.expiresAt };
  } catch (err) {
    ecrResult = { ok: false, error: mapAwsError(err, 'calling ecr:GetAuthorizationToken with the role credentials').message };
  }
  return { assumedRoleArn: out.AssumedRoleUser?.Arn ?? i.roleArn, expiration: c.Expiration, ecr: ecrResult };
}

/** The token's claims, unverified: only to name the issuer, subject and audience in error messages. */
function webIdentity(roleArn: string, token: string): WebIdentity {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: string; sub?: string; aud?: string | string[] };
    return { roleArn, issuer: claims.iss, subject: claims.sub, audience: [claims.aud ?? []].flat().join(', ') || undefined };
  } catch {
    return { roleArn };
  }
}
