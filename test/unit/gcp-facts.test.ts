// The pure parts of src/clouds/gcp/: account ids and ownership, GKE problems, project names, credentials lookup, error shapes.
import { describe, expect, it } from 'vitest';
import { gkeProblems, type GkeClusterFacts } from '../../src/clouds/gcp/gke.js';
import { projectProblems } from '../../src/clouds/gcp/project.js';
import { accountIdProblems, defaultAccountId, ownershipDescription, ownershipOf } from '../../src/clouds/gcp/service-account.js';
import { credentialsFileCandidates, toGoogleApiError } from '../../src/clouds/gcp/session.js';

describe('service account ids', () => {
  it.each([['abcdef'], [`a${'b'.repeat(28)}c`], ['rhacs-prod-1']])('accepts %j', (id) => {
    expect(accountIdProblems(id)).toEqual([]);
  });
  it.each([
    ['short', /6–30 characters \(it has 5\)/],
    ['a'.repeat(31), /6–30 characters \(it has 31\)/],
    ['1rhacs-central', /start with a lower-case letter/],
    ['rhacs-central-', /not end with a hyphen/],
    ['rhacs_central', /hyphens/],
    ['Rhacs-central', /lower-case/],
  ])('refuses %j', (id, problem) => {
    expect(accountIdProblems(id).join('; ')).toMatch(problem);
  });

  it.each([
    ['prod', 'rhacs-prod'],
    ['Prod_EU.west', 'rhacs-prod-eu-west'],
    ['', 'rhacs-central'],
    ['--', 'rhacs-central'],
    ['a', 'rhacs-a'],
  ])('derives the default for cluster %j: %s', (cluster, id) => {
    expect(defaultAccountId(cluster)).toBe(id);
    expect(accountIdProblems(defaultAccountId(cluster))).toEqual([]);
  });

  it('keeps long cluster names apart within 30 characters', () => {
    const a = defaultAccountId('gke_my-project_europe-west1_production-cluster-a');
    const b = defaultAccountId('gke_my-project_europe-west1_production-cluster-b');
    expect(a).not.toBe(b);
    for (const id of [a, b]) expect(accountIdProblems(id)).toEqual([]);
    expect(a).toMatch(/^rhacs-gke-my-project-[a-z0-9-]*-[0-9a-f]{6}$/);
  });
});

describe('ownership in the description', () => {
  it('records the marker and the clusters, and reads them back', () => {
    const d = ownershipDescription(['prod', 'dev', 'prod']);
    expect(d).toMatch(/\[rhacs-sts\/managed=true; clusters=dev,prod\]$/);
    expect(ownershipOf(d)).toEqual({ managed: true, clusters: ['dev', 'prod'] });
  });
  it('stays within Google\'s 256 characters, keeping the marker', () => {
    const d = ownershipDescription(Array.from({ length: 40 }, (_, i) => `cluster-number-${i}`));
    expect(d.length).toBeLessThanOrEqual(256);
    expect(ownershipOf(d).managed).toBe(true);
  });
  it.each([[undefined], [''], ['RHACS reads images as this account'], ['[rhacs-sts/managed=false]']])('is not ours without the marker: %j', (d) => {
    expect(ownershipOf(d)).toEqual({ managed: false, clusters: [] });
  });
});

describe('GKE problems', () => {
  const cluster: GkeClusterFacts = { projectId: 'p-1', location: 'europe-west1', name: 'prod', workloadPool: 'p-1.svc.id.goog', nodePools: [
    { name: 'default-pool', metadataMode: 'GKE_METADATA' },
    { name: 'legacy', metadataMode: 'GCE_METADATA' },
  ] };

  it('workload identity off: one problem, with the cluster update fix', () => {
    const { workloadPool: _, ...off } = cluster;
    expect(gkeProblems(off)).toEqual([{
      kind: 'workload-identity-off', cluster: 'prod', message: expect.stringMatching(/does not have workload identity enabled/),
      fix: 'gcloud container clusters update prod --location=europe-west1 --project=p-1 --workload-pool=p-1.svc.id.goog',
    }]);
  });

  it('a node pool not on GKE_METADATA: named, with the node pool update fix', () => {
    expect(gkeProblems(cluster)).toEqual([{
      kind: 'node-pool-metadata', cluster: 'prod', nodePool: 'legacy', mode: 'GCE_METADATA', message: expect.stringMatching(/node pool legacy .* GCE_METADATA/),
      fix: 'gcloud container node-pools update legacy --cluster=prod --location=europe-west1 --project=p-1 --workload-metadata=GKE_METADATA',
    }]);
  });

  it('checks only the pools that run RHACS when they are known', () => {
    expect(gkeProblems(cluster, ['default-pool'])).toEqual([]);
    expect(gkeProblems(cluster, ['legacy']).map((p) => p.kind)).toEqual(['node-pool-metadata']);
  });
});

describe('project names', () => {
  it.each([['sandbox-project'], ['123456789012']])('accepts %j', (p) => expect(projectProblems(p)).toEqual([]));
  it.each([['Sandbox'], ['p'], ['0123'], ['project-']])('refuses %j', (p) => expect(projectProblems(p)).toHaveLength(1));
});

describe('credentials lookup', () => {
  it('takes GOOGLE_APPLICATION_CREDENTIALS first, and requires it to exist', () => {
    expect(credentialsFileCandidates({ applicationCredentials: '/k.json', home: '/h' })).toEqual([{ path: '/k.json', source: 'GOOGLE_APPLICATION_CREDENTIALS', required: true }]);
  });
  it('then gcloud\'s file: CLOUDSDK_CONFIG, else ~/.config/gcloud, optional', () => {
    expect(credentialsFileCandidates({ cloudsdkConfig: '/c', home: '/h' })).toEqual([{ path: '/c/application_default_credentials.json', source: 'gcloud application-default login', required: false }]);
    expect(credentialsFileCandidates({ home: '/h' })[0]!.path).toBe('/h/.config/gcloud/application_default_credentials.json');
    expect(credentialsFileCandidates({})).toEqual([]);
  });
});

describe('Google errors', () => {
  it('keeps Google\'s status and message', () => {
    const e = toGoogleApiError({ name: 'iam.x' }, 'https://iam.example/v1', 1000, { response: { status: 409, data: { error: { code: 409, status: 'ABORTED', message: 'There were concurrent policy changes.' } } } });
    expect({ status: e.httpStatus, google: e.status, message: e.message }).toEqual({ status: 409, google: 'ABORTED', message: 'iam.x: There were concurrent policy changes.' });
  });
  it('names the endpoint and the bound when no answer came', () => {
    const e = toGoogleApiError({ name: 'iam.x' }, 'https://iam.example/v1', 1000, Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }));
    expect(e.httpStatus).toBe(0);
    expect(e.message).toBe('iam.x: no complete answer from https://iam.example within 1000 ms');
  });
});
