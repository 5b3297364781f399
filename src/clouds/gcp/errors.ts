// Google's answers, as typed errors: the call that failed, the HTTP status and Google's own status
// (ABORTED, PERMISSION_DENIED…), so that callers branch on them and a person reads what to fix.
import { OperationError } from '../../errors.js';

export class GoogleApiError extends OperationError {
  constructor(
    /** The API method, e.g. `iam.projects.serviceAccounts.setIamPolicy`. */
    readonly call: string,
    /** The HTTP status; 0 when no answer came (network error, timeout). */
    readonly httpStatus: number,
    /** Google's status name (`ABORTED`, `NOT_FOUND`, `PERMISSION_DENIED`), when it sent one. */
    readonly status: string | undefined,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** A stale `etag` on setIamPolicy: another writer changed the policy between our read and write. */
export function isConcurrentPolicyChange(err: unknown): boolean {
  return err instanceof GoogleApiError && err.httpStatus === 409 && err.status === 'ABORTED';
}

export function isNotFound(err: unknown): boolean {
  return err instanceof GoogleApiError && err.httpStatus === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof GoogleApiError && err.httpStatus === 409 && err.status === 'ALREADY_EXISTS';
}
