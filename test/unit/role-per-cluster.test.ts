// --role-per-cluster read back from what is in place (src/plan/in-place.ts), and the fleet status
// built from one part per role (src/status.ts): pure, from facts as discovery reads them.
import { describe, expect, it } from 'vitest';
import { ownRoleClustersInPlace } from '../../src/plan/in-place.js';
import type { AssociationState, ClusterFacts, Facts } from '../../src/plan/model.js';
import { mergeStatus, type StatusReport } from '../../src/status.js';

const ACCOUNT = '111122223333';
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const sensorSa = (role?: string) => ({ sensor: { serviceAccount: { annotations: role ? { 'eks.amazonaws.com/role-arn': role } : ({} as Record<string, string>) }, deployment: null } });
const eks = (name: string, role?: string): ClusterFacts => ({
  provider: 'eks', issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${name.toUpperCase()}`, namespace: 'stackrox',
  components: ['sensor'], installMethod: 'manifests', context: name, name, current: sensorSa(role),
});
const openshift = (name: string, role?: string): ClusterFacts => ({
  provider: 'openshift', issuer: `https://issuer.example.com/${name}`, namespace: 'stackrox', components: ['sensor'], installMethod: 'helm', context: name, name,
  current: { sensor: { serviceAccount: { annotations: {} }, deployment: { container: 'sensor', env: role ? [{ name: 'AWS_ROLE_ARN', value: role }] : [], hasTokenMount: true, podTemplateAnnotations: {}, strategy: 'RollingUpdate' } } },
});
const facts = (...clusters: ClusterFacts[]): Facts => ({ partition: 'aws', accountId: ACCOUNT, region: 'eu-west-1', clusterName: 'hub', offline: false, clusters });
const own = (c: ClusterFacts) => `rhacs-sts-${c.name}`;

describe('role per cluster, read back', () => {
  const hub: ClusterFacts = { ...eks('hub', arn('shared')), components: ['central', 'sensor'] };

  it('finds the secured clusters whose wiring names their own role (annotation or AWS_ROLE_ARN), never Central\'s cluster', () => {
    const f = facts(hub, eks('spoke-1', arn('rhacs-sts-spoke-1')), eks('spoke-2', arn('shared')), openshift('spoke-3', arn('rhacs-sts-spoke-3')), eks('spoke-4'));
    expect(ownRoleClustersInPlace(f, ['spoke-1', 'spoke-2', 'spoke-3', 'spoke-4'], undefined, own)).toEqual(['spoke-1', 'spoke-3']);
    // Only the clusters this run names as secured clusters.
    expect(ownRoleClustersInPlace(f, ['spoke-2', 'spoke-3'], 'shared', own)).toEqual(['spoke-3']);
  });

  it('a cluster whose own-role name is the run\'s role is on the shared role; another role of the same name elsewhere is not its own', () => {
    const f = facts(hub, eks('spoke-1', arn('rhacs-sts-spoke-1')), eks('spoke-2', arn('rhacs-sts-spoke-1')));
    expect(ownRoleClustersInPlace(f, ['spoke-1', 'spoke-2'], 'rhacs-sts-spoke-1', own)).toEqual([]);
    expect(ownRoleClustersInPlace(f, ['spoke-1', 'spoke-2'], undefined, own)).toEqual(['spoke-1']);
  });

  it('EKS Pod Identity: our association of the cluster\'s sensor naming its own role; not one we did not create', () => {
    const assoc = (clusterName: string, role: string, managed: boolean): AssociationState => ({
      associationId: `a-${clusterName}`, clusterName, region: 'eu-west-1', namespace: 'stackrox', serviceAccount: 'sensor', roleArn: arn(role),
      tags: managed ? { 'rhacs-sts/managed': 'true' } : {},
    } as AssociationState);
    const f = facts(hub, eks('spoke-1'), eks('spoke-2'));
    expect(ownRoleClustersInPlace(f, ['spoke-1', 'spoke-2'], undefined, own, [assoc('spoke-1', 'rhacs-sts-spoke-1', true), assoc('spoke-2', 'rhacs-sts-spoke-2', false)])).toEqual(['spoke-1']);
  });
});

describe('fleet status, one part per role', () => {
  const part = (role: string, context: string, rows: StatusReport['managed']): StatusReport => ({
    command: 'status', accountId: ACCOUNT, partition: 'aws', region: 'eu-west-1',
    role: { name: role, arn: arn(role), managed: true },
    clusters: [{ context, provider: 'eks', namespace: 'stackrox', components: ['sensor'] }],
    managed: rows, healthy: rows.every((r) => r.health === 'healthy'),
  });
  const provider = { kind: 'OIDC provider', name: 'arn:aws:iam::111122223333:oidc-provider/shared', health: 'healthy' as const, detail: '' };

  it('lists every role with its clusters, each row once, and is healthy only when every part is', () => {
    const merged = mergeStatus([
      part('shared', 'hub', [provider, { kind: 'IAM role', name: arn('shared'), health: 'healthy', detail: '' }]),
      part('rhacs-sts-spoke-1', 'spoke-1', [provider, { kind: 'IAM role', name: arn('rhacs-sts-spoke-1'), health: 'unhealthy', detail: 'x' }]),
    ]);
    expect(merged.role.name).toBe('shared');
    expect(merged.roles!.map((r) => [r.name, r.contexts])).toEqual([['shared', ['hub']], ['rhacs-sts-spoke-1', ['spoke-1']]]);
    expect(merged.managed.map((r) => r.kind)).toEqual(['OIDC provider', 'IAM role', 'IAM role']);
    expect(merged.clusters.map((c) => c.context)).toEqual(['hub', 'spoke-1']);
    expect(merged.healthy).toBe(false);
  });
});
