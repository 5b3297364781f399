// Which RHACS components a run gives a cloud identity to (cloud-neutral).
import type { ClusterFacts, Component } from './model.js';

/** Components that get a cloud identity in a cluster: Central always, Sensor with delegated scanning. */
export function targetComponents(cluster: ClusterFacts, delegatedScanning: boolean): Component[] {
  return cluster.components.filter((c) => c === 'central' || (c === 'sensor' && delegatedScanning));
}
