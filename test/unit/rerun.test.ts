// Re-runs keep what is in place: every choice a flag or question makes is read back from the role
// (tags, inline policy, trust statements) and the wiring, kept when its flag is not given, and
// offered as the wizard's default; --yes takes exactly those defaults. Plan and apply agree when a
// fleet moves to Pod Identity: the web-identity statements go, and so do OIDC providers no role trusts.
import { describe, expect, it } from 'vitest';
import { askDecisions, decisionsFromOptions } from '../../src/decide.js';
import type { Options } from '../../src/options/options.js';
import { buildPlan, ourTags } from '../../src/plan/build.js';
import { settingsInPlace, type InPlace } from '../../src/plan/in-place.js';
import { buildInitPlan } from '../../src/plan/init-plan.js';
import type { Action, AwsState, ClusterFacts, ComponentState, Facts, RoleState } from '../../src/plan/model.js';
import {
  attachedPolicyTag,
  isPodIdentityStatement,
  mergeTrustPolicy,
  oidcProviderArn,
  permissionsPolicy,
  POD_IDENTITY_PRINCIPAL,
  servesTag,
  trustStatements,
  withPodIdentityStatement,
  type PolicyDocument,
} from '../../src/clouds/aws/policies.js';
import { createMemoryUi, DEFAULT } from '../../src/ui/memory.js';
import { issuerHostPath } from '../../src/validate.js';
import { clusterFacts, facts as buildFacts, options } from './builders.js';

const ACCOUNT = '111122223333';
const ROLE = 'rhacs-sts-prod';
const ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/AAAA0000000000000000000000000001';
const ANNOTATION = 'eks.amazonaws.com/role-arn';
const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

const sa = (arn?: string): ComponentState => ({ serviceAccount: { annotations: arn ? { [ANNOTATION]: arn } : {} }, deployment: null });

const cluster = (over: Partial<ClusterFacts> = {}): ClusterFacts => clusterFacts({ name: 'prod', issuer: ISSUER, current: { central: sa(ARN), sensor: sa() }, ...over });
const facts = (clusters: ClusterFacts[] = [cluster()]): Facts => buildFacts(clusters);
const opts = (raw: Record<string, unknown> = {}): Options => options(raw);

/** The role an earlier run left: trusted by the clusters' issuers for `subjects`, with the ECR scope given. */
function role(f: Facts, o: { sensor?: boolean; repositories?: string[]; region?: string; tags?: Record<string, string>; attached?: string[]; podIdentity?: boolean } = {}): RoleState {
  const targets = f.clusters.map((c) => ({
    issuer: c.issuer, audience: 'sts.amazonaws.com',
    subjects: c.components.filter((comp) => comp === 'central' || o.sensor).map((comp) => `system:serviceaccount:${c.namespace}:${comp}`),
  }));
  const trust: PolicyDocument = o.podIdentity
    ? withPodIdentityStatement({ Version: '2012-10-17', Statement: [] }, { Sid: 'RhacsStsPodIdentity', Effect: 'Allow', Principal: { Service: POD_IDENTITY_PRINCIPAL }, Action: ['sts:AssumeRole', 'sts:TagSession'] })
    : { Version: '2012-10-17', Statement: trustStatements('aws', ACCOUNT, targets) };
  const serves = Object.fromEntries(f.clusters.map((c) => [servesTag(c.name!), o.podIdentity ? POD_IDENTITY_PRINCIPAL : issuerHostPath(c.issuer)]));
  return {
    arn: ARN, path: '/', trustPolicy: trust,
    inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: ACCOUNT, repositories: o.repositories ?? [], ...(o.region ? { region: o.region } : {}) }) },
    attachedPolicyArns: o.attached ?? [],
    tags: { ...ourTags('prod'), ...serves, ...Object.fromEntries((o.attached ?? []).map((a) => [attachedPolicyTag(a), a])), ...o.tags },
  };
}
const awsWith = (r: RoleState, over: Partial<AwsState> = {}): AwsState => ({
  oidcProviders: { [ISSUER]: { arn: oidcProviderArn('aws', ACCOUNT, ISSUER), clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: ourTags('prod') } },
  role: r, ...over,
});
const changes = (actions: Action[]) => actions.filter((a) => a.status !== 'unchanged').map((a) => `${a.type}:${a.status}`);

describe('what is in place, read back from the role and the wiring', () => {
  it('reads delegated scanning from Sensor\'s wiring or its trust, the ECR scope from our policy, attached policies from our tags', () => {
    const f = facts([cluster({ current: { central: sa(ARN), sensor: sa(ARN) } })]);
    const was = settingsInPlace(f, role(f, { sensor: true, repositories: ['team-a/*'], region: 'eu-west-1', attached: [S3] }));
    expect(was).toMatchObject({ delegatedScanning: true, ecr: { registryId: ACCOUNT, region: 'eu-west-1', repositories: ['team-a/*'] }, attachPolicyArns: [S3], mechanism: 'irsa' });
    // Sensor's trust alone (its annotation lost) still says it was on.
    expect(settingsInPlace(facts(), role(facts(), { sensor: true })).delegatedScanning).toBe(true);
    // A set-up without Sensor: off, and kept off.
    expect(settingsInPlace(facts(), role(facts())).delegatedScanning).toBe(false);
  });

  it('reads nothing from a role rhacs-sts does not manage, or for clusters the role does not serve yet', () => {
    const r = role(facts(), { sensor: true, repositories: ['team-a/*'] });
    expect(settingsInPlace(facts(), { ...r, tags: {} })).toEqual({});
    const spoke = cluster({ name: 'spoke-3', issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/SPOKE3', components: ['sensor'], current: { sensor: sa() } });
    expect(settingsInPlace(facts([spoke]), r).delegatedScanning).toBeUndefined();
  });

  it('reads the mechanism from the serves tags of the run\'s clusters', () => {
    const f = facts([cluster({ current: { central: sa(), sensor: sa() } })]);
    expect(settingsInPlace(f, role(f, { podIdentity: true })).mechanism).toBe('pod-identity');
  });
});

describe('a re-run keeps what is in place unless a flag changes it', () => {
  it('init --delegated-scanning, then a plain init: nothing changes (Sensor keeps its trust and wiring)', () => {
    const f = facts([cluster({ current: { central: sa(ARN), sensor: sa(ARN) } })]);
    const r = role(f, { sensor: true });
    const d = decisionsFromOptions(opts({ yes: true }), f, {}, settingsInPlace(f, r));
    expect(d.delegatedScanning).toBe(true);
    expect(changes(buildInitPlan(f, d, awsWith(r)).actions)).toEqual([]);
    // Before: without what is in place, the plain run dropped Sensor's trust and left it annotated.
    expect(changes(buildInitPlan(f, decisionsFromOptions(opts({ yes: true }), f), awsWith(r)).actions)).toContain('trust-policy:update');
  });

  it('--no-delegated-scanning takes Sensor out: its trust statement and its annotation go together, with a restart', () => {
    const f = facts([cluster({ current: { central: sa(ARN), sensor: sa(ARN) } })]);
    const r = role(f, { sensor: true });
    const d = decisionsFromOptions(opts({ delegatedScanning: false }), f, {}, settingsInPlace(f, r));
    const plan = buildInitPlan(f, d, awsWith(r));
    expect(changes(plan.actions)).toEqual(['trust-policy:update', 'service-account-annotation:delete', 'restart:update']);
    expect(plan.actions.find((a) => a.type === 'service-account-annotation' && a.status === 'delete')!.target).toBe('stackrox/serviceaccount/sensor');
    expect(plan.notes.join('\n')).toMatch(/Delegated scanning was on, becomes off/);
  });

  it('--ecr-repository team-a/*, then a plain run keeps the scope; --ecr-repository "*" widens it, saying what it was', () => {
    const f = facts();
    const r = role(f, { repositories: ['team-a/*'] });
    const was = settingsInPlace(f, r);
    const kept = decisionsFromOptions(opts(), f, {}, was);
    expect(kept.ecr.repositories).toEqual(['team-a/*']);
    expect(changes(buildInitPlan(f, kept, awsWith(r)).actions)).toEqual([]);
    const widened = buildInitPlan(f, decisionsFromOptions(opts({ ecrRepository: ['*'] }), f, {}, was), awsWith(r));
    const perms = widened.actions.find((a) => a.type === 'permissions-policy')!;
    expect(perms.status).toBe('update');
    expect(perms.summary).toBe(`Grant read-only ECR access to all repositories in registry ${ACCOUNT} (any region) (was team-a/* in registry ${ACCOUNT} (any region))`);
  });

  it('keeps the managed policies rhacs-sts attached and the permissions boundary', () => {
    const f = facts();
    const r = { ...role(f, { attached: [S3] }), permissionsBoundary: 'arn:aws:iam::111122223333:policy/boundary' };
    const d = decisionsFromOptions(opts(), f, {}, settingsInPlace(f, r));
    expect(d).toMatchObject({ attachPolicyArns: [S3], permissionsBoundary: 'arn:aws:iam::111122223333:policy/boundary' });
    expect(changes(buildInitPlan(f, d, awsWith(r)).actions)).toEqual([]);
    const other = buildInitPlan(f, decisionsFromOptions(opts({ permissionsBoundary: 'arn:aws:iam::111122223333:policy/other' }), f, {}, settingsInPlace(f, r)), awsWith(r));
    expect(other.actions.find((a) => a.type === 'role')!.summary).toBe("Set the role's permissions boundary to arn:aws:iam::111122223333:policy/other (was arn:aws:iam::111122223333:policy/boundary)");
  });
});

describe('--yes takes exactly the defaults the wizard shows', () => {
  const spoke = cluster({ name: 'spoke-3', components: ['sensor'], current: { sensor: sa() } });

  it('a cluster running only Sensor: delegated scanning, as the wizard offers "(Y/n)"; the plan configures Sensor', async () => {
    const f = facts([spoke]);
    const d = decisionsFromOptions(opts({ yes: true }), f, {}, {});
    expect(d.delegatedScanning).toBe(true);
    const plan = buildPlan(f, d, { oidcProviders: {}, role: null });
    expect(plan.blockers).toEqual([]);
    expect(plan.actions.filter((a) => a.type === 'service-account-annotation').map((a) => a.target)).toEqual(['stackrox/serviceaccount/sensor']);
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT, DEFAULT, DEFAULT] });
    const asked = await askDecisions(opts(), f, ui);
    expect(ui.asked.find((q) => q.kind === 'confirm')!.default).toBe(true);
    expect(decisionsFromOptions(asked, f)).toEqual(d);
  });

  it('the wizard offers what is in place, and Enter everywhere decides what --yes decides', async () => {
    const f = facts([cluster({ current: { central: sa(ARN), sensor: sa(ARN) } })]);
    const was: InPlace = settingsInPlace(f, role(f, { sensor: true, repositories: ['team-a/*', 'team-b/app'] }));
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT, DEFAULT, DEFAULT, DEFAULT] });
    const asked = await askDecisions(opts(), f, ui, async (name) => (name === ROLE ? was : {}));
    expect(ui.asked.map((q) => [q.kind, q.default])).toEqual([
      ['input', ROLE],
      ['confirm', true],
      ['select', 'repositories'],
      ['input', 'team-a/*, team-b/app'],
    ]);
    expect(decisionsFromOptions(asked, f, {}, was)).toEqual(decisionsFromOptions(opts({ yes: true }), f, {}, was));
  });

  it('choosing "all repositories" in the wizard widens a narrower scope in place', async () => {
    const f = facts();
    const was = settingsInPlace(f, role(f, { repositories: ['team-a/*'], region: 'eu-west-1' }));
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT, DEFAULT, 'all'] });
    const asked = await askDecisions(opts(), f, ui, async () => was);
    expect(decisionsFromOptions(asked, f, {}, was).ecr).toEqual({ registryId: ACCOUNT, repositories: [] });
  });
});

describe('plan and apply agree when a fleet moves from IRSA to Pod Identity', () => {
  const hub = cluster({ name: 'hub', current: { central: sa(ARN), sensor: sa(ARN) } });
  const spokes = [1, 2].map((n) => cluster({ name: `spoke-${n}`, context: `spoke-${n}`, issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/SPOKE${n}`, components: ['sensor'], current: { sensor: sa(ARN) } }));
  const f = facts([{ ...hub, context: 'hub', components: ['central'] }, ...spokes]);
  const irsa = role(f, { sensor: true });
  const providers = Object.fromEntries(f.clusters.map((c) => [c.issuer, { arn: oidcProviderArn('aws', ACCOUNT, c.issuer), clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: ourTags('hub') }]));
  const d = decisionsFromOptions(opts({ centralContext: 'hub', sensorContext: ['spoke-1', 'spoke-2'], mechanism: 'pod-identity', roleName: ROLE }), f);

  it('the trust-policy action owns every issuer of the run, so applying it leaves exactly the planned document', () => {
    const plan = buildPlan(f, d, { oidcProviders: providers, role: irsa, oidcProviderTrusters: {} });
    const trust = plan.actions.find((a): a is Extract<Action, { type: 'trust-policy' }> => a.type === 'trust-policy')!;
    expect(trust.status).toBe('update');
    expect(trust.document.Statement.map((s) => s.Sid)).toEqual(['RhacsStsPodIdentity']);
    expect(plan.notes).toEqual(expect.arrayContaining(['hub: was IRSA, becomes EKS Pod Identity (--mechanism).', 'spoke-1: was IRSA, becomes EKS Pod Identity (--mechanism).']));
    // What the AWS session does with the action (client.ts ensureTrust): re-merge against the role as it is.
    const ours = trust.document.Statement.filter((s) => !isPodIdentityStatement(s));
    const applied = withPodIdentityStatement(mergeTrustPolicy(irsa.trustPolicy, ours, trust.scope!), trust.document.Statement.find(isPodIdentityStatement));
    expect(applied).toEqual(trust.document);
  });

  it('OIDC providers rhacs-sts created go when no role trusts them any more, after the trust policy; one still trusted stays, saying by whom', () => {
    const trusters = Object.fromEntries(f.clusters.map((c) => [c.issuer, c.name === 'spoke-2' ? [ROLE, 'team-role'] : [ROLE]]));
    const plan = buildPlan(f, d, { oidcProviders: providers, role: irsa, oidcProviderTrusters: trusters });
    const provs = plan.actions.filter((a) => a.type === 'oidc-provider');
    expect(provs.map((a) => a.status)).toEqual(['delete', 'delete', 'unchanged']);
    expect(provs[2]!.summary).toMatch(/still trusted by team-role/);
    expect(plan.actions.findIndex((a) => a.type === 'oidc-provider')).toBeGreaterThan(plan.actions.findIndex((a) => a.type === 'trust-policy'));
    // Without the list of roles (not allowed to read it), nothing is deleted.
    const unknown = buildPlan(f, d, { oidcProviders: providers, role: irsa });
    expect(unknown.actions.filter((a) => a.type === 'oidc-provider').map((a) => a.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });
});
