/**
 * `verify`'s rows for a cluster on EKS Pod Identity (pure): the role's trust lets
 * pods.eks.amazonaws.com assume and tag it; each service account has its association, for the
 * exact namespace, service account and role; no IRSA annotation is left (web identity would win);
 * the running pods carry the container credentials env and no AWS_ROLE_ARN.
 */
import type { WorkloadState } from '../../../kube/session.js';
import { EKS_ROLE_ANNOTATION, POD_IDENTITY_ENV, type AssociationState, type Component, type ComponentState, type RoleState } from '../../../plan/model.js';
import { POD_IDENTITY_PRINCIPAL, trustsPodIdentity, type PolicyStatement } from '../policies.js';
import { rowId, rowName, type CheckRow, type Where } from '../../../verify/checks.js';

const row = (id: string, check: string, result: CheckRow['result'], detail: string, fix?: string): CheckRow =>
  result === 'pass' || !fix ? { id, check, result, detail } : { id, check, result, detail, fix };

/** The role trusts EKS Pod Identity for this account's clusters (sts:AssumeRole and sts:TagSession). */
export function podIdentityTrustCheck(role: RoleState | null, accountId: string, clusterArns: string[], initFix: string): CheckRow {
  const id = 'trust-pod-identity';
  const name = 'Role trusts EKS Pod Identity';
  if (!role) return row(id, name, 'fail', 'The role does not exist.', initFix);
  if (!trustsPodIdentity(role.trustPolicy)) {
    return row(id, name, 'fail', `The trust policy does not let ${POD_IDENTITY_PRINCIPAL} perform sts:AssumeRole and sts:TagSession: EKS Auth refuses every pod.`, initFix);
  }
  // Where the statement scopes the source, it must admit this account and these clusters.
  const st = role.trustPolicy.Statement.find((s) => s.Effect === 'Allow' && [s.Principal && s.Principal !== '*' ? s.Principal.Service : undefined].flat().includes(POD_IDENTITY_PRINCIPAL))!;
  const refused = sourceRefusals(st, accountId, clusterArns);
  if (refused.length) return row(id, name, 'fail', `The Pod Identity statement's conditions leave out ${refused.join('; ')}.`, initFix);
  return row(id, name, 'pass', `${POD_IDENTITY_PRINCIPAL} may assume and tag the role${clusterArns.length ? ` for ${clusterArns.join(', ')}` : ''}.`);
}

/** aws:SourceAccount / aws:SourceArn conditions of the statement that a cluster of ours would not meet. */
function sourceRefusals(st: PolicyStatement, accountId: string, clusterArns: string[]): string[] {
  const out: string[] = [];
  const values = (op: string, key: string): string[] | undefined => {
    const v = st.Condition?.[op]?.[key];
    return v === undefined ? undefined : [v].flat();
  };
  const account = values('StringEquals', 'aws:SourceAccount');
  if (account && !account.includes(accountId)) out.push(`account ${accountId} (aws:SourceAccount ${account.join(', ')})`);
  const like = [...(values('ArnLike', 'aws:SourceArn') ?? []), ...(values('ArnEquals', 'aws:SourceArn') ?? []), ...(values('StringEquals', 'aws:SourceArn') ?? []), ...(values('StringLike', 'aws:SourceArn') ?? [])];
  if (like.length) {
    const match = (pattern: string, arn: string) => new RegExp(`^${pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(arn);
    for (const arn of clusterArns) if (!like.some((p) => match(p, arn))) out.push(`cluster ${arn} (aws:SourceArn ${like.join(', ')})`);
  }
  return out;
}

export interface AssociationInput {
  w: Where;
  comp: Component;
  roleArn: string;
  clusterName?: string;
  association: AssociationState | undefined;
  /** The associations could not be read. */
  readError?: string;
  state: ComponentState | undefined;
}

/** The association exists for the exact namespace, service account and role; no IRSA annotation is left. */
export function associationCheck(i: AssociationInput, initFix: string): CheckRow {
  const { w, comp, roleArn } = i;
  const ns = w.cluster.namespace;
  const id = rowId('association', w, comp);
  const name = rowName(`Pod Identity association of ${comp}`, w);
  if (!i.clusterName) return row(id, name, 'fail', 'The EKS cluster\'s name is not known, so its associations cannot be read.', 'Pass --cluster-name with the EKS cluster\'s name.');
  if (i.readError) return row(id, name, 'fail', `Could not read the associations of EKS cluster ${i.clusterName}: ${i.readError}`, 'Check that your AWS principal may call eks:ListPodIdentityAssociations and eks:DescribePodIdentityAssociation.');
  const a = i.association;
  if (!a) return row(id, name, 'fail', `EKS cluster ${i.clusterName} has no Pod Identity association for ${ns}/${comp}.`, `${initFix} --mechanism pod-identity`);
  if (a.namespace !== ns || a.serviceAccount !== comp) {
    return row(id, name, 'fail', `The association ${a.associationId} is for ${a.namespace}/${a.serviceAccount}, not ${ns}/${comp}.`, `${initFix} --mechanism pod-identity`);
  }
  if (a.roleArn !== roleArn) return row(id, name, 'fail', `The association ${a.associationId} of ${ns}/${comp} names ${a.roleArn}, not ${roleArn}.`, `${initFix} --mechanism pod-identity`);
  const annotation = i.state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION];
  if (annotation !== undefined) {
    return row(id, name, 'fail',
      `The association ${a.associationId} names the role, but service account ${comp} still has ${EKS_ROLE_ANNOTATION}=${annotation}: new pods get both, and the AWS SDK takes web identity (IRSA) first.`,
      `${initFix} --mechanism pod-identity`);
  }
  return row(id, name, 'pass', `Association ${a.associationId}: ${ns}/${comp} in EKS cluster ${i.clusterName} → ${roleArn}; no IRSA annotation.`);
}

/** The running pods carry the container credentials env (injected at creation) and no AWS_ROLE_ARN. */
export function podIdentityPodsCheck(w: Where, comp: Component, workload: WorkloadState | null | { error: string }): CheckRow {
  const ns = w.cluster.namespace;
  const id = rowId('pods', w, comp);
  const name = rowName(`Pods of ${comp} restarted`, w);
  const restart = `kubectl -n ${ns} rollout restart deployment/${comp}`;
  if (workload === null) return row(id, name, 'fail', `Deployment ${ns}/${comp} was not found.`, 'Check the namespace (--namespace).');
  if ('error' in workload) return row(id, name, 'warn', `Could not read the deployment and its pods: ${workload.error}`, `Check by hand: kubectl -n ${ns} get pods -l app=${comp}`);
  const live = (workload.pods ?? []).filter((p) => !p.terminating);
  if (live.length === 0) return row(id, name, 'warn', `No running pod of ${comp} to look at${workload.pods === null ? ` (${workload.podsError ?? 'the pods cannot be listed'})` : ''}.`, `kubectl -n ${ns} get pods -l app=${comp}`);
  const names = (p: { env: { name: string }[] }) => new Set(p.env.map((e) => e.name));
  const without = live.filter((p) => POD_IDENTITY_ENV.some((n) => !names(p).has(n)));
  const withIrsa = live.filter((p) => names(p).has('AWS_ROLE_ARN'));
  if (without.length) {
    return row(id, name, 'fail',
      `${without.map((p) => p.name).join(', ')} run${without.length === 1 ? 's' : ''} without ${POD_IDENTITY_ENV.join(' and ')} (started before the association, or the webhook skipped ${without.length === 1 ? 'it' : 'them'}).`,
      restart);
  }
  if (withIrsa.length) {
    return row(id, name, 'fail',
      `${withIrsa.map((p) => p.name).join(', ')} also carr${withIrsa.length === 1 ? 'ies' : 'y'} AWS_ROLE_ARN: the AWS SDK takes web identity first, so ${withIrsa.length === 1 ? 'it uses' : 'they use'} IRSA, not Pod Identity.`,
      restart);
  }
  const notReady = live.filter((p) => !p.ready);
  if (notReady.length) return row(id, name, 'warn', `The pods carry the Pod Identity env, but ${notReady.map((p) => p.name).join(', ')} ${notReady.length === 1 ? 'is' : 'are'} not ready yet.`, `kubectl -n ${ns} rollout status deployment/${comp}`);
  return row(id, name, 'pass', `${live.length} pod${live.length === 1 ? '' : 's'} run${live.length === 1 ? 's' : ''} with ${POD_IDENTITY_ENV.join(' and ')} and no AWS_ROLE_ARN.`);
}
