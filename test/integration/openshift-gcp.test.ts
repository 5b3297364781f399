// OpenShift on Google Cloud, against the sandbox's `openshift-gcp` cluster (an OpenShift-shaped cluster
// whose Infrastructure object says GCP, project sandbox-project; its issuer is not public) and the
// Google stand-ins started here (every request checked against Google's discovery documents, and
// recorded): plan and --dry-run write nothing at Google; init makes the pool, the provider with the
// cluster's keys inline, the member by project number, and the Secret; a re-run is a no-op; keys
// that drifted (a rotation) are re-synced by init; uninstall keeps another member's binding; a
// Secret rhacs-sts did not write is refused; without --cloud, detection hands the cluster to Google Cloud.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProjectNumber } from '../../src/clouds/gcp/external-account.js';
import { convergeProvider, readPool, readProvider } from '../../src/clouds/gcp/pools.js';
import { openGcpSession, type GcpSession } from '../../src/clouds/gcp/session.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { startOpenShiftGoogle, type OpenShiftGoogle } from '../sandbox/gcp/openshift-google.js';
import type { GcpStandins } from '../sandbox/gcp/standins.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const PROJECT = 'sandbox-project';
const WI_USER = 'roles/iam.workloadIdentityUser';
const CLUSTER = 'openshift-gcp';

let google: OpenShiftGoogle;
let g: GcpStandins;
let env: Record<string, string>;
let session: GcpSession;
let number: string;

beforeAll(async () => {
  google = await startOpenShiftGoogle(sb);
  g = google.standins;
  env = google.env;
  number = g.projectNumber(PROJECT);
  session = await openGcpSession({
    environment: { applicationCredentials: env.GOOGLE_APPLICATION_CREDENTIALS },
    endpoints: { iam: g.urls.iam, cloudresourcemanager: g.urls.cloudresourcemanager, oauth2Token: g.urls.oauth2Token },
    trustedCa: g.ca, timeoutMs: 10_000, log: () => {},
  });
});

afterAll(async () => {
  await google?.stop();
});

const cli = (args: string[]) => runCli(sb, CLUSTER, args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const email = (id: string) => `${id}@${PROJECT}.iam.gserviceaccount.com`;
const members = (resource: Parameters<GcpStandins['policy']>[0], role: string): string[] =>
  [...(g.policy(resource).bindings ?? []).filter((b) => b.role === role && !b.condition).flatMap((b) => b.members ?? [])].sort();
const writesSince = (mark: number) => g.requests(mark).filter((r) => r.method !== 'GET' && !/getIamPolicy$/.test(r.methodId) && r.methodId !== 'oauth2.token');
const kube = () => kubeConfigFor(sb, CLUSTER);
const secretOf = async (ns: string) => {
  try {
    return await kube().makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'gcp-cloud-credentials', namespace: ns });
  } catch {
    return undefined;
  }
};
/** Flags naming a run's own account, pool and provider (each test its own). */
const flags = (ns: string) => {
  const tail = ns.slice(-6);
  return ['--namespace', ns, '--gcp-service-account', `rhacs-${tail}`, '--workload-identity-pool', `pool-${tail}`, '--workload-identity-provider', `prov-${tail}`];
};
const poolRef = (ns: string) => ({ projectNumber: toProjectNumber(number), poolId: `pool-${ns.slice(-6)}` });
const member = (ns: string, sa = 'central') => `principal://iam.googleapis.com/projects/${number}/locations/global/workloadIdentityPools/pool-${ns.slice(-6)}/subject/system:serviceaccount:${ns}:${sa}`;

describe('OpenShift on Google Cloud', () => {
  it('plan and --dry-run write nothing; init makes the pool, the provider, the member by number and the Secret; a re-run is a no-op', async () => {
    const ns = uniqueNamespace('ocpg-init');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const mark = g.mark();
    const plan = ok(await cli(['plan', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns), '--output', 'json']), 'plan');
    const doc = JSON.parse(plan.stdout) as { cloud: string; provider: string; actions: { type: string; status: string }[]; notes: string[] };
    expect([doc.cloud, doc.provider]).toEqual(['gcp', 'openshift']);
    expect(doc.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'gcp-service-account:create', 'gcp-workload-identity-pool:create', 'gcp-oidc-provider:create', 'gcp-iam-member:create', 'gcp-iam-member:create', 'credentials-secret:create',
    ]);
    const dry = ok(await cli(['init', '--dry-run', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'dry run');
    expect(dry.stderr).toMatch(/Detected OpenShift cluster .* on Google Cloud \(project sandbox-project, europe-west4\)/);
    expect(writesSince(mark)).toEqual([]);
    expect(g.requests(mark).length).toBeGreaterThan(0);
    expect(await secretOf(ns)).toBeUndefined();

    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'init');
    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([member(ns)]);
    const pool = await readPool(session, poolRef(ns));
    expect(pool).toMatchObject({ state: 'ACTIVE', managed: true });
    const provider = await readProvider(session, { ...poolRef(ns), providerId: `prov-${ns.slice(-6)}` });
    expect(provider).toMatchObject({ managed: true, issuerUri: sb.clusters[CLUSTER]!.issuer, allowedAudiences: ['openshift'], subjectMapping: 'assertion.sub' });
    expect(JSON.parse(provider!.jwksJson!).keys.length).toBeGreaterThan(0);
    const secret = await secretOf(ns);
    expect(secret?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('rhacs-sts');
    const credentials = JSON.parse(Buffer.from(secret!.data!.credentials!, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(credentials).toMatchObject({
      type: 'external_account',
      audience: `//iam.googleapis.com/projects/${number}/locations/global/workloadIdentityPools/pool-${ns.slice(-6)}/providers/prov-${ns.slice(-6)}`,
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${email(id)}:generateAccessToken`,
    });

    const again = g.mark();
    const rerun = ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 're-run');
    expect(rerun.stdout).toContain('Nothing to change: everything is in place.');
    const status = ok(await cli(['status', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'status');
    expect(status.stdout).toMatch(/6 managed, all healthy\./);
    expect(writesSince(again)).toEqual([]);
  });

  it('re-syncs the provider\'s keys when they are no longer the cluster\'s (a rotation)', async () => {
    const ns = uniqueNamespace('ocpg-keys');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'init');
    const ref = { ...poolRef(ns), providerId: `prov-${ns.slice(-6)}` };
    const current = JSON.parse((await readProvider(session, ref))!.jwksJson!) as { keys: { kid?: string }[] };
    // Google holds a key the cluster no longer signs with, and not the one it does.
    const old = { kty: 'RSA', kid: 'retired-key', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw', e: 'AQAB' };
    const verified = ok(await cli(['verify', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns), '--output', 'json']), 'verify');
    const passed = JSON.parse(verified.stdout) as { ok: boolean; checks: { id: string; result: string }[] };
    expect(passed.ok).toBe(true);
    expect(passed.checks.filter((c) => c.result !== 'pass')).toEqual([]);
    expect(passed.checks.length).toBeGreaterThanOrEqual(6);
    await convergeProvider(session, { ref, issuer: sb.clusters[CLUSTER]!.issuer, keys: [old], cluster: CLUSTER });
    // verify: the keys' row fails with init as the fix, and STS refuses the token's signature.
    const stale = await cli(['verify', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns), '--output', 'json']);
    expect(stale.code, stale.stderr).toBe(3);
    const failed = (JSON.parse(stale.stdout) as { checks: { id: string; result: string; detail: string; fix?: string }[] }).checks.filter((c) => c.result === 'fail');
    expect(failed.map((c) => c.id.split(':')[0])).toEqual(['gcp-provider-keys', 'gcp-sts']);
    expect(failed[0]).toMatchObject({ detail: expect.stringMatching(/stale.*no longer published retired-key/), fix: expect.stringMatching(/Run init again/) });
    const plan = ok(await cli(['plan', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns), '--output', 'json']), 'plan');
    const changed = (JSON.parse(plan.stdout) as { actions: { type: string; status: string; summary: string }[] }).actions.filter((a) => a.status !== 'unchanged');
    expect(changed).toEqual([expect.objectContaining({ type: 'gcp-oidc-provider', status: 'update', summary: expect.stringMatching(/stale.*no longer published retired-key/) })]);
    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 're-sync');
    const synced = JSON.parse((await readProvider(session, ref))!.jwksJson!) as { keys: { kid?: string }[] };
    expect(synced.keys.map((k) => k.kid).sort()).toEqual(current.keys.map((k) => k.kid).sort());
    ok(await cli(['verify', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'verify after the re-sync');
  });

  it('uninstall removes the Secret and our member, keeps another member\'s binding and so the account; init again undeletes the pool', async () => {
    const ns = uniqueNamespace('ocpg-unin');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'init');
    const other = `serviceAccount:${PROJECT}.svc.id.goog[other/app]`;
    g.grant({ kind: 'serviceAccount', email: email(id) }, WI_USER, other);
    ok(await cli(['uninstall', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'uninstall');
    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([other]);
    expect(await secretOf(ns)).toBeUndefined();
    expect((await readPool(session, poolRef(ns)))?.state).toBe('DELETED');
    // The pool's id stays reserved 30 days: init undeletes it rather than fail on create.
    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]), 'init after uninstall');
    expect((await readPool(session, poolRef(ns)))?.state).toBe('ACTIVE');
    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([other, member(ns)].sort());
  });

  it('refuses a Secret rhacs-sts did not write, writing nothing; --adopt-credentials-secret replaces it', async () => {
    const ns = uniqueNamespace('ocpg-frgn');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    await kube().makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'gcp-cloud-credentials' }, stringData: { credentials: '{"type":"service_account"}' } } });
    const mark = g.mark();
    const r = await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/--adopt-credentials-secret/);
    expect(r.stdout + r.stderr).not.toContain('service_account');
    expect(writesSince(mark)).toEqual([]);
    ok(await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', '--adopt-credentials-secret', ...flags(ns)]), 'adopt');
    const secret = await secretOf(ns);
    expect(secret?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('rhacs-sts');
  });

  it('without --cloud the cluster is handed to Google Cloud (AWS is never asked); --configure-integration is refused there', async () => {
    const ns = uniqueNamespace('ocpg-aws');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const r = await cli(['plan', ...flags(ns), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { cloud: string; provider: string })).toMatchObject({ cloud: 'gcp', provider: 'openshift' });
    const status = await cli(['status', ...flags(ns)]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('rhacs-sts manages nothing here');
    const integration = await cli(['init', '--yes', '--provider', 'openshift', '--cloud', 'gcp', '--configure-integration', ...flags(ns)]);
    expect(integration.code, integration.stderr).toBe(2);
    expect(integration.stderr).toMatch(/--configure-integration.*not available for OpenShift on Google Cloud yet/);
    // verify with Central's credentials asks Central nothing here (its integration is not configured by rhacs-sts on OpenShift yet).
    const verify = await runCli(sb, CLUSTER, ['verify', '--provider', 'openshift', '--cloud', 'gcp', ...flags(ns), '--output', 'json'], { ...env, ROX_ADMIN_PASSWORD: 'not-used' });
    expect((JSON.parse(verify.stdout) as { checks: { id: string }[] }).checks.map((c) => c.id)).not.toContain('central-test');
  });
});
