/**
 * Ctrl-C while changes are being applied: the step in progress finishes (a half-written IAM role
 * or Deployment helps nobody), no further step starts, and the run ends with what was applied and
 * that a re-run resumes (exit 130). A second Ctrl-C stops at once.
 *
 * Outside apply, the entry point's own handler ends the run: nothing has been changed then.
 */
import type { Ui } from '../ui/ui.js';

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
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
