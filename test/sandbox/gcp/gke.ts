// GKE (container.v1): clusters get/list (`-` for all locations) and node pools list, with
// `workloadIdentityConfig.workloadPool` and each pool's `workloadMetadataConfig.mode`; clusters are
// seeded (`seedCluster`), not created through Google's API.
import { GoogleError } from './google-error.js';
import type { GkeClusterSpec } from './types.js';
import { str, type GcpWorld, type Handler } from './world.js';

export function gkeHandlers(w: GcpWorld): Record<string, Handler> {
  const { clusters, project, requirePermission } = w;
  const clusterBody = (c: GkeClusterSpec): Record<string, unknown> => {
    const proj = project(c.projectId);
    return {
      name: c.name,
      location: c.location,
      selfLink: `https://container.googleapis.com/v1/projects/${c.projectId}/locations/${c.location}/clusters/${c.name}`,
      status: 'RUNNING',
      ...(c.workloadIdentity ? { workloadIdentityConfig: { workloadPool: `${c.projectId}.svc.id.goog` } } : {}),
      nodePools: c.nodePools.map((np) => ({
        name: np.name,
        status: 'RUNNING',
        config: {
          serviceAccount: np.serviceAccount ?? `${proj.projectNumber}-compute@developer.gserviceaccount.com`,
          workloadMetadataConfig: { mode: np.metadataMode ?? (c.workloadIdentity ? 'GKE_METADATA' : 'GCE_METADATA') },
        },
      })),
    };
  };
  return {
    'container.projects.locations.clusters.get': ({ params, caller }) => {
      const [, p, l, c] = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(str(params.name))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.get', str(params.name), [proj.policy]);
      const spec = clusters.get(`${proj.projectId}/${l}/${c}`);
      if (!spec) throw new GoogleError('NOT_FOUND', `Not found: projects/${p}/locations/${l}/clusters/${c}.`);
      return clusterBody(spec);
    },
    'container.projects.locations.clusters.list': ({ params, caller }) => {
      const [, p, l] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.list', str(params.parent), [proj.policy]);
      const list = [...clusters.values()].filter((c) => c.projectId === proj.projectId && (l === '-' || c.location === l)).map(clusterBody);
      return list.length ? { clusters: list } : {};
    },
    'container.projects.locations.clusters.nodePools.list': ({ params, caller }) => {
      const [, p, l, c] = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(str(params.parent))!;
      const proj = project(p!);
      requirePermission(caller, 'container.clusters.get', str(params.parent), [proj.policy]);
      const spec = clusters.get(`${proj.projectId}/${l}/${c}`);
      if (!spec) throw new GoogleError('NOT_FOUND', `Not found: projects/${p}/locations/${l}/clusters/${c}.`);
      return { nodePools: (clusterBody(spec).nodePools as unknown[]) ?? [] };
    },
  };
}
