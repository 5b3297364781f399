import { describe, expect, it } from 'vitest';
import { alsoFound, ApplyError, applyPlan, type ApplyProgress } from '../../src/apply/apply.js';
import type { AwsSession } from '../../src/clouds/aws/session.js';
import type { KubeSession } from '../../src/kube/session.js';
import type { Action, Plan } from '../../src/plan/model.js';

const sa = (context: string): Action => ({
  id: `sa-annotation:${context}:stackrox:sensor`, type: 'service-account-annotation', status: 'create', target: `${context}: stackrox/serviceaccount/sensor`,
  summary: 'annotate', ref: { context, namespace: 'stackrox', name: 'sensor' }, annotations: { a: 'b' },
});
const restart = (context: string): Action => ({
  id: `restart:${context}:stackrox:sensor`, type: 'restart', status: 'update', target: `${context}: stackrox/deployment/sensor`,
  summary: 'restart', ref: { context, namespace: 'stackrox', name: 'sensor' }, method: 'restartedAt', deferred: false,
});
const trust: Action = { id: 'trust-policy', type: 'trust-policy', status: 'update', target: 'role', summary: 'trust', roleName: 'r', document: { Version: '2012-10-17', Statement: [] } };

function kube(fail: boolean, log: string[], name: string): KubeSession {
  return {
    contextName: name, server: 'https://x',
    discover: async () => { throw new Error('unused'); },
    apply: async (a) => {
      log.push(`${name} ${a.type}`);
      if (fail) throw new Error(`${name} is unreachable`);
      return true;
    },
    waitForRollouts: async () => { log.push(`${name} wait`); },
    issuerDiscovery: async () => { throw new Error('unused'); },
    requestToken: async () => { throw new Error('unused'); },
    pods: async () => null,
    annotationSetAt: async () => undefined,
  };
}
const progress: ApplyProgress = { task: () => undefined, rollout: () => undefined };
const plan = (actions: Action[]) => ({ command: 'init', actions } as unknown as Plan);

describe('applyPlan: several clusters', () => {
  it('one failing cluster stops only itself; the others finish; the error names each cluster', async () => {
    const log: string[] = [];
    const awsLog: string[] = [];
    const aws = { apply: async (a: Action) => { awsLog.push(a.id); return true; } } as unknown as AwsSession;
    const sessions = new Map([['hub', kube(false, log, 'hub')], ['spoke2', kube(true, log, 'spoke2')], ['spoke3', kube(false, log, 'spoke3')]]);
    const p = plan([trust, sa('hub'), restart('hub'), sa('spoke2'), restart('spoke2'), sa('spoke3'), restart('spoke3')]);
    const err = await applyPlan(p, { aws, kube: sessions, progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/1 of 3 clusters failed:\n {2}✗ spoke2: spoke2 is unreachable\nDone: hub, spoke3\./);
    expect((err as { hint?: string }).hint).toMatch(/Re-running "rhacs-sts init" resumes/);
    expect(awsLog).toEqual(['trust-policy']);
    // spoke2 stopped at its first failure; hub and spoke3 ran to the end, rollouts included.
    expect(log.filter((l) => l.startsWith('spoke2'))).toEqual(['spoke2 service-account-annotation']);
    expect(log.filter((l) => !l.startsWith('spoke2')).sort()).toEqual(['hub restart', 'hub service-account-annotation', 'hub wait', 'spoke3 restart', 'spoke3 service-account-annotation', 'spoke3 wait']);
  });

  it('a Central cluster and four secured clusters roll out side by side, none waiting for a free slot', async () => {
    const log: string[] = [];
    let waiting = 0;
    let most = 0;
    const contexts = ['hub', 'spoke-1', 'spoke-2', 'spoke-3', 'spoke-4'];
    const sessions = new Map(contexts.map((c) => [c, {
      ...kube(false, log, c),
      // A rollout that takes a while (a bounded number of turns of the event loop).
      waitForRollouts: async () => {
        most = Math.max(most, ++waiting);
        for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
        waiting--;
      },
    } satisfies KubeSession]));
    const aws = { apply: async () => true } as unknown as AwsSession;
    await applyPlan(plan([trust, ...contexts.flatMap((c) => [sa(c), restart(c)])]), { aws, kube: sessions, progress, timeoutMs: 1000 });
    expect(most).toBe(contexts.length);
  });

  it('an AWS failure stops the run before any cluster is touched', async () => {
    const log: string[] = [];
    const aws = { apply: async () => { throw new Error('LimitExceeded'); } } as unknown as AwsSession;
    const err = await applyPlan(plan([trust, sa('hub')]), { aws, kube: new Map([['hub', kube(false, log, 'hub')]]), progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/LimitExceeded/);
    expect(log).toEqual([]);
  });
});

describe('applyPlan: interrupted (Ctrl-C)', () => {
  const perms: Action = { ...trust, id: 'permissions-policy', type: 'permissions-policy', policyName: 'p' } as Action;

  it('finishes the step in progress, starts no other, and reports what was applied (exit 130)', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    // The user presses Ctrl-C while the trust policy is being written.
    const aws = { apply: async (a: Action) => { log.push(a.id); if (a.id === 'trust-policy') controller.abort(); return true; } } as unknown as AwsSession;
    const err = await applyPlan(plan([trust, perms, sa('hub'), restart('hub')]), {
      aws, kube: new Map([['hub', kube(false, log, 'hub')]]), progress, timeoutMs: 1000, signal: controller.signal,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).exitCode).toBe(130);
    expect(log).toEqual(['trust-policy']);
    expect((err as ApplyError).applied.map((r) => [r.id, r.outcome])).toEqual([['trust-policy', 'done']]);
    expect((err as ApplyError).message).toMatch(/^Interrupted: the step in progress was finished; no further step was started\.\nDone before the interruption:\n {2}✓ role \(trust-policy\)$/);
    expect((err as ApplyError).hint).toMatch(/Re-running "rhacs-sts init" resumes/);
  });

  it('a failure after contact is exit 1, even when the cause was an input-style error', async () => {
    const aws = { apply: async () => { throw Object.assign(new Error('x'), { exitCode: 2 }); } } as unknown as AwsSession;
    const err = await applyPlan(plan([trust]), { aws, kube: new Map(), progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect((err as ApplyError).exitCode).toBe(1);
  });
});

describe('applyPlan: uninstall', () => {
  it('reverts the clusters first, then AWS; a failing cluster keeps the role in place', async () => {
    const order: string[] = [];
    const aws = { apply: async (a: Action) => { order.push(a.id); return true; } } as unknown as AwsSession;
    const del: Action = { id: 'role', type: 'role', status: 'delete', target: 'role', summary: 'delete', name: 'r', path: '/', arn: 'arn', tags: {} };
    const uninstall = (actions: Action[]) => ({ command: 'uninstall', actions } as unknown as Plan);
    await applyPlan(uninstall([sa('hub'), del]), { aws, kube: new Map([['hub', kube(false, order, 'hub')]]), progress, timeoutMs: 1000 });
    expect(order).toEqual(['hub service-account-annotation', 'role']);

    const order2: string[] = [];
    const aws2 = { apply: async (a: Action) => { order2.push(a.id); return true; } } as unknown as AwsSession;
    const err = await applyPlan(uninstall([sa('hub'), del]), { aws: aws2, kube: new Map([['hub', kube(true, order2, 'hub')]]), progress, timeoutMs: 1000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(order2).toEqual(['hub service-account-annotation']);
  });
});

describe('applyPlan: outcomes in the plan\'s unit', () => {
  const role: Action = { id: 'role', type: 'role', status: 'create', target: 'role', summary: 'create the role', name: 'r', path: '/', arn: 'arn', tags: {} };
  const newTrust: Action = { ...trust, status: 'create' } as Action;
  const recorder = () => {
    const seen: string[] = [];
    const p: ApplyProgress = { task: (a, state, detail) => { if (state !== 'pending' && state !== 'running') seen.push(`${a.id} ${state}${detail ? ` (${detail})` : ''}`); }, rollout: () => undefined };
    return { seen, p };
  };

  it('counts the trust policy of a role it created as done (written with the role), not as already in place', async () => {
    // The session writes the role (with its trust policy), then finds the trust policy as wanted.
    const aws = { apply: async (a: Action) => a.type === 'role' } as unknown as AwsSession;
    const { seen, p } = recorder();
    const results = await applyPlan(plan([role, newTrust]), { aws, kube: new Map(), progress: p, timeoutMs: 1000 });
    expect(results.map((r) => `${r.id} ${r.outcome}`)).toEqual(['role done', 'trust-policy done']);
    expect(seen).toEqual(['role done', 'trust-policy done (set when the role was created)']);
  });

  it('says "already in place" only for a change found done when applied, and counts it apart', async () => {
    // The role existed (another run created it meanwhile): its trust policy was not written with it.
    const aws = { apply: async () => false } as unknown as AwsSession;
    const { seen, p } = recorder();
    const pl = plan([role, newTrust]);
    const results = await applyPlan(pl, { aws, kube: new Map(), progress: p, timeoutMs: 1000 });
    expect(results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(seen).toEqual(['role unchanged (already in place)', 'trust-policy unchanged (already in place)']);
    expect(alsoFound(pl, results)).toBe('; 2 were already in place');
  });

  it('a removal that finds nothing of ours says so, not "already in place"', async () => {
    const del: Action = { ...role, status: 'delete' } as Action;
    const aws = { apply: async () => false } as unknown as AwsSession;
    const { seen, p } = recorder();
    const pl = { command: 'uninstall', actions: [del] } as unknown as Plan;
    const results = await applyPlan(pl, { aws, kube: new Map(), progress: p, timeoutMs: 1000 });
    expect(seen).toEqual(['role unchanged (nothing of ours left to remove)']);
    expect(alsoFound(pl, results)).toBe('; 1 was already removed');
  });

  it('a rollout started by the env change is done (and waited for), though it writes nothing itself', async () => {
    const log: string[] = [];
    const session = { ...kube(false, log, 'hub'), apply: async (a: Action) => { log.push(`hub ${a.type}`); return a.type !== 'restart'; } };
    const rollout = { ...restart('hub'), method: 'rollout' } as Action;
    const { seen, p } = recorder();
    const results = await applyPlan(plan([sa('hub'), rollout]), { kube: new Map([['hub', session]]), progress: p, timeoutMs: 1000 });
    expect(results.map((r) => r.outcome)).toEqual(['done', 'done']);
    expect(seen).toEqual(['sa-annotation:hub:stackrox:sensor done', 'restart:hub:stackrox:sensor done']);
    expect(log).toEqual(['hub service-account-annotation', 'hub restart', 'hub wait']);
  });

  it('unchanged actions are not counted as found in place', async () => {
    const aws = { apply: async () => true } as unknown as AwsSession;
    const pl = plan([{ ...role, status: 'unchanged' } as Action, newTrust]);
    const results = await applyPlan(pl, { aws, kube: new Map(), progress, timeoutMs: 1000 });
    expect(results.map((r) => `${r.id} ${r.outcome}`)).toEqual(['role unchanged', 'trust-policy done']);
    expect(alsoFound(pl, results)).toBe('');
  });
});
