// init's questions on GKE (questions.ts), with a scripted Ui: only what the flags left open, each
// with its default; a bad answer is refused with the flag's own check and asked again.
import { describe, expect, it } from 'vitest';
import { askGcp } from '../../src/clouds/gcp/questions.js';
import { createMemoryUi, DEFAULT } from '../../src/ui/memory.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import { clusterFacts, nothingInPlace } from './builders.js';

const cluster = (components: ClusterFacts['components']): ClusterFacts => clusterFacts({
  provider: 'gke', issuer: 'https://container.googleapis.com/v1/projects/p-project/locations/europe-west1/clusters/prod', components,
  gke: { projectId: 'p-project', location: 'europe-west1', name: 'prod' }, current: nothingInPlace(),
});
const none = { garRepositories: [], adoptServiceAccount: false, restart: true, sensorContexts: [] as string[] };

describe('init\'s questions on GKE', () => {
  it('asks the account (default from the cluster), delegated scanning where Sensor runs, and the registry scope', async () => {
    const ui = createMemoryUi({ interactive: true, answers: ['Bad_Name', 'rhacs-team', true, 'repositories', 'nowhere', 'europe-west1/images, us/shared'] });
    const answers = await askGcp(none, [cluster(['central', 'sensor'])], ui);
    expect(answers).toEqual({ gcpServiceAccount: 'rhacs-team', delegatedScanning: true, garRepositories: [{ location: 'europe-west1', repository: 'images' }, { location: 'us', repository: 'shared' }] });
    expect(ui.asked.map((q) => [q.kind, q.default])).toEqual([['input', 'rhacs-prod'], ['confirm', false], ['select', 'project'], ['input', undefined]]);
    expect(ui.asked[0]!.errors).toEqual([expect.stringMatching(/must start with a lower-case letter/)]);
    expect(ui.asked[3]!.errors).toEqual([expect.stringMatching(/is not <location>\/<repository>/)]);
  });

  it('asks nothing the flags answered; Enter takes the project-wide default', async () => {
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT] });
    const answers = await askGcp({ ...none, gcpServiceAccount: 'rhacs-given' }, [cluster(['central'])], ui);
    expect(answers).toEqual({});
    expect(ui.asked.map((q) => q.message)).toEqual([expect.stringMatching(/^Which Artifact Registry repositories may RHACS read\?/)]);
  });
});
