/**
 * verify on GKE: for each cluster, GKE's own prerequisites (workload identity on, the GKE metadata
 * server on the node pools that run RHACS), then for each RHACS component that acts as the Google
 * service account: the annotation naming it, and the token chain as GKE's metadata server walks it
 * (a token for the Kubernetes service account with the workload pool as audience → Google STS →
 * generateAccessToken for the service account → Artifact Registry's permission check).
 */
import type { KubeSession } from '../../kube/session.js';
import type { ClusterFacts, Component } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { GKE_SA_ANNOTATION } from '../../platforms/gke/constants.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../verify/rows.js';
import { gkeMember, gkeStsAudience, gkeWorkloadPool } from './external-account.js';
import { readGkeCluster } from './gke.js';
import type { GcpDecisions, GcpFacts } from './plan.js';
import { accountEmail, readServiceAccount } from './service-account.js';
import type { GcpSession } from './session.js';
import type { TokenHttp } from './token-http.js';
import { checkTokenChain, gkeClusterRows, wiringRow, type TokenChainEndpoints } from './verify.js';

/** verify's report for a Google run (the JSON document, and what the text is rendered from). */
export interface GcpVerifyReport {
  ok: boolean;
  cloud: 'gcp';
  projectId: string;
  projectNumber: string;
  serviceAccount: { email: string; exists: boolean };
  clusters: { context?: string; provider: ClusterFacts['provider']; issuer: string; namespace: string; components: Component[] }[];
  summary: { pass: number; warn: number; fail: number };
  checks: CheckRow[];
}

export interface GkeCheckInput {
  google: GcpSession;
  facts: GcpFacts;
  decisions: GcpDecisions;
  /** The Kubernetes session of each cluster of facts.clusters, in the same order. */
  kube: KubeSession[];
  http: TokenHttp;
  endpoints?: Partial<TokenChainEndpoints>;
  /** --skip-exchange: no tokens requested, no call made with them. */
  skipExchange: boolean;
  now: () => number;
  log: (message: string) => void;
}

/** Pure: the rows and their tally as a report. */
export function gcpReport(base: Omit<GcpVerifyReport, 'ok' | 'summary' | 'checks' | 'cloud'>, checks: CheckRow[]): GcpVerifyReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.result]++;
  return { ok: summary.fail === 0, cloud: 'gcp', ...base, summary, checks };
}

/** A row id of a component's link (two components of one cluster each have their chain). */
const ofComponent = (rows: CheckRow[], comp: Component, many: boolean): CheckRow[] =>
  rows.map((r) => ({ ...r, id: `${r.id}:${comp}`, ...(many ? { check: `${r.check} (${comp})` } : {}) }));

export async function checkGke(i: GkeCheckInput): Promise<GcpVerifyReport> {
  const { facts, decisions } = i;
  const email = accountEmail(decisions.accountId, facts.projectId);
  const pool = gkeWorkloadPool(facts.projectId);
  const checks: CheckRow[] = [];
  const multi = facts.clusters.length > 1;
  for (const [n, cluster] of facts.clusters.entries()) {
    const where: Where = { cluster, multi };
    if (cluster.gke) {
      const gke = await readGkeCluster(i.google, cluster.gke);
      checks.push(...gkeClusterRows(gke, cluster.gke.nodePools, where));
    }
    const comps = targetComponents(cluster, decisions.delegatedScanning);
    for (const comp of comps) {
      const many = comps.length > 1;
      checks.push(...ofComponent([wiringRow({ platform: 'gke', serviceAccount: comp, annotation: cluster.current?.[comp]?.serviceAccount?.annotations[GKE_SA_ANNOTATION], expectedEmail: email }, where)], comp, false));
      if (i.skipExchange) {
        checks.push(row(rowId('gcp-token-chain', where, comp), rowName(`token chain${many ? ` (${comp})` : ''}`, where), 'warn', 'Skipped (--skip-exchange): no token requested, no Google call made with one.', 'Run verify without --skip-exchange to prove the chain end to end.'));
        continue;
      }
      let subjectToken: string;
      try {
        // What GKE's metadata server does for the pod: a token for its Kubernetes service account, audience the workload pool.
        subjectToken = await i.kube[n]!.requestToken(cluster.namespace, comp, pool);
      } catch (err) {
        checks.push(row(rowId('gcp-token', where, comp), rowName(`cluster token for Google${many ? ` (${comp})` : ''}`, where), 'fail',
          `no token for service account ${cluster.namespace}/${comp}: ${err instanceof Error ? err.message : String(err)}`,
          'Check that the service account exists and that you may create its tokens (serviceaccounts/token, create).'));
        continue;
      }
      const chain = await checkTokenChain({
        platform: 'gke', subjectToken, tokenAudience: pool, stsAudience: gkeStsAudience(facts.projectId, cluster.issuer),
        serviceAccountEmail: email, member: gkeMember(facts.projectId, cluster.namespace, comp), projectId: facts.projectId,
        repositories: decisions.repositories, http: i.http, now: i.now, where,
        ...(i.endpoints ? { endpoints: i.endpoints } : {}),
      });
      if (chain.failed) i.log(`The token chain of ${cluster.namespace}/${comp} broke at ${chain.failed}.`);
      checks.push(...ofComponent(chain.rows, comp, many));
    }
  }
  const exists = (await readServiceAccount(i.google, email)) !== undefined;
  return gcpReport({
    projectId: facts.projectId, projectNumber: facts.projectNumber, serviceAccount: { email, exists },
    clusters: facts.clusters.map((c) => ({ ...(c.context ? { context: c.context } : {}), provider: c.provider, issuer: c.issuer, namespace: c.namespace, components: targetComponents(c, decisions.delegatedScanning) })),
  }, checks);
}
