// The GKE cluster as Google sees it: is workload identity on, and do the node pools that run RHACS
// use the GKE metadata server (without it, pods act as the node's service account).
import type { GcpSession } from './session.js';

export interface GkeClusterRef {
  projectId: string;
  location: string;
  name: string;
}

export interface GkeNodePoolFacts {
  name: string;
  /** `config.workloadMetadataConfig.mode`: GKE_METADATA, GCE_METADATA, MODE_UNSPECIFIED (absent → unspecified). */
  metadataMode: string;
}

export interface GkeClusterFacts extends GkeClusterRef {
  /** `workloadIdentityConfig.workloadPool` (`<project>.svc.id.goog`); absent when workload identity is off. */
  workloadPool?: string;
  nodePools: GkeNodePoolFacts[];
}

export type GkeProblem =
  | { kind: 'workload-identity-off'; cluster: string; message: string; fix: string }
  | { kind: 'node-pool-metadata'; cluster: string; nodePool: string; mode: string; message: string; fix: string };

/** Reads the cluster (one call: the cluster carries its node pools). */
export async function readGkeCluster(session: GcpSession, ref: GkeClusterRef): Promise<GkeClusterFacts> {
  const path = `v1/projects/${encodeURIComponent(ref.projectId)}/locations/${encodeURIComponent(ref.location)}/clusters/${encodeURIComponent(ref.name)}`;
  const c = await session.call<{
    workloadIdentityConfig?: { workloadPool?: string };
    nodePools?: { name?: string; config?: { workloadMetadataConfig?: { mode?: string } } }[];
  }>({ api: 'container', name: 'container.projects.locations.clusters.get', method: 'GET', path, safe: true });
  return {
    ...ref,
    ...(c.workloadIdentityConfig?.workloadPool ? { workloadPool: c.workloadIdentityConfig.workloadPool } : {}),
    nodePools: (c.nodePools ?? []).map((p) => ({ name: p.name ?? '', metadataMode: p.config?.workloadMetadataConfig?.mode ?? 'MODE_UNSPECIFIED' })),
  };
}

/**
 * Pure: what keeps RHACS's pods from acting as a Google service account, each with its fix. `pools`
 * names the node pools that run Central/Sensor (from their nodes' `cloud.google.com/gke-nodepool`
 * label); without it every pool is checked.
 */
export function gkeProblems(facts: GkeClusterFacts, pools?: readonly string[]): GkeProblem[] {
  const where = `--location=${facts.location} --project=${facts.projectId}`;
  if (!facts.workloadPool) {
    return [{
      kind: 'workload-identity-off',
      cluster: facts.name,
      message: `GKE cluster ${facts.name} does not have workload identity enabled (no workloadIdentityConfig.workloadPool)`,
      fix: `gcloud container clusters update ${facts.name} ${where} --workload-pool=${facts.projectId}.svc.id.goog`,
    }];
  }
  const checked = pools ? facts.nodePools.filter((p) => pools.includes(p.name)) : facts.nodePools;
  return checked
    .filter((p) => p.metadataMode !== 'GKE_METADATA')
    .map((p) => ({
      kind: 'node-pool-metadata' as const,
      cluster: facts.name,
      nodePool: p.name,
      mode: p.metadataMode,
      message: `node pool ${p.name} of GKE cluster ${facts.name} uses metadata mode ${p.metadataMode}, not GKE_METADATA: its pods would act as the node's service account`,
      fix: `gcloud container node-pools update ${p.name} --cluster=${facts.name} ${where} --workload-metadata=GKE_METADATA`,
    }));
}
