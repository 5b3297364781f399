// buildUninstallPlan (pure): what it removes, in which order, and what it leaves alone.
import { describe, expect, it } from 'vitest';
import { buildPlan, operatorOverlays } from '../../src/plan/build.js';
import type { Action, AwsState, ClusterFacts, ComponentState, Facts, Plan } from '../../src/plan/model.js';
import { trustSid, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { buildUninstallPlan, type UninstallDecisions } from '../../src/plan/uninstall.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { Chalk } from 'chalk';
import { clusterFacts, decisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}`;
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const OCP_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/my-oidc-bucket.s3.us-east-1.amazonaws.com`;
const ROLE_NAME = 'rhacs-sts-prod';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
const OTHER_ARN = `arn:aws:iam::${ACCOUNT}:role/someone-else`;
const ANNOTATION = 'eks.amazonaws.com/role-arn';
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const TAGS = { 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'prod' };

const OUR_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{
    Sid: trustSid(EKS_ISSUER), Effect: 'Allow', Principal: { Federated: EKS_PROVIDER_ARN }, Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${EKS_HP}:sub`]: ['system:serviceaccount:stackrox:central'], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' } },
  }],
};
const THEIR_STATEMENT = { Sid: 'Theirs', Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
const PERMS: PolicyDocument = { Version: '2012-10-17', Statement: [{ Sid: 'RhacsStsEcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] };

const cluster = clusterFacts;
const facts = (clusters: ClusterFacts[] = [cluster()]): Facts => buildFacts(clusters);
function aws(over: Partial<AwsState> = {}): AwsState {
  return {
    oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: TAGS } },
    role: { arn: ROLE_ARN, path: '/', trustPolicy: OUR_TRUST, inlinePolicies: { 'rhacs-sts-ecr-read': PERMS }, attachedPolicyArns: [], tags: TAGS },
    ...over,
  };
}
const eksState = (arn: string | undefined): ComponentState => ({
  serviceAccount: { annotations: { 'example.com/team': 'x', ...(arn ? { [ANNOTATION]: arn } : {}) } },
  deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
});
const u = (over: Partial<UninstallDecisions> = {}): UninstallDecisions => ({ keepOidcProvider: false, otherTrusters: { [EKS_ISSUER]: [ROLE_NAME] }, ...over });
const brief = (plan: Plan) => plan.actions.map((a) => `${a.status} ${a.type} ${a.id}`);
const find = <T extends Action['type']>(plan: Plan, type: T) => plan.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

describe('buildUninstallPlan: EKS, everything ours', () => {
  const f = facts([cluster({ current: { central: eksState(ROLE_ARN), sensor: eksState(ROLE_ARN) } })]);
  const plan = buildUninstallPlan(f, decisions(), aws(), u());

  it('reverts the cluster, then deletes the inline policy, the role and the unused provider, in that order', () => {
    expect(plan.command).toBe('uninstall');
    expect(brief(plan)).toEqual([
      'delete service-account-annotation sa-annotation::stackrox:central',
      'update restart restart::stackrox:central',
      'delete service-account-annotation sa-annotation::stackrox:sensor',
      'update restart restart::stackrox:sensor',
      'delete permissions-policy permissions-policy',
      'delete role role',
      `delete oidc-provider oidc-provider:${EKS_ISSUER}`,
    ]);
    expect(plan.blockers).toEqual([]);
  });

  it('removes exactly our annotation, and restarts by reverting the restartedAt marker', () => {
    const sa = find(plan, 'service-account-annotation')[0]!;
    expect(sa.annotations).toEqual({ [ANNOTATION]: ROLE_ARN });
    expect(sa.current).toEqual({ [ANNOTATION]: ROLE_ARN });
    const restart = find(plan, 'restart')[0]!;
    expect(restart).toMatchObject({ method: 'restartedAt', deferred: false, revertMarker: true });
    expect(plan.restarts.map((r) => r.name)).toEqual(['central', 'sensor']);
  });

  it('renders with the init renderer as an uninstall plan', () => {
    const text = renderPlanText(plan, new Chalk({ level: 0 }));
    expect(text).toMatch(/^Uninstall plan for EKS cluster prod/);
    // Removing an annotation is not deleting the service account: the plan says which it is.
    expect(text).toMatch(/Actions \(2 to update, 2 annotations to remove, 3 to delete\):/);
    expect(text).toContain('  - remove the annotation  ServiceAccount     stackrox/serviceaccount/central');
    expect(text).toContain('  - delete                 IAM role           arn:aws:iam::111122223333:role/rhacs-sts-prod');
    expect(text).not.toMatch(/delete\s+ServiceAccount/);
    expect(text).toMatch(/Permissions policy rhacs-sts-ecr-read \(deleted\):/);
    expect(text).not.toMatch(/Trust policy/);
    expect(text).toMatch(/7 changes to apply\./);
  });

  it('--no-restart defers the restarts', () => {
    const p = buildUninstallPlan(f, decisions({ restart: false }), aws(), u());
    expect(find(p, 'restart').map((r) => [r.status, r.deferred])).toEqual([['unchanged', true], ['unchanged', true]]);
    expect(p.restarts.every((r) => r.deferred)).toBe(true);
  });

  it('detaches attached managed policies with the role (and says so)', () => {
    const p = buildUninstallPlan(f, decisions(), aws({ role: { ...aws().role!, attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] } }), u());
    expect(p.notes.join('\n')).toMatch(/detached before it is deleted: arn:aws:iam::aws:policy\/ReadOnlyAccess/);
  });
});

describe('buildUninstallPlan: what stays', () => {
  it('a second run (role and provider gone, annotations removed) has nothing to change', () => {
    const f = facts([cluster({ current: { central: eksState(undefined), sensor: eksState(undefined) } })]);
    const plan = buildUninstallPlan(f, decisions(), { oidcProviders: { [EKS_ISSUER]: null }, role: null }, u({ otherTrusters: {} }));
    expect(plan.actions.every((a) => a.status === 'unchanged')).toBe(true);
    // Nothing is "in place" after an uninstall: what is true is that nothing of ours is left.
    expect(renderPlanText(plan, new Chalk({ level: 0 })).split('\n').at(-1)).toBe('Nothing to change: nothing of ours is left to remove.');
  });

  it('keeps the OIDC provider that another role trusts, or with --keep-oidc-provider, or when it is not ours', () => {
    const f = facts([cluster({ current: { central: eksState(ROLE_ARN) } })]);
    const provider = (p: Plan) => find(p, 'oidc-provider')[0]!;
    const shared = buildUninstallPlan(f, decisions(), aws(), u({ otherTrusters: { [EKS_ISSUER]: [ROLE_NAME, 'other-role'] } }));
    expect(provider(shared)).toMatchObject({ status: 'unchanged', summary: `Keep the OIDC provider for ${EKS_ISSUER}: still trusted by other-role` });
    const kept = buildUninstallPlan(f, decisions(), aws(), u({ keepOidcProvider: true }));
    expect(provider(kept)).toMatchObject({ status: 'unchanged', summary: expect.stringMatching(/kept \(--keep-oidc-provider\)$/) });
    const untagged = buildUninstallPlan(f, decisions(), aws({ oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} } } }), u());
    expect(provider(untagged)).toMatchObject({ status: 'unchanged', summary: expect.stringMatching(/not created by rhacs-sts$/) });
    // Our own role, about to be deleted, does not count as another truster.
    expect(provider(buildUninstallPlan(f, decisions(), aws(), u()))).toMatchObject({ status: 'delete' });
  });

  it('leaves an untagged role alone, and the cluster settings that point at it', () => {
    const f = facts([cluster({ current: { central: eksState(ROLE_ARN) } })]);
    const role = { ...aws().role!, tags: {} };
    const plan = buildUninstallPlan(f, decisions(), aws({ role }), u());
    expect(plan.actions.filter((a) => a.type !== 'oidc-provider').every((a) => a.status === 'unchanged')).toBe(true);
    expect(plan.actions.some((a) => a.type === 'role' || a.type === 'permissions-policy')).toBe(false);
    expect(plan.notes.join('\n')).toMatch(/was not created by rhacs-sts \(no rhacs-sts\/managed tag\); it and the cluster settings that point at it are left alone/);
    // It stays, and it trusts the provider: the provider stays too.
    expect(find(plan, 'oidc-provider')[0]).toMatchObject({ status: 'unchanged', summary: expect.stringMatching(/still trusted by rhacs-sts-prod$/) });
  });

  it('leaves an annotation that points at another role alone, with a note', () => {
    const f = facts([cluster({ current: { central: eksState(OTHER_ARN) } })]);
    const plan = buildUninstallPlan(f, decisions(), aws(), u());
    expect(find(plan, 'service-account-annotation')[0]!.status).toBe('unchanged');
    expect(find(plan, 'restart')[0]!.status).toBe('unchanged');
    expect(plan.notes).toContain(`serviceaccount/central points at another role (${OTHER_ARN}); left alone.`);
  });

  it('gives an adopted role back: our policy, statements and tags go, its own stay; the provider stays if it still trusts it', () => {
    const f = facts([cluster({ current: { central: eksState(ROLE_ARN) } })]);
    const theirFederated = { Sid: 'TheirWebIdentity', Effect: 'Allow' as const, Principal: { Federated: EKS_PROVIDER_ARN }, Action: 'sts:AssumeRoleWithWebIdentity' };
    const adopted = (extra: PolicyDocument['Statement']) => aws({
      role: {
        ...aws().role!, tags: { ...TAGS, 'rhacs-sts/adopted': 'true', owner: 'team-a' },
        trustPolicy: { Version: '2012-10-17', Statement: [...extra, ...OUR_TRUST.Statement] },
      },
    });
    const plan = buildUninstallPlan(f, decisions(), adopted([THEIR_STATEMENT]), u());
    expect(brief(plan).filter((x) => !/restart|annotation/.test(x))).toEqual([
      'delete permissions-policy permissions-policy',
      'update trust-policy trust-policy',
      'delete role-tags role-tags',
      `delete oidc-provider oidc-provider:${EKS_ISSUER}`,
    ]);
    expect(find(plan, 'trust-policy')[0]!.document).toEqual({ Version: '2012-10-17', Statement: [THEIR_STATEMENT] });
    expect(find(plan, 'role-tags')[0]!.tags).toEqual({ 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'prod', 'rhacs-sts/adopted': 'true' });
    expect(plan.actions.some((a) => a.type === 'role')).toBe(false);

    // Its own statement trusts the provider too: the provider stays.
    const still = buildUninstallPlan(f, decisions(), adopted([theirFederated]), u());
    expect(find(still, 'oidc-provider')[0]).toMatchObject({ status: 'unchanged', summary: expect.stringMatching(/still trusted by rhacs-sts-prod$/) });
  });
});

describe('buildUninstallPlan: OpenShift operator install', () => {
  const ocpState: ComponentState = {
    serviceAccount: { annotations: {} },
    deployment: {
      container: 'central', hasTokenMount: true, podTemplateAnnotations: {},
      env: [{ name: 'ROX_X', value: '1' }, { name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }],
    },
  };
  const userOverlay = { apiVersion: 'v1', kind: 'Service', name: 'central', patches: [{ path: 'metadata.labels.x', value: 'y' }] };
  const f = facts([cluster({
    provider: 'openshift', issuer: OCP_ISSUER, components: ['central'], installMethod: 'operator',
    operatorCrs: { central: { kind: 'Central', name: 'stackrox-central-services', overlays: [userOverlay, ...operatorOverlays('openshift', 'central', ROLE_ARN)] } },
    current: { central: ocpState },
  })]);
  const ocpAws: AwsState = {
    oidcProviders: { [OCP_ISSUER]: { arn: OCP_PROVIDER_ARN, clientIds: ['openshift'], thumbprints: [], tags: TAGS } },
    role: aws().role,
  };
  const plan = buildUninstallPlan(f, decisions(), ocpAws, u({ otherTrusters: { [OCP_ISSUER]: [ROLE_NAME] } }));

  it('removes the durable overlay first, then our two env vars; the rollout is waited for, not forced', () => {
    expect(brief(plan).slice(0, 3)).toEqual([
      'delete operator-overlay operator-overlay::stackrox:central',
      'delete deployment-env deployment-env::stackrox:central',
      'update restart restart::stackrox:central',
    ]);
    expect(find(plan, 'operator-overlay')[0]!.desired).toEqual([userOverlay]);
    expect(find(plan, 'deployment-env')[0]!.env).toEqual([{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }]);
    expect(find(plan, 'restart')[0]).toMatchObject({ method: 'rollout' });
    expect(find(plan, 'restart')[0]!.revertMarker).toBeUndefined();
    expect(plan.notes.join('\n')).toMatch(/projected token volume on central is left in place/);
  });

  it('is the inverse of init: uninstall of what init planned touches every Kubernetes object init touched', () => {
    const initPlan = buildPlan({ ...f, clusters: [{ ...f.clusters[0]!, current: { central: { ...ocpState, deployment: { ...ocpState.deployment!, env: [] } } }, operatorCrs: { central: { kind: 'Central', name: 'stackrox-central-services', overlays: [] } } }] }, decisions(), undefined);
    const initTargets = initPlan.actions.filter((a) => ['deployment-env', 'operator-overlay'].includes(a.type)).map((a) => a.target).sort();
    const uninstallTargets = plan.actions.filter((a) => a.status === 'delete' && ['deployment-env', 'operator-overlay'].includes(a.type)).map((a) => a.target).sort();
    expect(uninstallTargets).toEqual(initTargets);
  });
});

describe('adopted role whose only trust statements are ours', () => {
  it('keeps them (IAM requires one) and says so', async () => {
    const { buildUninstallPlan } = await import('../../src/plan/uninstall.js');
    const arn = 'arn:aws:iam::111122223333:role/adopted';
    const ours = { Sid: 'RhacsStsWebIdentity', Effect: 'Allow' as const, Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/x' }, Action: 'sts:AssumeRoleWithWebIdentity' };
    const plan = buildUninstallPlan(
      { partition: 'aws', accountId: '111122223333', region: 'eu-west-1', offline: false, clusters: [{ provider: 'eks', issuer: 'https://x', namespace: 'stackrox', components: ['central'], installMethod: 'manifests', current: {} }] },
      { roleName: 'adopted', rolePath: '/', ecr: { registryId: '111122223333', repositories: [] }, delegatedScanning: false, restart: true, adoptRole: false, adoptOidcProvider: false, thumbprints: {} },
      { oidcProviders: {}, role: { arn, path: '/', trustPolicy: { Version: '2012-10-17', Statement: [ours] }, inlinePolicies: {}, attachedPolicyArns: [], tags: { 'rhacs-sts/managed': 'true', 'rhacs-sts/adopted': 'true' } } },
      { keepOidcProvider: false, otherTrusters: {} },
    );
    expect(plan.actions.find((a) => a.type === 'trust-policy')!.status).toBe('unchanged');
    expect(plan.notes.join(' ')).toMatch(/IAM requires at least one: our statements stay/);
  });
});

describe('buildUninstallPlan: one cluster of several', () => {
  // The role serves this cluster (EKS_ISSUER) and another one (OCP_ISSUER): uninstalling this
  // cluster removes only its statement and wiring; the role and its ECR policy stay.
  const OTHER: PolicyDocument['Statement'][number] = {
    Sid: trustSid(OCP_ISSUER), Effect: 'Allow', Principal: { Federated: OCP_PROVIDER_ARN }, Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { 'my-oidc-bucket.s3.us-east-1.amazonaws.com:sub': ['system:serviceaccount:stackrox:sensor'], 'my-oidc-bucket.s3.us-east-1.amazonaws.com:aud': 'openshift' } },
  };
  const shared = () => aws({ role: { ...aws().role!, trustPolicy: { Version: '2012-10-17', Statement: [THEIR_STATEMENT, ...OUR_TRUST.Statement, OTHER] } } });
  const f = facts([cluster({ current: { central: eksState(ROLE_ARN) } })]);

  it('removes this cluster\'s statement only; keeps the role, its policy, and the other cluster\'s statement', () => {
    const plan = buildUninstallPlan(f, decisions(), shared(), u({ otherTrusters: { [EKS_ISSUER]: [ROLE_NAME] } }));
    const trust = find(plan, 'trust-policy')[0]!;
    expect(trust.status).toBe('update');
    expect(trust.document.Statement).toEqual([THEIR_STATEMENT, OTHER]);
    expect(find(plan, 'role')).toEqual([]);
    expect(find(plan, 'permissions-policy')).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/still serves other clusters \(issuers my-oidc-bucket\.s3\.us-east-1\.amazonaws\.com\).*--all-clusters/s);
    // Nothing of ours trusts this cluster's provider any more: it goes.
    expect(find(plan, 'oidc-provider')[0]!.status).toBe('delete');
  });

  it('removes the tag that says the role serves this cluster; the other cluster\'s tag stays', () => {
    const tagged = shared();
    tagged.role!.tags = { ...tagged.role!.tags, 'rhacs-sts/serves/eks-one': EKS_ISSUER.replace('https://', ''), 'rhacs-sts/serves/ocp': 'my-oidc-bucket.s3.us-east-1.amazonaws.com' };
    const plan = buildUninstallPlan(f, decisions(), tagged, u({ otherTrusters: {} }));
    const tags = find(plan, 'role-tags');
    expect(tags).toHaveLength(1);
    expect(tags[0]).toMatchObject({ status: 'delete', tags: { 'rhacs-sts/serves/eks-one': EKS_ISSUER.replace('https://', '') } });
    expect(tags[0]!.summary).toBe('Remove the tags that say the role serves eks-one');
  });

  it('--all-clusters takes the whole set-up down: the role is deleted', () => {
    const plan = buildUninstallPlan(f, decisions(), shared(), u({ allClusters: true }));
    expect(find(plan, 'role')[0]!.status).toBe('delete');
    expect(find(plan, 'permissions-policy')[0]!.status).toBe('delete');
  });

  it('deletes the role once its last cluster is uninstalled', () => {
    const last = aws({ role: { ...aws().role!, trustPolicy: { Version: '2012-10-17', Statement: [OTHER] } } });
    const ocp = facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, components: ['sensor'], current: {} })]);
    const plan = buildUninstallPlan(ocp, decisions(), { ...last, oidcProviders: {} }, u({ otherTrusters: {} }));
    expect(find(plan, 'role')[0]!.status).toBe('delete');
  });
});

describe('buildUninstallPlan: a role that init replaced', () => {
  const THEIRS = `arn:aws:iam::${ACCOUNT}:role/backup-and-securityhub`;
  it('EKS: puts the previous role back and removes the record', () => {
    const state: ComponentState = {
      serviceAccount: { annotations: { [ANNOTATION]: ROLE_ARN, 'rhacs-sts/previous-role-arn': THEIRS } },
      deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
    };
    const plan = buildUninstallPlan(facts([cluster({ components: ['central'], current: { central: state } })]), decisions(), aws(), u());
    const sa = find(plan, 'service-account-annotation')[0]!;
    expect(sa).toMatchObject({ status: 'update', annotations: { [ANNOTATION]: THEIRS }, removeAnnotations: ['rhacs-sts/previous-role-arn'] });
    expect(sa.summary).toContain(`Put back ${ANNOTATION}=${THEIRS}`);
    expect(find(plan, 'restart')[0]!.status).toBe('update');
  });

  it('OpenShift: puts AWS_ROLE_ARN back and removes the record from the deployment', () => {
    const state: ComponentState = {
      serviceAccount: { annotations: {} },
      deployment: { container: 'central', env: [{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }], hasTokenMount: true, podTemplateAnnotations: {}, annotations: { 'rhacs-sts/previous-role-arn': THEIRS } },
    };
    const f = facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, components: ['central'], current: { central: state } })]);
    const plan = buildUninstallPlan(f, decisions(), aws({ oidcProviders: {} }), u({ otherTrusters: {} }));
    const env = find(plan, 'deployment-env')[0]!;
    expect(env).toMatchObject({ status: 'update', env: [{ name: 'AWS_ROLE_ARN', value: THEIRS }], annotations: { 'rhacs-sts/previous-role-arn': null } });
  });
});

describe('buildUninstallPlan: an adopted OIDC provider', () => {
  const adoptedTags = { ...TAGS, 'rhacs-sts/adopted': 'true', 'rhacs-sts/added-client-ids': 'sts.amazonaws.com' };
  const f = facts([cluster({ current: { central: eksState(ROLE_ARN) } })]);
  const withProvider = (clientIds: string[]) =>
    aws({ oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds, thumbprints: [], tags: adoptedTags } } });

  it('is never deleted: only the audience we added and our tags are removed', () => {
    const plan = buildUninstallPlan(f, decisions(), withProvider(['theirs', 'sts.amazonaws.com']), u());
    const p = find(plan, 'oidc-provider')[0]!;
    expect(p.status).toBe('update');
    expect(p.removeClientIds).toEqual(['sts.amazonaws.com']);
    expect(p.removeTags).toEqual(['rhacs-sts/managed', 'rhacs-sts/cluster', 'rhacs-sts/adopted', 'rhacs-sts/added-client-ids']);
    expect(p.desired).toEqual({ clientIds: ['theirs'], tags: {} });
  });

  it('keeps the only audience (IAM needs one), and says so', () => {
    const plan = buildUninstallPlan(f, decisions(), withProvider(['sts.amazonaws.com']), u());
    expect(find(plan, 'oidc-provider')[0]!.removeClientIds).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/keeps the audience sts\.amazonaws\.com/);
  });

  it('stays untouched while another role still trusts it', () => {
    const plan = buildUninstallPlan(f, decisions(), withProvider(['theirs', 'sts.amazonaws.com']), u({ otherTrusters: { [EKS_ISSUER]: ['other'] } }));
    expect(find(plan, 'oidc-provider')[0]!.status).toBe('unchanged');
  });
});

describe('buildUninstallPlan: policies it lists', () => {
  it('a deleted role: every inline and attached policy it takes with it is listed', () => {
    const role = { ...aws().role!, inlinePolicyNames: ['rhacs-sts-ecr-read', 'someone-added'], attachedPolicyArns: ['arn:aws:iam::aws:policy/X'] };
    const plan = buildUninstallPlan(facts([cluster({ current: { central: eksState(ROLE_ARN) } })]), decisions(), aws({ role }), u());
    expect(plan.notes.join('\n')).toContain('also deletes its other inline policies: someone-added');
    expect(plan.notes.join('\n')).toContain('detached before it is deleted: arn:aws:iam::aws:policy/X');
  });

  it('an adopted role: detaches only the managed policies rhacs-sts attached', () => {
    const tags = { ...TAGS, 'rhacs-sts/adopted': 'true', 'rhacs-sts/attached-0badc0de': 'arn:aws:iam::aws:policy/Ours' };
    const role = { ...aws().role!, trustPolicy: { Version: '2012-10-17', Statement: [THEIR_STATEMENT, ...OUR_TRUST.Statement] }, attachedPolicyArns: ['arn:aws:iam::aws:policy/Ours', 'arn:aws:iam::aws:policy/Theirs'], tags };
    const plan = buildUninstallPlan(facts([cluster({ current: { central: eksState(ROLE_ARN) } })]), decisions(), aws({ role }), u());
    expect(find(plan, 'managed-policy').map((a) => [a.status, a.policyArn, a.tagKey])).toEqual([['delete', 'arn:aws:iam::aws:policy/Ours', 'rhacs-sts/attached-0badc0de']]);
  });
});
