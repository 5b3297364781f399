/**
 * The init plan: buildPlan's, and — when delegated scanning is turned off (--no-delegated-scanning)
 * while Sensor still has the role from an earlier run — Sensor taken out as a whole: buildPlan
 * drops its trust, and here its wiring goes (annotation or environment, operator overlay, Helm
 * values, Pod Identity association) with a restart, as uninstall reverts it. Pure.
 */
import { associationOf, buildPlan, isManaged } from './build.js';
import { buildUninstallPlan } from './uninstall.js';
import { EKS_ROLE_ANNOTATION, type AwsState, type ClusterFacts, type Decisions, type Facts, type Plan } from './model.js';

/** The action types that take Sensor's wiring out (the Kubernetes part of uninstall, and the association). */
const UNWIRING = new Set(['operator-overlay', 'pod-identity-association', 'service-account-annotation', 'deployment-env', 'restart']);

/** Whether Sensor's wiring in this cluster names the role (annotation, environment, or our association). */
export function sensorHasRole(cluster: ClusterFacts, arn: string, aws: AwsState, region: string): boolean {
  if (!cluster.components.includes('sensor')) return false;
  const st = cluster.current?.sensor;
  if (cluster.provider !== 'eks') return st?.deployment?.env.some((e) => e.name === 'AWS_ROLE_ARN' && e.value === arn) ?? false;
  if (st?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] === arn) return true;
  const assoc = associationOf(aws, cluster, region, 'sensor');
  return assoc !== undefined && assoc.roleArn === arn && isManaged(assoc.tags);
}

export function buildInitPlan(facts: Facts, decisions: Decisions, aws: AwsState | undefined): Plan {
  const plan = buildPlan(facts, decisions, aws);
  const role = aws?.role;
  if (decisions.delegatedScanning || !aws || !role || !isManaged(role.tags)) return plan;
  const wired = facts.clusters.filter((c) => sensorHasRole(c, role.arn, aws, c.region ?? facts.region));
  if (!wired.length) return plan;
  const undo = buildUninstallPlan(
    { ...facts, clusters: wired.map((c) => ({ ...c, components: ['sensor'] })) },
    decisions, aws, { keepOidcProvider: true, otherTrusters: {} },
  );
  plan.actions.push(...undo.actions.filter((a) => UNWIRING.has(a.type)));
  plan.restarts.push(...undo.restarts);
  plan.blockers.push(...undo.blockers);
  if (undo.helmValues?.length) plan.helmValues = [...(plan.helmValues ?? []), ...undo.helmValues];
  plan.notes.push(`Delegated scanning was on, becomes off: Sensor's trust statement and its wiring (${wired.map((c) => `${c.context ? `${c.context}: ` : ''}${c.namespace}/sensor`).join(', ')}) go together; --delegated-scanning puts them back.`);
  return plan;
}
