// EKS Pod Identity, pure parts: the trust statement, the init and uninstall plans (associations,
// the IRSA annotation going, switching back, what refuses), the mechanism checks and verify's rows.
import { describe, expect, it } from 'vitest';
import { checkMechanism, decisionsFromOptions, detectedMechanism } from '../../src/decide.js';
import { isInputError } from '../../src/errors.js';
import { parseOptions } from '../../src/options/options.js';
import { buildPlan } from '../../src/plan/build.js';
import type { Action, AssociationState, AwsState, ClusterFacts, ComponentState, Decisions, Facts, Plan } from '../../src/plan/model.js';
import { permissionsPolicy, podIdentityStatement, policySize, trustsPodIdentity, trustSid, withPodIdentityStatement, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { buildUninstallPlan } from '../../src/plan/uninstall.js';
import { associationCheck, podIdentityPodsCheck, podIdentityTrustCheck } from '../../src/clouds/aws/verify/pod-identity-checks.js';
import { clusterFacts, decisions as buildDecisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const ROLE = 'rhacs-sts-prod';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const ANNOTATION = 'eks.amazonaws.com/role-arn';
const TAGS = { 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'prod' };
const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod`;

const podEnv = ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'];

function component(over: { annotation?: string; pods?: ComponentState['pods'] } = {}): ComponentState {
  return {
    serviceAccount: { annotations: over.annotation ? { [ANNOTATION]: over.annotation } : {} },
    deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {} },
    pods: over.pods ?? [{ name: 'central-1' }],
  };
}

function cluster(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return clusterFacts({
    name: 'prod', issuer: ISSUER, components: ['central'], region: 'eu-west-1', podIdentityAgent: true, version: '4.6.2', current: { central: component() }, ...over,
  });
}

const facts = (c: ClusterFacts[] = [cluster()]): Facts => buildFacts(c);

const decisions = (over: Partial<Decisions> = {}): Decisions => buildDecisions({ roleName: ROLE, mechanism: 'pod-identity', ...over });

function association(over: Partial<AssociationState> = {}): AssociationState {
  return {
    clusterName: 'prod', region: 'eu-west-1', namespace: 'stackrox', serviceAccount: 'central', roleArn: ROLE_ARN,
    associationId: 'a-abcdefghijklmnopq', associationArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/prod/a-abcdefghijklmnopq`, tags: TAGS, ...over,
  };
}

function aws(trust: PolicyDocument, over: Partial<AwsState> = {}, roleTags: Record<string, string> = { ...TAGS, 'rhacs-sts/serves/prod': 'pods.eks.amazonaws.com' }): AwsState {
  return { oidcProviders: {}, role: { arn: ROLE_ARN, path: '/', trustPolicy: trust, inlinePolicies: { 'rhacs-sts-ecr-read': permissionsPolicy('aws', { registryId: ACCOUNT, repositories: [] }) }, attachedPolicyArns: [], tags: roleTags }, associations: [], ...over };
}

const POD_TRUST: PolicyDocument = { Version: '2012-10-17', Statement: [podIdentityStatement('aws', ACCOUNT)] };
const byType = <T extends Action['type']>(p: Plan, t: T) => p.actions.filter((a): a is Extract<Action, { type: T }> => a.type === t);

describe('the Pod Identity trust statement', () => {
  it('trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession, scoped to the account and its EKS clusters', () => {
    expect(podIdentityStatement('aws-cn', ACCOUNT)).toEqual({
      Sid: 'RhacsStsPodIdentity', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:aws-cn:eks:*:${ACCOUNT}:cluster/*` } },
    });
    expect(trustsPodIdentity(POD_TRUST)).toBe(true);
    expect(trustsPodIdentity({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] })).toBe(false);
  });

  it('is added in place, once, and removed without touching other statements', () => {
    const other = { Sid: 'Theirs', Effect: 'Allow' as const, Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 'sts:AssumeRole' };
    const doc = { Version: '2012-10-17', Statement: [other] };
    const added = withPodIdentityStatement(doc, podIdentityStatement('aws', ACCOUNT));
    expect(added.Statement).toEqual([other, podIdentityStatement('aws', ACCOUNT)]);
    expect(withPodIdentityStatement(added, podIdentityStatement('aws', ACCOUNT))).toEqual(added);
    expect(withPodIdentityStatement(added, undefined).Statement).toEqual([other]);
  });
});

describe('init plan on Pod Identity', () => {
  it('creates the role trusted by EKS Pod Identity, an association per service account, no OIDC provider, and restarts', () => {
    const plan = buildPlan(facts(), decisions(), { oidcProviders: {}, role: null, associations: [] });
    expect(plan.mechanism).toBe('pod-identity');
    expect(plan.blockers).toEqual([]);
    expect(byType(plan, 'oidc-provider')).toEqual([]);
    expect(plan.role.trustPolicy).toEqual(POD_TRUST);
    expect(byType(plan, 'pod-identity-association')).toMatchObject([{ status: 'create', clusterName: 'prod', region: 'eu-west-1', namespace: 'stackrox', serviceAccount: 'central', roleArn: ROLE_ARN, tags: TAGS }]);
    expect(byType(plan, 'role')[0]!.tags).toMatchObject({ 'rhacs-sts/serves/prod': 'pods.eks.amazonaws.com' });
    expect(byType(plan, 'restart')[0]!.status).toBe('update');
  });

  it('a second run with everything in place changes nothing', () => {
    const pods = [{ name: 'central-2', containerCredentials: true }];
    const plan = buildPlan(facts([cluster({ current: { central: component({ pods }) } })]), decisions(), aws(POD_TRUST, { associations: [association()] }));
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
    expect(plan.blockers).toEqual([]);
  });

  it('switching from IRSA: the web-identity statement and the annotation go once the association exists; the pods restart', () => {
    const irsa: PolicyDocument = { Version: '2012-10-17', Statement: [{ Sid: trustSid(ISSUER), Effect: 'Allow', Principal: { Federated: 'x' }, Action: 'sts:AssumeRoleWithWebIdentity' }] };
    const irsaTrust: PolicyDocument = { Version: '2012-10-17', Statement: [{ ...irsa.Statement[0]!, Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.slice(8)}` } }] };
    const c = cluster({ current: { central: component({ annotation: ROLE_ARN, pods: [{ name: 'central-1', roleArn: ROLE_ARN }] }) } });
    const plan = buildPlan(facts([c]), decisions(), aws(irsaTrust, {}, TAGS));
    expect(plan.role.trustPolicy).toEqual(POD_TRUST);
    const sa = byType(plan, 'service-account-annotation');
    expect(sa).toMatchObject([{ status: 'delete', annotations: { [ANNOTATION]: ROLE_ARN } }]);
    const ids = plan.actions.map((a) => a.type);
    expect(ids.indexOf('pod-identity-association')).toBeLessThan(ids.indexOf('service-account-annotation'));
    expect(byType(plan, 'restart')[0]!.status).toBe('update');
  });

  it('Helm values remove the annotation; an operator overlay of ours is removed', () => {
    const helm = buildPlan(facts([cluster({ installMethod: 'helm', helmReleases: { central: 'stackrox-central-services' } })]), decisions(), { oidcProviders: {}, role: null, associations: [] });
    expect(JSON.stringify(helm.helmValues)).toContain(`"${ANNOTATION}":null`);
    const overlay = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.eks\\.amazonaws\\.com/role-arn', value: ROLE_ARN }] };
    const op = buildPlan(facts([cluster({ installMethod: 'operator', operatorCrs: { central: { kind: 'Central', name: 'stackrox-central-services', overlays: [overlay] } } })]), decisions(), { oidcProviders: {}, role: null, associations: [] });
    expect(byType(op, 'operator-overlay')).toMatchObject([{ status: 'delete' }]);
  });

  it('refuses an association it did not create, unless adopted; never one an add-on owns', () => {
    const theirs = association({ roleArn: `arn:aws:iam::${ACCOUNT}:role/theirs`, tags: {} });
    const refused = buildPlan(facts(), decisions(), aws(POD_TRUST, { associations: [theirs] }));
    expect(refused.blockers.map((b) => b.hint).join()).toMatch(/--adopt-association/);
    const adopted = buildPlan(facts(), decisions({ adoptAssociation: true }), aws(POD_TRUST, { associations: [theirs] }));
    expect(adopted.blockers).toEqual([]);
    expect(byType(adopted, 'pod-identity-association')).toMatchObject([{ status: 'update', roleArn: ROLE_ARN, tags: TAGS, associationId: theirs.associationId }]);
    const addon = buildPlan(facts(), decisions({ adoptAssociation: true }), aws(POD_TRUST, { associations: [{ ...theirs, ownerArn: 'arn:aws:eks:eu-west-1:1:addon/prod/x/y' }] }));
    expect(addon.blockers.map((b) => b.message).join()).toMatch(/EKS add-on/);
  });

  it('needs the EKS cluster name', () => {
    const plan = buildPlan(facts([cluster({ name: undefined })]), decisions(), { oidcProviders: {}, role: null, associations: [] });
    expect(plan.blockers.map((b) => b.hint).join()).toMatch(/--cluster-name/);
  });

  it('back to IRSA: our association is deleted and the Pod Identity statement goes unless another cluster still uses it', () => {
    const c = cluster({ current: { central: component({ pods: [{ name: 'central-1', containerCredentials: true }] }) } });
    const back = buildPlan(facts([c]), decisions({ mechanism: 'irsa' }), aws(POD_TRUST, { associations: [association()] }));
    expect(byType(back, 'pod-identity-association')).toMatchObject([{ status: 'delete', associationId: 'a-abcdefghijklmnopq' }]);
    expect(back.role.trustPolicy.Statement.map((s) => s.Sid)).toEqual([trustSid(ISSUER)]);
    expect(byType(back, 'restart')[0]!.status).toBe('update');
    const shared = buildPlan(facts([c]), decisions({ mechanism: 'irsa' }), aws(POD_TRUST, { associations: [association()] }, { ...TAGS, 'rhacs-sts/serves/prod': 'pods.eks.amazonaws.com', 'rhacs-sts/serves/other': 'pods.eks.amazonaws.com' }));
    expect(shared.role.trustPolicy.Statement.map((s) => s.Sid)).toEqual(['RhacsStsPodIdentity', trustSid(ISSUER)]);
  });

  it('a fleet shares one role without growing the trust policy', () => {
    const fleet = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => cluster({ name: n, context: n, issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${n.toUpperCase().repeat(32)}` }));
    const one = buildPlan(facts(fleet.slice(0, 1)), decisions(), { oidcProviders: {}, role: null, associations: [] });
    const eight = buildPlan(facts(fleet), decisions(), { oidcProviders: {}, role: null, associations: [] });
    expect(policySize(eight.role.trustPolicy)).toBe(policySize(one.role.trustPolicy));
    const irsa = buildPlan(facts(fleet), decisions({ mechanism: 'irsa' }), { oidcProviders: {}, role: null });
    expect(irsa.blockers.map((b) => b.hint).join()).toMatch(/--mechanism pod-identity/);
  });
});

describe('uninstall on Pod Identity', () => {
  it('deletes our association, the role, and restarts; leaves an association that is not ours', () => {
    const c = cluster({ current: { central: component({ pods: [{ name: 'central-1', containerCredentials: true }] }) } });
    const plan = buildUninstallPlan(facts([c]), decisions(), aws(POD_TRUST, { associations: [association()] }), { keepOidcProvider: false, otherTrusters: {} });
    expect(byType(plan, 'pod-identity-association')).toMatchObject([{ status: 'delete', associationId: 'a-abcdefghijklmnopq' }]);
    expect(byType(plan, 'role')).toMatchObject([{ status: 'delete' }]);
    expect(byType(plan, 'restart')[0]!.status).toBe('update');
    const foreign = buildUninstallPlan(facts([c]), decisions(), aws(POD_TRUST, { associations: [association({ tags: {} })] }), { keepOidcProvider: false, otherTrusters: {} });
    expect(byType(foreign, 'pod-identity-association')).toEqual([]);
    expect(foreign.notes.join()).toMatch(/not ours; left alone/);
  });

  it('keeps the role and its Pod Identity statement while another cluster still uses it', () => {
    const tags = { ...TAGS, 'rhacs-sts/serves/prod': 'pods.eks.amazonaws.com', 'rhacs-sts/serves/other': 'pods.eks.amazonaws.com' };
    const plan = buildUninstallPlan(facts(), decisions(), aws(POD_TRUST, { associations: [association()] }, tags), { keepOidcProvider: false, otherTrusters: {} });
    expect(byType(plan, 'role')).toEqual([]);
    expect(byType(plan, 'trust-policy')[0]!.document).toEqual(POD_TRUST);
    expect(byType(plan, 'role-tags')[0]!.tags).toEqual({ 'rhacs-sts/serves/prod': 'pods.eks.amazonaws.com' });
  });
});

describe('choosing the mechanism', () => {
  it('keeps the mechanism in place without --mechanism; IRSA otherwise', () => {
    expect(detectedMechanism(facts())).toBe('irsa');
    expect(detectedMechanism(facts([cluster({ current: { central: component({ pods: [{ name: 'p', containerCredentials: true }] }) } })]))).toBe('pod-identity');
    expect(detectedMechanism(facts([cluster({ current: { central: component({ annotation: ROLE_ARN, pods: [{ name: 'p', containerCredentials: true }] }) } })]))).toBe('irsa');
    const options = parseOptions('init', { mechanism: 'irsa' }, {});
    expect(decisionsFromOptions(options, facts([cluster({ current: { central: component({ pods: [{ name: 'p', containerCredentials: true }] }) } })])).mechanism).toBe('irsa');
  });

  it('refuses pod-identity off EKS, before RHACS 4.4, and without the agent (exit 2, naming --mechanism); warns when the agent cannot be checked', () => {
    const warnings: string[] = [];
    const refuse = (c: ClusterFacts) => {
      try {
        checkMechanism({ mechanism: 'pod-identity' }, facts([c]), (m) => warnings.push(m));
      } catch (err) {
        expect(isInputError(err)).toBe(true);
        return (err as { problems: { source: string; message: string }[] }).problems.map((p) => `${p.source} ${p.message}`).join();
      }
      return '';
    };
    expect(refuse(cluster({ provider: 'openshift' }))).toMatch(/--mechanism pod-identity is for EKS only/);
    expect(refuse(cluster({ version: '4.3.8' }))).toMatch(/--mechanism .*RHACS 4\.4 .* runs 4\.3\.8/);
    expect(refuse(cluster({ podIdentityAgent: false }))).toMatch(/--mechanism .*Pod Identity Agent/);
    expect(refuse(cluster({ podIdentityAgent: undefined }))).toBe('');
    expect(warnings.join()).toMatch(/Could not check whether the EKS Pod Identity Agent runs/);
    expect(refuse(cluster())).toBe('');
    expect(() => parseOptions('plan', { mechanism: 'magic' }, {})).toThrow(/--mechanism: "magic" is not a mechanism/);
  });
});

describe('verify rows', () => {
  const w = { cluster: cluster(), multi: false };
  it('association: exact namespace, service account and role; no IRSA annotation left', () => {
    const ok = associationCheck({ w, comp: 'central', roleArn: ROLE_ARN, clusterName: 'prod', association: association(), state: component() }, 'rhacs-sts init');
    expect(ok.result).toBe('pass');
    const other = associationCheck({ w, comp: 'central', roleArn: ROLE_ARN, clusterName: 'prod', association: association({ roleArn: 'arn:aws:iam::1:role/x' }), state: component() }, 'rhacs-sts init');
    expect(other).toMatchObject({ result: 'fail', fix: 'rhacs-sts init --mechanism pod-identity' });
    expect(associationCheck({ w, comp: 'central', roleArn: ROLE_ARN, clusterName: 'prod', association: undefined, state: component() }, 'x').result).toBe('fail');
    const left = associationCheck({ w, comp: 'central', roleArn: ROLE_ARN, clusterName: 'prod', association: association(), state: component({ annotation: ROLE_ARN }) }, 'x');
    expect(left.detail).toMatch(/web identity \(IRSA\) first/);
  });

  it('pods: the container credentials env and no AWS_ROLE_ARN', () => {
    const wl = (env: string[][]) => ({ rollout: { state: 'done' as const, message: '' }, podTemplateAnnotations: {}, pods: env.map((e, i) => ({ name: `p${i}`, ready: true, terminating: false, env: e.map((name) => ({ name })), tokenMounts: [] })) });
    expect(podIdentityPodsCheck(w, 'central', wl([podEnv])).result).toBe('pass');
    expect(podIdentityPodsCheck(w, 'central', wl([[]])).result).toBe('fail');
    expect(podIdentityPodsCheck(w, 'central', wl([[...podEnv, 'AWS_ROLE_ARN']])).detail).toMatch(/takes web identity first/);
  });

  it('trust: pods.eks.amazonaws.com with both actions, conditions that admit the cluster', () => {
    const role = aws(POD_TRUST).role;
    expect(podIdentityTrustCheck(role, ACCOUNT, [CLUSTER_ARN], 'fix').result).toBe('pass');
    const narrow = { ...role!, trustPolicy: { Version: '2012-10-17', Statement: [{ ...podIdentityStatement('aws', ACCOUNT), Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/other` } } }] } };
    expect(podIdentityTrustCheck(narrow, ACCOUNT, [CLUSTER_ARN], 'fix').result).toBe('fail');
    expect(podIdentityTrustCheck({ ...role!, trustPolicy: { Version: '2012-10-17', Statement: [] } }, ACCOUNT, [CLUSTER_ARN], 'fix').result).toBe('fail');
  });
});
