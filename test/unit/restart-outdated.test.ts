import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import { restartOutdated } from '../../src/plan/restarts.js';
import type { Decisions, Facts } from '../../src/plan/model.js';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

describe('restartOutdated', () => {
  it.each([
    ['no record of when the annotation was set', undefined, {}, false],
    ['never restarted since', '2026-11-29T07:00:00.000Z', {}, true],
    ['restarted before the annotation', '2026-11-29T07:00:05.000Z', { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T07:00:04.900Z' }, true],
    ['restarted in the same second (managedFields have whole seconds)', '2026-11-29T07:00:05.000Z', { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T07:00:05.300Z' }, false],
    ['restarted later', '2026-11-29T07:00:05.000Z', { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T08:00:00Z' }, false],
  ])('%s', (_what, setAt, annotations, expected) => {
    expect(restartOutdated(setAt, annotations)).toBe(expected);
  });
});

describe('a run that stopped between annotating and restarting', () => {
  it('plans the restart on the next run although the annotation is in place', () => {
    const arn = 'arn:aws:iam::111122223333:role/rhacs-sts';
    const facts: Facts = buildFacts([
      clusterFacts({
        issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', components: ['central'],
        current: {
          central: {
            serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': arn }, roleAnnotationSetAt: '2026-11-29T07:00:00.000Z' },
            deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
          },
        },
      }),
    ], { clusterName: undefined });
    const decisions: Decisions = buildDecisions({ roleName: 'rhacs-sts' });
    const plan = buildPlan(facts, decisions, undefined);
    expect(plan.actions.find((a) => a.type === 'service-account-annotation')!.status).toBe('unchanged');
    expect(plan.actions.find((a) => a.type === 'restart')!.status).toBe('update');
  });
});
