// What every part of the ARM stand-in (arm.ts) shares: the api-versions each resource type answers
// to, the resource type names, ARM's refusal, the route a request resolves to, and the body, answer
// and resource-group checks (each answer held to its model, contract.ts).
import { randomUUID } from 'node:crypto';
import { assertAnswer, validate, type Family } from './contract.js';
import { armError, json, type AzReply, type AzRequest } from './wire.js';
import type { World } from './world.js';

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

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const T = {
  identity: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  fic: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  assignment: 'Microsoft.Authorization/roleAssignments',
  definition: 'Microsoft.Authorization/roleDefinitions',
  cluster: 'Microsoft.ContainerService/managedClusters',
  registry: 'Microsoft.ContainerRegistry/registries',
  rg: 'Microsoft.Resources/resourceGroups',
};

export class ArmFail extends Error {
  constructor(readonly reply: AzReply, readonly code: string, readonly reason: string) {
    super(reason);
  }
}
export const fail = (status: number, code: string, message: string, reason = message) => new ArmFail(armError(status, code, message), code, reason);

export interface Route {
  operationId: string;
  versions: readonly string[];
  /** Resource type for NoRegisteredProviderFound; `undefined` for ARM's own (resource groups). */
  type?: string;
  /** The RBAC action, and the scope it is checked at. */
  action: string;
  scope: string;
  run: () => Promise<AzReply> | AzReply;
}

export const lc = (s: string) => s.toLowerCase();

/** A request on a resource in a resource group: `…/resourceGroups/<rg>/providers/<type>/<name>[/<child>/<childName>]`. */
export interface ResourcePath {
  req: AzRequest;
  method: string;
  rg: string;
  name?: string;
  child?: string;
  childName?: string;
  /** The resource group's id. */
  rgScope: string;
}

/** The world and the checks every resource type's handlers use. */
export class ArmBase {
  constructor(readonly world: World) {}

  rgId(rg: string): string {
    return `/subscriptions/${this.world.subscriptionId}/resourceGroups/${rg}`;
  }

  body(req: AzRequest, family: Family, className: string): Record<string, unknown> {
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

  answer(status: number, family: Family, className: string, value: unknown): AzReply {
    assertAnswer(family, className, value);
    return json(status, value, { 'x-ms-request-id': randomUUID() });
  }

  answerList(family: Family, className: string, items: unknown[]): AzReply {
    for (const i of items) assertAnswer(family, className, i);
    return json(200, { value: items });
  }

  requireRg(rg: string): void {
    if (!this.world.resourceGroups.has(lc(rg))) throw fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  }

  notFound(type: string, name: string, rg: string): ArmFail {
    return fail(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }
}
