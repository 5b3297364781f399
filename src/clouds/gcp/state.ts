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

export async function readGcpState(session: GcpSession, facts: GcpFacts, decisions: GcpDecisions): Promise<GcpState> {
  const email = accountEmail(decisions.accountId, facts.projectId);
  const resources = readerResources(facts.projectId, decisions.repositories);
  const [serviceAccount, readers] = await Promise.all([
    readServiceAccount(session, email),
    Promise.all(resources.map(async (r) => [describeResource(r), await readReaderPolicy(session, r)] as const)),
  ]);
  const serviceAccountPolicy: IamPolicy | null = serviceAccount ? await readPolicy(session, { kind: 'serviceAccount', email }) : null;
  return { serviceAccount: serviceAccount ?? null, serviceAccountPolicy, readerPolicies: Object.fromEntries(readers) };
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
