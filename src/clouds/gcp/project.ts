// The project: Google names workload identity pools and their principals by project NUMBER, the
// rest by id; Resource Manager answers for either (`projects.get`) and gives both.
import { InputError } from '../../errors.js';
import { GoogleApiError } from './errors.js';
import type { GcpSession } from './session.js';

export interface GcpProject {
  projectId: string;
  projectNumber: string;
}

/** Google's project id rule: 6–30 characters, lower-case letters, digits and hyphens, a letter first, no hyphen last. */
export const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
export const PROJECT_NUMBER = /^[1-9][0-9]{0,18}$/;

/** Pure: what is wrong with a project given by id or number (empty when it could be either). */
export function projectProblems(idOrNumber: string): string[] {
  if (PROJECT_ID.test(idOrNumber) || PROJECT_NUMBER.test(idOrNumber)) return [];
  return [`${JSON.stringify(idOrNumber)} is neither a project id (6–30 characters: lower-case letters, digits, hyphens; a letter first) nor a project number`];
}

/** Both names of a project, from Resource Manager; an unknown or hidden project is bad input, named by `source`. */
export async function readProject(session: GcpSession, idOrNumber: string, source = '--gcp-project'): Promise<GcpProject> {
  const problems = projectProblems(idOrNumber);
  if (problems.length) throw new InputError(problems.map((message) => ({ source, message })));
  let r: { name?: string; projectId?: string };
  try {
    r = await session.call({ api: 'cloudresourcemanager', name: 'cloudresourcemanager.projects.get', method: 'GET', path: `v3/projects/${encodeURIComponent(idOrNumber)}`, safe: true });
  } catch (err) {
    // Google answers 403 for a project that does not exist as for one the caller may not see.
    if (err instanceof GoogleApiError && (err.httpStatus === 403 || err.httpStatus === 404)) {
      throw new InputError([{ source, message: `project ${idOrNumber} does not exist, or these credentials may not read it (${err.message})` }], 'Check the project id (`gcloud projects list`) and that the credentials hold resourcemanager.projects.get on it.');
    }
    throw err;
  }
  const number = /^projects\/(\d+)$/.exec(r.name ?? '')?.[1];
  if (!number || !r.projectId) throw new GoogleApiError('cloudresourcemanager.projects.get', 200, undefined, `cloudresourcemanager.projects.get: the answer for ${idOrNumber} has no project number or id`);
  return { projectId: r.projectId, projectNumber: number };
}
