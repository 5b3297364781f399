// The shapes of Central's image integrations live beside the plan model that carries them.
export type { AzureConfig, EcrConfig, GoogleConfig, ImageIntegration, IntegrationRecord, PreviousSettings } from '../plan/central-types.js';
