/**
 * init's wait for IAM propagation (the plan's `gcp-propagation` action, after it created the
 * service account or a grant): the token chain of each RHACS Kubernetes service account, as GKE's
 * metadata server walks it, checked until Google honours the change (propagation.ts).
 */
import { gkeMember, gkeStsAudience, gkeWorkloadPool } from './external-account.js';
import type { GcpAction } from './plan.js';
import { DEFAULT_PROPAGATION_WAIT_MS, tokenChainProbe, waitForPropagation } from './propagation.js';
import type { TokenHttp } from './token-http.js';
import type { TokenChainEndpoints } from './verify.js';

/** What the wait after init's grants needs beyond Google: each cluster's token, the calls as the workload, and where to say how it goes. */
export interface GrantWaitDeps {
  /** A token for a Kubernetes service account of a cluster (by its context), with an audience. */
  clusterToken: (context: string | undefined, namespace: string, serviceAccount: string, audience: string) => Promise<string>;
  http: TokenHttp;
  endpoints?: Partial<TokenChainEndpoints>;
  progress: (message: string) => void;
  warn: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  maxWaitMs?: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * init's wait after it created the account or a grant (a `gcp-propagation` action): for each
 * Kubernetes service account that acts as the Google one, the token chain as GKE's metadata server
 * walks it, until every link holds — within one budget for all (default 3 minutes). A cluster that
 * will not give a token (RBAC) cannot prove it: said as a warning, and the run goes on.
 */
export async function awaitGrants(a: Extract<GcpAction, { type: 'gcp-propagation' }>, d: GrantWaitDeps): Promise<true> {
  const pool = gkeWorkloadPool(a.projectId);
  let budget = d.maxWaitMs ?? DEFAULT_PROPAGATION_WAIT_MS;
  for (const p of a.probes) {
    let subjectToken: string;
    try {
      subjectToken = await d.clusterToken(p.context, p.namespace, p.serviceAccount, pool);
    } catch (err) {
      d.warn(`Could not check that Google honours the grants for ${p.namespace}/${p.serviceAccount} (no token for it: ${err instanceof Error ? err.message : String(err)}); a verify right away may fail until IAM propagation is done (usually minutes).`);
      continue;
    }
    const probe = tokenChainProbe({
      platform: 'gke', subjectToken, tokenAudience: pool, stsAudience: gkeStsAudience(a.projectId, p.issuer),
      serviceAccountEmail: a.email, member: gkeMember(a.projectId, p.namespace, p.serviceAccount), projectId: a.projectId,
      repositories: a.repositories, http: d.http, now: d.now ?? Date.now, ...(d.endpoints ? { endpoints: d.endpoints } : {}),
    });
    const out = await waitForPropagation(`Google IAM for ${p.namespace}/${p.serviceAccount}`, probe, {
      sleep: d.sleep ?? realSleep,
      maxWaitMs: budget,
      progress: ({ waitedMs, nextMs, why }) => d.progress(`IAM propagation: Google does not honour the new grants for ${p.namespace}/${p.serviceAccount} yet (${why}); ${Math.round(waitedMs / 1000)} s waited, checking again in ${Math.round(nextMs / 1000)} s`),
    });
    budget -= out.waitedMs;
  }
  return true;
}
