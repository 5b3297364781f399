// src/clouds/gcp/ against the Google Cloud stand-ins (test/sandbox/gcp/: every request and answer
// checked against Google's discovery documents): credentials, project and GKE facts, IAM policy
// read-modify-write, service accounts; and against hostile servers on 127.0.0.1 for the bounds.
// The stand-ins need no Kubernetes; this file sits with the integration tests because it drives
// src/ against sandbox peers (test/sandbox imports nothing from src/).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleApiError } from '../../src/clouds/gcp/errors.js';
import { gkeProblems, readGkeCluster } from '../../src/clouds/gcp/gke.js';
import { updateMember, type IamResource } from '../../src/clouds/gcp/iam-policy.js';
import { readProject } from '../../src/clouds/gcp/project.js';
import { accountEmail, convergeServiceAccount, readServiceAccount } from '../../src/clouds/gcp/service-account.js';
import { openGcpSession, type GcpSession, type GcpSessionInput } from '../../src/clouds/gcp/session.js';
import { InputError, OperationError } from '../../src/errors.js';
import { startGcpStandins, type GcpStandins } from '../sandbox/gcp/standins.js';
import { createTestPki, withServer, type TestHandler } from '../sandbox/tls-servers.js';

const PROJECT = 'sandbox-project';
const NUMBER = '123456789012';
const LOCATION = 'europe-west1';
const WI_USER = 'roles/iam.workloadIdentityUser';
const CENTRAL = `serviceAccount:${PROJECT}.svc.id.goog[stackrox/central]`;
const condition = { title: 'business-hours', expression: 'request.time.getHours("Europe/Paris") < 18' };

let s: GcpStandins;
let dir: string;
let adminFile: string;
let session: GcpSession;
const sleeps: number[] = [];

function input(over: Partial<GcpSessionInput> = {}): GcpSessionInput {
  return {
    environment: { applicationCredentials: adminFile },
    endpoints: {
      iam: s.urls.iam,
      cloudresourcemanager: s.urls.cloudresourcemanager,
      container: s.urls.container,
      artifactregistry: s.urls.artifactregistry,
      oauth2Token: s.urls.oauth2Token,
    },
    trustedCa: s.ca,
    timeoutMs: 10_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    log: () => {},
    ...over,
  };
}

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

beforeAll(async () => {
  s = await startGcpStandins();
  dir = mkdtempSync(join(tmpdir(), 'gcp-core-'));
  adminFile = writeJson('adc.json', s.adminCredentials());
  session = await openGcpSession(input());
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('credentials', () => {
  it('a GOOGLE_APPLICATION_CREDENTIALS file that does not exist: InputError naming it, with the fix', async () => {
    const err = await openGcpSession(input({ environment: { applicationCredentials: join(dir, 'missing.json') } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: 'GOOGLE_APPLICATION_CREDENTIALS', message: expect.stringMatching(/cannot read the credentials file .*missing\.json/) }]);
    expect((err as InputError).hint).toMatch(/gcloud auth application-default login.*GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it('a file that is not Google credentials: InputError', async () => {
    const err = await openGcpSession(input({ environment: { applicationCredentials: writeJson('kube.json', { apiVersion: 'v1', kind: 'Config' }) } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems[0]!.message).toMatch(/is not a Google credentials file/);
  });

  it('a revoked or expired refresh token (gcloud\'s login file): InputError with the fix, and no API call made', async () => {
    const m = s.mark();
    const revoked = { ...s.adminCredentials(), refresh_token: 'revoked-refresh-token' };
    // gcloud's well-known file, found through CLOUDSDK_CONFIG.
    const config = join(dir, 'gcloud');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'application_default_credentials.json'), JSON.stringify(revoked));
    const err = await openGcpSession(input({ environment: { cloudsdkConfig: config, home: join(dir, 'home') } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: 'Google application default credentials', message: expect.stringMatching(/expired or revoked/) }]);
    expect((err as InputError).hint).toMatch(/gcloud auth application-default login/);
    expect(s.requests(m).map((r) => `${r.methodId} ${r.status}`)).toEqual(['oauth2.token 400']);
  });

  it('TLS is verified: the stand-ins\' certificate is refused unless its CA is trusted', async () => {
    const m = s.mark();
    const { trustedCa: _, ...untrusted } = input();
    const err = await openGcpSession(untrusted).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect(err).not.toBeInstanceOf(InputError);
    expect(String((err as Error & { cause?: Error }).cause?.message ?? '') + (err as Error).message).toMatch(/certificate|self[- ]signed|issuer/i);
    expect(s.requests(m)).toEqual([]);
  });
});

describe('project', () => {
  it('by id or by number: both names, from Resource Manager', async () => {
    expect(await readProject(session, PROJECT)).toEqual({ projectId: PROJECT, projectNumber: NUMBER });
    expect(await readProject(session, NUMBER)).toEqual({ projectId: PROJECT, projectNumber: NUMBER });
  });

  it('an unknown project is bad input naming the flag', async () => {
    const err = await readProject(session, 'no-such-project').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems[0]).toEqual({ source: '--gcp-project', message: expect.stringMatching(/no-such-project does not exist, or these credentials may not read it/) });
  });
});

describe('GKE cluster', () => {
  it('workload identity off: the typed problem with the cluster update fix', async () => {
    s.seedCluster({ projectId: PROJECT, location: LOCATION, name: 'wi-off', workloadIdentity: false, nodePools: [{ name: 'default-pool' }] });
    const facts = await readGkeCluster(session, { projectId: PROJECT, location: LOCATION, name: 'wi-off' });
    expect(facts.workloadPool).toBeUndefined();
    expect(gkeProblems(facts)).toEqual([expect.objectContaining({ kind: 'workload-identity-off', fix: `gcloud container clusters update wi-off --location=${LOCATION} --project=${PROJECT} --workload-pool=${PROJECT}.svc.id.goog` })]);
  });

  it('a node pool on GCE_METADATA: the typed problem naming the pool; the GKE_METADATA pool passes', async () => {
    s.seedCluster({ projectId: PROJECT, location: LOCATION, name: 'mixed', workloadIdentity: true, nodePools: [{ name: 'good', metadataMode: 'GKE_METADATA' }, { name: 'legacy', metadataMode: 'GCE_METADATA' }] });
    const facts = await readGkeCluster(session, { projectId: PROJECT, location: LOCATION, name: 'mixed' });
    expect(facts.workloadPool).toBe(`${PROJECT}.svc.id.goog`);
    expect(gkeProblems(facts)).toEqual([expect.objectContaining({ kind: 'node-pool-metadata', nodePool: 'legacy', mode: 'GCE_METADATA', fix: expect.stringMatching(/node-pools update legacy --cluster=mixed .*--workload-metadata=GKE_METADATA$/) })]);
    expect(gkeProblems(facts, ['good'])).toEqual([]);
  });
});

describe('service account', () => {
  it('is created with the ownership marker, then found as ours without a second create', async () => {
    const m = s.mark();
    const first = await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-prod', clusters: ['prod'] });
    expect(first).toMatchObject({ status: 'created', account: { email: accountEmail('rhacs-prod', PROJECT), managed: true, clusters: ['prod'] } });
    const again = await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-prod', clusters: ['prod'] });
    expect(again).toMatchObject({ status: 'managed', account: { managed: true, clusters: ['prod'] } });
    expect(s.requests(m).filter((r) => r.methodId === 'iam.projects.serviceAccounts.create')).toHaveLength(1);
  });

  it('one made by someone else is foreign and left as it is', async () => {
    await session.call({ api: 'iam', name: 'iam.projects.serviceAccounts.create', method: 'POST', path: `v1/projects/${PROJECT}/serviceAccounts`, body: { accountId: 'someone-else', serviceAccount: { description: 'CI' } }, safe: false });
    const m = s.mark();
    const r = await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'someone-else', clusters: ['prod'] });
    expect(r).toMatchObject({ status: 'foreign', account: { managed: false, description: 'CI' } });
    expect(s.requests(m).map((x) => x.methodId)).toEqual(['iam.projects.serviceAccounts.get']);
  });

  it('reads a missing account as absent', async () => {
    expect(await readServiceAccount(session, accountEmail('not-there', PROJECT))).toBeUndefined();
  });
});

describe('IAM policy read-modify-write', () => {
  let email: string;
  beforeAll(async () => {
    email = (await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-policies', clusters: ['prod'] })).account.email;
    await s.seedRepository({ projectId: PROJECT, location: LOCATION, repository: 'images' });
  });
  const resources = (): [string, IamResource, Parameters<GcpStandins['policy']>[0]][] => [
    ['a service account', { kind: 'serviceAccount', email }, { kind: 'serviceAccount', email }],
    ['the project', { kind: 'project', projectId: PROJECT }, { kind: 'project', projectId: PROJECT }],
    ['a repository', { kind: 'repository', projectId: PROJECT, location: LOCATION, repository: 'images' }, { kind: 'repository', projectId: PROJECT, location: LOCATION, repository: 'images' }],
  ];

  it.each([0, 1, 2])('a concurrent setIamPolicy keeps the other writer\'s conditional binding (resource %i)', async (i) => {
    const [, resource, standin] = resources()[i]!;
    s.grant(standin, 'roles/viewer', 'user:alice@sandbox.example');
    s.concurrentWrite(standin, 'roles/browser', 'user:bob@sandbox.example', condition);
    const m = s.mark();
    const r = await updateMember(session, resource, { op: 'add', role: WI_USER, member: CENTRAL });
    expect(r).toEqual({ changed: true, attempts: 2 });
    // The first write met the other writer (409 ABORTED); the second, on a fresh read, went through.
    expect(s.requests(m).filter((x) => x.methodId.endsWith('setIamPolicy')).map((x) => x.status)).toEqual([409, 200]);
    expect(s.policy(standin).bindings).toEqual(expect.arrayContaining([
      { role: 'roles/viewer', members: expect.arrayContaining(['user:alice@sandbox.example']) },
      { role: 'roles/browser', members: ['user:bob@sandbox.example'], condition },
      { role: WI_USER, members: [CENTRAL] },
    ]));
  });

  it('a conditional binding of the same role and member survives an add and a remove', async () => {
    const acct = (await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-conditions', clusters: ['prod'] })).account.email;
    const standin = { kind: 'serviceAccount' as const, email: acct };
    s.grant(standin, WI_USER, CENTRAL, condition);
    expect((await updateMember(session, standin, { op: 'add', role: WI_USER, member: CENTRAL })).changed).toBe(true);
    expect(s.policy(standin).bindings).toEqual(expect.arrayContaining([{ role: WI_USER, members: [CENTRAL], condition }, { role: WI_USER, members: [CENTRAL] }]));
    expect((await updateMember(session, standin, { op: 'remove', role: WI_USER, member: CENTRAL })).changed).toBe(true);
    expect(s.policy(standin).bindings).toEqual([{ role: WI_USER, members: [CENTRAL], condition }]);
    expect((await updateMember(session, standin, { op: 'remove', role: WI_USER, member: CENTRAL })).changed).toBe(false);
  });
});

describe('bounds, against hostile servers on 127.0.0.1', () => {
  const pki = createTestPki('gcp-core-hostile');
  afterAll(() => pki.remove());
  let seen: string[];
  const answer = (behaviour: 'hang' | '503'): TestHandler => (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (behaviour === '503') res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'try later' } }));
    // 'hang': headers and half a body, then nothing.
    else res.writeHead(200, { 'content-type': 'application/json' }).write('{"name":');
  };
  /** A session whose GKE and IAM roots are the hostile server (HTTPS, its CA trusted besides the stand-ins'). */
  function hostile(url: string): Promise<GcpSession> {
    const base = input();
    return openGcpSession({ ...base, trustedCa: `${s.ca}\n${pki.ca('hostile').pem}`, timeoutMs: 1_000, attempts: 3, endpoints: { ...base.endpoints, container: url, iam: url } });
  }

  it.each(['hang', '503'] as const)('a read that meets %s is retried a bounded number of times, then fails naming the call', async (b) => {
    seen = [];
    const err = await withServer(pki.serving('hostile'), answer(b), async ({ url }) => readGkeCluster(await hostile(url), { projectId: PROJECT, location: LOCATION, name: 'x' }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(GoogleApiError);
    expect((err as GoogleApiError).message).toMatch(b === 'hang' ? /^container\.projects\.locations\.clusters\.get: no complete answer from https:\/\/127\.0\.0\.1:\d+ within 1000 ms$/ : /^container\.projects\.locations\.clusters\.get: try later$/);
    expect(seen).toHaveLength(3);
  });

  it.each(['hang', '503'] as const)('a write that meets %s is sent once', async (b) => {
    seen = [];
    const err = await withServer(pki.serving('hostile'), answer(b), async ({ url }) =>
      (await hostile(url)).call({ api: 'iam', name: 'iam.projects.serviceAccounts.create', method: 'POST', path: `v1/projects/${PROJECT}/serviceAccounts`, body: { accountId: 'never-made' }, safe: false }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(GoogleApiError);
    expect(seen).toEqual([`POST /v1/projects/${PROJECT}/serviceAccounts`]);
  });
});
