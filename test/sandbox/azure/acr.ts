// Stand-in for Azure Container Registry's token service and a slice of its registry API, as Central
// (pkg/registries/azure) and the docker/oras clients use them, one registry per `Host`
// (`<name>.azurecr.io`, or the sovereign cloud's suffix):
//   POST /oauth2/exchange  grant_type=access_token, service, tenant, access_token (an Entra token for
//                          ARM or https://containerregistry.azure.net) → {refresh_token}
//   POST /oauth2/token     grant_type=refresh_token, service, scope=repository:<r>:pull, refresh_token
//                          → {access_token}, carrying only the actions the caller's roles allow
//   GET  /v2/                                   → 200 with a registry token
//   GET  /v2/<repository>/tags/list             → {name, tags} when the token grants pull on it
// Pull is `Microsoft.ContainerRegistry/registries/pull/read`, granted by a role assignment of the
// caller at the registry or above it (AcrPull, AcrPush, Reader's `*/read`, Contributor, Owner), as
// ACR's "roles and permissions" page lists. Errors in the Docker registry shape ACR answers with:
// `{"errors":[{"code":"UNAUTHORIZED","message":…,"detail":…}]}`, 401 with a `WWW-Authenticate:
// Bearer realm=…,service=…,scope=…` challenge; NAME_UNKNOWN (404) for a repository it lacks.
import { randomUUID } from 'node:crypto';
import { ACR_PULL_ACTION, grants, roleByGuid } from './roles.js';
import { form, header, json, type AzReply, type AzRequest } from './wire.js';
import { ACR_AAD_RESOURCE, type World } from './world.js';

const REFRESH_LIFETIME_S = 3 * 3600;
const ACCESS_LIFETIME_S = 75 * 60;

interface Grant {
  registry: string;
  principalId: string;
  exp: number;
}

export class AcrStandin {
  private readonly refresh = new Map<string, Grant>();
  private readonly access = new Map<string, Grant & { repositories: Map<string, string[]> }>();

  constructor(private readonly world: World) {}

  private registryFor(host: string) {
    return [...this.world.registries.values()].find((r) => r.loginServer === host.toLowerCase());
  }

  private unauthorized(host: string, message: string, scope?: string, detail?: unknown): AzReply {
    const challenge = `Bearer realm="https://${host}/oauth2/token",service="${host}"${scope ? `,scope="${scope}"` : ''}`;
    return json(401, { errors: [{ code: 'UNAUTHORIZED', message, ...(detail ? { detail } : {}) }] }, { 'www-authenticate': challenge, 'docker-distribution-api-version': 'registry/2.0' });
  }

  /** Whether the principal may pull from the registry (a role at the registry's scope or above). */
  canPull(registryId: string, principalId: string): boolean {
    const s = registryId.toLowerCase();
    return [...this.world.roleAssignments.values()].some((a) => {
      if (a.principalId !== principalId) return false;
      const as = a.scope.toLowerCase();
      if (s !== as && !s.startsWith(`${as}/`)) return false;
      const role = roleByGuid(a.roleDefinitionId.split('/').pop() ?? '');
      return role !== undefined && grants(role, ACR_PULL_ACTION);
    });
  }

  async handle(req: AzRequest): Promise<AzReply> {
    const host = req.host;
    const path = req.url.pathname;
    let operationId = 'Unknown';
    let caller: string | undefined;
    const done = (reply: AzReply, allowed: boolean, reason: string, code?: string) => {
      this.world.observe({ service: 'acr', method: req.method, path: `${host}${path}`, operationId, status: reply.status, caller, decision: { allowed, reason, code } });
      return reply;
    };
    const reg = this.registryFor(host);
    if (!reg) return done(json(404, { errors: [{ code: 'NAME_UNKNOWN', message: `registry ${host} does not exist` }] }), false, 'no such registry', 'NAME_UNKNOWN');
    const now = Math.floor(this.world.now() / 1000);

    if (req.method === 'POST' && path === '/oauth2/exchange') {
      operationId = 'AcrExchange';
      const f = form(req);
      if (f.get('grant_type') !== 'access_token' && f.get('grant_type') !== 'access_token_refresh_token') {
        return done(json(400, { errors: [{ code: 'UNSUPPORTED', message: `grant_type ${f.get('grant_type') ?? '(none)'} is not supported` }] }), false, 'grant type', 'UNSUPPORTED');
      }
      if (f.get('service') !== host) return done(this.unauthorized(host, `service ${f.get('service') ?? '(none)'} does not match the registry ${host}`), false, 'service mismatch', 'UNAUTHORIZED');
      const v = this.world.verifyOwn(f.get('access_token') ?? '');
      if ('error' in v) return done(this.unauthorized(host, `the AAD access token is invalid: ${v.error}`), false, `AAD token ${v.error}`, 'UNAUTHORIZED');
      const aud = String(v.claims.aud ?? '').replace(/\/$/, '');
      if (aud !== this.world.cloud.armResource && aud !== ACR_AAD_RESOURCE) return done(this.unauthorized(host, `the AAD access token's audience ${aud} is not accepted`), false, `audience ${aud}`, 'UNAUTHORIZED');
      const tenant = f.get('tenant');
      if (tenant && tenant.toLowerCase() !== v.claims.tid) return done(this.unauthorized(host, `the AAD access token is not from tenant ${tenant}`), false, 'tenant mismatch', 'UNAUTHORIZED');
      caller = String(v.claims.oid);
      const token = `acr-refresh.${randomUUID()}`;
      this.refresh.set(token, { registry: reg.id, principalId: caller, exp: now + REFRESH_LIFETIME_S });
      return done(json(200, { refresh_token: token }), true, 'AAD token accepted');
    }

    if (req.method === 'POST' && path === '/oauth2/token') {
      operationId = 'AcrToken';
      const f = form(req);
      const scope = f.get('scope') ?? '';
      if (f.get('grant_type') !== 'refresh_token') return done(json(400, { errors: [{ code: 'UNSUPPORTED', message: `grant_type ${f.get('grant_type') ?? '(none)'} is not supported` }] }), false, 'grant type', 'UNSUPPORTED');
      const g = this.refresh.get(f.get('refresh_token') ?? '');
      if (!g || g.exp <= now || g.registry !== reg.id) return done(this.unauthorized(host, 'the refresh token is invalid or expired', scope), false, 'refresh token', 'UNAUTHORIZED');
      caller = g.principalId;
      const pull = this.canPull(reg.id, g.principalId);
      const repositories = new Map<string, string[]>();
      for (const s of scope.split(' ').filter(Boolean)) {
        const m = /^repository:([^:]+):(.+)$/.exec(s);
        if (!m) continue;
        const actions = m[2]!.split(',').filter((a) => a === 'pull' && pull);
        repositories.set(m[1]!, actions);
      }
      const token = `acr-access.${randomUUID()}`;
      this.access.set(token, { registry: reg.id, principalId: g.principalId, exp: now + ACCESS_LIFETIME_S, repositories });
      return done(json(200, { access_token: token }), pull, pull ? 'pull granted by a role on the registry' : 'no role of the caller grants pull on the registry: the token carries no actions');
    }

    if (req.method === 'GET' && (path === '/v2/' || path === '/v2')) {
      operationId = 'V2Base';
      const t = this.bearer(req);
      if (!t || t.registry !== reg.id || t.exp <= now) return done(this.unauthorized(host, 'authentication required, visit https://aka.ms/acr/authorization for more information.'), false, 'no registry token', 'UNAUTHORIZED');
      caller = t.principalId;
      return done(json(200, {}, { 'docker-distribution-api-version': 'registry/2.0' }), true, 'registry token');
    }

    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(path);
    if (req.method === 'GET' && tags) {
      operationId = 'TagsList';
      const repo = tags[1]!;
      const scope = `repository:${repo}:pull`;
      const t = this.bearer(req);
      const detail = [{ Type: 'repository', Name: repo, Action: 'pull' }];
      if (!t || t.registry !== reg.id || t.exp <= now) return done(this.unauthorized(host, 'authentication required, visit https://aka.ms/acr/authorization for more information.', scope, detail), false, 'no registry token', 'UNAUTHORIZED');
      caller = t.principalId;
      if (!(t.repositories.get(repo) ?? []).includes('pull')) return done(this.unauthorized(host, 'authentication required, visit https://aka.ms/acr/authorization for more information.', scope, detail), false, `token does not grant pull on ${repo}`, 'UNAUTHORIZED');
      const list = reg.repositories.get(repo);
      if (!list) return done(json(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: repo } }] }), false, 'no such repository', 'NAME_UNKNOWN');
      return done(json(200, { name: repo, tags: list }), true, `pull on ${repo}`);
    }
    return done(json(404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] }), false, 'no such endpoint', 'NOT_FOUND');
  }

  private bearer(req: AzRequest) {
    const m = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '');
    return m ? this.access.get(m[1]!) : undefined;
  }
}
