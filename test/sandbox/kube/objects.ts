// Generic helpers for seeding the sandbox API servers: idempotent creates, namespaces, CRDs.
//
// All functions take a KubeConfig for the admin user (see kubeConfigFor() / sandbox.kubeConfig()).
// They use @kubernetes/client-node 1.x, whose API methods take one object parameter
// (`createNamespace({ body })`) and throw ApiException (`code`, `body` as a JSON string) on errors.
import { randomBytes } from 'node:crypto';
import { ApiException, ApiextensionsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';

/** HTTP status of a client-node error (ApiException), or undefined. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Runs `fn`, treating 409 AlreadyExists as success (for idempotent seeding). */
export async function createOrKeep<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (apiStatus(err) === 409) return undefined;
    throw err;
  }
}

export async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** Options for client-node patch calls: JSON merge patch instead of the default JSON patch. */
export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh, valid namespace name: `<prefix>-<time>-<random>` (at most 63 characters). */
export function uniqueNamespace(prefix = 'test'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'test';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function ensureNamespace(kc: KubeConfig, name: string, labels: Record<string, string> = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await createOrKeep(() => core.createNamespace({ body: { metadata: { name, labels } } }));
}

/** Creates CRDs (idempotent) and waits, bounded, until the API server reports them Established. */
export async function applyCrds(kc: KubeConfig, crds: V1CustomResourceDefinition[], timeoutMs = 20_000): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) await createOrKeep(() => ext.createCustomResourceDefinition({ body: crd }));
  await waitForCrds(kc, crds.map((c) => c.metadata!.name!), timeoutMs);
}

/** Waits, bounded, until the API server reports each named CRD Established. */
export async function waitForCrds(kc: KubeConfig, names: string[], timeoutMs = 20_000): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      const got = await ext.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline || attempt > 200) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  // Discovery (and so the custom-objects endpoints) can trail Established for a moment.
  await sleep(200);
}
export function crd(opts: {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  scope: 'Cluster' | 'Namespaced';
  version: string;
  shortNames?: string[];
}): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${opts.plural}.${opts.group}` },
    spec: {
      group: opts.group,
      scope: opts.scope,
      names: {
        kind: opts.kind,
        listKind: `${opts.kind}List`,
        plural: opts.plural,
        singular: opts.singular ?? opts.kind.toLowerCase(),
        ...(opts.shortNames ? { shortNames: opts.shortNames } : {}),
      },
      versions: [
        {
          name: opts.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          // client-node serialises typed bodies through its models and silently drops keys it does
          // not know: the model's name for `x-kubernetes-preserve-unknown-fields` is
          // `x_kubernetes_preserve_unknown_fields`.
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          },
        },
      ],
    },
  };
}
