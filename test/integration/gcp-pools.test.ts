// Google Cloud's workload identity pools and providers, the Artifact Registry reader grant and undo,
// against the Google stand-ins (every request and answer checked against Google's discovery
// documents): long-running operations, the 30-day reservation, ownership, stale keys, and policies
// that keep other writers' bindings and conditions.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openshiftMember, toProjectNumber } from '../../src/clouds/gcp/external-account.js';
import { updateMember } from '../../src/clouds/gcp/iam-policy.js';
import { convergePool, convergeProvider, jwksJsonOf, readProvider } from '../../src/clouds/gcp/pools.js';
import { changeReader, READER_ROLE } from '../../src/clouds/gcp/registry-grant.js';
import { convergeServiceAccount } from '../../src/clouds/gcp/service-account.js';
import { openGcpSession, type GcpSession } from '../../src/clouds/gcp/session.js';
import { undoGoogle, WORKLOAD_IDENTITY_USER } from '../../src/clouds/gcp/undo.js';
import { InputError } from '../../src/errors.js';
import type { Jwk } from '../../src/kube/session.js';
import { startGcpStandins, type GcpStandins } from '../sandbox/gcp/standins.js';

const PROJECT = 'sandbox-project';
const NUMBER = toProjectNumber('123456789012');
const ISSUER = 'https://issuer.sandbox.example/cluster-a';
const condition = { title: 'business-hours', expression: 'request.time.getHours("Europe/Paris") < 18' };

let s: GcpStandins;
let dir: string;
let session: GcpSession;

function jwk(kid: string): Jwk {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'RS256' };
}

/** The session, with the first two calls of each named method held until both have answered. */
function raceOn(methods: string[]): GcpSession {
  const gates = new Map(methods.map((name) => {
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    return [name, { arrived: 0, open, release }];
  }));
  return {
    ...session,
    call: async <T>(c: Parameters<GcpSession['call']>[0]): Promise<T> => {
      const gate = gates.get(c.name);
      const held = gate && gate.arrived < 2;
      try {
        return await session.call<T>(c);
      } finally {
        if (held) {
          gate.arrived += 1;
          if (gate.arrived === 2) gate.release();
          await gate.open;
        }
      }
    },
  };
}

beforeAll(async () => {
  s = await startGcpStandins();
  dir = mkdtempSync(join(tmpdir(), 'gcp-pools-'));
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
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('workload identity pool', () => {
  it('is created as a long-running operation, awaited, with our marker; a second run writes nothing', async () => {
    const m = s.mark();
    const first = await convergePool(session, { ref: { projectNumber: NUMBER, poolId: 'rhacs-a' }, clusters: ['prod'] });
    expect(first).toMatchObject({ status: 'created', pool: { name: `projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-a`, state: 'ACTIVE', managed: true, clusters: ['prod'] } });
    expect(s.requests(m).map((r) => `${r.methodId} ${r.status}`)).toEqual([
      'iam.projects.locations.workloadIdentityPools.get 404',
      'iam.projects.locations.workloadIdentityPools.create 200',
      'iam.projects.locations.workloadIdentityPools.operations.get 200',
      'iam.projects.locations.workloadIdentityPools.get 200',
    ]);
    const m2 = s.mark();
    expect(await convergePool(session, { ref: { projectNumber: NUMBER, poolId: 'rhacs-a' }, clusters: ['prod'] })).toMatchObject({ status: 'managed' });
    expect(s.requests(m2).map((r) => r.methodId)).toEqual(['iam.projects.locations.workloadIdentityPools.get']);
  });

  it('two runs creating the same pool and provider at once: one creates, the other meets ALREADY_EXISTS and finds it ours', async () => {
    const ref = { projectNumber: NUMBER, poolId: 'rhacs-race' };
    const m = s.mark();
    // Both runs read (and find nothing) before either creates: the first two reads wait for each other.
    const racing = raceOn(['iam.projects.locations.workloadIdentityPools.get', 'iam.projects.locations.workloadIdentityPools.providers.get']);
    const pools = await Promise.all([convergePool(racing, { ref, clusters: ['a'] }), convergePool(racing, { ref, clusters: ['a'] })]);
    expect(pools.map((p) => p.status).sort()).toEqual(['created', 'managed']);
    expect(s.requests(m).filter((r) => r.methodId.endsWith('workloadIdentityPools.create')).map((r) => r.status).sort()).toEqual([200, 409]);
    const keys = [jwk('kr')];
    const providers = await Promise.all([0, 1].map(() => convergeProvider(racing, { ref: { ...ref, providerId: 'cluster-r' }, issuer: ISSUER, keys, cluster: 'r' })));
    expect(providers.map((p) => p.status).sort()).toEqual(['created', 'unchanged']);
    expect(s.requests(m).filter((r) => r.methodId.endsWith('providers.create')).map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('someone else\'s pool is reported foreign and not written to', async () => {
    await session.call({ api: 'iam', name: 'iam.projects.locations.workloadIdentityPools.create', method: 'POST', path: `v1/projects/${NUMBER}/locations/global/workloadIdentityPools`, query: { workloadIdentityPoolId: 'their-pool' }, body: { description: 'CI federation' }, safe: false });
    const m = s.mark();
    expect(await convergePool(session, { ref: { projectNumber: NUMBER, poolId: 'their-pool' }, clusters: ['prod'] })).toMatchObject({ status: 'foreign', pool: { managed: false, description: 'CI federation' } });
    expect(s.requests(m).map((r) => r.methodId)).toEqual(['iam.projects.locations.workloadIdentityPools.get']);
  });

  it('someone else\'s deleted pool (its id reserved): InputError naming the flag, nothing written', async () => {
    await session.call({ api: 'iam', name: 'iam.projects.locations.workloadIdentityPools.create', method: 'POST', path: `v1/projects/${NUMBER}/locations/global/workloadIdentityPools`, query: { workloadIdentityPoolId: 'gone-pool' }, body: {}, safe: false });
    await session.call({ api: 'iam', name: 'iam.projects.locations.workloadIdentityPools.delete', method: 'DELETE', path: `v1/projects/${NUMBER}/locations/global/workloadIdentityPools/gone-pool`, safe: false });
    const m = s.mark();
    const err = await convergePool(session, { ref: { projectNumber: NUMBER, poolId: 'gone-pool' }, clusters: ['prod'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: '--workload-identity-pool', message: expect.stringMatching(/deleted by someone else, and Google keeps its id reserved until \d{4}-/) }]);
    expect(s.requests(m).map((r) => r.methodId)).toEqual(['iam.projects.locations.workloadIdentityPools.get']);
  });
});

describe('OIDC provider', () => {
  const ref = { projectNumber: NUMBER, poolId: 'rhacs-a', providerId: 'cluster-a' };
  const k1 = jwk('k1');
  const k2 = jwk('k2');

  it('is created with the issuer as published, audience openshift, google.subject=assertion.sub and the keys inline', async () => {
    const r = await convergeProvider(session, { ref, issuer: `${ISSUER}/`, keys: [k1], cluster: 'cluster-a' });
    expect(r).toMatchObject({ status: 'created', provider: { issuerUri: `${ISSUER}/`, allowedAudiences: ['openshift'], subjectMapping: 'assertion.sub', jwksJson: jwksJsonOf([k1]), managed: true } });
    const again = await convergeProvider(session, { ref, issuer: `${ISSUER}/`, keys: [k1], cluster: 'cluster-a' });
    expect(again).toMatchObject({ status: 'unchanged', changes: [] });
  });

  it('after a key rotation the stale keys are re-synced (a patch of jwksJson only)', async () => {
    const m = s.mark();
    const r = await convergeProvider(session, { ref, issuer: `${ISSUER}/`, keys: [k2], cluster: 'cluster-a' });
    expect(r).toMatchObject({ status: 'updated', changes: [{ field: 'oidc.jwksJson', why: expect.stringMatching(/stale .*missing k2; no longer published k1/) }] });
    const patch = s.requests(m).filter((x) => x.methodId.endsWith('providers.patch'));
    expect(patch).toHaveLength(1);
    expect(patch[0]!.status).toBe(200);
    expect((await readProvider(session, ref))!.jwksJson).toBe(jwksJsonOf([k2]));
  });

  it('someone else\'s provider is reported with its drift and never patched', async () => {
    const theirs = { ...ref, providerId: 'their-provider' };
    await session.call({
      api: 'iam', name: 'iam.projects.locations.workloadIdentityPools.providers.create', method: 'POST', path: `v1/projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-a/providers`,
      query: { workloadIdentityPoolProviderId: 'their-provider' }, body: { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: 'https://other.example', jwksJson: jwksJsonOf([k1]) } }, safe: false,
    });
    const m = s.mark();
    const r = await convergeProvider(session, { ref: theirs, issuer: ISSUER, keys: [k2], cluster: 'cluster-a' });
    expect(r.status).toBe('foreign');
    expect(r.changes.map((c) => c.field)).toEqual(['oidc.issuerUri', 'oidc.allowedAudiences', 'oidc.jwksJson']);
    expect(s.requests(m).map((x) => x.methodId)).toEqual(['iam.projects.locations.workloadIdentityPools.providers.get']);
  });
});

describe('Artifact Registry reader grant', () => {
  let email: string;
  beforeAll(async () => {
    email = (await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-reader', clusters: ['prod'] })).account.email;
    await s.seedRepository({ projectId: PROJECT, location: 'us-central1', repository: 'rhacs' });
    await s.seedRepository({ projectId: PROJECT, location: 'europe', repository: 'mirror' });
  });

  it('on the repositories named, keeping a concurrent writer\'s conditional binding; not on the project', async () => {
    const repo = { kind: 'repository' as const, projectId: PROJECT, location: 'us-central1', repository: 'rhacs' };
    s.concurrentWrite(repo, 'roles/artifactregistry.reader', 'user:bob@sandbox.example', condition);
    const r = await changeReader(session, { projectId: PROJECT, repositories: [{ location: 'us-central1', repository: 'rhacs' }, { location: 'europe', repository: 'mirror' }], member: `serviceAccount:${email}`, op: 'add' });
    expect(r.map((x) => x.changed)).toEqual([true, true]);
    expect(s.policy(repo).bindings).toEqual(expect.arrayContaining([{ role: READER_ROLE, members: [`serviceAccount:${email}`] }, { role: READER_ROLE, members: ['user:bob@sandbox.example'], condition }]));
    expect(s.policy({ kind: 'project', projectId: PROJECT }).bindings?.some((b) => b.role === READER_ROLE)).toBe(false);
  });

  it('a repository that does not exist: InputError naming --gar-repository, and no policy written', async () => {
    const m = s.mark();
    const err = await changeReader(session, { projectId: PROJECT, repositories: [{ location: 'us-central1', repository: 'rhacs' }, { location: 'asia', repository: 'nope' }], member: `serviceAccount:${email}`, op: 'add' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: '--gar-repository', message: `repository asia/nope in project ${PROJECT} does not exist` }]);
    expect(s.requests(m).filter((x) => x.methodId.endsWith('IamPolicy'))).toEqual([]);
  });

  it('no repository named: on the project', async () => {
    const r = await changeReader(session, { projectId: PROJECT, repositories: [], member: `serviceAccount:${email}`, op: 'add' });
    expect(r).toEqual([{ resource: { kind: 'project', projectId: PROJECT }, changed: true }]);
    expect(s.policy({ kind: 'project', projectId: PROJECT }).bindings).toEqual(expect.arrayContaining([{ role: READER_ROLE, members: [`serviceAccount:${email}`] }]));
  });
});

describe('undo', () => {
  it('takes back only our members, account, provider and pool; keeps others\' bindings and conditions; init again undeletes', async () => {
    const pool = { projectNumber: NUMBER, poolId: 'rhacs-undo' };
    const providerRef = { ...pool, providerId: 'cluster-u' };
    const keys = [jwk('ku')];
    await convergePool(session, { ref: pool, clusters: ['u'] });
    await convergeProvider(session, { ref: providerRef, issuer: ISSUER, keys, cluster: 'u' });
    const email = (await convergeServiceAccount(session, { projectId: PROJECT, accountId: 'rhacs-undo', clusters: ['u'] })).account.email;
    const ours = openshiftMember(pool, 'stackrox', 'central');
    const sa = { kind: 'serviceAccount' as const, email };
    const repo = { kind: 'repository' as const, projectId: PROJECT, location: 'us-central1', repository: 'undo-images' };
    await s.seedRepository({ projectId: PROJECT, location: 'us-central1', repository: 'undo-images' });
    await updateMember(session, sa, { op: 'add', role: WORKLOAD_IDENTITY_USER, member: ours });
    await changeReader(session, { projectId: PROJECT, repositories: [{ location: 'us-central1', repository: 'undo-images' }], member: `serviceAccount:${email}`, op: 'add' });
    // Other people's grants, beside ours: the same role for another member, ours under a condition, another role.
    s.grant(repo, READER_ROLE, 'user:alice@sandbox.example');
    s.grant(repo, READER_ROLE, `serviceAccount:${email}`, condition);
    s.grant({ kind: 'project', projectId: PROJECT }, 'roles/viewer', `serviceAccount:${email}`);

    const steps = await undoGoogle(session, { projectId: PROJECT, serviceAccountEmail: email, members: [ours], repositories: [{ location: 'us-central1', repository: 'undo-images' }], workloadIdentity: providerRef });
    expect(steps.map((x) => x.outcome)).toEqual(['removed', 'removed', 'removed', 'removed', 'removed']);
    expect(s.policy(repo).bindings).toEqual(expect.arrayContaining([{ role: READER_ROLE, members: ['user:alice@sandbox.example'] }]));
    // Ours under a condition is someone's grant, not ours: kept (Google shows it as deleted:… once the account is gone).
    expect(s.policy(repo).bindings?.find((b) => b.condition)).toMatchObject({ role: READER_ROLE, condition, members: [expect.stringMatching(new RegExp(`^deleted:serviceAccount:${email}\\?uid=`))] });

    // A second uninstall finds nothing left to take back.
    const again = await undoGoogle(session, { projectId: PROJECT, serviceAccountEmail: email, members: [ours], repositories: [{ location: 'us-central1', repository: 'undo-images' }], workloadIdentity: providerRef });
    expect(again.map((x) => x.outcome)).toEqual(['absent', 'absent', 'absent', 'absent', 'absent']);

    // Init again: the ids are reserved for 30 days, so ours are undeleted, and said so.
    const back = await convergePool(session, { ref: pool, clusters: ['u'] });
    expect(back).toMatchObject({ status: 'undeleted', pool: { state: 'ACTIVE' }, note: expect.stringMatching(/was deleted \(its id reserved until .*\); rhacs-sts undeleted it rather than create a new one/) });
    const p = await convergeProvider(session, { ref: providerRef, issuer: ISSUER, keys, cluster: 'u' });
    expect(p).toMatchObject({ status: 'undeleted', provider: { state: 'ACTIVE' }, changes: [] });
  });

  it('keeps a foreign account, its grants, and a pool that still serves another provider', async () => {
    await session.call({ api: 'iam', name: 'iam.projects.serviceAccounts.create', method: 'POST', path: `v1/projects/${PROJECT}/serviceAccounts`, body: { accountId: 'adopted-one', serviceAccount: { description: 'platform team' } }, safe: false });
    const email = `adopted-one@${PROJECT}.iam.gserviceaccount.com`;
    const pool = { projectNumber: NUMBER, poolId: 'rhacs-shared' };
    await convergePool(session, { ref: pool, clusters: ['a', 'b'] });
    const keys = [jwk('ks')];
    await convergeProvider(session, { ref: { ...pool, providerId: 'cluster-1' }, issuer: ISSUER, keys, cluster: 'a' });
    await convergeProvider(session, { ref: { ...pool, providerId: 'cluster-2' }, issuer: ISSUER, keys, cluster: 'b' });
    const member = openshiftMember(pool, 'stackrox', 'central');
    await updateMember(session, { kind: 'serviceAccount', email }, { op: 'add', role: WORKLOAD_IDENTITY_USER, member });
    s.grant({ kind: 'project', projectId: PROJECT }, READER_ROLE, `serviceAccount:${email}`);
    const m = s.mark();
    const steps = await undoGoogle(session, { projectId: PROJECT, serviceAccountEmail: email, members: [member], repositories: [], workloadIdentity: { ...pool, providerId: 'cluster-1' } });
    expect(steps.map((x) => `${x.outcome} ${x.what}`)).toEqual([
      `kept roles/artifactregistry.reader on project ${PROJECT}`,
      `removed ${WORKLOAD_IDENTITY_USER} for ${member} on service account ${email}`,
      `kept service account ${email}`,
      `removed workload identity provider projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-shared/providers/cluster-1`,
      `kept workload identity pool projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-shared`,
    ]);
    expect(steps[4]!.detail).toBe('it still serves provider(s) cluster-2');
    expect(s.requests(m).map((x) => x.methodId)).not.toContain('iam.projects.serviceAccounts.delete');
    expect(s.policy({ kind: 'project', projectId: PROJECT }).bindings).toEqual(expect.arrayContaining([{ role: READER_ROLE, members: expect.arrayContaining([`serviceAccount:${email}`]) }]));
  });
});
