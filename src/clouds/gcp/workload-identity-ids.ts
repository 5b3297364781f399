// Google's rule for workload identity pool and provider ids (a leaf: the options check the flags with it).

export const WORKLOAD_IDENTITY_ID = /^[a-z0-9-]+$/;
export const WORKLOAD_IDENTITY_ID_MIN = 4;
export const WORKLOAD_IDENTITY_ID_MAX = 32;

/** Pure: what is wrong with a pool or provider id (empty when Google would accept it). */
export function workloadIdentityIdProblems(id: string): string[] {
  const out: string[] = [];
  if (id.length < WORKLOAD_IDENTITY_ID_MIN || id.length > WORKLOAD_IDENTITY_ID_MAX) out.push(`must be ${WORKLOAD_IDENTITY_ID_MIN}–${WORKLOAD_IDENTITY_ID_MAX} characters (it has ${id.length})`);
  if (!WORKLOAD_IDENTITY_ID.test(id)) out.push('must hold only lower-case letters, digits and hyphens');
  if (id.startsWith('gcp-')) out.push('must not start with "gcp-" (Google keeps that prefix)');
  return out;
}
