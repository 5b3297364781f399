// What became of each action of a plan once applied (rendered in the JSON document and the summary).
import type { AnyAction } from './model.js';

export interface ApplyResult {
  id: string;
  type: AnyAction['type'];
  target: string;
  outcome: 'done' | 'unchanged' | 'skipped' | 'failed';
  /** The kubeconfig context of a Kubernetes action ('' for the current context). */
  context?: string;
  error?: string;
}
