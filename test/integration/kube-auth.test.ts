// The built binary, with the Kubernetes client bundled into it, authenticates to a real API server
// every way a kubeconfig says: a client certificate, a bearer token, an exec plugin
// (`aws eks get-token`, the stand-in), and `auth-provider` entries, whose authenticators (GCP, OIDC)
// the bundle loads only for a user that names them. Each run of `plan` must read the cluster as
// the user the credentials name (audit log), and a credential that cannot be used must fail naming
// the context, before any request is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { awsCliCalls } from '../sandbox/aws/aws-cli.js';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { clusterInfo, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
const eks = clusterInfo(sb, 'eks');
const ocp = clusterInfo(sb, 'openshift');
const READER = 'rhacs-sts-reader';

let dir: string;
let ns: string;
let token: string;

/** A kubeconfig for the EKS cluster's server with the sandbox CA and this user entry. */
function kubeconfig(name: string, user: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: eks.server, 'certificate-authority': sb.caCertPath } }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: 'c', user: name } }],
    'current-context': name,
  }), { mode: 0o600 });
  return file;
}

/** `plan` against the EKS cluster's RHACS namespace with this kubeconfig. */
const plan = (file: string) => cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'kube-auth', '--output', 'json'], { KUBECONFIG: file });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-kube-auth-'));
  ns = uniqueNamespace('kube-auth');
  const kc = kubeConfigFor(sb, 'eks');
  await seedRhacs(kc, { namespace: ns, method: 'manifests' });
  // A service account that may read what detection reads in the namespace, and nothing else.
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: READER } } });
  await rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: READER },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['list'] },
        { apiGroups: ['platform.stackrox.io'], resources: ['centrals', 'securedclusters'], verbs: ['get', 'list'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: READER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
      subjects: [{ kind: 'ServiceAccount', name: READER, namespace: ns }],
    },
  });
  const tr = await core.createNamespacedServiceAccountToken({ name: READER, namespace: ns, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  token = tr.status!.token;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubeconfig credentials, through the built binary', () => {
  const later = () => new Date(Date.now() + 30 * 60_000).toISOString();
  const users: [string, () => Record<string, unknown>][] = [
    ['a bearer token', () => ({ token })],
    ['a gcp auth-provider token (its authenticator loads on demand)', () => ({ 'auth-provider': { name: 'gcp', config: { 'access-token': token, expiry: later() } } })],
    ['an oidc auth-provider id-token (its authenticator loads on demand)', () => ({ 'auth-provider': { name: 'oidc', config: { 'id-token': token, 'client-id': 'kubernetes', 'idp-issuer-url': eks.issuer } } })],
  ];

  it.each(users)('%s: plan reads the cluster as the service account', async (name, user) => {
    const file = kubeconfig(name.replace(/[^a-z]+/g, '-'), user());
    const mark = kubeMark(sb, 'eks');
    const r = await plan(file);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { provider: string; kubernetes: { namespace: string; name: string }[] };
    expect(doc.provider).toBe('eks');
    expect(doc.kubernetes.map((k) => `${k.namespace}/${k.name}`)).toContain(`${ns}/central`);
    const reqs = await kubeRequests(sb, 'eks', mark, { namespace: ns, resource: 'deployments' });
    expect(reqs.length).toBeGreaterThan(0);
    expect(new Set(reqs.map((q) => q.user))).toEqual(new Set([`system:serviceaccount:${ns}:${READER}`]));
    expect(reqs.every((q) => q.userAgent === 'rhacs-sts' && q.code === 200)).toBe(true);
  });

  it('an exec plugin (aws eks get-token) runs, and the client certificate authenticates (EKS kubeconfig)', async () => {
    const before = awsCliCalls(sb.awsCliLog).length;
    const mark = kubeMark(sb, 'eks');
    const r = await plan(eks.kubeconfig);
    expect(r.code, r.stderr).toBe(0);
    expect(awsCliCalls(sb.awsCliLog).slice(before)).toContainEqual(expect.objectContaining({ args: 'eks get-token', cluster: eks.name, answered: true }));
    const reqs = await kubeRequests(sb, 'eks', mark, { namespace: ns, resource: 'deployments' });
    expect(reqs.length).toBeGreaterThan(0);
    expect(new Set(reqs.map((q) => q.user))).toEqual(new Set(['sandbox-admin']));
  });

  it('a client certificate alone (OpenShift kubeconfig, as oc login writes it)', async () => {
    const ocpNs = uniqueNamespace('kube-auth-ocp');
    await seedRhacs(kubeConfigFor(sb, 'openshift'), { namespace: ocpNs, method: 'manifests', openshift: true });
    const mark = kubeMark(sb, 'openshift');
    const r = await cli(sb, 'openshift', ['plan', '--namespace', ocpNs, '--role-name', 'kube-auth-ocp', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { provider: string }).provider).toBe('openshift');
    const reqs = await kubeRequests(sb, 'openshift', mark, { namespace: ocpNs, resource: 'deployments' });
    expect(reqs.length).toBeGreaterThan(0);
    expect(new Set(reqs.map((q) => q.user))).toEqual(new Set(['sandbox-admin']));
  });

  it('an expired auth-provider token fails naming the context, and nothing is sent', async () => {
    const file = kubeconfig('expired-gcp', { 'auth-provider': { name: 'gcp', config: { 'access-token': token, expiry: new Date(Date.now() - 60_000).toISOString() } } });
    const mark = kubeMark(sb, 'eks');
    const r = await plan(file);
    expect(r.code).toBe(2);
    // --output json: the error is the one document on stdout.
    const doc = JSON.parse(r.stdout) as { error: { message: string; exitCode: number } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.message).toMatch(/Cannot use the Kubernetes cluster of context "expired-gcp" .*could not get credentials for the request: .*Token is expired/);
    expect(r.stderr).toMatch(/Cannot use the Kubernetes cluster of context "expired-gcp" .*could not get credentials for the request: .*Token is expired/);
    expect(r.stdout).not.toContain(token);
    expect(r.stderr).not.toContain(token);
    expect(await kubeRequests(sb, 'eks', mark, { user: `system:serviceaccount:${ns}:${READER}` })).toEqual([]);
  });
});
