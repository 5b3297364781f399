// StackRox's real CRDs in the sandbox (derived schemas, test/sandbox/kube/crds/): the API server now
// validates spec.overlays as a real cluster with the operator installed does. Malformed overlays
// are rejected (422) or pruned exactly as the real schema says; the overlays rhacs-sts writes are
// stored unchanged. Each of these would pass against a preserve-unknown-fields stub.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorOverlays } from '../../src/plan/build.js';
import { useSandbox } from '../sandbox/context.js';
import { applyStackroxCrds, ensureNamespace, seedRhacs, STACKROX_GROUP, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeRaw } from '../sandbox/observe.js';

const sb = useSandbox({ resetAws: false });
const ARN = 'arn:aws:iam::123456789012:role/rhacs-sts';
const base = (ns: string, plural: string) => `/apis/${STACKROX_GROUP}/v1alpha1/namespaces/${ns}/${plural}`;

interface Status { status: number; warnings: string[]; message: string; body: any }

/** Creates a Central (or SecuredCluster) with `spec` as raw JSON; `query` e.g. `fieldValidation=Strict`. */
async function create(cluster: 'eks' | 'openshift', ns: string, kind: 'Central' | 'SecuredCluster', name: string, spec: unknown, query = ''): Promise<Status> {
  const plural = kind === 'Central' ? 'centrals' : 'securedclusters';
  const r = await kubeRaw(sb, cluster, `${base(ns, plural)}${query ? `?${query}` : ''}`, {
    method: 'POST',
    body: { apiVersion: `${STACKROX_GROUP}/v1alpha1`, kind, metadata: { name, namespace: ns }, spec },
  });
  const body = r.json<any>();
  const warning = r.headers.warning;
  return { status: r.status, warnings: warning === undefined ? [] : [warning].flat(), message: body.message ?? '', body };
}

let ns: string;
beforeAll(async () => {
  ns = uniqueNamespace('crd');
  for (const c of ['eks', 'openshift'] as const) {
    const kc = kubeConfigFor(sb, c);
    await applyStackroxCrds(kc);
    await ensureNamespace(kc, ns);
  }
});

describe('the installed CRDs are the real ones', () => {
  it('keeps the whole structural schema of the derived files (nothing dropped on the way in)', async () => {
    for (const plural of ['centrals', 'securedclusters']) {
      const file = JSON.parse(readFileSync(`test/sandbox/kube/crds/platform.stackrox.io_${plural}.json`, 'utf8'));
      const r = await kubeRaw(sb, 'eks', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${STACKROX_GROUP}`);
      expect(r.status).toBe(200);
      const served = r.json<any>().spec.versions[0].schema.openAPIV3Schema;
      expect(served).toEqual(file.spec.versions[0].schema.openAPIV3Schema);
      // The markers client-node's typed serialiser would have dropped are there.
      expect(JSON.stringify(served)).toContain('"x-kubernetes-int-or-string":true');
      expect(served.properties.spec['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
    }
  });

  it('the operator install the fixtures seed validates, and its spec is stored as written', async () => {
    const seeded = uniqueNamespace('crd-seed');
    const kc = kubeConfigFor(sb, 'eks');
    const r = await seedRhacs(kc, { namespace: seeded, method: 'operator' });
    expect(r.customResources).toEqual(['centrals/stackrox-central-services', 'securedclusters/stackrox-secured-cluster-services']);
    const central = (await kubeRaw(sb, 'eks', `${base(seeded, 'centrals')}/stackrox-central-services`)).json<any>();
    expect(central.spec).toEqual({ central: { exposure: { loadBalancer: { enabled: false } } }, egress: { connectivityPolicy: 'Online' } });
    expect(central.status.conditions.map((c: { type: string }) => c.type)).toContain('Deployed');
    const secured = (await kubeRaw(sb, 'eks', `${base(seeded, 'securedclusters')}/stackrox-secured-cluster-services`)).json<any>();
    expect(secured.spec).toEqual({ clusterName: 'sandbox', centralEndpoint: `central.${seeded}.svc:443` });
  });
});

describe('malformed overlays meet the real schema', () => {
  it('rejects patches that are not a list (422, naming the field)', async () => {
    const r = await create('eks', ns, 'Central', 'bad-patches', { overlays: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: { path: 'metadata.annotations.x', value: 'y' } }] });
    expect(r.status).toBe(422);
    expect(r.message).toMatch(/spec\.overlays\[0\]\.patches: Invalid value: "object": spec\.overlays\[0\]\.patches in body must be of type array/);
  });

  it('rejects overlays that are not a list, and a patch value that is not a string', async () => {
    const notList = await create('eks', ns, 'Central', 'bad-overlays', { overlays: { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central' } });
    expect(notList.status).toBe(422);
    expect(notList.message).toMatch(/spec\.overlays: Invalid value: "object": .*must be of type array/);
    // A value written as an object instead of a YAML string, a mistake the schema catches.
    const objValue = await create('eks', ns, 'Central', 'bad-value', {
      overlays: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'central', patches: [{ path: 'spec.template.spec.containers[name:central].env[-1]', value: { name: 'AWS_ROLE_ARN', value: ARN } }] }],
    });
    expect(objValue.status).toBe(422);
    expect(objValue.message).toMatch(/spec\.overlays\[0\]\.patches\[0\]\.value: Invalid value: "object": .*must be of type string/);
    const optional = await create('eks', ns, 'Central', 'bad-optional', { overlays: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', optional: 'yes', patches: [] }] });
    expect(optional.status).toBe(422);
    expect(optional.message).toMatch(/spec\.overlays\[0\]\.optional: Invalid value: "string": .*must be of type boolean/);
  });

  it('prunes a field the schema does not know (with a warning), and Strict field validation rejects it', async () => {
    const overlay = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ op: 'add', path: 'metadata.annotations.x', value: 'y' }] };
    const warned = await create('eks', ns, 'Central', 'pruned', { overlays: [overlay] });
    expect(warned.status).toBe(201);
    // Warning: 299 - "unknown field \"spec.overlays[0].patches[0].op\""
    expect(warned.warnings.join('\n')).toMatch(/^299 - "unknown field \\"spec\.overlays\[0\]\.patches\[0\]\.op\\""$/);
    expect(warned.body.spec.overlays).toEqual([{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.x', value: 'y' }] }]);
    const strict = await create('eks', ns, 'Central', 'strict', { overlays: [overlay] }, 'fieldValidation=Strict');
    expect(strict.status).toBe(400); // BadRequest, as kubectl (Strict by default) reports it
    expect(strict.message).toMatch(/unknown field "spec\.overlays\[0\]\.patches\[0\]\.op"/);
  });

  it('accepts a patch without a path: the real schema requires no field of a patch (the operator fails later, not the API server)', async () => {
    const r = await create('eks', ns, 'Central', 'no-path', { overlays: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ value: 'y' }] }] });
    expect(r.status).toBe(201);
    expect(r.body.spec.overlays[0].patches).toEqual([{ value: 'y' }]);
  });

  it('a SecuredCluster needs spec.clusterName', async () => {
    const r = await create('openshift', ns, 'SecuredCluster', 'no-name', { centralEndpoint: 'central:443' });
    expect(r.status).toBe(422);
    expect(r.message).toMatch(/spec\.clusterName: Required value/);
  });
});

describe('the overlays rhacs-sts writes', () => {
  it.each([
    ['eks', 'Central', 'central'],
    ['eks', 'SecuredCluster', 'sensor'],
    ['openshift', 'Central', 'central'],
    ['openshift', 'SecuredCluster', 'sensor'],
  ] as const)('%s %s: stored exactly as written, with no warning', async (cluster, kind, comp) => {
    const overlays = operatorOverlays(cluster, comp, ARN);
    const spec = kind === 'SecuredCluster' ? { clusterName: 'c', overlays } : { overlays };
    const r = await create(cluster, ns, kind, `ours-${cluster}-${comp}`, spec, 'fieldValidation=Strict');
    expect(r.status, r.message).toBe(201);
    expect(r.warnings).toEqual([]);
    expect(r.body.spec.overlays).toEqual(overlays);
  });
});
