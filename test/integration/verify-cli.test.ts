// `rhacs-sts verify` end to end through the built binary against the sandbox: it passes after
// init in both flavours (with a real TokenRequest, AssumeRoleWithWebIdentity and
// ecr:GetAuthorizationToken), and each broken link gives exit 3 naming the failing check and its
// fix. verify writes nothing but token requests, and never prints a token or a credential.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parsePolicyDocument, trustSid } from '../../src/clouds/aws/policies.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace, waitForRollout } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, kubeConfigFor, kubeMark, kubeRequests, resetAws } from '../sandbox/observe.js';
import { checksOf, cli, iamClient, sleep, type Cluster } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });
// Each test starts from an empty account (the OIDC provider of a cluster would otherwise be shared).
beforeEach(() => resetAws(sb));

const issuerHostPath = (c: Cluster) => sb.clusters[c]!.issuer.replace(/^https:\/\//, '');
const providerArn = (c: Cluster) => `arn:aws:iam::${sb.accountId}:oidc-provider/${issuerHostPath(c)}`;

/** Seeds RHACS in a fresh namespace and runs init; returns the flags that name the setup. */
async function setUp(cluster: Cluster, role: string, o: { method?: 'manifests' | 'operator' | 'helm'; init?: string[]; pause?: number } = {}) {
  const ns = uniqueNamespace(`v-${role}`);
  await seedRhacs(kubeConfigFor(sb, cluster), { namespace: ns, method: o.method ?? 'manifests', openshift: cluster === 'openshift' });
  // seedRhacs waited for the rollouts: the pods have started.
  if (o.pause) await sleep(o.pause);
  const common = ['--namespace', ns, '--role-name', role];
  const init = await cli(sb, cluster, ['init', '--yes', ...common, ...(o.init ?? [])]);
  expect(init.code, init.stderr).toBe(0);
  return { ns, common, arn: `arn:aws:iam::${sb.accountId}:role/${role}` };
}

async function verifyJson(cluster: Cluster, args: string[]) {
  const r = await cli(sb, cluster, ['verify', ...args, '--output', 'json']);
  return { ...r, rows: checksOf(r.stdout) };
}

const byCheck = (rows: ReturnType<typeof checksOf>, check: string) => {
  const row = rows.find((r) => r.check === check);
  expect(row, `no row "${check}" in ${rows.map((r) => r.check).join(', ')}`).toBeDefined();
  return row!;
};

const failed = (rows: ReturnType<typeof checksOf>) => rows.filter((r) => r.result === 'fail').map((r) => r.check);

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;
const ACCESS_KEY = /\b(AKIA|ASIA)[A-Z0-9]{12,}\b/;

describe('verify passes after init', () => {
  it('EKS with delegated scanning: every check passes or warns, the exchange is real, and only tokens are written', async () => {
    const { common, ns, arn } = await setUp('eks', 'v-eks-ok', { init: ['--delegated-scanning'] });
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    // Without --delegated-scanning: the role's trust and the sensor's annotation say Sensor is expected.
    const text = await cli(sb, 'eks', ['verify', ...common]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^CHECK +RESULT +DETAIL$/m);
    expect(text.stdout).toMatch(/^End to end central +pass +Exchanged a token for system:serviceaccount:.*:central \(aud sts\.amazonaws\.com\) for arn:aws:sts::\d+:assumed-role\/v-eks-ok\//m);
    expect(text.stdout).toMatch(/^End to end sensor +pass /m);
    // Without Central credentials, Central's own test is shown as skipped, naming what enables it.
    expect(text.stdout).toMatch(/^Central's ECR test +warn +Skipped: no Central credentials/m);
    expect(text.stdout).toMatch(/fix: Set ROX_API_TOKEN \(or ROX_API_TOKEN_FILE\) or ROX_ADMIN_PASSWORD, or pass --use-generated-admin-password/);
    expect(text.stdout).toMatch(/^\d+ passed, 1 warning: the chain works\.$/m);

    // What verify sent: reads, the token requests, and the exchange (nothing else is written).
    const aws = (await awsRequests(sb, a0)).map((r) => r.action ?? '');
    expect(aws).toContain('AssumeRoleWithWebIdentity');
    expect(aws).toContain('GetAuthorizationToken');
    // A real read of the registry with the role's credentials: the first repository, its first image.
    expect(aws).toEqual(expect.arrayContaining(['DescribeRepositories', 'ListImages', 'BatchGetImage']));
    expect(aws.filter((x) => !/^(Get|List|Describe|BatchGet)/.test(x) && x !== 'AssumeRoleWithWebIdentity')).toEqual([]);
    const kubeWrites = (await kubeRequests(sb, 'eks', k0, { writesOnly: true })).map((r) => `${r.verb} ${r.resource}/${r.subresource}/${r.name}`);
    expect(kubeWrites.sort()).toEqual([`create serviceaccounts/token/central`, `create serviceaccounts/token/sensor`]);

    const j = await verifyJson('eks', common);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc).toMatchObject({ command: 'verify', ok: true, role: { arn, exists: true }, summary: { fail: 0 } });
    expect(doc.clusters).toEqual([expect.objectContaining({ provider: 'eks', namespace: ns, components: ['central', 'sensor'] })]);
    for (const check of ['Issuer discovery (cluster API)', 'Issuer discovery (public URL)', 'IAM OIDC provider', 'IAM role', 'Trust policy', 'ECR permissions',
      'Service account central', 'Service account sensor', 'End to end central', 'End to end sensor']) {
      expect(byCheck(j.rows, check).result, check).toBe('pass');
    }
    // The pods were created after the annotation, so the pod identity webhook injected the role.
    for (const comp of ['central', 'sensor']) {
      expect(byCheck(j.rows, `Pods of ${comp} restarted`)).toMatchObject({
        result: 'pass',
        detail: expect.stringMatching(new RegExp(`^1 pod started after the role annotation was set \\(\\S+\\), with the role injected: AWS_ROLE_ARN=${arn} and a token for sts\\.amazonaws\\.com at /var/run/secrets/eks\\.amazonaws\\.com/serviceaccount/token\\.$`)),
      });
    }
  });

  it('OpenShift (operator install): every check passes, the public issuer (the S3 bucket) included', async () => {
    const { common } = await setUp('openshift', 'v-ocp-ok', { method: 'operator' });
    const j = await verifyJson('openshift', common);
    expect(j.code, j.stderr).toBe(0);
    expect(j.rows.filter((r) => r.result !== 'pass').map((r) => r.check)).toEqual(["Central's ECR test"]);
    expect(j.rows.map((r) => r.check)).toEqual([
      'Issuer discovery (cluster API)', 'Issuer discovery (public URL)', 'IAM OIDC provider', 'IAM role', 'Trust policy', 'ECR permissions',
      'Deployment central env', 'Token volume central', 'Operator overlay central', 'Pods of central restarted', 'End to end central',
      "Central's ECR test",
    ]);
    expect(byCheck(j.rows, 'End to end central').detail).toMatch(/\(aud openshift\).*ecr:GetAuthorizationToken succeeded.*; read rhacs-sandbox\/app \(DescribeRepositories, ListImages, BatchGetImage of 1\.\d\) in registry \d{12}\.$/);
  });

  it('finds the role the cluster points at without --role-name, and --skip-exchange requests no token', async () => {
    const { ns } = await setUp('eks', 'v-eks-inferred');
    const k0 = kubeMark(sb, 'eks');
    const r = await verifyJson('eks', ['--namespace', ns, '--skip-exchange']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).role.name).toBe('v-eks-inferred');
    expect(byCheck(r.rows, 'End to end central')).toMatchObject({ result: 'warn', detail: expect.stringMatching(/Skipped \(--skip-exchange\)/) });
    expect(await kubeRequests(sb, 'eks', k0, { writesOnly: true })).toEqual([]);
  });

  it('never prints a token or a credential, not even with --verbose', async () => {
    const { common } = await setUp('eks', 'v-eks-secret');
    for (const args of [['--verbose'], ['--verbose', '--output', 'json']]) {
      const r = await cli(sb, 'eks', ['verify', ...common, ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/\[debug\] kube POST \/api\/v1\/namespaces\/.*\/serviceaccounts\/central\/token/);
      expect(r.stderr).toMatch(/\[debug\] aws STS\.AssumeRoleWithWebIdentity/);
      for (const out of [r.stdout, r.stderr]) {
        expect(out).not.toMatch(JWT);
        expect(out).not.toMatch(ACCESS_KEY);
        expect(out).not.toMatch(/SecretAccessKey|SessionToken/i);
      }
    }
  });
});

describe('verify names each broken link (exit 3)', () => {
  it('deleted OIDC provider', async () => {
    const { common } = await setUp('eks', 'v-no-provider');
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn('eks') }));
    const r = await verifyJson('eks', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['IAM OIDC provider', 'End to end central']);
    expect(byCheck(r.rows, 'IAM OIDC provider')).toMatchObject({
      detail: expect.stringMatching(/There is no IAM OIDC provider arn:aws:iam::\d+:oidc-provider\/oidc\.eks/),
      fix: expect.stringMatching(/^rhacs-sts init --namespace \S+ --role-name v-no-provider$/),
    });
    // moto's STS does not check the token: the local evaluation is what catches it.
    expect(byCheck(r.rows, 'End to end central').detail).toMatch(/AWS would refuse the token .*no IAM OIDC provider exists for https:\/\/oidc\.eks/);
    expect(r.stderr).toMatch(/^error: 2 checks failed: IAM OIDC provider, End to end central\.$/m);
    expect(r.stderr).toMatch(/^hint: Apply the fix shown under each failed check/m);
    // Text mode shows the same verdict as a table with the fix under the row.
    const t = await cli(sb, 'eks', ['verify', ...common]);
    expect(t.code).toBe(3);
    expect(t.stdout).toMatch(/^IAM OIDC provider +FAIL +There is no IAM OIDC provider/m);
    expect(t.stdout).toMatch(/^ +fix: rhacs-sts init --namespace \S+ --role-name v-no-provider$/m);
  });

  it('wrong audience on the OIDC provider', async () => {
    const { common } = await setUp('eks', 'v-provider-aud');
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn('eks') }));
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: sb.clusters.eks!.issuer, ClientIDList: ['not-sts'], Tags: [{ Key: 'rhacs-sts/managed', Value: 'true' }] }));
    const r = await verifyJson('eks', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['IAM OIDC provider', 'End to end central']);
    expect(byCheck(r.rows, 'IAM OIDC provider').detail).toMatch(/audiences \(not-sts\) do not include sts\.amazonaws\.com/);
    expect(byCheck(r.rows, 'End to end central').detail).toMatch(/the token's aud is sts\.amazonaws\.com, but the OIDC provider accepts only not-sts/);
  });

  it('wrong audience in the trust policy (OpenShift tokens carry aud openshift)', async () => {
    const { common, ns } = await setUp('openshift', 'v-trust-aud');
    const hp = issuerHostPath('openshift');
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'v-trust-aud' }))).Role!;
    const trust = parsePolicyDocument(role.AssumeRolePolicyDocument!);
    trust.Statement[0]!.Condition!.StringEquals![`${hp}:aud`] = 'sts.amazonaws.com';
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'v-trust-aud', PolicyDocument: JSON.stringify(trust) }));
    const r = await verifyJson('openshift', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['Trust policy', 'End to end central']);
    expect(byCheck(r.rows, 'Trust policy')).toMatchObject({
      detail: `The role does not let system:serviceaccount:${ns}:central: statement ${trustSid(sb.clusters.openshift!.issuer)}: aud is openshift but the policy wants sts.amazonaws.com.`,
      fix: `rhacs-sts init --namespace ${ns} --role-name v-trust-aud`,
    });
    expect(byCheck(r.rows, 'End to end central').detail).toMatch(/the trust policy refuses it: statement RhacsStsWebIdentity[0-9a-f]{8}: aud is openshift but the policy wants sts\.amazonaws\.com/);
  });

  it('trust subject for another namespace', async () => {
    const { common, ns } = await setUp('eks', 'v-trust-sub');
    const hp = issuerHostPath('eks');
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'v-trust-sub' }))).Role!;
    const trust = parsePolicyDocument(role.AssumeRolePolicyDocument!);
    trust.Statement[0]!.Condition!.StringEquals![`${hp}:sub`] = ['system:serviceaccount:other-namespace:central'];
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'v-trust-sub', PolicyDocument: JSON.stringify(trust) }));
    const r = await verifyJson('eks', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['Trust policy', 'End to end central']);
    expect(byCheck(r.rows, 'Trust policy').detail).toBe(
      `The role does not let system:serviceaccount:${ns}:central: statement ${trustSid(sb.clusters.eks!.issuer)}: sub is system:serviceaccount:${ns}:central but the policy wants system:serviceaccount:other-namespace:central.`);
  });

  it('missing service-account annotation (EKS)', async () => {
    const { common, ns, arn } = await setUp('eks', 'v-no-annotation');
    await kubeConfigFor(sb, 'eks').makeApiClient(CoreV1Api).patchNamespacedServiceAccount(
      { name: 'central', namespace: ns, body: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': null } } } }, mergePatch());
    const r = await verifyJson('eks', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['Service account central']);
    expect(byCheck(r.rows, 'Service account central')).toMatchObject({
      detail: `Service account ${ns}/central has no eks.amazonaws.com/role-arn annotation: its pods get no AWS credentials.`,
      fix: `rhacs-sts init --namespace ${ns} --role-name v-no-annotation   (or: kubectl -n ${ns} annotate serviceaccount central eks.amazonaws.com/role-arn=${arn} --overwrite)`,
    });
    expect(byCheck(r.rows, 'Pods of central restarted')).toMatchObject({ result: 'warn', detail: expect.stringMatching(/^Not checked/) });
  });

  it('missing env vars (OpenShift)', async () => {
    const { common, ns } = await setUp('openshift', 'v-no-env');
    const kc = kubeConfigFor(sb, 'openshift');
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      name: 'central', namespace: ns,
      body: { spec: { template: { spec: { containers: [{ name: 'central', env: [{ name: 'AWS_ROLE_ARN', $patch: 'delete' }] }] } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await waitForRollout(kc, ns, 'central');
    const r = await verifyJson('openshift', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['Deployment central env']);
    expect(byCheck(r.rows, 'Deployment central env')).toMatchObject({
      detail: 'In container central: AWS_ROLE_ARN is not set.',
      fix: expect.stringMatching(/^rhacs-sts init --namespace \S+ --role-name v-no-env {3}\(or: kubectl -n \S+ set env deployment\/central -c central AWS_ROLE_ARN=/),
    });
  });

  it('pods not restarted after the annotation (EKS, init --no-restart), and the fix works', async () => {
    // Pod start times and managedFields times have second precision: let a second pass after seeding.
    const { common, ns } = await setUp('eks', 'v-no-restart', { init: ['--no-restart'], pause: 1100 });
    const r = await verifyJson('eks', common);
    expect(r.code).toBe(3);
    expect(failed(r.rows)).toEqual(['Pods of central restarted']);
    expect(byCheck(r.rows, 'Pods of central restarted')).toMatchObject({
      detail: expect.stringMatching(/^1 pod started before the role annotation was set \(\S+\): central-\S+ started \S+\. EKS injects credentials only when a pod starts, so it runs without the role\.$/),
      fix: `kubectl -n ${ns} rollout restart deployment/central`,
    });

    // The fix: a restart (what `kubectl rollout restart` does), then the pods are new.
    const kc = kubeConfigFor(sb, 'eks');
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      name: 'central', namespace: ns,
      body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await waitForRollout(kc, ns, 'central');
    const after = await verifyJson('eks', common);
    expect(after.code, after.stdout).toBe(0);
    expect(byCheck(after.rows, 'Pods of central restarted')).toMatchObject({
      result: 'pass', detail: expect.stringMatching(/^1 pod started after the role annotation was set \(\S+\), with the role injected: AWS_ROLE_ARN=/),
    });
  });
});
