// verify's token chain on Google Cloud (OpenShift: the cluster's token → Google STS through the
// provider → generateAccessToken for the service account → Artifact Registry's permission check)
// against the Google stand-ins: the happy chain, each broken link with its fix, the wait through
// IAM propagation (the stand-ins' delay knob, their clock moved by the waits), and the
// external_account credential we write, driven by google-auth-library through the same chain.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalAccountClient, gaxios } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalAccountCredential, gkeMember, gkeStsAudience, gkeWorkloadPool, openshiftMember, providerAudience, toProjectNumber } from '../../src/clouds/gcp/external-account.js';
import { updateMember } from '../../src/clouds/gcp/iam-policy.js';
import { convergePool, convergeProvider } from '../../src/clouds/gcp/pools.js';
import { tokenChainProbe, waitForPropagation } from '../../src/clouds/gcp/propagation.js';
import { changeReader } from '../../src/clouds/gcp/registry-grant.js';
import { convergeServiceAccount } from '../../src/clouds/gcp/service-account.js';
import { openGcpSession, type GcpSession } from '../../src/clouds/gcp/session.js';
import { tokenHttp } from '../../src/clouds/gcp/token-http.js';
import { WORKLOAD_IDENTITY_USER } from '../../src/clouds/gcp/undo.js';
import { readGkeCluster } from '../../src/clouds/gcp/gke.js';
import { checkTokenChain, gkeClusterRows, type TokenChainInput } from '../../src/clouds/gcp/verify.js';
import type { Jwk } from '../../src/kube/session.js';
import { signJwt, startGcpStandins, type GcpStandins } from '../sandbox/gcp/standins.js';
import { createTestPki, withServer, type TestHandler } from '../sandbox/tls-servers.js';

const PROJECT = 'sandbox-project';
const NUMBER = toProjectNumber('123456789012');
const ISSUER = 'https://issuer.sandbox.example/cluster-v';
const REF = { projectNumber: NUMBER, poolId: 'rhacs-verify', providerId: 'cluster-v' };
const MEMBER = openshiftMember(REF, 'stackrox', 'central');
const REPO = { location: 'us-central1', repository: 'rhacs' };

const GKE_ISSUER = `https://container.googleapis.com/v1/projects/${PROJECT}/locations/europe-west1/clusters/gke-v`;
const GKE_OFF_ISSUER = `https://container.googleapis.com/v1/projects/${PROJECT}/locations/europe-west1/clusters/gke-off`;
const gkeKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

let clock = Date.now();
let s: GcpStandins;
let dir: string;
let session: GcpSession;
let clusterKey: KeyObject;
let email: string;

function jwkOf(key: KeyObject, kid: string): Jwk {
  return { ...(key.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'RS256' };
}
function newKey(): { priv: KeyObject; pub: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { priv: privateKey, pub: publicKey };
}
function clusterToken(claims: Record<string, unknown> = {}, key: KeyObject = clusterKey, kid = 'k1'): string {
  const t = Math.floor(clock / 1000);
  return signJwt(key.export({ type: 'pkcs8', format: 'pem' }).toString(), kid, { iss: ISSUER, sub: 'system:serviceaccount:stackrox:central', aud: ['openshift'], iat: t - 10, exp: t + 3600, ...claims });
}
function chain(over: Partial<TokenChainInput> = {}): TokenChainInput {
  return {
    platform: 'openshift',
    subjectToken: clusterToken(),
    tokenAudience: 'openshift',
    stsAudience: providerAudience(REF),
    serviceAccountEmail: email,
    member: MEMBER,
    projectId: PROJECT,
    repositories: [REPO],
    endpoints: { sts: s.urls.sts, iamcredentials: s.urls.iamcredentials, artifactregistry: s.urls.artifactregistry, cloudresourcemanager: s.urls.cloudresourcemanager },
    http: tokenHttp({ trustedCa: s.ca, timeoutMs: 10_000 }),
    now: () => clock,
    ...over,
  };
}
const results = (rows: { result: string }[]) => rows.map((r) => r.result);
async function newAccount(id: string): Promise<string> {
  return (await convergeServiceAccount(session, { projectId: PROJECT, accountId: id, clusters: ['v'] })).account.email;
}

beforeAll(async () => {
  // GKE's issuers are public: Google STS reads their keys there (here, from this map).
  const publicWeb = new Map<string, unknown>();
  for (const issuer of [GKE_ISSUER, GKE_OFF_ISSUER]) {
    publicWeb.set(`${issuer}/.well-known/openid-configuration`, { issuer, jwks_uri: `${issuer}/jwks` });
    publicWeb.set(`${issuer}/jwks`, { keys: [jwkOf(gkeKey.publicKey, 'gke-1')] });
  }
  s = await startGcpStandins({
    now: () => clock,
    fetchPublic: async (url) => (publicWeb.has(url) ? { status: 200, body: JSON.stringify(publicWeb.get(url)) } : { status: 404, body: '' }),
  });
  dir = mkdtempSync(join(tmpdir(), 'gcp-verify-'));
  const adc = join(dir, 'adc.json');
  writeFileSync(adc, JSON.stringify(s.adminCredentials()));
  session = await openGcpSession({
    environment: { applicationCredentials: adc },
    endpoints: { iam: s.urls.iam, cloudresourcemanager: s.urls.cloudresourcemanager, container: s.urls.container, artifactregistry: s.urls.artifactregistry, oauth2Token: s.urls.oauth2Token },
    trustedCa: s.ca,
    timeoutMs: 10_000,
    sleep: async () => {},
    log: () => {},
  });
  const k = newKey();
  clusterKey = k.priv;
  await s.seedRepository({ projectId: PROJECT, ...REPO, images: ['stackrox/main:4.7.0'] });
  await convergePool(session, { ref: REF, clusters: ['v'] });
  await convergeProvider(session, { ref: REF, issuer: ISSUER, keys: [jwkOf(k.pub, 'k1')], cluster: 'v' });
  email = await newAccount('rhacs-verify');
  await updateMember(session, { kind: 'serviceAccount', email }, { op: 'add', role: WORKLOAD_IDENTITY_USER, member: MEMBER });
  await changeReader(session, { projectId: PROJECT, repositories: [REPO], member: `serviceAccount:${email}`, op: 'add' });
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the token chain on OpenShift', () => {
  it('holds: every link passes, each proven at Google\'s side', async () => {
    const m = s.mark();
    const r = await checkTokenChain(chain());
    expect(r.failed).toBeUndefined();
    expect(r.rows.map((x) => `${x.id} ${x.result}`)).toEqual(['gcp-token pass', 'gcp-sts pass', 'gcp-impersonation pass', 'gcp-registry pass']);
    expect(s.requests(m).map((x) => `${x.methodId} ${x.status} ${x.caller ?? ''}`)).toEqual([
      `sts.token 200 principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-verify/subject/system:serviceaccount:stackrox:central`,
      `iamcredentials.projects.serviceAccounts.generateAccessToken 200 ${MEMBER}`,
      `artifactregistry.projects.locations.repositories.testIamPermissions 200 serviceAccount:${email}`,
    ]);
  });

  it('a token with the wrong audience fails at the first link, and nothing is sent to Google', async () => {
    const m = s.mark();
    const r = await checkTokenChain(chain({ subjectToken: clusterToken({ aud: ['sts.amazonaws.com'] }) }));
    expect(r.failed).toBe('token');
    expect(r.rows[0]).toMatchObject({ result: 'fail', detail: 'its audience is [sts.amazonaws.com], not openshift' });
    expect(results(r.rows)).toEqual(['fail', 'warn', 'warn', 'warn']);
    expect(s.requests(m)).toEqual([]);
  });

  it('the audience by project id (the published mistake): STS refuses, the row names the project number', async () => {
    const r = await checkTokenChain(chain({ stsAudience: providerAudience(REF).replace(NUMBER, PROJECT) }));
    expect(r.failed).toBe('sts');
    expect(r.rows[1]).toMatchObject({ result: 'fail', detail: expect.stringMatching(/names the project by id \(sandbox-project\) where Google needs the project NUMBER.*invalid_target/), fix: expect.stringMatching(/projects describe sandbox-project/) });
  });

  it('a pool that does not exist: STS refuses, the fix names the flags', async () => {
    const r = await checkTokenChain(chain({ stsAudience: providerAudience({ ...REF, poolId: 'no-such-pool' }) }));
    expect(r.rows[1]).toMatchObject({ result: 'fail', fix: expect.stringMatching(/--workload-identity-pool and --workload-identity-provider/) });
  });

  it('stale provider keys after a rotation: STS refuses the signature; init\'s re-sync mends the chain', async () => {
    const rotated = newKey();
    const token = clusterToken({}, rotated.priv, 'k2');
    const r = await checkTokenChain(chain({ subjectToken: token }));
    expect(r.failed).toBe('sts');
    expect(r.rows[1]).toMatchObject({ result: 'fail', detail: expect.stringMatching(/provider's keys are not the cluster's/), fix: expect.stringMatching(/re-syncs the provider's inline keys/) });
    const synced = await convergeProvider(session, { ref: REF, issuer: ISSUER, keys: [jwkOf(rotated.pub, 'k2')], cluster: 'v' });
    expect(synced.status).toBe('updated');
    expect(results((await checkTokenChain(chain({ subjectToken: token }))).rows)).toEqual(['pass', 'pass', 'pass', 'pass']);
    clusterKey = rotated.priv;
  });

  it('the binding missing: impersonation fails with the gcloud fix naming the member', async () => {
    const lone = await newAccount('rhacs-unbound');
    const r = await checkTokenChain(chain({ subjectToken: clusterToken({}, clusterKey, 'k2'), serviceAccountEmail: lone }));
    expect(r.failed).toBe('impersonation');
    expect(r.rows[2]).toMatchObject({ result: 'fail', detail: expect.stringMatching(/roles\/iam.workloadIdentityUser binding is missing .*PERMISSION_DENIED/), fix: `Run init again, or grant it: \`gcloud iam service-accounts add-iam-policy-binding ${lone} --role=roles/iam.workloadIdentityUser --member='${MEMBER}'\` (a new binding can take a few minutes to take effect).` });
    expect(r.rows[3]).toMatchObject({ result: 'warn', detail: expect.stringMatching(/not reached/) });
  });

  it('the reader role missing: the registry link fails naming the repository; on the project it is checked there', async () => {
    const bound = await newAccount('rhacs-noreader');
    await updateMember(session, { kind: 'serviceAccount', email: bound }, { op: 'add', role: WORKLOAD_IDENTITY_USER, member: MEMBER });
    const token = clusterToken({}, clusterKey, 'k2');
    const r = await checkTokenChain(chain({ subjectToken: token, serviceAccountEmail: bound }));
    expect(r.failed).toBe('registry');
    expect(r.rows[3]).toMatchObject({ result: 'fail', detail: `${bound} may not download images from us-central1/rhacs: roles/artifactregistry.reader is missing there`, fix: expect.stringMatching(/gcloud artifacts repositories add-iam-policy-binding rhacs --location=us-central1/) });
    const onProject = await checkTokenChain(chain({ subjectToken: token, serviceAccountEmail: bound, repositories: [] }));
    expect(onProject.rows[3]).toMatchObject({ result: 'fail', fix: expect.stringMatching(/gcloud projects add-iam-policy-binding sandbox-project/) });
    await changeReader(session, { projectId: PROJECT, repositories: [], member: `serviceAccount:${bound}`, op: 'add' });
    expect((await checkTokenChain(chain({ subjectToken: token, serviceAccountEmail: bound, repositories: [] }))).rows[3]).toMatchObject({ result: 'pass', detail: `${bound} may download images from project ${PROJECT}` });
  });
});

describe('the token chain on GKE', () => {
  const pool = gkeWorkloadPool(PROJECT);
  const central = gkeMember(PROJECT, 'stackrox', 'central');
  const gkeToken = (issuer: string) => {
    const t = Math.floor(clock / 1000);
    return signJwt(gkeKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'gke-1', { iss: issuer, sub: 'system:serviceaccount:stackrox:central', aud: [pool], iat: t - 10, exp: t + 3600 });
  };
  let gsa: string;
  beforeAll(async () => {
    s.seedCluster({ projectId: PROJECT, location: 'europe-west1', name: 'gke-v', workloadIdentity: true, nodePools: [{ name: 'default-pool' }] });
    s.seedCluster({ projectId: PROJECT, location: 'europe-west1', name: 'gke-off', workloadIdentity: false, nodePools: [{ name: 'default-pool' }] });
    gsa = await newAccount('rhacs-gke-v');
    await updateMember(session, { kind: 'serviceAccount', email: gsa }, { op: 'add', role: WORKLOAD_IDENTITY_USER, member: central });
    await changeReader(session, { projectId: PROJECT, repositories: [REPO], member: `serviceAccount:${gsa}`, op: 'add' });
  });
  const gke = (issuer: string): TokenChainInput => chain({ platform: 'gke', subjectToken: gkeToken(issuer), tokenAudience: pool, stsAudience: gkeStsAudience(PROJECT, issuer), serviceAccountEmail: gsa, member: central });

  it('holds: the workload pool\'s exchange, then the binding for serviceAccount:<project>.svc.id.goog[stackrox/central], then the role', async () => {
    const m = s.mark();
    const r = await checkTokenChain(gke(GKE_ISSUER));
    expect(results(r.rows)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(s.requests(m).map((x) => `${x.methodId} ${x.caller ?? ''}`).slice(0, 2)).toEqual([`sts.token ${central}`, `iamcredentials.projects.serviceAccounts.generateAccessToken ${central}`]);
  });

  it('GKE\'s own rows, read from the GKE API: workload identity off; a node pool that runs RHACS on GCE_METADATA', async () => {
    s.seedCluster({ projectId: PROJECT, location: 'europe-west1', name: 'gke-mixed', workloadIdentity: true, nodePools: [{ name: 'rhacs-pool', metadataMode: 'GCE_METADATA' }, { name: 'other', metadataMode: 'GKE_METADATA' }] });
    const off = gkeClusterRows(await readGkeCluster(session, { projectId: PROJECT, location: 'europe-west1', name: 'gke-off' }));
    expect(off.map((r) => `${r.id} ${r.result}`)).toEqual(['gcp-workload-identity fail', 'gcp-metadata-mode warn']);
    expect(off[0]!.fix).toBe(`gcloud container clusters update gke-off --location=europe-west1 --project=${PROJECT} --workload-pool=${PROJECT}.svc.id.goog`);
    const mixed = gkeClusterRows(await readGkeCluster(session, { projectId: PROJECT, location: 'europe-west1', name: 'gke-mixed' }), ['rhacs-pool']);
    expect(mixed.map((r) => `${r.id} ${r.result}`)).toEqual(['gcp-workload-identity pass', 'gcp-metadata-mode fail']);
    expect(mixed[1]!.fix).toMatch(/^gcloud container node-pools update rhacs-pool --cluster=gke-mixed .*--workload-metadata=GKE_METADATA$/);
    expect(gkeClusterRows(await readGkeCluster(session, { projectId: PROJECT, location: 'europe-west1', name: 'gke-v' })).map((r) => r.result)).toEqual(['pass', 'pass']);
  });

  it('workload identity off: STS does not know the pool for that cluster; the fix turns it on', async () => {
    const r = await checkTokenChain(gke(GKE_OFF_ISSUER));
    expect(r.failed).toBe('sts');
    expect(r.rows[1]).toMatchObject({ result: 'fail', fix: expect.stringMatching(/--workload-pool=<project>\.svc\.id\.goog/) });
  });

  it('the wiring names an account without this cluster\'s binding: impersonation fails naming the member', async () => {
    const r = await checkTokenChain({ ...gke(GKE_ISSUER), serviceAccountEmail: email, member: central });
    expect(r.failed).toBe('impersonation');
    expect(r.rows[2]!.fix).toContain(`--member='${central}'`);
  });
});

describe('IAM propagation', () => {
  it('after creating an account and its grants, waits (with progress) until Google honours them', async () => {
    s.setPropagationDelay(45_000);
    try {
      const fresh = await newAccount('rhacs-fresh');
      await updateMember(session, { kind: 'serviceAccount', email: fresh }, { op: 'add', role: WORKLOAD_IDENTITY_USER, member: MEMBER });
      await changeReader(session, { projectId: PROJECT, repositories: [REPO], member: `serviceAccount:${fresh}`, op: 'add' });
      const progress: string[] = [];
      const r = await waitForPropagation('service account rhacs-fresh and its grants', tokenChainProbe(chain({ subjectToken: clusterToken({}, clusterKey, 'k2'), serviceAccountEmail: fresh })), {
        sleep: async (ms) => {
          clock += ms;
        },
        progress: (p) => progress.push(`${p.waitedMs / 1000}s ${p.why}`),
      });
      expect(r.waitedMs).toBeGreaterThanOrEqual(45_000);
      expect(r.checks).toBe(progress.length + 1);
      // First the account unknown to the token service, and it is the same wait that covers the grants.
      expect(progress[0]).toMatch(/^0s Google does not know rhacs-fresh@/);
    } finally {
      s.setPropagationDelay(0);
    }
  });

  it('a failure that waiting cannot mend stops the wait at once', async () => {
    const m = s.mark();
    let waited = 0;
    const err = await waitForPropagation('binding', tokenChainProbe(chain({ stsAudience: providerAudience({ ...REF, providerId: 'other' }) })), { sleep: async (ms) => void (waited += ms), progress: () => {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: expect.stringMatching(/^binding: the pool or provider does not exist/) });
    expect(waited).toBe(0);
    expect(s.requests(m).map((x) => x.methodId)).toEqual(['sts.token']);
  });
});

describe('bounds, against hostile servers on 127.0.0.1', () => {
  const pki = createTestPki('gcp-verify-hostile');
  afterAll(() => pki.remove());
  let seen: string[];
  const answer = (behaviour: 'hang' | '503' | 'huge'): TestHandler => (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (behaviour === '503') res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'try later' } }));
    else if (behaviour === 'huge') res.writeHead(200, { 'content-type': 'application/json' }).end(`{"access_token":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    // 'hang': headers and half a body, then nothing.
    else res.writeHead(200, { 'content-type': 'application/json' }).write('{"access_token":');
  };
  const http = () => tokenHttp({ trustedCa: `${s.ca}\n${pki.ca('hostile').pem}`, timeoutMs: 1_000 });

  it.each(['hang', 'huge'] as const)('a Google STS that answers with %s: the STS link fails as "no answer", sent once', async (b) => {
    seen = [];
    const r = await withServer(pki.serving('hostile'), answer(b), async ({ url }) => checkTokenChain(chain({ subjectToken: clusterToken({}, clusterKey, 'k2'), http: http(), endpoints: { ...chain().endpoints, sts: url } })));
    expect(r.failed).toBe('sts');
    expect(r.rows[1]).toMatchObject({ result: 'fail', detail: expect.stringMatching(b === 'hang' ? /^no answer from Google STS: https:\/\/127\.0\.0\.1:\d+: no (complete )?answer within 1000 ms$/ : /^no answer from Google STS: .*more than 1048576 bytes$/), fix: expect.stringMatching(/network path to Google STS/) });
    expect(seen).toEqual(['POST /v1/token']);
  });

  it('an IAM Credentials that fails (503) is not read as a missing binding, and the propagation wait does not wait on it', async () => {
    seen = [];
    const input = (url: string) => chain({ subjectToken: clusterToken({}, clusterKey, 'k2'), http: http(), endpoints: { ...chain().endpoints, iamcredentials: url } });
    const r = await withServer(pki.serving('hostile'), answer('503'), async ({ url }) => checkTokenChain(input(url)));
    expect(r.rows[2]).toMatchObject({ result: 'fail', detail: 'IAM Credentials failed (UNAVAILABLE: try later)' });
    let waited = 0;
    const err = await withServer(pki.serving('hostile'), answer('503'), async ({ url }) => waitForPropagation('binding', tokenChainProbe(input(url)), { sleep: async (ms) => void (waited += ms), progress: () => {} }).catch((e: unknown) => e));
    expect(err).toMatchObject({ message: 'binding: IAM Credentials failed (UNAVAILABLE: try later)' });
    expect(waited).toBe(0);
    expect(seen).toHaveLength(2);
  });
});

describe('the external_account credential we write', () => {
  it('google-auth-library, given it, walks the chain to an access token for our service account', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, clusterToken({}, clusterKey, 'k2'));
    const cred = externalAccountCredential({ ...REF, serviceAccountEmail: email });
    // Only the places differ from what Central reads: Google's hosts are the stand-ins here.
    const local = {
      ...cred,
      token_url: s.urls.stsToken,
      service_account_impersonation_url: cred.service_account_impersonation_url.replace('https://iamcredentials.googleapis.com/', s.urls.iamcredentials),
      credential_source: { ...cred.credential_source, file: tokenFile },
    };
    const transporter = new gaxios.Gaxios({ agent: s.agent });
    const client = ExternalAccountClient.fromJSON({ ...local, transporter } as Parameters<typeof ExternalAccountClient.fromJSON>[0]);
    // The library builds its STS client without the transporter it was given: hand it the one trusting the sandbox CA.
    (client as unknown as { stsCredential: { transporter: gaxios.Gaxios } }).stsCredential.transporter = transporter;
    const m = s.mark();
    const { token } = await client!.getAccessToken();
    expect(s.tokenPrincipal(token!)).toBe(`serviceAccount:${email}`);
    expect(s.requests(m).map((x) => `${x.methodId} ${x.status}`)).toEqual(['sts.token 200', 'iamcredentials.projects.serviceAccounts.generateAccessToken 200']);
  });
});
