// What GKE's workload identity reads: the Google service account a Kubernetes service account acts as.

/** The service-account annotation the GKE metadata server reads to act as a Google service account. */
export const GKE_SA_ANNOTATION = 'iam.gke.io/gcp-service-account';
/** The node label GKE sets to the node's pool (which pool runs Central or Sensor). */
export const GKE_NODEPOOL_LABEL = 'cloud.google.com/gke-nodepool';
/** The exec credential plugin of a GKE kubeconfig user (gcloud container clusters get-credentials). */
export const GKE_AUTH_PLUGIN = 'gke-gcloud-auth-plugin';

/** A GKE kubeconfig context, as gcloud names it: `gke_<project>_<location>_<cluster>`. */
export const GKE_CONTEXT_RE = /^gke_([a-z][-a-z0-9]{4,28}[a-z0-9])_([a-z]+-[a-z]+\d+(?:-[a-z])?)_([a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)$/;
/** A GKE cluster's service-account issuer. */
export const GKE_ISSUER_RE = /^https:\/\/container\.googleapis\.com\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/;
/** A GKE node's providerID: `gce://<project>/<zone>/<instance>`. */
export const GKE_PROVIDER_ID_RE = /^gce:\/\/([^/]+)\/([^/]+)\/[^/]+$/;

/** Where a GKE cluster is, as the signals above give it. */
export interface GkeClusterRef {
  projectId: string;
  location: string;
  name: string;
}

/** Pure: the project, location and cluster from the issuer, else the kubeconfig context. */
export function gkeClusterRef(signals: { issuer?: string; context?: string }): GkeClusterRef | undefined {
  const i = GKE_ISSUER_RE.exec(signals.issuer ?? '');
  if (i) return { projectId: i[1]!, location: i[2]!, name: i[3]! };
  const c = GKE_CONTEXT_RE.exec(signals.context ?? '');
  if (c) return { projectId: c[1]!, location: c[2]!, name: c[3]! };
  return undefined;
}
