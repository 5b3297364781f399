/**
 * Progress of an apply: one line per action (pending, running, done, failed, skipped) and the
 * rollout of each restarted deployment. At a terminal the list is redrawn in place; otherwise
 * each change of state is one plain line, so logs stay readable.
 */
import type { ApplyProgress, TaskState } from './progress.js';
import type { AnyAction as Action } from '../plan/model.js';
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

export interface TaskListOptions {
  /** The plan changes several clusters: every line about one says which (its context). */
  labelClusters?: boolean;
}

export function createTaskList(ui: Ui, options: TaskListOptions = {}): TaskList {
  const region = ui.live();
  const label = options.labelClusters ? clusterLabel : () => '';
  return region ? liveTaskList(ui, region, label) : plainTaskList(ui, label);
}

/** The cluster an action is about, as the kubeconfig context it was named by. */
export function actionContext(a: Action): string | undefined {
  if ('ref' in a) return a.ref.context ?? '';
  if (a.type === 'pod-identity-association') return a.context ?? '';
  return undefined;
}

/** Whether a plan's actions reach more than one cluster. */
export function spansClusters(actions: Action[]): boolean {
  return new Set(actions.flatMap((a) => {
    const c = actionContext(a);
    return c === undefined ? [] : [c];
  })).size > 1;
}

type Label = (context: string | undefined) => string;

/** "[hub] ", "[current context] "; nothing for an account-wide (AWS) action. */
function clusterLabel(context: string | undefined): string {
  return context === undefined ? '' : `[${context || 'current context'}] `;
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

function plainTaskList(ui: Ui, label: Label): TaskList {
  const c = ui.logColors;
  const mark = marks(ui);
  const lastRollout = new Map<string, string>();
  return {
    task(a: Action, state: TaskState, detail?: string) {
      // Pending and unchanged actions were shown in the plan; only report movement.
      if (state === 'pending' || (state === 'unchanged' && !detail)) return;
      const where = label(actionContext(a));
      if (state === 'running') {
        ui.step(`${where}${a.summary}…`);
        return;
      }
      const line = `${mark[state]} ${where}${a.summary}${detail ? c.dim(` (${detail})`) : ''}`;
      if (state === 'failed') ui.warn(line);
      else ui.info(line);
    },
    rollout(namespace, name, message, context) {
      const key = `${context ?? ''}\0${namespace}/${name}`;
      if (lastRollout.get(key) === message) return;
      lastRollout.set(key, message);
      ui.step(`${label(context ?? '')}rollout ${namespace}/${name}: ${message}`);
    },
    stop() {},
  };
}

function liveTaskList(ui: Ui, region: LiveRegion, label: Label): TaskList {
  const c = ui.logColors;
  const mark = marks(ui);
  const rows: Row[] = [];
  const extraRollouts = new Map<string, Row['rollout']>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // A restart is written at once, but finishes only when its rollout does (apply reports it done then).
  const waiting = (r: Row) => !stopped && r.action.type === 'restart' && r.state === 'done' && !r.rollout?.done;

  const render = () => {
    const spin = c.cyan(FRAMES[frame % FRAMES.length]!);
    const lines: string[] = [];
    for (const r of rows) {
      const m = r.state === 'running' || waiting(r) ? spin : mark[r.state];
      const summary = `${label(actionContext(r.action))}${r.action.summary}`;
      const text = r.state === 'pending' ? c.dim(summary) : summary;
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
    rollout(namespace, name, message, context) {
      const done = message.startsWith('rolled out');
      const row = rows.find((r) => r.action.type === 'restart' && r.action.ref.namespace === namespace && r.action.ref.name === name
        && (context === undefined || (r.action.ref.context ?? '') === context));
      if (row) row.rollout = { message, done };
      else extraRollouts.set(`${label(context ?? '')}${namespace}/${name}`, { message, done });
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
