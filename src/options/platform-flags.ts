/**
 * The flags that say which platform and cloud a run is on (--provider, --cloud): known values, the
 * pairs that cannot go together, and what each platform offers yet.
 */
import { CLOUDS, PROVIDERS, PROVIDER_CLOUD, type CloudId, type CommandName, type Provider } from './types.js';

export function checkPlatformFlags(command: CommandName, provider: string | undefined, cloud: string | undefined, add: (key: 'provider' | 'cloud', message: string) => void): void {
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    add('provider', `"${provider}" is not a provider we support (eks, openshift, gke or aks)`);
  } else if (provider === 'gke' && command === 'issuer-publish') {
    add('provider', 'gke: "issuer publish" is not available on GKE yet (init, plan, status, verify and uninstall are)');
  } else if (provider === 'aks' && command === 'issuer-publish') {
    add('provider', 'aks: "issuer publish" is not available on AKS (AKS publishes its issuer itself; init, plan, status, verify and uninstall are)');
  }
  if (cloud !== undefined && !CLOUDS.includes(cloud as CloudId)) {
    add('cloud', `"${cloud}" is not a cloud we support (aws, gcp or azure)`);
  } else if (cloud !== undefined && provider !== undefined && provider !== 'openshift' && PROVIDERS.includes(provider as Provider) && PROVIDER_CLOUD[provider as Exclude<Provider, 'openshift'>] !== cloud) {
    add('cloud', `${provider} runs on ${PROVIDER_CLOUD[provider as Exclude<Provider, 'openshift'>]}, not ${cloud}: leave --cloud out (it is for OpenShift)`);
  }
}
