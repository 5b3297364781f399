// The pure parts of Google Cloud's pools and providers, the external_account credential and member
// names, the Artifact Registry grant's input, the verify rows, the operation and propagation waits.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { ExternalAccountClient, IdentityPoolClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { GoogleApiError } from '../../src/clouds/gcp/errors.js';
import {
  externalAccountCredential,
  externalAccountDifferences,
  externalAccountJson,
  gkeMember,
  gkeStsAudience,
  openshiftMember,
  providerAudience,
  toProjectNumber,
  type ExternalAccountInput,
} from '../../src/clouds/gcp/external-account.js';
import { awaitOperation, OPERATION_POLLS } from '../../src/clouds/gcp/operation.js';
import { defaultProviderId, desiredProvider, issuerProblems, jwksDifference, jwksJsonOf, providerDrift, workloadIdentityIdInputProblems, workloadIdentityIdProblems, type ProviderFacts } from '../../src/clouds/gcp/pools.js';
import { notYetEffective, propagationWaitMs, waitForPropagation, type ProbeResult } from '../../src/clouds/gcp/propagation.js';
import { parseGarRepositories, readerScopes } from '../../src/clouds/gcp/registry-grant.js';
import type { GcpSession, GoogleCall } from '../../src/clouds/gcp/session.js';
import { gkeClusterRows, providerKeysRow, stsFailure, wiringRow } from '../../src/clouds/gcp/verify.js';
import { InputError, OperationError } from '../../src/errors.js';
import type { Jwk } from '../../src/kube/session.js';

const NUMBER = toProjectNumber('123456789012');
const EMAIL = 'rhacs-prod@sandbox-project.iam.gserviceaccount.com';
const REF = { projectNumber: NUMBER, poolId: 'rhacs', providerId: 'prod' };
const EXPECTED: ExternalAccountInput = { ...REF, serviceAccountEmail: EMAIL };

function rsaJwk(kid: string): Jwk {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'RS256' };
}

describe('names by project number', () => {
  it('a project number is accepted; a project id is refused with the way to the number', () => {
    expect(toProjectNumber('123456789012')).toBe('123456789012');
    const err = (() => {
      try {
        toProjectNumber('sandbox-project', '--gcp-project');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: '--gcp-project', message: expect.stringMatching(/is a project id; workload identity pools are named by the project NUMBER \(`gcloud projects describe sandbox-project/) }]);
  });

  it('the provider audience, and the members on both platforms, exactly', () => {
    expect(providerAudience(REF)).toBe('//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/rhacs/providers/prod');
    expect(openshiftMember(REF, 'stackrox', 'central')).toBe('principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/rhacs/subject/system:serviceaccount:stackrox:central');
    expect(gkeMember('sandbox-project', 'stackrox', 'sensor')).toBe('serviceAccount:sandbox-project.svc.id.goog[stackrox/sensor]');
    expect(gkeStsAudience('sandbox-project', 'https://container.googleapis.com/v1/projects/sandbox-project/locations/l/clusters/c')).toBe(
      'identitynamespace:sandbox-project.svc.id.goog:https://container.googleapis.com/v1/projects/sandbox-project/locations/l/clusters/c',
    );
    // The pool is named by its own id, never by the provider's (the published example's mistake).
    expect(openshiftMember({ projectNumber: NUMBER, poolId: 'pool-a' }, 'stackrox', 'central')).toContain('/workloadIdentityPools/pool-a/subject/');
    expect(() => gkeMember('123456789012', 'stackrox', 'central')).toThrow(InputError);
  });
});

describe('the external_account credential', () => {
  it('is what Central reads, and google-auth-library\'s own parser accepts it as an identity pool client', () => {
    const cred = externalAccountCredential(EXPECTED);
    expect(cred).toEqual({
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/rhacs/providers/prod',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${EMAIL}:generateAccessToken`,
      credential_source: { file: '/var/run/secrets/openshift/serviceaccount/token', format: { type: 'text' } },
    });
    const client = ExternalAccountClient.fromJSON(JSON.parse(externalAccountJson(EXPECTED)));
    expect(client).toBeInstanceOf(IdentityPoolClient);
    expect(client!.getServiceAccountEmail()).toBe(EMAIL);
    expect((client as unknown as { projectNumber: string }).projectNumber).toBe('123456789012');
  });

  it('differences read back from a cluster: project id in the audience, another service account, malformed', () => {
    expect(externalAccountDifferences(externalAccountJson(EXPECTED), EXPECTED)).toEqual([]);
    const byId = { ...externalAccountCredential(EXPECTED), audience: providerAudience(REF).replace('123456789012', 'sandbox-project') };
    expect(externalAccountDifferences(JSON.stringify(byId), EXPECTED)).toEqual([expect.stringMatching(/names the project by id \(sandbox-project\) where Google needs the number \(123456789012\)/)]);
    const other = externalAccountCredential({ ...EXPECTED, serviceAccountEmail: 'other@p.iam.gserviceaccount.com' });
    expect(externalAccountDifferences(JSON.stringify(other), EXPECTED)).toEqual([`it impersonates other@p.iam.gserviceaccount.com, not ${EMAIL}`]);
    expect(externalAccountDifferences('nope', EXPECTED)).toEqual(['is not JSON']);
    expect(externalAccountDifferences('{"type":"service_account"}', EXPECTED).length).toBeGreaterThanOrEqual(4);
  });
});

describe('pool and provider ids', () => {
  it.each([['rhacs'], ['abcd'], ['a'.repeat(32)], ['0-prod-9']])('accepts %j', (id) => {
    expect(workloadIdentityIdProblems(id)).toEqual([]);
  });
  it.each([
    ['abc', /4–32 characters \(it has 3\)/],
    ['a'.repeat(33), /4–32 characters \(it has 33\)/],
    ['Rhacs', /lower-case letters, digits and hyphens/],
    ['rh_acs', /lower-case letters, digits and hyphens/],
    ['gcp-pool', /must not start with "gcp-"/],
  ])('refuses %j', (id, problem) => {
    expect(workloadIdentityIdProblems(id).join('; ')).toMatch(problem);
  });
  it('both ids at once, each naming its flag', () => {
    expect(workloadIdentityIdInputProblems({ pool: 'gcp-x', provider: 'P' }).map((p) => p.source)).toEqual(['--workload-identity-pool', '--workload-identity-provider', '--workload-identity-provider']);
  });
  it.each([
    ['prod', 'prod'],
    ['ab', 'rhacs-ab'],
    ['gcp-east', 'rhacs-gcp-east'],
    ['Prod.EU_west', 'prod-eu-west'],
  ])('the default provider id for cluster %j is %s', (cluster, id) => {
    expect(defaultProviderId(cluster, (s) => createHash('sha256').update(s).digest('hex'))).toBe(id);
  });
  it('a long cluster name is cut to 32 with a hash tail, so two long names stay apart', () => {
    const h = (s: string) => createHash('sha256').update(s).digest('hex');
    const a = defaultProviderId(`${'x'.repeat(40)}-a`, h);
    const b = defaultProviderId(`${'x'.repeat(40)}-b`, h);
    expect(a).not.toBe(b);
    for (const id of [a, b]) expect(workloadIdentityIdProblems(id)).toEqual([]);
  });
  it('the issuer must be an https URL, taken as it is', () => {
    expect(issuerProblems('https://oidc.example.com/cluster/')).toEqual([]);
    expect(issuerProblems('http://oidc.example.com')).toEqual([expect.stringMatching(/not https/)]);
    expect(issuerProblems('oidc.example.com')).toEqual([expect.stringMatching(/not a URL/)]);
  });
});

describe('inline keys', () => {
  const k1 = rsaJwk('k1');
  const k2 = rsaJwk('k2');
  it('the same keys in another order or with private-looking extras stripped are not stale', () => {
    expect(jwksDifference(jwksJsonOf([k2, k1]), [k1, k2])).toEqual({ stale: false, missing: [], extra: [] });
    expect(JSON.parse(jwksJsonOf([{ ...k1, d: 'secret' } as Jwk])).keys[0]).not.toHaveProperty('d');
  });
  it('a rotation: the new key missing, the old one no longer published', () => {
    expect(jwksDifference(jwksJsonOf([k1]), [k2])).toEqual({ stale: true, missing: ['k2'], extra: ['k1'] });
    // The same kid with another key is a different key.
    const k1b = { ...rsaJwk('k1') };
    expect(jwksDifference(jwksJsonOf([k1]), [k1b]).stale).toBe(true);
  });
  it('providerDrift names each field to patch, stale keys among them; none for the wanted provider', () => {
    const input = { ref: REF, issuer: 'https://issuer.example/c', keys: [k2], cluster: 'prod' };
    const want = desiredProvider(input);
    const facts = (over: Partial<ProviderFacts>): ProviderFacts => ({
      name: 'n', state: 'ACTIVE', disabled: false, managed: true, clusters: ['prod'],
      issuerUri: want.oidc!.issuerUri!, allowedAudiences: ['openshift'], jwksJson: want.oidc!.jwksJson!, subjectMapping: 'assertion.sub', ...over,
    });
    expect(providerDrift(facts({}), input)).toEqual([]);
    expect(providerDrift(facts({ jwksJson: jwksJsonOf([k1]), allowedAudiences: ['sts.amazonaws.com'], issuerUri: 'https://issuer.example/c/' }), input).map((d) => d.field)).toEqual(['oidc.issuerUri', 'oidc.allowedAudiences', 'oidc.jwksJson']);
    expect(providerDrift(facts({ jwksJson: jwksJsonOf([k1]) }), input)[0]!.why).toMatch(/stale .*missing k2; no longer published k1/);
    expect(providerDrift(facts({}), { ...input, keys: undefined }).map((d) => d.field)).toEqual(['oidc.jwksJson']);
    expect(want).toMatchObject({ attributeMapping: { 'google.subject': 'assertion.sub' }, oidc: { allowedAudiences: ['openshift'] }, description: expect.stringContaining('[rhacs-sts/managed=true; clusters=prod]') });
  });
});

describe('--gar-repository', () => {
  it('parses <location>/<repo>, once each', () => {
    expect(parseGarRepositories(['us-central1/rhacs', 'europe/images', 'us-central1/rhacs'])).toEqual({
      repositories: [{ location: 'us-central1', repository: 'rhacs' }, { location: 'europe', repository: 'images' }],
      problems: [],
    });
  });
  it('every problem at once, each naming the flag', () => {
    const r = parseGarRepositories(['rhacs', 'us-docker.pkg.dev/p/rhacs', 'Moon/rhacs', 'us-central1/Rhacs_', 'a/b/c']);
    expect(r.repositories).toEqual([]);
    expect(r.problems.map((p) => p.source)).toEqual(Array(5).fill('--gar-repository'));
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/"rhacs" is not <location>\/<repository>/),
      expect.stringMatching(/is a registry path; write it as <location>\/<repository>: us\/rhacs/),
      expect.stringMatching(/"Moon" is not an Artifact Registry location/),
      expect.stringMatching(/"Rhacs_" is not a repository id/),
      expect.stringMatching(/"a\/b\/c" is not <location>\/<repository>/),
    ]);
  });
  it('the reader role goes on the repositories named, else on the project', () => {
    expect(readerScopes('p-1', [])).toEqual([{ kind: 'project', projectId: 'p-1' }]);
    expect(readerScopes('p-1', [{ location: 'us', repository: 'r' }])).toEqual([{ kind: 'repository', projectId: 'p-1', location: 'us', repository: 'r' }]);
  });
});

describe('verify rows', () => {
  it('STS refusals name the broken link', () => {
    const gcpAud = providerAudience(REF);
    const oauth = (error: string, error_description: string) => ({ status: 400, json: { error, error_description } });
    expect(stsFailure({ platform: 'openshift', stsAudience: gcpAud.replace('123456789012', 'sandbox-project') }, oauth('invalid_target', 'x')).detail).toMatch(/project by id \(sandbox-project\)/);
    expect(stsFailure({ platform: 'openshift', stsAudience: gcpAud }, oauth('invalid_target', 'x')).fix).toMatch(/--workload-identity-pool/);
    expect(stsFailure({ platform: 'openshift', stsAudience: gcpAud }, oauth('invalid_grant', 'Invalid JWT signature.')).fix).toMatch(/re-syncs the provider's inline keys/);
    expect(stsFailure({ platform: 'openshift', stsAudience: gcpAud }, oauth('invalid_grant', 'The audience in ID Token [x] does not match')).fix).toMatch(/"openshift"/);
    expect(stsFailure({ platform: 'gke', stsAudience: 'identitynamespace:p.svc.id.goog:https://i' }, oauth('invalid_target', 'x')).fix).toMatch(/--workload-pool/);
  });
  it('wiring: the annotation on GKE, the Secret on OpenShift', () => {
    expect(wiringRow({ platform: 'gke', serviceAccount: 'central', annotation: EMAIL, expectedEmail: EMAIL }).result).toBe('pass');
    expect(wiringRow({ platform: 'gke', serviceAccount: 'central', annotation: 'x@y.iam.gserviceaccount.com', expectedEmail: EMAIL })).toMatchObject({ result: 'fail', detail: `names x@y.iam.gserviceaccount.com, not ${EMAIL}` });
    expect(wiringRow({ platform: 'gke', serviceAccount: 'central', annotation: undefined, expectedEmail: EMAIL }).result).toBe('fail');
    expect(wiringRow({ platform: 'openshift', secretText: externalAccountJson(EXPECTED), expected: EXPECTED }).result).toBe('pass');
    expect(wiringRow({ platform: 'openshift', secretText: undefined, expected: EXPECTED })).toMatchObject({ result: 'fail', fix: expect.stringMatching(/without a restart/) });
    const other = externalAccountJson({ ...EXPECTED, serviceAccountEmail: 'other@p.iam.gserviceaccount.com' });
    expect(wiringRow({ platform: 'openshift', secretText: other, expected: EXPECTED })).toMatchObject({ result: 'fail', detail: expect.stringMatching(/impersonates other@/) });
  });
  it('provider keys: stale fails with the re-sync fix', () => {
    const k1 = rsaJwk('k1');
    const k2 = rsaJwk('k2');
    const p: ProviderFacts = { name: 'n', state: 'ACTIVE', disabled: false, managed: true, clusters: [], allowedAudiences: ['openshift'], jwksJson: jwksJsonOf([k1]) };
    expect(providerKeysRow(p, [k1]).result).toBe('pass');
    expect(providerKeysRow(p, [k2])).toMatchObject({ result: 'fail', detail: expect.stringMatching(/missing k2; no longer published k1/), fix: expect.stringMatching(/re-syncs/) });
    expect(providerKeysRow(undefined, [k1]).result).toBe('fail');
  });
  it('GKE: workload identity off; a node pool on the wrong metadata mode', () => {
    const base = { projectId: 'sandbox-project', location: 'l', name: 'c' };
    expect(gkeClusterRows({ ...base, nodePools: [] }).map((r) => r.result)).toEqual(['fail', 'warn']);
    const rows = gkeClusterRows({ ...base, workloadPool: 'sandbox-project.svc.id.goog', nodePools: [{ name: 'ok', metadataMode: 'GKE_METADATA' }, { name: 'old', metadataMode: 'GCE_METADATA' }] });
    expect(rows.map((r) => r.result)).toEqual(['pass', 'fail']);
    expect(rows[1]!.fix).toMatch(/node-pools update old .*--workload-metadata=GKE_METADATA/);
  });
});

function fakeSession(answers: unknown[]): GcpSession & { calls: GoogleCall[]; slept: number[] } {
  const calls: GoogleCall[] = [];
  const slept: number[] = [];
  return {
    calls,
    slept,
    credentialsFrom: 'test',
    call: async <T>(c: GoogleCall): Promise<T> => {
      calls.push(c);
      const a = answers.shift();
      if (a instanceof Error) throw a;
      return a as T;
    },
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
}

describe('long-running operations', () => {
  it('polled until done, with a doubling wait', async () => {
    const name = 'projects/1/locations/global/workloadIdentityPools/p/operations/o';
    const s = fakeSession([{ name, done: false }, { name, done: true, response: { state: 'ACTIVE' } }]);
    expect(await awaitOperation(s, 'create', { name, done: false })).toEqual({ state: 'ACTIVE' });
    expect(s.calls.map((c) => `${c.method} ${c.path} ${c.name}`)).toEqual([
      `GET v1/${name} iam.projects.locations.workloadIdentityPools.operations.get`,
      `GET v1/${name} iam.projects.locations.workloadIdentityPools.operations.get`,
    ]);
    expect(s.slept).toEqual([500, 1000]);
  });
  it('an operation that ends in error is Google\'s error; one that never ends stops after the bound', async () => {
    const err = await awaitOperation(fakeSession([]), 'create', { name: 'x', done: true, error: { code: 9, status: 'FAILED_PRECONDITION', message: 'no' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoogleApiError);
    expect((err as GoogleApiError).status).toBe('FAILED_PRECONDITION');
    const name = 'projects/1/locations/global/workloadIdentityPools/p/providers/q/operations/o';
    const s = fakeSession(Array(OPERATION_POLLS + 1).fill({ name, done: false }));
    const stuck = await awaitOperation(s, 'create', { name, done: false }).catch((e: unknown) => e);
    expect(stuck).toBeInstanceOf(OperationError);
    expect((stuck as OperationError).hint).toMatch(/run the same command again/);
    expect(s.calls).toHaveLength(OPERATION_POLLS);
    expect(s.calls[0]!.name).toBe('iam.projects.locations.workloadIdentityPools.providers.operations.get');
  });
});

describe('propagation wait', () => {
  const probeOf = (results: ProbeResult[]) => async () => results.shift() ?? { state: 'pending' as const, why: 'still' };
  it('waits with progress until ready', async () => {
    const slept: number[] = [];
    const seen: string[] = [];
    const r = await waitForPropagation('binding', probeOf([{ state: 'pending', why: 'a' }, { state: 'pending', why: 'b' }, { state: 'pending', why: 'c' }, { state: 'ready' }]), {
      sleep: async (ms) => void slept.push(ms),
      progress: (p) => seen.push(`${p.waitedMs}+${p.nextMs} ${p.why}`),
    });
    expect(r).toEqual({ waitedMs: 14_000, checks: 4 });
    expect(slept).toEqual([2000, 4000, 8000]);
    expect(seen).toEqual(['0+2000 a', '2000+4000 b', '6000+8000 c']);
  });
  it('a failure that waiting will not fix stops at once; pending past the bound is an OperationError', async () => {
    const slept: number[] = [];
    const o = { sleep: async (ms: number) => void slept.push(ms), progress: () => {} };
    await expect(waitForPropagation('binding', probeOf([{ state: 'failed', why: 'wrong audience', fix: 'f' }]), o)).rejects.toMatchObject({ message: 'binding: wrong audience', hint: 'f' });
    expect(slept).toEqual([]);
    const err = await waitForPropagation('binding', probeOf([]), { ...o, maxWaitMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(propagationWaitMs(10)).toBe(15_000);
  });
  it('what a change not yet effective looks like', () => {
    expect(notYetEffective('impersonation', 403)).toBe(true);
    expect(notYetEffective('impersonation', 404)).toBe(true);
    expect(notYetEffective('impersonation', 400)).toBe(false);
    expect(notYetEffective('registry', undefined)).toBe(true);
    expect(notYetEffective('sts', 400)).toBe(false);
  });
});
