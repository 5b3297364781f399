// What apply reports as it goes; the Ui draws it (ui/tasks.ts). Here, below both, so that neither reaches up.
import type { AnyAction } from '../plan/model.js';

export type TaskState = 'pending' | 'running' | 'done' | 'unchanged' | 'failed' | 'skipped';

export interface ApplyProgress {
  task(action: AnyAction, state: TaskState, detail?: string): void;
  /** A rollout's progress; `context` names the cluster ('' for the current context). */
  rollout(namespace: string, name: string, message: string, context?: string): void;
}
