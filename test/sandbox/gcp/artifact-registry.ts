// Artifact Registry: the API (artifactregistry.v1 repositories get/list, IAM policy,
// testIamPermissions) and the Docker registry of `<location>-docker.pkg.dev`, which serves the
// manifests and tags of seeded images to callers allowed to download them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GoogleError } from './google-error.js';
import type { Policy } from './iam-policy.js';
import { decisionOf, iamPolicyRequest, repoKey, send, str, type GcpWorld, type Handler, type Repository } from './world.js';

export function artifactRegistryHandlers(w: GcpWorld): Record<string, Handler> {
  const { repositories, project, allowed, requirePermission } = w;
  const repositoryByName = (name: string): Repository => {
    const [, p, l, r] = /^projects\/([^/]+)\/locations\/([^/]+)\/repositories\/([^/]+)$/.exec(name) ?? [];
    const proj = project(p!);
    const repo = repositories.get(repoKey(proj.projectId, l!, r!));
    if (!repo) throw new GoogleError('NOT_FOUND', `Requested entity was not found.`);
    return repo;
  };
  const repositoryBody = (r: Repository): Record<string, unknown> => ({
    name: `projects/${r.projectId}/locations/${r.location}/repositories/${r.repository}`,
    format: 'DOCKER',
    mode: 'STANDARD_REPOSITORY',
    registryUri: `${r.location}-docker.pkg.dev/${r.projectId}/${r.repository}`,
    createTime: '2024-01-01T00:00:00Z',
    updateTime: '2024-01-01T00:00:00Z',
  });
  return {
    'artifactregistry.projects.locations.repositories.get': ({ params, caller }) => {
      const repo = repositoryByName(str(params.name));
      requirePermission(caller, 'artifactregistry.repositories.get', str(params.name), [repo.policy, project(repo.projectId).policy]);
      return repositoryBody(repo);
    },
    'artifactregistry.projects.locations.repositories.list': ({ params, caller }) => {
      const [, p, l] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'artifactregistry.repositories.list', str(params.parent), [proj.policy]);
      const list = [...repositories.values()].filter((r) => r.projectId === proj.projectId && r.location === l).map(repositoryBody);
      return list.length ? { repositories: list } : {};
    },
    'artifactregistry.projects.locations.repositories.getIamPolicy': (ctx) => {
      const repo = repositoryByName(str(ctx.params.resource));
      requirePermission(ctx.caller, 'artifactregistry.repositories.getIamPolicy', str(ctx.params.resource), [repo.policy, project(repo.projectId).policy]);
      return repo.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'artifactregistry.projects.locations.repositories.setIamPolicy': ({ params, body, caller }) => {
      const repo = repositoryByName(str(params.resource));
      requirePermission(caller, 'artifactregistry.repositories.setIamPolicy', str(params.resource), [repo.policy, project(repo.projectId).policy]);
      return repo.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
    'artifactregistry.projects.locations.repositories.testIamPermissions': ({ params, body, caller }) => {
      const repo = repositoryByName(str(params.resource));
      const asked = (body.permissions ?? []) as string[];
      const held = asked.filter((p) => allowed(caller, p, [repo.policy, project(repo.projectId).policy]));
      return held.length ? { permissions: held } : {};
    },
  };
}

/** The Docker registry `<location>-docker.pkg.dev/v2/…`: bearer, or basic `oauth2accesstoken:<token>`. */
export function handleDocker(w: GcpWorld, req: IncomingMessage, res: ServerResponse, location: string, path: string): void {
  const { record, tokens, repositories, projects, now, allowed } = w;
  const reg = `${location}-docker.pkg.dev`;
  const deny = (status: number, code: string, message: string, caller?: string): void => {
    record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller, decision: decisionOf(status), status, reason: message });
    send(res, status, { errors: [{ code, message }] }, status === 401 ? { 'www-authenticate': `Bearer realm="${w.origin(`docker:${location}`) ?? ''}/v2/token",service="${reg}"` } : {});
  };
  // Docker clients send the access token as a bearer token, or as the password of `oauth2accesstoken`.
  const auth = String(req.headers.authorization ?? '');
  let token: string | undefined;
  if (/^Bearer /i.test(auth)) token = auth.slice(7);
  else if (/^Basic /i.test(auth)) {
    const [user, pass] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    if (user === 'oauth2accesstoken') token = pass;
  }
  const issued = token ? tokens.get(token) : undefined;
  if (!issued || issued.expiresAt <= now()) return deny(401, 'UNAUTHORIZED', 'authentication failed');
  if (path === '/v2/' || path === '/v2') {
    record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
    return send(res, 200, {});
  }
  const m = /^\/v2\/([^/]+)\/([^/]+)\/(.+)\/(manifests|tags)\/(.+)$/.exec(path);
  if (!m) return deny(404, 'NAME_UNKNOWN', 'Requested repository was not found.', issued.principal);
  const [, p, r, image, kind, ref] = m;
  const repo = repositories.get(repoKey(p!, location, r!));
  const resource = `projects/${p}/locations/${location}/repositories/${r}`;
  const proj = projects.get(p!);
  if (!repo || !proj || !allowed(issued.principal, 'artifactregistry.repositories.downloadArtifacts', [repo.policy, proj.policy])) {
    return deny(403, 'DENIED', `Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "${resource}" (or it may not exist)`, issued.principal);
  }
  const tags = (repo.images ?? []).filter((i) => i.startsWith(`${image}:`)).map((i) => i.slice(image!.length + 1));
  if (kind === 'tags') {
    record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
    return send(res, 200, { name: `${p}/${r}/${image}`, tags });
  }
  if (!tags.includes(ref!)) return deny(404, 'MANIFEST_UNKNOWN', `Failed to fetch "${ref}"`, issued.principal);
  record({ method: req.method ?? 'GET', path: req.url ?? '', methodId: 'docker.registry', caller: issued.principal, decision: 'allowed', status: 200 });
  send(res, 200, { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${'0'.repeat(64)}` }, layers: [] }, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
}
