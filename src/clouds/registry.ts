/**
 * Every cloud rhacs-sts knows, by id, and the one way the pipeline reaches one: `loadCloud` imports
 * the cloud's module only when a run needs it (its SDK with it), so --help and --version load none.
 * A new cloud adds its folder (src/clouds/<id>/, exporting a `Cloud`) and one entry below.
 */
import type { Cloud, CloudId } from './types.js';
import type { PlatformId } from '../platforms/types.js';
import type { AwsCloud } from './aws/cloud.js';
import type { GcpCloud } from './gcp/cloud.js';
import type { AzureCloud } from './azure/cloud.js';

export type { Cloud, CloudId } from './types.js';

/** Each cloud's own type (its session, actions, state, and what it publishes), by id. */
interface CloudById {
  aws: AwsCloud;
  gcp: GcpCloud;
  azure: AzureCloud;
}

interface CloudEntry<I extends CloudId = CloudId> {
  title: string;
  /** The platforms it pairs with (OpenShift's Infrastructure object says which cloud it runs on). */
  platforms: readonly PlatformId[];
  /** OpenShift's `status.platformStatus.type` for a cluster on this cloud. */
  openshiftPlatformType: string;
  load: () => Promise<CloudById[I]>;
}

const CLOUDS: { [I in CloudId]: CloudEntry<I> } = {
  aws: { title: 'AWS', platforms: ['eks', 'openshift'], openshiftPlatformType: 'AWS', load: async () => (await import('./aws/cloud.js')).aws },
  gcp: { title: 'Google Cloud', platforms: ['gke', 'openshift'], openshiftPlatformType: 'GCP', load: async () => (await import('./gcp/cloud.js')).gcp },
  azure: { title: 'Azure', platforms: ['aks', 'openshift'], openshiftPlatformType: 'Azure', load: async () => (await import('./azure/cloud.js')).azure },
};

export const CLOUD_IDS = Object.keys(CLOUDS) as CloudId[];

/** The cloud's module, loaded on first use. */
export function loadCloud<I extends CloudId>(id: I): Promise<CloudById[I]> {
  return (CLOUDS[id] as CloudEntry<I>).load();
}

/** Every cloud as the pipeline sees them all (without knowing which). */
export type AnyCloud = Cloud<any, any, any, any, any, any, any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each cloud has its own types

/**
 * The cloud a platform runs on: its own cloud for a managed platform; for OpenShift, the
 * Infrastructure object's `platformStatus.type` (none: AWS, where rhacs-sts began, so that such a
 * cluster is handled as before; one no cloud claims: undefined).
 */
export function cloudFor(platform: PlatformId, openshiftPlatformType?: string): CloudId | undefined {
  const ids = CLOUD_IDS.filter((id) => CLOUDS[id].platforms.includes(platform));
  if (platform !== 'openshift') return ids[0];
  return openshiftPlatformType === undefined ? 'aws' : ids.find((id) => CLOUDS[id].openshiftPlatformType === openshiftPlatformType);
}

/**
 * The cloud of a run, from what it says before any cluster is read: --provider (a managed
 * platform's own cloud; OpenShift's from --cloud), else a Google- or Azure-shaped kubeconfig context
 * (`gke_<project>_<location>_<cluster>`, its exec plugin; `az aks get-credentials`'s
 * `clusterUser_<rg>_<cluster>` user); undefined: detection decides.
 */
export function cloudOfRun(run: { provider?: PlatformId; cloud?: CloudId; kubeconfigPlatform?: PlatformId }): CloudId | undefined {
  if (run.cloud) return run.cloud;
  if (run.provider) return cloudFor(run.provider);
  if (run.kubeconfigPlatform) return cloudFor(run.kubeconfigPlatform);
  return undefined;
}

/** The cloud's own managed platform (GKE for Google Cloud, AKS for Azure). */
export function managedPlatform(id: CloudId): PlatformId {
  return CLOUDS[id].platforms[0]!;
}

export function cloudTitle(id: CloudId): string {
  return CLOUDS[id].title;
}
