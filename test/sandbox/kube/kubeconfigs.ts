// Kubeconfigs that look like the ones people have: EKS entries as `aws eks update-kubeconfig`
// writes them (cluster, user and context all named by the cluster ARN; the user runs
// `aws eks get-token`), OpenShift entries as `oc login` names them
// (`<namespace>/<api-host-with-dashes>:6443/<user>`), AKS entries as `az aks get-credentials` writes
// them (context and cluster named after the cluster, user `clusterUser_<resource group>_<cluster>`). The sandbox users also carry the client
// certificate, which is what the sandbox API servers actually authenticate (see aws-cli.ts).
import { eksExecSection } from '../aws/aws-cli.js';
import { gkeExecSection } from '../gcp/gke-auth-plugin.js';
import type { ClusterInfo, Flavour } from '../types.js';

/** moto's default account, which the EKS ARNs name. */
export const EKS_ACCOUNT_ID = '123456789012';

/** The Google project the GKE flavour's clusters are in (the Google stand-ins' default project). */
export const GKE_PROJECT = 'sandbox-project';

/** The OpenShift API host the sandbox pretends a cluster has (`api.<name>.sandbox.example.com`). */
export function openShiftApiHost(name: string): string {
  return `api.${name}.sandbox.example.com`;
}

/** `oc login`'s cluster entry name: the API host with dots as dashes, and the port. */
function ocClusterName(name: string): string {
  return `${openShiftApiHost(name).replace(/\./g, '-')}:6443`;
}

/** The resource group the sandbox's AKS clusters are in (named in the kubeconfig user, as az does). */
export const AKS_RESOURCE_GROUP = 'rhacs-sandbox-rg';

/** The context name a person would have for this cluster. */
export function contextName(name: string, flavour: Flavour, region: string): string {
  if (flavour === 'eks') return `arn:aws:eks:${region}:${EKS_ACCOUNT_ID}:cluster/${name}`;
  if (flavour === 'openshift') return `default/${ocClusterName(name)}/kube:admin`;
  // gcloud container clusters get-credentials names the cluster, the user and the context alike.
  if (flavour === 'gke') return `gke_${GKE_PROJECT}_${region}_${name}`;
  return name;
}

/** The cluster and user entry names that go with contextName(). */
function entryNames(c: ClusterInfo, suffix?: string): { cluster: string; user: string } {
  const tag = suffix ? `-${suffix}` : '';
  // EKS entries are named by the cluster ARN, whatever the context is called (rename-context renames only it).
  const arn = contextName(c.name, 'eks', c.region);
  if (c.flavour === 'eks') return { cluster: arn, user: `${arn}${tag}` };
  if (c.flavour === 'openshift') return { cluster: ocClusterName(c.name), user: `kube:admin${tag}/${ocClusterName(c.name)}` };
  // `az aks get-credentials`: context and cluster named after the cluster, the user clusterUser_<rg>_<cluster>.
  if (c.flavour === 'aks') return { cluster: c.name, user: `clusterUser_${AKS_RESOURCE_GROUP}_${c.name}${tag}` };
  if (c.flavour === 'gke') return { cluster: contextName(c.name, 'gke', c.region), user: `${contextName(c.name, 'gke', c.region)}${tag}` };
  return { cluster: c.name, user: `${c.name}-${suffix ?? 'admin'}` };
}

/**
 * A kubeconfig document for `list` (current context: the first). The admin user of an EKS cluster
 * has the `aws eks get-token` exec section; other users (the controller's, `suffix`) do not.
 */
export function kubeconfigDocument(list: ClusterInfo[], caData: string, user: { cert: string; key: string; suffix?: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: list.map((c) => ({ name: entryNames(c).cluster, cluster: { server: c.server, 'certificate-authority-data': caData } })),
    users: list.map((c) => ({
      name: entryNames(c, user.suffix).user,
      user: {
        'client-certificate-data': user.cert,
        'client-key-data': user.key,
        ...(c.flavour === 'eks' && !user.suffix ? { exec: eksExecSection(c.region, c.name) } : {}),
        ...(c.flavour === 'gke' && !user.suffix ? { exec: gkeExecSection() } : {}),
      },
    })),
    contexts: list.map((c) => ({ name: c.context, context: { cluster: entryNames(c).cluster, user: entryNames(c, user.suffix).user } })),
    'current-context': list[0]?.context,
    preferences: {},
  };
}
