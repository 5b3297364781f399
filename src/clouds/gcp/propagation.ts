/**
 * IAM propagation: a new service account or binding takes a while (seconds to minutes) before
 * Google honours it. After a create, wait — bounded, with progress — until the token chain proves it
 * (verify.ts), and tell a change not yet effective (keep waiting) from a wrong one (stop at once:
 * waiting will not fix a wrong audience).
 */
import { OperationError } from '../../errors.js';
import { checkTokenChain, type ChainLink, type TokenChainInput } from './verify.js';

export type ProbeResult = { state: 'ready' } | { state: 'pending'; why: string } | { state: 'failed'; why: string; fix?: string };

export interface PropagationWaitOptions {
  sleep: (ms: number) => Promise<void>;
  /** Called before each wait: what is awaited, the time waited so far and the last reason. */
  progress: (p: { what: string; waitedMs: number; nextMs: number; why: string }) => void;
  /** The most to wait in all (default 3 minutes); measured as the sum of the waits, not a clock. */
  maxWaitMs?: number;
}

export const DEFAULT_PROPAGATION_WAIT_MS = 180_000;
const FIRST_WAIT_MS = 2_000;
const LONGEST_WAIT_MS = 15_000;

/** Pure: the wait before check `n + 1` (doubling from 2 s, at most 15 s). */
export function propagationWaitMs(n: number): number {
  return Math.min(FIRST_WAIT_MS * 2 ** (n - 1), LONGEST_WAIT_MS);
}

/**
 * Checks `probe` until it is ready; a `failed` answer stops at once (as an OperationError with its
 * fix); still pending once the waits reach `maxWaitMs` → an OperationError saying a rerun resumes.
 */
export async function waitForPropagation(what: string, probe: () => Promise<ProbeResult>, o: PropagationWaitOptions): Promise<{ waitedMs: number; checks: number }> {
  const max = o.maxWaitMs ?? DEFAULT_PROPAGATION_WAIT_MS;
  let waitedMs = 0;
  for (let checks = 1; ; checks++) {
    const r = await probe();
    if (r.state === 'ready') return { waitedMs, checks };
    if (r.state === 'failed') throw new OperationError(`${what}: ${r.why}`, r.fix ? { hint: r.fix } : {});
    const nextMs = Math.min(propagationWaitMs(checks), max - waitedMs);
    if (nextMs <= 0) {
      throw new OperationError(`${what}: Google has not made the change effective after ${Math.round(waitedMs / 1000)} s (${r.why}).`, {
        hint: 'IAM changes usually take effect within minutes; run the same command again, which resumes from what exists.',
      });
    }
    o.progress({ what, waitedMs, nextMs, why: r.why });
    await o.sleep(nextMs);
    waitedMs += nextMs;
  }
}

/** Pure: whether a broken link is what a change not yet effective looks like: the account unknown (404), the binding not yet honoured (403), the role not yet held. */
export function notYetEffective(link: ChainLink, status: number | undefined): boolean {
  return link === 'registry' || (link === 'impersonation' && (status === 403 || status === 404));
}

/** A probe for `waitForPropagation`: the token chain, ready when every link holds. */
export function tokenChainProbe(input: TokenChainInput): () => Promise<ProbeResult> {
  return async () => {
    const r = await checkTokenChain(input);
    if (!r.failed) return { state: 'ready' };
    const broken = r.rows.find((x) => x.result === 'fail');
    const why = broken?.detail ?? r.failed;
    if (notYetEffective(r.failed, r.answer?.status)) return { state: 'pending', why };
    return { state: 'failed', why, ...(broken?.fix ? { fix: broken.fix } : {}) };
  };
}
