// The pure parts of verify and Central's integration on GKE: the report's tally, and the registry the
// Artifact Registry integration points at.
import { describe, expect, it } from 'vitest';
import { gcpReport } from '../../src/clouds/gcp/verify-gke.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import { artifactRegistryInputs } from '../../src/steps/cloud-central.js';

const cluster = (location: string): ClusterFacts => ({
  provider: 'gke', issuer: 'https://container.googleapis.com/v1/projects/p/locations/l/clusters/c', namespace: 'stackrox',
  components: ['central'], installMethod: 'manifests', gke: { projectId: 'sandbox-project', location, name: 'c' },
});

describe('verify report on Google Cloud', () => {
  const base = { projectId: 'p', projectNumber: '1', serviceAccount: { email: 'a@p.iam.gserviceaccount.com', exists: true }, clusters: [] };
  it('is ok with passes and warnings, and counts each result', () => {
    const r = gcpReport(base, [{ id: 'a', check: 'A', result: 'pass', detail: '' }, { id: 'b', check: 'B', result: 'warn', detail: '' }]);
    expect(r).toMatchObject({ ok: true, cloud: 'gcp', summary: { pass: 1, warn: 1, fail: 0 } });
  });
  it('is not ok with one failure', () => {
    const r = gcpReport(base, [{ id: 'a', check: 'A', result: 'pass', detail: '' }, { id: 'b', check: 'B', result: 'fail', detail: '', fix: 'f' }]);
    expect(r).toMatchObject({ ok: false, summary: { pass: 1, warn: 0, fail: 1 } });
  });
});

describe('the Artifact Registry integration\'s registry on GKE', () => {
  it.each([
    ['europe-west1', [], 'europe-west1'],
    ['europe-west1-b', [], 'europe-west1'],
    ['us-central1-a', [{ location: 'us', repository: 'images' }], 'us'],
  ])('cluster in %s, --gar-repository %j → location %s', (location, garRepositories, expected) => {
    expect(artifactRegistryInputs({ garRepositories, integrationName: undefined }, 'sandbox-project', cluster(location))).toEqual({ project: 'sandbox-project', location: expected });
  });
  it('takes --integration-name', () => {
    expect(artifactRegistryInputs({ garRepositories: [], integrationName: 'mine' }, 'p-project', cluster('europe-west1')).name).toBe('mine');
  });
});
