// Saved plans (src/options/plan-file.ts): `plan --output json` writes the plan and the inputs it was built
// from; `init --plan` checks the file, rebuilds the options from it, and lists what drifted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../src/steps/saved-plan.js';
import { decisionsFromOptions } from '../../src/decide.js';
import type { Detected, DetectedCluster } from '../../src/discover.js';
import { InputError, type InputProblem } from '../../src/errors.js';
import { parseOptions, type Options } from '../../src/options/options.js';
import { loadPlanFile, optionsFromPlan, parseSavedPlan, planDrift, planInputs, type SavedPlan } from '../../src/options/plan-file.js';
import { buildPlan } from '../../src/plan/build.js';
import type { AwsState, ClusterFacts, Facts } from '../../src/plan/model.js';
import { planToJson } from '../../src/render/plan-json.js';
import { clusterFacts, facts as buildFacts, nothingInPlace } from './builders.js';

const ACCOUNT = '111122223333';
const EKS = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OCP = 'https://my-oidc-bucket.s3.eu-west-1.amazonaws.com';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-planfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cluster = (over: Partial<ClusterFacts> = {}): ClusterFacts => clusterFacts({ issuer: EKS, current: nothingInPlace(), ...over });

interface Scenario { options: Options; facts: Facts; detected: Detected; aws: AwsState }

function scenario(raw: Record<string, unknown> = {}, clusters: { facts: ClusterFacts; kubeContext: string; role?: 'both' | 'central' | 'sensor' }[] = [{ facts: cluster(), kubeContext: 'prod' }]): Scenario {
  const options = parseOptions('plan', raw, {});
  const facts = buildFacts(clusters.map((c) => c.facts), { clusterName: options.clusterName });
  const detected: Detected = {
    facts,
    warnings: [],
    clusters: clusters.map((c): DetectedCluster => ({
      kubeContext: c.kubeContext,
      facts: c.facts,
      target: { key: c.facts.context ?? '', context: c.facts.context, role: c.role ?? 'both', flag: '--context' },
    })),
  };
  return { options, facts, detected, aws: { oidcProviders: {}, role: null } };
}

/** The JSON document `plan --output json` prints for a scenario. */
function doc(s: Scenario): Record<string, unknown> {
  const decisions = decisionsFromOptions(s.options, s.facts);
  const plan = buildPlan(s.facts, decisions, s.aws);
  return JSON.parse(planToJson(plan, { inputs: planInputs(s.options, decisions, s.detected, plan) })) as Record<string, unknown>;
}

function saved(s: Scenario, path = 'plan.json'): SavedPlan {
  return parseSavedPlan(path, doc(s));
}

function problems(fn: () => unknown): InputProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    return (err as InputError).problems;
  }
  return expect.fail('expected an InputError');
}

describe('checking a saved plan', () => {
  it('accepts what plan --output json writes, inputs included', () => {
    const s = saved(scenario({ roleName: 'r', delegatedScanning: true, ecrRepository: ['team/*'] }));
    expect(s.inputs).toMatchObject({
      clusters: [{ kubeContext: 'prod', role: 'both', provider: 'eks', issuer: EKS, namespace: 'stackrox', components: ['central', 'sensor'] }],
      roleName: 'r', rolePath: '/', delegatedScanning: true, ecr: { registryId: ACCOUNT, repositories: ['team/*'] }, restart: true,
    });
    expect(s.inputs.clusters[0]).not.toHaveProperty('context');
  });

  it('reads a file, naming --plan when it cannot', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(doc(scenario({ roleName: 'r' }))));
    expect(loadPlanFile(good).inputs.roleName).toBe('r');
    expect(problems(() => loadPlanFile(join(dir, 'nope.json')))).toEqual([{ source: '--plan', message: expect.stringMatching(/cannot read .*nope\.json.*no such file/) }]);
    const text = join(dir, 'text.json');
    writeFileSync(text, 'Plan for EKS · account 111122223333\n');
    expect(problems(() => loadPlanFile(text))).toEqual([{ source: '--plan', message: expect.stringMatching(/is not JSON/) }]);
  });

  const base = () => doc(scenario({ roleName: 'r' }));
  it.each([
    ['not an object', () => [1, 2], /is not a plan/],
    ['no planVersion', () => ({ ...base(), planVersion: undefined }), /has no planVersion/],
    ['a newer planVersion', () => ({ ...base(), planVersion: 2 }), /planVersion 2; this version of rhacs-sts reads planVersion 1/],
    ['an uninstall plan', () => ({ ...base(), command: 'uninstall' }), /plan for "uninstall", not for init/],
    ['an offline plan', () => ({ ...base(), offline: true }), /was made with --offline/],
    ['an init result', () => ({ ...base(), applied: [] }), /result of an init run/],
    ['a blocked plan', () => ({ ...base(), blockers: [{ message: 'The role exists.', hint: 'x' }] }), /could not be applied when it was made: The role exists\./],
    ['no inputs', () => ({ ...base(), inputs: undefined }), /has no "inputs" section/],
    ['bad clusters', () => ({ ...base(), inputs: { ...(base().inputs as object), clusters: [{ provider: 'gke' }] } }), /inputs\.clusters/],
    ['bad actions', () => ({ ...base(), actions: [{ id: 'x' }] }), /valid list of actions/],
    ['a bad ECR scope', () => ({ ...base(), inputs: { ...(base().inputs as object), ecr: { registryId: ACCOUNT, repositories: 'all' } } }), /inputs\.ecr/],
    ['a region that is not one', () => ({ ...base(), region: 'evil.example.com/x?' }), /region: "evil\.example\.com\/x\?" is not an AWS region/],
    ['an issuer on the metadata address', () => ({ ...base(), inputs: { ...(base().inputs as object), oidcIssuer: 'https://169.254.169.254/latest' } }), /inputs\.oidcIssuer: "169\.254\.169\.254" is a private IP address/],
    ['a provider rhacs-sts does not support', () => ({ ...base(), inputs: { ...(base().inputs as object), provider: 'azure' } }), /inputs\.provider: "azure" is not a provider/],
    ['a cluster issuer not written as plan writes it', () => ({ ...base(), inputs: { ...(base().inputs as object), clusters: [{ ...(base().inputs as { clusters: object[] }).clusters[0], issuer: `${EKS}/` }] } }), /inputs\.clusters\[0\]\.issuer: .* is not written as rhacs-sts writes an issuer/],
    ['a context with control characters', () => ({ ...base(), inputs: { ...(base().inputs as object), clusters: [{ ...(base().inputs as { clusters: object[] }).clusters[0], context: 'a\u001b[2Jb' }] } }), /inputs\.clusters\[0\]\.context/],
    ['components that are not RHACS components', () => ({ ...base(), inputs: { ...(base().inputs as object), clusters: [{ ...(base().inputs as { clusters: object[] }).clusters[0], components: ['scanner'] }] } }), /components must list central and\/or sensor/],
    ['a region the EKS issuer contradicts', () => ({ ...base(), region: 'us-east-1' }), /region: "us-east-1" does not match the EKS issuer's region "eu-west-1"/],
    ['a top-level provider rhacs-sts does not support', () => ({ ...base(), provider: 'azure' }), /provider: "azure" is not a provider/],
    ['a top-level mechanism that is not one', () => ({ ...base(), mechanism: 'kiam' }), /mechanism: "kiam" is not a mechanism/],
    ['a partition that is not one', () => ({ ...base(), partition: 'gcp' }), /partition: "gcp" is not an AWS partition/],
    ['a partition the region contradicts', () => ({ ...base(), partition: 'aws-cn' }), /partition: "aws-cn" does not match region eu-west-1/],
    ['a cluster name that is not one', () => ({ ...base(), clusterName: 'a b' }), /clusterName: "a b" is not a cluster name/],
    ['an input mechanism that is not one', () => ({ ...base(), inputs: { ...(base().inputs as object), mechanism: 'kiam' } }), /inputs\.mechanism: "kiam" is not a mechanism/],
    ['attached policies that are not ARNs', () => ({ ...base(), inputs: { ...(base().inputs as object), attachPolicyArns: ['x'] } }), /inputs\.attachPolicyArns: /],
    ['an attached policy in another partition', () => ({ ...base(), inputs: { ...(base().inputs as object), attachPolicyArns: ['arn:aws-cn:iam::aws:policy/ReadOnlyAccess'] } }), /inputs\.attachPolicyArns: "arn:aws-cn:iam::aws:policy\/ReadOnlyAccess" is in partition "aws-cn" but region eu-west-1 is in "aws"/],
    ['an ECR assume role that is not a role ARN', () => ({ ...base(), inputs: { ...(base().inputs as object), ecr: { registryId: ACCOUNT, repositories: [], assumeRoleArn: 'evil' } } }), /inputs\.ecr\.assumeRoleArn: "evil" is not a role ARN/],
    ['an external ID without its role', () => ({ ...base(), inputs: { ...(base().inputs as object), ecrAssumeRoleExternalId: 'abc123' } }), /inputs\.ecrAssumeRoleExternalId: needs inputs\.ecrAssumeRole/],
    ['a sensor cluster without its context', () => ({ ...base(), inputs: { ...(base().inputs as object), clusters: [{ ...(base().inputs as { clusters: object[] }).clusters[0], role: 'central', context: 'a' }, { ...(base().inputs as { clusters: object[] }).clusters[0], role: 'sensor', context: undefined }] } }), /role "sensor" needs its context/],
  ])('refuses %s, naming --plan', (_name, make, message) => {
    const ps = problems(() => parseSavedPlan('saved.json', JSON.parse(JSON.stringify(make())) as unknown));
    expect(ps.every((p) => p.source === '--plan' && p.message.startsWith('saved.json: '))).toBe(true);
    expect(ps.map((p) => p.message).join('\n')).toMatch(message);
  });
});

describe('options from a saved plan', () => {
  it('takes every choice from the plan, and keeps the flags about how to run', () => {
    const s = saved(scenario({ roleName: 'r', rolePath: '/rhacs/', delegatedScanning: true, ecrRegistryId: '444455556666', ecrRegion: 'eu-central-1', ecrRepository: ['app'], restart: false, clusterName: 'prod' }));
    const given = parseOptions('init', { planFile: 'plan.json', yes: true, output: 'json', timeout: '2m' }, {});
    const { options, perCluster } = optionsFromPlan(given, s);
    expect(options).toMatchObject({
      roleName: 'r', rolePath: '/rhacs/', delegatedScanning: true, ecrRegistryId: '444455556666', ecrRegion: 'eu-central-1', ecrRepositories: ['app'],
      restart: false, clusterName: 'prod', region: 'eu-west-1', namespace: 'stackrox', context: undefined,
      yes: true, output: 'json', timeoutMs: 120_000, planFile: 'plan.json',
    });
    expect(perCluster).toEqual({ '': { namespace: 'stackrox' } });
    // The rebuilt decisions are the saved ones.
    const f: Facts = { partition: 'aws', accountId: ACCOUNT, region: 'eu-west-1', offline: false, clusters: [cluster()] };
    expect(decisionsFromOptions(options, f)).toMatchObject({ roleName: 'r', rolePath: '/rhacs/', ecr: { registryId: '444455556666', region: 'eu-central-1', repositories: ['app'] } });
  });

  it('restores the contexts of a plan for Central and Sensor in different clusters', () => {
    const s = saved(scenario({ centralContext: 'hub', sensorContext: ['spoke'] }, [
      { facts: cluster({ context: 'hub', components: ['central'] }), kubeContext: 'hub', role: 'central' },
      { facts: cluster({ context: 'spoke', components: ['sensor'], provider: 'openshift', issuer: OCP, namespace: 'rhacs' }), kubeContext: 'spoke', role: 'sensor' },
    ]));
    const { options, perCluster } = optionsFromPlan(parseOptions('init', { planFile: 'p' }, {}), s);
    expect(options).toMatchObject({ centralContext: 'hub', sensorContexts: ['spoke'], context: undefined, namespace: undefined, delegatedScanning: true });
    expect(perCluster).toEqual({ hub: { namespace: 'stackrox' }, spoke: { namespace: 'rhacs' } });
  });

  it('refuses flags that would change what the plan fixes, each named; the same value is fine', () => {
    const s = saved(scenario({ roleName: 'r' }));
    const ps = problems(() => optionsFromPlan(parseOptions('init', { planFile: 'p', roleName: 'other', namespace: 'elsewhere', ecrRepository: ['app'], adoptRole: true, restart: false }, {}), s));
    expect(ps.map((p) => p.source).sort()).toEqual(['--adopt-role', '--ecr-repository', '--namespace', '--no-restart', '--role-name']);
    expect(ps.find((p) => p.source === '--role-name')!.message).toMatch(/is "other", but plan\.json was planned with "r"/);
    expect(optionsFromPlan(parseOptions('init', { planFile: 'p', roleName: 'r', namespace: 'stackrox' }, {}), s).options.roleName).toBe('r');
  });
});

describe('choices a re-run would otherwise keep from what is in place', () => {
  const ATTACH = `arn:aws:iam::${ACCOUNT}:policy/backups`;
  const podIdentityInPlace = { mechanism: 'pod-identity' as const, attachPolicyArns: [`arn:aws:iam::${ACCOUNT}:policy/old`] };

  it('records mechanism, attached policies, the ECR assume role and the integration name, and restores them', () => {
    const s = saved(scenario({ roleName: 'r', mechanism: 'irsa', attachPolicyArn: [ATTACH], ecrRegistryId: '444455556666', ecrAssumeRole: 'ecr-reader', ecrAssumeRoleExternalId: 'ext-1', integrationName: 'ECR prod' }));
    expect(s.inputs).toMatchObject({
      mechanism: 'irsa', attachPolicyArns: [ATTACH], ecrAssumeRole: 'ecr-reader', ecrAssumeRoleExternalId: 'ext-1', integrationName: 'ECR prod',
      ecr: { registryId: '444455556666', assumeRoleArn: 'arn:aws:iam::444455556666:role/ecr-reader' },
    });
    const { options } = optionsFromPlan(parseOptions('init', { planFile: 'p' }, {}), s);
    expect(options).toMatchObject({ mechanism: 'irsa', attachPolicyArns: [ATTACH], ecrAssumeRole: 'ecr-reader', ecrAssumeRoleExternalId: 'ext-1', integrationName: 'ECR prod' });
    // With Pod Identity in place, the rebuilt decisions are still the saved plan's.
    const f: Facts = { partition: 'aws', accountId: ACCOUNT, region: 'eu-west-1', offline: false, clusters: [cluster()] };
    const d = decisionsFromOptions(options, f, {}, { mechanism: 'pod-identity' });
    expect(d.mechanism).toBe('irsa');
    expect(d.attachPolicyArns).toEqual([ATTACH]);
    expect(planCommand(options, ACCOUNT)).toContain('--mechanism irsa');
    expect(planCommand(options, ACCOUNT)).toContain(`--attach-policy-arn ${ATTACH}`);
    expect(planCommand(options, ACCOUNT)).toContain('--ecr-assume-role ecr-reader');
  });

  it('records the mechanism and attached policies taken from what is in place', () => {
    const sc = scenario({ roleName: 'r' });
    const decisions = decisionsFromOptions(sc.options, sc.facts, {}, podIdentityInPlace);
    const plan = buildPlan(sc.facts, decisions, sc.aws);
    const inputs = planInputs(sc.options, decisions, sc.detected, plan);
    expect(inputs).toMatchObject({ mechanism: 'pod-identity', attachPolicyArns: podIdentityInPlace.attachPolicyArns });
  });

  it('refuses --mechanism and --attach-policy-arn that differ from the plan', () => {
    const s = saved(scenario({ roleName: 'r', mechanism: 'irsa' }));
    const ps = problems(() => optionsFromPlan(parseOptions('init', { planFile: 'p', mechanism: 'pod-identity', attachPolicyArn: [ATTACH] }, {}), s));
    expect(ps.map((p) => p.source).sort()).toEqual(['--attach-policy-arn', '--mechanism']);
  });

  it('loads an older plan without these fields, as if they were not given', () => {
    const d = doc(scenario({ roleName: 'r' }));
    const inputs = d.inputs as Record<string, unknown>;
    delete inputs.mechanism;
    delete inputs.attachPolicyArns;
    const s = parseSavedPlan('old.json', d);
    const { options } = optionsFromPlan(parseOptions('init', { planFile: 'p' }, {}), s);
    expect(options.mechanism).toBeUndefined();
    expect(options.attachPolicyArns).toEqual([]);
    expect(options.ecrAssumeRole).toBeUndefined();
  });

  it('names delegated scanning turned off in the drift hint, so that what is in place does not turn it back on', () => {
    const sc = scenario({ roleName: 'r' });
    const decisions = decisionsFromOptions(sc.options, sc.facts, {}, { delegatedScanning: false, permissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/boundary` });
    const plan = buildPlan(sc.facts, decisions, sc.aws);
    const s = parseSavedPlan('p.json', JSON.parse(planToJson(plan, { inputs: planInputs(sc.options, decisions, sc.detected, plan) })));
    const { options } = optionsFromPlan(parseOptions('init', { planFile: 'p' }, {}), s);
    const hint = planCommand(options, ACCOUNT);
    expect(hint).toContain('--no-delegated-scanning');
    expect(hint).toContain(`--permissions-boundary arn:aws:iam::${ACCOUNT}:policy/boundary`);
  });

  it('does not record a mechanism for OpenShift', () => {
    const s = saved(scenario({ roleName: 'r' }, [{ facts: cluster({ provider: 'openshift', issuer: OCP }), kubeContext: 'ocp' }]));
    expect(s.inputs).not.toHaveProperty('mechanism');
  });
});

describe('drift', () => {
  it('is empty when the live plan is the saved one', () => {
    const sc = scenario({ roleName: 'r' });
    expect(planDrift(saved(sc), { doc: doc(sc) as never, detected: sc.detected })).toEqual([]);
  });

  it('names each action whose status, desired or current state changed', () => {
    const before = scenario({ roleName: 'r' });
    const after = scenario({ roleName: 'r' });
    // Someone created the role (with a trust policy of their own) and annotated central meanwhile.
    after.aws.role = {
      arn: `arn:aws:iam::${ACCOUNT}:role/r`, path: '/', inlinePolicies: {}, attachedPolicyArns: [], tags: { 'rhacs-sts/managed': 'true' },
      trustPolicy: { Version: '2012-10-17', Statement: [{ Sid: 'Other', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    };
    after.facts.clusters[0]!.current!.central!.serviceAccount = { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/old' } };
    const drift = planDrift(saved(before), { doc: doc(after) as never, detected: after.detected });
    expect(drift).toEqual(expect.arrayContaining([
      `role arn:aws:iam::${ACCOUNT}:role/r: status was "create", now "unchanged"`,
      `trust-policy arn:aws:iam::${ACCOUNT}:role/r: status was "create", now "update"`,
      'service-account-annotation stackrox/serviceaccount/central: status was "create", now "update"',
      `role-tags arn:aws:iam::${ACCOUNT}:role/r: new in the live plan (status "unchanged")`,
    ]));
  });

  it('names a changed desired state even when the status is the same', () => {
    const before = scenario({ roleName: 'r' });
    const after = scenario({ roleName: 'r' });
    after.facts.clusters[0]!.namespace = 'moved';
    const drift = planDrift(saved(before), { doc: doc(after) as never, detected: after.detected });
    expect(drift.some((d) => /^trust-policy .*: the desired state differs$/.test(d))).toBe(true);
    expect(drift.some((d) => /service-account-annotation stackrox\/serviceaccount\/central: planned to create, no longer part of the plan/.test(d))).toBe(true);
  });

  it('names another account, another current context, another issuer', () => {
    const before = scenario({ roleName: 'r' });
    const after = scenario({ roleName: 'r' }, [{ facts: cluster({ issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER' }), kubeContext: 'staging' }]);
    after.facts.accountId = '999988887777';
    const drift = planDrift(saved(before), { doc: doc(after) as never, detected: after.detected });
    expect(drift).toEqual(expect.arrayContaining([
      'AWS account: the plan is for 111122223333, your credentials are for 999988887777',
      'the current context: was "prod", the kubeconfig now selects "staging"',
      `the current context: the cluster's issuer was ${EKS}, now https://oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER`,
    ]));
  });
});
