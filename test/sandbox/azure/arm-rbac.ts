// ARM's Microsoft.Authorization part (arm.ts): role assignments at any scope that exists (PUT, GET,
// DELETE, list at, above and below a scope with `$filter`), with PrincipalNotFound until the
// identity has propagated and RoleAssignmentExists for the same principal, role and scope under
// another name; role definitions (GET, list) of the built-in roles (roles.ts).
import { ArmBase, API_VERSIONS, fail, GUID, lc, T, type Route } from './arm-base.js';
import { BUILT_IN_ROLES, roleByGuid, type RoleDefinitionSpec } from './roles.js';
import type { AzReply, AzRequest } from './wire.js';
import type { RoleAssignmentRecord } from './world.js';

export class ArmRbac extends ArmBase {
  /** Role assignments and definitions: at any scope. */
  route(req: AzRequest, path: string): Route | undefined {
    const m = (re: RegExp) => re.exec(path);
    const method = req.method;
    let x: RegExpExecArray | null;
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
    return undefined;
  }

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
}
