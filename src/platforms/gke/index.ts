/**
 * GKE: recognised by its issuer, its kubeconfig (a `gke_<project>_<location>_<cluster>` context whose
 * user runs gke-gcloud-auth-plugin) and its nodes (providerID `gce://…`, the node-pool label). Its
 * pods act as a Google service account through workload identity: the GKE metadata server reads an
 * annotation on the Kubernetes service account. Running pods keep the identity they started with,
 * so a changed wiring needs a restart (the pod-template marker).
 */
import type { Platform } from '../types.js';
import { wiringHelmValues, wiringOverlays } from '../wiring.js';
import { GKE_AUTH_PLUGIN, GKE_CONTEXT_RE, GKE_ISSUER_RE, GKE_PROVIDER_ID_RE } from './constants.js';

export { GKE_AUTH_PLUGIN, GKE_NODEPOOL_LABEL, GKE_SA_ANNOTATION, gkeClusterRef, type GkeClusterRef } from './constants.js';

export const gke: Platform = {
  id: 'gke',
  title: 'GKE',
  signals: [
    { source: 'issuer', pattern: GKE_ISSUER_RE },
    { source: 'kubeconfig', pattern: GKE_CONTEXT_RE },
    { source: 'kubeconfig-exec', pattern: new RegExp(`(^|/)${GKE_AUTH_PLUGIN}$`) },
    { source: 'node-provider-id', pattern: GKE_PROVIDER_ID_RE },
  ],
  // The metadata server exchanges the token for the workload pool itself; the pods present no token of their own.
  audience: () => '<project>.svc.id.goog',
  webhookWiring: true,
  operatorOverlays: wiringOverlays,
  helmValues: wiringHelmValues,
  restart: { method: 'restartedAt', needed: () => true },
  durablePlaces: ['operator', 'helm', 'manifests'],
};
