/**
 * What is in place at Google for a GKE run (reads only): the service account, its IAM policy, and
 * the policy of each resource the reader grant goes on.
 */
import { describeResource, readPolicy, type IamPolicy } from './iam-policy.js';
import { readerResources, type GcpDecisions, type GcpFacts, type GcpState } from './plan.js';
import { accountEmail, readServiceAccount } from './service-account.js';
import type { GcpSession } from './session.js';

export async function readGcpState(session: GcpSession, facts: GcpFacts, decisions: GcpDecisions): Promise<GcpState> {
  const email = accountEmail(decisions.accountId, facts.projectId);
  const resources = readerResources(facts.projectId, decisions.repositories);
  const [serviceAccount, readers] = await Promise.all([
    readServiceAccount(session, email),
    Promise.all(resources.map(async (r) => [describeResource(r), await readPolicy(session, r)] as const)),
  ]);
  const serviceAccountPolicy: IamPolicy | null = serviceAccount ? await readPolicy(session, { kind: 'serviceAccount', email }) : null;
  return { serviceAccount: serviceAccount ?? null, serviceAccountPolicy, readerPolicies: Object.fromEntries(readers) };
}
