/** Progress of an apply: one line per action as it runs, finishes, fails or is skipped. */
import type { ApplyProgress, TaskState } from '../apply/apply.js';
import type { Action } from '../plan/model.js';
import type { Ui } from './ui.js';

export function createTaskList(ui: Ui): ApplyProgress & { stop(): void } {
  const c = ui.logColors;
  const mark: Record<TaskState, string> = {
    pending: c.dim('·'),
    running: c.cyan('…'),
    done: c.green('✓'),
    unchanged: c.dim('='),
    failed: c.red('✗'),
    skipped: c.yellow('-'),
  };
  const lastRollout = new Map<string, string>();
  return {
    task(a: Action, state: TaskState, detail?: string) {
      // Pending and unchanged actions were shown in the plan; only report movement.
      if (state === 'pending' || (state === 'unchanged' && !detail)) return;
      if (state === 'running') {
        ui.step(`${a.summary}…`);
        return;
      }
      const line = `${mark[state]} ${a.summary}${detail ? c.dim(` (${detail})`) : ''}`;
      if (state === 'failed') ui.warn(line);
      else ui.info(line);
    },
    rollout(namespace, name, message) {
      const key = `${namespace}/${name}`;
      if (lastRollout.get(key) === message) return;
      lastRollout.set(key, message);
      ui.step(`rollout ${key}: ${message}`);
    },
    stop() {},
  };
}
