// Stand-in for Azure Resource Manager, for the resource types rhacs-sts reads and writes:
//   Microsoft.ManagedIdentity  userAssignedIdentities (PUT/PATCH/GET/DELETE/list), their
//                              federatedIdentityCredentials (PUT/GET/DELETE/list)
//   Microsoft.Authorization    roleAssignments at any scope (PUT/GET/DELETE/list with $filter),
//                              roleDefinitions (GET/list, the built-in roles of roles.ts)
//   Microsoft.ContainerService managedClusters (GET/list; seeded)
//   Microsoft.ContainerRegistry registries (GET/list; seeded)
//   Microsoft.Resources        resourceGroups (GET; seeded)
// Each request passes ARM's gates in ARM's order: a bearer token Entra (entra.ts) issued for ARM
// (401 AuthenticationFailed / InvalidAuthenticationToken / ExpiredAuthenticationToken /
// InvalidAuthenticationTokenAudience), the api-version (400 MissingApiVersionParameter,
// NoRegisteredProviderFound / InvalidApiVersionParameter naming the supported versions), path
// parameters (the FIC name's pattern from the client's parameter mapper, GUID role assignment names),
// RBAC from the role assignments (403 AuthorizationFailed), the body against the model (400
// InvalidRequestContent), then the resource group and resource (404 ResourceGroupNotFound,
// ResourceNotFound). Every answer is checked against its model (contract.ts) before it is sent.
// Known failures, as Azure answers them: 20 federated credentials per identity; 409
// ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity when a write on one identity
// overlaps another (knob `ficWriteHold` forces the overlap); PrincipalNotFound until
// `principalPropagationMs` after the identity was created; RoleAssignmentExists (409) for the same
// principal, role and scope under another name.
import { randomUUID } from 'node:crypto';
import { assertAnswer, FIC_NAME_PATTERN, validate, type Family } from './contract.js';
import { BUILT_IN_ROLES, grants, roleByGuid, type RoleDefinitionSpec } from './roles.js';
import { armError, header, json, type AzReply, type AzRequest } from './wire.js';
import type { IdentityRecord, RoleAssignmentRecord, World } from './world.js';

/**
 * api-versions each resource type answers to. The client libraries' own versions (arm-msi 2024-11-30,
 * arm-authorization 2022-04-01 / 2022-04-01, arm-containerservice 2025-10-01, arm-containerregistry
 * 2025-11-01) are read from their packages; the others are the stable and preview folders of
 * Azure/azure-rest-api-specs for the type.
 */
export const API_VERSIONS = {
  identities: ['2015-08-31-preview', '2018-11-30', '2021-09-30-preview', '2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview'],
  fics: ['2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview'],
  roleAssignments: ['2015-07-01', '2018-01-01-preview', '2018-09-01-preview', '2020-03-01-preview', '2020-04-01-preview', '2020-08-01-preview', '2020-10-01-preview', '2022-01-01-preview', '2022-04-01'],
  roleDefinitions: ['2015-07-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'],
  managedClusters: ['2023-10-01', '2024-01-01', '2024-02-01', '2024-05-01', '2024-07-01', '2024-09-01', '2024-10-01', '2025-01-01', '2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01', '2025-07-01', '2025-08-01', '2025-09-01', '2025-10-01'],
  registries: ['2019-05-01', '2021-09-01', '2022-12-01', '2023-01-01-preview', '2023-07-01', '2023-11-01-preview', '2024-11-01-preview', '2025-04-01', '2025-11-01'],
  resourceGroups: ['2019-10-01', '2020-06-01', '2021-04-01', '2022-09-01', '2023-07-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-01-01', '2025-03-01', '2025-04-01'],
} as const;

/** Federated identity credentials one managed identity may carry (Entra's documented limit). */
export const MAX_FICS_PER_IDENTITY = 20;
/**
 * The 21st credential's answer. The code is not in the specification and no public thread quotes it;
 * ARM's generic 400 code with the limit named is the reading used here (unverified).
 */
export const FIC_LIMIT = { status: 400, code: 'BadRequest' } as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RG_NAME = /^[-\w._()]{1,90}$/u;

const T = {
  identity: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  fic: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  assignment: 'Microsoft.Authorization/roleAssignments',
  definition: 'Microsoft.Authorization/roleDefinitions',
  cluster: 'Microsoft.ContainerService/managedClusters',
  registry: 'Microsoft.ContainerRegistry/registries',
  rg: 'Microsoft.Resources/resourceGroups',
};

class ArmFail extends Error {
  constructor(readonly reply: AzReply, readonly code: string, readonly reason: string) {
    super(reason);
  }
}
const fail = (status: number, code: string, message: string, reason = message) => new ArmFail(armError(status, code, message), code, reason);

interface Route {
  operationId: string;
  versions: readonly string[];
  /** Resource type for NoRegisteredProviderFound; `undefined` for ARM's own (resource groups). */
  type?: string;
  /** The RBAC action, and the scope it is checked at. */
  action: string;
  scope: string;
  run: () => Promise<AzReply> | AzReply;
}

const lc = (s: string) => s.toLowerCase();

export class ArmStandin {
  constructor(private readonly world: World) {}

  private rgId(rg: string): string {
    return `/subscriptions/${this.world.subscriptionId}/resourceGroups/${rg}`;
  }

  async handle(req: AzRequest): Promise<AzReply> {
    const path = req.url.pathname.replace(/\/+$/, '');
    let operationId = 'Unknown';
    let caller: string | undefined;
    const done = (reply: AzReply, allowed: boolean, reason: string, code?: string) => {
      this.world.observe({ service: 'arm', method: req.method, path: req.url.pathname + req.url.search, operationId, status: reply.status, caller, decision: { allowed, reason, code } });
      return reply;
    };
    try {
      const principal = this.authenticate(req);
      caller = principal.oid;
      const route = this.route(req, path);
      operationId = route.operationId;
      this.checkApiVersion(req, route);
      this.authorize(principal, route);
      const reply = await route.run();
      return done(reply, true, `${route.action} at ${route.scope}`);
    } catch (err) {
      if (err instanceof ArmFail) return done(err.reply, false, err.reason, err.code);
      throw err;
    }
  }

  private authenticate(req: AzRequest): { oid: string; appid: string } {
    const auth = header(req, 'authorization');
    const challenge = (code: string, message: string) =>
      new ArmFail({ ...armError(401, code, message), headers: { ...armError(401, code, message).headers, 'www-authenticate': `Bearer authorization_uri="${this.world.cloud.authorityHost}/", error="invalid_token", error_description="${message}"` } }, code, message);
    if (!auth) throw challenge('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const m = /^Bearer (.+)$/.exec(auth);
    if (!m) throw challenge('AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.");
    const v = this.world.verifyOwn(m[1]!);
    if ('error' in v) {
      if (v.error === 'expired') throw challenge('ExpiredAuthenticationToken', `The access token expiry UTC time is earlier than current UTC time '${new Date(this.world.now()).toISOString()}'.`);
      throw challenge('InvalidAuthenticationToken', `The access token is invalid.`);
    }
    const { armResource: arm, legacyArmResource: legacy } = this.world.cloud;
    const allowed = [arm, `${arm}/`, legacy, `${legacy}/`];
    const aud = String(v.claims.aud ?? '');
    if (!allowed.includes(aud)) throw challenge('InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences '${allowed.join("','")}'.`);
    if (v.claims.tid !== this.world.tenantId) throw challenge('InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer '${String(v.claims.iss)}'. It must match the tenant associated with this subscription.`);
    return { oid: String(v.claims.oid), appid: String(v.claims.appid) };
  }

  private checkApiVersion(req: AzRequest, route: Route): void {
    const v = req.url.searchParams.get('api-version');
    if (!v) throw fail(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    if (route.versions.includes(v)) return;
    const list = route.versions.join(', ');
    if (!route.type) throw fail(400, 'InvalidApiVersionParameter', `The api-version '${v}' is invalid. The supported versions are '${list}'.`);
    throw fail(400, 'NoRegisteredProviderFound', `No registered resource provider found for location 'global' and API version '${v}' for type '${route.type.split('/').slice(1).join('/')}'. The supported api-versions are '${list}'.`);
  }

  private authorize(p: { oid: string; appid: string }, route: Route): void {
    const scope = lc(route.scope);
    const roles = [...this.world.roleAssignments.values()]
      .filter((a) => a.principalId === p.oid && (scope === lc(a.scope) || scope.startsWith(`${lc(a.scope)}/`)))
      .map((a) => roleByGuid(a.roleDefinitionId.split('/').pop() ?? ''))
      .filter((r): r is RoleDefinitionSpec => r !== undefined);
    if (roles.some((r) => grants(r, route.action))) return;
    throw fail(
      403,
      'AuthorizationFailed',
      `The client '${p.appid}' with object id '${p.oid}' does not have authorization to perform action '${route.action}' over scope '${route.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      `no role of ${p.oid} grants ${route.action} at ${route.scope}`,
    );
  }

  private body(req: AzRequest, family: Family, className: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(req.body.toString('utf8') || 'null');
    } catch (err) {
      throw fail(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`);
    }
    if (value === null) throw fail(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: the body is empty.');
    const v = validate(family, className, value, 'request');
    if (v.length) throw fail(400, 'InvalidRequestContent', `The request content was invalid: ${v.map((x) => `'${x.path}' ${x.message}`).join('; ')}.`);
    return value as Record<string, unknown>;
  }

  private answer(status: number, family: Family, className: string, value: unknown): AzReply {
    assertAnswer(family, className, value);
    return json(status, value, { 'x-ms-request-id': randomUUID() });
  }

  private answerList(family: Family, className: string, items: unknown[]): AzReply {
    for (const i of items) assertAnswer(family, className, i);
    return json(200, { value: items });
  }

  private requireRg(rg: string): void {
    if (!this.world.resourceGroups.has(lc(rg))) throw fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  }

  private notFound(type: string, name: string, rg: string): ArmFail {
    return fail(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }

  private route(req: AzRequest, path: string): Route {
    const sub = this.world.subscriptionId;
    const m = (re: RegExp) => re.exec(path);
    const method = req.method;
    const unknownSub = (s: string) => {
      if (lc(s) !== sub) throw fail(404, 'SubscriptionNotFound', `The subscription '${s}' could not be found.`);
    };
    const checkRg = (rg: string) => {
      if (!RG_NAME.test(rg) || rg.endsWith('.')) throw fail(400, 'InvalidResourceGroupName', `The resource group name '${rg}' is invalid.`);
    };
    let x: RegExpExecArray | null;

    // Role assignments and definitions: at any scope.
    if ((x = m(/^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments(?:\/([^/]+))?$/i))) {
      const scope = x[1] || '/';
      const name = x[2];
      const v = API_VERSIONS.roleAssignments;
      if (!name && method === 'GET') return { operationId: 'RoleAssignments_ListForScope', versions: v, type: T.assignment, action: 'Microsoft.Authorization/roleAssignments/read', scope, run: () => this.listAssignments(scope, req.url.searchParams.get('$filter')) };
      if (name && !GUID.test(name)) throw fail(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
      if (name && method === 'GET') return { operationId: 'RoleAssignments_Get', versions: v, type: T.assignment, action: 'Microsoft.Authorization/roleAssignments/read', scope, run: () => this.getAssignment(scope, name) };
      if (name && method === 'PUT') return { operationId: 'RoleAssignments_Create', versions: v, type: T.assignment, action: 'Microsoft.Authorization/roleAssignments/write', scope, run: () => this.putAssignment(req, scope, name) };
      if (name && method === 'DELETE') return { operationId: 'RoleAssignments_Delete', versions: v, type: T.assignment, action: 'Microsoft.Authorization/roleAssignments/delete', scope, run: () => this.deleteAssignment(scope, name) };
    }
    if ((x = m(/^(.*)\/providers\/Microsoft\.Authorization\/roleDefinitions(?:\/([^/]+))?$/i)) && method === 'GET') {
      const scope = x[1] || '/';
      const id = x[2];
      const v = API_VERSIONS.roleDefinitions;
      if (id) return { operationId: 'RoleDefinitions_Get', versions: v, type: T.definition, action: 'Microsoft.Authorization/roleDefinitions/read', scope, run: () => this.getDefinition(id) };
      return { operationId: 'RoleDefinitions_List', versions: v, type: T.definition, action: 'Microsoft.Authorization/roleDefinitions/read', scope, run: () => this.listDefinitions(req.url.searchParams.get('$filter')) };
    }

    if ((x = m(/^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i)) && method === 'GET') {
      unknownSub(x[1]!);
      const rg = x[2]!;
      return { operationId: 'ResourceGroups_Get', versions: API_VERSIONS.resourceGroups, action: 'Microsoft.Resources/subscriptions/resourceGroups/read', scope: this.rgId(rg), run: () => this.getRg(rg) };
    }

    if ((x = m(/^\/subscriptions\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities$/i)) && method === 'GET') {
      unknownSub(x[1]!);
      return { operationId: 'UserAssignedIdentities_ListBySubscription', versions: API_VERSIONS.identities, type: T.identity, action: `${T.identity}/read`, scope: `/subscriptions/${sub}`, run: () => this.answerList('msi', 'Identity', [...this.world.identities.values()].map((i) => this.identityView(i))) };
    }

    if ((x = m(/^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+)(?:\/([^/]+))?)?$/i))) {
      unknownSub(x[1]!);
      const rg = x[2]!;
      checkRg(rg);
      const ns = lc(`${x[3]}/${x[4]}`);
      const name = x[5];
      const child = x[6];
      const childName = x[7];
      const rgScope = this.rgId(rg);
      if (ns === lc(T.identity)) {
        const v = API_VERSIONS.identities;
        if (!name && method === 'GET') return { operationId: 'UserAssignedIdentities_ListByResourceGroup', versions: v, type: T.identity, action: `${T.identity}/read`, scope: rgScope, run: () => this.listIdentities(rg) };
        if (name && !child) {
          const scope = `${rgScope}/providers/${T.identity}/${name}`;
          if (method === 'GET') return { operationId: 'UserAssignedIdentities_Get', versions: v, type: T.identity, action: `${T.identity}/read`, scope, run: () => this.getIdentity(rg, name) };
          if (method === 'PUT') return { operationId: 'UserAssignedIdentities_CreateOrUpdate', versions: v, type: T.identity, action: `${T.identity}/write`, scope, run: () => this.putIdentity(req, rg, name) };
          if (method === 'PATCH') return { operationId: 'UserAssignedIdentities_Update', versions: v, type: T.identity, action: `${T.identity}/write`, scope, run: () => this.patchIdentity(req, rg, name) };
          if (method === 'DELETE') return { operationId: 'UserAssignedIdentities_Delete', versions: v, type: T.identity, action: `${T.identity}/delete`, scope, run: () => this.deleteIdentity(rg, name) };
        }
        if (name && child && lc(child) === 'federatedidentitycredentials') {
          const fv = API_VERSIONS.fics;
          const scope = `${rgScope}/providers/${T.identity}/${name}/federatedIdentityCredentials${childName ? `/${childName}` : ''}`;
          if (!childName && method === 'GET') return { operationId: 'FederatedIdentityCredentials_List', versions: fv, type: T.fic, action: `${T.fic}/read`, scope, run: () => this.listFics(rg, name) };
          if (childName && !FIC_NAME_PATTERN.test(childName)) {
            throw fail(400, 'InvalidResourceName', `The resource name '${childName}' is invalid. The name of a federated identity credential must match the pattern ${FIC_NAME_PATTERN.source}.`);
          }
          if (childName && method === 'GET') return { operationId: 'FederatedIdentityCredentials_Get', versions: fv, type: T.fic, action: `${T.fic}/read`, scope, run: () => this.getFic(rg, name, childName) };
          if (childName && method === 'PUT') return { operationId: 'FederatedIdentityCredentials_CreateOrUpdate', versions: fv, type: T.fic, action: `${T.fic}/write`, scope, run: () => this.putFic(req, rg, name, childName) };
          if (childName && method === 'DELETE') return { operationId: 'FederatedIdentityCredentials_Delete', versions: fv, type: T.fic, action: `${T.fic}/delete`, scope, run: () => this.deleteFic(rg, name, childName) };
        }
      }
      if (ns === lc(T.cluster) && method === 'GET' && !child) {
        const v = API_VERSIONS.managedClusters;
        if (!name) return { operationId: 'ManagedClusters_ListByResourceGroup', versions: v, type: T.cluster, action: `${T.cluster}/read`, scope: rgScope, run: () => this.listSeeded(rg, this.world.clusters, 'containerservice', 'ManagedCluster') };
        return { operationId: 'ManagedClusters_Get', versions: v, type: T.cluster, action: `${T.cluster}/read`, scope: `${rgScope}/providers/${T.cluster}/${name}`, run: () => this.getSeeded(rg, name, T.cluster, this.world.clusters, 'containerservice', 'ManagedCluster') };
      }
      if (ns === lc(T.registry) && method === 'GET' && !child) {
        const v = API_VERSIONS.registries;
        if (!name) return { operationId: 'Registries_ListByResourceGroup', versions: v, type: T.registry, action: `${T.registry}/read`, scope: rgScope, run: () => this.listRegistries(rg) };
        return { operationId: 'Registries_Get', versions: v, type: T.registry, action: `${T.registry}/read`, scope: `${rgScope}/providers/${T.registry}/${name}`, run: () => this.getRegistry(rg, name) };
      }
    }
    throw fail(404, 'InvalidResourceType', `The resource type could not be found for ${method} ${path}.`);
  }

  // --- resource groups -------------------------------------------------------------------------

  private getRg(rg: string): AzReply {
    const r = this.world.resourceGroups.get(lc(rg));
    if (!r) throw fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    return json(200, { id: this.rgId(r.name), name: r.name, type: T.rg, location: r.location, tags: r.tags, properties: { provisioningState: 'Succeeded' } });
  }

  // --- identities --------------------------------------------------------------------------------

  private identityId(rg: string, name: string): string {
    return `${this.rgId(rg)}/providers/${T.identity}/${name}`;
  }

  identityView(i: IdentityRecord): Record<string, unknown> {
    return { id: i.id, name: i.name, type: T.identity, location: i.location, tags: i.tags, properties: { tenantId: this.world.tenantId, principalId: i.principalId, clientId: i.clientId, isolationScope: 'None' } };
  }

  private findIdentity(rg: string, name: string): IdentityRecord {
    this.requireRg(rg);
    const i = this.world.identities.get(lc(this.identityId(rg, name)));
    if (!i) throw this.notFound(T.identity, name, rg);
    return i;
  }

  private listIdentities(rg: string): AzReply {
    this.requireRg(rg);
    return this.answerList('msi', 'Identity', [...this.world.identities.values()].filter((i) => lc(i.resourceGroup) === lc(rg)).map((i) => this.identityView(i)));
  }

  private getIdentity(rg: string, name: string): AzReply {
    return this.answer(200, 'msi', 'Identity', this.identityView(this.findIdentity(rg, name)));
  }

  private putIdentity(req: AzRequest, rg: string, name: string): AzReply {
    const body = this.body(req, 'msi', 'Identity');
    this.requireRg(rg);
    const id = this.identityId(rg, name);
    const existing = this.world.identities.get(lc(id));
    const location = String(body.location).toLowerCase().replace(/\s+/g, '');
    const tags = (body.tags as Record<string, string> | undefined) ?? {};
    if (existing) {
      if (existing.location !== location) throw fail(400, 'LocationNotAvailableForResourceType', `The resource '${name}' already exists in location '${existing.location}'; it cannot be moved to '${location}'.`);
      existing.tags = tags;
      return this.answer(200, 'msi', 'Identity', this.identityView(existing));
    }
    const rec: IdentityRecord = { id, name, resourceGroup: this.world.resourceGroups.get(lc(rg))!.name, location, tags, clientId: randomUUID(), principalId: randomUUID(), createdAt: this.world.now(), fics: new Map() };
    this.world.identities.set(lc(id), rec);
    return this.answer(201, 'msi', 'Identity', this.identityView(rec));
  }

  private patchIdentity(req: AzRequest, rg: string, name: string): AzReply {
    const body = this.body(req, 'msi', 'IdentityUpdate');
    const i = this.findIdentity(rg, name);
    if (body.tags) i.tags = body.tags as Record<string, string>;
    return this.answer(200, 'msi', 'Identity', this.identityView(i));
  }

  private deleteIdentity(rg: string, name: string): AzReply {
    this.requireRg(rg);
    const key = lc(this.identityId(rg, name));
    if (!this.world.identities.delete(key)) return { status: 204 };
    return { status: 200 };
  }

  // --- federated identity credentials -----------------------------------------------------------

  private ficView(i: IdentityRecord, f: { name: string; issuer: string; subject: string; audiences: string[] }): Record<string, unknown> {
    return { id: `${i.id}/federatedIdentityCredentials/${f.name}`, name: f.name, type: T.fic, properties: { issuer: f.issuer, subject: f.subject, audiences: f.audiences } };
  }

  private listFics(rg: string, name: string): AzReply {
    const i = this.findIdentity(rg, name);
    return this.answerList('msi', 'FederatedIdentityCredential', [...i.fics.values()].map((f) => this.ficView(i, f)));
  }

  private getFic(rg: string, name: string, fic: string): AzReply {
    const i = this.findIdentity(rg, name);
    const f = i.fics.get(lc(fic));
    if (!f) throw fail(404, 'ResourceNotFound', `The Resource '${T.fic}/${name}/${fic}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    return this.answer(200, 'msi', 'FederatedIdentityCredential', this.ficView(i, f));
  }

  /** One write at a time per identity: a second one while the first holds the lock is refused. */
  private async ficWrite<R>(i: IdentityRecord, fic: string, write: () => R): Promise<R> {
    const key = lc(i.id);
    if (this.world.ficWriting.has(key)) {
      throw fail(
        409,
        'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
        `Too many Federated Identity Credentials are written concurrently for the managed identity '${i.id}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.`,
        `another federated credential write on ${i.id} is in progress`,
      );
    }
    this.world.ficWriting.add(key);
    try {
      await this.world.knobs.ficWriteHold?.(i.id, fic);
      return write();
    } finally {
      this.world.ficWriting.delete(key);
    }
  }

  private async putFic(req: AzRequest, rg: string, name: string, fic: string): Promise<AzReply> {
    const body = this.body(req, 'msi', 'FederatedIdentityCredential');
    const props = body.properties as { issuer: string; subject: string; audiences: string[] };
    try {
      const u = new URL(props.issuer);
      if (u.protocol !== 'https:') throw new Error('not https');
    } catch {
      throw fail(400, 'InvalidRequestContent', `The request content was invalid: 'properties.issuer' must be an https URL.`);
    }
    const i = this.findIdentity(rg, name);
    return this.ficWrite(i, fic, () => {
      const existing = i.fics.get(lc(fic));
      if (!existing && i.fics.size >= MAX_FICS_PER_IDENTITY) {
        throw fail(FIC_LIMIT.status, FIC_LIMIT.code, `Too many federated identity credentials. A user-assigned managed identity can have at most ${MAX_FICS_PER_IDENTITY} federated identity credentials; '${i.id}' already has ${i.fics.size}.`, `the 21st federated credential on ${i.id}`);
      }
      const rec = { name: existing?.name ?? fic, issuer: props.issuer, subject: props.subject, audiences: [...props.audiences] };
      i.fics.set(lc(fic), rec);
      return this.answer(existing ? 200 : 201, 'msi', 'FederatedIdentityCredential', this.ficView(i, rec));
    });
  }

  private async deleteFic(rg: string, name: string, fic: string): Promise<AzReply> {
    const i = this.findIdentity(rg, name);
    return this.ficWrite(i, fic, () => (i.fics.delete(lc(fic)) ? { status: 200 } : { status: 204 }));
  }

  // --- role assignments and definitions -----------------------------------------------------------

  private definitionView(r: RoleDefinitionSpec): Record<string, unknown> {
    return {
      id: `/subscriptions/${this.world.subscriptionId}/providers/${T.definition}/${r.guid}`,
      name: r.guid,
      type: T.definition,
      properties: { roleName: r.roleName, type: 'BuiltInRole', description: r.description, assignableScopes: ['/'], permissions: [{ actions: r.actions, notActions: r.notActions, dataActions: r.dataActions ?? [], notDataActions: [] }] },
    };
  }

  private getDefinition(id: string): AzReply {
    const r = roleByGuid(id);
    if (!r) throw fail(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${id}' does not exist.`);
    return this.answer(200, 'authorization', 'RoleDefinition', this.definitionView(r));
  }

  private listDefinitions(filter: string | null): AzReply {
    let roles = [...BUILT_IN_ROLES];
    if (filter) {
      const byName = /^roleName eq '([^']*)'$/i.exec(filter.trim());
      const byType = /^type eq '([^']*)'$/i.exec(filter.trim());
      if (byName) roles = roles.filter((r) => r.roleName === byName[1]);
      else if (byType) roles = byType[1] === 'BuiltInRole' ? roles : [];
      else throw fail(400, 'InvalidFilterParameter', `The $filter '${filter}' is not supported. Use roleName eq '{value}' or type eq '{value}'.`);
    }
    return this.answerList('authorization', 'RoleDefinition', roles.map((r) => this.definitionView(r)));
  }

  private assignmentView(a: RoleAssignmentRecord): Record<string, unknown> {
    return {
      id: a.id,
      name: a.name,
      type: T.assignment,
      properties: { roleDefinitionId: a.roleDefinitionId, principalId: a.principalId, principalType: a.principalType ?? 'ServicePrincipal', scope: a.scope, description: a.description, condition: null, conditionVersion: null, createdOn: a.createdOn, updatedOn: a.createdOn, createdBy: a.createdBy, updatedBy: a.createdBy, delegatedManagedIdentityResourceId: null },
    };
  }

  /** Whether the scope names something that exists (subscription, resource group, a known resource). */
  private requireScope(scope: string): void {
    const s = lc(scope);
    const sub = `/subscriptions/${this.world.subscriptionId}`;
    if (s === sub) return;
    const rg = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)(\/.*)?$/.exec(s);
    if (!s.startsWith(`${sub}/`) || !rg) throw fail(400, 'InvalidRoleAssignmentScope', `The scope '${scope}' is not valid for a role assignment.`);
    this.requireRg(rg[1]!);
    if (!rg[2]) return;
    const known = this.world.identities.has(s) || this.world.clusters.has(s) || this.world.registries.has(s);
    if (!known) throw fail(404, 'ResourceNotFound', `The Resource '${scope.split('/providers/')[1] ?? scope}' under resource group '${rg[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }

  private async putAssignment(req: AzRequest, scope: string, name: string): Promise<AzReply> {
    const body = this.body(req, 'authorization', 'RoleAssignmentCreateParameters');
    const p = body.properties as { roleDefinitionId: string; principalId: string; principalType?: string; description?: string };
    this.requireScope(scope);
    const defGuid = /\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(p.roleDefinitionId)?.[1] ?? '';
    if (!roleByGuid(defGuid)) throw fail(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${defGuid || p.roleDefinitionId}' does not exist.`);
    if (!GUID.test(p.principalId) || !this.world.principal(lc(p.principalId))) {
      throw fail(
        400,
        'PrincipalNotFound',
        `Principal ${p.principalId.replace(/-/g, '')} does not exist in the directory ${this.world.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
        `principal ${p.principalId} not (yet) in the directory`,
      );
    }
    const id = `${scope === '/' ? '' : scope}/providers/${T.assignment}/${name}`;
    const existing = this.world.roleAssignments.get(lc(id));
    const same = (a: RoleAssignmentRecord) => lc(a.scope) === lc(scope) && a.principalId === lc(p.principalId) && lc(a.roleDefinitionId.split('/').pop()!) === lc(defGuid);
    if (existing) {
      if (!same(existing)) throw fail(400, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
      return this.answer(201, 'authorization', 'RoleAssignment', this.assignmentView(existing));
    }
    if ([...this.world.roleAssignments.values()].some(same)) throw fail(409, 'RoleAssignmentExists', 'The role assignment already exists.');
    const rec: RoleAssignmentRecord = {
      id,
      name: lc(name),
      scope,
      roleDefinitionId: `/subscriptions/${this.world.subscriptionId}/providers/${T.definition}/${lc(defGuid)}`,
      principalId: lc(p.principalId),
      principalType: p.principalType,
      description: p.description,
      createdOn: new Date(this.world.now()).toISOString(),
      createdBy: 'rhacs-sts-sandbox',
    };
    this.world.roleAssignments.set(lc(id), rec);
    return this.answer(201, 'authorization', 'RoleAssignment', this.assignmentView(rec));
  }

  private getAssignment(scope: string, name: string): AzReply {
    const a = this.world.roleAssignments.get(lc(`${scope}/providers/${T.assignment}/${name}`));
    if (!a) throw fail(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    return this.answer(200, 'authorization', 'RoleAssignment', this.assignmentView(a));
  }

  private deleteAssignment(scope: string, name: string): AzReply {
    const key = lc(`${scope}/providers/${T.assignment}/${name}`);
    const a = this.world.roleAssignments.get(key);
    if (!a) return { status: 204 };
    this.world.roleAssignments.delete(key);
    return this.answer(200, 'authorization', 'RoleAssignment', this.assignmentView(a));
  }

  /** ListForScope: at, above and below the scope; `atScope()` keeps at and above; `principalId eq`/`assignedTo()` filter the principal. */
  private listAssignments(scope: string, filter: string | null): AzReply {
    const s = lc(scope);
    const above = (a: RoleAssignmentRecord) => s === lc(a.scope) || s.startsWith(`${lc(a.scope)}/`);
    const below = (a: RoleAssignmentRecord) => lc(a.scope).startsWith(`${s}/`);
    let keep = (a: RoleAssignmentRecord) => above(a) || below(a);
    for (const clause of (filter ?? '').split(/\s+and\s+/i).map((c) => c.trim()).filter(Boolean)) {
      const prev = keep;
      let y: RegExpExecArray | null;
      if (/^atScope\(\)$/i.test(clause)) keep = (a) => prev(a) && above(a);
      else if ((y = /^(?:principalId eq '([^']+)'|assignedTo\('([^']+)'\))$/i.exec(clause))) {
        const pid = lc(y[1] ?? y[2]!);
        keep = (a) => prev(a) && a.principalId === pid;
      } else throw fail(400, 'InvalidFilterParameter', `The $filter '${filter}' is not supported. Supported: atScope(), principalId eq '{id}', assignedTo('{id}').`);
    }
    return this.answerList('authorization', 'RoleAssignment', [...this.world.roleAssignments.values()].filter(keep).map((a) => this.assignmentView(a)));
  }

  // --- seeded resources ----------------------------------------------------------------------------

  private listSeeded(rg: string, map: Map<string, Record<string, unknown>>, family: Family, className: string): AzReply {
    this.requireRg(rg);
    const prefix = `${lc(this.rgId(rg))}/`;
    return this.answerList(family, className, [...map.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v));
  }

  private getSeeded(rg: string, name: string, type: string, map: Map<string, Record<string, unknown>>, family: Family, className: string): AzReply {
    this.requireRg(rg);
    const v = map.get(lc(`${this.rgId(rg)}/providers/${type}/${name}`));
    if (!v) throw this.notFound(type, name, rg);
    return this.answer(200, family, className, v);
  }

  registryView(r: { id: string; name: string; location: string; loginServer: string }): Record<string, unknown> {
    return { id: r.id, name: r.name, type: T.registry, location: r.location, tags: {}, sku: { name: 'Standard', tier: 'Standard' }, properties: { loginServer: r.loginServer, creationDate: '2026-01-01T00:00:00Z', provisioningState: 'Succeeded', adminUserEnabled: false, anonymousPullEnabled: false } };
  }

  private listRegistries(rg: string): AzReply {
    this.requireRg(rg);
    return this.answerList('containerregistry', 'Registry', [...this.world.registries.values()].filter((r) => lc(r.resourceGroup) === lc(rg)).map((r) => this.registryView(r)));
  }

  private getRegistry(rg: string, name: string): AzReply {
    this.requireRg(rg);
    const r = this.world.registries.get(lc(`${this.rgId(rg)}/providers/${T.registry}/${name}`));
    if (!r) throw this.notFound(T.registry, name, rg);
    return this.answer(200, 'containerregistry', 'Registry', this.registryView(r));
  }
}

export const RESOURCE_TYPES = T;
