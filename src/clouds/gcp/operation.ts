/**
 * Google's long-running operations (IAM's workload identity pools and providers answer a create,
 * patch, delete or undelete with `{name, done: false}`): polled through `operations.get` until
 * done, a bounded number of times with a doubling wait, through the session's `sleep`.
 */
import { OperationError } from '../../errors.js';
import { GoogleApiError } from './errors.js';
import type { GcpSession } from './session.js';

export interface GoogleOperation<T = Record<string, unknown>> {
  name?: string;
  done?: boolean;
  response?: T;
  error?: { code?: number; message?: string; status?: string };
}

/** Polls of one operation before giving up (the waits add up to about a minute). */
export const OPERATION_POLLS = 12;
const POLL_BASE_MS = 500;
const POLL_MAX_MS = 8_000;

export function operationPollMs(poll: number): number {
  return Math.min(POLL_BASE_MS * 2 ** (poll - 1), POLL_MAX_MS);
}

/**
 * The operation's result once done; an operation that ends in error throws it as a GoogleApiError
 * of `call`; one still running after `polls` reads is an OperationError saying that a rerun resumes.
 */
export async function awaitOperation<T>(session: GcpSession, call: string, started: GoogleOperation<T>, polls = OPERATION_POLLS): Promise<T | undefined> {
  let op = started;
  for (let poll = 1; ; poll++) {
    if (op.error) {
      throw new GoogleApiError(call, op.error.code ?? 0, op.error.status, `${call}: ${op.error.message ?? 'the operation failed'}`);
    }
    if (op.done) return op.response;
    if (!op.name) throw new GoogleApiError(call, 200, undefined, `${call}: the answer is neither done nor an operation to wait for`);
    if (poll > polls) {
      throw new OperationError(`${call}: Google has not finished operation ${op.name} after ${polls} checks.`, {
        hint: 'It may still finish; run the same command again, which resumes from what exists.',
      });
    }
    await session.sleep(operationPollMs(poll));
    const opName = op.name;
    const method = opName.includes('/providers/') ? 'iam.projects.locations.workloadIdentityPools.providers.operations.get' : 'iam.projects.locations.workloadIdentityPools.operations.get';
    op = await session.call<GoogleOperation<T>>({ api: 'iam', name: method, method: 'GET', path: `v1/${opName}`, safe: true });
  }
}
