// Google Cloud's plan for GKE (pure): the service account and its ownership, the reader and workload
// identity grants for exactly the RHACS service accounts, the annotation in the durable place, the
// restart; a re-run against what the first run left plans nothing; and GKE's detection signals.
import { describe, expect, it } from 'vitest';
import { gkeMember, planGke, type GcpDecisions, type GcpFacts, type GcpState } from '../../src/clouds/gcp/plan.js';
import { ownershipDescription } from '../../src/clouds/gcp/service-account.js';
import { decideGcp, projectOfRun, serviceAccountIdOf } from '../../src/clouds/gcp/facts.js';
import { gkeClusterRef } from '../../src/platforms/gke/index.js';
import { hasSignal } from '../../src/platforms/registry.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { planToJson } from '../../src/render/plan-json.js';
import { Chalk } from 'chalk';
import { clusterFacts, nothingInPlace } from './builders.js';

const PROJECT = 'sandbox-project';
const EMAIL = `rhacs-prod@${PROJECT}.iam.gserviceaccount.com`;
const ISSUER = `https://container.googleapis.com/v1/projects/${PROJECT}/locations/europe-west1/clusters/prod`;

function gkeCluster(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return clusterFacts({ provider: 'gke', issuer: ISSUER, context: 'gke_sandbox-project_europe-west1_prod', name: 'prod', gke: { projectId: PROJECT, location: 'europe-west1', name: 'prod', nodePools: ['default-pool'] }, current: nothingInPlace(), ...over });
}
const facts = (clusters = [gkeCluster()]): GcpFacts => ({ projectId: PROJECT, projectNumber: '123456789012', clusters, clusterName: 'prod', offline: false });
const decisions = (over: Partial<GcpDecisions> = {}): GcpDecisions => ({ accountId: 'rhacs-prod', delegatedScanning: false, restart: true, adoptServiceAccount: false, repositories: [], ...over });
const empty: GcpState = { serviceAccount: null, serviceAccountPolicy: null, readerPolicies: { [`project ${PROJECT}`]: { bindings: [{ role: 'roles/viewer', members: ['user:a@example.com'] }] } } };
const CENTRAL = gkeMember(PROJECT, 'stackrox', 'central');

describe('GKE plan', () => {
  it('creates the service account, grants reader on the project and workload identity to central only, annotates and restarts', () => {
    const plan = planGke(facts(), decisions(), empty);
    expect(plan.cloud).toBe('gcp');
    expect(plan.blockers).toEqual([]);
    expect(plan.actions.map((a) => `${a.type}:${a.status}`)).toEqual([
      'gcp-service-account:create', 'gcp-iam-member:create', 'gcp-iam-member:create', 'gcp-propagation:create', 'service-account-annotation:create', 'restart:update',
    ]);
    // After the grants, before the pods use them: a wait for IAM propagation, proven per Kubernetes service account.
    expect(plan.actions[3]).toMatchObject({ type: 'gcp-propagation', target: EMAIL, probes: [{ context: 'gke_sandbox-project_europe-west1_prod', namespace: 'stackrox', serviceAccount: 'central', issuer: ISSUER }] });
    expect(plan.grants).toEqual([
      { resource: `project ${PROJECT}`, role: 'roles/artifactregistry.reader', member: `serviceAccount:${EMAIL}` },
      { resource: `service account ${EMAIL}`, role: 'roles/iam.workloadIdentityUser', member: 'serviceAccount:sandbox-project.svc.id.goog[stackrox/central]' },
    ]);
    expect(plan.kubernetes).toEqual([{ kind: 'ServiceAccount', context: 'gke_sandbox-project_europe-west1_prod', namespace: 'stackrox', name: 'central', annotations: { 'iam.gke.io/gcp-service-account': EMAIL }, durability: 'live' }]);
    // The reader binding keeps the other members of the policy in its desired state.
    expect(plan.actions[1]!.desired).toEqual({ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${EMAIL}`] });
  });

  it('adds sensor with delegated scanning, and grants on each repository named instead of the project', () => {
    const plan = planGke(facts(), decisions({ delegatedScanning: true, repositories: [{ location: 'europe-west1', repository: 'images' }] }), { ...empty, readerPolicies: {} });
    expect(plan.grants.map((g) => `${g.resource} ${g.member}`)).toEqual([
      `repository europe-west1/images in project ${PROJECT} serviceAccount:${EMAIL}`,
      `service account ${EMAIL} ${CENTRAL}`,
      `service account ${EMAIL} ${gkeMember(PROJECT, 'stackrox', 'sensor')}`,
    ]);
    expect(plan.notes.join(' ')).not.toMatch(/whole project/);
  });

  it('plans nothing once everything is in place', () => {
    const done: GcpState = {
      serviceAccount: { email: EMAIL, description: ownershipDescription(['prod']), disabled: false, managed: true, clusters: ['prod'] },
      serviceAccountPolicy: { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [CENTRAL] }] },
      readerPolicies: { [`project ${PROJECT}`]: { bindings: [{ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${EMAIL}`] }] } },
    };
    const cluster = gkeCluster({ current: { ...nothingInPlace(), central: { ...nothingInPlace().central, serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': EMAIL } } } } });
    const plan = planGke(facts([cluster]), decisions(), done);
    expect(plan.actions.filter((a) => a.status !== 'unchanged')).toEqual([]);
    expect(renderPlanText(plan, new Chalk({ level: 0 }))).toMatch(/Nothing to change: everything is in place\./);
  });

  it('blocks on a service account rhacs-sts did not create, naming the adopt flag; with it, the account is used unmarked', () => {
    const foreign: GcpState = { ...empty, serviceAccount: { email: EMAIL, description: 'made by hand', disabled: false, managed: false, clusters: [] }, serviceAccountPolicy: {} };
    const blocked = planGke(facts(), decisions(), foreign);
    expect(blocked.blockers).toEqual([expect.objectContaining({ fix: '--adopt-service-account', hint: expect.stringMatching(/--adopt-service-account/) })]);
    const adopted = planGke(facts(), decisions({ adoptServiceAccount: true }), foreign);
    expect(adopted.blockers).toEqual([]);
    expect(adopted.actions[0]).toMatchObject({ type: 'gcp-service-account', status: 'unchanged', adopt: true });
    expect(adopted.serviceAccount.managed).toBe(false);
  });

  it('blocks on an annotation naming another Google service account', () => {
    const other = 'someone@sandbox-project.iam.gserviceaccount.com';
    const cluster = gkeCluster({ current: { ...nothingInPlace(), central: { ...nothingInPlace().central, serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': other } } } } });
    const plan = planGke(facts([cluster]), decisions(), empty);
    expect(plan.blockers.map((b) => b.message).join(' ')).toContain(other);
    expect(plan.blockers.map((b) => b.hint).join(' ')).toContain('--gcp-service-account someone');
  });

  it('makes the annotation durable in the operator overlay and the Helm values', () => {
    const operator = gkeCluster({ installMethod: 'operator', operatorCrs: { central: { kind: 'Central', name: 'stackrox-central-services', overlays: [] } } });
    const overlay = planGke(facts([operator]), decisions(), empty).actions.find((a) => a.type === 'operator-overlay');
    expect(overlay?.desired).toEqual([{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.iam\\.gke\\.io/gcp-service-account', value: EMAIL }] }]);
    const helm = planGke(facts([gkeCluster({ installMethod: 'helm' })]), decisions(), empty);
    expect(helm.helmValues?.[0]?.values).toEqual({ customize: { other: { 'serviceaccount/central': { annotations: { 'iam.gke.io/gcp-service-account': EMAIL } } } } });
  });

  it('renders its own heading and labels in text, and keeps its fields in JSON', () => {
    const plan = planGke(facts(), decisions(), empty);
    const text = renderPlanText(plan, new Chalk({ level: 0 }));
    expect(text).toMatch(/^Plan for GKE cluster prod · project sandbox-project/);
    expect(text).toContain(`Google service account ${EMAIL}`);
    const doc = JSON.parse(planToJson(plan)) as Record<string, unknown>;
    expect(doc).toMatchObject({ cloud: 'gcp', provider: 'gke', projectId: PROJECT, serviceAccount: { email: EMAIL } });
  });
});

describe('GKE decisions', () => {
  it('takes the project from the flag, else the cluster; the service account from the flag, else the cluster name', () => {
    expect(projectOfRun({}, [gkeCluster()])).toBe(PROJECT);
    expect(projectOfRun({ gcpProject: 'other-project' }, [gkeCluster()])).toBe('other-project');
    expect(() => projectOfRun({}, [gkeCluster({ gke: undefined })])).toThrow(/--gcp-project/);
    expect(serviceAccountIdOf({}, PROJECT, 'prod').accountId).toBe('rhacs-prod');
    expect(serviceAccountIdOf({ gcpServiceAccount: `mine-1@${PROJECT}.iam.gserviceaccount.com` }, PROJECT, 'prod').accountId).toBe('mine-1');
    expect(serviceAccountIdOf({ gcpServiceAccount: 'mine-1@elsewhere-1.iam.gserviceaccount.com' }, PROJECT, 'prod').problems[0]!.source).toBe('--gcp-service-account');
    expect(decideGcp({ garRepositories: [], adoptServiceAccount: false, restart: true }, facts()).delegatedScanning).toBe(false);
  });

  it('verify and status check the account the annotation names when the flag does not say; init keeps the default; the flag wins', () => {
    const named = (email: string) => gkeCluster({ current: { ...nothingInPlace(), central: { ...nothingInPlace().central, serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': email } } } } });
    const base = { garRepositories: [], adoptServiceAccount: false, restart: true };
    const f = facts([named(`rhacs-custom@${PROJECT}.iam.gserviceaccount.com`)]);
    expect(decideGcp({ ...base, command: 'verify' }, f).accountId).toBe('rhacs-custom');
    expect(decideGcp({ ...base, command: 'status' }, f).accountId).toBe('rhacs-custom');
    expect(decideGcp({ ...base, command: 'init' }, f).accountId).toBe('rhacs-prod');
    expect(decideGcp({ ...base, command: 'verify', gcpServiceAccount: 'rhacs-flag' }, f).accountId).toBe('rhacs-flag');
    // Another project's account is not taken: the wiring row names it.
    expect(decideGcp({ ...base, command: 'verify' }, facts([named('x-account@other-project.iam.gserviceaccount.com')])).accountId).toBe('rhacs-prod');
  });
});

describe('GKE detection signals', () => {
  it('knows a GKE issuer, gcloud\'s context name, the auth plugin and a GCE providerID', () => {
    expect(hasSignal('gke', 'issuer', ISSUER)).toBe(true);
    expect(hasSignal('gke', 'issuer', 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC')).toBe(false);
    expect(hasSignal('gke', 'kubeconfig', 'gke_sandbox-project_europe-west1-b_prod')).toBe(true);
    expect(hasSignal('gke', 'kubeconfig', 'arn:aws:eks:eu-west-1:111122223333:cluster/prod')).toBe(false);
    expect(hasSignal('gke', 'kubeconfig-exec', '/usr/lib/google-cloud-sdk/bin/gke-gcloud-auth-plugin')).toBe(true);
    expect(hasSignal('gke', 'node-provider-id', 'gce://sandbox-project/europe-west1-b/gke-prod-default-pool-1')).toBe(true);
    expect(gkeClusterRef({ issuer: ISSUER })).toEqual({ projectId: PROJECT, location: 'europe-west1', name: 'prod' });
    expect(gkeClusterRef({ context: 'gke_sandbox-project_us-central1-a_dev' })).toEqual({ projectId: PROJECT, location: 'us-central1-a', name: 'dev' });
    expect(gkeClusterRef({ context: 'kind-dev' })).toBeUndefined();
  });
});

describe('a GKE fleet: one Central, secured clusters in the same project', () => {
  it('grants each workload identity member once (the workload pool is the project\'s), annotates every cluster, and says so', () => {
    const hub = gkeCluster({ components: ['central', 'sensor'] });
    const spoke = (name: string) => gkeCluster({
      context: `gke_${PROJECT}_europe-west1_${name}`, name, components: ['sensor'],
      issuer: `https://container.googleapis.com/v1/projects/${PROJECT}/locations/europe-west1/clusters/${name}`,
      gke: { projectId: PROJECT, location: 'europe-west1', name, nodePools: ['default-pool'] },
    });
    const plan = planGke(facts([hub, spoke('spoke-1'), spoke('spoke-2')]), decisions({ delegatedScanning: true }), empty);
    expect(plan.grants.filter((g) => g.role === 'roles/iam.workloadIdentityUser').map((g) => g.member)).toEqual([CENTRAL, gkeMember(PROJECT, 'stackrox', 'sensor')]);
    expect(plan.actions.filter((a) => a.type === 'gcp-iam-member')).toHaveLength(3);
    expect(plan.actions.filter((a) => a.type === 'service-account-annotation').map((a) => a.target)).toEqual([
      'gke_sandbox-project_europe-west1_prod: stackrox/serviceaccount/central', 'gke_sandbox-project_europe-west1_prod: stackrox/serviceaccount/sensor',
      'gke_sandbox-project_europe-west1_spoke-1: stackrox/serviceaccount/sensor', 'gke_sandbox-project_europe-west1_spoke-2: stackrox/serviceaccount/sensor',
    ]);
    // The wait proves each cluster's own chain (each has its issuer).
    expect(plan.actions.find((a) => a.type === 'gcp-propagation')).toMatchObject({ probes: [expect.objectContaining({ serviceAccount: 'central' }), expect.objectContaining({ serviceAccount: 'sensor' }), expect.objectContaining({ context: 'gke_sandbox-project_europe-west1_spoke-1' }), expect.objectContaining({ context: 'gke_sandbox-project_europe-west1_spoke-2' })] });
    expect(plan.notes.join(' ')).toMatch(/not by cluster: each roles\/iam\.workloadIdentityUser member here is granted once/);
  });
});
