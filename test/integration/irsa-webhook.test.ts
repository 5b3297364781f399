// The IRSA webhook stand-in on the sandbox's EKS cluster, and what `verify` makes of the pods: a pod
// created after the role annotation carries exactly what amazon-eks-pod-identity-webhook injects
// (env, projected token volume, mount), the service account's audience / token-expiration /
// sts-regional-endpoints annotations are honoured, opt-outs are respected, a pod created before the
// annotation keeps running without credentials and verify fails on it naming the restart (and
// passes after init's restart), and the OpenShift cluster has no webhook.
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { apiStatus, ensureNamespace, seedRhacs, uniqueNamespace, waitForRollout } from '../sandbox/fixtures.js';
import { hasIrsaWebhook, irsaMark, irsaMutations, MOUNT_PATH, TOKEN_FILE, type IrsaMutation } from '../sandbox/aws/irsa-webhook.js';
import { clusterInfo, kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { checksOf, cli, sleep } from './verify-support.js';

const sb = useSandbox();
beforeEach(() => resetAws(sb));
const kc = kubeConfigFor(sb, 'eks');
const core = kc.makeApiClient(CoreV1Api);
const region = clusterInfo(sb, 'eks').region;
const ROLE = `arn:aws:iam::${sb.accountId}:role/irsa-app`;

async function serviceAccount(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, annotations } } });
}

// The ServiceAccount admission plugin (off in today's sandbox, on in real clusters) adds its own
// kube-api-access-* volume and mounts before the webhook runs: leave those out of the comparisons.
const apiAccess = (name: string) => name.startsWith('kube-api-access-');
function withoutApiAccess(pod: V1Pod): V1Pod {
  const spec = pod.spec!;
  const strip = (cs: V1Container[] | undefined) => cs?.map((c) => ({ ...c, volumeMounts: c.volumeMounts?.filter((m) => !apiAccess(m.name)) }))
    .map((c) => (c.volumeMounts?.length ? c : { ...c, volumeMounts: undefined }));
  const volumes = spec.volumes?.filter((v) => !apiAccess(v.name));
  return { ...pod, spec: { ...spec, containers: strip(spec.containers)!, initContainers: strip(spec.initContainers), volumes: volumes?.length ? volumes : undefined } };
}

async function createPod(namespace: string, name: string, over: { sa?: string; annotations?: Record<string, string>; labels?: Record<string, string>; spec?: Partial<V1Pod['spec']> } = {}): Promise<V1Pod> {
  return withoutApiAccess(await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, annotations: over.annotations, labels: over.labels },
      spec: {
        serviceAccountName: over.sa ?? 'app',
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [{ name: 'app', image: 'app:1', env: [{ name: 'KEEP', value: 'me' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', emptyDir: {} }],
        ...over.spec,
      },
    },
  }));
}

/** What the real webhook adds to a container (handler.go addEnvToContainer, in its order). */
const injectedEnv = (role: string, o: { sts?: boolean } = {}) => [
  ...(o.sts === false ? [] : [{ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }]),
  { name: 'AWS_DEFAULT_REGION', value: region },
  { name: 'AWS_REGION', value: region },
  { name: 'AWS_ROLE_ARN', value: role },
  { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
];
const injectedMount = { name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true };
const tokenVolume = (audience: string, expirationSeconds: number) => ({
  name: 'aws-iam-token',
  projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience, expirationSeconds, path: 'token' } }] },
});

describe('IRSA webhook stand-in: registration', () => {
  it('is registered on the EKS cluster as EKS registers it, and not on OpenShift', async () => {
    const cfg = await kc.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'pod-identity-webhook' });
    expect(cfg.webhooks).toHaveLength(1);
    expect(cfg.webhooks![0]).toMatchObject({
      name: 'iam-for-pods.amazonaws.com',
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      reinvocationPolicy: 'IfNeeded',
      timeoutSeconds: 10,
      objectSelector: { matchExpressions: [{ key: 'eks.amazonaws.com/skip-pod-identity-webhook', operator: 'DoesNotExist' }] },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      clientConfig: { url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/mutate$/) },
    });
    expect(hasIrsaWebhook(sb, 'eks')).toBe(true);

    const ocp = kubeConfigFor(sb, 'openshift');
    const none = await ocp.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'pod-identity-webhook' }).catch((e) => apiStatus(e));
    expect(none).toBe(404);
    expect(hasIrsaWebhook(sb, 'openshift')).toBe(false);
    // An annotated service account on OpenShift changes nothing: no webhook there.
    const ns = uniqueNamespace('irsa-ocp');
    await ensureNamespace(ocp, ns);
    const ocore = ocp.makeApiClient(CoreV1Api);
    await ocore.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app', annotations: { 'eks.amazonaws.com/role-arn': ROLE } } } });
    const pod = withoutApiAccess(await ocore.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'app:1' }] } } }));
    expect(pod.spec!.containers[0]!.env).toBeUndefined();
    expect(pod.spec!.volumes).toBeUndefined();
  });
});

describe('IRSA webhook stand-in: injection', () => {
  it('a pod created after the annotation carries exactly the injected env, volume and mount, in every container', async () => {
    const ns = uniqueNamespace('irsa-inject');
    await ensureNamespace(kc, ns);
    await serviceAccount(ns, 'app', { 'eks.amazonaws.com/role-arn': ROLE });
    const mark = irsaMark(sb, 'eks');
    const pod = await createPod(ns, 'p');
    const spec = pod.spec!;
    expect(spec.volumes).toEqual([tokenVolume('sts.amazonaws.com', 86400), { name: 'data', emptyDir: {} }]);
    expect(spec.containers[0]!.env).toEqual([{ name: 'KEEP', value: 'me' }, ...injectedEnv(ROLE)]);
    expect(spec.containers[0]!.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }, injectedMount]);
    expect(spec.initContainers![0]!.env).toEqual(injectedEnv(ROLE));
    expect(spec.initContainers![0]!.volumeMounts).toEqual([injectedMount]);
    expect(TOKEN_FILE).toBe(`${MOUNT_PATH}/token`);
    // The webhook's record of it.
    expect(irsaMutations(sb, 'eks', mark, ns)).toEqual([
      expect.objectContaining({ namespace: ns, pod: 'p', serviceAccount: 'app', mutated: true, roleArn: ROLE, dryRun: false }),
    ]);
    // The token the kubelet would mount is one the API server can issue for that audience.
    const token = await core.createNamespacedServiceAccountToken({
      namespace: ns, name: 'app',
      body: { spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 86400, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: pod.metadata!.uid } } },
    });
    expect(token.status?.token).toMatch(/^eyJ/);
  });

  it('honours the audience, token-expiration and sts-regional-endpoints annotations (pod expiration over SA, at least 3600 s)', async () => {
    const ns = uniqueNamespace('irsa-annot');
    await ensureNamespace(kc, ns);
    await serviceAccount(ns, 'app', {
      'eks.amazonaws.com/role-arn': ROLE,
      'eks.amazonaws.com/audience': 'custom.example.com',
      'eks.amazonaws.com/token-expiration': '7200',
      'eks.amazonaws.com/sts-regional-endpoints': 'false',
    });
    const a = (await createPod(ns, 'a')).spec!;
    expect(a.volumes![0]).toEqual(tokenVolume('custom.example.com', 7200));
    expect(a.containers[0]!.env).toEqual([{ name: 'KEEP', value: 'me' }, ...injectedEnv(ROLE, { sts: false })]);
    const b = (await createPod(ns, 'b', { annotations: { 'eks.amazonaws.com/token-expiration': '600' } })).spec!;
    expect(b.volumes![0]).toEqual(tokenVolume('custom.example.com', 3600));
    const c = (await createPod(ns, 'c', { annotations: { 'eks.amazonaws.com/token-expiration': '43200' } })).spec!;
    expect(c.volumes![0]).toEqual(tokenVolume('custom.example.com', 43200));
  });

  it('keeps what a container sets itself, skips named containers, and leaves opted-out and unannotated pods alone', async () => {
    const ns = uniqueNamespace('irsa-rules');
    await ensureNamespace(kc, ns);
    await serviceAccount(ns, 'app', { 'eks.amazonaws.com/role-arn': ROLE });
    await serviceAccount(ns, 'plain', {});
    const mark = irsaMark(sb, 'eks');

    // A container with its own AWS_ROLE_ARN and region keeps them; the rest is added.
    const own = (await createPod(ns, 'own', {
      spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::111122223333:role/own' }, { name: 'AWS_REGION', value: 'us-east-2' }] }], initContainers: [], volumes: undefined },
    })).spec!;
    expect(own.containers[0]!.env).toEqual([
      { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::111122223333:role/own' }, { name: 'AWS_REGION', value: 'us-east-2' },
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    ]);
    expect(own.containers[0]!.volumeMounts).toEqual([injectedMount]);
    expect(own.volumes).toEqual([tokenVolume('sts.amazonaws.com', 86400)]);

    // eks.amazonaws.com/skip-containers: those containers get nothing (the volume is still added).
    const skipped = (await createPod(ns, 'skipped', { annotations: { 'eks.amazonaws.com/skip-containers': 'init,sidecar' } })).spec!;
    expect(skipped.initContainers![0]!.env).toBeUndefined();
    expect(skipped.containers[0]!.env).toEqual([{ name: 'KEEP', value: 'me' }, ...injectedEnv(ROLE)]);

    // The skip label keeps the API server from calling the webhook at all (objectSelector).
    const optedOut = (await createPod(ns, 'opted-out', { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': 'true' } })).spec!;
    expect(optedOut.containers[0]!.env).toEqual([{ name: 'KEEP', value: 'me' }]);
    expect(optedOut.volumes).toEqual([{ name: 'data', emptyDir: {} }]);

    // A service account without the annotation: called, nothing injected.
    const plain = (await createPod(ns, 'plain', { sa: 'plain' })).spec!;
    expect(plain.containers[0]!.env).toEqual([{ name: 'KEEP', value: 'me' }]);

    const seen = irsaMutations(sb, 'eks', mark, ns).map((r) => `${r.pod} ${r.mutated}${r.reason ? ` ${r.reason}` : ''}`);
    expect(seen).toEqual(['own true', 'skipped true', `plain false service account ${ns}/plain has no eks.amazonaws.com/role-arn annotation and no pod identity association`]);
  });
});

describe('pods created before the annotation (CREATE only) and verify', () => {
  const pods = async (ns: string, app: string) => (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
  const waitForPod = async (ns: string, app: string) => {
    for (let i = 0; i < 150; i++) {
      const p = (await pods(ns, app)).find((x) => x.status?.startTime && !x.metadata?.deletionTimestamp);
      if (p) return p;
      await sleep(100);
    }
    throw new Error(`no running pod for ${ns}/${app}`);
  };
  const verify = async (args: string[]) => {
    const r = await cli(sb, 'eks', ['verify', ...args, '--output', 'json']);
    return { ...r, rows: checksOf(r.stdout) };
  };
  const podsRow = (rows: ReturnType<typeof checksOf>) => rows.find((r) => r.check === 'Pods of central restarted')!;
  // A controller may create pods with generateName only; the webhook then records the prefix.
  const isFor = (r: IrsaMutation, p: V1Pod) => r.pod === p.metadata!.name || (r.pod.endsWith('-') && p.metadata!.name!.startsWith(r.pod));
  const envOf = (p: V1Pod) => (p.spec?.containers[0]?.env ?? []).map((e) => e.name);

  it('a pod older than the annotation stays without injection, verify fails naming the restart, and passes after init restarts it', async () => {
    const ns = uniqueNamespace('irsa-old');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const before = await waitForPod(ns, 'central');
    expect(envOf(before)).not.toContain('AWS_ROLE_ARN');
    // managedFields and pod start times have second precision.
    await sleep(1100);
    const common = ['--namespace', ns, '--role-name', 'irsa-old'];
    const init = await cli(sb, 'eks', ['init', '--yes', '--no-restart', ...common]);
    expect(init.code, init.stderr).toBe(0);
    const arn = `arn:aws:iam::${sb.accountId}:role/irsa-old`;
    expect((await core.readNamespacedServiceAccount({ namespace: ns, name: 'central' })).metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(arn);

    // The running pod is as it was: the webhook acts on CREATE only.
    const still = await pods(ns, 'central');
    expect(still.map((p) => p.metadata?.uid)).toEqual([before.metadata?.uid]);
    expect(envOf(still[0]!)).not.toContain('AWS_ROLE_ARN');
    const r = await verify(common);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.rows.filter((x) => x.result === 'fail').map((x) => x.check)).toEqual(['Pods of central restarted']);
    expect(podsRow(r.rows)).toMatchObject({
      detail: expect.stringMatching(new RegExp(`^1 pod started before the role annotation was set \\(\\S+\\): ${before.metadata!.name} started \\S+\\. EKS injects credentials only when a pod starts, so it runs without the role\\.$`)),
      fix: `kubectl -n ${ns} rollout restart deployment/central`,
    });

    // init (with its restart) replaces the pod; the new one is created with the role injected.
    const mark = irsaMark(sb, 'eks');
    const again = await cli(sb, 'eks', ['init', '--yes', ...common]);
    expect(again.code, again.stderr).toBe(0);
    await waitForRollout(kc, ns, 'central');
    const after = await waitForPod(ns, 'central');
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    expect(after.spec!.containers[0]!.env).toEqual(expect.arrayContaining(injectedEnv(arn)));
    expect(irsaMutations(sb, 'eks', mark, ns).filter((x) => isFor(x, after))).toMatchObject([{ mutated: true, roleArn: arn }]);
    const ok = await verify(common);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(podsRow(ok.rows)).toMatchObject({
      result: 'pass',
      detail: `1 pod started after the role annotation was set (${podsRow(ok.rows).detail.match(/set \((\S+)\)/)![1]}), with the role injected: AWS_ROLE_ARN=${arn} and a token for sts.amazonaws.com at ${TOKEN_FILE}.`,
    });
  });

  it('a pod created after the annotation that the webhook did not mutate (opted out) fails verify with its own message', async () => {
    const ns = uniqueNamespace('irsa-optout');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const common = ['--namespace', ns, '--role-name', 'irsa-optout'];
    const mark = irsaMark(sb, 'eks');
    const init = await cli(sb, 'eks', ['init', '--yes', ...common]);
    expect(init.code, init.stderr).toBe(0);
    await waitForRollout(kc, ns, 'central');
    // init's restart made a pod the webhook injected.
    const injected = await waitForPod(ns, 'central');
    expect(envOf(injected)).toContain('AWS_ROLE_ARN');
    expect(irsaMutations(sb, 'eks', mark, ns).filter((x) => isFor(x, injected))).toMatchObject([{ mutated: true }]);
    await sleep(1100);
    const optOutMark = irsaMark(sb, 'eks');
    // A pod template that opts out of the webhook: the new pod starts after the annotation, uninjected.
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      name: 'central', namespace: ns,
      body: { spec: { template: { metadata: { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': 'true' } } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await waitForRollout(kc, ns, 'central');
    let pod: V1Pod | undefined;
    for (let i = 0; i < 150 && !pod; i++) {
      pod = (await pods(ns, 'central')).find((p) => p.metadata?.labels?.['eks.amazonaws.com/skip-pod-identity-webhook'] && p.status?.startTime);
      if (!pod) await sleep(100);
    }
    expect(pod, 'the opted-out pod').toBeDefined();
    expect(envOf(pod!)).not.toContain('AWS_ROLE_ARN');
    // The objectSelector kept the API server from calling the webhook for it (the only pod created since).
    expect(irsaMutations(sb, 'eks', optOutMark, ns)).toEqual([]);
    const r = await verify(common);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(podsRow(r.rows)).toMatchObject({
      result: 'fail',
      detail: expect.stringMatching(/but carries no AWS_ROLE_ARN or token: the EKS pod identity webhook did not mutate it \(the pod has the label eks\.amazonaws\.com\/skip-pod-identity-webhook\), so it runs without the role\.$/),
      fix: `Remove that from the pod template of deployment/central, then: kubectl -n ${ns} rollout restart deployment/central`,
    });
  });
});
