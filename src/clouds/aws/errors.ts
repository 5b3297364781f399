/** Maps AWS SDK errors to messages a person can act on. */
import { ExitCode, OperationError, RhacsStsError } from '../../errors.js';
import { callFacts, type CallFacts } from './http.js';

interface AwsErrorLike {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
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

/** What the caller knows that AWS's error message leaves out. */
export interface AwsErrorContext {
  /** The trust policy document sent (CreateRole / UpdateAssumeRolePolicy), for the size quota message. */
  trustPolicy?: string;
}

/** Service Quotas code of "Role trust policy length" (IAM's ACLSizePerRole). */
export const TRUST_POLICY_QUOTA_CODE = 'L-C07B4B0D';

/** Characters IAM counts against the trust policy quota: whitespace is not counted. */
export function trustPolicySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

function trustPolicyTooLarge(err: unknown, message: string, doing: string, document: string): RhacsStsError {
  const quota = /ACLSizePerRole:\s*(\d+)/.exec(message)?.[1];
  const size = trustPolicySize(document);
  return new OperationError(
    `The trust policy is too large while ${doing}: ${size} characters (whitespace not counted), over the IAM quota of ${quota ?? 'the account'} (ACLSizePerRole).`,
    {
      hint:
        `Request a higher "Role trust policy length" quota in Service Quotas (IAM quota code ${TRUST_POLICY_QUOTA_CODE}, at most 4096), ` +
        'or trust fewer clusters or service accounts per role (e.g. one role per cluster with --role-name).',
      cause: err,
    },
  );
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`);

/** "IAM.GetRole at https://iam.amazonaws.com" (as much as is known). */
function callAt(facts: CallFacts | undefined): string {
  if (!facts) return 'AWS';
  return `${facts.call}${facts.endpoint ? ` at ${facts.endpoint}` : ''}`;
}

const TIMEOUT_HINT =
  'Check the network, any proxy (HTTPS_PROXY) and AWS_ENDPOINT_URL. Each request to AWS is bounded by --request-timeout ' +
  '(RHACS_STS_REQUEST_TIMEOUT, default 30s) and retried by the SDK; give a slow network longer with it. Re-running resumes.';

function isTimeout(err: unknown): boolean {
  const e = err as AwsErrorLike;
  return e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT' || e?.name === 'RequestTimeout' || e?.name === 'RequestTimeoutException';
}

/**
 * An answer that is not AWS's: a proxy's or load balancer's error page (an HTML 502), for which
 * the SDK can only say "Unknown". Says the status and where it came from instead.
 */
function notAnAwsAnswer(err: unknown, c: string, message: string): boolean {
  const status = (err as AwsErrorLike)?.$metadata?.httpStatusCode;
  if (!status || status < 300) return false;
  return c === '' || /^Unknown(Error)?$/i.test(c) || /^Unknown(Error)?$/i.test(message.trim()) || /^(SyntaxError|Deserialization)/.test(c) || message.trim() === '';
}

/** Turns an SDK error into a RhacsStsError; `doing` says what we were doing ("creating the role"). */
export function mapAwsError(err: unknown, doing: string, context: AwsErrorContext = {}): RhacsStsError {
  if (err instanceof RhacsStsError) return err;
  const c = code(err);
  const message = (err as AwsErrorLike)?.message ?? String(err);
  const facts = callFacts(err);
  if (isTimeout(err)) {
    const attempts = (err as AwsErrorLike)?.$metadata?.attempts;
    return new OperationError(
      `AWS did not answer ${callAt(facts)} within ${facts ? seconds(facts.timeoutMs) : 'the request timeout'}${attempts && attempts > 1 ? ` (${attempts} attempts)` : ''} while ${doing}.`,
      { hint: TIMEOUT_HINT, cause: err },
    );
  }
  if (notAnAwsAnswer(err, c, message)) {
    const status = (err as AwsErrorLike).$metadata!.httpStatusCode!;
    return new OperationError(
      `${facts?.endpoint ?? 'The AWS endpoint'} answered ${facts?.call ?? 'the call'} with HTTP ${status} and no AWS error in the body while ${doing}: not an answer from AWS itself.`,
      { hint: 'A proxy or load balancer between here and AWS answered instead (or AWS_ENDPOINT_URL points at something else). Check them, then re-run: every step resumes from what is in place.', cause: err },
    );
  }
  if (c === 'CredentialsProviderError' || /Could not load credentials|Unable to locate credentials|ProviderError/i.test(c)) {
    return new RhacsStsError(`No AWS credentials found while ${doing}.`, { exitCode: ExitCode.InvalidInput, hint: CREDENTIAL_HINT, cause: err });
  }
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired|TokenRefreshRequired)$/.test(c) || /token.*expired|expired.*token/i.test(message)) {
    return new RhacsStsError(`Your AWS credentials have expired (${c || 'expired token'}) while ${doing}.`, {
      exitCode: ExitCode.Failed,
      hint: 'Refresh them (e.g. "aws sso login --profile <name>", or obtain a new session token) and re-run.',
      cause: err,
    });
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId)$/.test(c)) {
    return new RhacsStsError(`AWS rejected the credentials (${c}) while ${doing}.`, { exitCode: ExitCode.Failed, hint: CREDENTIAL_HINT, cause: err });
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
  if ((c === 'LimitExceeded' || c === 'LimitExceededException') && /ACLSizePerRole/.test(message) && context.trustPolicy !== undefined) {
    return trustPolicyTooLarge(err, message, doing, context.trustPolicy);
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

/** Runs one SDK call; an error it throws becomes ours, saying what we were doing. */
export async function call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAwsError(err, doing);
  }
}

/** The web identity being exchanged, from the token's unverified claims. */
export interface WebIdentity {
  roleArn: string;
  issuer?: string;
  subject?: string;
  audience?: string;
}

/**
 * sts:AssumeRoleWithWebIdentity refusals, each pointing at what to fix: the OIDC provider's client
 * IDs, AWS's view of the issuer, or the role's trust policy. Other errors go to mapAwsError.
 */
export function mapWebIdentityError(err: unknown, id: WebIdentity): RhacsStsError {
  if (err instanceof RhacsStsError) return err;
  const c = code(err);
  const message = (err as AwsErrorLike)?.message ?? String(err);
  const issuer = id.issuer ?? 'the token\'s issuer';
  const who = `${id.subject ?? 'the service account'}${id.audience ? ` (audience ${id.audience})` : ''}`;
  if (c === 'IDPCommunicationError') {
    return new OperationError(`AWS cannot reach the issuer ${issuer} to verify the token for ${id.roleArn}: ${message}`, {
      hint: `AWS STS must fetch ${issuer}/.well-known/openid-configuration and the keys it points to over the public internet, with a trusted certificate. Make the issuer publicly reachable, then re-run.`,
      cause: err,
    });
  }
  if (c === 'InvalidIdentityToken' && /audience/i.test(message)) {
    return new OperationError(`AWS refused the token's audience ${id.audience ?? '(none)'}: it is not a client ID of the IAM OIDC provider for ${issuer}.`, {
      hint: `Add it: aws iam add-client-id-to-open-id-connect-provider --client-id ${id.audience ?? '<audience>'} (or re-run "rhacs-sts init" with --adopt-oidc-provider).`,
      cause: err,
    });
  }
  if (c === 'InvalidIdentityToken') {
    return new OperationError(`AWS refused the service-account token for ${id.roleArn}: ${message}`, {
      hint: `Check that the IAM OIDC provider for ${issuer} exists in the role's account and that the cluster's service-account signing keys are the ones it publishes; re-run "rhacs-sts init" to create the provider.`,
      cause: err,
    });
  }
  if (c === 'AccessDenied' || c === 'AccessDeniedException') {
    return new OperationError(`The trust policy of ${id.roleArn} does not allow ${who} to assume it (sts:AssumeRoleWithWebIdentity was denied).`, {
      hint: `The trust policy needs a statement with Principal.Federated = the OIDC provider of ${issuer}, and StringEquals conditions on its :sub and :aud that match; re-run "rhacs-sts init" to write it.`,
      cause: err,
    });
  }
  return mapAwsError(err, `exchanging the service-account token for ${id.roleArn}`);
}
