// Google Cloud's plan for OpenShift (pure): the pool and the cluster's provider (keys inline, audience
// openshift), the members by project NUMBER and pool id (never the provider's id), the Secret with the
// external_account configuration (no restart); a re-run plans nothing; rotated keys are an update;
// a foreign Secret, pool or provider is a blocker; ours deleted is undeleted; uninstall keeps others'.
import { describe, expect, it } from 'vitest';
import { decideGcp } from '../../src/clouds/gcp/facts.js';
import { externalAccountJson, toProjectNumber } from '../../src/clouds/gcp/external-account.js';
import { defaultWorkloadIdentityIds, planOpenShiftGcp } from '../../src/clouds/gcp/plan-openshift.js';
import { workloadIdentityIdProblems, jwksJsonOf, type PoolFacts, type ProviderFacts } from '../../src/clouds/gcp/pools.js';
import type { GcpDecisions, GcpFacts, GcpState } from '../../src/clouds/gcp/plan.js';
import { planOpenShiftGcpUninstall } from '../../src/clouds/gcp/uninstall-openshift.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import type { Jwk } from '../../src/plan/credentials-secret.js';
import { clusterFacts, nothingInPlace } from './builders.js';

const PROJECT = 'ocp-project';
const NUMBER = '998877665544';
const EMAIL = `rhacs-ocp-prod@${PROJECT}.iam.gserviceaccount.com`;
const ISSUER = 'https://issuer.ocp-prod.example.com';
const KEY: Jwk = { kid: 'k1', kty: 'RSA', n: 'abc', e: 'AQAB', alg: 'RS256', use: 'sig' };
const ROTATED: Jwk = { kid: 'k2', kty: 'RSA', n: 'def', e: 'AQAB', alg: 'RS256', use: 'sig' };
const POOL = `projects/${NUMBER}/locations/global/workloadIdentityPools/rhacs-ocp-prod`;
const PROVIDER = `${POOL}/providers/ocp-prod`;
const MEMBER = `principal://iam.googleapis.com/${POOL}/subject/system:serviceaccount:stackrox:central`;

function ocp(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return clusterFacts({ provider: 'openshift', issuer: ISSUER, context: 'ocp', name: 'ocp-prod', openshiftPlatform: 'GCP', openshiftGcp: { projectId: PROJECT, region: 'europe-west4' }, issuerKeys: [KEY], credentialsSecret: null, current: nothingInPlace(), ...over });
}
const facts = (clusters = [ocp()]): GcpFacts => ({ projectId: PROJECT, projectNumber: NUMBER, clusters, clusterName: 'ocp-prod', offline: false });
const decisions = (over: Partial<GcpDecisions> = {}): GcpDecisions => ({ ...decideGcp({ garRepositories: [], adoptServiceAccount: false, restart: true }, facts()), ...over });
const empty: GcpState = { serviceAccount: null, serviceAccountPolicy: null, readerPolicies: {}, pool: null, providers: { 'ocp-prod': null } };
const ourPool: PoolFacts = { name: POOL, state: 'ACTIVE', disabled: false, description: 'x [rhacs-sts/managed=true]', managed: true, clusters: [] };
const ourProvider = (keys: Jwk[]): ProviderFacts => ({ ...ourPool, name: PROVIDER, issuerUri: ISSUER, allowedAudiences: ['openshift'], jwksJson: jwksJsonOf(keys), subjectMapping: 'assertion.sub' });
const credentials = externalAccountJson({ projectNumber: toProjectNumber(NUMBER), poolId: 'rhacs-ocp-prod', providerId: 'ocp-prod', serviceAccountEmail: EMAIL });
/** What the first init leaves in place. */
const applied: GcpState = {
  serviceAccount: { email: EMAIL, description: 'RHACS [rhacs-sts/managed=true]', managed: true, clusters: ['ocp-prod'], disabled: false } as GcpState['serviceAccount'],
  serviceAccountPolicy: { etag: 'e', bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [MEMBER] }] },
  readerPolicies: { [`project ${PROJECT}`]: { etag: 'e', bindings: [{ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${EMAIL}`] }] } },
  pool: ourPool, providers: { 'ocp-prod': ourProvider([KEY]) },
};
const statuses = (p: { actions: { type: string; status: string }[] }) => p.actions.map((a) => `${a.type}:${a.status}`);

describe('OpenShift on Google Cloud: plan', () => {
  it('creates the account, the pool, the provider (keys inline), the grants by project number and pool id, and the Secret; nothing restarts', () => {
    const plan = planOpenShiftGcp(facts(), decisions(), empty);
    expect(plan.blockers).toEqual([]);
    expect(statuses(plan)).toEqual([
      'gcp-service-account:create', 'gcp-workload-identity-pool:create', 'gcp-oidc-provider:create', 'gcp-iam-member:create', 'gcp-iam-member:create', 'credentials-secret:create',
    ]);
    expect(plan.grants.map((g) => g.member)).toEqual([`serviceAccount:${EMAIL}`, MEMBER]);
    const provider = plan.actions.find((a) => a.type === 'gcp-oidc-provider')!;
    expect(provider.desired).toEqual({ state: 'ACTIVE', issuerUri: ISSUER, allowedAudiences: ['openshift'], jwksJson: jwksJsonOf([KEY]) });
    const secret = plan.actions.find((a) => a.type === 'credentials-secret') as { value: string; ref: unknown };
    expect(secret.ref).toEqual({ context: 'ocp', namespace: 'stackrox', name: 'gcp-cloud-credentials' });
    expect(JSON.parse(secret.value)).toMatchObject({ type: 'external_account', audience: `//iam.googleapis.com/${PROVIDER}`, credential_source: { file: '/var/run/secrets/openshift/serviceaccount/token' } });
    expect(plan.restarts).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/Nothing restarts: Central watches Secret gcp-cloud-credentials/);
  });

  it('plans nothing against what init left', () => {
    const plan = planOpenShiftGcp(facts([ocp({ credentialsSecret: { ours: true, value: credentials } })]), decisions(), applied);
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
  });

  it('after a key rotation, updates the provider to the cluster\'s keys', () => {
    const plan = planOpenShiftGcp(facts([ocp({ issuerKeys: [ROTATED], credentialsSecret: { ours: true, value: credentials } })]), decisions(), applied);
    const provider = plan.actions.find((a) => a.type === 'gcp-oidc-provider')!;
    expect(provider.status).toBe('update');
    expect(provider.summary).toMatch(/stale.*missing k2.*no longer published k1/);
    expect(plan.actions.filter((a) => a.status !== 'unchanged').map((a) => a.type)).toEqual(['gcp-oidc-provider']);
  });

  it('undeletes our deleted pool and provider (their ids stay reserved 30 days)', () => {
    const state = { ...applied, pool: { ...ourPool, state: 'DELETED' }, providers: { 'ocp-prod': { ...ourProvider([KEY]), state: 'DELETED' } } };
    const plan = planOpenShiftGcp(facts(), decisions(), state);
    expect(statuses(plan).filter((s) => /pool|provider/.test(s))).toEqual(['gcp-workload-identity-pool:update', 'gcp-oidc-provider:update']);
    expect(plan.blockers).toEqual([]);
  });

  it('refuses a Secret, pool or provider rhacs-sts did not make; --adopt-credentials-secret replaces the Secret', () => {
    const foreign = { ...applied, pool: { ...ourPool, managed: false }, providers: { 'ocp-prod': { ...ourProvider([KEY]), managed: false } } };
    const plan = planOpenShiftGcp(facts([ocp({ credentialsSecret: { ours: false } })]), decisions(), foreign);
    expect(plan.blockers.map((b) => b.hint)).toEqual([
      expect.stringContaining('--workload-identity-pool'), expect.stringContaining('--workload-identity-provider'), expect.stringContaining('--adopt-credentials-secret'),
    ]);
    const secret = plan.actions.find((a) => a.type === 'credentials-secret')!;
    expect(secret.current).toEqual({ writtenByRhacsSts: false });
    const adopted = planOpenShiftGcp(facts([ocp({ credentialsSecret: { ours: false } })]), decisions({ adoptCredentialsSecret: true }), applied);
    expect(adopted.blockers).toEqual([]);
    expect(adopted.actions.find((a) => a.type === 'credentials-secret')).toMatchObject({ status: 'update', adopt: true });
  });

  it('derives a pool and a provider id from the cluster name, within Google\'s rule and never the same', () => {
    for (const name of ['ocp', 'ocp-prod', 'gcp-east', 'A Very Long OpenShift Cluster Name On Google Cloud 2026']) {
      const { poolId, providerId } = defaultWorkloadIdentityIds(name);
      expect([workloadIdentityIdProblems(poolId), workloadIdentityIdProblems(providerId)]).toEqual([[], []]);
      expect(poolId).not.toBe(providerId);
    }
    expect(decisions().workloadIdentity).toEqual({ poolId: 'rhacs-ocp-prod', providerIds: { ocp: 'ocp-prod' } });
    expect(decideGcp({ garRepositories: [], adoptServiceAccount: false, restart: true, workloadIdentityPool: 'pool-a', workloadIdentityProvider: 'prov-b' }, facts()).workloadIdentity)
      .toEqual({ poolId: 'pool-a', providerIds: { ocp: 'prov-b' } });
  });
});

describe('OpenShift on Google Cloud: uninstall plan', () => {
  it('removes our Secret, our member, the account, the provider and the pool', () => {
    const plan = planOpenShiftGcpUninstall(facts([ocp({ credentialsSecret: { ours: true, value: credentials } })]), decisions(), applied);
    expect(statuses(plan)).toEqual([
      'credentials-secret:delete', 'gcp-iam-member:delete', 'gcp-iam-member:delete', 'gcp-service-account:delete', 'gcp-oidc-provider:delete', 'gcp-workload-identity-pool:delete',
    ]);
  });

  it('keeps another member\'s binding (and so the account), a foreign Secret, and what is not ours', () => {
    const other = 'principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/other/subject/app';
    const state = { ...applied, serviceAccountPolicy: { etag: 'e', bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [MEMBER, other] }] }, pool: { ...ourPool, managed: false } };
    const plan = planOpenShiftGcpUninstall(facts([ocp({ credentialsSecret: { ours: false } })]), decisions(), state);
    expect(statuses(plan)).toEqual(['gcp-iam-member:delete', 'gcp-oidc-provider:delete']);
    expect(plan.actions[0]).toMatchObject({ member: MEMBER, desired: { members: [other] } });
    expect(plan.notes.join('\n')).toMatch(/Secret stackrox\/gcp-cloud-credentials is kept[\s\S]*still acts as it[\s\S]*pool .* is kept/);
  });
});
