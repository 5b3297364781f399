/**
 * AKS: recognised by its issuer, API server host, nodes (providerID, the `kubernetes.azure.com/cluster`
 * label) and the kubeconfig `az aks get-credentials` writes. Its pods receive an Azure identity from
 * the workload identity webhook, which reads the client id on the service account but mutates only
 * pods labelled `azure.workload.identity/use: "true"` — so the wiring is an annotation AND a pod
 * label, and, as the webhook injects at pod creation, a changed wiring needs a restart.
 *
 * Durable places: the StackRox CRs' spec.overlays (a ServiceAccount patch for the annotation, a
 * Deployment patch of spec.template.metadata.labels for the label — the CRs' spec.customize.labels
 * would label every object, not the pod template); the charts' `customize` values, which the charts
 * read per object (stackrox image/templates/helm/shared/templates/_metadata.tpl, srox._customizeMetadata):
 * `customize.other.serviceaccount/<name>.annotations` and `customize.<deployment>.podLabels`.
 */
import type { Platform } from '../types.js';
import { wiringHelmValues, wiringOverlays } from '../wiring.js';
import { AKS_AAD_SERVER_ID, AKS_AUDIENCE, AKS_CLUSTER_NODE_LABEL } from './constants.js';
import { AKS_API_SERVER, AKS_ISSUER, AKS_KUBECONFIG_USER } from './facts.js';

export { AKS_AUDIENCE, AKS_CLIENT_ID_ANNOTATION, AKS_CLUSTER_NODE_LABEL, AKS_TENANT_ID_ANNOTATION, AKS_USE_LABEL } from './constants.js';
export { aksFactsFromSignals, looksLikeAks, parseAksApiServer, parseAksIssuer, parseAksKubeconfigUser, parseAksNodeLabels, parseAksProviderId, isKubeloginExec, type AksFacts, type AksSignals } from './facts.js';

export const aks: Platform = {
  id: 'aks',
  title: 'AKS',
  signals: [
    { source: 'issuer', pattern: AKS_ISSUER },
    { source: 'api-server', pattern: AKS_API_SERVER },
    { source: 'node-provider-id', pattern: /^azure:\/\/\/subscriptions\// },
    { source: 'node-label', pattern: new RegExp(`^${AKS_CLUSTER_NODE_LABEL.replace(/[./]/g, '\\$&')}=.+`) },
    { source: 'kubeconfig', pattern: AKS_KUBECONFIG_USER },
    { source: 'kubeconfig', pattern: new RegExp(`(^|[\\\\/])kubelogin(\\.exe)? get-token .*${AKS_AAD_SERVER_ID}`) },
  ],
  audience: () => AKS_AUDIENCE,
  webhookWiring: true,
  operatorOverlays: wiringOverlays,
  helmValues: wiringHelmValues,
  restart: { method: 'restartedAt', needed: () => true },
  durablePlaces: ['operator', 'helm', 'manifests'],
};
