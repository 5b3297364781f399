// Stand-in for the GKE metadata server of one node (the `gke-metadata-server` DaemonSet that answers
// pods' requests to 169.254.169.254 on node pools in GKE_METADATA mode), on 127.0.0.1 over HTTP as
// the real one is reached (`GCE_METADATA_HOST=<host:port>` points Google's clients here).
//
// How the real server knows the pod: traffic from a pod to 169.254.169.254:80 is redirected on the
// node to the DaemonSet, which maps the connection's source IP to the pod running on that node (the
// node's pods, from the kubelet/API server), reads the pod's Kubernetes service account and its
// `iam.gke.io/gcp-service-account` annotation, gets a token for the service account's principal
// (`<project>.svc.id.goog[ns/sa]`, through the cluster's workload identity pool) and, with the
// annotation, exchanges it with IAM Credentials' generateAccessToken for the Google service account.
// Here both lookups are injected: `identify` (the pod behind a request) and `annotation`.
//
// On a node pool in GCE_METADATA mode (or a cluster without workload identity) no GKE metadata
// server runs: pods reach Compute Engine's metadata server and get the NODE's service account —
// this stand-in answers as that server does, so a pod on such a pool never gets the annotated identity.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GcpStandins } from './standins.js';

export interface PodIdentity {
  namespace: string;
  serviceAccount: string;
}

export interface GkeMetadataServerOptions {
  standins: GcpStandins;
  cluster: { projectId: string; location: string; name: string };
  /** The node pool this node belongs to. */
  nodePool: string;
  /** The pod behind a request (the real server maps the source IP); undefined: not a pod of this node. */
  identify: (req: http.IncomingMessage) => Promise<PodIdentity | undefined> | PodIdentity | undefined;
  /** The `iam.gke.io/gcp-service-account` annotation of a Kubernetes service account, if any. */
  annotation: (namespace: string, serviceAccount: string) => Promise<string | undefined> | string | undefined;
}

export interface GkeMetadataServer {
  /** For GCE_METADATA_HOST: `127.0.0.1:PORT`. */
  host: string;
  url: string;
  close(): Promise<void>;
}

const PREFIX = '/computeMetadata/v1';

export async function startGkeMetadataServer(opts: GkeMetadataServerOptions): Promise<GkeMetadataServer> {
  const { standins, cluster } = opts;
  const text = (res: http.ServerResponse, status: number, body: string, type = 'application/text'): void => {
    res.writeHead(status, { 'content-type': type, 'metadata-flavor': 'Google' });
    res.end(body);
  };

  /** Which metadata server the node runs, from GKE's own view of the cluster (read per request). */
  const mode = (): { gke: boolean; nodeServiceAccount: string } => {
    const c = standins.cluster(cluster.projectId, cluster.location, cluster.name);
    if (!c) throw new Error(`no GKE cluster ${cluster.projectId}/${cluster.location}/${cluster.name} in the stand-ins`);
    const pool = c.nodePools.find((p) => p.name === opts.nodePool);
    if (!pool) throw new Error(`no node pool ${opts.nodePool} in ${cluster.name}`);
    const m = pool.metadataMode ?? (c.workloadIdentity ? 'GKE_METADATA' : 'GCE_METADATA');
    return {
      gke: c.workloadIdentity && m === 'GKE_METADATA',
      nodeServiceAccount: pool.serviceAccount ?? `${standins.projectNumber(cluster.projectId)}-compute@developer.gserviceaccount.com`,
    };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    if (req.headers['metadata-flavor'] !== 'Google') return text(res, 403, 'Missing required header "Metadata-Flavor": "Google"\n', 'text/html');
    if (req.headers['x-forwarded-for']) return text(res, 403, 'Request had an X-Forwarded-For header and was rejected.\n', 'text/html');
    const path = url.pathname.replace(/\/$/, '');
    if (path === PREFIX || path === `${PREFIX}/instance`) return text(res, 200, 'attributes/\nservice-accounts/\n');
    if (path === `${PREFIX}/project/project-id`) return text(res, 200, cluster.projectId);
    if (path === `${PREFIX}/project/numeric-project-id`) return text(res, 200, standins.projectNumber(cluster.projectId));
    if (path === `${PREFIX}/universe/universe-domain`) return text(res, 200, 'googleapis.com');
    if (path === `${PREFIX}/instance/attributes/cluster-name`) return text(res, 200, cluster.name);
    if (path === `${PREFIX}/instance/attributes/cluster-location`) return text(res, 200, cluster.location);
    const sa = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/(email|token|scopes|aliases)$/.exec(path);
    if (!sa) return text(res, 404, 'Not Found\n', 'text/html');
    const { gke, nodeServiceAccount } = mode();
    if (!gke) {
      // Compute Engine's metadata server: the node's own service account, for every pod.
      if (sa[1] !== 'default' && sa[1] !== nodeServiceAccount) return text(res, 404, 'Not Found\n', 'text/html');
      if (sa[2] === 'email') return text(res, 200, nodeServiceAccount);
      if (sa[2] === 'scopes') return text(res, 200, 'https://www.googleapis.com/auth/cloud-platform\n');
      if (sa[2] === 'aliases') return text(res, 200, 'default\n');
      const token = standins.issueAccessToken(`serviceAccount:${nodeServiceAccount}`);
      return text(res, 200, JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }), 'application/json');
    }
    const pod = await opts.identify(req);
    if (!pod) return text(res, 404, 'Unable to identify the pod that sent the request.\n', 'text/html');
    const gsa = await opts.annotation(pod.namespace, pod.serviceAccount);
    const pool = `${cluster.projectId}.svc.id.goog`;
    if (sa[1] !== 'default' && sa[1] !== gsa) return text(res, 404, 'Not Found\n', 'text/html');
    // Without the annotation the pod acts as its Kubernetes service account's principal: the email
    // is the workload pool's, and its token grants only what that principal was granted directly.
    if (sa[2] === 'email') return text(res, 200, gsa ?? pool);
    if (sa[2] === 'scopes') return text(res, 200, 'https://www.googleapis.com/auth/cloud-platform\n');
    if (sa[2] === 'aliases') return text(res, 200, 'default\n');
    try {
      const t = await standins.gkeWorkloadToken(cluster, pod.namespace, pod.serviceAccount, gsa);
      return text(res, 200, JSON.stringify({ access_token: t.accessToken, expires_in: t.expiresIn - 1, token_type: 'Bearer' }), 'application/json');
    } catch (err) {
      const e = err as { httpStatus?: number; message: string };
      return text(res, e.httpStatus ?? 500, `Unable to generate access token; IAM returned ${e.httpStatus ?? 500}: ${e.message}\n`, 'text/html');
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `${err instanceof Error ? err.message : String(err)}\n`, 'text/html');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
