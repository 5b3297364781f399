// verify's line for an Artifact Registry or Azure integration: Central tests ours (stored
// credentials), else the one init would create; a failure names the broken link. Central's client
// is a fake here (the real one is tested against the sandbox).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CentralClient } from '../../src/central/client.js';
import { CentralApiError } from '../../src/central/client.js';
import { centralKindTestRow, readCentral, recordOf } from '../../src/central/flow.js';
import { integrationFor } from '../../src/central/kinds.js';
import { parseOptions } from '../../src/options/options.js';
import type { ClusterFacts } from '../../src/plan/model.js';
import type { KubeSession } from '../../src/kube/session.js';
import { createMemoryUi } from '../../src/ui/memory.js';

let client: CentralClient;
vi.mock('../../src/central/client.js', async (original) => ({
  ...(await original<typeof import('../../src/central/client.js')>()),
  openCentral: async () => client,
}));

const gar = { project: 'rhacs-images', location: 'us-central1' };
const ours = { ...integrationFor('artifactregistry', gar), id: 'g-1', name: 'ours' };
const cluster = (annotations: Record<string, string> = {}) => ({ namespace: 'stackrox', current: { central: { serviceAccount: { annotations } } } }) as unknown as ClusterFacts;
const options = parseOptions('verify', {}, { ROX_API_TOKEN: 'token' });
const ctx = { identity: 'rhacs@rhacs-images.iam.gserviceaccount.com', initCommand: 'rhacs-sts init --configure-integration' };

function fake(over: Partial<CentralClient> = {}): CentralClient {
  return {
    via: 'port-forward to stackrox/svc/central',
    capabilities: vi.fn(async () => ({ centralScanningCanUseContainerIamRoleForEcr: 'CapabilityDisabled' })),
    metadata: vi.fn(async () => ({ version: '4.7.2' })),
    integrations: vi.fn(async () => [ours]),
    test: vi.fn(async () => undefined),
    testUpdated: vi.fn(async () => undefined),
    create: vi.fn(),
    update: vi.fn(),
    remove: vi.fn(),
    ...over,
  } as CentralClient;
}

beforeEach(() => {
  client = fake();
});

describe('reading Central for a kind', () => {
  it('reads the kind\'s own record, and asks for ECR\'s capability only for ECR', async () => {
    const target = { cluster: cluster({ 'rhacs-sts/artifactregistry-integration': '{"id":"g-1","created":true}', 'rhacs-sts/ecr-integration': '{"id":"e-1"}' }), kube: {} as KubeSession };
    const state = await readCentral(options, target, createMemoryUi(), 'artifactregistry');
    expect(state.record).toEqual({ id: 'g-1', created: true });
    expect(client.capabilities).not.toHaveBeenCalled();
    expect(recordOf(target.cluster)).toEqual({ id: 'e-1' });
    await expect(readCentral(options, target, createMemoryUi())).rejects.toThrow(/managed Central/);
  });
});

describe('centralKindTestRow', () => {
  it('tests ours with its stored settings and passes', async () => {
    const target = { cluster: cluster({ 'rhacs-sts/artifactregistry-integration': '{"id":"g-1","created":true}' }), kube: {} as KubeSession };
    const row = await centralKindTestRow(options, 'artifactregistry', gar, target, createMemoryUi(), ctx);
    expect(row).toMatchObject({ result: 'pass', check: "Central's Artifact Registry test", detail: expect.stringContaining('"ours"') });
    expect(client.testUpdated).toHaveBeenCalledWith(ours);
  });

  it('without one, tests the integration init would create; a failure names the broken link', async () => {
    client = fake({
      integrations: vi.fn(async () => []),
      test: vi.fn(async () => {
        throw new CentralApiError(400, 3, "registry integration: Get \"https://us-central1-docker.pkg.dev/v2/\": oauth2/google/externalaccount: status code 403: Permission 'iam.serviceAccounts.getAccessToken' denied: invalid arguments", 'the test');
      }),
    });
    const row = await centralKindTestRow(options, 'artifactregistry', gar, { cluster: cluster(), kube: {} as KubeSession }, createMemoryUi(), ctx);
    expect(client.test).toHaveBeenCalledWith(integrationFor('artifactregistry', gar));
    expect(row).toMatchObject({ result: 'fail', detail: expect.stringMatching(/^Broken link: binding\. .*rhacs@rhacs-images/), fix: ctx.initCommand });
  });
});
