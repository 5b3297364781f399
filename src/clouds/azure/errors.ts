/**
 * Azure's failures in terms a person can act on. Missing, expired or refused credentials are input
 * (exit 2: nothing was changed, and the fix is the user's); everything else is an operation that
 * failed (exit 1), named with the call that failed.
 */
import { InputError, OperationError, type RhacsStsError, isRhacsStsError } from '../../errors.js';

export const CREDENTIAL_HINT =
  'Sign in with "az login" (and "az account set --subscription <id>"), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and ' +
  'AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE for workload identity); ' +
  'outside the public cloud, AZURE_AUTHORITY_HOST too.';

/** The fields of `@azure/identity`'s and `@azure/core-rest-pipeline`'s errors that are read here. */
interface AzureErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  errorResponse?: { error?: string; errorDescription?: string };
}

/** ARM's error code (`RoleAssignmentExists`, `PrincipalNotFound`…), or ''. */
export function azureErrorCode(err: unknown): string {
  const e = err as AzureErrorLike | undefined;
  return typeof e?.code === 'string' ? e.code : '';
}

export function azureStatus(err: unknown): number | undefined {
  const e = err as AzureErrorLike | undefined;
  return typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/** ARM codes that say the token itself is not good (expired, another tenant, malformed). */
const TOKEN_REFUSED = new Set(['AuthenticationFailed', 'ExpiredAuthenticationToken', 'InvalidAuthenticationToken', 'InvalidAuthenticationTokenAudience', 'InvalidAuthenticationTokenTenant']);

/** Entra's AADSTS code in a message, e.g. "AADSTS7000215". */
export function aadstsCode(message: string): string | undefined {
  return /\bAADSTS\d+\b/.exec(message)?.[0];
}

/** What Entra's codes about the caller's own credentials mean (the ones a person meets signing in). */
const AADSTS_MEANING: Record<string, string> = {
  AADSTS7000215: 'the client secret is wrong',
  AADSTS7000222: 'the client secret has expired',
  AADSTS700016: 'no application with this client id is in the tenant',
  AADSTS90002: 'the tenant does not exist',
  AADSTS700082: 'the sign-in has expired',
  AADSTS50173: 'the sign-in has expired (the password changed)',
  AADSTS70043: 'the sign-in has expired',
  AADSTS700024: 'the federated token has expired',
  AADSTS70021: 'no federated credential matches the token',
};

function firstLine(message: string): string {
  return (message.split('\n').find((l) => l.trim() !== '') ?? message).trim().slice(0, 400);
}

/** True for the errors that mean "no usable credentials", from identity or from ARM. */
export function isCredentialError(err: unknown): boolean {
  const e = err as AzureErrorLike | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'CredentialUnavailableError' || e.name === 'AggregateAuthenticationError' || e.name === 'AuthenticationError' || e.name === 'AuthenticationRequiredError') return true;
  return azureStatus(err) === 401 && TOKEN_REFUSED.has(azureErrorCode(err));
}

/** The errors of each member of a credential chain (AggregateAuthenticationError), or the error itself. */
function chainErrors(err: unknown): AzureErrorLike[] {
  const inner = (err as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(inner) && inner.length ? (inner as AzureErrorLike[]) : [err as AzureErrorLike];
}

/** Missing, expired or refused credentials → InputError naming the fix. */
export function credentialError(err: unknown): InputError {
  const message = (err as AzureErrorLike | undefined)?.message ?? String(err);
  // A chain goes on past a refused credential: a refusal among its members says more than "none found".
  const refused = chainErrors(err).map((e) => aadstsCode(e?.message ?? '')).find((c) => c !== undefined && AADSTS_MEANING[c] !== undefined);
  const code = refused ?? aadstsCode(message);
  const armCode = azureErrorCode(err);
  let what: string;
  if (code && AADSTS_MEANING[code]) {
    what = `Entra ID refused the credentials: ${AADSTS_MEANING[code]} (${code})`;
  } else if ((err as AzureErrorLike).name === 'CredentialUnavailableError' || (err as AzureErrorLike).name === 'AggregateAuthenticationError') {
    what = `no Azure credentials were found (${chainErrors(err).map((e) => firstLine(e?.message ?? '').slice(0, 160)).join('; ')})`;
  } else if (armCode === 'ExpiredAuthenticationToken') {
    what = 'Azure Resource Manager refused the token: it has expired';
  } else if (armCode === 'InvalidAuthenticationTokenTenant') {
    what = 'Azure Resource Manager refused the token: it is from another tenant than the subscription (sign in to the subscription\'s tenant, or set AZURE_TENANT_ID)';
  } else {
    what = `the Azure credentials were refused: ${firstLine(message)}`;
  }
  const e = new InputError([{ source: 'Azure credentials', message: what }], CREDENTIAL_HINT);
  (e as { cause?: unknown }).cause = err;
  return e;
}

/**
 * Maps an error from an Azure call: credentials → InputError; our own typed errors pass through;
 * anything else → OperationError naming the call (`doing`) and ARM's code.
 */
export function mapAzureError(err: unknown, doing: string): RhacsStsError {
  if (isRhacsStsError(err)) return err;
  if (isCredentialError(err)) return credentialError(err);
  const code = azureErrorCode(err);
  const status = azureStatus(err);
  const message = firstLine((err as AzureErrorLike | undefined)?.message ?? String(err));
  if (status === 403 && code === 'AuthorizationFailed') {
    return new OperationError(`Azure refused ${doing}: ${message}`, {
      hint: 'The signed-in principal needs a role that allows it: Managed Identity Contributor on the resource group for identities and federated credentials, and Role Based Access Control Administrator (or User Access Administrator, or Owner) on the registry for the AcrPull assignment.',
      cause: err,
    });
  }
  if ((err as AzureErrorLike | undefined)?.name === 'AbortError' || /aborted|timed out/i.test(message)) {
    return new OperationError(`Azure did not answer ${doing} in time.`, {
      hint: 'Check the network and any proxy; each request to Azure is bounded by --request-timeout. Re-running resumes.',
      cause: err,
    });
  }
  return new OperationError(`Azure failed ${doing}: ${code ? `${code}: ` : ''}${message}${status ? ` (HTTP ${status})` : ''}`, { cause: err });
}
