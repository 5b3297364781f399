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
//
// Rooms: arm-base.ts (api-versions, type names, the body and answer checks), arm-identities.ts,
// arm-rbac.ts, arm-seeded.ts (resource groups, clusters, registries); this file authenticates,
// checks the api-version, authorizes and routes.
import { ArmBase, ArmFail, fail, lc, T, type Route } from './arm-base.js';
import { ArmIdentities } from './arm-identities.js';
import { ArmRbac } from './arm-rbac.js';
import { ArmSeeded } from './arm-seeded.js';
import { grants, roleByGuid, type RoleDefinitionSpec } from './roles.js';
import { armError, header, type AzReply, type AzRequest } from './wire.js';
import type { IdentityRecord, World } from './world.js';

export { API_VERSIONS, FIC_LIMIT, MAX_FICS_PER_IDENTITY } from './arm-base.js';

const RG_NAME = /^[-\w._()]{1,90}$/u;

export class ArmStandin extends ArmBase {
  private readonly identities: ArmIdentities;
  private readonly rbac: ArmRbac;
  private readonly seeded: ArmSeeded;

  constructor(world: World) {
    super(world);
    this.identities = new ArmIdentities(world);
    this.rbac = new ArmRbac(world);
    this.seeded = new ArmSeeded(world);
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

    const rbac = this.rbac.route(req, path);
    if (rbac) return rbac;

    if ((x = m(/^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i)) && method === 'GET') {
      unknownSub(x[1]!);
      return this.seeded.rgRoute(x[2]!);
    }

    if ((x = m(/^\/subscriptions\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities$/i)) && method === 'GET') {
      unknownSub(x[1]!);
      return this.identities.listBySubscriptionRoute();
    }

    if ((x = m(/^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+)(?:\/([^/]+))?)?$/i))) {
      unknownSub(x[1]!);
      const rg = x[2]!;
      checkRg(rg);
      const ns = lc(`${x[3]}/${x[4]}`);
      const at = { req, method, rg, name: x[5], child: x[6], childName: x[7], rgScope: this.rgId(rg) };
      const route =
        ns === lc(T.identity) ? this.identities.route(at) : ns === lc(T.cluster) ? this.seeded.clusterRoute(at) : ns === lc(T.registry) ? this.seeded.registryRoute(at) : undefined;
      if (route) return route;
    }
    throw fail(404, 'InvalidResourceType', `The resource type could not be found for ${method} ${path}.`);
  }

  identityView(i: IdentityRecord): Record<string, unknown> {
    return this.identities.identityView(i);
  }

  registryView(r: { id: string; name: string; location: string; loginServer: string }): Record<string, unknown> {
    return this.seeded.registryView(r);
  }
}

export const RESOURCE_TYPES = T;
