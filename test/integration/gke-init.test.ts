// init and plan on GKE, against the sandbox's `gke` cluster (a GKE-shaped kubeconfig whose user runs
// the gke-gcloud-auth-plugin stand-in, GKE nodes, GKE's issuer) and the Google stand-ins started
// here (every request checked against Google's discovery documents, and recorded): the Google
// policies hold exactly the members init grants, the service accounts are annotated and the pods
// restarted; a re-run and a plain plan change nothing; --dry-run writes nothing at Google; workload
// identity off, or a node pool on the wrong metadata mode, is exit 2 with the fix before any write;
// another member of the same role is kept; a bad --gcp-service-account is exit 2 naming the flag.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { startGkeGoogle, type GkeGoogle } from '../sandbox/gcp/gke-google.js';
import type { GcpStandins, GkeClusterSpec } from '../sandbox/gcp/standins.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const PROJECT = 'sandbox-project';
const READER = 'roles/artifactregistry.reader';
const WI_USER = 'roles/iam.workloadIdentityUser';
const SA_ANNOTATION = 'iam.gke.io/gcp-service-account';

let google: GkeGoogle;
let g: GcpStandins;
let env: Record<string, string>;
const cluster = (over: Partial<GkeClusterSpec> = {}) => google.clusterSpec(over);

beforeAll(async () => {
  google = await startGkeGoogle(sb, sb.clusters.gke!);
  g = google.standins;
  env = google.env;
});

afterAll(async () => {
  await google?.stop();
});

const cli = (args: string[]) => runCli(sb, 'gke', args, env);
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
};
const email = (id: string) => `${id}@${PROJECT}.iam.gserviceaccount.com`;
const members = (resource: Parameters<GcpStandins['policy']>[0], role: string): string[] =>
  [...(g.policy(resource).bindings ?? []).filter((b) => b.role === role && !b.condition).flatMap((b) => b.members ?? [])].sort();
const writesSince = (mark: number) => g.requests(mark).filter((r) => r.method !== 'GET' && !/getIamPolicy$/.test(r.methodId) && r.methodId !== 'oauth2.token');
const kube = () => kubeConfigFor(sb, 'gke');
const annotationOf = async (ns: string, sa: string) =>
  (await kube().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: sa, namespace: ns })).metadata?.annotations?.[SA_ANNOTATION];
const restartedAt = async (ns: string, name: string) =>
  (await kube().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns })).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];

describe('init on GKE', () => {
  it('grants exactly the members, annotates and restarts; a re-run and a plain plan change nothing', async () => {
    const ns = uniqueNamespace('gke-init');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const r = ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 'init');
    expect(r.stderr).toMatch(/Detected GKE cluster gke \(project sandbox-project, europe-west1\)/);
    expect(members({ kind: 'project', projectId: PROJECT }, READER)).toContain(`serviceAccount:${email(id)}`);
    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([`serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`]);
    expect(await annotationOf(ns, 'central')).toBe(email(id));
    expect(await annotationOf(ns, 'sensor')).toBeUndefined();
    expect(await restartedAt(ns, 'central')).toBeDefined();

    const mark = g.mark();
    const again = ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
    const plan = ok(await cli(['plan', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']), 'plan');
    const doc = JSON.parse(plan.stdout) as { cloud: string; actions: { status: string }[] };
    expect(doc.cloud).toBe('gcp');
    expect(doc.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
    expect(writesSince(mark)).toEqual([]);

    // status: all healthy; without the annotation, exit 3 naming it, with init as the fix.
    const status = ok(await cli(['status', '--namespace', ns, '--gcp-service-account', id]), 'status');
    expect(status.stdout).toMatch(/4 managed, all healthy\./);
    await kube().makeApiClient(CoreV1Api).patchNamespacedServiceAccount(
      { name: 'central', namespace: ns, body: { metadata: { annotations: { [SA_ANNOTATION]: null } } } }, mergePatch(),
    );
    const broken = await cli(['status', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']);
    expect(broken.code, broken.stderr).toBe(3);
    const report = JSON.parse(broken.stdout) as { healthy: boolean; managed: { kind: string; health: string; fix?: string }[] };
    expect(report.healthy).toBe(false);
    expect(report.managed.filter((m) => m.health !== 'healthy')).toEqual([expect.objectContaining({ kind: 'ServiceAccount', fix: `rhacs-sts init --namespace ${ns}` })]);
    expect(writesSince(mark)).toEqual([]);
  });

  it('--dry-run writes nothing at Google and nothing in the cluster', async () => {
    const ns = uniqueNamespace('gke-dry');
    await seedRhacs(kube(), { namespace: ns, method: 'helm' });
    const id = `rhacs-${ns.slice(-6)}`;
    const mark = g.mark();
    const r = ok(await cli(['init', '--dry-run', '--namespace', ns, '--gcp-service-account', id]), 'dry run');
    expect(r.stdout).toMatch(/Plan for GKE cluster gke · project sandbox-project/);
    expect(r.stdout).toContain(`iam.gke.io/gcp-service-account=${email(id)}`);
    expect(writesSince(mark)).toEqual([]);
    expect(g.requests(mark).length).toBeGreaterThan(0);
    expect(await annotationOf(ns, 'central')).toBeUndefined();
  });

  it('keeps a foreign member of the same role on the service account', async () => {
    const ns = uniqueNamespace('gke-keep');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 'init');
    const other = `serviceAccount:${PROJECT}.svc.id.goog[other/app]`;
    g.grant({ kind: 'serviceAccount', email: email(id) }, WI_USER, other);
    const ns2 = uniqueNamespace('gke-keep2');
    await seedRhacs(kube(), { namespace: ns2, method: 'manifests' });
    ok(await cli(['init', '--yes', '--namespace', ns2, '--gcp-service-account', id]), 'second namespace');
    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([
      other, `serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`, `serviceAccount:${PROJECT}.svc.id.goog[${ns2}/central]`,
    ].sort());
  });
});

describe('IAM propagation', () => {
  it('init waits, with progress, until Google honours the new account and grants: a verify straight after passes', async () => {
    const ns = uniqueNamespace('gke-prop');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    // --no-restart: nothing after the grants takes long, so only the wait stands between init and verify.
    g.setPropagationDelay(8_000);
    try {
      const mark = g.mark();
      const r = ok(await cli(['init', '--yes', '--no-restart', '--namespace', ns, '--gcp-service-account', id]), 'init');
      expect(r.stderr).toContain(`Wait until Google honours the new account and grants`);
      expect(r.stderr).toMatch(new RegExp(`IAM propagation: Google does not honour the new grants for ${ns}/central yet \\(.+\\); \\d+ s waited, checking again in \\d+ s`));
      // The wait walked the chain as the pod's Kubernetes service account, and it ended with Google saying yes.
      const member = `serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`;
      const tokens = g.requests(mark).filter((x) => x.methodId === 'iamcredentials.projects.serviceAccounts.generateAccessToken' && x.caller === member);
      expect(tokens.length).toBeGreaterThan(1);
      expect(tokens.at(-1)!.status).toBe(200);
      const v = await cli(['verify', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']);
      expect(v.code, v.stdout).toBe(0);
    } finally {
      g.setPropagationDelay(0);
    }
  });
});

describe('saved plans on GKE', () => {
  const saved = (stdout: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-gke-plan-'));
    const file = join(dir, 'plan.json');
    writeFileSync(file, stdout);
    return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
  };

  it('plan --output json, then init --plan applies it when the live state still matches', async () => {
    const ns = uniqueNamespace('gke-saved');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const plan = ok(await cli(['plan', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']), 'plan');
    const doc = JSON.parse(plan.stdout) as { cloud: string; inputs: { cloud: string; options: Record<string, unknown> } };
    expect(doc.inputs).toMatchObject({ cloud: 'gcp', options: { namespace: ns, gcpServiceAccount: id } });
    const f = saved(plan.stdout);
    try {
      // A flag that chooses what changes belongs to the plan: refused, naming it, before anything is contacted.
      const mark = g.mark();
      const other = await cli(['init', '--yes', '--plan', f.file, '--gcp-service-account', 'rhacs-other']);
      expect(other.code, other.stderr).toBe(2);
      expect(other.stderr).toContain(`--gcp-service-account: is "rhacs-other", but ${f.file} was planned with "${id}"`);
      expect(g.requests(mark)).toEqual([]);

      const r = ok(await cli(['init', '--yes', '--plan', f.file]), 'init --plan');
      expect(r.stderr).toContain(`The live state matches ${f.file}.`);
      expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([`serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`]);
      expect(await annotationOf(ns, 'central')).toBe(email(id));
    } finally {
      f.done();
    }
  });

  it('refuses a plan the live state no longer matches, saying what changed, with nothing written', async () => {
    const ns = uniqueNamespace('gke-drift');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const f = saved(ok(await cli(['plan', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']), 'plan').stdout);
    try {
      // Someone else grants the reader role in the meantime.
      g.grant({ kind: 'project', projectId: PROJECT }, READER, `user:${ns}@example.com`);
      const mark = g.mark();
      const r = await cli(['init', '--yes', '--plan', f.file]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`The live state has drifted since ${f.file} was saved`);
      expect(r.stderr).toMatch(new RegExp(`gcp-iam-member project ${PROJECT}: roles/artifactregistry\\.reader: (the desired state differs|its current state changed)`));
      expect(r.stderr).toContain(`rhacs-sts plan --namespace ${ns} --gcp-service-account ${id} --output json > ${f.file}`);
      expect(writesSince(mark)).toEqual([]);
      expect(await annotationOf(ns, 'central')).toBeUndefined();
    } finally {
      f.done();
    }
  });
});

describe('GKE problems are bad input before any write', () => {
  it('workload identity off → exit 2 with the gcloud fix, 0 writes', async () => {
    const ns = uniqueNamespace('gke-wioff');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests', waitForRollouts: false });
    g.seedCluster(cluster({ workloadIdentity: false }));
    try {
      const mark = g.mark();
      const r = await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', `rhacs-${ns.slice(-6)}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('does not have workload identity enabled');
      expect(r.stderr).toContain(`gcloud container clusters update gke --location=${sb.clusters.gke!.region} --project=${PROJECT} --workload-pool=${PROJECT}.svc.id.goog`);
      expect(writesSince(mark)).toEqual([]);
      expect(await annotationOf(ns, 'central')).toBeUndefined();
    } finally {
      g.seedCluster(cluster());
    }
  });

  it('the node pool running Central on GCE_METADATA → exit 2 naming the pool', async () => {
    const ns = uniqueNamespace('gke-meta');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    g.seedCluster(cluster({ nodePools: [{ name: 'default-pool', metadataMode: 'GCE_METADATA' }, { name: 'other-pool', metadataMode: 'GKE_METADATA' }] }));
    try {
      const mark = g.mark();
      const r = await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', `rhacs-${ns.slice(-6)}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('node pool default-pool');
      expect(r.stderr).toContain('gcloud container node-pools update default-pool');
      expect(r.stderr).not.toContain('other-pool');
      expect(writesSince(mark)).toEqual([]);
    } finally {
      g.seedCluster(cluster());
    }
  });

  it('a repository that does not exist → exit 2 naming --gar-repository, 0 writes; one that does gets the reader grant', async () => {
    const ns = uniqueNamespace('gke-gar');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const mark = g.mark();
    const r = await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id, '--gar-repository', 'europe-west1/missing']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--gar-repository: europe-west1/missing: no such Artifact Registry repository');
    expect(writesSince(mark)).toEqual([]);
    await g.seedRepository({ projectId: PROJECT, location: 'europe-west1', repository: `images-${ns.slice(-6)}` });
    ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id, '--gar-repository', `europe-west1/images-${ns.slice(-6)}`]), 'init');
    expect(members({ kind: 'repository', projectId: PROJECT, location: 'europe-west1', repository: `images-${ns.slice(-6)}` }, READER)).toEqual([`serviceAccount:${email(id)}`]);
    expect(members({ kind: 'project', projectId: PROJECT }, READER)).not.toContain(`serviceAccount:${email(id)}`);
  });

  it('a bad --gcp-service-account → exit 2 naming the flag, nothing contacted', async () => {
    const mark = g.mark();
    const r = await cli(['init', '--yes', '--gcp-service-account', 'Bad_Name']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--gcp-service-account');
    expect(g.requests(mark)).toEqual([]);
  });
});

describe('a GKE cluster under a context of another name', () => {
  it('is told by its issuer: AWS\'s run refuses it naming --provider gke; with it, the issuer names the project and cluster', async () => {
    const ns = uniqueNamespace('gke-ctx');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    // As after `kubectl config rename-context`, with a plain user (no gke-gcloud-auth-plugin).
    const doc = parse(readFileSync(sb.clusters.gke!.kubeconfig, 'utf8')) as { contexts: { name: string }[]; users: { user: Record<string, unknown> }[]; 'current-context': string };
    doc.contexts[0]!.name = 'my-cluster';
    doc['current-context'] = 'my-cluster';
    for (const u of doc.users) delete u.user.exec;
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-gke-ctx-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, stringify(doc), { mode: 0o600 });
    try {
      const refused = await runCli(sb, 'gke', ['plan', '--namespace', ns], { ...env, KUBECONFIG: kubeconfig });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain('the cluster of context my-cluster is GKE: run again with --provider gke');
      const r = ok(await runCli(sb, 'gke', ['plan', '--provider', 'gke', '--namespace', ns, '--gcp-service-account', `rhacs-${ns.slice(-6)}`], { ...env, KUBECONFIG: kubeconfig }), 'plan --provider gke');
      expect(r.stdout).toMatch(/Plan for GKE cluster gke · project sandbox-project/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('uninstall on GKE', () => {
  it('removes only our members, our service account and the annotation; a second run finds nothing; a shared account is kept', async () => {
    const ns = uniqueNamespace('gke-un');
    const ns2 = uniqueNamespace('gke-un2');
    await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
    await seedRhacs(kube(), { namespace: ns2, method: 'manifests' });
    const id = `rhacs-${ns.slice(-6)}`;
    const saRes = { kind: 'serviceAccount' as const, email: email(id) };
    ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 'init');
    ok(await cli(['init', '--yes', '--namespace', ns2, '--gcp-service-account', id]), 'init 2');
    g.grant({ kind: 'project', projectId: PROJECT }, READER, 'user:someone@example.com');

    // ns2 still acts as the account: only ns's member and annotation go.
    const first = ok(await cli(['uninstall', '--yes', '--namespace', ns, '--gcp-service-account', id]), 'uninstall ns');
    expect(first.stdout).toContain(`The service account ${email(id)} is kept`);
    expect(members(saRes, WI_USER)).toEqual([`serviceAccount:${PROJECT}.svc.id.goog[${ns2}/central]`]);
    expect(await annotationOf(ns, 'central')).toBeUndefined();
    expect(await annotationOf(ns2, 'central')).toBe(email(id));

    // The last one: the account and its reader grant go too; the other members of the role stay.
    const mark = g.mark();
    ok(await cli(['uninstall', '--yes', '--namespace', ns2, '--gcp-service-account', id]), 'uninstall ns2');
    expect(g.requests(mark).filter((r) => r.methodId === 'iam.projects.serviceAccounts.delete' && r.decision === 'allowed')).toHaveLength(1);
    const readers = members({ kind: 'project', projectId: PROJECT }, READER);
    expect(readers).not.toContain(`serviceAccount:${email(id)}`);
    expect(readers).toContain('user:someone@example.com');
    expect(await annotationOf(ns2, 'central')).toBeUndefined();
    const again = ok(await cli(['uninstall', '--yes', '--namespace', ns2, '--gcp-service-account', id]), 'uninstall again');
    expect(again.stdout).toMatch(/Nothing to change: nothing of ours is left to remove/);
  });
});
