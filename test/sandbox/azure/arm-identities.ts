// ARM's Microsoft.ManagedIdentity part (arm.ts): user-assigned identities (PUT, PATCH, GET, DELETE,
// list by resource group and subscription) and their federated identity credentials (PUT, GET,
// DELETE, list): at most 20 per identity, an https issuer, one write at a time per identity.
import { randomUUID } from 'node:crypto';
import { ArmBase, API_VERSIONS, fail, FIC_LIMIT, lc, MAX_FICS_PER_IDENTITY, T, type ResourcePath, type Route } from './arm-base.js';
import { FIC_NAME_PATTERN } from './contract.js';
import type { AzReply, AzRequest } from './wire.js';
import type { IdentityRecord } from './world.js';

export class ArmIdentities extends ArmBase {
  /** UserAssignedIdentities_ListBySubscription. */
  listBySubscriptionRoute(): Route {
    const sub = this.world.subscriptionId;
    return { operationId: 'UserAssignedIdentities_ListBySubscription', versions: API_VERSIONS.identities, type: T.identity, action: `${T.identity}/read`, scope: `/subscriptions/${sub}`, run: () => this.answerList('msi', 'Identity', [...this.world.identities.values()].map((i) => this.identityView(i))) };
  }

  /** The identity and federated credential operations on a path under a resource group. */
  route({ req, method, rg, name, child, childName, rgScope }: ResourcePath): Route | undefined {
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
    return undefined;
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
}
