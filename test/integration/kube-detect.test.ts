// Detection against real kube-apiservers: the shared sandbox's `eks` and `openshift` clusters, plus
// a private sandbox (started by this file) with clusters that have no flavour signal, an OpenShift
// that is not set up for STS, and a plain cluster with only EKS-looking nodes. Discovery must send
// no write request (audit log).
import { AppsV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKubeSession } from '../../src/kube/client.js';
import { InputError, OperationError, RhacsStsError } from '../../src/errors.js';
import { EKS_ROLE_ANNOTATION } from '../../src/plan/model.js';
import { useSandbox } from '../sandbox/context.js';
import {
  EXISTING_ENV,
  ensureNamespace,
  mergePatch,
  seedEks,
  seedOpenShift,
  seedRhacs,
  STACKROX_GROUP,
  UNRELATED_ANNOTATION,
  uniqueNamespace,
} from '../sandbox/fixtures.js';
import { kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';

const sb = useSandbox({ resetAws: false });
const eks = sb.clusters.eks!;
const os = sb.clusters.openshift!;
const eksKc = kubeConfigFor(sb, 'eks');
const osKc = kubeConfigFor(sb, 'openshift');
const quiet = () => undefined;

const open = (c: { kubeconfig: string; context: string }, log: (m: string) => void = quiet) =>
  openKubeSession({ kubeconfig: c.kubeconfig, context: c.context }, log);

async function rejection(p: Promise<unknown>): Promise<RhacsStsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RhacsStsError);
  return err as RhacsStsError;
}

describe('kube discovery: EKS', () => {
  it('detects EKS, the issuer and region, a Helm install with both components, and reads only', async () => {
    const ns = uniqueNamespace('kd-eks-helm');
    await seedRhacs(eksKc, { namespace: ns, method: 'helm', imageTag: '4.7.2' });
    const lines: string[] = [];
    const session = await open(eks, (m) => lines.push(m));
    const mark = kubeMark(sb, 'eks');
    const d = await session.discover({ namespace: ns });

    expect(d.facts).toMatchObject({
      provider: 'eks',
      issuer: eks.issuer,
      namespace: ns,
      components: ['central', 'sensor'],
      installMethod: 'helm',
      helmReleases: { central: 'stackrox-central-services', sensor: 'stackrox-secured-cluster-services' },
      version: '4.7.2',
    });
    expect(d.facts.installEvidence).toMatch(/Helm/);
    expect(d.facts.operatorCrs).toBeUndefined();
    expect(d.region).toBe(eks.region);
    const central = d.facts.current!.central!;
    expect(central.serviceAccount!.annotations[UNRELATED_ANNOTATION.key]).toBe(UNRELATED_ANNOTATION.value);
    expect(central.serviceAccount!.annotations[EKS_ROLE_ANNOTATION]).toBeUndefined();
    expect(central.deployment!.container).toBe('central');
    expect(central.deployment!.env).toContainEqual(EXISTING_ENV);
    expect(central.deployment!.env).toContainEqual({ name: 'ROX_NAMESPACE' }); // valueFrom: no value
    expect(central.deployment!.hasTokenMount).toBe(false);
    expect(d.warnings).toEqual([]);

    // Reads only: nothing but get/list in the audit log, and every call was logged (no secrets).
    const seen = await kubeRequests(sb, 'eks', mark, { user: 'sandbox-admin' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => !['get', 'list'].includes(r.verb))).toEqual([]);
    expect(await kubeRequests(sb, 'eks', mark, { writesOnly: true, user: 'sandbox-admin' })).toEqual([]);
    expect(seen.every((r) => r.userAgent === 'rhacs-sts')).toBe(true);
    expect(lines.filter((l) => /^kube (GET|POST|PATCH|PUT|DELETE) \//.test(l)).length).toBeGreaterThanOrEqual(seen.length);
    expect(lines.join('\n')).not.toMatch(/BEGIN|PRIVATE|Bearer|client-key/i);
  });

  it('detects a manifests install with Central only', async () => {
    const ns = uniqueNamespace('kd-eks-man');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'], imageTag: '4.6.1' });
    const d = await (await open(eks)).discover({ namespace: ns });
    expect(d.facts).toMatchObject({ provider: 'eks', components: ['central'], installMethod: 'manifests', version: '4.6.1' });
    expect(d.facts.helmReleases).toBeUndefined();
    expect(d.facts.current!.sensor).toBeUndefined();
    // roxctl renders the charts, so the seeded manifests carry the Helm annotations; no release Secret.
    expect(d.facts.installEvidence).toMatch(/carries Helm annotations \(release stackrox-central-services\) but there is no Helm release record/);
  });

  it('detects an operator install with Sensor only (the SecuredCluster CR and its overlays)', async () => {
    const ns = uniqueNamespace('kd-eks-op');
    await seedRhacs(eksKc, { namespace: ns, method: 'operator', components: ['sensor'] });
    const d = await (await open(eks)).discover({ namespace: ns });
    expect(d.facts).toMatchObject({
      provider: 'eks',
      components: ['sensor'],
      installMethod: 'operator',
      operatorCrs: { sensor: { kind: 'SecuredCluster', name: 'stackrox-secured-cluster-services', overlays: [] } },
    });
    expect(d.facts.installEvidence).toMatch(/owned by SecuredCluster stackrox-secured-cluster-services/);
  });

  it('reports a --region that contradicts the EKS issuer, naming --region', async () => {
    const ns = uniqueNamespace('kd-eks-region');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const err = await rejection((await open(eks)).discover({ namespace: ns, region: 'us-east-2' }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--region');
    expect(err.message).toContain(eks.region);
  });

  it('takes --oidc-issuer over the cluster and --provider over the detection', async () => {
    const ns = uniqueNamespace('kd-eks-override');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
    const d = await (await open(eks)).discover({ namespace: ns, oidcIssuer: `${issuer}/`, provider: 'openshift' });
    expect(d.facts.issuer).toBe(issuer);
    expect(d.facts.provider).toBe('openshift');
    expect(d.warnings.join('\n')).toMatch(/--provider openshift overrides the detection/);
    // The issuer the tokens carry is read too, for discover to hold the flag against.
    expect(d.tokenIssuer).toEqual({ issuer: eks.issuer, source: "the API server's /.well-known/openid-configuration" });
    expect((await (await open(eks)).discover({ namespace: ns })).tokenIssuer).toBeUndefined();
  });

  it('requires --namespace, naming it, when the given namespace has no RHACS', async () => {
    const ns = uniqueNamespace('kd-eks-empty');
    await ensureNamespace(eksKc, ns);
    const err = await rejection((await open(eks)).discover({ namespace: ns }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('--namespace');
    expect(err.message).toContain(ns);
  });
});

describe('kube discovery: OpenShift', () => {
  it('detects OpenShift from config.openshift.io, the issuer, region and infrastructure name, and an operator install', async () => {
    const ns = uniqueNamespace('kd-os-op');
    await seedRhacs(osKc, { namespace: ns, method: 'operator', openshift: true });
    // A user's own overlay on the Central CR is reported as current state.
    const userOverlay = { apiVersion: 'v1', kind: 'ConfigMap', name: 'central-config', patches: [{ path: 'data.x', value: 'y' }] };
    await osKc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      { group: STACKROX_GROUP, version: 'v1alpha1', namespace: ns, plural: 'centrals', name: 'stackrox-central-services', body: { spec: { overlays: [userOverlay] } } },
      mergePatch(),
    );
    const mark = kubeMark(sb, 'openshift');
    const d = await (await open(os)).discover({ namespace: ns });
    expect(d.facts).toMatchObject({
      provider: 'openshift',
      issuer: os.issuer,
      installMethod: 'operator',
      components: ['central', 'sensor'],
      operatorCrs: {
        central: { kind: 'Central', name: 'stackrox-central-services', overlays: [userOverlay] },
        sensor: { kind: 'SecuredCluster', name: 'stackrox-secured-cluster-services', overlays: [] },
      },
    });
    expect(d.region).toBe(os.region);
    expect(d.clusterName).toBe('rhacs-sts-sandbox-x7k2p');
    expect(d.facts.current!.central!.deployment!.hasTokenMount).toBe(true);
    expect(d.facts.current!.sensor!.deployment!.hasTokenMount).toBe(true);
    expect(d.warnings).toEqual([]);
    expect(await kubeRequests(sb, 'openshift', mark, { writesOnly: true, user: 'sandbox-admin' })).toEqual([]);
  });

  it('warns when the projected token volume is missing on a target container of a plain-manifests install (rhacs-sts adds it)', async () => {
    const ns = uniqueNamespace('kd-os-notoken');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true, tokenVolume: false });
    const d = await (await open(os)).discover({ namespace: ns });
    expect(d.facts.provider).toBe('openshift');
    expect(d.facts.current!.central!.deployment!.hasTokenMount).toBe(false);
    expect(d.warnings.join('\n')).toMatch(new RegExp(`Deployment ${ns}/central does not mount a projected service-account token .*; rhacs-sts adds it, in the same change as the environment`));
  });

  it('reports a missing token volume of a Helm install without a warning (the plan refuses it and says why)', async () => {
    const ns = uniqueNamespace('kd-os-notoken-helm');
    await seedRhacs(osKc, { namespace: ns, method: 'helm', openshift: true, tokenVolume: false, components: ['central'] });
    const d = await (await open(os)).discover({ namespace: ns });
    expect(d.facts.current!.central!.deployment!.hasTokenMount).toBe(false);
    expect(d.warnings.join('\n')).not.toMatch(/does not mount a projected service-account token/);
  });

  it('reads the deployment strategy (Recreate for Central, as the chart renders it) and, on EKS, what the pods carry', async () => {
    const ns = uniqueNamespace('kd-strategy');
    await seedRhacs(osKc, { namespace: ns, method: 'manifests', openshift: true });
    const d = await (await open(os)).discover({ namespace: ns });
    expect(d.facts.current!.central!.deployment!.strategy).toBe('Recreate');
    expect(d.facts.current!.sensor!.deployment!.strategy).toBe('RollingUpdate');
    // Pods are read on EKS only (OpenShift's wiring is the pod template itself).
    expect(d.facts.current!.central!.pods).toBeUndefined();

    const eksNs = uniqueNamespace('kd-pods');
    await seedRhacs(eksKc, { namespace: eksNs, method: 'manifests', components: ['central'] });
    const e = await (await open(eks)).discover({ namespace: eksNs });
    expect(e.facts.current!.central!.pods).toEqual([{ name: expect.stringMatching(/^central-[a-z0-9]+-[a-z0-9]+$/) }]);
  });
});

describe('kube discovery: other clusters and namespace search (private sandbox)', () => {
  let priv: Sandbox;
  let plainKc: KubeConfig;
  beforeAll(async () => {
    priv = await startSandbox({
      clusters: [{ name: 'plain' }, { name: 'nosts', flavour: 'plain' }, { name: 'awsnodes', flavour: 'plain' }],
      aws: false,
      log: quiet,
    });
    plainKc = priv.kubeConfig('plain');
    await seedOpenShift(priv.kubeConfig('nosts'), { issuer: '' });
    await seedEks(priv.kubeConfig('awsnodes'), { region: 'ap-southeast-2' });
  }, 120_000);
  afterAll(async () => {
    await priv?.stop();
  });

  it('asks for --provider when nothing says EKS or OpenShift, and takes it when given', async () => {
    await seedRhacs(plainKc, { namespace: 'stackrox', method: 'manifests', components: ['central'] });
    const session = await open(priv.info.clusters.plain!);
    const err = await rejection(session.discover({}));
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--provider');
    const d = await session.discover({ provider: 'eks', region: 'eu-west-1' });
    expect(d.facts).toMatchObject({ provider: 'eks', issuer: priv.info.clusters.plain!.issuer, namespace: 'stackrox', components: ['central'] });
  });

  it('finds RHACS outside stackrox when it is in one namespace, and asks for --namespace when in several', async () => {
    const kc = priv.kubeConfig('awsnodes');
    const first = uniqueNamespace('kd-acs');
    await seedRhacs(kc, { namespace: first, method: 'helm', components: ['sensor'] });
    const session = await open(priv.info.clusters.awsnodes!);
    const d = await session.discover({});
    // EKS from the nodes' aws:/// providerID; region from their labels.
    expect(d.facts).toMatchObject({ provider: 'eks', namespace: first, components: ['sensor'], installMethod: 'helm' });
    expect(d.region).toBe('ap-southeast-2');

    // A deployment called central without the RHACS label does not count.
    const decoy = uniqueNamespace('kd-decoy');
    await ensureNamespace(kc, decoy);
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: decoy,
      body: {
        metadata: { name: 'central' },
        spec: {
          selector: { matchLabels: { x: 'y' } },
          template: { metadata: { labels: { x: 'y' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      },
    });
    expect((await session.discover({})).facts.namespace).toBe(first);

    const second = uniqueNamespace('kd-acs2');
    await seedRhacs(kc, { namespace: second, method: 'manifests', components: ['central'] });
    const err = await rejection(session.discover({}));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('--namespace');
    expect(err.message).toContain(`${first} (sensor)`);
    expect(err.message).toContain(`${second} (central)`);
    expect((await session.discover({ namespace: second })).facts.components).toEqual(['central']);
  });

  it('says RHACS was not found when no namespace has it', async () => {
    const err = await rejection((await open(priv.info.clusters.nosts!)).discover({ provider: 'eks' }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/RHACS was not found/);
  });

  it('stops on an OpenShift cluster that is not set up for STS, pointing to issuer publish (and ccoctl)', async () => {
    const kc = priv.kubeConfig('nosts');
    await seedRhacs(kc, { namespace: 'stackrox', method: 'manifests', openshift: true });
    const session = await open(priv.info.clusters.nosts!);
    const err = await rejection(session.discover({}));
    expect(err).toBeInstanceOf(OperationError);
    expect(err.message).toMatch(/not configured for AWS STS/);
    // The real prerequisite: a public issuer that the tokens carry. --oidc-issuer alone cannot help.
    expect(err.hint).toMatch(/ccoctl aws create-identity-provider/);
    expect(err.hint).toMatch(/rhacs-sts issuer publish --set-cluster-issuer/);
    expect(err.hint).toMatch(/sets spec\.serviceAccountIssuer on authentications\.config\.openshift\.io\/cluster/);
    expect(err.hint).not.toMatch(/--oidc-issuer/);
    // With an issuer given, the session reports what the tokens really carry (discover refuses it: see issuer-cli).
    const d = await session.discover({ oidcIssuer: 'https://example-bucket.s3.eu-west-1.amazonaws.com' });
    expect(d.facts).toMatchObject({ provider: 'openshift', issuer: 'https://example-bucket.s3.eu-west-1.amazonaws.com', namespace: 'stackrox' });
    expect(d.tokenIssuer).toEqual({ issuer: priv.info.clusters.nosts!.issuer, source: "the API server's /.well-known/openid-configuration" });
  });
});
