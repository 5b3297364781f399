// The GKE metadata server stand-in, driven by google-auth-library's own metadata client
// (GCE_METADATA_HOST, as a pod's Google client finds it).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adc, clients, type GoogleClients } from './clients.js';
import { startGkeMetadataServer, type GkeMetadataServer, type PodIdentity } from './metadata-server.js';
import { startGcpStandins, type GcpStandins } from './standins.js';

const PROJECT = 'sandbox-project';
const CLUSTER = { projectId: PROJECT, location: 'us-central1', name: 'gke-a' };

let s: GcpStandins;
let g: GoogleClients;
let gsa: string;
const servers: GkeMetadataServer[] = [];
/** The pod behind the next request (the real server maps the source address). */
let pod: PodIdentity | undefined;
const annotations = new Map<string, string>();

async function node(pool: string): Promise<GkeMetadataServer> {
  const m = await startGkeMetadataServer({ standins: s, cluster: CLUSTER, nodePool: pool, identify: () => pod, annotation: (ns, sa) => annotations.get(`${ns}/${sa}`) });
  servers.push(m);
  return m;
}

/** What a pod's google-auth-library gets from the metadata server (its own process, env as on GKE). */
async function fromPod(m: GkeMetadataServer): Promise<{ token: string } | { error: string }> {
  const script =
    "import { GoogleAuth } from 'google-auth-library';" +
    "try { const c = await new GoogleAuth({ projectId: 'sandbox-project', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient();" +
    ' console.log(JSON.stringify({ token: (await c.getAccessToken()).token })); } catch (e) { console.log(JSON.stringify({ error: String(e.message) })); }';
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, GCE_METADATA_HOST: m.host, METADATA_SERVER_DETECTION: 'assume-present' },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim()) as { token: string } | { error: string };
}

async function metadata(m: GkeMetadataServer, path: string, headers: Record<string, string> = { 'Metadata-Flavor': 'Google' }): Promise<{ status: number; body: string }> {
  const r = await fetch(`${m.url}/computeMetadata/v1/${path}`, { headers });
  return { status: r.status, body: await r.text() };
}

beforeAll(async () => {
  s = await startGcpStandins();
  g = clients(s, await adc(s, s.adminCredentials()));
  gsa = (await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'rhacs-central' } })).data.email!;
  s.grant({ kind: 'serviceAccount', email: gsa }, 'roles/iam.workloadIdentityUser', `serviceAccount:${PROJECT}.svc.id.goog[stackrox/central]`);
  s.seedCluster({ ...CLUSTER, workloadIdentity: true, nodePools: [{ name: 'gke-pool', metadataMode: 'GKE_METADATA' }, { name: 'gce-pool', metadataMode: 'GCE_METADATA' }] });
  s.seedCluster({ ...CLUSTER, name: 'gke-off', workloadIdentity: false, nodePools: [{ name: 'default-pool' }] });
  annotations.set('stackrox/central', gsa);
});
afterAll(async () => {
  await Promise.all(servers.map((m) => m.close()));
  await s?.close();
});

describe('GKE metadata server stand-in', () => {
  it('requires Metadata-Flavor: Google', async () => {
    const m = await node('gke-pool');
    pod = { namespace: 'stackrox', serviceAccount: 'central' };
    expect((await metadata(m, 'instance/service-accounts/default/email', {})).status).toBe(403);
    expect(await metadata(m, 'instance/service-accounts/default/email')).toEqual({ status: 200, body: gsa });
  });

  it('gives an annotated service account on a GKE_METADATA pool the Google service account\'s token (generateAccessToken, recorded)', async () => {
    const m = await node('gke-pool');
    pod = { namespace: 'stackrox', serviceAccount: 'central' };
    const mark = s.mark();
    const r = await fromPod(m);
    expect('token' in r && s.tokenPrincipal(r.token)).toBe(`serviceAccount:${gsa}`);
    expect(s.requests(mark)).toMatchObject([{ methodId: 'iamcredentials.projects.serviceAccounts.generateAccessToken', caller: `serviceAccount:${PROJECT}.svc.id.goog[stackrox/central]`, decision: 'allowed' }]);
  });

  it('gives an unannotated service account only its own principal: no Google service account token', async () => {
    const m = await node('gke-pool');
    pod = { namespace: 'stackrox', serviceAccount: 'sensor' };
    const mark = s.mark();
    expect(await metadata(m, 'instance/service-accounts/default/email')).toEqual({ status: 200, body: `${PROJECT}.svc.id.goog` });
    const r = await fromPod(m);
    expect('token' in r && s.tokenPrincipal(r.token)).toBe(`serviceAccount:${PROJECT}.svc.id.goog[stackrox/sensor]`);
    expect(s.requests(mark).filter((x) => x.methodId.startsWith('iamcredentials'))).toEqual([]);
  });

  it('refuses an annotated service account without the workloadIdentityUser binding (403 from IAM)', async () => {
    const m = await node('gke-pool');
    annotations.set('stackrox/scanner', gsa);
    pod = { namespace: 'stackrox', serviceAccount: 'scanner' };
    const r = await metadata(m, 'instance/service-accounts/default/token');
    expect(r.status).toBe(403);
    expect(r.body).toContain("Permission 'iam.serviceAccounts.getAccessToken' denied");
  });

  it('on a GCE_METADATA pool, or a cluster without workload identity, pods get the node\'s identity, never the annotated one', async () => {
    pod = { namespace: 'stackrox', serviceAccount: 'central' };
    const nodeSa = `${s.projectNumber(PROJECT)}-compute@developer.gserviceaccount.com`;
    for (const m of [await node('gce-pool'), await startGkeMetadataServer({ standins: s, cluster: { ...CLUSTER, name: 'gke-off' }, nodePool: 'default-pool', identify: () => pod, annotation: (ns, sa) => annotations.get(`${ns}/${sa}`) })]) {
      if (!servers.includes(m)) servers.push(m);
      const mark = s.mark();
      expect(await metadata(m, 'instance/service-accounts/default/email')).toEqual({ status: 200, body: nodeSa });
      const r = await fromPod(m);
      expect('token' in r && s.tokenPrincipal(r.token)).toBe(`serviceAccount:${nodeSa}`);
      expect(s.requests(mark).filter((x) => x.methodId.startsWith('iamcredentials'))).toEqual([]);
    }
  });

  it('reads the pool\'s mode from GKE\'s view of the cluster, as the API reports it', async () => {
    const c = await g.container.projects.locations.clusters.get({ name: `projects/${PROJECT}/locations/us-central1/clusters/gke-a` });
    expect(c.data.workloadIdentityConfig?.workloadPool).toBe(`${PROJECT}.svc.id.goog`);
    expect(c.data.nodePools?.map((p) => [p.name, p.config?.workloadMetadataConfig?.mode])).toEqual([
      ['gke-pool', 'GKE_METADATA'],
      ['gce-pool', 'GCE_METADATA'],
    ]);
    const off = await g.container.projects.locations.clusters.get({ name: `projects/${PROJECT}/locations/us-central1/clusters/gke-off` });
    expect(off.data.workloadIdentityConfig).toBeUndefined();
    const list = await g.container.projects.locations.clusters.list({ parent: `projects/${PROJECT}/locations/-` });
    expect(list.data.clusters?.map((x) => x.name)).toEqual(['gke-a', 'gke-off']);
  });
});
