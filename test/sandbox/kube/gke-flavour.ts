// The GKE flavour of a sandbox cluster: nodes as GKE makes them (providerID gce://<project>/<zone>/<instance>,
// the node-pool label; kwok plays their kubelets).
import { createHash } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION } from './controllers.js';
import { waitForNodesReady } from './eks-flavour.js';
import { createOrKeep, mergePatch } from './objects.js';

export interface GkeSeedOptions {
  projectId: string;
  /** The cluster's location (a region); one node per zone `<location>-b`, `<location>-c`. */
  location: string;
  cluster: string;
  nodePool?: string;
}

export async function seedGke(kc: KubeConfig, opts: GkeSeedOptions): Promise<{ nodes: { name: string; providerID: string; zone: string }[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  const pool = opts.nodePool ?? 'default-pool';
  const nodes: { name: string; providerID: string; zone: string }[] = [];
  for (const zone of [`${opts.location}-b`, `${opts.location}-c`]) {
    const name = `gke-${opts.cluster}-${pool}-${createHash('sha256').update(`${opts.cluster}/${zone}`).digest('hex').slice(0, 8)}-${zone.slice(-1)}x0q`;
    const providerID = `gce://${opts.projectId}/${zone}/${name}`;
    await createOrKeep(() => core.createNode({
      body: {
        metadata: {
          name,
          labels: {
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/os': 'linux',
            'kubernetes.io/hostname': name,
            'node.kubernetes.io/instance-type': 'e2-standard-4',
            'topology.kubernetes.io/region': opts.location,
            'topology.kubernetes.io/zone': zone,
            'cloud.google.com/gke-nodepool': pool,
            'cloud.google.com/gke-os-distribution': 'cos',
            'cloud.google.com/machine-family': 'e2',
            'iam.gke.io/gke-metadata-server-enabled': 'true',
          },
          annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
        },
        spec: { providerID },
      },
    }));
    nodes.push({ name, providerID, zone });
  }
  await waitForNodesReady(core, nodes.map((n) => n.name));
  // The sandbox's own worker nodes (where the scheduler may place RHACS) join the pool too.
  for (const n of (await core.listNode()).items) {
    if (n.metadata?.labels?.['cloud.google.com/gke-nodepool'] !== undefined) continue;
    await core.patchNode({ name: n.metadata!.name!, body: { metadata: { labels: { 'cloud.google.com/gke-nodepool': pool } } } }, mergePatch());
  }
  return { nodes };
}
