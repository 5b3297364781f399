/**
 * Which role a cluster's configuration points at (the EKS annotation or the OpenShift env var),
 * so that verify and uninstall can find the role when --role-name is not given. Pure; kept apart
 * from ./run.ts so that uninstall does not load the STS and ECR clients.
 */
import { EKS_ROLE_ANNOTATION, type ClusterFacts } from '../plan/model.js';

/** The role ARN the clusters' configuration points at, when they all agree on one. */
export function pointedRoleArn(clusters: ClusterFacts[]): string | undefined {
  const arns = new Set<string>();
  for (const c of clusters) {
    for (const comp of c.components) {
      const s = c.current?.[comp];
      const v = c.provider === 'eks' ? s?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] : s?.deployment?.env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;
      if (v) arns.add(v);
    }
  }
  return arns.size === 1 ? [...arns][0] : undefined;
}

/** Name and path of a role ARN in the account, or undefined (another account, not a role). */
export function roleInAccount(arn: string | undefined, accountId: string): { name: string; path: string } | undefined {
  const m = arn ? /^arn:[^:]+:iam::(\d{12}):role(\/(?:.*\/)?)([^/]+)$/.exec(arn) : null;
  return m && m[1] === accountId ? { name: m[3]!, path: m[2]! } : undefined;
}
