// The rest of each sandbox cluster's control plane, all real servers: kube-controller-manager (only
// the controllers the tests need), kube-scheduler, and kwok, which plays the kubelets of fake nodes
// (pods bound to them go Running/Ready through the stages in kwok-stages.yaml; no container runs).
// Each runs as its own user, so audit queries can tell their requests from the ones under test
// (observe.ts: isClusterComponent). Called by sandbox.ts once the API servers are ready.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { issueCert, type KeyPair } from '../certs.js';
import { CONTROLLER_USER, KWOK_USER, SCHEDULER_USER } from '../observe.js';
import { createCrdsRaw, type CrdDocument } from '../central/stackrox-crds.js';
import type { ClusterInfo } from '../types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Nodes kwok manages carry this annotation (kwok's own convention). */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;
/**
 * kwok's PortForward resource (kwok.x-k8s.io/v1alpha1, namespaced, named like the pod): where kwok,
 * as the pod's kubelet, forwards a port-forward stream. kwok's own CRD, descriptions removed
 * (crds/README.md); kwok watches these objects (--enable-crds=PortForward).
 */
export const KWOK_PORTFORWARD_CRD = JSON.parse(readFileSync(join(here, 'crds', 'kwok.x-k8s.io_portforwards.json'), 'utf8')) as CrdDocument;

/** On a deployment's pod template: `hang` (pods never become ready) or `fail` (same; see setRolloutMode). */
export const ROLLOUT_ANNOTATION = 'sandbox.rhacs-sts.test/rollout';

/**
 * The kube-controller-manager controllers that run: rollouts (deployment, replicaset), service
 * accounts and their legacy token secrets, the kube-root-ca.crt config map every namespace has,
 * namespace deletion, garbage collection (owner references), and node lifecycle, which lifts the
 * not-ready taint that the API server puts on every new node once kwok reports it Ready.
 */
export const CONTROLLERS = [
  'node-lifecycle-controller',
  'deployment-controller',
  'replicaset-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  'garbage-collector-controller',
];

/** What sandbox.ts lends: its process launcher and bounded wait, so failures carry the log tail. */
export interface ProcHandle {
  readonly name: string;
  readonly running: boolean;
}
export interface ControlPlaneHost {
  start(name: string, command: string, args: string[], logName: string, env?: NodeJS.ProcessEnv): ProcHandle;
  waitFor(what: string, probe: () => Promise<boolean>, proc: ProcHandle | undefined, timeoutMs: number, intervalMs?: number): Promise<void>;
  freePorts(n: number): Promise<number[]>;
  httpsOk(url: string): Promise<boolean>;
}

export interface ControlPlaneOptions {
  host: ControlPlaneHost;
  workDir: string;
  ca: KeyPair;
  certDir: string;
  clusters: ClusterInfo[];
  /** The cluster's service-account signing key (PEM RSA private key), per cluster name. */
  serviceAccountKeys: Map<string, { privateKey: string }>;
  binaries: { kubeControllerManager: string; kubeScheduler: string; kwok: string };
  timeoutMs: number;
}

/** A kubeconfig for one user of one cluster, certificate files by path. */
function componentKubeconfig(path: string, c: ClusterInfo, ca: string, user: KeyPair): string {
  writeFileSync(
    path,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: c.name, cluster: { server: c.server, 'certificate-authority': ca } }],
      users: [{ name: 'component', user: { 'client-certificate': user.cert, 'client-key': user.key } }],
      contexts: [{ name: c.name, context: { cluster: c.name, user: 'component' } }],
      'current-context': c.name,
    }),
    { mode: 0o600 },
  );
  return path;
}

function adminKubeConfig(c: ClusterInfo): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  kc.setCurrentContext(c.context);
  return kc;
}

function adminClient(c: ClusterInfo): CoreV1Api {
  return adminKubeConfig(c).makeApiClient(CoreV1Api);
}

/**
 * One kwok-managed worker node, for clusters whose flavour fixtures seed none (fixtures.seedEks
 * seeds EKS-looking ones), so pods schedule on every cluster. No providerID: not an AWS node.
 */
async function seedWorkerNode(core: CoreV1Api): Promise<string> {
  const name = 'sandbox-worker-0';
  try {
    await core.createNode({
      body: {
        metadata: {
          name,
          labels: {
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/os': 'linux',
            'kubernetes.io/hostname': name,
            'node-role.kubernetes.io/worker': '',
          },
          annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
        },
      },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await reportAddresses(core, name);
  return name;
}

/** The address a node of another flavour reports: its kubelet's, as on a real cluster. */
export const WORKER_NODE_IP = '10.0.128.10';

/**
 * The node's addresses, as a kubelet reports them (InternalIP and Hostname). kwok fills in
 * addresses only from its --node-ip / --node-name, which name one address for every node it plays,
 * so without this the node has none, and the API server cannot reach its kubelet: port-forward,
 * exec and logs then fail with "no preferred addresses found" (as `kubectl port-forward` did on the
 * OpenShift flavour). Repeated once kwok reports the node Ready: a status kwok computed from a read
 * taken before this patch can still overwrite it (as for seedEks's nodes).
 */
async function reportAddresses(core: CoreV1Api, name: string): Promise<void> {
  await core.patchNodeStatus(
    { name, body: { status: { addresses: [{ type: 'InternalIP', address: WORKER_NODE_IP }, { type: 'Hostname', address: name }] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Ready (kwok) and schedulable: the node lifecycle controller has lifted the not-ready taint. */
export async function nodeSchedulable(core: CoreV1Api, name: string): Promise<boolean> {
  const n = await core.readNode({ name });
  return (
    !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
    !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'))
  );
}

/** Starts kube-controller-manager, kube-scheduler and kwok for every cluster; waits until each works. */
export async function startControlPlanes(o: ControlPlaneOptions): Promise<void> {
  const { host } = o;
  const users = {
    controllerManager: issueCert(o.ca, o.certDir, 'kube-controller-manager', { cn: CONTROLLER_USER, usage: 'client' }),
    scheduler: issueCert(o.ca, o.certDir, 'kube-scheduler', { cn: SCHEDULER_USER, usage: 'client' }),
    // One identity plays every fake node's kubelet; the Node authorizer would confine a real kubelet
    // to its own node, which one shared identity cannot be.
    kwok: issueCert(o.ca, o.certDir, 'kwok', { cn: KWOK_USER, groups: ['system:masters'], usage: 'client' }),
  };
  const ports = await host.freePorts(2 * o.clusters.length);
  // kwok serves the kubelet API (port-forward, exec, logs) of every fake node with this certificate;
  // the API server does not verify kubelet certificates unless given --kubelet-certificate-authority.
  const kubeletServing = issueCert(o.ca, o.certDir, 'kwok-kubelet', { cn: 'kwok-kubelet', usage: 'server', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  await Promise.all(
    o.clusters.map(async (c, i) => {
      const dir = join(o.workDir, c.name);
      const kcm = componentKubeconfig(c.controllerKubeconfig, c, o.ca.cert, users.controllerManager);
      const sched = componentKubeconfig(join(dir, 'kubeconfig-scheduler.yaml'), c, o.ca.cert, users.scheduler);
      const kwokKc = componentKubeconfig(join(dir, 'kubeconfig-kwok.yaml'), c, o.ca.cert, users.kwok);
      const [kcmPort, schedPort] = [ports[2 * i]!, ports[2 * i + 1]!];
      const cm = host.start(
        `kube-controller-manager[${c.name}]`,
        o.binaries.kubeControllerManager,
        [
          `--kubeconfig=${kcm}`,
          `--authentication-kubeconfig=${kcm}`,
          `--authorization-kubeconfig=${kcm}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--cert-dir=${join(dir, 'kcm-certs')}`,
          '--leader-elect=false',
          `--controllers=${CONTROLLERS.join(',')}`,
          // Each controller authenticates as its own service account in kube-system, as on real clusters.
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${o.serviceAccountKeys.get(c.name)!.privateKey}`,
          `--root-ca-file=${o.ca.cert}`,
          '--kube-api-qps=100',
          '--kube-api-burst=200',
          '--v=1',
        ],
        `kube-controller-manager-${c.name}.log`,
      );
      const scheduler = host.start(
        `kube-scheduler[${c.name}]`,
        o.binaries.kubeScheduler,
        [
          `--kubeconfig=${sched}`,
          `--authentication-kubeconfig=${sched}`,
          `--authorization-kubeconfig=${sched}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${schedPort}`,
          `--cert-dir=${join(dir, 'scheduler-certs')}`,
          '--leader-elect=false',
          '--v=1',
        ],
        `kube-scheduler-${c.name}.log`,
      );
      const core = adminClient(c);
      // The PortForward CRD must be served before kwok starts watching it.
      await createCrdsRaw(adminKubeConfig(c), [KWOK_PORTFORWARD_CRD]);
      await host.waitFor(
        `the PortForward CRD in ${c.name}`,
        async () => {
          const crd = await adminKubeConfig(c).makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: KWOK_PORTFORWARD_CRD.metadata.name });
          return !!crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
        },
        cm,
        o.timeoutMs,
      );
      const kwok = host.start(
        `kwok[${c.name}]`,
        o.binaries.kwok,
        [
          `--kubeconfig=${kwokKc}`,
          `--config=${join(here, 'kwok-stages.yaml')}`,
          `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
          // Pod IPs; wide enough for every pod a test run leaves behind.
          '--cidr=10.244.0.0/16',
          // Node leases: the heartbeat the node lifecycle controller watches.
          '--node-lease-duration-seconds=40',
          // The kubelet API of every fake node: the nodes report this port (kwok-stages.yaml), and the
          // API server reaches it through the cluster network stand-in (cluster-network.ts).
          `--server-address=127.0.0.1:${c.kubeletPort}`,
          `--node-port=${c.kubeletPort}`,
          `--tls-cert-file=${kubeletServing.cert}`,
          `--tls-private-key-file=${kubeletServing.key}`,
          '--enable-crds=PortForward',
        ],
        `kwok-${c.name}.log`,
        // kwok also reads ~/.kwok/kwok.yaml when it exists: keep the user's own out.
        { ...process.env, HOME: dir },
      );

      await host.waitFor(`kube-controller-manager ${c.name} /healthz`, () => host.httpsOk(`https://127.0.0.1:${kcmPort}/healthz`), cm, o.timeoutMs);
      await host.waitFor(`kube-scheduler ${c.name} /healthz`, () => host.httpsOk(`https://127.0.0.1:${schedPort}/healthz`), scheduler, o.timeoutMs);
      // The service-account controller at work: the `default` service account that the
      // ServiceAccount admission plugin wants for pods in `default`.
      await host.waitFor(
        `the service-account controller of ${c.name} (service account default/default)`,
        async () => !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })),
        cm,
        o.timeoutMs,
      );
      if (c.flavour !== 'eks' && c.flavour !== 'aks') {
        const node = await seedWorkerNode(core);
        await host.waitFor(`node ${node} of ${c.name} to be Ready (kwok) and untainted`, () => nodeSchedulable(core, node), kwok, o.timeoutMs);
        await reportAddresses(core, node);
      }
    }),
  );
}
