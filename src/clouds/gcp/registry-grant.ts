/**
 * `roles/artifactregistry.reader` for RHACS's Google service account: on the repositories the user
 * names (`--gar-repository <location>/<repo>`, repeatable), else on the project — the narrowest
 * scope the user allows. Each grant is one member on one role, read-modify-write (iam-policy.ts).
 */
import { InputError, type InputProblem } from '../../errors.js';
import { isNotFound } from './errors.js';
import { describeResource, updateMember, type IamResource } from './iam-policy.js';
import type { GcpSession } from './session.js';

export const READER_ROLE = 'roles/artifactregistry.reader';
/** What the reader role lets RHACS do, and what verify asks Artifact Registry about. */
export const DOWNLOAD_PERMISSION = 'artifactregistry.repositories.downloadArtifacts';
const FLAG = '--gar-repository';

export interface GarRepository {
  location: string;
  repository: string;
}

/** Artifact Registry's locations: a region (`us-central1`) or a multi-region (`us`, `europe`, `asia`). */
const LOCATION = /^(?:[a-z]+-[a-z]+[0-9]+|us|europe|asia)$/;
/** A repository id: a lower-case letter first, then lower-case letters, digits and hyphens, at most 63. */
const REPOSITORY = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Pure: `--gar-repository` values as repositories (duplicates once), every problem at once, each naming the flag. */
export function parseGarRepositories(values: readonly string[]): { repositories: GarRepository[]; problems: InputProblem[] } {
  const repositories: GarRepository[] = [];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    const value = raw.trim();
    const host = /^([a-z0-9-]+)-docker\.pkg\.dev\/[^/]+\/([^/]+)\/?$/.exec(value);
    if (host) {
      problems.push({ source: FLAG, message: `${JSON.stringify(raw)} is a registry path; write it as <location>/<repository>: ${host[1]}/${host[2]}` });
      continue;
    }
    const parts = value.split('/');
    if (parts.length !== 2) {
      problems.push({ source: FLAG, message: `${JSON.stringify(raw)} is not <location>/<repository> (for example us-central1/rhacs)` });
      continue;
    }
    const [location, repository] = parts as [string, string];
    const bad: string[] = [];
    if (!LOCATION.test(location)) bad.push(`${JSON.stringify(location)} is not an Artifact Registry location (a region such as us-central1, or us, europe, asia)`);
    if (!REPOSITORY.test(repository)) bad.push(`${JSON.stringify(repository)} is not a repository id (a lower-case letter first, then lower-case letters, digits and hyphens, at most 63)`);
    if (bad.length) {
      problems.push({ source: FLAG, message: `${JSON.stringify(raw)}: ${bad.join('; ')}` });
      continue;
    }
    const key = `${location}/${repository}`;
    if (seen.has(key)) continue;
    seen.add(key);
    repositories.push({ location, repository });
  }
  return { repositories, problems };
}

/** Pure: where the reader role goes: each named repository, else the project. */
export function readerScopes(projectId: string, repositories: readonly GarRepository[]): IamResource[] {
  if (!repositories.length) return [{ kind: 'project', projectId }];
  return repositories.map((r) => ({ kind: 'repository', projectId, location: r.location, repository: r.repository }));
}

/** Pure: the Docker host Central pulls from for a location (`<location>-docker.pkg.dev`). */
export function dockerEndpoint(location: string): string {
  return `${location}-docker.pkg.dev`;
}

export interface GrantResult {
  resource: IamResource;
  changed: boolean;
}

/**
 * Grants (`op: 'add'`) or removes (`'remove'`) the reader role for `member` on each scope. All
 * named repositories are checked before any is written, so a missing one is bad input and nothing
 * changes.
 */
export async function changeReader(session: GcpSession, input: { projectId: string; repositories: readonly GarRepository[]; member: string; op: 'add' | 'remove' }): Promise<GrantResult[]> {
  const scopes = readerScopes(input.projectId, input.repositories);
  const missing = new Set<IamResource>();
  for (const s of scopes) {
    if (s.kind !== 'repository') continue;
    try {
      await session.call({ api: 'artifactregistry', name: 'artifactregistry.projects.locations.repositories.get', method: 'GET', path: `v1/projects/${encodeURIComponent(s.projectId)}/locations/${encodeURIComponent(s.location)}/repositories/${encodeURIComponent(s.repository)}`, safe: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.add(s);
    }
  }
  if (missing.size && input.op === 'add') {
    throw new InputError([...missing].map((s) => ({ source: FLAG, message: `${describeResource(s)} does not exist` })), `List the repositories with \`gcloud artifacts repositories list --project=${input.projectId}\`.`);
  }
  const out: GrantResult[] = [];
  // Removing from a repository that is gone: nothing is left to remove.
  for (const s of scopes.filter((x) => !missing.has(x))) {
    const r = await updateMember(session, s, { op: input.op, role: READER_ROLE, member: input.member });
    out.push({ resource: s, changed: r.changed });
  }
  return out;
}
