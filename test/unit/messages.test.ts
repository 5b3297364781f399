// Sentences that count: the confirmation and the summary after apply say what a person would.
import { describe, expect, it } from 'vitest';
import { appliedCount, applyQuestion } from '../../src/messages.js';

describe('counted messages', () => {
  it('one change is "this change", several are "these N changes"', () => {
    expect(applyQuestion(1)).toBe('Apply this change?');
    expect(applyQuestion(5, 'central restarts with the Recreate strategy: a short outage')).toBe('Apply these 5 changes? (central restarts with the Recreate strategy: a short outage)');
  });

  it('the summary names only the places that changed, and counts Central\'s integration in RHACS, not in Kubernetes', () => {
    expect(appliedCount({ iam: 0, kube: 0, rhacs: 1 })).toBe('1 change applied (1 in RHACS)');
    expect(appliedCount({ iam: 4, kube: 2, rhacs: 0 })).toBe('6 changes applied (4 in IAM, 2 in Kubernetes)');
    expect(appliedCount({ iam: 3, kube: 2, rhacs: 1 })).toBe('6 changes applied (3 in IAM, 2 in Kubernetes, 1 in RHACS)');
  });
});
