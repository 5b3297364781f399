/**
 * What is in place at Google for a GKE run (reads only): the service account, its IAM policy, and
 * the policy of each resource the reader grant goes on.
 */
import { InputError } from '../../errors.js';
import { isNotFound } from './errors.js';
import { describeResource, readPolicy, type IamPolicy, type IamResource } from './iam-policy.js';
import { readerResources, type GcpDecisions, type GcpFacts, type GcpState } from './plan.js';
import { accountEmail, readServiceAccount } from './service-account.js';
import type { GcpSession } from './session.js';
import { toProjectNumber } from './external-account.js';
import { readPool, readProvider } from './pools.js';

export async function readGcpState(session: GcpSession, facts: GcpFacts, decisions: GcpDecisions): Promise<GcpState> {
  const email = accountEmail(decisions.accountId, facts.projectId);
  const resources = readerResources(facts.projectId, decisions.repositories);
  const [serviceAccount, readers] = await Promise.all([
    readServiceAccount(session, email),
    Promise.all(resources.map(async (r) => [describeResource(r), await readReaderPolicy(session, r)] as const)),
  ]);
  const serviceAccountPolicy: IamPolicy | null = serviceAccount ? await readPolicy(session, { kind: 'serviceAccount', email }) : null;
  const wi = decisions.workloadIdentity ? await readWorkloadIdentity(session, facts, decisions.workloadIdentity) : {};
  return { serviceAccount: serviceAccount ?? null, serviceAccountPolicy, readerPolicies: Object.fromEntries(readers), ...wi };
}

/** OpenShift: the pool and each cluster's provider, in whatever state (a deleted one keeps its id reserved). */
async function readWorkloadIdentity(session: GcpSession, facts: GcpFacts, wi: NonNullable<GcpDecisions['workloadIdentity']>): Promise<Pick<GcpState, 'pool' | 'providers'>> {
  const projectNumber = toProjectNumber(facts.projectNumber, 'the project number Resource Manager gave');
  const pool = (await readPool(session, { projectNumber, poolId: wi.poolId })) ?? null;
  const ids = [...new Set(Object.values(wi.providerIds))];
  const providers = pool ? await Promise.all(ids.map(async (providerId) => [providerId, (await readProvider(session, { projectNumber, poolId: wi.poolId, providerId })) ?? null] as const)) : ids.map((id) => [id, null] as const);
  return { pool, providers: Object.fromEntries(providers) };
}

/** The policy the reader grant goes on; a repository that does not exist is bad input naming --gar-repository. */
async function readReaderPolicy(session: GcpSession, r: IamResource): Promise<IamPolicy> {
  try {
    return await readPolicy(session, r);
  } catch (err) {
    if (r.kind === 'repository' && isNotFound(err)) {
      throw new InputError([{ source: '--gar-repository', message: `${r.location}/${r.repository}: no such Artifact Registry repository in project ${r.projectId}` }], `List the repositories with: gcloud artifacts repositories list --project=${r.projectId}`);
    }
    throw err;
  }
}
