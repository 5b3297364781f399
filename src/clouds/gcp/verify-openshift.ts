/**
 * verify on OpenShift on Google Cloud: for each cluster, the provider's inline keys against the
 * cluster's current ones (stale after a rotation: a failing row whose fix is init), the Secret
 * gcp-cloud-credentials naming our provider (by project number) and service account, then for each
 * RHACS component the chain Central walks: a token with audience `openshift` → Google STS (audience
 * the provider's full name) → generateAccessToken for the service account → Artifact Registry's
 * permission check.
 */
import { targetComponents } from '../../plan/components.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../verify/rows.js';
import { CREDENTIALS_SECRET, CREDENTIALS_SECRET_KEY, OPENSHIFT_AUDIENCE, openshiftMember, providerAudience, toProjectNumber, type ProviderRef } from './external-account.js';
import { providerIdOf } from './plan-openshift.js';
import { readProvider } from './pools.js';
import { accountEmail, readServiceAccount } from './service-account.js';
import { checkTokenChain, providerKeysRow, wiringRow } from './verify.js';
import { gcpReport, type GcpVerifyReport, type GkeCheckInput } from './verify-gke.js';

export async function checkOpenShiftGcp(i: GkeCheckInput): Promise<GcpVerifyReport> {
  const { facts, decisions } = i;
  const wi = decisions.workloadIdentity!;
  const email = accountEmail(decisions.accountId, facts.projectId);
  const projectNumber = toProjectNumber(facts.projectNumber, 'the project number Resource Manager gave');
  const checks: CheckRow[] = [];
  const multi = facts.clusters.length > 1;
  for (const [n, cluster] of facts.clusters.entries()) {
    const where: Where = { cluster, multi };
    const kube = i.kube[n]!;
    const ref: ProviderRef = { projectNumber, poolId: wi.poolId, providerId: providerIdOf(wi, cluster) };
    const [provider, docs, secret] = await Promise.all([readProvider(i.google, ref), kube.issuerDiscovery(), kube.credentialsSecret?.(cluster.namespace, CREDENTIALS_SECRET, CREDENTIALS_SECRET_KEY)]);
    checks.push(providerKeysRow(provider && provider.state !== 'DELETED' ? provider : undefined, docs.keys, where));
    checks.push(secret?.ours === false
      ? row(rowId('gcp-wiring', where), rowName(`Secret ${CREDENTIALS_SECRET}`, where), 'fail', 'exists, but rhacs-sts did not write it (its content is not read here)', 'Run init with --adopt-credentials-secret to replace it, or remove it and run init.')
      : wiringRow({ platform: 'openshift', secretText: secret?.value, expected: { ...ref, serviceAccountEmail: email } }, where));
    const comps = targetComponents(cluster, decisions.delegatedScanning);
    for (const comp of comps) {
      const many = comps.length > 1;
      if (i.skipExchange) {
        checks.push(row(rowId('gcp-token-chain', where, comp), rowName(`token chain${many ? ` (${comp})` : ''}`, where), 'warn', 'Skipped (--skip-exchange): no token requested, no Google call made with one.', 'Run verify without --skip-exchange to prove the chain end to end.'));
        continue;
      }
      let subjectToken: string;
      try {
        // What Central reads: the token OpenShift mounts with audience `openshift`.
        subjectToken = await kube.requestToken(cluster.namespace, comp, OPENSHIFT_AUDIENCE);
      } catch (err) {
        checks.push(row(rowId('gcp-token', where, comp), rowName(`cluster token for Google${many ? ` (${comp})` : ''}`, where), 'fail',
          `no token for service account ${cluster.namespace}/${comp}: ${err instanceof Error ? err.message : String(err)}`,
          'Check that the service account exists and that you may create its tokens (serviceaccounts/token, create).'));
        continue;
      }
      const chain = await checkTokenChain({
        platform: 'openshift', subjectToken, tokenAudience: OPENSHIFT_AUDIENCE, stsAudience: providerAudience(ref),
        serviceAccountEmail: email, member: openshiftMember(ref, cluster.namespace, comp), projectId: facts.projectId,
        repositories: decisions.repositories, http: i.http, now: i.now, where,
        ...(i.endpoints ? { endpoints: i.endpoints } : {}),
      });
      if (chain.failed) i.log(`The token chain of ${cluster.namespace}/${comp} broke at ${chain.failed}.`);
      checks.push(...chain.rows.map((r) => ({ ...r, id: `${r.id}:${comp}`, ...(many ? { check: `${r.check} (${comp})` } : {}) })));
    }
  }
  const exists = (await readServiceAccount(i.google, email)) !== undefined;
  return gcpReport({
    projectId: facts.projectId, projectNumber: facts.projectNumber, serviceAccount: { email, exists },
    clusters: facts.clusters.map((c) => ({ ...(c.context ? { context: c.context } : {}), provider: c.provider, issuer: c.issuer, namespace: c.namespace, components: targetComponents(c, decisions.delegatedScanning) })),
  }, checks);
}
