/**
 * Ctrl-C while changes are being applied: the step in progress finishes (a half-written IAM role
 * or Deployment helps nobody), no further step starts, and the run ends with what was applied and
 * that a re-run resumes (exit 130). A second Ctrl-C stops at once.
 *
 * Between changes (after some were made, before the next ones start), `reportOnInterrupt` ends
 * the run at once saying what was done. Before anything changed, the entry point's own handler
 * ends the run: nothing has been changed then.
 */
import { printable } from '../render/safe-text.js';
import type { Ui } from '../ui/ui.js';

/** How many apply handlers are active: while one is, it answers Ctrl-C, not the outer ones. */
let applying = 0;

export async function withInterruptHandling<T>(ui: Ui, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  let count = 0;
  const controller = new AbortController();
  const onSigint = () => {
    count++;
    if (count === 1) {
      controller.abort();
      ui.warn('Interrupted: finishing the step in progress, then stopping. Press Ctrl-C again to stop at once.');
      return;
    }
    process.stderr.write('\nStopped at once: the step in progress may be half done. Re-running the same command resumes.\n');
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  applying++;
  try {
    return await work(controller.signal);
  } finally {
    applying--;
    process.off('SIGINT', onSigint);
  }
}

/**
 * Runs `work`, during which some changes may already have been made (a publish's bucket, the
 * clusters done by a run of several): Ctrl-C outside an apply step ends the run at once with
 * `done()`, which says what was changed and how to resume, instead of "nothing was changed".
 */
export async function reportOnInterrupt<T>(done: () => string, work: () => Promise<T>): Promise<T> {
  const onSigint = () => {
    if (applying > 0) return;
    process.stderr.write(`\nInterrupted: ${printable(done())}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSigint);
  }
}
