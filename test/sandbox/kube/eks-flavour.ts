// The EKS flavour of a sandbox cluster: nodes as EKS makes them (kwok plays their kubelets) and the
// EKS Pod Identity Agent's DaemonSet.
import { createHash } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION, nodeSchedulable } from './controllers.js';
import { apiStatus, createOrKeep, mergePatch, sleep } from './objects.js';

export interface EksSeedOptions {
  region?: string;
  /** Availability zones; one node per zone (default `<region>a`, `<region>b`). */
  zones?: string[];
  nodegroup?: string;
  instanceType?: string;
  /** Kubelet version as EKS reports it. */
  kubeletVersion?: string;
  /** Install the EKS Pod Identity Agent add-on's DaemonSet (default true; see seedPodIdentityAgent). */
  podIdentityAgent?: boolean;
}

export interface EksSeedResult {
  nodes: { name: string; providerID: string; zone: string; instanceId: string }[];
}

/**
 * Seeds EKS-looking worker nodes (providerID aws:///<az>/i-…, EKS labels, `-eks-` kubelet version),
 * managed by the sandbox's kwok (annotation), and waits (bounded) until kwok reports them Ready:
 * kwok fills in the conditions and capacity, as a kubelet would.
 */
export async function seedEks(kc: KubeConfig, opts: EksSeedOptions = {}): Promise<EksSeedResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const region = opts.region ?? 'eu-west-1';
  const zones = opts.zones ?? [`${region}a`, `${region}b`];
  const nodegroup = opts.nodegroup ?? 'ng-default';
  const instanceType = opts.instanceType ?? 'm5.xlarge';
  const kubeletVersion = opts.kubeletVersion ?? 'v1.34.4-eks-3025e55';
  const result: EksSeedResult = { nodes: [] };
  const statusPatches: (() => Promise<unknown>)[] = [];
  for (const [i, zone] of zones.entries()) {
    const ip = `10.0.${i + 1}.${20 + i}`;
    const name = `ip-${ip.replace(/\./g, '-')}.${region}.compute.internal`;
    const instanceId = `i-0${createHash('sha256').update(`${region}/${zone}/${i}`).digest('hex').slice(0, 16)}`;
    const providerID = `aws:///${zone}/${instanceId}`;
    await createOrKeep(() =>
      core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              'kubernetes.io/arch': 'amd64',
              'kubernetes.io/os': 'linux',
              'kubernetes.io/hostname': name,
              'node.kubernetes.io/instance-type': instanceType,
              'topology.kubernetes.io/region': region,
              'topology.kubernetes.io/zone': zone,
              'failure-domain.beta.kubernetes.io/region': region,
              'failure-domain.beta.kubernetes.io/zone': zone,
              'eks.amazonaws.com/nodegroup': nodegroup,
              'eks.amazonaws.com/nodegroup-image': 'ami-0c2d3e4f5a6b7c8d9',
              'eks.amazonaws.com/capacityType': 'ON_DEMAND',
              'eks.amazonaws.com/sourceLaunchTemplateVersion': '1',
              'k8s.io/cloud-provider-aws': createHash('md5').update(region).digest('hex'),
            },
            annotations: { 'alpha.kubernetes.io/provided-node-ip': ip, [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
          },
          spec: { providerID },
        },
      }),
    );
    // kwok's node-initialize stage keeps what the status already has, but one computed from a read
    // taken before this patch can still write kwok's own versions: the patch is repeated once kwok
    // reports the node Ready (it never initializes a Ready node again).
    const patchStatus = () =>
      core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: ip },
              { type: 'Hostname', address: name },
              { type: 'InternalDNS', address: name },
            ],
            nodeInfo: {
              architecture: 'amd64',
              bootID: '00000000-0000-0000-0000-000000000000',
              containerRuntimeVersion: 'containerd://1.7.27',
              kernelVersion: '6.1.141-155.222.amzn2023.x86_64',
              kubeProxyVersion: kubeletVersion,
              kubeletVersion,
              machineID: createHash('md5').update(name).digest('hex'),
              operatingSystem: 'linux',
              osImage: 'Amazon Linux 2023.8.20250808',
              systemUUID: 'ec2' + createHash('md5').update(instanceId).digest('hex').slice(3),
            },
          },
        },
      },
      mergePatch(),
    );
    await patchStatus();
    statusPatches.push(patchStatus);
    result.nodes.push({ name, providerID, zone, instanceId });
  }
  await waitForNodesReady(core, result.nodes.map((n) => n.name));
  for (const patch of statusPatches) await patch();
  if (opts.podIdentityAgent ?? true) await seedPodIdentityAgent(kc, { region, nodes: result.nodes.length });
  return result;
}

export const POD_IDENTITY_AGENT = { namespace: 'kube-system', name: 'eks-pod-identity-agent' } as const;

/**
 * The EKS Pod Identity Agent add-on as EKS installs it: DaemonSet `eks-pod-identity-agent` in
 * kube-system (host network, container `eks-pod-identity-agent`, `--port 80`, the add-on's labels).
 * No DaemonSet controller runs in the sandbox and the agent's work is done by a loopback stand-in
 * (pod-identity-agent.ts), so the status is written here: one ready agent per node.
 */
export async function seedPodIdentityAgent(kc: KubeConfig, opts: { region: string; nodes: number; ready?: number }): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const { namespace, name } = POD_IDENTITY_AGENT;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  await createOrKeep(() =>
    apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name, namespace, labels: { ...labels, 'app.kubernetes.io/managed-by': 'EKS', 'app.kubernetes.io/version': '0.1.29' } },
        spec: {
          selector: { matchLabels: labels },
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
          template: {
            metadata: { labels },
            spec: {
              hostNetwork: true,
              priorityClassName: 'system-node-critical',
              containers: [
                {
                  name,
                  image: `602401143452.dkr.ecr.${opts.region}.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29`,
                  command: ['/go-runner', '/eks-pod-identity-agent', 'server'],
                  args: ['--port', '80', '--cluster-name', 'sandbox', '--probe-port', '2703'],
                  ports: [{ name: 'proxy', containerPort: 80, protocol: 'TCP' }, { name: 'probes-port', containerPort: 2703, protocol: 'TCP' }],
                },
              ],
            },
          },
        },
      },
    }),
  );
  const ready = opts.ready ?? opts.nodes;
  await apps.patchNamespacedDaemonSetStatus(
    {
      name,
      namespace,
      body: {
        status: {
          currentNumberScheduled: opts.nodes,
          desiredNumberScheduled: opts.nodes,
          numberAvailable: ready,
          numberMisscheduled: 0,
          numberReady: ready,
          updatedNumberScheduled: opts.nodes,
          observedGeneration: 1,
        },
      },
    },
    mergePatch(),
  );
}

/** Removes the agent's DaemonSet (a cluster without the add-on). */
export async function removePodIdentityAgent(kc: KubeConfig): Promise<void> {
  await kc
    .makeApiClient(AppsV1Api)
    .deleteNamespacedDaemonSet(POD_IDENTITY_AGENT)
    .catch((err) => {
      if (apiStatus(err) !== 404) throw err;
    });
}

/** Waits (bounded) until every named node is Ready (kwok) and untainted (node lifecycle controller). */
export async function waitForNodesReady(core: CoreV1Api, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      if (await nodeSchedulable(core, name)) break;
      if (Date.now() > deadline || attempt > timeoutMs / 100) {
        throw new Error(
          `node ${name} is not Ready and untainted after ${timeoutMs} ms: are the sandbox's kwok and kube-controller-manager running (logs/)?`,
        );
      }
      await sleep(100);
    }
  }
}
