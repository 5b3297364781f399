// `status` (src/status.ts): only what rhacs-sts manages is listed, each item healthy or not, from
// the facts discovery read — a role of ours, our OIDC provider, wiring that names the role and
// pods that carry it, operator overlays, Central's integration record.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import type { AwsState, ClusterFacts, ComponentState, Decisions, Facts } from '../../src/plan/model.js';
import { buildStatus } from '../../src/status.js';
import { renderStatusText } from '../../src/commands/status.js';
import { Chalk } from 'chalk';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const ARN = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts-prod`;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.slice('https://'.length)}`;
const TAGS = { 'rhacs-sts/managed': 'true' };

const central = (annotation: string | undefined, pods: { name: string; roleArn?: string }[], extra: Record<string, string> = {}): ComponentState => ({
  serviceAccount: { annotations: { ...(annotation ? { 'eks.amazonaws.com/role-arn': annotation } : {}), ...extra } },
  deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {}, strategy: 'Recreate' },
  pods,
});
const cluster = (state: ComponentState, over: Partial<ClusterFacts> = {}): ClusterFacts =>
  clusterFacts({ issuer: ISSUER, components: ['central'], current: { central: state }, ...over });
const facts = (c: ClusterFacts): Facts => buildFacts([c]);
const decisions: Decisions = buildDecisions();

/** The account as init leaves it: our provider and role, with its trust and ECR policy. */
function applied(f: Facts, over: { policy?: boolean; audience?: string } = {}): AwsState {
  const plan = buildPlan(f, decisions, { oidcProviders: {}, role: null });
  return {
    oidcProviders: { [ISSUER]: { arn: PROVIDER, clientIds: [over.audience ?? 'sts.amazonaws.com'], thumbprints: [], tags: TAGS } },
    role: {
      arn: ARN, path: '/', trustPolicy: plan.role.trustPolicy, attachedPolicyArns: [], tags: TAGS,
      inlinePolicies: over.policy === false ? {} : { [plan.role.permissionsPolicyName]: plan.role.permissionsPolicy },
    },
  };
}

describe('status', () => {
  it('lists our provider, role and wiring, all healthy when the pods carry the role', () => {
    const f = facts(cluster(central(ARN, [{ name: 'central-1', roleArn: ARN }], { 'rhacs-sts/ecr-integration': JSON.stringify({ id: 'i-1', created: true }) })));
    const s = buildStatus(f, applied(f), 'rhacs-sts-prod', ARN);
    expect(s.managed.map((r) => [r.kind, r.health])).toEqual([
      ['OIDC provider', 'healthy'], ['IAM role', 'healthy'], ['Wiring', 'healthy'], ['Central integration', 'healthy'],
    ]);
    expect(s.healthy).toBe(true);
    const text = renderStatusText(s, new Chalk({ level: 0 }));
    expect(text).toMatch(/^KIND +NAME +HEALTH +DETAIL$/m);
    expect(text).toMatch(/4 managed, all healthy\./);
  });

  it('marks what is broken, with a fix: pods without the role, a missing ECR policy, a provider without the audience', () => {
    const f = facts(cluster(central(ARN, [{ name: 'central-1' }])));
    const s = buildStatus(f, applied(f, { policy: false, audience: 'openshift' }), 'rhacs-sts-prod', ARN);
    const bad = s.managed.filter((r) => r.health === 'unhealthy');
    expect(bad.map((r) => r.kind)).toEqual(['OIDC provider', 'IAM role', 'Wiring']);
    expect(bad[0]!.detail).toMatch(/lacks the audience sts\.amazonaws\.com/);
    expect(bad[1]!.detail).toMatch(/ECR read policy rhacs-sts-ecr-read is missing/);
    expect(bad[2]!.fix).toBe('kubectl -n stackrox rollout restart deployment/central');
    expect(s.healthy).toBe(false);
  });

  it('lists nothing that is not ours: a foreign role, a foreign provider, wiring naming another role', () => {
    const other = `arn:aws:iam::${ACCOUNT}:role/someone-else`;
    const f = facts(cluster(central(other, [{ name: 'central-1', roleArn: other }])));
    const aws = applied(f);
    aws.role!.tags = {};
    aws.oidcProviders[ISSUER]!.tags = {};
    const s = buildStatus(f, aws, 'rhacs-sts-prod', ARN);
    expect(s.managed).toEqual([]);
    expect(s.healthy).toBe(true);
    expect(renderStatusText(s, new Chalk({ level: 0 }))).toMatch(/rhacs-sts manages nothing here/);
  });
});
