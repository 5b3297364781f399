/**
 * Decisions: a flag beats a prompt, a prompt runs only when a value is still unknown and a person
 * is at the terminal, and every question has a default. Offline facts come from flags alone.
 */
import type { Options } from './options.js';
import type { Decisions, Facts } from './plan/model.js';
import { partitionOfRegion } from './validate.js';

export function defaultRoleName(clusterName: string | undefined): string {
  return clusterName ? `rhacs-sts-${clusterName}`.slice(0, 64) : 'rhacs-sts';
}

/** Facts for --offline: everything from flags (parseOptions already required what is needed). */
export function offlineFacts(options: Options): Facts {
  const region = options.region!;
  return {
    partition: partitionOfRegion(region),
    accountId: options.accountId!,
    region,
    clusterName: options.clusterName,
    offline: true,
    clusters: [{
      context: options.context,
      provider: options.provider!,
      issuer: options.oidcIssuer!,
      namespace: options.namespace ?? 'stackrox',
      // Offline we assume a single cluster that runs both Central and Sensor.
      components: ['central', 'sensor'],
      installMethod: 'manifests',
      installEvidence: 'offline: the install method is not known; the plan applies changes live',
    }],
  };
}

/** Decisions from options and facts, with defaults for whatever was not said. */
export function decisionsFromOptions(options: Options, facts: Facts, thumbprints: Record<string, string[]> = {}): Decisions {
  return {
    roleName: options.roleName ?? defaultRoleName(options.clusterName ?? facts.clusterName),
    rolePath: options.rolePath,
    permissionsBoundary: options.permissionsBoundary,
    ecr: {
      registryId: options.ecrRegistryId ?? facts.accountId,
      region: options.ecrRegion,
      repositories: options.ecrRepositories,
    },
    delegatedScanning: options.delegatedScanning ?? false,
    restart: options.restart,
    adoptRole: options.adoptRole,
    adoptOidcProvider: options.adoptOidcProvider,
    thumbprints,
  };
}
