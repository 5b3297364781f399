/** Maps AWS SDK errors to messages a person can act on. */
import { ExitCode, OperationError, RhacsStsError } from '../errors.js';

interface AwsErrorLike {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function code(err: unknown): string {
  const e = err as AwsErrorLike;
  return e?.Code ?? e?.name ?? '';
}

export function isNoSuchEntity(err: unknown): boolean {
  return code(err) === 'NoSuchEntity' || code(err) === 'NoSuchEntityException';
}

export function isAlreadyExists(err: unknown): boolean {
  return code(err) === 'EntityAlreadyExists' || code(err) === 'EntityAlreadyExistsException';
}

const CREDENTIAL_HINT =
  'Provide AWS credentials: --profile <name> (or AWS_PROFILE), "aws sso login --profile <name>" for SSO, ' +
  'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN), or a web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE).';

/** Turns an SDK error into a RhacsStsError; `doing` says what we were doing ("creating the role"). */
export function mapAwsError(err: unknown, doing: string): RhacsStsError {
  if (err instanceof RhacsStsError) return err;
  const c = code(err);
  const message = (err as AwsErrorLike)?.message ?? String(err);
  if (c === 'CredentialsProviderError' || /Could not load credentials|Unable to locate credentials|ProviderError/i.test(c)) {
    return new RhacsStsError(`No AWS credentials found while ${doing}.`, { exitCode: ExitCode.InvalidInput, hint: CREDENTIAL_HINT, cause: err });
  }
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired|TokenRefreshRequired)$/.test(c) || /token.*expired|expired.*token/i.test(message)) {
    return new RhacsStsError(`Your AWS credentials have expired (${c || 'expired token'}) while ${doing}.`, {
      exitCode: ExitCode.InvalidInput,
      hint: 'Refresh them (e.g. "aws sso login --profile <name>", or obtain a new session token) and re-run.',
      cause: err,
    });
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId)$/.test(c)) {
    return new RhacsStsError(`AWS rejected the credentials (${c}) while ${doing}.`, { exitCode: ExitCode.InvalidInput, hint: CREDENTIAL_HINT, cause: err });
  }
  if (/AccessDenied/.test(c) || (err as AwsErrorLike)?.$metadata?.httpStatusCode === 403) {
    // "User: arn:aws:iam::1:user/x is not authorized to perform: iam:CreateRole on resource: arn:… because …"
    const m = /User: (\S+) is not authorized to perform: (\S+?)(?: on resource: (\S+))?(?: because|$|\s)/.exec(message);
    const principal = m?.[1] ?? 'the caller';
    const action = m?.[2] ?? 'an IAM action';
    const resource = m?.[3];
    return new OperationError(`Access denied while ${doing}: ${principal} may not call ${action}${resource ? ` on ${resource}` : ''}.`, {
      hint: `Grant ${action}${resource ? ` on ${resource}` : ''} to ${principal} (or use --profile with a principal that has it), then re-run.`,
      cause: err,
    });
  }
  if (/^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded|SlowDown)$/.test(c)) {
    return new OperationError(`AWS kept throttling the requests while ${doing}, after the SDK's retries.`, {
      hint: 'Wait a minute and re-run: every step resumes from what is already in place.',
      cause: err,
    });
  }
  if (c === 'LimitExceeded' || c === 'LimitExceededException') {
    return new OperationError(`An IAM quota was reached while ${doing}: ${message}`, { hint: 'Remove unused IAM roles or OIDC providers, or request a quota increase.', cause: err });
  }
  if (c === 'MalformedPolicyDocument' || c === 'MalformedPolicyDocumentException') {
    return new OperationError(`IAM rejected a policy document while ${doing}: ${message}`, { cause: err });
  }
  if (c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/.test(message)) {
    return new OperationError(`Could not reach AWS while ${doing}: ${message}`, { hint: 'Check the network, proxy settings and AWS_ENDPOINT_URL, then re-run.', cause: err });
  }
  return new OperationError(`AWS error while ${doing}: ${c ? `${c}: ` : ''}${message}`, { cause: err });
}
