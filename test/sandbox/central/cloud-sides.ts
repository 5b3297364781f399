// What a Central pod reaches in Google Cloud and Azure, as the Central stand-in plays its tests of
// Artifact Registry and Azure Container Registry integrations: the Google and Azure stand-ins
// (../gcp/, ../azure/) in place of Google's and Microsoft's hosts, and on GKE the metadata server
// of the pod's node. The sandbox hands them to a cluster's CentralApi (`api.clouds`); without them
// the pod reaches nothing, and Central's test fails as it would without a route to the cloud.
import http from 'node:http';
import https from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';

/** The Google stand-ins as a Central pod reaches them (a GcpStandins fits). */
export interface GcpSide {
  urls: {
    /** Google STS's token URL (what https://sts.googleapis.com/v1/token reaches). */
    stsToken: string;
    /** IAM Credentials' root URL (what https://iamcredentials.googleapis.com/ reaches). */
    iamcredentials: string;
    /** The Docker registry of `<location>-docker.pkg.dev` (throws when the location has none). */
    docker(location: string): string;
  };
  /** The PEM CA the stand-ins' certificates chain to. */
  ca: string | Buffer;
  /**
   * On GKE: the metadata server (`host:port`) the pod's node runs (what 169.254.169.254 reaches from
   * the pod); undefined where there is none (not GKE). The request carries the header
   * `x-sandbox-pod: <namespace>/<name>` in place of the pod's source address, for its `identify`.
   */
  metadataHost?: (pod: V1Pod) => string | undefined;
  /**
   * `<repository>/<image>` in the integration's project whose tags Central's test reads after its
   * ping (`/v2/<project>/<repository>/<image>/tags/list`), to prove the reader role; Central itself
   * only pings, so by default the stand-in does too.
   */
  pullCheckImage?: string;
}

/** The Azure stand-ins as a Central pod reaches them (an AzureStandins fits). */
export interface AzureSide {
  /** The Entra stand-in's base URL (what the cloud's authority host reaches). */
  authorityHost: string;
  cloud: { authorityHost: string; acrSuffix: string; armResource: string };
  ca: string | Buffer;
  /** A request to `https://<registry>.<acrSuffix>/…`, routed to the ACR stand-in by host name. */
  acrFetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  /**
   * A repository whose pull Central's test proves after its ping (`/v2/<repo>/tags/list`). Real ACR
   * refuses the token exchange to an identity without a role on the registry; the ACR stand-in does
   * not, so the pull of a repository the registry holds is what proves the role here.
   */
  pullCheckRepository?: string;
}

export interface CentralClouds {
  gcp?: GcpSide;
  azure?: AzureSide;
}

/**
 * The Google and Azure sides as sent over the Central stand-ins' control API (`PUT
 * /clouds?cluster=<name>`) by stand-ins that run in another process: Google's Docker registry of
 * each location and the metadata server of each node (by node name); Azure's Entra and ACR.
 */
export interface CentralCloudsWire {
  gcp?: {
    urls: { stsToken: string; iamcredentials: string; docker: Record<string, string> };
    ca: string;
    metadataHosts?: Record<string, string>;
    pullCheckImage?: string;
  };
  /** The Azure side: Entra's and ACR's stand-ins by URL (ACR reached by host name: TLS server name and Host header). */
  azure?: {
    authorityHost: string;
    cloud: { authorityHost: string; acrSuffix: string; armResource: string };
    ca: string;
    acrUrl: string;
    pullCheckRepository?: string;
  };
}

/** An AzureSide from its wire form: requests to `https://<registry>.<suffix>/…` go to the ACR stand-in's port, named by host. */
function azureFromWire(a: NonNullable<CentralCloudsWire['azure']>): AzureSide {
  const acr = new URL(a.acrUrl);
  return {
    authorityHost: a.authorityHost,
    cloud: a.cloud,
    ca: a.ca,
    ...(a.pullCheckRepository ? { pullCheckRepository: a.pullCheckRepository } : {}),
    acrFetch: (target, init = {}) => {
      const u = new URL(target);
      return new Promise((resolve, reject) => {
        const req = https.request(
          { host: acr.hostname, port: acr.port, servername: u.hostname, method: init.method ?? 'GET', path: `${u.pathname}${u.search}`, headers: { host: u.hostname, ...init.headers }, ca: a.ca, timeout: 5000, agent: false },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`dial tcp ${u.hostname}:443: i/o timeout`)));
        req.on('error', reject);
        req.end(init.body);
      });
    },
  };
}

export function cloudsFromWire(w: CentralCloudsWire): CentralClouds {
  const azure = w.azure ? { azure: azureFromWire(w.azure) } : {};
  if (!w.gcp) return azure;
  const g = w.gcp;
  return {
    ...azure,
    gcp: {
      urls: {
        stsToken: g.urls.stsToken,
        iamcredentials: g.urls.iamcredentials,
        docker: (location) => {
          const origin = g.urls.docker[location];
          if (!origin) throw new Error(`no Artifact Registry repository in ${location}`);
          return origin;
        },
      },
      ca: g.ca,
      ...(g.metadataHosts ? { metadataHost: (pod: V1Pod) => g.metadataHosts![pod.spec?.nodeName ?? ''] } : {}),
      ...(g.pullCheckImage ? { pullCheckImage: g.pullCheckImage } : {}),
    },
  };
}

/** One HTTPS request trusting `ca` (or plain HTTP for the metadata server), bounded in time. */
export function cloudRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; ca?: string | Buffer; timeoutMs?: number } = {}): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      { method: init.method ?? 'GET', host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: init.headers, ...(tls ? { ca: init.ca, agent: false } : {}), timeout: init.timeoutMs ?? 15_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers as Record<string, string> }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`dial tcp ${u.host}: i/o timeout`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
