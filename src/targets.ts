/**
 * The clusters a run names, from the options alone (no I/O): the one cluster (--context or the
 * current context), or Central's and each secured cluster's. Both discovery and the questions
 * use it; neither depends on the other for it.
 */
import type { Options } from './options/options.js';

/** Which RHACS components a cluster contributes: both, or only one when Central and Sensor run apart. */
export type ClusterRole = 'both' | 'central' | 'sensor';

export interface ClusterTarget {
  /** Key in Sessions.kube. */
  key: string;
  /** Context as given (undefined: the kubeconfig's current context). */
  context?: string;
  role: ClusterRole;
  /** The flag that names this cluster, for messages. */
  flag: '--context' | '--central-context' | '--sensor-context';
}

/**
 * The clusters the options name: one (--context or the current context), or Central's (from
 * --central-context, else the current context) and each secured cluster's Sensor.
 */
export function clusterTargets(options: Pick<Options, 'context' | 'centralContext' | 'sensorContexts'>): ClusterTarget[] {
  if (options.sensorContexts.length) {
    return [
      { key: options.centralContext ?? '', context: options.centralContext, role: 'central', flag: '--central-context' },
      ...options.sensorContexts.map((c) => ({ key: c, context: c, role: 'sensor' as const, flag: '--sensor-context' as const })),
    ];
  }
  if (options.centralContext) return [{ key: options.centralContext, context: options.centralContext, role: 'both', flag: '--central-context' }];
  return [{ key: options.context ?? '', context: options.context, role: 'both', flag: '--context' }];
}
