// The chain a workload walks on Google Cloud, against the stand-ins with Google's own clients:
// Google STS (the cluster's token for a federated token), IAM Credentials generateAccessToken (the
// workloadIdentityUser binding), Artifact Registry (the reader role, then a Docker registry read).
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adc, bearer, clients, failure, transporter, type GoogleClients } from './clients.js';
import { signJwt, startGcpStandins, type GcpStandins } from './standins.js';

const PROJECT = 'sandbox-project';
const NUMBER = '123456789012';
const ISSUER = 'https://issuer.sandbox.example/cluster-a';
const UNSERVED_ISSUER = 'https://private.sandbox.example/cluster-b';
const SUBJECT = 'system:serviceaccount:stackrox:central';
const POOL = 'rhacs-pool';
const AUDIENCE = `//iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/${POOL}/providers/cluster-a`;
const REPO = { projectId: PROJECT, location: 'us-central1', repository: 'rhacs', images: ['stackrox/main:4.7.0'] };
const REPO_NAME = `projects/${PROJECT}/locations/us-central1/repositories/rhacs`;

let s: GcpStandins;
let g: GoogleClients;
let clock = Date.parse('2026-12-07T12:00:00Z');
let issuerKey: KeyObject;
let otherKey: KeyObject;
let jwks: string;
let gsa: string;
let dir: string;

const t = (): number => Math.floor(clock / 1000);
function publicJwk(key: KeyObject): JsonWebKey {
  return createPublicKey(key).export({ format: 'jwk' });
}
function clusterToken(claims: Record<string, unknown> = {}, key: KeyObject = issuerKey): string {
  const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return signJwt(pem, 'key-1', { iss: ISSUER, sub: SUBJECT, aud: ['openshift'], iat: t() - 10, exp: t() + 3600, ...claims });
}
function exchange(subjectToken: string, audience = AUDIENCE) {
  return g.sts.v1.token({
    requestBody: {
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      subjectToken,
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    },
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
async function createProvider(id: string, requestBody: Record<string, unknown>): Promise<void> {
  const op = await g.iam.projects.locations.workloadIdentityPools.providers.create({
    parent: `projects/${PROJECT}/locations/global/workloadIdentityPools/${POOL}`,
    workloadIdentityPoolProviderId: id,
    requestBody,
  });
  await done(op.data.name!);
}
/** A Docker registry read (`GET /v2/<project>/<repo>/<image>/manifests/<tag>`) with an access token. */
async function registryRead(token: string): Promise<number> {
  const r = await transporter(s).request({
    url: `${s.urls.docker('us-central1')}/v2/${PROJECT}/rhacs/stackrox/main/manifests/4.7.0`,
    headers: { authorization: `Basic ${Buffer.from(`oauth2accesstoken:${token}`).toString('base64')}` },
    validateStatus: () => true,
  });
  return r.status;
}

beforeAll(async () => {
  issuerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  jwks = JSON.stringify({ keys: [{ ...publicJwk(issuerKey), kid: 'key-1', alg: 'RS256', use: 'sig' }] });
  const web = new Map([
    [`${ISSUER}/.well-known/openid-configuration`, JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys` })],
    [`${ISSUER}/keys`, jwks],
  ]);
  s = await startGcpStandins({
    now: () => clock,
    fetchPublic: async (url) => (web.has(url) ? { status: 200, body: web.get(url)! } : { status: 404, body: 'not found' }),
  });
  g = clients(s, await adc(s, s.adminCredentials()));
  await s.seedRepository(REPO);
  gsa = (await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'rhacs-central' } })).data.email!;
  await done((await g.iam.projects.locations.workloadIdentityPools.create({ parent: `projects/${PROJECT}/locations/global`, workloadIdentityPoolId: POOL, requestBody: {} })).data.name!);
  await createProvider('cluster-a', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: ISSUER, allowedAudiences: ['openshift'] } });
  dir = mkdtempSync(join(tmpdir(), 'gcp-chain-'));
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Google STS', () => {
  it('exchanges a valid cluster token for a federated token of the mapped principal', async () => {
    const r = await exchange(clusterToken());
    expect(r.data).toMatchObject({ token_type: 'Bearer', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    expect(s.tokenPrincipal(r.data.access_token!)).toBe(`principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/${POOL}/subject/${SUBJECT}`);
  });

  it('refuses a token whose audience is not among the allowed audiences', async () => {
    const r = await failure(exchange(clusterToken({ aud: 'sts.amazonaws.com' })));
    expect(r).toMatchObject({ status: 400, error: { error: 'invalid_grant', error_description: expect.stringContaining('audience') } });
  });

  it('refuses an audience parameter naming the project by id instead of number', async () => {
    const r = await failure(exchange(clusterToken(), AUDIENCE.replace(NUMBER, PROJECT)));
    expect(r).toMatchObject({ status: 400, error: { error: 'invalid_target' } });
  });

  it('refuses a token signed by another key', async () => {
    const r = await failure(exchange(clusterToken({}, otherKey)));
    expect(r).toMatchObject({ status: 400, error: { error: 'invalid_grant', error_description: 'Invalid JWT signature.' } });
  });

  it('refuses an expired token, and one from another issuer', async () => {
    expect(await failure(exchange(clusterToken({ iat: t() - 7200, exp: t() - 60 })))).toMatchObject({ status: 400, error: { error: 'invalid_grant', error_description: expect.stringContaining('expired') } });
    expect(await failure(exchange(clusterToken({ iss: 'https://elsewhere.sandbox.example' })))).toMatchObject({ status: 400, error: { error: 'invalid_grant', error_description: expect.stringContaining('issuer') } });
  });

  it('uses the provider\'s inline jwksJson for an issuer nobody can fetch', async () => {
    await createProvider('inline-keys', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: UNSERVED_ISSUER, allowedAudiences: ['openshift'], jwksJson: jwks } });
    await createProvider('fetched-keys', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: UNSERVED_ISSUER, allowedAudiences: ['openshift'] } });
    const token = clusterToken({ iss: UNSERVED_ISSUER });
    await exchange(token, AUDIENCE.replace('cluster-a', 'inline-keys'));
    expect(await failure(exchange(token, AUDIENCE.replace('cluster-a', 'fetched-keys')))).toMatchObject({ status: 400, error: { error: 'invalid_grant' } });
  });

  it('a provider patch of jwksJson (after a key rotation) changes which keys verify', async () => {
    await createProvider('rotated', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: UNSERVED_ISSUER, allowedAudiences: ['openshift'], jwksJson: jwks } });
    const aud = AUDIENCE.replace('cluster-a', 'rotated');
    const rotatedJwks = JSON.stringify({ keys: [{ ...publicJwk(otherKey), kid: 'key-1', alg: 'RS256', use: 'sig' }] });
    const name = `projects/${PROJECT}/locations/global/workloadIdentityPools/${POOL}/providers/rotated`;
    const op = await g.iam.projects.locations.workloadIdentityPools.providers.patch({ name, updateMask: 'oidc.jwksJson', requestBody: { oidc: { jwksJson: rotatedJwks } } });
    await done(op.data.name!);
    const provider = await g.iam.projects.locations.workloadIdentityPools.providers.get({ name });
    expect(provider.data.oidc).toMatchObject({ issuerUri: UNSERVED_ISSUER, allowedAudiences: ['openshift'], jwksJson: rotatedJwks });
    expect(await failure(exchange(clusterToken({ iss: UNSERVED_ISSUER }), aud))).toMatchObject({ status: 400, error: { error: 'invalid_grant' } });
    await exchange(clusterToken({ iss: UNSERVED_ISSUER }, otherKey), aud);
  });

  it('without allowed audiences, accepts only the provider\'s full resource name (with or without https:)', async () => {
    await createProvider('default-aud', { attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { issuerUri: ISSUER } });
    const aud = AUDIENCE.replace('cluster-a', 'default-aud');
    await exchange(clusterToken({ aud }), aud);
    await exchange(clusterToken({ aud: `https:${aud}` }), aud);
    expect(await failure(exchange(clusterToken({ aud: 'openshift' }), aud))).toMatchObject({ status: 400, error: { error: 'invalid_grant' } });
  });

  it('refuses an unknown field in the request as Google does', async () => {
    const r = await failure(g.sts.v1.token({ requestBody: { grantType: 'x', colour: 'blue' } as never }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('Unknown name "colour"') } });
  });
});

describe('IAM Credentials and Artifact Registry', () => {
  const member = `principal://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/${POOL}/subject/${SUBJECT}`;

  it('generateAccessToken: 403 without the binding; after the binding and its propagation, a token; then the registry read needs the reader role', async () => {
    const federated = clients(s, bearer(s, (await exchange(clusterToken())).data.access_token!));
    const name = `projects/-/serviceAccounts/${gsa}`;
    const body = { scope: ['https://www.googleapis.com/auth/cloud-platform'] };
    clock += 60_000; // the account has existed a while
    const without = await failure(federated.iamcredentials.projects.serviceAccounts.generateAccessToken({ name, requestBody: body }));
    expect(without).toMatchObject({ status: 403, error: { status: 'PERMISSION_DENIED', message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)." } });

    s.setPropagationDelay(60_000);
    try {
      const policy = await g.iam.projects.serviceAccounts.getIamPolicy({ resource: name, 'options.requestedPolicyVersion': 3 });
      await g.iam.projects.serviceAccounts.setIamPolicy({ resource: name, requestBody: { policy: { ...policy.data, version: 3, bindings: [...(policy.data.bindings ?? []), { role: 'roles/iam.workloadIdentityUser', members: [member] }] } } });
      // Written, not yet effective.
      expect(await failure(federated.iamcredentials.projects.serviceAccounts.generateAccessToken({ name, requestBody: body }))).toMatchObject({ status: 403 });
      clock += 60_000;
      const sa = await federated.iamcredentials.projects.serviceAccounts.generateAccessToken({ name, requestBody: body });
      expect(s.tokenPrincipal(sa.data.accessToken!)).toBe(`serviceAccount:${gsa}`);

      expect(await registryRead(sa.data.accessToken!)).toBe(403);
      const repoPolicy = await g.auth.request<{ etag: string; bindings?: unknown[] }>({ url: `${s.urls.artifactregistry}v1/${REPO_NAME}:getIamPolicy?options.requestedPolicyVersion=3` });
      await g.auth.request({
        url: `${s.urls.artifactregistry}v1/${REPO_NAME}:setIamPolicy`,
        method: 'POST',
        data: { policy: { ...repoPolicy.data, version: 3, bindings: [...(repoPolicy.data.bindings ?? []), { role: 'roles/artifactregistry.reader', members: [`serviceAccount:${gsa}`] }] } },
      });
      const asSa = bearer(s, sa.data.accessToken!);
      const perms = ['artifactregistry.repositories.downloadArtifacts', 'artifactregistry.repositories.uploadArtifacts'];
      const before = await asSa.request<{ permissions?: string[] }>({ url: `${s.urls.artifactregistry}v1/${REPO_NAME}:testIamPermissions`, method: 'POST', data: { permissions: perms } });
      expect(before.data.permissions).toBeUndefined();
      expect(await registryRead(sa.data.accessToken!)).toBe(403);
      clock += 60_000;
      const after = await asSa.request<{ permissions?: string[] }>({ url: `${s.urls.artifactregistry}v1/${REPO_NAME}:testIamPermissions`, method: 'POST', data: { permissions: perms } });
      expect(after.data.permissions).toEqual(['artifactregistry.repositories.downloadArtifacts']);
      expect(await registryRead(sa.data.accessToken!)).toBe(200);
    } finally {
      s.setPropagationDelay(0);
    }
  });

  it('a new service account cannot be impersonated until it propagates', async () => {
    s.setPropagationDelay(30_000);
    try {
      const fresh = (await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'fresh-account' } })).data.email!;
      s.grant({ kind: 'serviceAccount', email: fresh }, 'roles/iam.workloadIdentityUser', member);
      const federated = clients(s, bearer(s, (await exchange(clusterToken())).data.access_token!));
      const name = `projects/-/serviceAccounts/${fresh}`;
      const body = { scope: ['https://www.googleapis.com/auth/cloud-platform'] };
      expect(await failure(federated.iamcredentials.projects.serviceAccounts.generateAccessToken({ name, requestBody: body }))).toMatchObject({ status: 404, error: { status: 'NOT_FOUND' } });
      clock += 30_000;
      await federated.iamcredentials.projects.serviceAccounts.generateAccessToken({ name, requestBody: body });
    } finally {
      s.setPropagationDelay(0);
    }
  });

  it('the Docker registry wants a token: none is 401 with a challenge', async () => {
    const r = await transporter(s).request({ url: `${s.urls.docker('us-central1')}/v2/`, validateStatus: () => true });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('application default credentials of type external_account walk the whole chain (NODE_EXTRA_CA_CERTS, GOOGLE_APPLICATION_CREDENTIALS)', async () => {
    s.grant({ kind: 'serviceAccount', email: gsa }, 'roles/iam.workloadIdentityUser', member);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, clusterToken());
    const config = join(dir, 'credentials.json');
    writeFileSync(
      config,
      JSON.stringify({
        type: 'external_account',
        audience: AUDIENCE,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: s.urls.stsToken,
        service_account_impersonation_url: `${s.urls.iamcredentials}v1/projects/-/serviceAccounts/${gsa}:generateAccessToken`,
        credential_source: { file: tokenFile },
      }),
    );
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, s.ca);
    // The project id is given, so the client does not look it up in Resource Manager v1.
    const script = "import { GoogleAuth } from 'google-auth-library'; const c = await new GoogleAuth({ projectId: 'sandbox-project', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient(); console.log((await c.getAccessToken()).token);";
    const m = s.mark();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, GOOGLE_APPLICATION_CREDENTIALS: config, NODE_EXTRA_CA_CERTS: caFile },
      timeout: 30_000,
    });
    expect(s.tokenPrincipal(stdout.trim())).toBe(`serviceAccount:${gsa}`);
    expect(s.requests(m).map((r) => [r.methodId, r.decision])).toEqual([
      ['sts.token', 'allowed'],
      ['iamcredentials.projects.serviceAccounts.generateAccessToken', 'allowed'],
    ]);
  });
});
