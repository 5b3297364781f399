// StackRox's own CRDs (Central, SecuredCluster) for the sandbox API servers: the structural schemas
// of the real CRDs from github.com/stackrox/stackrox, derived by crds/derive-stackrox-crds.mjs (see
// crds/README.md). With them the API server validates what rhacs-sts writes into spec.overlays and
// prunes what the real schema does not know, as on a real cluster with the operator installed.
//
// They are sent as raw JSON: @kubernetes/client-node's typed bodies go through its model serialiser,
// which drops keys it does not know (`x-kubernetes-int-or-string`, `x-kubernetes-list-type`, …).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'kube', 'crds');

export interface CrdDocument {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; schema?: { openAPIV3Schema: Record<string, unknown> } }[] };
}

function load(name: string): CrdDocument {
  return JSON.parse(readFileSync(join(crdDir, `${name}.json`), 'utf8')) as CrdDocument;
}

/** The derived Central and SecuredCluster CRDs (plain JSON, as the API server receives them). */
export const STACKROX_CRDS: CrdDocument[] = [load('platform.stackrox.io_centrals'), load('platform.stackrox.io_securedclusters')];

export interface RawKubeResponse {
  status: number;
  body: string;
  /** `Warning` headers (e.g. unknown fields dropped under fieldValidation=Warn). */
  warnings: string[];
}

/**
 * One request to the API server of `kc`'s current context with its credentials (client
 * certificate; an exec plugin runs as client-node would run it), body as JSON, nothing dropped.
 */
export async function kubeRequestRaw(kc: KubeConfig, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<RawKubeResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) (opts.headers as Record<string, string>)['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const warning = res.headers.warning;
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          warnings: warning === undefined ? [] : [warning].flat(),
        });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url.href}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Creates each CRD as raw JSON; an existing one (409) is kept. Waiting for Established is the caller's. */
export async function createCrdsRaw(kc: KubeConfig, crds: CrdDocument[]): Promise<void> {
  for (const crd of crds) {
    const r = await kubeRequestRaw(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating CRD ${crd.metadata.name}: HTTP ${r.status} ${r.body}`);
  }
}
