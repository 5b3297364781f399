// Smoke test of the sandbox's EKS flavour: the real servers answer (moto for IAM/STS, kube-apiserver
// with etcd), service-account tokens carry the EKS issuer and verify against the API server's JWKS,
// and the fixtures, the real controllers (controller-manager, scheduler, kwok), the request logs and
// RBAC behave.
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  OpenidApi,
  PatchStrategy,
  setHeaderOptions,
  WellKnownApi,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import {
  apiStatus,
  createRestrictedUser,
  EXISTING_ENV,
  seedRhacs,
  UNRELATED_ANNOTATION,
  uniqueNamespace,
  waitForRollout,
} from '../sandbox/fixtures.js';
import { verifyJwt } from '../sandbox/issuers/jwt.js';
import {
  awsMark,
  awsRequests,
  awsWrites,
  clusterInfo,
  DEPLOYMENT_CONTROLLER_USER,
  kubeConfigFor,
  kubeMark,
  kubeRequests,
  kubeRaw,
} from '../sandbox/observe.js';

const sb = useSandbox();
// client-node 1.4 types the discovery endpoints as returning string but hands back parsed JSON.
const asJson = (v: unknown): any => (typeof v === 'string' ? JSON.parse(v) : v);
const cluster = clusterInfo(sb, 'eks');
const kc = kubeConfigFor(sb, 'eks');
const aws = {
  endpoint: sb.awsEnv.AWS_ENDPOINT_URL,
  region: sb.awsEnv.AWS_REGION,
  credentials: { accessKeyId: sb.awsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: sb.awsEnv.AWS_SECRET_ACCESS_KEY },
};

describe('sandbox: EKS flavour', () => {
  it('has an EKS-looking issuer and nodes', async () => {
    expect(cluster.issuer).toMatch(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.length).toBeGreaterThan(0);
    for (const n of nodes.items) {
      expect(n.spec?.providerID).toMatch(/^aws:\/\/\/eu-west-1[a-z]\/i-0[0-9a-f]{16}$/);
      expect(n.metadata?.labels?.['eks.amazonaws.com/nodegroup']).toBeTruthy();
      expect(n.metadata?.labels?.['topology.kubernetes.io/region']).toBe('eu-west-1');
      expect(n.status?.nodeInfo?.kubeletVersion).toContain('-eks-');
    }
  });

  it('answers IAM and STS through moto, and counts the requests', async () => {
    const iam = new IAMClient(aws);
    const sts = new STSClient(aws);
    const mark = await awsMark(sb);

    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(sb.accountId);

    const host = cluster.issuer.replace(/^https:\/\//, '');
    const created = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: cluster.issuer,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      }),
    );
    expect(created.OpenIDConnectProviderArn).toBe(`arn:aws:iam::${sb.accountId}:oidc-provider/${host}`);
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: created.OpenIDConnectProviderArn }));
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);

    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: created.OpenIDConnectProviderArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${host}:sub`]: 'system:serviceaccount:stackrox:central', [`${host}:aud`]: 'sts.amazonaws.com' } },
        },
      ],
    };
    await iam.send(new CreateRoleCommand({ RoleName: 'rhacs-sts-smoke', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const role = await iam.send(new GetRoleCommand({ RoleName: 'rhacs-sts-smoke' }));
    expect(role.Role?.Arn).toBe(`arn:aws:iam::${sb.accountId}:role/rhacs-sts-smoke`);
    expect(JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!))).toEqual(trust);

    const seen = await awsRequests(sb, mark);
    expect(seen.map((r) => `${r.service}:${r.action}`)).toEqual([
      'sts:GetCallerIdentity',
      'iam:CreateOpenIDConnectProvider',
      'iam:GetOpenIDConnectProvider',
      'iam:CreateRole',
      'iam:GetRole',
    ]);
    expect((await awsWrites(sb, mark)).map((r) => r.action)).toEqual(['CreateOpenIDConnectProvider', 'CreateRole']);
  });

  it('mints service-account tokens for sts.amazonaws.com that verify against the discovery documents', async () => {
    const ns = uniqueNamespace('smoke-eks');
    await seedRhacs(kc, { namespace: ns, method: 'helm' });
    const core = kc.makeApiClient(CoreV1Api);
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'central',
      namespace: ns,
      body: { spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 3600 } },
    });
    const token = tr.status!.token;

    const discovery = asJson(await kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration());
    expect(discovery.issuer).toBe(cluster.issuer);
    expect(discovery.jwks_uri).toBe(`${cluster.issuer}/keys`);
    expect(cluster.jwksUri).toBe(discovery.jwks_uri);
    expect(discovery.id_token_signing_alg_values_supported).toContain('RS256');
    const jwks = asJson(await kc.makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset());
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });

    const jwt = verifyJwt(token, jwks);
    expect(jwt.payload.iss).toBe(cluster.issuer);
    expect(jwt.payload.sub).toBe(`system:serviceaccount:${ns}:central`);
    expect(jwt.payload.aud).toEqual(['sts.amazonaws.com']);
    expect(jwt.payload.exp - jwt.payload.iat).toBe(3600);

    // The same documents over plain HTTPS with the admin certificate.
    const raw = await kubeRaw(sb, 'eks', '/.well-known/openid-configuration');
    expect(raw.status).toBe(200);
    expect(raw.json<{ issuer: string }>().issuer).toBe(cluster.issuer);
  });

  it('runs the real controllers: kwok-managed EKS nodes, ReplicaSets owning scheduled pods, namespace deletion', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = (await core.listNode()).items;
    const eksNodes = nodes.filter((n) => n.spec?.providerID?.startsWith('aws:///'));
    expect(eksNodes.length).toBeGreaterThanOrEqual(2);
    for (const n of eksNodes) {
      expect(n.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
      expect(n.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
      expect(n.status?.nodeInfo?.kubeletVersion).toMatch(/-eks-/);
    }

    const ns = uniqueNamespace('smoke-ctrl');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['sensor'] });
    // The service-account and root-CA publisher controllers fill every new namespace.
    expect((await core.readNamespacedServiceAccount({ name: 'default', namespace: ns })).metadata?.name).toBe('default');
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=sensor' })).items;
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    const owner = pod.metadata?.ownerReferences?.[0];
    expect(owner).toMatchObject({ kind: 'ReplicaSet', controller: true });
    expect(pod.metadata?.name).toMatch(new RegExp(`^${owner!.name}-[a-z0-9]{5}$`));
    expect(eksNodes.map((n) => n.metadata?.name)).toContain(pod.spec?.nodeName);
    expect(pod.status?.podIP).toBeTruthy();

    // Deleting the namespace finishes (namespace controller; kwok removes the pods at once).
    await core.deleteNamespace({ name: ns });
    let gone = false;
    for (let i = 0; i < 150 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone = await core.readNamespace({ name: ns }).then(() => false, (e: unknown) => apiStatus(e) === 404);
    }
    expect(gone).toBe(true);
  });

  it('seeds a Helm install and completes rollouts through the real controllers', async () => {
    const ns = uniqueNamespace('smoke-eks');
    const seeded = await seedRhacs(kc, { namespace: ns, method: 'helm', imageTag: '4.7.2' });
    expect(seeded.deployments).toEqual(['central', 'sensor']);
    const apps = kc.makeApiClient(AppsV1Api);
    const central = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    expect(central.metadata?.labels).toMatchObject({
      app: 'central',
      'app.kubernetes.io/name': 'stackrox',
      'app.kubernetes.io/component': 'central',
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': 'stackrox-central-services-400.7.2',
    });
    expect(central.metadata?.annotations).toMatchObject({
      'meta.helm.sh/release-name': 'stackrox-central-services',
      'meta.helm.sh/release-namespace': ns,
      [UNRELATED_ANNOTATION.key]: UNRELATED_ANNOTATION.value,
    });
    const container = central.spec!.template.spec!.containers[0]!;
    expect(container.name).toBe('central');
    expect(container.image).toBe('registry.redhat.io/advanced-cluster-security/rhacs-main-rhel8:4.7.2');
    expect(container.env).toContainEqual(EXISTING_ENV);
    expect(central.spec!.template.spec!.serviceAccountName).toBe('central');
    expect(central.spec!.template.spec!.volumes?.some((v) => v.projected)).toBe(false);
    expect(central.status?.availableReplicas).toBe(1);

    const kubeStart = kubeMark(sb, 'eks');
    const before = Date.now();
    await apps.patchNamespacedDeployment(
      {
        name: 'sensor',
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'sensor', env: [{ name: 'SMOKE', value: '1' }] }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const state = await waitForRollout(kc, ns, 'sensor', 15_000);
    expect(state.complete).toBe(true);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=sensor' });
    // The old pod may still be on its way out (deletionTimestamp set) for a moment.
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live).toHaveLength(1);
    const pod = live[0]!;
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(new Date(pod.status!.startTime!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(pod.spec?.containers[0]?.env).toContainEqual({ name: 'SMOKE', value: '1' });

    // The audit log shows our write (and, separately, the controller's).
    const ours = await kubeRequests(sb, 'eks', kubeStart, { namespace: ns, writesOnly: true });
    expect(ours.map((r) => `${r.verb} ${r.resource}/${r.name}`)).toEqual(['patch deployments/sensor']);
    const controller = await kubeRequests(sb, 'eks', kubeStart, { namespace: ns, writesOnly: true, user: DEPLOYMENT_CONTROLLER_USER, excludeController: false });
    expect(controller.some((r) => r.resource === 'deployments' && r.subresource === 'status')).toBe(true);

    // A server-side dry run is logged but is not a write.
    const dryStart = kubeMark(sb, 'eks');
    await apps.patchNamespacedDeployment(
      { name: 'sensor', namespace: ns, dryRun: 'All', body: { metadata: { labels: { dry: 'run' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const dry = await kubeRequests(sb, 'eks', dryStart, { namespace: ns, resource: 'deployments', verb: 'patch' });
    expect(dry).toHaveLength(1);
    expect(dry[0]?.dryRun).toBe(true);
    expect(await kubeRequests(sb, 'eks', dryStart, { namespace: ns, writesOnly: true })).toEqual([]);
  });

  it('gives a restricted user 403 for what its role lacks', async () => {
    const ns = uniqueNamespace('smoke-eks');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const user = await createRestrictedUser(sb, 'eks', {
      name: 'viewer',
      namespace: ns,
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }],
    });
    const ukc = new KubeConfig();
    ukc.loadFromFile(user.kubeconfig);
    const apps = ukc.makeApiClient(AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    // roxctl renders the charts: its manifests carry the Helm labels too (but no release Secret).
    expect(d.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    const err = await apps
      .patchNamespacedDeployment({ name: 'central', namespace: ns, body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }] })
      .then(() => undefined, (e: unknown) => e);
    expect(apiStatus(err)).toBe(403);
    const err2 = await ukc
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccountToken({ name: 'central', namespace: ns, body: { spec: { audiences: ['sts.amazonaws.com'] } } })
      .then(() => undefined, (e: unknown) => e);
    expect(apiStatus(err2)).toBe(403);
  });
});
