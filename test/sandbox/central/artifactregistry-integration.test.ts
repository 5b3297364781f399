// The Central stand-in's Artifact Registry integrations: held to StackRox's swagger like ECR's, and
// its test doing what Central does — on OpenShift the external_account Secret (the pod's token →
// Google STS → generateAccessToken), on GKE the node's metadata server — against the Google
// stand-ins, failing as Central words it when a link is missing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adc, clients, type GoogleClients } from '../gcp/clients.js';
import { startGkeMetadataServer, type GkeMetadataServer } from '../gcp/metadata-server.js';
import { startGcpStandins, type GcpStandins } from '../gcp/standins.js';
import { testIssuer } from '../azure/test-issuer.js';
import type { CentralClouds } from './cloud-sides.js';
import { centralPod, NS, startFakeCentral, type FakeCentral } from './test-central.js';

const PROJECT = 'sandbox-project';
const NUMBER = '123456789012';
const POOL = 'rhacs-pool';
const PROVIDER = 'cluster-a';
const ISSUER = 'https://issuer.sandbox.example/cluster-a';
const OPENSHIFT_TOKEN = '/var/run/secrets/openshift/serviceaccount/token';
const PRINCIPAL = `principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/${POOL}/subject/system:serviceaccount:${NS}:central`;
const GKE_MEMBER = `serviceAccount:${PROJECT}.svc.id.goog[${NS}/central]`;
const GKE_CLUSTER = { projectId: PROJECT, location: 'us-central1', name: 'gke-1' };

const issuer = testIssuer(ISSUER);
let s: GcpStandins;
let g: GoogleClients;
let central: FakeCentral;
let metadata: GkeMetadataServer;
const annotations = new Map<string, string>();

const integration = (over: Record<string, unknown> = {}) => ({
  name: 'Google Artifact Registry us-central1-docker.pkg.dev/sandbox-project (rhacs-sts)',
  type: 'artifactregistry',
  categories: ['REGISTRY'],
  google: { endpoint: 'us-central1-docker.pkg.dev', project: PROJECT, wifEnabled: true },
  ...over,
});

function externalAccount(gsa: string, audience = `//iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/${POOL}/providers/${PROVIDER}`): string {
  return JSON.stringify({
    type: 'external_account',
    audience,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: 'https://sts.googleapis.com/v1/token',
    service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${gsa}:generateAccessToken`,
    credential_source: { file: OPENSHIFT_TOKEN, format: { type: 'text' } },
  });
}

async function done(name: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const op = name.includes('/providers/')
      ? await g.iam.projects.locations.workloadIdentityPools.providers.operations.get({ name })
      : await g.iam.projects.locations.workloadIdentityPools.operations.get({ name });
    if (op.data.done) return;
  }
  throw new Error(`operation ${name} never finished`);
}

async function serviceAccount(accountId: string): Promise<string> {
  return (await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId } })).data.email!;
}

beforeAll(async () => {
  s = await startGcpStandins({ fetchPublic: issuer.fetchPublic });
  g = clients(s, await adc(s, s.adminCredentials()));
  await s.seedRepository({ projectId: PROJECT, location: 'us-central1', repository: 'rhacs', images: ['stackrox/main:4.7.2'] });
  await done((await g.iam.projects.locations.workloadIdentityPools.create({ parent: `projects/${PROJECT}/locations/global`, workloadIdentityPoolId: POOL, requestBody: {} })).data.name!);
  await done((await g.iam.projects.locations.workloadIdentityPools.providers.create({
    parent: `projects/${PROJECT}/locations/global/workloadIdentityPools/${POOL}`,
    workloadIdentityPoolProviderId: PROVIDER,
    requestBody: { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: ISSUER, allowedAudiences: ['openshift'] } },
  })).data.name!);
  s.seedCluster({ ...GKE_CLUSTER, workloadIdentity: true, nodePools: [{ name: 'default-pool' }] });
  metadata = await startGkeMetadataServer({
    standins: s,
    cluster: GKE_CLUSTER,
    nodePool: 'default-pool',
    // The node's pods, by the header the Central stand-in sends in place of its source address.
    identify: (req) => {
      const [namespace, name] = String(req.headers['x-sandbox-pod'] ?? '').split('/');
      return namespace && name === central.pod.metadata!.name ? { namespace, serviceAccount: central.pod.spec!.serviceAccountName! } : undefined;
    },
    annotation: (ns, sa) => annotations.get(`${ns}/${sa}`),
  });
  central = await startFakeCentral(centralPod({ tokenFile: OPENSHIFT_TOKEN, audience: 'openshift' }), (subject, audience) => issuer.token({ subject, audience }));
});
afterAll(async () => {
  await central?.close();
  await metadata?.close();
  await s?.close();
});
beforeEach(() => {
  central.api.clouds = { gcp: s };
  central.secrets.clear();
  annotations.clear();
});

describe('Artifact Registry integrations against StackRox\'s contract', () => {
  it('refuses a malformed one as Central\'s gateway does, and stores nothing', async () => {
    const wrongType = await central.call('POST', '/v1/imageintegrations', integration({ google: { endpoint: 'us-central1-docker.pkg.dev', wifEnabled: 'yes' } }));
    expect(wrongType).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining('invalid value for bool field google.wifEnabled') } });
    const unknown = await central.call('POST', '/v1/imageintegrations', integration({ google: { endpoint: 'us-central1-docker.pkg.dev', workloadIdentity: true } }));
    expect(unknown).toMatchObject({ status: 400, body: { message: expect.stringContaining('unknown field "workloadIdentity" in google') } });
    const missing = await central.call('POST', '/v1/imageintegrations/test', integration({ google: { project: PROJECT } }));
    expect(missing).toMatchObject({ status: 400, body: { message: 'registry integration: Google Validation errors: [Endpoint must be specified for Google registry (e.g. gcr.io, us.gcr.io, eu.gcr.io)], [Service account must be specified for Google registry]: invalid arguments' } });
    expect((await central.call('GET', '/v1/imageintegrations')).body).toEqual({ integrations: [] });
  });
});

describe('Central\'s test on OpenShift: Secret gcp-cloud-credentials → Google STS → generateAccessToken → the registry', () => {
  it('fails without the workloadIdentityUser binding, as Google answers it; passes with it; then the integration is saved', async () => {
    const gsa = await serviceAccount('rhacs-openshift');
    central.secrets.set(`${NS}/gcp-cloud-credentials`, { credentials: externalAccount(gsa) });
    const since = s.mark();
    const without = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(without.status).toBe(400);
    expect(without.body.message).toMatch(/^registry integration: Get "https:\/\/us-central1-docker\.pkg\.dev\/v2\/": oauth2\/google\/externalaccount: status code 403: .*iam\.serviceAccounts\.getAccessToken/);
    // The pod's OpenShift token went to STS; the impersonation was refused.
    expect(central.minted.at(-1)).toEqual({ subject: `system:serviceaccount:${NS}:central`, audience: 'openshift' });
    expect(s.requests(since).map((r) => [r.methodId, r.decision])).toEqual([
      ['sts.token', 'allowed'],
      ['iamcredentials.projects.serviceAccounts.generateAccessToken', 'denied'],
    ]);

    s.grant({ kind: 'serviceAccount', email: gsa }, 'roles/iam.workloadIdentityUser', PRINCIPAL);
    expect(await central.call('POST', '/v1/imageintegrations/test', integration())).toEqual({ status: 200, body: {} });
    const created = await central.call('POST', '/v1/imageintegrations', integration());
    expect(created).toMatchObject({ status: 200, body: { id: expect.any(String), type: 'artifactregistry', google: { wifEnabled: true } } });
    expect(s.requests(since).filter((r) => r.methodId === 'docker.registry').map((r) => [r.caller, r.status])).toEqual([[`serviceAccount:${gsa}`, 200], [`serviceAccount:${gsa}`, 200]]);

    // Pointing it elsewhere needs updatePassword=true (the endpoint is tied to the stored key), as Central says.
    const id = String(created.body.id);
    const moved = { ...integration(), google: { endpoint: 'europe-docker.pkg.dev', project: PROJECT, wifEnabled: true } };
    expect(await central.call('PATCH', `/v1/imageintegrations/${id}`, { config: { ...moved, skipTestIntegration: true }, updatePassword: false })).toMatchObject({ status: 400, body: { message: "credentials required to update field 'ImageIntegration.google.endpoint'" } });
    expect(await central.call('PATCH', `/v1/imageintegrations/${id}`, { config: { ...moved, skipTestIntegration: true }, updatePassword: true })).toEqual({ status: 200, body: {} });
    await central.call('DELETE', `/v1/imageintegrations/${id}`);
  });

  it('fails when the Secret\'s audience names the project by id, not number (the published example\'s mistake)', async () => {
    const gsa = await serviceAccount('rhacs-by-id');
    s.grant({ kind: 'serviceAccount', email: gsa }, 'roles/iam.workloadIdentityUser', PRINCIPAL);
    central.secrets.set(`${NS}/gcp-cloud-credentials`, { credentials: externalAccount(gsa, `//iam.googleapis.com/projects/${PROJECT}/locations/global/workloadIdentityPools/${POOL}/providers/${PROVIDER}`) });
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r).toMatchObject({ status: 400, body: { message: expect.stringContaining('oauth2/google/externalaccount: status code 400: ') } });
    expect(r.body.message).toContain('invalid_target');
  });

  it('fails as Central would when the Google stand-ins are not there: no route to Google; reaches them once they run', async () => {
    let side: CentralClouds = {};
    central.api.clouds = () => side;
    central.secrets.set(`${NS}/gcp-cloud-credentials`, { credentials: externalAccount('nobody@sandbox-project.iam.gserviceaccount.com') });
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r).toMatchObject({ status: 400, body: { message: expect.stringContaining('Post "https://sts.googleapis.com/v1/token": dial tcp: lookup sts.googleapis.com: no such host') } });
    side = { gcp: s };
    const reached = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(reached).toMatchObject({ status: 400, body: { message: expect.stringContaining('oauth2/google/externalaccount: status code 403') } });
  });

  it('without the Secret and off GKE, fails finding no default credentials', async () => {
    const r = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(r).toMatchObject({ status: 400, body: { message: expect.stringContaining('google: could not find default credentials') } });
  });
});

describe('Central\'s test on GKE: the node\'s metadata server', () => {
  it('fails while the annotated service account lacks the binding, passes with it', async () => {
    central.api.clouds = { gcp: { ...s, metadataHost: () => metadata.host } };
    const gsa = await serviceAccount('rhacs-gke');
    annotations.set(`${NS}/central`, gsa);
    const without = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(without).toMatchObject({ status: 400, body: { message: expect.stringMatching(/compute: Received 403 `Unable to generate access token; IAM returned 403: Permission 'iam\.serviceAccounts\.getAccessToken' denied/) } });
    s.grant({ kind: 'serviceAccount', email: gsa }, 'roles/iam.workloadIdentityUser', GKE_MEMBER);
    const since = s.mark();
    expect(await central.call('POST', '/v1/imageintegrations/test', integration())).toEqual({ status: 200, body: {} });
    expect(s.requests(since).find((r) => r.methodId === 'docker.registry')).toMatchObject({ caller: `serviceAccount:${gsa}`, status: 200 });

    // With a pull check, the reader role shows too.
    central.api.clouds = { gcp: { ...s, metadataHost: () => metadata.host, pullCheckImage: 'rhacs/stackrox/main' } };
    const noReader = await central.call('POST', '/v1/imageintegrations/test', integration());
    expect(noReader).toMatchObject({ status: 400, body: { message: 'registry integration: error testing integration (code: 403). Please check Central logs for full error: invalid arguments' } });
    s.grant({ kind: 'repository', projectId: PROJECT, location: 'us-central1', repository: 'rhacs' }, 'roles/artifactregistry.reader', `serviceAccount:${gsa}`);
    expect(await central.call('POST', '/v1/imageintegrations/test', integration())).toEqual({ status: 200, body: {} });
  });
});
