// The step runner (src/steps/run.ts) and the shared steps of init and uninstall: the confirmation
// and what is left for later, with a scripted Ui.
import { describe, expect, it } from 'vitest';
import { confirmChanges } from '../../src/steps/confirm.js';
import { inTurn, runSteps, type Step } from '../../src/steps/run.js';
import { DeclinedError, InputError } from '../../src/errors.js';
import { createMemoryUi } from '../../src/ui/memory.js';
import { afterInit, afterUninstall, printDeferred } from '../../src/steps/deferred.js';
import type { HelmValuesFile } from '../../src/apply/helm-values.js';
import type { Plan } from '../../src/plan/model.js';

interface Ctx { seen: string[]; n?: number }

const push = (name: string): Step<Ctx> => (c) => { c.seen.push(name); };

describe('runSteps', () => {
  it('runs every step in order over one context, awaiting each', async () => {
    const slow: Step<Ctx> = async (c) => {
      await new Promise((r) => setTimeout(r, 5));
      c.seen.push('slow');
      c.n = 1;
    };
    const reads: Step<Ctx> = (c) => { c.seen.push(`n=${c.n}`); };
    const ctx = await runSteps<Ctx>({ seen: [] }, [push('a'), slow, reads, push('b')]);
    expect(ctx.seen).toEqual(['a', 'slow', 'n=1', 'b']);
  });

  it("stops after a step that returns 'done'", async () => {
    const ctx = await runSteps<Ctx>({ seen: [] }, [push('a'), (c) => { c.seen.push('stop'); return 'done'; }, push('never')]);
    expect(ctx.seen).toEqual(['a', 'stop']);
  });

  it('lets an error through and runs nothing after it', async () => {
    const seen: string[] = [];
    await expect(runSteps<Ctx>({ seen }, [push('a'), () => { throw new Error('boom'); }, push('never')])).rejects.toThrow('boom');
    expect(seen).toEqual(['a']);
  });

  it('inTurn runs several steps as one, and passes a stop on', async () => {
    const ctx = await runSteps<Ctx>({ seen: [] }, [inTurn(push('a'), push('b')), push('c')]);
    expect(ctx.seen).toEqual(['a', 'b', 'c']);
    const stopped = await runSteps<Ctx>({ seen: [] }, [inTurn(push('a'), () => 'done', push('b')), push('c')]);
    expect(stopped.seen).toEqual(['a']);
  });
});

describe('confirmChanges', () => {
  const wording = { question: (n: number, outage?: string) => `Apply ${n}?${outage ? ` (${outage})` : ''}`, review: 'rhacs-sts plan', blankLine: true };

  it('--yes applies without asking, still saying the outage', async () => {
    const ui = createMemoryUi({ interactive: true });
    await confirmChanges({ yes: true }, ui, 3, wording, 'central restarts');
    expect(ui.asked).toEqual([]);
    expect(ui.stderr.join('\n')).toContain('central restarts.');
  });

  it('not at a terminal, applying needs --yes: an input error naming it and the review command', async () => {
    const ui = createMemoryUi({ interactive: false });
    const err = await confirmChanges({ yes: false }, ui, 2, wording).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([{ source: '--yes', message: 'is required to apply 2 changes when not running at a terminal' }]);
    expect((err as InputError).hint).toBe('Review the plan with "rhacs-sts plan", then re-run with --yes.');
  });

  it('at a terminal asks the question (default no); "no" declines', async () => {
    const ui = createMemoryUi({ interactive: true, answers: [false] });
    await expect(confirmChanges({ yes: false }, ui, 1, wording, 'an outage')).rejects.toBeInstanceOf(DeclinedError);
    expect(ui.asked).toMatchObject([{ kind: 'confirm', message: 'Apply 1? (an outage)', default: false }]);
  });
});

describe('printDeferred: what is left for later, worded for init and for uninstall', () => {
  const plan = {
    actions: [
      { type: 'restart', id: 'r1', ref: { namespace: 'stackrox', name: 'central', context: 'hub' }, method: 'restartedAt', deferred: true, outage: true },
      { type: 'restart', id: 'r2', ref: { namespace: 'stackrox', name: 'sensor' }, method: 'rollout', deferred: true },
      { type: 'restart', id: 'r3', ref: { namespace: 'stackrox', name: 'scanner' }, method: 'restartedAt', deferred: false },
    ],
    helmValues: [{ release: 'stackrox-secured-cluster-services', chart: 'stackrox-secured-cluster-services', namespace: 'stackrox', values: {} }],
  } as unknown as Plan;

  it('after init: numbered among the next steps, with the outage and where the values come from', () => {
    const ui = createMemoryUi();
    printDeferred(plan, undefined, ui, afterInit('  3. '));
    expect(ui.stderr[0]).toBe('  3. Restart the pods so they pick up the role:');
    expect(ui.stderr[1]).toBe('       kubectl --context hub -n stackrox rollout restart deployment/central (Recreate strategy: a short outage)');
    expect(ui.stderr[2]).toBe('  When a rollout suits, apply the Helm values, which sets the environment and rolls sensor:');
    expect(ui.stderr[3]).toMatch(/^ {7}helm upgrade stackrox-secured-cluster-services /);
    expect(ui.stderr[4]).toBe('     (<file>: the values shown in the plan for that release; --helm-values-out writes them)');
    expect(ui.stderr).toHaveLength(5);
  });

  it('after uninstall: what makes the pods stop using the role, without the outage note', () => {
    const ui = createMemoryUi();
    printDeferred(plan, [{ release: 'stackrox-secured-cluster-services', file: 'values-sc.yaml' } as HelmValuesFile], ui, afterUninstall);
    expect(ui.stderr).toEqual([
      'Restart later so the pods stop using the role:',
      '  kubectl --context hub -n stackrox rollout restart deployment/central',
      'When a rollout suits, apply the Helm values that undo the wiring (this rolls the pods):',
      expect.stringMatching(/^ {2}helm upgrade stackrox-secured-cluster-services .*-f values-sc\.yaml/),
    ]);
  });
});
