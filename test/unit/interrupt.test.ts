/** Ctrl-C after some changes were made: the message says what was done, never "nothing was changed". */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportOnInterrupt, withInterruptHandling } from '../../src/apply/interrupt.js';
import { createMemoryUi } from '../../src/ui/memory.js';

afterEach(() => vi.restoreAllMocks());

function trap() {
  const exits: (number | undefined)[] = [];
  const stderr: string[] = [];
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => { exits.push(code); }) as never);
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => { stderr.push(s); return true; }) as never);
  return { exits, stderr };
}

describe('reportOnInterrupt', () => {
  it('ends the run with exit 130, saying what was done', async () => {
    const { exits, stderr } = trap();
    const before = process.listenerCount('SIGINT');
    await reportOnInterrupt(() => 'the bucket b is published; the cluster was not changed.', async () => {
      process.emit('SIGINT');
    });
    expect(exits).toEqual([130]);
    expect(stderr.join('')).toBe('\nInterrupted: the bucket b is published; the cluster was not changed.\n');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('leaves Ctrl-C to the apply handling while a step is applied (which finishes it, then stops)', async () => {
    const { exits, stderr } = trap();
    const ui = createMemoryUi();
    let aborted = false;
    await reportOnInterrupt(() => 'outer', () => withInterruptHandling(ui, async (signal) => {
      process.emit('SIGINT');
      aborted = signal.aborted;
    }));
    expect(aborted).toBe(true);
    expect(exits).toEqual([]);
    expect(stderr.join('')).not.toContain('outer');
    expect(ui.stderr.join('\n')).toMatch(/Interrupted: finishing the step in progress/);
  });
});
