// IAM's workload identity pools and providers (iam.v1 projects.locations.workloadIdentityPools):
// long-running operations (answered `done: false`, done at operations.get), names by project number,
// soft delete with the id reserved for 30 days, undelete, OIDC providers only, provider patch with
// an update mask.
import { randomUUID } from 'node:crypto';
import { GoogleError } from './google-error.js';
import { str, type Ctx, type GcpWorld, type Handler, type Pool, type Project, type Provider } from './world.js';

const POOL_ID = /^[a-z0-9-]{4,32}$/;
const RESERVATION_MS = 30 * 24 * 3600 * 1000;

export const poolKey = (projectNumber: string, id: string): string => `${projectNumber}/${id}`;
export const poolName = (pool: Pool): string => `projects/${pool.projectNumber}/locations/global/workloadIdentityPools/${pool.id}`;

/** Name parsing, answer bodies, operations and checks that pools and providers share. */
function poolTools(w: GcpWorld) {
  const { pools, operations, project, requirePermission } = w;
  const parsePoolName = (name: string): { project: Project; id: string; pool?: Pool } => {
    const [, p, loc, id] = /^projects\/([^/]+)\/locations\/([^/]+)\/workloadIdentityPools\/([^/]+)/.exec(name) ?? [];
    const proj = project(p!);
    if (loc !== 'global') throw new GoogleError('INVALID_ARGUMENT', `Workload identity pools exist only in location "global", not "${loc}".`);
    return { project: proj, id: id!, pool: pools.get(poolKey(proj.projectNumber, id!)) };
  };
  const livePool = (name: string): Pool => {
    const { pool } = parsePoolName(name);
    if (!pool) throw new GoogleError('NOT_FOUND', `Requested entity was not found.`);
    return pool;
  };
  const expire = (deletedAt: number | undefined): Record<string, unknown> => (deletedAt === undefined ? {} : { expireTime: new Date(deletedAt + RESERVATION_MS).toISOString() });
  const poolBody = (p: Pool): Record<string, unknown> => ({ ...p.body, name: poolName(p), state: p.state, ...expire(p.deletedAt) });
  const providerBody = (pool: Pool, id: string, pr: Provider): Record<string, unknown> => ({ ...pr.body, name: `${poolName(pool)}/providers/${id}`, state: pr.state, ...expire(pr.deletedAt) });
  const operation = (resourceName: string, response: Record<string, unknown>, type: string): Record<string, unknown> => {
    const name = `${resourceName}/operations/${randomUUID().replace(/-/g, '')}`;
    operations.set(name, { name, reads: 0, response: { '@type': `type.googleapis.com/google.iam.v1.${type}`, ...response } });
    // Google answers before the operation is done; operations.get reports it done.
    return { name, done: false };
  };
  const checkId = (kind: 'pool' | 'provider', id: string | undefined): string => {
    const what = kind === 'pool' ? 'workload_identity_pool_id' : 'workload_identity_pool_provider_id';
    if (!id) throw new GoogleError('INVALID_ARGUMENT', `Request contains an invalid argument: ${what} is required.`);
    if (!POOL_ID.test(id)) throw new GoogleError('INVALID_ARGUMENT', `Invalid ${what} "${id}": it must be 4 to 32 characters of lowercase letters, digits and hyphens.`);
    if (id.startsWith('gcp-')) throw new GoogleError('INVALID_ARGUMENT', `Invalid ${what} "${id}": the prefix "gcp-" is reserved for use by Google.`);
    return id;
  };
  const checkProvider = (body: Record<string, unknown>, partial?: Set<string>): void => {
    const has = (f: string): boolean => !partial || partial.has(f) || [...partial].some((p) => p.startsWith(`${f}.`));
    const oidc = body.oidc as { issuerUri?: string; allowedAudiences?: string[]; jwksJson?: string } | undefined;
    if (!partial && (body.aws || body.saml || body.x509)) throw new GoogleError('INVALID_ARGUMENT', 'The sandbox provides OIDC providers only.');
    if (has('oidc')) {
      if (!oidc?.issuerUri) throw new GoogleError('INVALID_ARGUMENT', 'oidc.issuer_uri is required.');
      let issuer: URL;
      try {
        issuer = new URL(oidc.issuerUri);
      } catch {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid issuer uri "${oidc.issuerUri}".`);
      }
      if (issuer.protocol !== 'https:') throw new GoogleError('INVALID_ARGUMENT', `The issuer uri must use https: "${oidc.issuerUri}".`);
      if ((oidc.allowedAudiences?.length ?? 0) > 10) throw new GoogleError('INVALID_ARGUMENT', 'oidc.allowed_audiences must have at most 10 entries.');
      if (oidc.jwksJson !== undefined) {
        let keys: unknown;
        try {
          keys = (JSON.parse(oidc.jwksJson) as { keys?: unknown }).keys;
        } catch {
          keys = undefined;
        }
        if (!Array.isArray(keys) || keys.length === 0) throw new GoogleError('INVALID_ARGUMENT', 'oidc.jwks_json must be a JSON Web Key Set with at least one key.');
      }
    }
    if (has('attributeMapping')) {
      const mapping = body.attributeMapping as Record<string, string> | undefined;
      if (!mapping?.['google.subject']) throw new GoogleError('INVALID_ARGUMENT', 'attribute_mapping must include a mapping for google.subject.');
    }
  };

  const getOperation = ({ params, caller }: Ctx, permission: string): Record<string, unknown> => {
    const name = str(params.name);
    const { project: proj } = parsePoolName(name);
    requirePermission(caller, permission, name, [proj.policy]);
    // Operation names carry the pool's project NUMBER; a project id names the same operation.
    const canonical = name.replace(/^projects\/[^/]+/, `projects/${proj.projectNumber}`);
    const op = operations.get(canonical);
    if (!op) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
    op.reads += 1;
    return { name: op.name, done: true, response: op.response };
  };
  return { parsePoolName, livePool, expire, poolBody, providerBody, operation, checkId, checkProvider, getOperation };
}

export function poolHandlers(w: GcpWorld): Record<string, Handler> {
  const { pools, now, requirePermission } = w;
  const { parsePoolName, livePool, expire, poolBody, operation, checkId, getOperation } = poolTools(w);
  return {
    'iam.projects.locations.workloadIdentityPools.create': ({ params, body, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(`${parent}/workloadIdentityPools/x`);
      requirePermission(caller, 'iam.workloadIdentityPools.create', parent, [proj.policy]);
      const id = checkId('pool', str(params.workloadIdentityPoolId));
      const existing = pools.get(poolKey(proj.projectNumber, id));
      if (existing) {
        throw new GoogleError('ALREADY_EXISTS', existing.state === 'DELETED' ? `Requested entity already exists: the pool ${id} was deleted and its id stays reserved until ${String(expire(existing.deletedAt).expireTime)}; undelete it or choose another id.` : 'Requested entity already exists');
      }
      if (body.name || body.state) throw new GoogleError('INVALID_ARGUMENT', 'name and state are output only.');
      const pool: Pool = { projectNumber: proj.projectNumber, id, body: { ...body }, state: 'ACTIVE', providers: new Map() };
      pools.set(poolKey(proj.projectNumber, id), pool);
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.get': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.get', str(params.name), [proj.policy]);
      return poolBody(livePool(str(params.name)));
    },
    'iam.projects.locations.workloadIdentityPools.list': ({ params, caller }) => {
      const { project: proj } = parsePoolName(`${str(params.parent)}/workloadIdentityPools/x`);
      requirePermission(caller, 'iam.workloadIdentityPools.list', str(params.parent), [proj.policy]);
      const all = [...pools.values()].filter((p) => p.projectNumber === proj.projectNumber && (p.state === 'ACTIVE' || params.showDeleted === 'true'));
      return all.length ? { workloadIdentityPools: all.map(poolBody) } : {};
    },
    'iam.projects.locations.workloadIdentityPools.delete': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.delete', str(params.name), [proj.policy]);
      const pool = livePool(str(params.name));
      if (pool.state === 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is already deleted.');
      pool.state = 'DELETED';
      pool.deletedAt = now();
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.undelete': ({ params, caller }) => {
      const { project: proj } = parsePoolName(str(params.name));
      requirePermission(caller, 'iam.workloadIdentityPools.undelete', str(params.name), [proj.policy]);
      const pool = livePool(str(params.name));
      if (pool.state !== 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is not deleted.');
      pool.state = 'ACTIVE';
      pool.deletedAt = undefined;
      return operation(poolName(pool), poolBody(pool), 'WorkloadIdentityPool');
    },
    'iam.projects.locations.workloadIdentityPools.operations.get': (ctx) => getOperation(ctx, 'iam.workloadIdentityPools.get'),
    'iam.projects.locations.workloadIdentityPools.providers.operations.get': (ctx) => getOperation(ctx, 'iam.workloadIdentityPoolProviders.get'),
  };
}

export function providerHandlers(w: GcpWorld): Record<string, Handler> {
  const { now, requirePermission } = w;
  const { parsePoolName, livePool, providerBody, operation, checkId, checkProvider } = poolTools(w);
  return {
    'iam.projects.locations.workloadIdentityPools.providers.create': ({ params, body, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(parent);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.create', parent, [proj.policy]);
      const pool = livePool(parent);
      if (pool.state !== 'ACTIVE') throw new GoogleError('FAILED_PRECONDITION', 'The workload identity pool is deleted.');
      const id = checkId('provider', str(params.workloadIdentityPoolProviderId));
      if (pool.providers.has(id)) throw new GoogleError('ALREADY_EXISTS', 'Requested entity already exists');
      checkProvider(body);
      const pr: Provider = { body: { ...body }, state: 'ACTIVE' };
      pool.providers.set(id, pr);
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.get': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.get', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      return providerBody(pool, id, pr);
    },
    'iam.projects.locations.workloadIdentityPools.providers.list': ({ params, caller }) => {
      const parent = str(params.parent);
      const { project: proj } = parsePoolName(parent);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.list', parent, [proj.policy]);
      const pool = livePool(parent);
      const all = [...pool.providers.entries()].filter(([, p]) => p.state === 'ACTIVE' || params.showDeleted === 'true');
      return all.length ? { workloadIdentityPoolProviders: all.map(([id, p]) => providerBody(pool, id, p)) } : {};
    },
    'iam.projects.locations.workloadIdentityPools.providers.patch': ({ params, body, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.update', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr || pr.state !== 'ACTIVE') throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      const mask = str(params.updateMask);
      if (!mask) throw new GoogleError('INVALID_ARGUMENT', 'update_mask is required.');
      const fields = new Set(mask.split(','));
      const allowedFields = new Set(['displayName', 'description', 'disabled', 'attributeMapping', 'attributeCondition', 'oidc', 'oidc.issuerUri', 'oidc.allowedAudiences', 'oidc.jwksJson']);
      for (const f of fields) if (!allowedFields.has(f)) throw new GoogleError('INVALID_ARGUMENT', `Invalid update_mask path "${f}".`);
      const next = structuredClone(pr.body);
      for (const f of fields) {
        const [head, sub] = f.split('.') as [string, string | undefined];
        if (sub) {
          const target = ((next[head] ??= {}) as Record<string, unknown>);
          const src = (body[head] ?? {}) as Record<string, unknown>;
          if (src[sub] === undefined) delete target[sub];
          else target[sub] = src[sub];
        } else if (body[head] === undefined) delete next[head];
        else next[head] = body[head];
      }
      checkProvider(next);
      pr.body = next;
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.delete': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.delete', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      if (pr.state === 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The provider is already deleted.');
      pr.state = 'DELETED';
      pr.deletedAt = now();
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
    'iam.projects.locations.workloadIdentityPools.providers.undelete': ({ params, caller }) => {
      const name = str(params.name);
      const { project: proj } = parsePoolName(name);
      requirePermission(caller, 'iam.workloadIdentityPoolProviders.undelete', name, [proj.policy]);
      const pool = livePool(name);
      const id = name.split('/').at(-1)!;
      const pr = pool.providers.get(id);
      if (!pr) throw new GoogleError('NOT_FOUND', 'Requested entity was not found.');
      if (pr.state !== 'DELETED') throw new GoogleError('FAILED_PRECONDITION', 'The provider is not deleted.');
      pr.state = 'ACTIVE';
      pr.deletedAt = undefined;
      return operation(`${poolName(pool)}/providers/${id}`, providerBody(pool, id, pr), 'WorkloadIdentityPoolProvider');
    },
  };
}
