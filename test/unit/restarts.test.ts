// When pods restart and what it costs (EKS: what the pods carry; OpenShift: --no-restart only where
// Helm values can wait; Recreate is an outage), and the Helm values files: one document per
// release, named after the given path, headed by the full command; uninstall's undo them.
import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fieldSetAt, helmChartVersion } from '../../src/kube/rhacs.js';
import { buildPlan } from '../../src/plan/build.js';
import { helmUpgradeCommand, helmValuesFileNames } from '../../src/plan/helm-values.js';
import type { Action, AwsState, ClusterFacts, ComponentState, Facts, HelmValues, Plan } from '../../src/plan/model.js';
import { trustSid } from '../../src/clouds/aws/policies.js';
import { before44, eksRestartNeeded, outageWarning, restartIsOutage } from '../../src/plan/restarts.js';
import { buildUninstallPlan } from '../../src/plan/uninstall.js';
import { helmValuesYaml, renderPlanText } from '../../src/render/plan-text.js';
import { writeHelmValues } from '../../src/apply/helm-values.js';
import { RhacsStsError } from '../../src/errors.js';
import { createMemoryUi } from '../../src/ui/memory.js';
import { clusterFacts, decisions, facts as buildFacts } from './builders.js';

const ACCOUNT = '111122223333';
const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EKS_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OCP_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/rhacs-sts-prod`;
const OTHER_ARN = `arn:aws:iam::${ACCOUNT}:role/someone-else`;
const ANNOTATION = 'eks.amazonaws.com/role-arn';
const TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
const TAGS = { 'rhacs-sts/managed': 'true' };
const plain = new Chalk({ level: 0 });

const cluster = (over: Partial<ClusterFacts> = {}): ClusterFacts => clusterFacts({ components: ['central'], ...over });
const facts = (clusters: ClusterFacts[]): Facts => buildFacts(clusters);
const ofType = <T extends Action['type']>(plan: Plan, type: T) => plan.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

const eks = (over: Partial<ComponentState> = {}, annotation: string | null = ROLE_ARN): ComponentState => ({
  serviceAccount: { annotations: annotation ? { [ANNOTATION]: annotation } : {} },
  deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: {}, strategy: 'Recreate' },
  ...over,
});
const ocp = (env: { name: string; value?: string }[] = [], strategy: 'Recreate' | 'RollingUpdate' = 'Recreate'): ComponentState => ({
  serviceAccount: { annotations: {} },
  deployment: { container: 'central', env, hasTokenMount: true, podTemplateAnnotations: {}, strategy },
});
const OURS_ENV = [{ name: 'AWS_ROLE_ARN', value: ROLE_ARN }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }];

describe('EKS: a restart is needed exactly while a running pod lacks the role', () => {
  it.each([
    ['every pod carries the role', [{ name: 'p1', roleArn: ROLE_ARN }], false],
    ['a pod created before the annotation has no role', [{ name: 'p1', roleArn: ROLE_ARN }, { name: 'p2' }], true],
    ['a pod carries another role', [{ name: 'p1', roleArn: OTHER_ARN }], true],
    ['the only pod without it opted out of the webhook', [{ name: 'p1', webhookOptOut: 'the pod has the label eks.amazonaws.com/skip-pod-identity-webhook' }], false],
    ['no pods (scaled to zero): the next pods get it', [], false],
  ])('%s', (_what, pods, expected) => {
    expect(eksRestartNeeded(eks({ pods }), ROLE_ARN)).toBe(expected);
  });

  it('a container that sets AWS_ROLE_ARN itself keeps it (the webhook never overrides it): no restart would change it', () => {
    const state = eks({ pods: [{ name: 'p1', roleArn: OTHER_ARN }] });
    state.deployment!.env = [{ name: 'AWS_ROLE_ARN', value: OTHER_ARN }];
    expect(eksRestartNeeded(state, ROLE_ARN)).toBe(false);
  });

  it('pods that may not be listed: judged from when rhacs-sts itself wrote the annotation', () => {
    const ours = (setAt?: string, restartedAt?: string) => eks({
      pods: null,
      serviceAccount: { annotations: { [ANNOTATION]: ROLE_ARN }, ...(setAt ? { roleAnnotationSetAt: setAt } : {}) },
      deployment: { container: 'central', env: [], hasTokenMount: false, podTemplateAnnotations: restartedAt ? { 'kubectl.kubernetes.io/restartedAt': restartedAt } : {} },
    });
    expect(eksRestartNeeded(ours('2026-11-29T07:00:00.000Z'), ROLE_ARN)).toBe(true);
    expect(eksRestartNeeded(ours('2026-11-29T07:00:00.000Z', '2026-11-29T07:00:01Z'), ROLE_ARN)).toBe(false);
    // Set by someone else (Helm, kubectl): no record of ours, so nothing says a restart is due.
    expect(eksRestartNeeded(ours(undefined), ROLE_ARN)).toBe(false);
  });

  it('the plan: annotation in place and pods with the role → no restart; a pod without it → restart', () => {
    const withRole = buildPlan(facts([cluster({ current: { central: eks({ pods: [{ name: 'central-1', roleArn: ROLE_ARN }] }) } })]), decisions(), undefined);
    expect(ofType(withRole, 'service-account-annotation')[0]!.status).toBe('unchanged');
    expect(ofType(withRole, 'restart')[0]).toMatchObject({ status: 'unchanged', summary: 'No restart needed for central' });
    expect(withRole.restarts).toEqual([]);

    const without = buildPlan(facts([cluster({ current: { central: eks({ pods: [{ name: 'central-1' }] }) } })]), decisions(), undefined);
    expect(ofType(without, 'service-account-annotation')[0]!.status).toBe('unchanged');
    expect(ofType(without, 'restart')[0]).toMatchObject({ status: 'update', method: 'restartedAt', outage: true });
  });
});

describe('managedFields: only our field manager says when we wrote the annotation', () => {
  const entry = (manager: string, time: string, withAnnotation: boolean): V1ManagedFieldsEntry => ({
    manager, operation: 'Update', apiVersion: 'v1', time: new Date(time), fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': withAnnotation ? { 'f:annotations': { [`f:${ANNOTATION}`]: {} } } : { 'f:labels': { 'f:x': {} } } },
  });
  it('ignores Helm touching the object (the annotation or other fields) after us', () => {
    const fields = [
      entry('rhacs-sts', '2026-11-29T07:00:00Z', true),
      entry('helm', '2026-11-30T09:00:00Z', true),
      entry('kubectl-label', '2026-11-30T10:00:00Z', false),
    ];
    expect(fieldSetAt(fields, `f:${ANNOTATION}`, 'rhacs-sts')).toBe('2026-11-29T07:00:00.000Z');
    expect(fieldSetAt(fields.slice(1), `f:${ANNOTATION}`, 'rhacs-sts')).toBeUndefined();
  });
});

describe('Recreate: the plan and the confirmation say a restart is a short outage', () => {
  it('reads the strategy from the deployment; offline, Central counts as Recreate (as the chart renders it)', () => {
    expect(restartIsOutage({ container: 'central', env: [], hasTokenMount: true, podTemplateAnnotations: {}, strategy: 'Recreate' }, 'central')).toBe(true);
    expect(restartIsOutage({ container: 'central', env: [], hasTokenMount: true, podTemplateAnnotations: {}, strategy: 'RollingUpdate' }, 'central')).toBe(false);
    expect(restartIsOutage(undefined, 'central')).toBe(true);
    expect(restartIsOutage(undefined, 'sensor')).toBe(false);
  });

  it('says so in the restart, a note and the confirmation text; not for a RollingUpdate deployment', () => {
    const plan = buildPlan(facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, current: { central: ocp() } })]), decisions(), undefined);
    const [restart] = ofType(plan, 'restart');
    expect(restart).toMatchObject({ status: 'update', outage: true });
    expect(restart!.summary).toContain('(Recreate strategy: a short outage)');
    expect(plan.notes).toContain("Central's Deployment uses the Recreate strategy: the restart stops the running pod before the new one is ready, so Central is unavailable for a short while (usually a minute or two).");
    expect(outageWarning(plan)).toBe('central restarts with the Recreate strategy: a short outage');

    const rolling = buildPlan(facts([cluster({ provider: 'openshift', issuer: OCP_ISSUER, current: { central: ocp([], 'RollingUpdate') } })]), decisions(), undefined);
    expect(ofType(rolling, 'restart')[0]!.outage).toBeUndefined();
    expect(outageWarning(rolling)).toBeUndefined();
    expect(rolling.notes.some((n) => n.includes('Recreate'))).toBe(false);
  });

  it('says nothing of an outage when no restart happens (deferred, or nothing changed)', () => {
    const deferred = buildPlan(facts([cluster({ current: { central: eks({ pods: [{ name: 'p' }] }, null) } })]), decisions({ restart: false }), undefined);
    expect(outageWarning(deferred)).toBeUndefined();
    expect(deferred.notes.some((n) => n.includes('unavailable'))).toBe(false);
    expect(ofType(deferred, 'restart')[0]!.summary).toBe('Restart of central deferred (--no-restart) (Recreate strategy: a short outage)');
  });
});

describe('--no-restart never rolls pods', () => {
  const ocpCluster = (installMethod: ClusterFacts['installMethod'], env: { name: string; value?: string }[] = []) => cluster({
    provider: 'openshift', issuer: OCP_ISSUER, installMethod, current: { central: ocp(env) },
    ...(installMethod === 'operator' ? { operatorCrs: { central: { kind: 'Central' as const, name: 'stackrox-central-services', overlays: [] } } } : {}),
  });

  it('OpenShift + Helm: the env is not set live; the values carry it and "helm upgrade" rolls it out later', () => {
    const plan = buildPlan(facts([ocpCluster('helm')]), decisions({ restart: false }), undefined);
    expect(plan.blockers).toEqual([]);
    expect(ofType(plan, 'deployment-env')[0]).toMatchObject({ status: 'unchanged', deferred: true });
    expect(ofType(plan, 'restart')[0]).toMatchObject({ status: 'unchanged', deferred: true, method: 'rollout' });
    expect(ofType(plan, 'restart')[0]!.summary).toContain('"helm upgrade" with the values below sets the environment and rolls the pods');
    expect(plan.helmValues).toEqual([expect.objectContaining({ release: 'stackrox-central-services', values: { customize: { central: { envVars: { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE } } } } })]);
    // Nothing in Kubernetes changes: only IAM.
    expect(plan.actions.filter((a) => a.status !== 'unchanged').every((a) => !['deployment-env', 'restart', 'operator-overlay'].includes(a.type))).toBe(true);
  });

  it('OpenShift + Helm, replacing another role: only the record of that role is written now (metadata, no rollout)', () => {
    const plan = buildPlan(facts([ocpCluster('helm', [{ name: 'AWS_ROLE_ARN', value: OTHER_ARN }])]), decisions({ restart: false, replaceRoleWiring: true }), undefined);
    expect(ofType(plan, 'deployment-env')[0]).toMatchObject({ status: 'update', deferred: true, annotations: { 'rhacs-sts/previous-role-arn': OTHER_ARN } });
  });

  it.each([['operator', /the operator applies the overlays in its resource \(the durable copy\) at once/], ['manifests', /no other copy to write instead/]] as const)(
    'OpenShift + %s: refused, naming --no-restart and the outage', (method, why) => {
      const plan = buildPlan(facts([ocpCluster(method)]), decisions({ restart: false }), undefined);
      expect(plan.blockers).toHaveLength(1);
      expect(plan.blockers[0]!.message).toMatch(/^--no-restart: on OpenShift, setting AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE on stackrox\/central changes its pod template/);
      expect(plan.blockers[0]!.message).toMatch(why);
      expect(plan.blockers[0]!.hint).toBe('Run without --no-restart when a rollout suits (Central uses the Recreate strategy: a short outage).');
    },
  );

  it('OpenShift + operator with everything in place: --no-restart has nothing to refuse', () => {
    const plan = buildPlan(facts([ocpCluster('operator', OURS_ENV)]), decisions({ restart: false }), undefined);
    expect(plan.blockers).toEqual([]);
  });

  it('EKS: the annotation is written (no rollout), the restart waits', () => {
    const plan = buildPlan(facts([cluster({ installMethod: 'helm', current: { central: eks({ pods: [{ name: 'p' }] }, null) } })]), decisions({ restart: false }), undefined);
    expect(plan.blockers).toEqual([]);
    expect(ofType(plan, 'service-account-annotation')[0]!.status).toBe('create');
    expect(ofType(plan, 'restart')[0]).toMatchObject({ status: 'unchanged', deferred: true });
  });
});

describe('uninstall: Helm values that undo init, and --no-restart', () => {
  const trust = { Version: '2012-10-17' as const, Statement: [{ Sid: trustSid(EKS_ISSUER), Effect: 'Allow' as const, Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${EKS_HP}` }, Action: 'sts:AssumeRoleWithWebIdentity' }] };
  const aws = (tags: Record<string, string> = TAGS): AwsState => ({
    oidcProviders: {}, role: { arn: ROLE_ARN, path: '/', trustPolicy: trust, inlinePolicies: {}, attachedPolicyArns: [], tags },
  });
  const u = { keepOidcProvider: false, otherTrusters: {} };
  const ocpCluster = (installMethod: ClusterFacts['installMethod'], state: ComponentState) => cluster({
    provider: 'openshift', issuer: OCP_ISSUER, installMethod, current: { central: state },
    ...(installMethod === 'operator' ? { operatorCrs: { central: { kind: 'Central' as const, name: 'stackrox-central-services', overlays: [] } } } : {}),
  });

  it('EKS + Helm: null removes our annotation from the values; a replaced role comes back instead', () => {
    const plan = buildUninstallPlan(facts([cluster({ installMethod: 'helm', helmChartVersions: { central: '400.7.2' }, current: { central: eks() } })]), decisions(), aws(), u);
    expect(plan.helmValues).toEqual([{
      release: 'stackrox-central-services', chart: 'stackrox-central-services', chartVersion: '400.7.2', context: undefined, namespace: 'stackrox',
      values: { customize: { other: { 'serviceaccount/central': { annotations: { [ANNOTATION]: null } } } } },
    }]);
    const replaced = eks({ serviceAccount: { annotations: { [ANNOTATION]: ROLE_ARN, 'rhacs-sts/previous-role-arn': OTHER_ARN } } });
    const back = buildUninstallPlan(facts([cluster({ installMethod: 'helm', current: { central: replaced } })]), decisions(), aws(), u);
    expect(back.helmValues![0]!.values).toEqual({ customize: { other: { 'serviceaccount/central': { annotations: { [ANNOTATION]: OTHER_ARN } } } } });
  });

  it('EKS + Helm: no undo values where the wiring names someone else\'s role, or for a role that is not ours', () => {
    expect(buildUninstallPlan(facts([cluster({ installMethod: 'helm', current: { central: eks({}, OTHER_ARN) } })]), decisions(), aws(), u).helmValues).toBeUndefined();
    expect(buildUninstallPlan(facts([cluster({ installMethod: 'helm', current: { central: eks() } })]), decisions(), aws({}), u).helmValues).toBeUndefined();
  });

  it('OpenShift + Helm: null removes both env vars; --no-restart leaves the deployment alone', () => {
    const f = facts([ocpCluster('helm', ocp(OURS_ENV))]);
    const plan = buildUninstallPlan(f, decisions(), aws(), u);
    expect(plan.helmValues![0]!.values).toEqual({ customize: { central: { envVars: { AWS_ROLE_ARN: null, AWS_WEB_IDENTITY_TOKEN_FILE: null } } } });
    expect(ofType(plan, 'deployment-env')[0]!.status).toBe('delete');

    const later = buildUninstallPlan(f, decisions({ restart: false }), aws(), u);
    expect(later.blockers).toEqual([]);
    expect(ofType(later, 'deployment-env')[0]).toMatchObject({ status: 'unchanged', deferred: true });
    expect(ofType(later, 'restart')[0]).toMatchObject({ status: 'unchanged', deferred: true });
    expect(later.notes.some((n) => n.includes('keep naming the role'))).toBe(true);
    expect(renderPlanText(later, plain)).toContain('Helm values that undo rhacs-sts\'s values at the next "helm upgrade"');
  });

  it('OpenShift + operator or manifests: --no-restart is refused', () => {
    for (const m of ['operator', 'manifests'] as const) {
      const plan = buildUninstallPlan(facts([ocpCluster(m, ocp(OURS_ENV))]), decisions({ restart: false }), aws(), u);
      expect(plan.blockers.map((b) => b.message)).toEqual([expect.stringMatching(/^--no-restart: on OpenShift, removing AWS_ROLE_ARN/)]);
    }
  });
});

describe('Helm values files', () => {
  const h = (over: Partial<HelmValues> = {}): HelmValues =>
    ({ release: 'stackrox-central-services', chart: 'stackrox-central-services', namespace: 'stackrox', values: { customize: { central: { envVars: { AWS_ROLE_ARN: ROLE_ARN } } } }, ...over });
  const sensor = h({ release: 'stackrox-secured-cluster-services', chart: 'stackrox-secured-cluster-services' });

  it('one file per release, named after the given path', () => {
    expect(helmValuesFileNames([h(), sensor], 'out/rhacs-values.yaml', false)).toEqual([
      'out/rhacs-values.stackrox-central-services.yaml',
      'out/rhacs-values.stackrox-secured-cluster-services.yaml',
    ]);
    expect(helmValuesFileNames([h()], 'values', false)).toEqual(['values.stackrox-central-services.yaml']);
    expect(helmValuesFileNames([h(), sensor], 'out/', false)).toEqual(['out/stackrox-central-services.yaml', 'out/stackrox-secured-cluster-services.yaml']);
    expect(helmValuesFileNames([h()], 'existing-dir', true)).toEqual(['existing-dir/stackrox-central-services.yaml']);
  });

  it('the context joins the name when a context flag named the cluster (the same release runs in every secured cluster)', () => {
    const hub = { ...sensor, context: 'hub' };
    const spoke = { ...sensor, context: 'arn:aws:eks:eu-west-1:123456789012:cluster/spoke2' };
    expect(helmValuesFileNames([hub, spoke], 'v.yml', false)).toEqual([
      'v.hub.stackrox-secured-cluster-services.yml',
      'v.arn_aws_eks_eu-west-1_123456789012_cluster_spoke2.stackrox-secured-cluster-services.yml',
    ]);
    // Also alone (one run per cluster, as --role-per-cluster makes them): no run overwrites another's file.
    expect(helmValuesFileNames([spoke], 'out/', false)).toEqual(['out/arn_aws_eks_eu-west-1_123456789012_cluster_spoke2.stackrox-secured-cluster-services.yaml']);
  });

  it('the command names the release, the chart at its installed version, the namespace, the file and the context', () => {
    expect(helmUpgradeCommand(h())).toBe('helm upgrade stackrox-central-services rhacs/stackrox-central-services -n stackrox --reuse-values -f <file>');
    expect(helmUpgradeCommand(h({ chartVersion: '400.7.2', context: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod' }), 'my values.yaml')).toBe(
      "helm upgrade stackrox-central-services rhacs/stackrox-central-services -n stackrox --version 400.7.2 --reuse-values -f 'my values.yaml' --kube-context arn:aws:eks:eu-west-1:123456789012:cluster/prod",
    );
  });

  it('each file is one YAML document (Helm reads only the first) headed by the command; null survives for uninstall', () => {
    const text = helmValuesYaml(h({ values: { customize: { central: { envVars: { AWS_ROLE_ARN: null } } } } }), 'uninstall', 'v.stackrox-central-services.yaml');
    const docs = parseAllDocuments(text);
    expect(docs).toHaveLength(1);
    expect((docs as { toJS(): unknown }[])[0]!.toJS()).toEqual({ customize: { central: { envVars: { AWS_ROLE_ARN: null } } } });
    expect(text.split('\n').slice(0, 2)).toEqual([
      "# Undoes rhacs-sts's values for release stackrox-central-services (null removes a key when Helm merges values). Apply with:",
      '#   helm upgrade stackrox-central-services rhacs/stackrox-central-services -n stackrox --reuse-values -f v.stackrox-central-services.yaml',
    ]);
  });
});

describe('versions and chart labels', () => {
  it.each([['4.3.8', true], ['4.4.0', false], ['4.7.2', false], ['3.74.1', true], ['v4.10.0', false], ['latest', undefined], [undefined, undefined]])(
    'before44(%s) = %s', (v, expected) => expect(before44(v)).toBe(expected),
  );
  it('reads the chart version from helm.sh/chart', () => {
    expect(helmChartVersion('stackrox-central-services-400.7.2')).toBe('400.7.2');
    expect(helmChartVersion('stackrox-secured-cluster-services-400.3.0-160-g465d734c11')).toBe('400.3.0-160-g465d734c11');
    expect(helmChartVersion(undefined)).toBeUndefined();
  });
});

describe('writeHelmValues', () => {
  const plan = (): Plan => buildPlan(facts([cluster({ installMethod: 'helm', current: { central: eks({ pods: [] }, null) } })]), decisions(), undefined);

  it('a dry run names the files and writes none; a real run writes them and says where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-hv-unit-'));
    try {
      const ui = createMemoryUi();
      const dry = writeHelmValues(plan(), { helmValuesOut: join(dir, 'v.yaml'), dryRun: true }, ui)!;
      expect(dry.map((f) => [f.file, f.written])).toEqual([[join(dir, 'v.stackrox-central-services.yaml'), false]]);
      expect(readdirSync(dir)).toEqual([]);
      expect(ui.stderr.join('\n')).toContain('Dry run: no Helm values were written.');
      const real = writeHelmValues(plan(), { helmValuesOut: join(dir, 'v.yaml') }, ui)!;
      expect(real.map((f) => f.written)).toEqual([true]);
      expect(readdirSync(dir)).toEqual(['v.stackrox-central-services.yaml']);
      expect(writeHelmValues(plan(), {}, ui)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path that cannot be written is an input error naming --helm-values-out (written before anything is applied)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-hv-unit-'));
    try {
      writeFileSync(join(dir, 'a-file'), '');
      const err = (() => {
        try {
          writeHelmValues(plan(), { helmValuesOut: join(dir, 'a-file', 'v.yaml') }, createMemoryUi());
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(RhacsStsError);
      expect((err as RhacsStsError).exitCode).toBe(2);
      expect((err as RhacsStsError).message).toContain('Cannot write the Helm values for release stackrox-central-services');
      expect((err as RhacsStsError).hint).toContain('--helm-values-out');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what a manifests install is told', () => {
  const ocpManifests = (context?: string) => cluster({ provider: 'openshift', issuer: OCP_ISSUER, installMethod: 'manifests', current: { central: ocp() }, ...(context ? { context } : {}) });

  it('--no-restart on OpenShift from plain manifests: refused, and no action speaks of Helm values', () => {
    const plan = buildPlan(facts([ocpManifests()]), decisions({ restart: false }), { oidcProviders: {}, role: null });
    expect(plan.blockers.map((b) => b.message).join()).toMatch(/--no-restart: .*plain manifests has no other copy/);
    const text = renderPlanText(plan, plain);
    expect(text.split("\n").filter((l) => /Helm values|helm upgrade/.test(l))).toEqual([]);
    expect(ofType(plan, 'deployment-env')[0]!.summary).toMatch(/Not set on central: --no-restart, .*plain manifests has no other place to keep it/);
  });

  it('says that re-applying the manifests removes the wiring, and where it would last', () => {
    const plan = buildPlan(facts([cluster({ current: { central: eks({}, null) } })]), decisions(), { oidcProviders: {}, role: null });
    expect(plan.notes.join('\n')).toMatch(/plain manifests .*re-applying those manifests .* removes them/);
    expect(plan.notes.join('\n')).toMatch(/Helm chart .* or the operator .* keeps them/);
    expect(renderPlanText(plan, plain)).toMatch(/annotation eks\.amazonaws\.com\/role-arn=\S+ \(live only: re-applying the manifests removes it\)/);
  });

  it('a fleet installed the same way gets each note once, not once per cluster', () => {
    const helm = (context: string): ClusterFacts => cluster({ context, installMethod: 'helm', helmRelease: 'stackrox-central-services', current: { central: eks({}, null) } } as Partial<ClusterFacts>);
    const plan = buildPlan(facts([helm('hub'), helm('spoke-1'), helm('spoke-2')]), decisions(), { oidcProviders: {}, role: null });
    const helmNotes = plan.notes.filter((n) => n.startsWith('RHACS was installed with Helm'));
    expect(helmNotes).toHaveLength(1);
    expect(new Set(plan.notes).size).toBe(plan.notes.length);
  });
});
