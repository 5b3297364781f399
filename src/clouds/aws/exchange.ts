/**
 * The end-to-end proof used by `verify`: exchange a service-account token for role credentials
 * (sts:AssumeRoleWithWebIdentity), then use them against ECR: ecr:GetAuthorizationToken, and a real
 * read of a repository in the registry — DescribeRepositories, ListImages and BatchGetImage on an
 * image where there is one. The token call alone proves little: it succeeds without any repository
 * permission, and across accounts without the repository policy that a read needs. Credentials and
 * tokens stay inside this module: callers get only non-secret facts back.
 */
import './sdk-env.js';
import {
  BatchGetImageCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ListImagesCommand,
} from '@aws-sdk/client-ecr';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mapAwsError, mapWebIdentityError, type WebIdentity } from './errors.js';
import { boundedRequests, watchCalls } from './http.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../options/options.js';

/** One repository read with the role's credentials: the calls that worked, or the one that failed. */
export type RepositoryRead =
  | { repository: string; ok: true; calls: string[]; image?: string }
  | { repository?: string; ok: false; action: string; error: string };

export interface ExchangeResult {
  assumedRoleArn: string;
  expiration?: Date;
  /**
   * Whether ecr:GetAuthorizationToken succeeded with the role credentials, and where it pointed;
   * then the repository reads (absent when none was asked for; empty when the registry has none).
   */
  ecr: { ok: true; proxyEndpoint?: string; expiresAt?: Date; reads?: RepositoryRead[] } | { ok: false; error: string };
}

/** Which repositories to read: the named ones, or (same account, every repository) the first the registry lists. */
export interface RegistryProbe {
  registryId: string;
  region: string;
  repositories: string[];
  list: boolean;
}

export interface ExchangeInput {
  roleArn: string;
  webIdentityToken: string;
  /** Region of the STS endpoint. */
  region: string;
  /** ECR registry to ask for an authorization token (account id). */
  registryId?: string;
  /** Repositories to read with the role's credentials. */
  probe?: RegistryProbe;
  log: (message: string) => void;
  /** Bound of each request attempt (--request-timeout). */
  timeoutMs?: number;
}

/** ECR's own error name and message (the reason it gives, e.g. which policy did not allow the call). */
function ecrError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return e?.name && e.message ? `${e.name}: ${e.message}` : mapAwsError(err, 'reading ECR with the role credentials').message;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

async function readRepositories(ecr: ECRClient, p: RegistryProbe, log: (m: string) => void): Promise<RepositoryRead[]> {
  const registryId = p.registryId;
  let names = p.repositories;
  if (names.length === 0 && p.list) {
    log('aws ECR.DescribeRepositories (with the role credentials)');
    try {
      const out = await ecr.send(new DescribeRepositoriesCommand({ registryId, maxResults: 20 }));
      names = (out.repositories ?? []).map((r) => r.repositoryName!).filter(Boolean).slice(0, 1);
    } catch (err) {
      return [{ ok: false, action: 'ecr:DescribeRepositories', error: ecrError(err) }];
    }
  }
  const reads: RepositoryRead[] = [];
  for (const repositoryName of names) {
    const calls: string[] = [];
    const step = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
      log(`aws ECR.${action} (with the role credentials)`);
      const out = await fn();
      calls.push(action);
      return out;
    };
    let action = 'DescribeRepositories';
    try {
      await step(action, () => ecr.send(new DescribeRepositoriesCommand({ registryId, repositoryNames: [repositoryName] })));
      action = 'ListImages';
      const listed = await step(action, () => ecr.send(new ListImagesCommand({ registryId, repositoryName, maxResults: 1 })));
      const id = listed.imageIds?.[0];
      if (!id) {
        reads.push({ repository: repositoryName, ok: true, calls });
        continue;
      }
      action = 'BatchGetImage';
      const got = await step(action, () => ecr.send(new BatchGetImageCommand({ registryId, repositoryName, imageIds: [id], acceptedMediaTypes: MANIFEST_TYPES })));
      const failure = got.failures?.[0];
      if (failure) {
        reads.push({ repository: repositoryName, ok: false, action: 'ecr:BatchGetImage', error: `${failure.failureCode ?? 'failure'}: ${failure.failureReason ?? ''}`.trim() });
        continue;
      }
      reads.push({ repository: repositoryName, ok: true, calls, image: id.imageTag ?? id.imageDigest });
    } catch (err) {
      reads.push({ repository: repositoryName, ok: false, action: `ecr:${action}`, error: ecrError(err) });
    }
  }
  return reads;
}

export async function exchangeAndPullAuth(i: ExchangeInput): Promise<ExchangeResult> {
  // The SDK sends this call unsigned (it needs no credentials of the caller), as the pods will.
  const timeoutMs = i.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const sts = new STSClient({ region: i.region, maxAttempts: 3, ...boundedRequests(timeoutMs) });
  watchCalls(sts, { timeoutMs });
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
  const ecrResult = await readEcrWith({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }, i);
  return { assumedRoleArn: out.AssumedRoleUser?.Arn ?? i.roleArn, expiration: c.Expiration, ecr: ecrResult };
}

/** ecr:GetAuthorizationToken and the repository reads, with the role's credentials (however they were obtained). */
export async function readEcrWith(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  i: Pick<ExchangeInput, 'region' | 'registryId' | 'probe' | 'log' | 'timeoutMs'>,
): Promise<ExchangeResult['ecr']> {
  const timeoutMs = i.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const ecr = new ECRClient({ region: i.probe?.region ?? i.region, credentials, maxAttempts: 3, ...boundedRequests(timeoutMs) });
  watchCalls(ecr, { timeoutMs });
  i.log('aws ECR.GetAuthorizationToken (with the role credentials)');
  let ecrResult: ExchangeResult['ecr'];
  try {
    const auth = await ecr.send(new GetAuthorizationTokenCommand(i.registryId ? { registryIds: [i.registryId] } : {}));
    const d = auth.authorizationData?.[0];
    ecrResult = { ok: true, proxyEndpoint: d?.proxyEndpoint, expiresAt: d?.expiresAt };
    if (i.probe && (i.probe.repositories.length > 0 || i.probe.list)) ecrResult.reads = await readRepositories(ecr, i.probe, i.log);
  } catch (err) {
    ecrResult = { ok: false, error: mapAwsError(err, 'calling ecr:GetAuthorizationToken with the role credentials').message };
  }
  return ecrResult;
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
