// OpenShift without STS, end to end against real servers: the product's publish module writes the
// issuer to moto's S3 through the AWS gate; the Authentication stand-in rolls the real kube-apiserver
// to the new issuer; the gate's STS fetches the S3-hosted documents anonymously from moto (only
// because the bucket policy makes them public) and checks real tokens against them; a rotated
// signing key fails the exchange until the keys are published again.
import { CoreV1Api, CustomObjectsApi, OpenidApi, WellKnownApi, type KubeConfig } from '@kubernetes/client-node';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DeleteBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPublish, compareKeys, DISCOVERY_KEY, KEYS_KEY, planPublish, readBucket, type IssuerBucketApi } from '../../src/clouds/aws/issuer/publish.js';
import { createIssuerBucketApi } from '../../src/clouds/aws/issuer/s3.js';
import type { Jwk } from '../../src/kube/session.js';
import { ensureNamespace, mergePatch } from '../sandbox/fixtures.js';
import { bucketIssuer, bucketState, motoS3, publicGet } from '../sandbox/issuers/issuer-bucket.js';
import { awsMark, awsWrites, gateDecisions, gateMark } from '../sandbox/observe.js';
import { DEFAULT_OPENSHIFT_ISSUER, openShiftWithoutStsCluster, seedOpenShiftWithoutSts, startAuthenticationOperator, type AuthenticationOperator } from '../sandbox/kube/openshift-auth.js';
import { isProvisioned, startSandbox, type Sandbox } from '../sandbox/sandbox.js';

const CLUSTER = 'ocp-nosts';
const BUCKET = 'ocp-nosts-x7k2p-rhacs-sts-oidc';
const NS = 'stackrox';
let sandbox: Sandbox;
let kc: KubeConfig;
let operator: AuthenticationOperator;
let s3: IssuerBucketApi;
let region: string;
const savedEnv = { ...process.env };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function clusterKeys(): Promise<Jwk[]> {
  const jwks = (await kc.makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset()) as unknown as { keys: Jwk[] };
  return jwks.keys;
}

async function token(audience = 'openshift'): Promise<string> {
  const tr = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name: 'central', namespace: NS, body: { spec: { audiences: [audience], expirationSeconds: 3600 } } });
  return tr.status!.token!;
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { iss: string };
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string };

async function publish(now?: Date) {
  const plan = planPublish(await readBucket(s3, BUCKET), { bucket: BUCKET, region, partition: 'aws', clusterName: CLUSTER, clusterKeys: await clusterKeys(), now });
  expect(plan.blockers).toEqual([]);
  return { plan, written: await applyPublish(s3, plan) };
}

async function exchange(roleArn: string, jwt: string) {
  const sts = new STSClient({ region, endpoint: sandbox.info.awsEndpoint, maxAttempts: 1 });
  return sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'publish-test', WebIdentityToken: jwt }));
}

/** Bounded wait for the Authentication stand-in to finish a rollout. */
async function waitSettled(issuer: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      const doc = (await kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration()) as unknown as { issuer: string };
      const co = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'clusteroperators', name: 'kube-apiserver' })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      const progressing = co.status?.conditions?.find((c) => c.type === 'Progressing')?.status;
      if (doc.issuer === issuer && progressing === 'False') return;
    } catch {
      // the API server is restarting
    }
    await sleep(250);
  }
  throw new Error(`the kube-apiserver did not settle on ${issuer}`);
}

beforeAll(async () => {
  if (!isProvisioned()) throw new Error('sandbox not provisioned: bash test/sandbox/provision.sh');
  sandbox = await startSandbox({ clusters: [openShiftWithoutStsCluster(CLUSTER)], log: () => undefined });
  region = sandbox.info.awsEnv.AWS_REGION;
  Object.assign(process.env, sandbox.info.awsEnv);
  kc = sandbox.kubeConfig(CLUSTER);
  await seedOpenShiftWithoutSts(kc, { region });
  await ensureNamespace(kc, NS);
  await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'central' } } });
  operator = startAuthenticationOperator(sandbox, CLUSTER);
  s3 = await createIssuerBucketApi({ region, log: () => undefined });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await sandbox?.stop();
  process.env = savedEnv;
}, 60_000);

describe('OpenShift without STS', () => {
  it('starts with the in-cluster issuer, which the internet cannot reach', async () => {
    expect(claims(await token()).iss).toBe(DEFAULT_OPENSHIFT_ISSUER);
    const auth = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster' })) as { spec: { serviceAccountIssuer: string } };
    expect(auth.spec.serviceAccountIssuer).toBe('');
    await expect(publicGet(sandbox.info, `${DEFAULT_OPENSHIFT_ISSUER}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  it('publishes the discovery document and keys in a public-by-policy bucket; a second run writes nothing', async () => {
    const { plan } = await publish();
    const issuer = bucketIssuer(BUCKET, region);
    expect(plan.issuer).toBe(issuer);
    const st = await bucketState(sandbox.info, BUCKET);
    expect(st.tags).toEqual({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': CLUSTER });
    expect(st.guards).toMatchObject({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false, ownership: 'BucketOwnerEnforced' });
    const doc = await publicGet(sandbox.info, `${issuer}/${DISCOVERY_KEY}`);
    expect(doc.status).toBe(200);
    expect(JSON.parse(doc.body)).toMatchObject({ issuer, jwks_uri: `${issuer}/${KEYS_KEY}` });
    const keys = JSON.parse((await publicGet(sandbox.info, `${issuer}/${KEYS_KEY}`)).body) as { keys: Jwk[] };
    expect(compareKeys(keys.keys, await clusterKeys())).toEqual({ missing: [], extra: [] });
    // Anything else in the bucket stays private.
    expect((await publicGet(sandbox.info, `${issuer}/other`)).status).toBe(403);

    const m = await awsMark(sandbox.info);
    const again = await publish();
    expect(again.written).toEqual([]);
    expect(await awsWrites(sandbox.info, m)).toEqual([]);
  });

  it('rolls the kube-apiserver to the bucket issuer when the Authentication object changes, keeping the old issuer accepted', async () => {
    const oldToken = await token('https://kubernetes.default.svc');
    const issuer = bucketIssuer(BUCKET, region);
    await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      { group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster', body: { spec: { serviceAccountIssuer: issuer } } },
      mergePatch(),
    );
    await waitSettled(issuer);
    expect(operator.revisions.at(-1)).toMatchObject({ revision: 2, issuers: [issuer, DEFAULT_OPENSHIFT_ISSUER] });
    expect(claims(await token()).iss).toBe(issuer);
    // A token of the previous issuer still authenticates (TokenReview by the real API server).
    const review = await kc.makeApiClient((await import('@kubernetes/client-node')).AuthenticationV1Api).createTokenReview({ body: { spec: { token: oldToken } } });
    expect(review.status?.authenticated).toBe(true);
  });

  it('refuses an issuer that is not an https URL: degraded, nothing rolls', async () => {
    const before = operator.revisions.length;
    const api = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster' };
    await api.patchClusterCustomObject({ ...ref, body: { spec: { serviceAccountIssuer: 'http://insecure.example.com' } } }, mergePatch());
    for (let i = 0; i < 40 && !operator.degraded; i++) await sleep(100);
    expect(operator.degraded).toMatch(/not a valid https URL/);
    await api.patchClusterCustomObject({ ...ref, body: { spec: { serviceAccountIssuer: bucketIssuer(BUCKET, region) } } }, mergePatch());
    for (let i = 0; i < 40 && operator.degraded; i++) await sleep(100);
    expect(operator.degraded).toBeUndefined();
    expect(operator.revisions.length).toBe(before);
  });

  describe('web identity through the S3-hosted issuer', () => {
    const roleArn = `arn:aws:iam::123456789012:role/ocp-nosts-central`;
    beforeAll(async () => {
      const iam = new IAMClient({ region: 'us-east-1', endpoint: sandbox.info.awsEndpoint, maxAttempts: 1 });
      const issuer = bucketIssuer(BUCKET, region);
      const hp = issuer.replace('https://', '');
      await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['openshift'] }));
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'ocp-nosts-central',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${hp}` },
                Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: { StringEquals: { [`${hp}:sub`]: `system:serviceaccount:${NS}:central`, [`${hp}:aud`]: 'openshift' } },
              },
            ],
          }),
        }),
      );
    });

    it('exchanges a token: STS read the published documents from S3', async () => {
      const d = await gateMark(sandbox.info);
      const out = await exchange(roleArn, await token());
      expect(out.AssumedRoleUser?.Arn).toMatch(/assumed-role\/ocp-nosts-central\//);
      expect((await gateDecisions(sandbox.info, d)).map((x) => [x.action, x.allowed])).toEqual([['sts:AssumeRoleWithWebIdentity', true]]);
    });

    it('fails when the documents are not public', async () => {
      await motoS3(sandbox.info.motoUrl).send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
      await expect(exchange(roleArn, await token())).rejects.toMatchObject({ name: expect.stringMatching(/^IDPCommunicationError/) });
      await publish(); // puts the policy back
      await expect(exchange(roleArn, await token())).resolves.toBeTruthy();
    });

    it('fails after the cluster rotates its signing key, names the kid, and works again once re-published', async () => {
      const before = (await clusterKeys()).map((k) => k.kid);
      await sandbox.restartApiServer(CLUSTER, { rotateSigningKey: true });
      const fresh = await token();
      const kid = header(fresh).kid;
      expect(before).not.toContain(kid);
      const published = JSON.parse((await publicGet(sandbox.info, `${bucketIssuer(BUCKET, region)}/${KEYS_KEY}`)).body) as { keys: Jwk[] };
      expect(compareKeys(published.keys, await clusterKeys()).missing).toEqual([kid]);
      const d = await gateMark(sandbox.info);
      await expect(exchange(roleArn, fresh)).rejects.toMatchObject({ name: expect.stringMatching(/^InvalidIdentityToken/) });
      expect((await gateDecisions(sandbox.info, d))[0]?.reason).toBe(`no JWKS key with kid ${kid}`);

      const { plan, written } = await publish();
      expect(written).toEqual(['keys']);
      expect(plan.keys.added).toEqual([kid]);
      await expect(exchange(roleArn, fresh)).resolves.toBeTruthy();
      expect((await publish()).written).toEqual([]);
    });
  });
});
