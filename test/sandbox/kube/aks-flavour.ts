// The AKS flavour of a sandbox cluster: nodes as AKS makes them (kwok plays their kubelets):
// providerID `azure:///subscriptions/<sub>/resourceGroups/mc_<rg>_<cluster>_<region>/providers/
// Microsoft.Compute/virtualMachineScaleSets/aks-<pool>-<n>-vmss/virtualMachines/<i>` (AKS's node
// resource group, lower-cased, as the cloud provider writes it), the `kubernetes.azure.com/*` labels
// (`kubernetes.azure.com/cluster` = the node resource group `MC_<rg>_<cluster>_<region>`), zones
// `<region>-1`, `-2`, and an AKS kubelet version and OS image.
import { createHash } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION, nodeSchedulable } from './controllers.js';
import { createOrKeep, mergePatch, sleep } from './objects.js';

export interface AksSeedOptions {
  region: string;
  subscriptionId: string;
  resourceGroup: string;
  clusterName: string;
  /** Nodes in the pool (default 2, one per zone). */
  nodes?: number;
  pool?: string;
  kubeletVersion?: string;
}

export interface AksSeedResult {
  nodeResourceGroup: string;
  nodes: { name: string; providerID: string; zone: string }[];
}

/** Seeds AKS-looking nodes managed by the sandbox's kwok and waits (bounded) until they are Ready. */
export async function seedAks(kc: KubeConfig, o: AksSeedOptions): Promise<AksSeedResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const pool = o.pool ?? 'nodepool1';
  const count = o.nodes ?? 2;
  const kubeletVersion = o.kubeletVersion ?? 'v1.34.4';
  const nodeResourceGroup = `MC_${o.resourceGroup}_${o.clusterName}_${o.region}`;
  const vmssId = createHash('sha256').update(`${o.subscriptionId}/${o.clusterName}`).digest('hex').replace(/[a-f]/g, '').padEnd(8, '7').slice(0, 8);
  const vmss = `aks-${pool}-${vmssId}-vmss`;
  const result: AksSeedResult = { nodeResourceGroup, nodes: [] };
  const statusPatches: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${vmss}${i.toString(36).padStart(6, '0')}`;
    const zone = `${o.region}-${(i % 3) + 1}`;
    const ip = `10.224.0.${4 + i}`;
    const providerID = `azure:///subscriptions/${o.subscriptionId}/resourceGroups/${nodeResourceGroup.toLowerCase()}/providers/Microsoft.Compute/virtualMachineScaleSets/${vmss}/virtualMachines/${i}`;
    await createOrKeep(() =>
      core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              'kubernetes.io/arch': 'amd64',
              'kubernetes.io/os': 'linux',
              'kubernetes.io/hostname': name,
              'kubernetes.io/role': 'agent',
              'node-role.kubernetes.io/agent': '',
              'node.kubernetes.io/instance-type': 'Standard_D4ds_v5',
              'topology.kubernetes.io/region': o.region,
              'topology.kubernetes.io/zone': zone,
              'agentpool': pool,
              'kubernetes.azure.com/agentpool': pool,
              'kubernetes.azure.com/cluster': nodeResourceGroup,
              'kubernetes.azure.com/mode': 'system',
              'kubernetes.azure.com/role': 'agent',
              'kubernetes.azure.com/os-sku': 'Ubuntu',
              'kubernetes.azure.com/node-image-version': 'AKSUbuntu-2204gen2containerd-202511.07.0',
            },
            annotations: { 'node.alpha.kubernetes.io/ttl': '0', [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
          },
          spec: { providerID },
        },
      }),
    );
    // As for EKS nodes: repeated once kwok reports the node Ready (a status computed from an older read can overwrite it).
    const patchStatus = () =>
      core.patchNodeStatus(
        {
          name,
          body: {
            status: {
              addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
              nodeInfo: {
                architecture: 'amd64',
                bootID: '00000000-0000-0000-0000-000000000000',
                containerRuntimeVersion: 'containerd://1.7.29-1',
                kernelVersion: '5.15.0-1098-azure',
                kubeProxyVersion: kubeletVersion,
                kubeletVersion,
                machineID: createHash('md5').update(name).digest('hex'),
                operatingSystem: 'linux',
                osImage: 'Ubuntu 22.04.5 LTS',
                systemUUID: createHash('md5').update(providerID).digest('hex'),
              },
            },
          },
        },
        mergePatch(),
      );
    await patchStatus();
    statusPatches.push(patchStatus);
    result.nodes.push({ name, providerID, zone });
  }
  const deadline = Date.now() + 30_000;
  for (const { name } of result.nodes) {
    for (let attempt = 0; !(await nodeSchedulable(core, name)); attempt++) {
      if (Date.now() > deadline || attempt > 300) throw new Error(`AKS node ${name} is not Ready and untainted after 30 s: are the sandbox's kwok and kube-controller-manager running (logs/)?`);
      await sleep(100);
    }
  }
  for (const patch of statusPatches) await patch();
  return result;
}
