// Smoke test of the sandbox's OpenShift flavour: config.openshift.io objects, an operator install
// with the projected `openshift` token volume, tokens with audience `openshift` that verify against
// the discovery documents, IAM/STS through moto, and rollouts through the real controllers and kwok.
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  OpenidApi,
  WellKnownApi,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import {
  apiStatus,
  createRestrictedUser,
  OPENSHIFT_TOKEN_DIR,
  rolloutState,
  seedRhacs,
  setRolloutMode,
  uniqueNamespace,
  waitForRollout,
} from '../sandbox/fixtures.js';
import { verifyJwt } from '../sandbox/issuers/jwt.js';
import { clusterInfo, awsMark, awsRequests, kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
// client-node 1.4 types the discovery endpoints as returning string but hands back parsed JSON.
const asJson = (v: unknown): any => (typeof v === 'string' ? JSON.parse(v) : v);
const cluster = clusterInfo(sb, 'openshift');
const kc = kubeConfigFor(sb, 'openshift');
const aws = {
  endpoint: sb.awsEnv.AWS_ENDPOINT_URL,
  region: sb.awsEnv.AWS_REGION,
  credentials: { accessKeyId: sb.awsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: sb.awsEnv.AWS_SECRET_ACCESS_KEY },
};

describe('sandbox: OpenShift flavour', () => {
  it('has the config.openshift.io cluster objects', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const auth = (await custom.getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster' })) as any;
    expect(auth.spec.serviceAccountIssuer).toBe(cluster.issuer);
    const infra = (await custom.getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'infrastructures', name: 'cluster' })) as any;
    expect(infra.status.platform).toBe('AWS');
    expect(infra.status.platformStatus).toEqual({ type: 'AWS', aws: { region: cluster.region } });
    // The EKS cluster shares the etcd but not the objects.
    const eksCustom = kubeConfigFor(sb, 'eks').makeApiClient(CustomObjectsApi);
    const missing = await eksCustom
      .getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'infrastructures', name: 'cluster' })
      .then(() => undefined, (e: unknown) => e);
    expect(apiStatus(missing)).toBe(404);
  });

  it('answers IAM and STS through moto, starting from a reset account', async () => {
    const iam = new IAMClient(aws);
    // useSandbox() reset moto before this file: the EKS file's provider and role are gone.
    expect((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList).toEqual([]);
    const mark = await awsMark(sb);
    const who = await new STSClient(aws).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toMatch(new RegExp(`^arn:aws:(iam|sts)::${sb.accountId}:`));
    const provider = await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: cluster.issuer, ClientIDList: ['openshift'], ThumbprintList: ['a'.repeat(40)] }),
    );
    expect(provider.OpenIDConnectProviderArn).toContain(':oidc-provider/rhacs-sts-oidc.s3.');
    await iam.send(new CreateRoleCommand({ RoleName: 'rhacs-sts-openshift', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
    expect((await iam.send(new GetRoleCommand({ RoleName: 'rhacs-sts-openshift' }))).Role?.RoleName).toBe('rhacs-sts-openshift');
    expect((await awsRequests(sb, mark)).map((r) => r.action)).toEqual([
      'GetCallerIdentity',
      'CreateOpenIDConnectProvider',
      'CreateRole',
      'GetRole',
    ]);
  });

  it('seeds an operator install with the projected openshift token, and mints matching tokens', async () => {
    const ns = uniqueNamespace('smoke-ocp');
    const seeded = await seedRhacs(kc, { namespace: ns, method: 'operator', openshift: true });
    expect(seeded.customResources).toEqual(['centrals/stackrox-central-services', 'securedclusters/stackrox-secured-cluster-services']);
    const apps = kc.makeApiClient(AppsV1Api);
    const central = await apps.readNamespacedDeployment({ name: 'central', namespace: ns });
    expect(central.metadata?.ownerReferences?.[0]).toMatchObject({
      apiVersion: 'platform.stackrox.io/v1alpha1',
      kind: 'Central',
      name: 'stackrox-central-services',
      controller: true,
    });
    const podSpec = central.spec!.template.spec!;
    const volume = podSpec.volumes?.find((v) => v.projected);
    expect(volume?.projected?.sources?.[0]?.serviceAccountToken).toEqual({ audience: 'openshift', expirationSeconds: 3600, path: 'token' });
    expect(podSpec.containers[0]?.volumeMounts).toContainEqual(
      expect.objectContaining({ name: volume!.name, mountPath: OPENSHIFT_TOKEN_DIR, readOnly: true }),
    );
    const sensor = await apps.readNamespacedDeployment({ name: 'sensor', namespace: ns });
    expect(sensor.metadata?.ownerReferences?.[0]?.kind).toBe('SecuredCluster');

    const core = kc.makeApiClient(CoreV1Api);
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'central',
      namespace: ns,
      body: { spec: { audiences: ['openshift'], expirationSeconds: 3600 } },
    });
    const discovery = asJson(await kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration());
    expect(discovery.issuer).toBe(cluster.issuer);
    expect(discovery.jwks_uri).toBe(`${cluster.issuer}/keys.json`);
    const jwks = asJson(await kc.makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset());
    const jwt = verifyJwt(tr.status!.token, jwks);
    expect(jwt.payload.iss).toBe(cluster.issuer);
    expect(jwt.payload.sub).toBe(`system:serviceaccount:${ns}:central`);
    expect(jwt.payload.aud).toEqual(['openshift']);

    // Each cluster signs with its own key: the EKS cluster's JWKS does not verify this token.
    const eksJwks = asJson(await kubeConfigFor(sb, 'eks').makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset());
    expect(() => verifyJwt(tr.status!.token, eksJwks)).toThrow();
  });

  it('completes a rollout changed by a client and denies a restricted user', async () => {
    const ns = uniqueNamespace('smoke-ocp');
    await seedRhacs(kc, { namespace: ns, method: 'helm', openshift: true, components: ['sensor'], tokenVolume: false });
    const apps = kc.makeApiClient(AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'sensor', namespace: ns });
    expect(d.spec!.template.spec!.volumes?.some((v) => v.projected)).toBe(false);
    d.spec!.template.metadata!.annotations = { ...d.spec!.template.metadata!.annotations, 'smoke/restartedAt': new Date().toISOString() };
    await apps.replaceNamespacedDeployment({ name: 'sensor', namespace: ns, body: d });
    const state = await waitForRollout(kc, ns, 'sensor', 15_000);
    expect(state.observedGeneration).toBe(2);

    const user = await createRestrictedUser(sb, 'openshift', {
      name: 'no-tokens',
      namespace: ns,
      rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list'] }],
    });
    const ukc = new KubeConfig();
    ukc.loadFromFile(user.kubeconfig);
    const ucore = ukc.makeApiClient(CoreV1Api);
    expect((await ucore.readNamespacedServiceAccount({ name: 'sensor', namespace: ns })).metadata?.name).toBe('sensor');
    const err = await ucore
      .createNamespacedServiceAccountToken({ name: 'sensor', namespace: ns, body: { spec: { audiences: ['openshift'] } } })
      .then(() => undefined, (e: unknown) => e);
    expect(apiStatus(err)).toBe(403);
  });

  it('lets a pod template opt out of becoming ready (annotation), for timeout tests', async () => {
    const ns = uniqueNamespace('smoke-ocp');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', openshift: true });
    await setRolloutMode(kc, ns, 'sensor', 'fail');
    await setRolloutMode(kc, ns, 'central', 'hang');
    let reason: string | undefined;
    for (let i = 0; i < 100 && reason !== 'ProgressDeadlineExceeded'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      reason = (await rolloutState(kc, ns, 'sensor')).reason;
    }
    expect(reason).toBe('ProgressDeadlineExceeded');
    // Central (Recreate): the old pod is gone, the new one runs but is never ready.
    let central = await rolloutState(kc, ns, 'central');
    for (let i = 0; i < 50 && central.updatedReplicas < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      central = await rolloutState(kc, ns, 'central');
    }
    expect(central).toMatchObject({ complete: false, observedGeneration: 2, updatedReplicas: 1, availableReplicas: 0, reason: 'ReplicaSetUpdated' });
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=central' });
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0]!.status).toMatchObject({ phase: 'Running' });
    expect(pods.items[0]!.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }));
  });
});
