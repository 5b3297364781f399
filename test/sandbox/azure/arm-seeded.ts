// ARM's seeded resources (arm.ts): resource groups (GET), AKS managed clusters and container
// registries (GET and list by resource group), as a test seeded them.
import { ArmBase, API_VERSIONS, fail, lc, T, type ResourcePath, type Route } from './arm-base.js';
import type { Family } from './contract.js';
import { json, type AzReply } from './wire.js';

export class ArmSeeded extends ArmBase {
  /** ResourceGroups_Get. */
  rgRoute(rg: string): Route {
    return { operationId: 'ResourceGroups_Get', versions: API_VERSIONS.resourceGroups, action: 'Microsoft.Resources/subscriptions/resourceGroups/read', scope: this.rgId(rg), run: () => this.getRg(rg) };
  }

  /** ManagedClusters_Get / _ListByResourceGroup. */
  clusterRoute({ method, rg, name, child, rgScope }: ResourcePath): Route | undefined {
    if (method !== 'GET' || child) return undefined;
    const v = API_VERSIONS.managedClusters;
    if (!name) return { operationId: 'ManagedClusters_ListByResourceGroup', versions: v, type: T.cluster, action: `${T.cluster}/read`, scope: rgScope, run: () => this.listSeeded(rg, this.world.clusters, 'containerservice', 'ManagedCluster') };
    return { operationId: 'ManagedClusters_Get', versions: v, type: T.cluster, action: `${T.cluster}/read`, scope: `${rgScope}/providers/${T.cluster}/${name}`, run: () => this.getSeeded(rg, name, T.cluster, this.world.clusters, 'containerservice', 'ManagedCluster') };
  }

  /** Registries_Get / _ListByResourceGroup. */
  registryRoute({ method, rg, name, child, rgScope }: ResourcePath): Route | undefined {
    if (method !== 'GET' || child) return undefined;
    const v = API_VERSIONS.registries;
    if (!name) return { operationId: 'Registries_ListByResourceGroup', versions: v, type: T.registry, action: `${T.registry}/read`, scope: rgScope, run: () => this.listRegistries(rg) };
    return { operationId: 'Registries_Get', versions: v, type: T.registry, action: `${T.registry}/read`, scope: `${rgScope}/providers/${T.registry}/${name}`, run: () => this.getRegistry(rg, name) };
  }

  // --- resource groups -------------------------------------------------------------------------

  private getRg(rg: string): AzReply {
    const r = this.world.resourceGroups.get(lc(rg));
    if (!r) throw fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    return json(200, { id: this.rgId(r.name), name: r.name, type: T.rg, location: r.location, tags: r.tags, properties: { provisioningState: 'Succeeded' } });
  }

  // --- clusters and registries ------------------------------------------------------------------

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
