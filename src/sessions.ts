// The open sessions of a run and what discovery found: read by discover, verify, uninstall and the
// commands. Here, below all of them, so that verify and the rest need not import discover.
import type { AwsSession } from './clouds/aws/session.js';
import type { KubeSession } from './kube/session.js';
import type { AwsState, Decisions, Facts } from './plan/model.js';

export interface Sessions {
  aws: AwsSession;
  /** By context name; '' for the current context. */
  kube: Map<string, KubeSession>;
  /**
   * Secured clusters (--sensor-context) that could not be reached or read: left out of this run,
   * so that one cluster down does not stop the others. The run then ends with exit code 1.
   */
  unreachable?: { context: string; message: string }[];
}

export interface Discovered {
  facts: Facts;
  decisions: Decisions;
  aws: AwsState;
  warnings: string[];
}
