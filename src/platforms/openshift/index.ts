/**
 * OpenShift: recognised by the config.openshift.io API group (its Authentication object names the
 * issuer, its Infrastructure object the cloud). No webhook: the deployment itself names the identity
 * (env, or a Secret the component reads) and the projected token with audience `openshift`; an env
 * change rolls the pods by itself, a watched Secret needs no rollout.
 */
import type { Platform } from '../types.js';
import { wiringHelmValues, wiringOverlays } from '../wiring.js';
import { OPENSHIFT_AUDIENCE } from './constants.js';

export { openShiftAzureFacts, type InfrastructureView, type OpenShiftAzureCloud, type OpenShiftAzureFacts } from './azure.js';
export { OPENSHIFT_AUDIENCE, OPENSHIFT_TOKEN_DIR, OPENSHIFT_TOKEN_FILE, OPENSHIFT_TOKEN_VOLUME, TOKEN_EXPIRATION_SECONDS } from './constants.js';

export const openshift: Platform = {
  id: 'openshift',
  title: 'OpenShift',
  signals: [{ source: 'api-group', pattern: 'config.openshift.io' }],
  audience: () => OPENSHIFT_AUDIENCE,
  webhookWiring: false,
  operatorOverlays: wiringOverlays,
  helmValues: wiringHelmValues,
  restart: { method: 'rollout', needed: (w) => !!(w.env?.length || w.podLabels) },
  durablePlaces: ['operator', 'helm', 'manifests'],
};
