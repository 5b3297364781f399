/**
 * EKS: recognised by its issuer, API server host and nodes; its pods receive an AWS identity from the
 * IRSA webhook, which reads an annotation on the service account and injects credentials only into
 * pods created after it — so a changed wiring needs a restart (the pod-template marker).
 */
import type { Platform } from '../types.js';
import { wiringHelmValues, wiringOverlays } from '../wiring.js';

export { EKS_AUDIENCE_ANNOTATION, EKS_ROLE_ANNOTATION } from './constants.js';

export const eks: Platform = {
  id: 'eks',
  title: 'EKS',
  signals: [
    { source: 'issuer', pattern: /^https:\/\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+$/ },
    { source: 'api-server', pattern: /\.eks\.amazonaws\.com(\.cn)?$/ },
    { source: 'node-provider-id', pattern: /^aws:\/\/\// },
  ],
  audience: () => 'sts.amazonaws.com',
  webhookWiring: true,
  operatorOverlays: wiringOverlays,
  helmValues: wiringHelmValues,
  restart: { method: 'restartedAt', needed: () => true },
  durablePlaces: ['operator', 'helm', 'manifests'],
};
