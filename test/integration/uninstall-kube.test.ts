// The Kubernetes 'delete' actions of uninstall against the sandbox's real kube-apiservers: each
// removes only our annotation key / our two env vars / our overlay entries, re-reads first, leaves
// a key that now holds another value alone, and returns false (writing nothing) once it is gone.
// Restarting for uninstall removes init's restartedAt marker, so the pod template is as before.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { openKubeSession } from '../../src/kube/client.js';
import type { KubeAction } from '../../src/kube/session.js';
import { operatorOverlays } from '../../src/plan/build.js';
import { EKS_ROLE_ANNOTATION, OPENSHIFT_TOKEN_FILE, RESTARTED_AT_ANNOTATION } from '../../src/plan/model.js';
import { useSandbox } from '../sandbox/context.js';
import { EXISTING_ENV, mergePatch, seedRhacs, STACKROX_GROUP, UNRELATED_ANNOTATION, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox({ resetAws: false });
const eks = sb.clusters.eks!;
const os = sb.clusters.openshift!;
const eksKc = kubeConfigFor(sb, 'eks');
const osKc = kubeConfigFor(sb, 'openshift');
const ARN = 'arn:aws:iam::123456789012:role/rhacs-sts-test';
const OTHER = 'arn:aws:iam::123456789012:role/someone-else';
const open = (c: { kubeconfig: string; context: string }) => openKubeSession({ kubeconfig: c.kubeconfig, context: c.context }, () => undefined);
const ref = (namespace: string, name: string) => ({ namespace, name });
const base = { target: 't', summary: 's' };

/** Writes that took effect (a 409 Conflict, retried after a re-read, changed nothing). */
async function writes(cluster: string, since: number, namespace: string) {
  return (await kubeRequests(sb, cluster, since, { namespace, writesOnly: true, user: 'sandbox-admin' }))
    .filter((r) => r.code !== 409)
    .map((r) => `${r.verb} ${r.resource}/${r.name}`);
}

const readDeployment = (kc: KubeConfig, namespace: string, name: string): Promise<V1Deployment> =>
  kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });

const envOf = (d: V1Deployment) => d.spec!.template.spec!.containers.find((c) => c.name === 'central')!.env!;

describe('uninstall kube: service account annotation', () => {
  it('removes only our key while it holds our value; other annotations stay; then nothing to do', async () => {
    const ns = uniqueNamespace('uk-sa');
    await seedRhacs(eksKc, { namespace: ns, method: 'helm', components: ['central'] });
    const core = eksKc.makeApiClient(CoreV1Api);
    const before = (await core.readNamespacedServiceAccount({ name: 'central', namespace: ns })).metadata!.annotations!;
    const session = await open(eks);
    const add: KubeAction = { ...base, id: 'sa', status: 'create', type: 'service-account-annotation', ref: ref(ns, 'central'), annotations: { [EKS_ROLE_ANNOTATION]: ARN } };
    const del: KubeAction = { ...add, status: 'delete' };
    expect(await session.apply(add)).toBe(true);

    let mark = kubeMark(sb, 'eks');
    expect(await session.apply(del)).toBe(true);
    expect(await writes('eks', mark, ns)).toEqual(['patch serviceaccounts/central']);
    expect((await core.readNamespacedServiceAccount({ name: 'central', namespace: ns })).metadata!.annotations).toEqual(before);
    expect(before[UNRELATED_ANNOTATION.key]).toBe(UNRELATED_ANNOTATION.value);

    mark = kubeMark(sb, 'eks');
    expect(await session.apply(del)).toBe(false);
    expect(await writes('eks', mark, ns)).toEqual([]);

    // Pointed at another role since the plan: theirs now, left alone.
    await core.patchNamespacedServiceAccount({ name: 'central', namespace: ns, body: { metadata: { annotations: { [EKS_ROLE_ANNOTATION]: OTHER } } } }, mergePatch());
    mark = kubeMark(sb, 'eks');
    expect(await session.apply(del)).toBe(false);
    expect(await writes('eks', mark, ns)).toEqual([]);
    expect((await core.readNamespacedServiceAccount({ name: 'central', namespace: ns })).metadata!.annotations![EKS_ROLE_ANNOTATION]).toBe(OTHER);
  });
});

describe('uninstall kube: deployment env', () => {
  it('removes our two variables by name, keeps the others in order (plain and valueFrom), then nothing to do', async () => {
    const ns = uniqueNamespace('uk-env');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, components: ['central'] });
    const before = await readDeployment(osKc, ns, 'central');
    const session = await open(os);
    const env = [{ name: 'AWS_ROLE_ARN', value: ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: OPENSHIFT_TOKEN_FILE }];
    const add: KubeAction = { ...base, id: 'env', status: 'create', type: 'deployment-env', ref: ref(ns, 'central'), container: 'central', env };
    const del: KubeAction = { ...add, status: 'delete' };
    expect(await session.apply(add)).toBe(true);
    expect(envOf(await readDeployment(osKc, ns, 'central')).length).toBe(envOf(before).length + 2);

    let mark = kubeMark(sb, 'openshift');
    expect(await session.apply(del)).toBe(true);
    expect(await writes('openshift', mark, ns)).toEqual(['patch deployments/central']);
    const after = await readDeployment(osKc, ns, 'central');
    expect(envOf(after)).toEqual(envOf(before));
    expect(envOf(after)).toContainEqual(EXISTING_ENV);
    expect(after.spec!.template).toEqual(before.spec!.template);

    mark = kubeMark(sb, 'openshift');
    expect(await session.apply(del)).toBe(false);
    expect(await writes('openshift', mark, ns)).toEqual([]);
  });

  it('leaves AWS_ROLE_ARN alone when it now names another role, and never removes a valueFrom', async () => {
    const ns = uniqueNamespace('uk-env-other');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, components: ['central'] });
    const session = await open(os);
    const other = [{ name: 'AWS_ROLE_ARN', value: OTHER }];
    expect(await session.apply({ ...base, id: 'env', status: 'create', type: 'deployment-env', ref: ref(ns, 'central'), container: 'central', env: other })).toBe(true);
    const before = await readDeployment(osKc, ns, 'central');
    const mark = kubeMark(sb, 'openshift');
    // The plan saw our ARN; the deployment has another: nothing of ours is left.
    expect(await session.apply({ ...base, id: 'env', status: 'delete', type: 'deployment-env', ref: ref(ns, 'central'), container: 'central', env: [{ name: 'AWS_ROLE_ARN', value: ARN }] })).toBe(false);
    // ROX_NAMESPACE is a valueFrom: an entry with an empty value never matches it.
    expect(await session.apply({ ...base, id: 'env', status: 'delete', type: 'deployment-env', ref: ref(ns, 'central'), container: 'central', env: [{ name: 'ROX_NAMESPACE', value: '' }] })).toBe(false);
    expect(await writes('openshift', mark, ns)).toEqual([]);
    expect(envOf(await readDeployment(osKc, ns, 'central'))).toEqual(envOf(before));
  });
});

describe('uninstall kube: operator overlays', () => {
  it('removes our entries and keeps the user\'s; an emptied list goes away; then nothing to do', async () => {
    const ns = uniqueNamespace('uk-overlay');
    await seedRhacs(eksKc, { namespace: ns, method: 'operator', components: ['central'] });
    const custom = eksKc.makeApiClient(CustomObjectsApi);
    const crRef = { group: STACKROX_GROUP, version: 'v1alpha1', namespace: ns, plural: 'centrals', name: 'stackrox-central-services' };
    const userOverlay = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.labels.team', value: 'platform' }] };
    await custom.patchNamespacedCustomObject({ ...crRef, body: { spec: { overlays: [userOverlay] } } }, mergePatch());
    const session = await open(eks);
    const overlays = operatorOverlays('eks', 'central', ARN);
    const add: KubeAction = { ...base, id: 'o', status: 'update', type: 'operator-overlay', ref: ref(ns, 'stackrox-central-services'), crKind: 'Central', overlays };
    const del: KubeAction = { ...add, status: 'delete' };
    expect(await session.apply(add)).toBe(true);
    const spec = () => custom.getNamespacedCustomObject(crRef).then((x) => (x as { spec: Record<string, unknown> }).spec);
    expect((await spec()).overlays).toEqual([userOverlay, ...overlays]);

    let mark = kubeMark(sb, 'eks');
    expect(await session.apply(del)).toBe(true);
    expect(await writes('eks', mark, ns)).toEqual(['patch centrals/stackrox-central-services']);
    expect((await spec()).overlays).toEqual([userOverlay]);
    mark = kubeMark(sb, 'eks');
    expect(await session.apply(del)).toBe(false);
    expect(await writes('eks', mark, ns)).toEqual([]);

    // Only ours: the list is removed, as it was before.
    await custom.patchNamespacedCustomObject({ ...crRef, body: { spec: { overlays: null } } }, mergePatch());
    const bare = await spec();
    expect(await session.apply(add)).toBe(true);
    expect(await session.apply(del)).toBe(true);
    expect(await spec()).toEqual(bare);
    // An overlay for another role is not ours to remove.
    expect(await session.apply({ ...add, overlays: operatorOverlays('eks', 'central', OTHER) })).toBe(true);
    expect(await session.apply(del)).toBe(false);
    expect((await spec()).overlays).toEqual(operatorOverlays('eks', 'central', OTHER));
  });
});

describe('uninstall kube: restart', () => {
  it('removes the restartedAt marker init set (a template change, so a restart), or sets one when there is none', async () => {
    const ns = uniqueNamespace('uk-restart');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const session = await open(eks);
    const before = await readDeployment(eksKc, ns, 'central');
    const restart: KubeAction = { ...base, id: 'r', status: 'update', type: 'restart', ref: ref(ns, 'central'), method: 'restartedAt', deferred: false };
    expect(await session.apply(restart)).toBe(true); // init's restart
    const restarted = await readDeployment(eksKc, ns, 'central');
    expect(restarted.spec!.template.metadata!.annotations![RESTARTED_AT_ANNOTATION]).toBeDefined();

    expect(await session.apply({ ...restart, revertMarker: true })).toBe(true);
    const after = await readDeployment(eksKc, ns, 'central');
    expect(after.metadata!.generation).toBe(restarted.metadata!.generation! + 1);
    expect(after.spec!.template).toEqual(before.spec!.template);

    // No marker to remove: restart by setting one.
    expect(await session.apply({ ...restart, revertMarker: true })).toBe(true);
    expect((await readDeployment(eksKc, ns, 'central')).spec!.template.metadata!.annotations![RESTARTED_AT_ANNOTATION]).toMatch(/^\d{4}-/);
  });
});
