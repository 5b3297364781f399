// The cloud and platform seam: a cloud states what the pods need (PodWiring), a platform says where
// it goes (service account, pod template, container env) and keeps it durable (operator overlays,
// Helm values). The shapes the next clouds need (an annotation plus a pod label on AKS, env on
// OpenShift) go through the same functions.
import { describe, expect, it } from 'vitest';
import { CLOUD_IDS, cloudFor, cloudOfRun, loadCloud } from '../../src/clouds/registry.js';
import { PLATFORM_IDS, platform } from '../../src/platforms/registry.js';
import { operatorOverlays } from '../../src/plan/build.js';

const ARN = 'arn:aws:iam::123456789012:role/rhacs';

describe('cloud and platform registry', () => {
  it('lists AWS, Google Cloud, Azure and their platforms, and pairs each platform with its cloud', () => {
    expect(CLOUD_IDS).toEqual(['aws', 'gcp', 'azure']);
    expect(cloudFor('aks')).toBe('azure');
    expect(cloudFor('openshift', 'Azure')).toBe('azure');
    expect(PLATFORM_IDS).toEqual(['eks', 'openshift', 'gke', 'aks']);
    expect(cloudFor('eks')).toBe('aws');
    expect(cloudFor('gke')).toBe('gcp');
    expect(cloudFor('openshift')).toBe('aws');
    expect(cloudFor('openshift', 'AWS')).toBe('aws');
    expect(cloudFor('openshift', 'GCP')).toBe('gcp');
    expect(cloudFor('openshift', 'BareMetal')).toBeUndefined();
  });

  it('picks the cloud of a run from --provider, --cloud or a GKE-shaped kubeconfig, else leaves it to detection', () => {
    expect(cloudOfRun({ provider: 'gke' })).toBe('gcp');
    expect(cloudOfRun({ provider: 'eks' })).toBe('aws');
    expect(cloudOfRun({ provider: 'openshift', cloud: 'gcp' })).toBe('gcp');
    expect(cloudOfRun({ kubeconfigPlatform: 'gke' })).toBe('gcp');
    expect(cloudOfRun({ provider: 'aks' })).toBe('azure');
    expect(cloudOfRun({ kubeconfigPlatform: 'aks' })).toBe('azure');
    expect(cloudOfRun({})).toBeUndefined();
  });

  it('loads Google Cloud on demand, with its GKE wiring and integration type', async () => {
    const gcp = await loadCloud('gcp');
    expect(gcp.id).toBe('gcp');
    expect(gcp.integration.type).toBe('artifactregistry');
    expect(gcp.isAction({ type: 'gcp-iam-member' })).toBe(true);
    expect(gcp.isAction({ type: 'service-account-annotation' })).toBe(false);
    expect(gcp.wiring('gke', 'rhacs-c@p.iam.gserviceaccount.com')).toEqual({ serviceAccountAnnotations: { 'iam.gke.io/gcp-service-account': 'rhacs-c@p.iam.gserviceaccount.com' } });
  });

  it('loads the AWS cloud on demand, with its audiences, wiring and integration type', async () => {
    const aws = await loadCloud('aws');
    expect(aws.id).toBe('aws');
    expect(aws.audience('eks')).toBe('sts.amazonaws.com');
    expect(aws.audience('openshift')).toBe('openshift');
    expect(aws.integration.type).toBe('ecr');
    expect(aws.isAction({ type: 'trust-policy' })).toBe(true);
    expect(aws.isAction({ type: 'service-account-annotation' })).toBe(false);
    expect(aws.wiring('eks', ARN)).toEqual({ serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ARN } });
    expect(aws.wiring('openshift', ARN).env).toEqual([
      { name: 'AWS_ROLE_ARN', value: ARN },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/openshift/serviceaccount/token' },
    ]);
  });
});

describe('platform wiring', () => {
  it('keeps an IRSA annotation in a ServiceAccount overlay and the chart\'s serviceaccount values (EKS)', () => {
    expect(operatorOverlays('eks', 'central', ARN)).toEqual([
      { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.eks\\.amazonaws\\.com/role-arn', value: ARN }] },
    ]);
    expect(platform('eks').helmValues('sensor', { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ARN } }))
      .toEqual({ customize: { other: { 'serviceaccount/sensor': { annotations: { 'eks.amazonaws.com/role-arn': ARN } } } } });
  });

  it('keeps env in Deployment overlays, in order, and in the component\'s envVars (OpenShift)', () => {
    expect(operatorOverlays('openshift', 'sensor', ARN)).toEqual([{
      apiVersion: 'apps/v1', kind: 'Deployment', name: 'sensor',
      patches: [
        { path: 'spec.template.spec.containers[name:sensor].env[-1]', value: `name: AWS_ROLE_ARN\nvalue: ${ARN}\n` },
        { path: 'spec.template.spec.containers[name:sensor].env[-1]', value: 'name: AWS_WEB_IDENTITY_TOKEN_FILE\nvalue: /var/run/secrets/openshift/serviceaccount/token\n' },
      ],
    }]);
    expect(platform('openshift').helmValues('central', { env: [{ name: 'A', value: '1' }] })).toEqual({ customize: { central: { envVars: { A: '1' } } } });
    expect(platform('openshift').restart.method).toBe('rollout');
    expect(platform('eks').restart.method).toBe('restartedAt');
  });

  it('carries an annotation and a pod label together (the shape AKS needs) to both objects', () => {
    const w = { serviceAccountAnnotations: { 'azure.workload.identity/client-id': 'c' }, podLabels: { 'azure.workload.identity/use': 'true' } };
    expect(platform('eks').operatorOverlays('central', w)).toEqual([
      { apiVersion: 'v1', kind: 'ServiceAccount', name: 'central', patches: [{ path: 'metadata.annotations.azure\\.workload\\.identity/client-id', value: 'c' }] },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'central', patches: [{ path: 'spec.template.metadata.labels.azure\\.workload\\.identity/use', value: '"true"' }] },
    ]);
    expect(platform('eks').helmValues('central', w)).toEqual({
      customize: { other: { 'serviceaccount/central': { annotations: { 'azure.workload.identity/client-id': 'c' } } }, central: { podLabels: { 'azure.workload.identity/use': 'true' } } },
    });
  });

  it('recognises EKS by its issuer, API server and nodes', () => {
    const signal = (source: string) => platform('eks').signals.find((s) => s.source === source)!.pattern as RegExp;
    expect(signal('issuer').test('https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789')).toBe(true);
    expect(signal('issuer').test('https://container.googleapis.com/v1/projects/p/locations/l/clusters/c')).toBe(false);
    expect(signal('api-server').test('ABC.gr7.eu-west-1.eks.amazonaws.com')).toBe(true);
    expect(signal('node-provider-id').test('aws:///eu-west-1a/i-0123')).toBe(true);
  });
});
