// The sandbox's Kubernetes control plane storage and API: one etcd and, per cluster, a
// kube-apiserver under its own --etcd-prefix, with its own issuer and service-account signing key,
// audited (level Metadata), its traffic to nodes routed to its kwok (cluster-network.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyPair, ServiceAccountKeys } from '../certs.js';
import { createServiceAccountKeys } from '../certs.js';
import { httpGet, Proc, waitFor } from '../processes.js';
import type { ClusterInfo, Flavour } from '../types.js';
import { egressSelectorConfig, startClusterNetwork, type ClusterNetwork } from './cluster-network.js';
import { contextName, GKE_PROJECT } from './kubeconfigs.js';

export const DEFAULT_REGION = 'eu-west-1';

/** An EKS-looking issuer: https://oidc.eks.<region>.amazonaws.com/id/<32 upper-case hex>. */
export function eksIssuer(region = DEFAULT_REGION, id = randomBytes(16).toString('hex').toUpperCase()): string {
  return `https://oidc.eks.${region}.amazonaws.com/id/${id}`;
}

/** An OpenShift-with-STS-looking issuer: an S3 bucket URL that hosts the discovery documents. */
export function openShiftIssuer(region = DEFAULT_REGION, bucket = 'rhacs-sts-oidc'): string {
  return `https://${bucket}.s3.${region}.amazonaws.com`;
}

/** The tenant the sandbox's AKS issuers and Azure stand-ins share (a fixed GUID, so issuers are predictable). */
export const AKS_SANDBOX_TENANT = '5f1c2a7e-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
/** The Azure region of AKS-flavour clusters unless given (an AWS region is not one). */
export const AKS_DEFAULT_REGION = 'eastus';

/** An AKS-looking issuer: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/ — with AKS's trailing slash. */
export function aksIssuer(region = AKS_DEFAULT_REGION, tenant = AKS_SANDBOX_TENANT, id = randomUUID()): string {
  return `https://${region}.oic.prod-aks.azure.com/${tenant}/${id}/`;
}

/** A GKE cluster's issuer: https://container.googleapis.com/v1/projects/<project>/locations/<location>/clusters/<name>. */
export function gkeIssuer(location: string, name: string, project = GKE_PROJECT): string {
  return `https://container.googleapis.com/v1/projects/${project}/locations/${location}/clusters/${name}`;
}

/** The GKE flavour's location when none is given (a Google region, not the sandbox's AWS one). */
export const GKE_LOCATION = 'europe-west1';

function defaultIssuer(flavour: Flavour, region: string, name: string): string {
  if (flavour === 'eks') return eksIssuer(region);
  if (flavour === 'aks') return aksIssuer(region);
  if (flavour === 'gke') return gkeIssuer(region, name);
  if (flavour === 'openshift') return openShiftIssuer(region);
  return 'https://kubernetes.default.svc.cluster.local';
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    nonResourceURLs: ["/readyz*", "/livez*", "/healthz*"]
  - level: Metadata
`;

export interface ClusterOptions {
  /** Cluster name, e.g. `eks` or `openshift` (the context is named from it as in the field: see kubeconfigs.ts). */
  name: string;
  /** Decides the default issuer; defaults to the name when it is `eks`/`openshift`, else `plain`. */
  flavour?: Flavour;
  /** --service-account-issuer; defaults per flavour (EKS OIDC URL, S3 bucket URL for OpenShift). */
  issuer?: string;
  /**
   * `jwks_uri` for the discovery document. Defaults per flavour to where the real thing publishes
   * it: EKS `<issuer>/keys`, OpenShift (S3) `<issuer>/keys.json`; plain: the API server's own URL.
   */
  jwksUri?: string;
  /** Region used in the default issuer and by the flavour fixtures (default: the sandbox region). */
  region?: string;
  /** Extra --api-audiences (the issuer, https://kubernetes.default.svc, sts.amazonaws.com and openshift are always there). */
  apiAudiences?: string[];
  /** OpenShift: the cloud its Infrastructure object names (absent: AWS); `gcp`: a Google region and an issuer Google reads inline. */
  cloud?: 'azure' | 'gcp';
}

/** OpenShift on Google Cloud's region, and its issuer: not public (Google holds its keys inline). */
export const OPENSHIFT_GCP_REGION = 'europe-west4';
export function openShiftGcpIssuer(name: string): string {
  return `https://issuer.${name}.sandbox.example.com`;
}

/** What starting etcd and the API servers needs from the sandbox. */
export interface ApiServerSetup {
  workDir: string;
  logDir: string;
  ca: KeyPair;
  /** The API servers' serving certificate. */
  serving: KeyPair;
  /** The admin's client TLS material, for the readiness probes. */
  tls: { ca: Buffer; cert: Buffer; key: Buffer };
  binaries: { etcd: string; kubeApiserver: string };
  region: string;
  timeoutMs: number;
  shortContexts?: boolean;
  /** Starts a process as part of the sandbox (tracked for cleanup). */
  start(proc: Proc): Proc;
  /** Stops and forgets the sandbox's running processes of that name. */
  stopProcs(name: string): Promise<void>;
}

/** Starts etcd on the given ports; resolves once it reports itself healthy. */
export async function startEtcd(setup: ApiServerSetup, clientPort: number, peerPort: number): Promise<string> {
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = setup.start(
    new Proc(
      'etcd',
      setup.binaries.etcd,
      [
        '--name=sandbox',
        `--data-dir=${join(setup.workDir, 'etcd')}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=sandbox=${peer}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(setup.logDir, 'etcd.log'),
    ),
  );
  await waitFor(
    `etcd at ${url}`,
    async () => {
      const r = await httpGet(`${url}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.body);
    },
    etcd,
    setup.timeoutMs,
  );
  return url;
}

/** A cluster's API server as it runs now: a restart changes its issuers or signing key. */
interface ApiServerState {
  issuers: string[];
  signingKey: string;
  publicKeys: string[];
  rotations: number;
}

export interface ApiServers {
  clusters: Record<string, ClusterInfo>;
  networks: ClusterNetwork[];
  /** See Sandbox.restartApiServer. */
  restart(cluster: string, change: { issuers?: string[]; rotateSigningKey?: boolean }): Promise<void>;
}

/** The plain-data description of a cluster, from its options and ports. */
function describeCluster(setup: ApiServerSetup, c: ClusterOptions, port: number, kubeletPort: number, keys: ServiceAccountKeys): ClusterInfo {
  const flavour: Flavour = c.flavour ?? (c.name === 'eks' || c.name === 'openshift' || c.name === 'gke' || c.name === 'aks' ? c.name : 'plain');
  const region = c.region ?? (flavour === 'aks' ? AKS_DEFAULT_REGION : flavour === 'gke' ? GKE_LOCATION : c.cloud === 'gcp' ? OPENSHIFT_GCP_REGION : setup.region);
  const issuer = c.issuer ?? (c.cloud === 'gcp' ? openShiftGcpIssuer(c.name) : defaultIssuer(flavour, region, c.name));
  // AKS publishes its keys under the issuer, whose trailing slash joins the path.
  const jwksUri =
    c.jwksUri ?? (flavour === 'eks' ? `${issuer}/keys` : flavour === 'openshift' ? `${issuer}/keys.json` : flavour === 'aks' ? `${issuer}openid/v1/jwks` : flavour === 'gke' ? `${issuer}/jwks` : `https://127.0.0.1:${port}/openid/v1/jwks`);
  const azure = flavour === 'aks' ? ['api://AzureADTokenExchange'] : [];
  const apiAudiences = [...new Set([issuer, 'https://kubernetes.default.svc', 'sts.amazonaws.com', 'openshift', ...azure, ...(c.apiAudiences ?? [])])];
  const dir = join(setup.workDir, c.name);
  return {
    name: c.name,
    context: setup.shortContexts ? c.name : contextName(c.name, flavour, region),
    flavour,
    ...(c.cloud ? { cloud: c.cloud } : {}),
    server: `https://127.0.0.1:${port}`,
    issuer,
    jwksUri,
    region,
    apiAudiences,
    kubeconfig: join(setup.workDir, `kubeconfig-${c.name}.yaml`),
    controllerKubeconfig: join(setup.workDir, `kubeconfig-${c.name}-controller.yaml`),
    auditLogPath: join(dir, 'audit.log'),
    etcdPrefix: `/registry-${c.name}`,
    serviceAccountPublicKey: keys.publicKey,
    kubeletPort,
    ...(c.cloud ? { cloud: c.cloud } : {}),
  };
}

function apiServerArgs(setup: ApiServerSetup, info: ClusterInfo, etcdUrl: string, st: ApiServerState): string[] {
  const dir = join(setup.workDir, info.name);
  return [
    `--etcd-servers=${etcdUrl}`,
    `--etcd-prefix=${info.etcdPrefix}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${new URL(info.server).port}`,
    `--cert-dir=${join(dir, 'generated-certs')}`,
    `--tls-cert-file=${setup.serving.cert}`,
    `--tls-private-key-file=${setup.serving.key}`,
    `--client-ca-file=${setup.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    ...st.issuers.map((x) => `--service-account-issuer=${x}`),
    `--service-account-jwks-uri=${info.jwksUri}`,
    ...st.publicKeys.map((k) => `--service-account-key-file=${k}`),
    `--service-account-signing-key-file=${st.signingKey}`,
    `--api-audiences=${[...new Set([...info.apiAudiences, ...st.issuers])].join(',')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--allow-privileged=true',
    '--endpoint-reconciler-type=none',
    `--audit-policy-file=${join(setup.workDir, 'audit-policy.yaml')}`,
    `--audit-log-path=${info.auditLogPath}`,
    `--egress-selector-config-file=${join(dir, 'egress-selector.yaml')}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    '--profiling=false',
    '--v=1',
  ];
}

/**
 * Starts one kube-apiserver per cluster (in parallel) against `etcdUrl`, each with its cluster
 * network stand-in; resolves once every one is ready and has its `default` namespace.
 */
export async function startApiServers(
  setup: ApiServerSetup,
  clusterOpts: ClusterOptions[],
  ports: { api: number[]; kubelet: number[] },
  etcdUrl: string,
  certDir: string,
  saKeys: Map<string, ServiceAccountKeys>,
): Promise<ApiServers> {
  writeFileSync(join(setup.workDir, 'audit-policy.yaml'), AUDIT_POLICY);
  const clusters: Record<string, ClusterInfo> = {};
  const states = new Map<string, ApiServerState>();
  const launch = (info: ClusterInfo) =>
    setup.start(
      new Proc(`kube-apiserver[${info.name}]`, setup.binaries.kubeApiserver, apiServerArgs(setup, info, etcdUrl, states.get(info.name)!), join(setup.logDir, `kube-apiserver-${info.name}.log`)),
    );
  const readyz = (info: ClusterInfo) => async () => (await httpGet(`${info.server}/readyz`, { tls: setup.tls })).status === 200;
  const procs = clusterOpts.map((c, i) => {
    const keys = saKeys.get(c.name)!;
    const info = describeCluster(setup, c, ports.api[i]!, ports.kubelet[i]!, keys);
    clusters[c.name] = info;
    const dir = join(setup.workDir, c.name);
    mkdirSync(dir, { recursive: true });
    // The API server's traffic to nodes (kubelet: port-forward, exec, logs) goes through the
    // cluster network stand-in, which routes it to this cluster's kwok.
    writeFileSync(join(dir, 'egress-selector.yaml'), egressSelectorConfig(join(dir, 'cluster-network.sock')));
    states.set(c.name, { issuers: [info.issuer], signingKey: keys.privateKey, publicKeys: [keys.publicKey], rotations: 0 });
    return launch(info);
  });
  const networks = await Promise.all(
    Object.values(clusters).map((c) => startClusterNetwork(join(setup.workDir, c.name, 'cluster-network.sock'), c.kubeletPort)),
  );
  await Promise.all(
    Object.values(clusters).map(async (info, i) => {
      await waitFor(`kube-apiserver ${info.name} to be ready (${info.server}/readyz)`, readyz(info), procs[i], setup.timeoutMs, 250);
      // The bootstrap controller creates the `default` namespace right after start.
      await waitFor(
        `namespace default in ${info.name}`,
        async () => (await httpGet(`${info.server}/api/v1/namespaces/default`, { tls: setup.tls })).status === 200,
        procs[i],
        Math.min(setup.timeoutMs, 30_000),
        200,
      );
    }),
  );
  return {
    clusters,
    networks,
    async restart(cluster, change) {
      const st = states.get(cluster);
      const c = clusters[cluster];
      if (!st || !c) throw new Error(`no sandbox cluster ${cluster}`);
      if (change.issuers && !change.issuers.length) throw new Error('restartApiServer: at least one issuer');
      if (change.issuers) st.issuers = [...change.issuers];
      if (change.rotateSigningKey) {
        const next = createServiceAccountKeys(certDir, `${cluster}-r${++st.rotations}`);
        st.signingKey = next.privateKey;
        st.publicKeys = [next.publicKey, ...st.publicKeys];
      }
      await setup.stopProcs(`kube-apiserver[${cluster}]`);
      const proc = launch(c);
      await waitFor(`kube-apiserver ${cluster} to be ready after the restart`, readyz(c), proc, setup.timeoutMs, 250);
      c.issuer = st.issuers[0]!;
    },
  };
}
