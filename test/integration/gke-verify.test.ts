// verify on GKE, against the sandbox's `gke` cluster and the Google stand-ins: after init every link
// passes (GKE's workload identity and metadata mode, the annotation, a token for the Kubernetes
// service account with the workload pool as audience → Google STS → generateAccessToken → Artifact
// Registry's permission check); each broken link fails its own row, naming the fix, with exit 3.
// init --configure-integration converges Central's Artifact Registry integration, saved only once
// Central's own test passes in its pod (through the GKE metadata server stand-in of the pod's node).
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateMember } from '../../src/clouds/gcp/iam-policy.js';
import { openGcpSession, type GcpSession } from '../../src/clouds/gcp/session.js';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { startGkeGoogle, type GkeGoogle } from '../sandbox/gcp/gke-google.js';
import type { GcpStandins } from '../sandbox/gcp/standins.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { addCentralIntegration, centralIntegrations, centralMark, centralRequests } from '../sandbox/central/central-control.js';

const sb = useSandbox();
const PROJECT = 'sandbox-project';
const READER = 'roles/artifactregistry.reader';
const WI_USER = 'roles/iam.workloadIdentityUser';
const SA_ANNOTATION = 'iam.gke.io/gcp-service-account';

let google: GkeGoogle;
let g: GcpStandins;
let env: Record<string, string>;
let session: GcpSession;

beforeAll(async () => {
  google = await startGkeGoogle(sb, sb.clusters.gke!, { central: true });
  g = google.standins;
  env = google.env;
  session = await openGcpSession({
    environment: { applicationCredentials: env.GOOGLE_APPLICATION_CREDENTIALS! },
    endpoints: { iam: g.urls.iam, cloudresourcemanager: g.urls.cloudresourcemanager, container: g.urls.container, artifactregistry: g.urls.artifactregistry, oauth2Token: g.urls.oauth2Token },
    trustedCa: g.ca, timeoutMs: 10_000, sleep: async () => {}, log: () => {},
  });
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
const kube = () => kubeConfigFor(sb, 'gke');
interface Doc { command: string; ok: boolean; cloud: string; serviceAccount: { email: string }; checks: { id: string; check: string; result: string; detail: string; fix?: string }[] }
const verify = async (ns: string, id: string): Promise<{ run: Run; doc: Doc }> => {
  const run = await cli(['verify', '--namespace', ns, '--gcp-service-account', id, '--output', 'json']);
  return { run, doc: JSON.parse(run.stdout) as Doc };
};
const rowOf = (doc: Doc, kind: string) => doc.checks.find((c) => c.id.startsWith(`${kind}:`));
const results = (doc: Doc) => doc.checks.map((c) => `${c.id.split(':')[0]} ${c.result}`);

async function initialised(prefix: string): Promise<{ ns: string; id: string }> {
  const ns = uniqueNamespace(prefix);
  await seedRhacs(kube(), { namespace: ns, method: 'manifests' });
  const id = `rhacs-${ns.slice(-6)}`;
  ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 'init');
  return { ns, id };
}

describe('verify on GKE', () => {
  it('after init every link passes, each proven at Google; text names the project and the account', async () => {
    const { ns, id } = await initialised('gke-v-ok');
    const mark = g.mark();
    const { run, doc } = await verify(ns, id);
    expect(run.code, run.stderr).toBe(0);
    expect(doc).toMatchObject({ command: 'verify', ok: true, cloud: 'gcp', serviceAccount: { email: email(id) } });
    expect(results(doc)).toEqual([
      'gcp-workload-identity pass', 'gcp-metadata-mode pass', 'gcp-wiring pass',
      'gcp-token pass', 'gcp-sts pass', 'gcp-impersonation pass', 'gcp-registry pass', 'central-test warn',
    ]);
    expect(rowOf(doc, 'central-test') ?? doc.checks.at(-1)).toMatchObject({ detail: expect.stringMatching(/^Skipped: no Central credentials/) });
    const member = `serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`;
    expect(g.requests(mark).filter((r) => !r.methodId.startsWith('oauth2') && r.method === 'POST' && !/getIamPolicy$/.test(r.methodId)).map((r) => `${r.methodId} ${r.status} ${r.caller ?? ''}`)).toEqual([
      `sts.token 200 ${member}`,
      `iamcredentials.projects.serviceAccounts.generateAccessToken 200 ${member}`,
      `cloudresourcemanager.projects.testIamPermissions 200 serviceAccount:${email(id)}`,
    ]);
    const text = await cli(['verify', '--namespace', ns, '--gcp-service-account', id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Verify for GKE · project ${PROJECT} (number 123456789012)`);
    expect(text.stdout).toContain(`Service account: ${email(id)}`);
    expect(text.stdout).toMatch(/7 passed, 1 warning: the chain works\./);

    // --skip-exchange: no token requested, nothing sent to Google STS; the chain's row says it was skipped.
    const since = g.mark();
    const skipped = await cli(['verify', '--namespace', ns, '--gcp-service-account', id, '--skip-exchange', '--output', 'json']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(results(JSON.parse(skipped.stdout) as Doc)).toEqual(['gcp-workload-identity pass', 'gcp-metadata-mode pass', 'gcp-wiring pass', 'gcp-token-chain warn', 'central-test warn']);
    expect(g.requests(since).filter((r) => r.methodId === 'sts.token')).toEqual([]);
  });

  it('without --gcp-service-account, verify and status check the account the annotation names (init was given another name)', async () => {
    const { ns, id } = await initialised('gke-v-named');
    const run = await cli(['verify', '--namespace', ns, '--output', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as Doc;
    expect(doc.serviceAccount.email).toBe(email(id));
    expect(rowOf(doc, 'gcp-wiring')).toMatchObject({ result: 'pass' });
    expect(rowOf(doc, 'gcp-impersonation')).toMatchObject({ result: 'pass', detail: expect.stringContaining(email(id)) });
    const status = await cli(['status', '--namespace', ns]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(email(id));
    expect(status.stdout).toMatch(/4 managed, all healthy\./);
  });

  it('the workloadIdentityUser member removed → the binding row fails with its gcloud fix, exit 3', async () => {
    const { ns, id } = await initialised('gke-v-bind');
    const member = `serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`;
    await updateMember(session, { kind: 'serviceAccount', email: email(id) }, { op: 'remove', role: WI_USER, member });
    const { run, doc } = await verify(ns, id);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('service account impersonation (binding)');
    expect(rowOf(doc, 'gcp-impersonation')).toMatchObject({
      result: 'fail',
      detail: expect.stringMatching(/roles\/iam\.workloadIdentityUser binding is missing/),
      fix: `Run init again, or grant it: \`gcloud iam service-accounts add-iam-policy-binding ${email(id)} --role=${WI_USER} --member='${member}'\` (a new binding can take a few minutes to take effect).`,
    });
    expect(rowOf(doc, 'gcp-registry')).toMatchObject({ result: 'warn', detail: expect.stringMatching(/not reached/) });
    expect(rowOf(doc, 'gcp-wiring')!.result).toBe('pass');
    // init puts it back; verify passes again.
    ok(await cli(['init', '--yes', '--namespace', ns, '--gcp-service-account', id]), 're-init');
    expect((await verify(ns, id)).run.code).toBe(0);
  });

  it('the reader grant removed → the registry row fails naming the project grant, exit 3', async () => {
    const { ns, id } = await initialised('gke-v-read');
    await updateMember(session, { kind: 'project', projectId: PROJECT }, { op: 'remove', role: READER, member: `serviceAccount:${email(id)}` });
    const { run, doc } = await verify(ns, id);
    expect(run.code, run.stderr).toBe(3);
    expect(rowOf(doc, 'gcp-impersonation')!.result).toBe('pass');
    expect(rowOf(doc, 'gcp-registry')).toMatchObject({
      result: 'fail',
      detail: `${email(id)} may not download images from project ${PROJECT}: ${READER} is missing there`,
      fix: `Run init again, or grant it: \`gcloud projects add-iam-policy-binding ${PROJECT} --role=${READER} --member=serviceAccount:${email(id)}\`.`,
    });
  });

  it('the annotation naming another service account → the wiring row fails, exit 3', async () => {
    const { ns, id } = await initialised('gke-v-wire');
    const other = email('someone-else');
    await kube().makeApiClient(CoreV1Api).patchNamespacedServiceAccount({ name: 'central', namespace: ns, body: { metadata: { annotations: { [SA_ANNOTATION]: other } } } }, mergePatch());
    const { run, doc } = await verify(ns, id);
    expect(run.code, run.stderr).toBe(3);
    expect(rowOf(doc, 'gcp-wiring')).toMatchObject({ result: 'fail', detail: `names ${other}, not ${email(id)}`, fix: expect.stringMatching(/Run init again/) });
  });

  it('workload identity off → its row fails with the gcloud fix (verify reports it, not bad input), exit 3', async () => {
    const { ns, id } = await initialised('gke-v-wioff');
    g.seedCluster(google.clusterSpec({ workloadIdentity: false }));
    try {
      const { run, doc } = await verify(ns, id);
      expect(run.code, run.stderr).toBe(3);
      expect(rowOf(doc, 'gcp-workload-identity')).toMatchObject({ result: 'fail', fix: expect.stringContaining('--workload-pool=sandbox-project.svc.id.goog') });
      expect(rowOf(doc, 'gcp-sts')).toMatchObject({ result: 'fail' });
    } finally {
      g.seedCluster(google.clusterSpec());
    }
  });
});

describe('Central\'s Artifact Registry integration on GKE', () => {
  const REGION = sb.clusters.gke!.region;
  const RECORD = 'rhacs-sts/artifactregistry-integration';
  const recordOf = async (ns: string) =>
    (await kube().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'central', namespace: ns })).metadata?.annotations?.[RECORD];
  const seeded = async (prefix: string) => {
    const ns = uniqueNamespace(prefix);
    const s = await seedRhacs(kube(), { namespace: ns, method: 'helm' });
    return { ns, id: `rhacs-${ns.slice(-6)}`, env: { ROX_ADMIN_PASSWORD: s.adminPassword! } };
  };

  it('init --configure-integration creates it once Central\'s test passes; a re-run changes nothing; verify shows Central\'s test; uninstall deletes it', async () => {
    const { ns, id, env: central } = await seeded('gke-v-ar');
    const r = await runCli(sb, 'gke', ['init', '--yes', '--configure-integration', '--namespace', ns, '--gcp-service-account', id], { ...env, ...central });
    ok(r, 'init --configure-integration');
    const saved = await centralIntegrations(sb, 'gke', ns);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ type: 'artifactregistry', categories: ['REGISTRY'], name: `Google Artifact Registry ${REGION}-docker.pkg.dev/${PROJECT} (rhacs-sts)`, google: { endpoint: `${REGION}-docker.pkg.dev`, project: PROJECT, wifEnabled: true } });
    expect(JSON.parse((await recordOf(ns))!)).toEqual({ id: saved[0]!.id, created: true });
    // Central's test ran in the restarted pod, as the annotated service account, through the node's metadata server.
    expect(g.requests().filter((x) => x.methodId === 'docker.registry').at(-1)).toMatchObject({ caller: `serviceAccount:${email(id)}`, status: 200 });

    const again = ok(await runCli(sb, 'gke', ['init', '--yes', '--configure-integration', '--namespace', ns, '--gcp-service-account', id], { ...env, ...central }), 're-run');
    expect(again.stdout).toContain('Nothing to change: everything is in place.');
    expect(await centralIntegrations(sb, 'gke', ns)).toEqual(saved);

    const v = await runCli(sb, 'gke', ['verify', '--namespace', ns, '--gcp-service-account', id, '--output', 'json'], { ...env, ...central });
    expect(v.code, v.stderr).toBe(0);
    expect((JSON.parse(v.stdout) as Doc).checks.at(-1)).toMatchObject({ id: 'central-test', check: "Central's Artifact Registry test", result: 'pass', detail: expect.stringContaining(`tested the integration "${saved[0]!.name}" as its pod`) });

    // uninstall deletes the integration it created (before the service account loses its access), and its record.
    ok(await runCli(sb, 'gke', ['uninstall', '--yes', '--namespace', ns, '--gcp-service-account', id], { ...env, ...central }), 'uninstall');
    expect(await centralIntegrations(sb, 'gke', ns)).toEqual([]);
    expect(await recordOf(ns)).toBeUndefined();
  });

  it('is not saved while the new service account is not yet effective at Google: init\'s wait gives up at --timeout, exit 1, nothing in RHACS', async () => {
    const { ns, id, env: central } = await seeded('gke-v-arfail');
    g.setPropagationDelay(3_600_000);
    let r: Run;
    try {
      r = await runCli(sb, 'gke', ['init', '--yes', '--timeout', '5s', '--configure-integration', '--namespace', ns, '--gcp-service-account', id], { ...env, ...central });
    } finally {
      g.setPropagationDelay(0);
    }
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Google IAM for ${ns}/central: Google has not made the change effective after 5 s`);
    expect(r.stderr).toContain(`Gaia id not found for email ${email(id)}`);
    expect(r.stderr).toContain('run the same command again, which resumes from what exists');
    expect(await centralIntegrations(sb, 'gke', ns)).toEqual([]);
    expect(await recordOf(ns)).toBeUndefined();
  });

  it('one for the same registry that rhacs-sts did not make is changed only with --adopt-integration (its key stays stored); plan writes nothing', async () => {
    const { ns, id, env: central } = await seeded('gke-v-aradopt');
    const key = '{"type":"service_account","private_key":"not-a-real-key"}';
    const theirs = await addCentralIntegration(sb, 'gke', ns, { name: 'team GAR', type: 'artifactregistry', categories: ['REGISTRY'], google: { endpoint: `${REGION}-docker.pkg.dev`, project: PROJECT, serviceAccount: key } });
    const base = ['init', '--yes', '--configure-integration', '--namespace', ns, '--gcp-service-account', id];

    const since = await centralMark(sb);
    const plan = await runCli(sb, 'gke', ['plan', '--configure-integration', '--namespace', ns, '--gcp-service-account', id], { ...env, ...central });
    expect(plan.code, plan.stderr).toBe(1);
    expect(plan.stdout + plan.stderr).toContain('"team GAR"');
    expect((await centralRequests(sb, since, ns)).filter((x) => x.method !== 'GET')).toEqual([]);

    const blocked = await runCli(sb, 'gke', base, { ...env, ...central });
    expect(blocked.code, blocked.stderr).toBe(1);
    expect(blocked.stderr).toContain('--adopt-integration');
    expect(blocked.stderr).toContain('a service account key');
    expect(blocked.stderr).not.toContain('not-a-real-key');

    ok(await runCli(sb, 'gke', [...base, '--adopt-integration'], { ...env, ...central }), 'adopt');
    const after = await centralIntegrations(sb, 'gke', ns);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: theirs.id, name: 'team GAR', google: { wifEnabled: true } });
    expect(JSON.parse((await recordOf(ns))!)).toEqual({ id: theirs.id, previous: { wifEnabled: false } });
  });

  it('--configure-integration without Central credentials is exit 2 naming the flag, before anything is contacted', async () => {
    const mark = g.mark();
    const r = await cli(['init', '--yes', '--configure-integration', '--namespace', 'stackrox']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--configure-integration: needs Central credentials');
    expect(g.requests(mark)).toEqual([]);
  });
});
