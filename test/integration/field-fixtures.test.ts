// Fixtures that look like the field: EKS contexts as `aws eks update-kubeconfig` writes them (the
// exec section runs the sandbox's stand-in aws), OpenShift contexts as `oc login` names them,
// rhacs-sts without any AWS region configured, roxctl-rendered manifests (Helm annotations, no
// release Secret) against Helm installs, RHACS 4.3 on OpenShift without the bound-token volume,
// and `npm run sandbox -- --clusters N` fleets.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openKubeSession } from '../../src/kube/client.js';
import { hasTokenMount } from '../../src/kube/rhacs.js';
import { awsCliCalls } from '../sandbox/aws/aws-cli.js';
import { useSandbox } from '../sandbox/context.js';
import { chartsMountToken, createRestrictedUser, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';
import { fleetNames, startSeededSandbox } from '../sandbox/standalone.js';
import { cli } from '../sandbox/cli.js';

const sb = useSandbox();
const eks = sb.clusters.eks!;
const ocp = sb.clusters.openshift!;
const quiet = () => undefined;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-field-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }

/** bin/rhacs-sts with the sandbox's AWS endpoint and credentials but no region anywhere (env or ~/.aws). */
function cliWithoutRegion(kubeconfig: string, args: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('RHACS_STS_') || k.startsWith('AWS_')) delete env[k];
  const awsConfig = join(dir, 'empty-aws-config');
  writeFileSync(awsConfig, '');
  const { AWS_REGION: _r, ...aws } = sb.awsEnv;
  Object.assign(env, aws, { KUBECONFIG: kubeconfig, NO_COLOR: '1', AWS_CONFIG_FILE: awsConfig, AWS_SHARED_CREDENTIALS_FILE: awsConfig });
  expect(env.AWS_REGION ?? env.AWS_DEFAULT_REGION).toBeUndefined();
  return new Promise((resolve) => {
    execFile('bin/rhacs-sts', args, { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('contexts named as people have them', () => {
  it('EKS: cluster, user and context are the cluster ARN; the user has the aws eks get-token exec section', () => {
    expect(eks.context).toBe(`arn:aws:eks:${eks.region}:123456789012:cluster/${eks.name}`);
    const kc = parse(readFileSync(eks.kubeconfig, 'utf8'));
    expect(kc['current-context']).toBe(eks.context);
    expect(kc.contexts).toEqual([{ name: eks.context, context: { cluster: eks.context, user: eks.context } }]);
    expect(kc.clusters[0].name).toBe(eks.context);
    const user = kc.users.find((u: { name: string }) => u.name === eks.context).user;
    expect(user.exec).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['--region', eks.region, 'eks', 'get-token', '--cluster-name', eks.name, '--output', 'json'],
    });
  });

  it('OpenShift: the context is named as oc login names it', () => {
    expect(ocp.context).toBe(`default/api-${ocp.name}-sandbox-example-com:6443/kube:admin`);
    const kc = parse(readFileSync(ocp.kubeconfig, 'utf8'));
    expect(kc.contexts[0].context).toEqual({ cluster: `api-${ocp.name}-sandbox-example-com:6443`, user: `kube:admin/api-${ocp.name}-sandbox-example-com:6443` });
    expect(kc.users[0].user.exec).toBeUndefined();
  });

  it('the client runs the exec plugin (the stand-in aws answers and records it); the certificate is what authenticates', async () => {
    const before = awsCliCalls(sb.awsCliLog).length;
    const kc = new KubeConfig();
    kc.loadFromFile(eks.kubeconfig);
    const mark = kubeMark(sb, 'eks');
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    const calls = awsCliCalls(sb.awsCliLog).slice(before);
    expect(calls).toContainEqual(expect.objectContaining({ args: 'eks get-token', region: eks.region, cluster: eks.name, answered: true }));
    const reqs = await kubeRequests(sb, 'eks', mark, { resource: 'namespaces', name: 'default' });
    expect(reqs.map((r) => r.user)).toContain('sandbox-admin');
  });

  it('an exec section naming a cluster the sandbox does not have fails the request, as a missing cluster would', async () => {
    const doc = parse(readFileSync(eks.kubeconfig, 'utf8'));
    doc.users[0].user.exec.args[5] = 'not-a-sandbox-cluster';
    doc.users[0].name = 'elsewhere';
    doc.contexts[0].context.user = 'elsewhere';
    const file = join(dir, 'elsewhere.yaml');
    writeFileSync(file, stringify(doc), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    await expect(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).rejects.toThrow(/no EKS cluster not-a-sandbox-cluster/);
  });
});

describe('no AWS region in the environment', () => {
  it('EKS: plan takes the region from the issuer (STS included)', async () => {
    const ns = uniqueNamespace('nr-eks');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const r = await cliWithoutRegion(eks.kubeconfig, ['plan', '--namespace', ns, '--role-name', 'nr-eks', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).region).toBe(eks.region);
  });

  it('OpenShift: plan takes the region from the infrastructure status', async () => {
    const ns = uniqueNamespace('nr-ocp');
    await seedRhacs(kubeConfigFor(sb, 'openshift'), { namespace: ns, method: 'manifests', openshift: true });
    const r = await cliWithoutRegion(ocp.kubeconfig, ['plan', '--namespace', ns, '--role-name', 'nr-ocp', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).region).toBe(ocp.region);
  });

  it('exits 2 naming --region when nothing configures one and the cluster does not say', async () => {
    const ns = uniqueNamespace('nr-none');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    // A user who may not list nodes (so no topology labels), and an issuer that is not an EKS one.
    const user = await createRestrictedUser(sb, 'eks', {
      name: `nr-reader-${ns}`,
      namespace: ns,
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
        { apiGroups: ['platform.stackrox.io'], resources: ['centrals', 'securedclusters'], verbs: ['get', 'list'] },
      ],
    });
    const r = await cliWithoutRegion(user.kubeconfig, ['plan', '--namespace', ns, '--provider', 'eks', '--oidc-issuer', 'https://issuer.example.test/c', '--role-name', 'nr-none']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--region: /);
    expect(r.stderr).not.toMatch(/Region is missing/);
  });
});

describe('roxctl-rendered manifests and Helm installs', () => {
  const helmSecrets = async (ns: string) =>
    (await kubeConfigFor(sb, 'eks').makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns, labelSelector: 'owner=helm' })).items.map((s) => s.metadata!.name);

  it('manifests carry the Helm annotations but no release Secret, and are detected as manifests', async () => {
    const ns = uniqueNamespace('rox-man');
    const kc = kubeConfigFor(sb, 'eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'central', namespace: ns });
    expect(d.metadata!.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'stackrox-central-services', 'meta.helm.sh/release-namespace': ns });
    expect(d.metadata!.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm' });
    expect(await helmSecrets(ns)).toEqual([]);
    const facts = (await (await openKubeSession({ kubeconfig: eks.kubeconfig, context: eks.context }, quiet)).discover({ namespace: ns })).facts;
    expect(facts.installMethod).toBe('manifests');
    expect(facts.helmReleases).toBeUndefined();
  });

  it('Helm installs keep sh.helm.release.v1.<release>.v<N> Secrets and are detected as Helm', async () => {
    const ns = uniqueNamespace('rox-helm');
    const kc = kubeConfigFor(sb, 'eks');
    await seedRhacs(kc, { namespace: ns, method: 'helm', helmRevision: 3 });
    expect((await helmSecrets(ns)).sort()).toEqual(['sh.helm.release.v1.stackrox-central-services.v3', 'sh.helm.release.v1.stackrox-secured-cluster-services.v3']);
    const facts = (await (await openKubeSession({ kubeconfig: eks.kubeconfig, context: eks.context }, quiet)).discover({ namespace: ns })).facts;
    expect(facts.installMethod).toBe('helm');
    expect(facts.helmReleases).toEqual({ central: 'stackrox-central-services', sensor: 'stackrox-secured-cluster-services' });
    // The chart version the printed "helm upgrade" pins (its helm.sh/chart label), so that applying values upgrades nothing.
    expect(facts.helmChartVersions).toEqual({ central: '400.7.2', sensor: '400.7.2' });
  });

  it('Helm installs with the ConfigMap storage driver (HELM_DRIVER=configmap) are detected as Helm, also by a user who may not list Secrets', async () => {
    const ns = uniqueNamespace('rox-helm-cm');
    const kc = kubeConfigFor(sb, 'eks');
    await seedRhacs(kc, { namespace: ns, method: 'helm', helmDriver: 'configmap' });
    expect(await helmSecrets(ns)).toEqual([]);
    const configMaps = (await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns, labelSelector: 'owner=helm' })).items.map((c) => c.metadata!.name).sort();
    expect(configMaps).toEqual(['sh.helm.release.v1.stackrox-central-services.v1', 'sh.helm.release.v1.stackrox-secured-cluster-services.v1']);
    const d = await (await openKubeSession({ kubeconfig: eks.kubeconfig, context: eks.context }, quiet)).discover({ namespace: ns });
    expect(d.facts.installMethod).toBe('helm');
    expect(d.facts.installEvidence).toContain('release stackrox-central-services');

    const user = await createRestrictedUser(sb, 'eks', {
      name: 'no-secrets', namespace: ns,
      // Everything detection reads except Secrets (the StackRox resources too: an earlier file may have installed their CRDs).
      rules: [
        { apiGroups: ['', 'apps'], resources: ['deployments', 'serviceaccounts', 'configmaps', 'pods'], verbs: ['get', 'list'] },
        { apiGroups: ['platform.stackrox.io'], resources: ['centrals', 'securedclusters'], verbs: ['get', 'list'] },
      ],
      clusterRules: [{ nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks', '/apis', '/api'], verbs: ['get'] }, { apiGroups: [''], resources: ['nodes'], verbs: ['list'] }],
    });
    const restricted = await (await openKubeSession({ kubeconfig: user.kubeconfig, context: user.context }, quiet)).discover({ namespace: ns, provider: 'eks' });
    expect(restricted.facts.installMethod).toBe('helm');
    expect(restricted.warnings.join('\n')).not.toMatch(/Cannot list Secrets/);
  });
});

describe('RHACS 4.3 on OpenShift: no bound-token volume', () => {
  it('the charts mount the token only from 4.4.0 on, and the seed follows the image tag', async () => {
    expect([chartsMountToken('4.3.8'), chartsMountToken('4.4.0'), chartsMountToken('4.7.2'), chartsMountToken('3.74.9')]).toEqual([false, true, true, false]);
    const kc = kubeConfigFor(sb, 'openshift');
    for (const [tag, mounted] of [['4.3.8', false], ['4.4.0', true]] as const) {
      const ns = uniqueNamespace(`t-${tag.replace(/\./g, '')}`);
      await seedRhacs(kc, { namespace: ns, method: 'helm', openshift: true, components: ['central'], imageTag: tag });
      const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'central', namespace: ns });
      const spec = d.spec!.template.spec!;
      expect(hasTokenMount(spec, spec.containers[0])).toBe(mounted);
    }
  });

  it.each(['operator', 'helm'] as const)('init on 4.3 installed by %s is refused, naming the upgrade; nothing changes', async (method) => {
    const ns = uniqueNamespace(`t43-${method}`);
    const kc = kubeConfigFor(sb, 'openshift');
    await seedRhacs(kc, { namespace: ns, method, openshift: true, imageTag: '4.3.8', components: ['central'] });
    const k0 = kubeMark(sb, 'openshift');
    const a0 = await awsMark(sb);
    const r = await cli(sb, 'openshift', ['init', '--yes', '--namespace', ns, '--role-name', `t43-${method}`]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Deployment ${ns}/central has no projected service-account token (audience openshift) at /var/run/secrets/openshift/serviceaccount`);
    expect(r.stderr).toContain('(this install is 4.3.8)');
    expect(r.stderr).toContain('Upgrade RHACS to 4.4 or later (its charts mount the token themselves), then re-run rhacs-sts init.');
    expect(await kubeRequests(sb, 'openshift', k0, { namespace: ns, writesOnly: true })).toEqual([]);
    expect(await awsWrites(sb, a0)).toEqual([]);
  });

  it('init on 4.3 from plain manifests sets the env and adds the token volume in one patch: one rollout (and says so)', async () => {
    const ns = uniqueNamespace('t43-init');
    const kc = kubeConfigFor(sb, 'openshift');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', openshift: true, imageTag: '4.3.8', components: ['central'] });
    const apps = kc.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    const k0 = kubeMark(sb, 'openshift');
    const r = await cli(sb, 'openshift', ['init', '--yes', '--namespace', ns, '--role-name', 't43-init']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/does not mount a projected service-account token .*; rhacs-sts adds it, in the same change as the environment/);
    expect((await kubeRequests(sb, 'openshift', k0, { namespace: ns, writesOnly: true })).map((q) => `${q.verb} ${q.resource}/${q.name}`)).toEqual(['patch deployments/central']);
    const d = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    expect(d.metadata!.generation).toBe(before.metadata!.generation! + 1);
    const spec = d.spec!.template.spec!;
    expect(hasTokenMount(spec, spec.containers.find((c) => c.name === 'central'))).toBe(true);
    expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=central' })).items).toHaveLength(2);
  });
});

describe('npm run sandbox -- --clusters N', () => {
  it('bounds N', () => {
    expect(fleetNames(1)).toEqual(['hub']);
    expect(fleetNames(3)).toEqual(['hub', 'spoke-1', 'spoke-2']);
    expect(() => fleetNames(0)).toThrow(/from 1 to 8/);
    expect(() => fleetNames(9)).toThrow(/from 1 to 8/);
  });

  it('a fleet of 2: EKS contexts, a hub with Central and Sensor, a spoke with Sensor, own issuers, no region', async () => {
    const fleet = await startSeededSandbox({ clusters: 2, log: quiet, sandbox: { handleSignals: false } });
    try {
      // Short contexts, as after `kubectl config rename-context` (the README's examples use them);
      // the cluster and user entries keep the names `aws eks update-kubeconfig` gives them.
      expect(fleet.fleet.map((f) => f.cluster.context)).toEqual(['hub', 'spoke-1']);
      expect(fleet.fleet.map((f) => f.rhacs.deployments)).toEqual([['central', 'sensor'], ['sensor']]);
      expect(new Set(fleet.fleet.map((f) => f.cluster.issuer)).size).toBe(2);
      expect(fleet.env.AWS_REGION ?? fleet.env.AWS_DEFAULT_REGION).toBeUndefined();
      expect(fleet.exportLines).toContain(`export PATH=${fleet.info.awsCliDir}:"$PATH"`);
      const doc = parse(readFileSync(fleet.env.KUBECONFIG!, 'utf8'));
      expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(fleet.fleet.map((f) => f.cluster.context));
      expect(doc.contexts.map((c: { context: { cluster: string } }) => c.context.cluster)).toEqual([
        `arn:aws:eks:${fleet.cluster.region}:123456789012:cluster/hub`,
        `arn:aws:eks:${fleet.cluster.region}:123456789012:cluster/spoke-1`,
      ]);
      // Each context works through its own exec section.
      for (const f of fleet.fleet) {
        const kc = new KubeConfig();
        kc.loadFromFile(fleet.env.KUBECONFIG!);
        kc.setCurrentContext(f.cluster.context);
        const names = (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: 'stackrox' })).items.map((d) => d.metadata!.name);
        expect(names.sort()).toEqual([...f.rhacs.deployments].sort());
      }
      expect(awsCliCalls(fleet.info.awsCliLog).filter((c) => c.answered).map((c) => c.cluster)).toEqual(expect.arrayContaining(['hub', 'spoke-1']));
    } finally {
      await fleet.stop();
    }
  }, 120_000);
});
