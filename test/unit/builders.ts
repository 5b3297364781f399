// The objects the unit tests feed the pipeline's pure stages, built in one place: a cluster as
// discovery reports it, the account's facts, the decisions and the parsed options. Each builder
// takes overrides; a test spells out only what it is about.
import { parseOptions, type Options } from '../../src/options/options.js';
import type { ClusterFacts, ComponentState, Decisions, Facts } from '../../src/plan/model.js';

export const ACCOUNT = '111122223333';
export const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
export const ROLE_NAME = 'rhacs-sts-prod';

/** An EKS cluster with Central and Sensor in `stackrox`, installed from manifests. */
export function clusterFacts(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return { provider: 'eks', issuer: EKS_ISSUER, namespace: 'stackrox', components: ['central', 'sensor'], installMethod: 'manifests', ...over };
}

/** What a read of the cluster finds before a first run: both service accounts unannotated, no deployments. */
export function nothingInPlace(): Record<'central' | 'sensor', ComponentState> {
  return { central: { serviceAccount: { annotations: {} }, deployment: null }, sensor: { serviceAccount: { annotations: {} }, deployment: null } };
}

/** The account's facts (partition aws, eu-west-1, cluster name `prod`, online) for `clusters`. */
export function facts(clusters: ClusterFacts[] = [clusterFacts()], over: Partial<Facts> = {}): Facts {
  return { partition: 'aws', accountId: ACCOUNT, region: 'eu-west-1', clusterName: 'prod', offline: false, clusters, ...over };
}

/** Every choice at its default: the role `rhacs-sts-prod` at `/`, every repository of the account, no adoption. */
export function decisions(over: Partial<Decisions> = {}): Decisions {
  return {
    roleName: ROLE_NAME,
    rolePath: '/',
    ecr: { registryId: ACCOUNT, repositories: [] },
    delegatedScanning: false,
    restart: true,
    adoptRole: false,
    adoptOidcProvider: false,
    thumbprints: {},
    ...over,
  };
}

/** Options as `rhacs-sts <command>` parses these flags (no config file, no environment). */
export function options(raw: Record<string, unknown> = {}, command: 'init' | 'plan' = 'init'): Options {
  return parseOptions(command, raw, {});
}
