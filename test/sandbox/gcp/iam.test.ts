// IAM and Resource Manager stand-ins driven by Google's own Node clients: service accounts, IAM
// policies (etag, version 3, conditions, concurrent writers), workload identity pools and providers.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adc, bearer, clients, failure, transporter, type GoogleClients } from './clients.js';
import { signJwt, startGcpStandins, type GcpStandins } from './standins.js';

const PROJECT = 'sandbox-project';
const NUMBER = '123456789012';

let s: GcpStandins;
let g: GoogleClients;
// Starts at the real time: google-auth-library signs its JWTs with the real clock.
let clock = Date.now();

beforeAll(async () => {
  s = await startGcpStandins({ now: () => clock });
  g = clients(s, await adc(s, s.adminCredentials()));
});
afterAll(async () => {
  await s?.close();
});

async function createAccount(accountId: string): Promise<string> {
  const r = await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId, serviceAccount: { displayName: 'RHACS' } } });
  return r.data.email!;
}

describe('service accounts', () => {
  it('creates one, and finds it by email and by unique id; a second create is 409', async () => {
    const email = await createAccount('rhacs-central');
    expect(email).toBe(`rhacs-central@${PROJECT}.iam.gserviceaccount.com`);
    const byEmail = await g.iam.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${email}` });
    const byId = await g.iam.projects.serviceAccounts.get({ name: `projects/${PROJECT}/serviceAccounts/${byEmail.data.uniqueId}` });
    expect(byId.data.email).toBe(email);
    const again = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'rhacs-central' } }));
    expect(again).toMatchObject({ status: 409, error: { status: 'ALREADY_EXISTS' } });
    const list = await g.iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` });
    expect(list.data.accounts?.map((a) => a.email)).toContain(email);
  });

  it.each([
    ['short', 'too short (5)'],
    ['a'.repeat(31), 'too long (31)'],
    ['1rhacs-central', 'starts with a digit'],
    ['rhacs-central-', 'ends with a hyphen'],
    ['rhacs_central', 'has an underscore'],
    ['Rhacs-central', 'has a capital'],
  ])('refuses the account id %j (%s)', async (accountId) => {
    const r = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId } }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('accepts the id limits: 6 and 30 characters', async () => {
    await createAccount('abcdef');
    await createAccount(`a${'b'.repeat(28)}c`);
  });

  it('refuses an unknown field in the body as Google does', async () => {
    const r = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'unknown-field', serviceAccount: { displayName: 'x', labels: { a: 'b' } } as never } }));
    expect(r.status).toBe(400);
    expect(r.error.message).toMatch(/^Invalid JSON payload received\. Unknown name "labels" at 'serviceAccount': Cannot find field\.$/);
  });

  it('refuses a call without a token the stand-ins issued (401)', async () => {
    const r = await failure(clients(s, bearer(s, 'ya29.forged')).iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` }));
    expect(r).toMatchObject({ status: 401, error: { status: 'UNAUTHENTICATED' } });
  });
});

describe('IAM policies', () => {
  const condition = { title: 'business-hours', expression: 'request.time.getHours("Europe/Paris") < 18' };

  it('a concurrent write between get and set: 409 ABORTED, then a read-modify-write keeps the other binding and its condition', async () => {
    const email = await createAccount('policy-race');
    const resource = `projects/${PROJECT}/serviceAccounts/${email}`;
    s.grant({ kind: 'serviceAccount', email }, 'roles/iam.serviceAccountTokenCreator', 'user:alice@sandbox.example');
    const first = await g.iam.projects.serviceAccounts.getIamPolicy({ resource, 'options.requestedPolicyVersion': 3 });
    s.concurrentWrite({ kind: 'serviceAccount', email }, 'roles/iam.serviceAccountUser', 'user:bob@sandbox.example', condition);
    const mine = { role: 'roles/iam.workloadIdentityUser', members: [`serviceAccount:${PROJECT}.svc.id.goog[stackrox/central]`] };
    const stale = await failure(
      g.iam.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: { ...first.data, version: 3, bindings: [...(first.data.bindings ?? []), mine] } } }),
    );
    expect(stale).toMatchObject({ status: 409, error: { status: 'ABORTED', message: expect.stringMatching(/^There were concurrent policy changes/) } });
    // Read again (version 3, so the condition is visible), add ours, write with the fresh etag.
    const again = await g.iam.projects.serviceAccounts.getIamPolicy({ resource, 'options.requestedPolicyVersion': 3 });
    expect(again.data.etag).not.toBe(first.data.etag);
    await g.iam.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: { ...again.data, version: 3, bindings: [...(again.data.bindings ?? []), mine] } } });
    const after = s.policy({ kind: 'serviceAccount', email });
    expect(after.version).toBe(3);
    expect(after.bindings).toEqual(
      expect.arrayContaining([
        { role: 'roles/iam.serviceAccountTokenCreator', members: ['user:alice@sandbox.example'] },
        { role: 'roles/iam.serviceAccountUser', members: ['user:bob@sandbox.example'], condition },
        mine,
      ]),
    );
  });

  it('a stale etag is refused even without anyone else writing in between', async () => {
    const r = await failure(
      g.crm.projects.setIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { policy: { etag: 'BwXhqDiXZ+4=', version: 1, bindings: [{ role: 'roles/owner', members: ['user:admin@sandbox.example'] }] } } }),
    );
    expect(r).toMatchObject({ status: 409, error: { status: 'ABORTED' } });
  });

  it('setIamPolicy without an etag overwrites blindly, as Google does', async () => {
    const email = await createAccount('blind-write');
    s.grant({ kind: 'serviceAccount', email }, 'roles/iam.serviceAccountTokenCreator', 'user:alice@sandbox.example');
    await g.iam.projects.serviceAccounts.setIamPolicy({
      resource: `projects/-/serviceAccounts/${email}`,
      requestBody: { policy: { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: ['user:carol@sandbox.example'] }] } },
    });
    expect(s.policy({ kind: 'serviceAccount', email }).bindings).toEqual([{ role: 'roles/iam.workloadIdentityUser', members: ['user:carol@sandbox.example'] }]);
  });

  it('hides conditions from a version-1 reader, and refuses writing such a role back', async () => {
    const email = await createAccount('conditions-v1');
    s.grant({ kind: 'serviceAccount', email }, 'roles/iam.serviceAccountUser', 'user:bob@sandbox.example', condition);
    const resource = `projects/-/serviceAccounts/${email}`;
    const v1 = await g.iam.projects.serviceAccounts.getIamPolicy({ resource });
    expect(v1.data.version).toBe(1);
    expect(v1.data.bindings?.[0]?.role).toMatch(/^roles\/iam\.serviceAccountUser_withcond_/);
    expect(v1.data.bindings?.[0]?.condition).toBeUndefined();
    // Written back as read, or claiming version 3: either way the hidden condition is not dropped.
    for (const policy of [v1.data, { ...v1.data, version: 3 }]) {
      const back = await failure(g.iam.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy } }));
      expect(back).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    }
    const v3 = await g.iam.projects.serviceAccounts.getIamPolicy({ resource, 'options.requestedPolicyVersion': 3 });
    expect(v3.data).toMatchObject({ version: 3, bindings: [{ role: 'roles/iam.serviceAccountUser', condition }] });
  });

  it('refuses a version-1 write over a policy with conditions, even with the right etag', async () => {
    const email = await createAccount('conditions-keep');
    s.grant({ kind: 'serviceAccount', email }, 'roles/iam.serviceAccountUser', 'user:bob@sandbox.example', condition);
    const resource = `projects/-/serviceAccounts/${email}`;
    const v3 = await g.iam.projects.serviceAccounts.getIamPolicy({ resource, 'options.requestedPolicyVersion': 3 });
    const r = await failure(g.iam.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: { etag: v3.data.etag, version: 1, bindings: [{ role: 'roles/viewer', members: ['user:eve@sandbox.example'] }] } } }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    expect(s.policy({ kind: 'serviceAccount', email }).bindings).toEqual([{ role: 'roles/iam.serviceAccountUser', members: ['user:bob@sandbox.example'], condition }]);
  });

  it('shows a deleted service account\'s grants as deleted:serviceAccount:…?uid=…', async () => {
    const email = await createAccount('to-be-deleted');
    const uid = (await g.iam.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${email}` })).data.uniqueId;
    s.grant({ kind: 'project', projectId: PROJECT }, 'roles/artifactregistry.reader', `serviceAccount:${email}`);
    await g.iam.projects.serviceAccounts.delete({ name: `projects/${PROJECT}/serviceAccounts/${email}` });
    const p = await g.crm.projects.getIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { options: { requestedPolicyVersion: 3 } } });
    const members = p.data.bindings?.find((b) => b.role === 'roles/artifactregistry.reader')?.members;
    expect(members).toContain(`deleted:serviceAccount:${email}?uid=${uid}`);
    expect(members).not.toContain(`serviceAccount:${email}`);
    expect(await failure(g.iam.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${email}` }))).toMatchObject({ status: 404 });
  });

  it('refuses a condition in a policy that is not version 3, and a requested version other than 0, 1, 3', async () => {
    const r = await failure(
      g.crm.projects.setIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { policy: { version: 1, bindings: [{ role: 'roles/viewer', members: ['user:dan@sandbox.example'], condition }] } } }),
    );
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    const v2 = await failure(g.crm.projects.getIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { options: { requestedPolicyVersion: 2 } } }));
    expect(v2).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('answers 403 PERMISSION_DENIED to a caller without the permission', async () => {
    const viewer = 'user:viewer@sandbox.example';
    s.grant({ kind: 'project', projectId: PROJECT }, 'roles/viewer', viewer);
    const v = clients(s, bearer(s, s.issueAccessToken(viewer)));
    await v.crm.projects.getIamPolicy({ resource: `projects/${PROJECT}` });
    const r = await failure(v.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'not-allowed' } }));
    expect(r).toMatchObject({ status: 403, error: { status: 'PERMISSION_DENIED', message: expect.stringContaining("'iam.serviceAccounts.create'") } });
    const m = s.mark();
    await failure(v.crm.projects.setIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { policy: { bindings: [] } } }));
    expect(s.requests(m)).toMatchObject([{ methodId: 'cloudresourcemanager.projects.setIamPolicy', caller: viewer, decision: 'denied', status: 403 }]);
  });

  it('a new grant on the project takes the propagation delay to become effective', async () => {
    const user = 'user:late@sandbox.example';
    const u = clients(s, bearer(s, s.issueAccessToken(user)));
    s.setPropagationDelay(120_000);
    try {
      const policy = await g.crm.projects.getIamPolicy({ resource: `projects/${PROJECT}`, requestBody: { options: { requestedPolicyVersion: 3 } } });
      await g.crm.projects.setIamPolicy({
        resource: `projects/${PROJECT}`,
        requestBody: { policy: { ...policy.data, bindings: [...(policy.data.bindings ?? []), { role: 'roles/iam.serviceAccountAdmin', members: [user] }] } },
      });
      expect(await failure(u.iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` }))).toMatchObject({ status: 403 });
      clock += 120_000;
      await u.iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` });
    } finally {
      s.setPropagationDelay(0);
    }
  });
});

describe('Resource Manager', () => {
  it('finds a project by id and by number, and names it by number', async () => {
    const byId = await g.crm.projects.get({ name: `projects/${PROJECT}` });
    const byNumber = await g.crm.projects.get({ name: `projects/${NUMBER}` });
    expect(byId.data).toMatchObject({ name: `projects/${NUMBER}`, projectId: PROJECT, state: 'ACTIVE' });
    expect(byNumber.data.projectId).toBe(PROJECT);
    expect(await failure(g.crm.projects.get({ name: 'projects/no-such-project' }))).toMatchObject({ status: 403, error: { status: 'PERMISSION_DENIED' } });
  });
});

describe('workload identity pools and providers', () => {
  const parent = `projects/${PROJECT}/locations/global`;
  const issuer = 'https://issuer.sandbox.example/cluster-a';

  async function done(name: string): Promise<Record<string, unknown>> {
    // Long-running operations: poll until done (bounded).
    for (let i = 0; i < 10; i++) {
      const op = name.includes('/providers/')
        ? await g.iam.projects.locations.workloadIdentityPools.providers.operations.get({ name })
        : await g.iam.projects.locations.workloadIdentityPools.operations.get({ name });
      if (op.data.done) return op.data.response as Record<string, unknown>;
    }
    throw new Error(`operation ${name} never finished`);
  }

  it('creates a pool and an OIDC provider as long-running operations, named by project number', async () => {
    const op = await g.iam.projects.locations.workloadIdentityPools.create({ parent, workloadIdentityPoolId: 'rhacs-pool', requestBody: { displayName: 'RHACS' } });
    expect(op.data.done).toBe(false);
    const pool = await done(op.data.name!);
    expect(pool).toMatchObject({ name: `projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-pool`, state: 'ACTIVE' });
    const pop = await g.iam.projects.locations.workloadIdentityPools.providers.create({
      parent: `${parent}/workloadIdentityPools/rhacs-pool`,
      workloadIdentityPoolProviderId: 'cluster-a',
      requestBody: { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: issuer, allowedAudiences: ['openshift'] } },
    });
    expect(await done(pop.data.name!)).toMatchObject({ state: 'ACTIVE', oidc: { issuerUri: issuer, allowedAudiences: ['openshift'] } });
  });

  it.each([
    ['abc', 'too short'],
    ['a'.repeat(33), 'too long'],
    ['Rhacs-pool', 'a capital'],
    ['rhacs_pool', 'an underscore'],
    ['gcp-rhacs', 'the reserved gcp- prefix'],
  ])('refuses the pool id %j (%s)', async (id) => {
    const r = await failure(g.iam.projects.locations.workloadIdentityPools.create({ parent, workloadIdentityPoolId: id, requestBody: {} }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it.each([
    ['without google.subject', { attributeMapping: { 'attribute.sub': 'assertion.sub' }, oidc: { issuerUri: issuer } }],
    ['with 11 audiences', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: issuer, allowedAudiences: Array.from({ length: 11 }, (_, i) => `aud-${i}`) } }],
    ['with an http issuer', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: 'http://issuer.sandbox.example' } }],
    ['with jwksJson that is no key set', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: issuer, jwksJson: '{"kty":"RSA"}' } }],
  ])('refuses a provider %s', async (_, requestBody) => {
    const r = await failure(
      g.iam.projects.locations.workloadIdentityPools.providers.create({ parent: `${parent}/workloadIdentityPools/rhacs-pool`, workloadIdentityPoolProviderId: 'bad-provider', requestBody }),
    );
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('keeps a deleted pool id reserved: create again is 409, undelete brings it back', async () => {
    const name = `${parent}/workloadIdentityPools/reused-pool`;
    await done((await g.iam.projects.locations.workloadIdentityPools.create({ parent, workloadIdentityPoolId: 'reused-pool', requestBody: {} })).data.name!);
    await done((await g.iam.projects.locations.workloadIdentityPools.delete({ name })).data.name!);
    const deleted = await g.iam.projects.locations.workloadIdentityPools.get({ name });
    expect(deleted.data.state).toBe('DELETED');
    expect(Date.parse(deleted.data.expireTime!) - clock).toBe(30 * 24 * 3600 * 1000);
    const listed = await g.iam.projects.locations.workloadIdentityPools.list({ parent });
    expect(listed.data.workloadIdentityPools?.map((p) => p.name)).not.toContain(deleted.data.name);
    const again = await failure(g.iam.projects.locations.workloadIdentityPools.create({ parent, workloadIdentityPoolId: 'reused-pool', requestBody: {} }));
    expect(again).toMatchObject({ status: 409, error: { status: 'ALREADY_EXISTS' } });
    await done((await g.iam.projects.locations.workloadIdentityPools.undelete({ name, requestBody: {} })).data.name!);
    expect((await g.iam.projects.locations.workloadIdentityPools.get({ name })).data.state).toBe('ACTIVE');
  });

  it('checks query parameters against their type', async () => {
    const r = await failure(g.iam.projects.locations.workloadIdentityPools.list({ parent, pageSize: 'ten' as unknown as number }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });
});

describe('application default credentials of a service account key', () => {
  const otherPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('accepts the key\'s self-signed JWT, verified against the key, and refuses one signed by another key (401)', async () => {
    const email = await createAccount('key-holder');
    s.grant({ kind: 'project', projectId: PROJECT }, 'roles/iam.serviceAccountAdmin', `serviceAccount:${email}`);
    const key = s.serviceAccountKey(email);
    expect(key.token_uri).toBe(s.urls.oauth2Token);
    const m = s.mark();
    await clients(s, await adc(s, key)).iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` });
    expect(s.requests(m)).toMatchObject([{ methodId: 'iam.projects.serviceAccounts.list', caller: `serviceAccount:${email}`, decision: 'allowed' }]);
    const forged = await failure(clients(s, await adc(s, { ...key, private_key: otherPem })).iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` }));
    expect(forged).toMatchObject({ status: 401, error: { status: 'UNAUTHENTICATED' } });
  });

  it('the token endpoint (token_uri) takes a JWT bearer assertion signed by the key', async () => {
    const email = await createAccount('token-user');
    const key = s.serviceAccountKey(email);
    const t = Math.floor(clock / 1000);
    const claims = { iss: email, scope: 'https://www.googleapis.com/auth/cloud-platform', aud: key.token_uri, iat: t, exp: t + 3600 };
    const post = (assertion: string) =>
      transporter(s).request<{ access_token?: string; error?: string }>({
        url: key.token_uri!,
        method: 'POST',
        data: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        validateStatus: () => true,
      });
    const ok = await post(signJwt(key.private_key!, key.private_key_id!, claims));
    expect(s.tokenPrincipal(ok.data.access_token!)).toBe(`serviceAccount:${email}`);
    expect((await post(signJwt(otherPem, key.private_key_id!, claims))).data.error).toBe('invalid_grant');
    expect((await post(signJwt(key.private_key!, key.private_key_id!, { ...claims, exp: t + 7200 }))).data.error).toBe('invalid_grant');
  });
});
