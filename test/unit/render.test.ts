import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import type { AwsState, ClusterFacts, Facts, Plan } from '../../src/plan/model.js';
import { trustSid, type PolicyDocument } from '../../src/clouds/aws/policies.js';
import { planToJson } from '../../src/render/plan-json.js';
import { jsonDiff, renderPlanText } from '../../src/render/plan-text.js';
import { clusterFacts, decisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}`;
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts-prod`;
const TAGS = { 'rhacs-sts/managed': 'true', 'rhacs-sts/cluster': 'prod' };
const ANSI = /\x1b\[/;
const plain = new Chalk({ level: 0 });
const coloured = new Chalk({ level: 1 });

/** One EKS cluster (`over` changes it); offline unless told. */
const facts = (over: Partial<ClusterFacts> = {}, offline = true): Facts => buildFacts([clusterFacts(over)], { offline });

const eksOffline = (): Plan => buildPlan(facts(), decisions(), undefined);

/** The current state that makes the EKS plan a no-op, with a different subject when drifted. */
function awsState(subject: string, tags: Record<string, string> = TAGS): AwsState {
  const trust: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{
      Sid: trustSid(EKS_ISSUER),
      Effect: 'Allow',
      Principal: { Federated: EKS_PROVIDER_ARN },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${EKS_HP}:sub`]: [subject], [`${EKS_HP}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
  const perms = buildPlan(facts(), decisions(), undefined).role.permissionsPolicy;
  return {
    oidcProviders: { [EKS_ISSUER]: { arn: EKS_PROVIDER_ARN, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: TAGS } },
    role: { arn: ROLE_ARN, path: '/', trustPolicy: trust, inlinePolicies: { 'rhacs-sts-ecr-read': perms }, attachedPolicyArns: [], tags },
  };
}

const inPlace = { central: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN } }, deployment: null } };

describe('text rendering', () => {
  it('shows the key lines of an offline EKS plan, without colour at level 0', () => {
    const text = renderPlanText(eksOffline(), plain);
    expect(text).not.toMatch(ANSI);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Plan for EKS cluster prod · account 111122223333 (aws) · region eu-west-1');
    expect(lines).toContain('Offline: current state was not read, so everything is shown as new.');
    expect(lines).toContain(`  Issuer: ${EKS_ISSUER}`);
    expect(lines).toContain(`  Role:   ${ROLE_ARN}`);
    // Annotating a service account is counted and shown as such, not as creating one.
    expect(lines).toContain('Actions (4 to create, 1 to annotate, 1 to update):');
    expect(lines).toContain(`  + create     IAM OIDC provider  ${EKS_PROVIDER_ARN}`);
    expect(lines).toContain(`  + create     IAM role           ${ROLE_ARN}`);
    expect(lines).toContain(`  + create     IAM trust policy   ${ROLE_ARN}`);
    expect(lines).toContain(`  + create     IAM permissions    ${ROLE_ARN} (inline policy rhacs-sts-ecr-read)`);
    expect(lines).toContain('  + annotate   ServiceAccount     stackrox/serviceaccount/central');
    expect(lines).toContain('               Annotate service account central with eks.amazonaws.com/role-arn');
    expect(lines).toContain('  ~ update     Restart            stackrox/deployment/central');
    expect(lines).toContain('Trust policy:');
    expect(lines).toContain('Permissions policy rhacs-sts-ecr-read:');
    expect(lines).toContain('Kubernetes:');
    expect(lines).toContain(`  stackrox/serviceaccount/central: annotation eks.amazonaws.com/role-arn=${ROLE_ARN}`);
    expect(lines.at(-1)).toBe('6 changes to apply.');
  });

  it('pretty-prints the policy documents, indented', () => {
    const plan = eksOffline();
    const text = renderPlanText(plan, plain);
    const indented = (doc: unknown) => JSON.stringify(doc, null, 2).split('\n').map((l) => `  ${l}`).join('\n');
    expect(text).toContain(`Trust policy:\n${indented(plan.role.trustPolicy)}`);
    expect(text).toContain(`Permissions policy rhacs-sts-ecr-read:\n${indented(plan.role.permissionsPolicy)}`);
    expect(text).toContain('"sts:AssumeRoleWithWebIdentity"');
    expect(text).toContain(`"${EKS_HP}:aud": "sts.amazonaws.com"`);
  });

  it('colours only when the chalk instance has a level', () => {
    const text = renderPlanText(eksOffline(), coloured);
    expect(text).toMatch(ANSI);
    // Stripping the codes gives the plain rendering back.
    expect(text.replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderPlanText(eksOffline(), plain));
  });

  it('shows OpenShift env changes', () => {
    const plan = buildPlan(facts({ provider: 'openshift', issuer: OCP_ISSUER }), decisions(), undefined);
    const text = renderPlanText(plan, plain);
    expect(text.split('\n')[0]).toBe('Plan for OpenShift cluster prod · account 111122223333 (aws) · region eu-west-1');
    expect(text).toContain('  + set        Deployment env     stackrox/deployment/central (container central)');
    expect(text).not.toMatch(/create\s+Deployment/);
    expect(text).toContain(
      `  stackrox/deployment/central [central]: env AWS_ROLE_ARN=${ROLE_ARN}, env AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/openshift/serviceaccount/token`,
    );
    expect(text).toContain('"openshift"');
  });

  it('shows an update as a +/- diff of the document', () => {
    const plan = buildPlan(facts({ current: inPlace }, false), decisions(), awsState('system:serviceaccount:old:central'));
    expect(plan.actions.find((a) => a.type === 'trust-policy')!.status).toBe('update');
    const text = renderPlanText(plan, plain);
    expect(text).not.toMatch(ANSI);
    const lines = text.split('\n');
    expect(lines).toContain('Trust policy (changes):');
    expect(lines).toContain(`  ~ update     IAM trust policy   ${ROLE_ARN}`);
    // The diff's lines (the notes below list with "-" too).
    const diff = lines.slice(0, lines.indexOf('Notes:'));
    const removed = diff.filter((l) => /^\s*- /.test(l));
    const added = diff.filter((l) => /^\s*\+ /.test(l));
    expect(lines).toContain("  - This role becomes Central's AWS identity for every integration that uses the container IAM role — ECR, S3 backups, the Security Hub notifier — not only for ECR: attach what those need with --attach-policy-arn.");
    expect(removed).toEqual([expect.stringContaining('"system:serviceaccount:old:central"')]);
    expect(added).toEqual([expect.stringContaining('"system:serviceaccount:stackrox:central"')]);
    // Unchanged lines of the document stay for context.
    expect(text).toContain(`"${EKS_HP}:aud": "sts.amazonaws.com"`);
    expect(lines).toContain('Permissions policy rhacs-sts-ecr-read (unchanged):');
    // A trust change needs no restart: the pods keep their token and assume the role anew.
    expect(lines.at(-1)).toBe('1 change to apply.');
  });

  it('says when nothing changes', () => {
    const plan = buildPlan(facts({ current: inPlace }, false), decisions(), awsState('system:serviceaccount:stackrox:central'));
    const text = renderPlanText(plan, plain);
    expect(text).not.toContain('Offline:');
    expect(text).toContain('Actions (7 unchanged):');
    expect(text).toContain('Trust policy (unchanged):');
    expect(text.split('\n').at(-1)).toBe('Nothing to change: everything is in place.');
  });

  it('says "everything is in place" only when it is: not with a restart put off or a cluster not read', () => {
    const done = buildPlan(facts({ current: inPlace }, false), decisions(), awsState('system:serviceaccount:stackrox:central'));
    expect(renderPlanText(done, plain, { leftOut: ['spoke3'] }).split('\n').at(-1)).toBe('Nothing to change in the clusters that were read (left out: spoke3).');
    // A restart that is needed but put off (--no-restart) is not "in place".
    const deferred: Plan = {
      ...done,
      actions: done.actions.map((a) => (a.type === 'restart' ? { ...a, status: 'unchanged' as const, deferred: true, summary: 'Restart of central deferred (--no-restart)' } : a)),
    };
    expect(renderPlanText(deferred, plain).split('\n').at(-1)).toBe('Nothing to apply now: 1 restart is put off (--no-restart).');
    expect(renderPlanText(done, plain).split('\n').at(-1)).toBe('Nothing to change: everything is in place.');
  });

  it('a blocked plan does not say that everything is in place', () => {
    const plan = buildPlan(facts({ current: inPlace }, false), decisions(), awsState('system:serviceaccount:stackrox:central', {}));
    expect(plan.blockers.length).toBeGreaterThan(0);
    const last = renderPlanText(plan, plain).split('\n').at(-1);
    expect(last).not.toMatch(/in place/);
  });

  it('lists blockers with their hints', () => {
    const plan = buildPlan(facts(), decisions(), awsState('system:serviceaccount:stackrox:central', {}));
    const text = renderPlanText(plan, plain);
    expect(text).toContain('Cannot apply as it stands:');
    expect(text).toContain(`  ✗ The role ${ROLE_ARN} exists and was not created by rhacs-sts`);
    expect(text).toMatch(/\n {4}Re-run with --adopt-role/);
  });

  it('prints Helm values and notes for a Helm install', () => {
    const plan = buildPlan(facts({ installMethod: 'helm' }), decisions(), undefined);
    const text = renderPlanText(plan, plain);
    expect(text).toContain('Helm values that keep these changes across "helm upgrade" (one file per release; --helm-values-out writes them):');
    expect(text).toContain('  #   helm upgrade stackrox-central-services rhacs/stackrox-central-services -n stackrox --reuse-values -f <file>\n');
    expect(text).toContain('      serviceaccount/central:\n        annotations:\n          eks.amazonaws.com/role-arn: arn:aws:iam::');
    expect(text).toContain('(live; Helm values below)');
    expect(text).toContain('Notes:');
  });

  it('jsonDiff marks removed and added lines and keeps the rest', () => {
    const out = jsonDiff(plain, { a: 1, b: 'same' }, { a: 2, b: 'same' }).split('\n');
    expect(out).toEqual(['  {', '-   "a": 1,', '+   "a": 2,', '    "b": "same"', '  }']);
  });

  it('jsonDiff shows a document without a current one as all added', () => {
    expect(jsonDiff(plain, null, { a: 1 }).split('\n')).toEqual(['+ {', '+   "a": 1', '+ }']);
  });
});

describe('JSON rendering', () => {
  it('is one JSON document with the documented shape (EKS)', () => {
    const text = planToJson(eksOffline());
    const doc = JSON.parse(text) as Record<string, unknown>;
    expect(doc).toMatchObject({
      provider: 'eks',
      partition: 'aws',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      oidcProvider: { arn: EKS_PROVIDER_ARN, url: EKS_ISSUER, clientIds: ['sts.amazonaws.com'] },
      role: {
        name: 'rhacs-sts-prod',
        arn: ROLE_ARN,
        trustPolicy: { Version: '2012-10-17', Statement: [expect.objectContaining({ Sid: trustSid(EKS_ISSUER), Action: 'sts:AssumeRoleWithWebIdentity' })] },
        permissionsPolicy: { Version: '2012-10-17', Statement: [expect.objectContaining({ Sid: 'RhacsStsEcrAuth' }), expect.objectContaining({ Sid: 'RhacsStsEcrRead' })] },
      },
      kubernetes: [{ kind: 'ServiceAccount', namespace: 'stackrox', name: 'central', annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN } }],
      restarts: [{ kind: 'Deployment', namespace: 'stackrox', name: 'central' }],
    });
    const role = doc.role as Record<string, unknown>;
    expect(typeof role.trustPolicy).toBe('object');
    expect(typeof role.permissionsPolicy).toBe('object');
    const actions = doc.actions as Record<string, unknown>[];
    expect(actions.map((a) => [a.type, a.target, a.status])).toEqual([
      ['oidc-provider', EKS_PROVIDER_ARN, 'create'],
      ['role', ROLE_ARN, 'create'],
      ['trust-policy', ROLE_ARN, 'create'],
      ['permissions-policy', `${ROLE_ARN} (inline policy rhacs-sts-ecr-read)`, 'create'],
      ['service-account-annotation', 'stackrox/serviceaccount/central', 'create'],
      ['restart', 'stackrox/deployment/central', 'update'],
    ]);
    for (const a of actions) {
      expect(Object.keys(a)).toEqual(expect.arrayContaining(['id', 'type', 'target', 'status', 'summary']));
      // Offline nothing was read, so no action claims a current state.
      expect(a).not.toHaveProperty('current');
    }
  });

  it('has the documented shape for OpenShift', () => {
    const doc = JSON.parse(planToJson(buildPlan(facts({ provider: 'openshift', issuer: OCP_ISSUER }), decisions(), undefined)));
    expect(doc.provider).toBe('openshift');
    expect(doc.oidcProvider.clientIds).toEqual(['openshift']);
    expect(doc.kubernetes).toEqual([{
      kind: 'Deployment',
      namespace: 'stackrox',
      name: 'central',
      container: 'central',
      env: [
        { name: 'AWS_ROLE_ARN', value: ROLE_ARN },
        { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/openshift/serviceaccount/token' },
      ],
      durability: 'live',
    }]);
  });

  it('includes current and desired state of an update', () => {
    const doc = JSON.parse(planToJson(buildPlan(facts({ current: inPlace }, false), decisions(), awsState('system:serviceaccount:old:central'))));
    const trust = doc.actions.find((a: { type: string }) => a.type === 'trust-policy');
    expect(trust.status).toBe('update');
    expect(trust.current.Statement[0].Condition.StringEquals[`${EKS_HP}:sub`]).toEqual(['system:serviceaccount:old:central']);
    expect(trust.desired.Statement[0].Condition.StringEquals[`${EKS_HP}:sub`]).toEqual(['system:serviceaccount:stackrox:central']);
  });

  it('round-trips the plan data and merges extra fields', () => {
    const plan = eksOffline();
    const doc = JSON.parse(planToJson(plan, { verification: { ok: true } }));
    expect(doc.role).toEqual(JSON.parse(JSON.stringify(plan.role)));
    expect(doc.blockers).toEqual([]);
    expect(doc.verification).toEqual({ ok: true });
  });
});
