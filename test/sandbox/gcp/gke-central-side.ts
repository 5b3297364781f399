// What the Central pods of a sandbox GKE cluster reach in Google Cloud: a GKE metadata server
// stand-in per node (metadata-server.ts, in the mode of the node's pool as GKE knows it), knowing the
// pod behind a request (the Central stand-in sends `x-sandbox-pod: <ns>/<name>` where the real
// server maps the source address; the pod must run on that node) and reading the service account's
// `iam.gke.io/gcp-service-account` annotation from the cluster; and the Google stand-ins' STS, IAM
// Credentials and Docker registries. Handed to the Central stand-ins over their control API
// (`PUT /clouds`), since they run in the sandbox's own process.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { CentralCloudsWire } from '../central/cloud-sides.js';
import { startGkeMetadataServer, type GkeMetadataServer } from './metadata-server.js';
import type { GcpStandins } from './standins.js';

const NODEPOOL_LABEL = 'cloud.google.com/gke-nodepool';
const SA_ANNOTATION = 'iam.gke.io/gcp-service-account';

export interface GkeCentralSide {
  stop(): Promise<void>;
}

async function putClouds(controlUrl: string, cluster: string, body: CentralCloudsWire | undefined): Promise<void> {
  const r = await fetch(`${controlUrl}/clouds?cluster=${encodeURIComponent(cluster)}`, { method: 'PUT', body: body ? JSON.stringify(body) : '', signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`the Central stand-ins refused the Google side of ${cluster}: ${r.status} ${await r.text()}`);
}

export async function startGkeCentralSide(o: {
  standins: GcpStandins;
  kc: KubeConfig;
  controlUrl: string;
  cluster: { projectId: string; location: string; name: string };
  /** Locations whose Docker registry Central's pods reach (each must hold a seeded repository). */
  dockerLocations: string[];
}): Promise<GkeCentralSide> {
  const core = o.kc.makeApiClient(CoreV1Api);
  const nodes = (await core.listNode()).items;
  const servers: GkeMetadataServer[] = [];
  const stop = async () => {
    await putClouds(o.controlUrl, o.cluster.name, undefined).catch(() => undefined);
    await Promise.all(servers.splice(0).map((s) => s.close()));
  };
  try {
    const metadataHosts: Record<string, string> = {};
    for (const node of nodes) {
      const nodeName = node.metadata!.name!;
      const pool = node.metadata?.labels?.[NODEPOOL_LABEL];
      if (!pool) continue;
      const server = await startGkeMetadataServer({
        standins: o.standins, cluster: o.cluster, nodePool: pool,
        identify: async (req) => {
          const [namespace, name] = String(req.headers['x-sandbox-pod'] ?? '').split('/');
          if (!namespace || !name) return undefined;
          const pod = await core.readNamespacedPod({ name, namespace }).catch(() => undefined);
          return pod?.spec?.nodeName === nodeName ? { namespace, serviceAccount: pod.spec.serviceAccountName ?? 'default' } : undefined;
        },
        annotation: async (namespace, serviceAccount) =>
          (await core.readNamespacedServiceAccount({ name: serviceAccount, namespace }).catch(() => undefined))?.metadata?.annotations?.[SA_ANNOTATION],
      });
      servers.push(server);
      metadataHosts[nodeName] = server.host;
    }
    await putClouds(o.controlUrl, o.cluster.name, {
      gcp: {
        urls: { stsToken: o.standins.urls.stsToken, iamcredentials: o.standins.urls.iamcredentials, docker: Object.fromEntries(o.dockerLocations.map((l) => [l, o.standins.urls.docker(l)])) },
        ca: o.standins.ca,
        metadataHosts,
      },
    });
    return { stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
