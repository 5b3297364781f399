/**
 * What an earlier run of rhacs-sts set, read back from AWS and the clusters (never from a local
 * file, so it survives a lost working directory and a run from another machine): the role's tags,
 * its inline ECR policy, its trust statements, and the wiring of Central and Sensor. A re-run keeps
 * each of these when its flag is not given, and the wizard offers it as the default. Pure.
 */
import { isManaged } from './build.js';
import {
  ATTACHED_TAG_PREFIX,
  ecrScopeOfPolicy,
  federatedHostPaths,
  isOurStatement,
  PERMISSIONS_POLICY_NAME,
  POD_IDENTITY_PRINCIPAL,
  servesTag,
  serviceAccountSubject,
  type EcrScope,
} from '../clouds/aws/policies.js';
import { EKS_ROLE_ANNOTATION, type AssociationState, type ClusterFacts, type Component, type Facts, type Mechanism, type RoleState } from './model.js';
import { issuerHostPath } from '../validate.js';

export interface InPlace {
  /** Sensor has the role in a cluster of this run that the role serves (undefined: no earlier run for these clusters). */
  delegatedScanning?: boolean;
  /** The ECR scope of our inline policy. */
  ecr?: EcrScope;
  /** How the pods of this run's clusters get the role, by the role's serves tags. */
  mechanism?: Mechanism;
  /** Managed policies rhacs-sts attached (recorded in the role's tags). */
  attachPolicyArns?: string[];
  permissionsBoundary?: string;
  rolePath?: string;
}

/** The subjects our trust statement for this issuer names, if there is one. */
function trustedSubjects(role: RoleState, issuer: string): string[] | undefined {
  const hp = issuerHostPath(issuer);
  const st = role.trustPolicy.Statement.find((s) => isOurStatement(s) && federatedHostPaths(s).includes(hp));
  if (!st) return undefined;
  const values = Object.values(st.Condition ?? {}).flatMap((c) => [c[`${hp}:sub`] ?? []].flat());
  return values;
}

/** Whether a component's wiring in the cluster names the role (annotation, env, or our association). */
function wired(c: ClusterFacts, comp: Component, arn: string, associations: readonly AssociationState[]): boolean {
  const st = c.current?.[comp];
  if (c.provider === 'eks') {
    if (st?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] === arn) return true;
    return associations.some((a) => a.clusterName === c.name && a.namespace === c.namespace && a.serviceAccount === comp && a.roleArn === arn && isManaged(a.tags));
  }
  return st?.deployment?.env.some((e) => e.name === 'AWS_ROLE_ARN' && e.value === arn) ?? false;
}

/**
 * The settings in place for the clusters of this run, from the role (only one rhacs-sts manages)
 * and the clusters' wiring. Everything is undefined when there is no such role.
 */
export function settingsInPlace(facts: Facts, role: RoleState | null | undefined, associations: readonly AssociationState[] = []): InPlace {
  if (!role || !isManaged(role.tags)) return {};
  const out: InPlace = { rolePath: role.path };
  const policy = role.inlinePolicies[PERMISSIONS_POLICY_NAME];
  const scope = ecrScopeOfPolicy(policy);
  if (scope) {
    const assume = policy?.Statement.find((s) => s.Sid === 'RhacsStsEcrAssumeRole' && s.Effect === 'Allow');
    const assumeRoleArn = [assume?.Resource ?? []].flat()[0];
    out.ecr = { ...scope, ...(assumeRoleArn ? { assumeRoleArn } : {}) };
  }
  const attached = Object.entries(role.tags).filter(([k]) => k.startsWith(ATTACHED_TAG_PREFIX)).map(([, v]) => v).filter((v) => role.attachedPolicyArns.includes(v));
  if (attached.length) out.attachPolicyArns = attached.sort();
  if (role.permissionsBoundary) out.permissionsBoundary = role.permissionsBoundary;

  // Clusters of this run the role already serves: its serves tag, our trust statement, or wiring that names it.
  const served = facts.clusters.filter((c) =>
    (c.name !== undefined && role.tags[servesTag(c.name)] !== undefined)
    || trustedSubjects(role, c.issuer) !== undefined
    || c.components.some((comp) => wired(c, comp, role.arn, associations)));
  const tags = facts.clusters.flatMap((c) => (c.name !== undefined && role.tags[servesTag(c.name)] !== undefined ? [role.tags[servesTag(c.name)]!] : []));
  if (tags.includes(POD_IDENTITY_PRINCIPAL)) out.mechanism = 'pod-identity';
  else if (tags.length) out.mechanism = 'irsa';

  const withSensor = served.filter((c) => c.components.includes('sensor'));
  if (withSensor.length) {
    out.delegatedScanning = withSensor.some((c) =>
      wired(c, 'sensor', role.arn, associations)
      || (trustedSubjects(role, c.issuer) ?? []).includes(serviceAccountSubject(c.namespace, 'sensor')));
  }
  return out;
}

/**
 * --role-per-cluster, read back: the secured clusters (not Central's) whose wiring — the service
 * account's annotation, Sensor's AWS_ROLE_ARN, or our Pod Identity association — names the role
 * of their own that --role-per-cluster gives them (`ownRoleName`), not the run's shared role.
 * Their contexts, in the order of the facts. Pure.
 */
export function ownRoleClustersInPlace(
  facts: Facts,
  secured: readonly string[],
  sharedRoleName: string | undefined,
  ownRoleName: (c: ClusterFacts) => string,
  associations: readonly AssociationState[] = [],
): string[] {
  const roleName = (arn: string | undefined) => arn?.slice(arn.lastIndexOf('/') + 1);
  return facts.clusters.filter((c) => {
    if (c.context === undefined || !secured.includes(c.context)) return false;
    const own = ownRoleName(c);
    if (own === sharedRoleName) return false;
    const st = c.current?.sensor;
    const named = c.provider === 'eks' ? st?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] : st?.deployment?.env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;
    if (roleName(named) === own) return true;
    return named === undefined && associations.some((a) => a.clusterName === c.name && a.namespace === c.namespace && a.serviceAccount === 'sensor' && isManaged(a.tags) && roleName(a.roleArn) === own);
  }).map((c) => c.context!);
}
