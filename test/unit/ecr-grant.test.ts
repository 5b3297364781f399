// Cross-account ECR: the repository-policy statement the registry owner must add (in the plan, its
// text and its JSON), the scope read back from our own policy, and the local evaluation of a policy
// (inline or permissions boundary) over the role's scope.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import type { Decisions, Facts } from '../../src/plan/model.js';
import { ECR_READ_ACTIONS, ecrScopeOfPolicy, permissionsPolicy, repositoryGrant, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { planToJson } from '../../src/render/plan-json.js';
import { renderPlanText, repositoryGrantLines } from '../../src/render/plan-text.js';
import { evaluatePolicy, notAllowed } from '../../src/clouds/aws/verify/permissions-eval.js';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const REGISTRY = '444455556666';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rhacs/rhacs-sts-prod`;
const plain = new Chalk({ level: 0 });

const facts: Facts = buildFacts([clusterFacts({ issuer: ISSUER, components: ['central'] })], { offline: true });
const decisions = (ecr: Decisions['ecr']): Decisions => buildDecisions({ rolePath: '/rhacs/', ecr });

describe('repositoryGrant: what the owner of a registry in another account adds', () => {
  it('is absent for the role\'s own registry', () => {
    expect(repositoryGrant(ROLE, ACCOUNT, { registryId: ACCOUNT, repositories: [] })).toBeUndefined();
    expect(buildPlan(facts, decisions({ registryId: ACCOUNT, repositories: [] }), undefined).repositoryGrant).toBeUndefined();
  });

  it('is a repository-policy statement: the role (with its path) as principal, the read actions, no resource, a Sid per role', () => {
    const g = repositoryGrant(ROLE, ACCOUNT, { registryId: REGISTRY, region: 'eu-central-1', repositories: ['shared/base', 'a/app'] })!;
    expect(g).toEqual({
      registryId: REGISTRY,
      region: 'eu-central-1',
      repositories: ['a/app', 'shared/base'],
      statement: { Sid: expect.stringMatching(/^RhacsStsRead[0-9a-f]{8}$/), Effect: 'Allow', Principal: { AWS: ROLE }, Action: [...ECR_READ_ACTIONS] },
    });
    expect(g.statement).not.toHaveProperty('Resource');
    expect(repositoryGrant(`${ROLE}-2`, ACCOUNT, { registryId: REGISTRY, repositories: [] })!.statement.Sid).not.toBe(g.statement.Sid);
  });

  it('is in the plan, its JSON and its text, with the aws command for a repository without a policy', () => {
    const plan = buildPlan(facts, decisions({ registryId: REGISTRY, region: 'eu-central-1', repositories: ['shared/base'] }), undefined);
    expect(plan.repositoryGrant?.statement.Principal).toEqual({ AWS: plan.role.arn });
    expect(JSON.parse(planToJson(plan)).repositoryGrant).toEqual(JSON.parse(JSON.stringify(plan.repositoryGrant)));
    const text = renderPlanText(plan, plain);
    expect(text).toContain(`Registry ${REGISTRY} is in another account: its owner must grant the role read access.`);
    expect(text).toContain('so the registry owner adds this statement to the repository policy of repository shared/base:');
    expect(text).toContain(`"AWS": "${ROLE}"`);
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [plan.repositoryGrant!.statement] });
    expect(text).toContain(`aws ecr set-repository-policy --registry-id ${REGISTRY} --region eu-central-1 --repository-name shared/base --policy-text '${policy}'`);
    expect(text).toMatch(/set-repository-policy replaces the whole policy/);
  });

  it('names every repository in scope, with a placeholder command for prefixes or an unknown region', () => {
    const lines = repositoryGrantLines(repositoryGrant(ROLE, ACCOUNT, { registryId: REGISTRY, repositories: ['team/*'] })!, plain).join('\n');
    expect(lines).toContain('repository policy of every repository RHACS reads there (team/*):');
    expect(lines).toContain(`--registry-id ${REGISTRY} --region <registry region> --repository-name <repository> --policy-text`);
  });
});

describe('ecrScopeOfPolicy: the scope our permissions policy grants', () => {
  it.each([
    [{ registryId: REGISTRY, repositories: [] }],
    [{ registryId: REGISTRY, region: 'us-east-1', repositories: ['shared/base', 'team/*'] }],
    [{ registryId: ACCOUNT, repositories: ['app'] }],
  ])('reads back %j', (scope) => {
    expect(ecrScopeOfPolicy(permissionsPolicy('aws', scope))).toEqual({ ...scope, repositories: [...scope.repositories].sort() });
  });

  it('is undefined for a policy that is not ours', () => {
    expect(ecrScopeOfPolicy(undefined)).toBeUndefined();
    expect(ecrScopeOfPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] })).toBeUndefined();
  });
});

describe('evaluatePolicy: a policy over the role\'s scope', () => {
  const doc = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '2012-10-17', Statement });
  const scope = 'arn:aws:ecr:*:444455556666:repository/team/*';

  it('allows only when a statement covers all of the scope', () => {
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }), 'ecr:BatchGetImage', scope)).toBe('allow');
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: 'ECR:batchgetimage', Resource: 'arn:aws:ecr:*:444455556666:repository/*' }), 'ecr:BatchGetImage', scope)).toBe('allow');
    // Only one region of "any region": not all of it.
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:eu-west-1:444455556666:repository/*' }), 'ecr:BatchGetImage', scope)).toBe('none');
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*' }), 'ecr:BatchGetImage', scope)).toBe('none');
    expect(evaluatePolicy(doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } as never), 'ecr:BatchGetImage', scope)).toBe('allow');
  });

  it('denies when a Deny reaches any part of the scope', () => {
    const allowAll = { Effect: 'Allow' as const, Action: '*', Resource: '*' };
    expect(evaluatePolicy(doc(allowAll, { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: 'arn:aws:ecr:us-east-1:444455556666:repository/team/secret' }), 'ecr:BatchGetImage', scope)).toBe('deny');
    expect(evaluatePolicy(doc(allowAll, { Effect: 'Deny', Action: 'ecr:*', NotResource: 'arn:aws:ecr:*:111122223333:*' } as never), 'ecr:BatchGetImage', scope)).toBe('deny');
    expect(notAllowed(doc(allowAll), [{ action: 'ecr:BatchGetImage', resource: scope }])).toEqual([]);
  });
});
