/** What every IAM read and write is given: the client, the diagnostics log and the pause between retries. */
import type { IAMClient, Tag } from '@aws-sdk/client-iam';
import { mapAwsError, type AwsErrorContext } from '../errors.js';

export interface IamContext {
  /** The IAM client (made on first use, in the region of the caller's partition). */
  iam(): IAMClient;
  log(message: string): void;
  /** Pause between retries of IAM's eventual consistency (tests shorten it). */
  sleep(ms: number): Promise<void>;
}

export const toTags = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
export const fromTags = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

/** IAM is eventually consistent: a role that trusts a provider created a moment ago may be refused briefly. */
export async function retryPropagation<T>(ctx: IamContext, doing: string, fn: () => Promise<T>, context: AwsErrorContext = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const msg = (err as Error)?.message ?? '';
      const transient = /MalformedPolicyDocument/.test((err as Error)?.name ?? '') && /Invalid principal|does not exist/i.test(msg);
      if (!transient || attempt >= 8) throw mapAwsError(err, doing, context);
      ctx.log(`IAM has not propagated the new OIDC provider yet; retrying (${attempt}/8)`);
      await ctx.sleep(Math.min(1000 * attempt, 5000));
    }
  }
}
