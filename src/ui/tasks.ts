/**
 * Progress of an apply: one line per action (pending, running, done, failed, skipped) and the
 * rollout of each restarted deployment. At a terminal the list is redrawn in place; otherwise
 * each change of state is one plain line, so logs stay readable.
 */
import type { ApplyProgress, TaskState } from '../apply/apply.js';
import type { Action } from '../plan/model.js';
import type { LiveRegion, Ui } from './ui.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;

interface Row {
  action: Action;
  state: TaskState;
  detail?: string;
  rollout?: { message: string; done: boolean };
}

export type TaskList = ApplyProgress & { stop(): void };

export function createTaskList(ui: Ui): TaskList {
  const region = ui.live();
  return region ? liveTaskList(ui, region) : plainTaskList(ui);
}

function marks(ui: Ui): Record<TaskState, string> {
  const c = ui.logColors;
  return {
    pending: c.dim('·'),
    running: c.cyan('…'),
    done: c.green('✓'),
    unchanged: c.dim('='),
    failed: c.red('✗'),
    skipped: c.yellow('-'),
  };
}

function plainTaskList(ui: Ui): TaskList {
  const c = ui.logColors;
  const mark = marks(ui);
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

function liveTaskList(ui: Ui, region: LiveRegion): TaskList {
  const c = ui.logColors;
  const mark = marks(ui);
  const rows: Row[] = [];
  const extraRollouts = new Map<string, Row['rollout']>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // A restart is written at once, but finishes only when its rollout does.
  const waiting = (r: Row) => !stopped && r.action.type === 'restart' && r.state === 'done' && !r.rollout?.done;

  const render = () => {
    const spin = c.cyan(FRAMES[frame % FRAMES.length]!);
    const lines: string[] = [];
    for (const r of rows) {
      const m = r.state === 'running' || waiting(r) ? spin : mark[r.state];
      const text = r.state === 'pending' ? c.dim(r.action.summary) : r.action.summary;
      lines.push(`${m} ${text}${r.detail ? c.dim(` (${r.detail})`) : ''}`);
      if (r.rollout) lines.push(`    ${r.rollout.done ? c.green('✓') : spin} ${c.dim(`rollout: ${r.rollout.message}`)}`);
    }
    for (const [key, ro] of extraRollouts) lines.push(`    ${ro!.done ? c.green('✓') : spin} ${c.dim(`rollout ${key}: ${ro!.message}`)}`);
    region.update(lines);
  };
  const animating = () => rows.some((r) => r.state === 'running' || waiting(r) || (r.rollout && !r.rollout.done))
    || [...extraRollouts.values()].some((r) => !r!.done);
  const tick = () => {
    if (animating()) {
      timer ??= setInterval(() => {
        frame++;
        render();
      }, FRAME_MS);
      timer.unref?.();
    } else if (timer) {
      clearInterval(timer);
      timer = undefined;
    }
    render();
  };

  return {
    task(a, state, detail) {
      let row = rows.find((r) => r.action.id === a.id);
      if (!row) {
        // Actions with nothing to do were shown in the plan; the list shows the work.
        if (state === 'unchanged' && !detail) return;
        row = { action: a, state };
        rows.push(row);
      }
      row.state = state;
      row.detail = state === 'failed' ? detail?.split('\n')[0] : detail;
      tick();
    },
    rollout(namespace, name, message) {
      const done = message.startsWith('rolled out');
      const row = rows.find((r) => r.action.type === 'restart' && r.action.ref.namespace === namespace && r.action.ref.name === name);
      if (row) row.rollout = { message, done };
      else extraRollouts.set(`${namespace}/${name}`, { message, done });
      tick();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      stopped = true;
      // Anything still spinning stopped without an answer: show it as not finished.
      for (const r of rows) if (r.rollout && !r.rollout.done) r.rollout.message += ' (not finished)';
      render();
      region.done();
    },
  };
}
