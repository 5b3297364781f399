// The Google Cloud flags' checks (GKE, OpenShift on Google Cloud): each returns the problem with a value, naming what it should be.
import { PROJECT_ID } from '../clouds/gcp/project.js';
import { accountIdProblems } from '../clouds/gcp/service-account.js';
import { workloadIdentityIdProblems } from '../clouds/gcp/workload-identity-ids.js';

/** A Google project id (6–30 characters: lower-case letters, digits, hyphens; a letter first). */
export function gcpProjectProblem(id: string): string | undefined {
  return PROJECT_ID.test(id) ? undefined : `"${id}" is not a project id (6–30 characters: lower-case letters, digits and hyphens, a letter first, no hyphen last)`;
}

/** A Google service account: its id (6–30 characters), or its email <id>@<project>.iam.gserviceaccount.com. */
export function gcpServiceAccountProblem(value: string): string | undefined {
  const email = /^([^@]+)@([a-z][-a-z0-9]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(value);
  const id = email ? email[1]! : value;
  if (!email && value.includes('@')) return `"${value}" is not a service account rhacs-sts can use: give its id, or its email <id>@<project>.iam.gserviceaccount.com`;
  const problems = accountIdProblems(id);
  return problems.length ? `"${id}" ${problems.join(', and ')}` : undefined;
}

/** A workload identity pool or provider id (Google's rule: 4–32 characters of a-z, 0-9 and "-", not starting with "gcp-"). */
export function workloadIdentityIdProblem(id: string): string | undefined {
  const problems = workloadIdentityIdProblems(id);
  return problems.length ? `"${id}" ${problems.join(', and ')}` : undefined;
}

/** The Google options, each checked (a bad value is a problem naming its flag, and left out). */
export function gcpOptions(check: (key: string, fn: (value: string) => string | undefined) => string | undefined) {
  return {
    gcpProject: check('gcpProject', gcpProjectProblem),
    gcpServiceAccount: check('gcpServiceAccount', gcpServiceAccountProblem),
    workloadIdentityPool: check('workloadIdentityPool', workloadIdentityIdProblem),
    workloadIdentityProvider: check('workloadIdentityProvider', workloadIdentityIdProblem),
  };
}
