// Central's test of an Artifact Registry or Azure integration, as init applies it: saved only after
// the test passes, the broken link named when it fails, and the record kept under the kind's own
// annotation on Central's service account (ECR's as before).
import { describe, expect, it, vi } from 'vitest';
import { CentralApiError, type CentralClient } from '../../src/central/client.js';
import { applyIntegration } from '../../src/central/flow.js';
import { explainKindTestFailure } from '../../src/central/kind-failures.js';
import { integrationFor, planKindIntegration } from '../../src/central/kinds.js';
import { planIntegration, type FailureContext, type ImageIntegration } from '../../src/central/integration.js';
import type { KubeSession } from '../../src/kube/session.js';
import type { ClusterFacts } from '../../src/plan/model.js';

const ctx = { namespace: 'stackrox', identity: 'rhacs@p.iam.gserviceaccount.com', initCommand: 'rhacs-sts init --configure-integration' };

describe('explainKindTestFailure', () => {
  it.each([
    ['artifactregistry', 'registry integration: Get "https://us-docker.pkg.dev/v2/": oauth2/google/externalaccount: status code 403: {"error":{"message":"Permission \'iam.serviceAccounts.getAccessToken\' denied"}}: invalid arguments', 'binding'],
    ['artifactregistry', 'registry integration: Get "https://us-docker.pkg.dev/v2/": oauth2/google/externalaccount: status code 400: {"error":"invalid_target"}: invalid arguments', 'audience or project number'],
    ['artifactregistry', 'registry integration: Get "https://us-docker.pkg.dev/v2/": oauth2/google/externalaccount: status code 400: {"error":"invalid_grant","error_description":"Invalid JWT signature."}: invalid arguments', 'provider'],
    ['artifactregistry', 'registry integration: Get "https://us-docker.pkg.dev/v2/": google: could not find default credentials. See …: invalid arguments', 'wiring'],
    ['artifactregistry', 'registry integration: Get "https://us-docker.pkg.dev/v2/": compute: Received 403 `Unable to generate access token; IAM returned 403`: invalid arguments', 'binding'],
    ['azure', 'registry integration: Get "https://r.azurecr.io/v2/": getting Azure access token: WorkloadIdentityCredential authentication failed. POST https://login.microsoftonline.com/t/oauth2/v2.0/token RESPONSE 400: invalid_request: AADSTS70021: No matching federated identity record found: invalid arguments', 'federated credential'],
    ['azure', 'registry integration: Get "https://r.azurecr.io/v2/": getting Azure access token: DefaultAzureCredential: failed to acquire a token. … WorkloadIdentityCredential: no client ID specified: invalid arguments', 'wiring'],
    ['azure', 'registry integration: error testing integration (code: 401). Please check Central logs for full error: invalid arguments', 'permissions'],
    ['azure', 'something Central never says', 'Central\'s test'],
  ] as const)('%s: %s → %s', (kind, message, link) => {
    const f = explainKindTestFailure(kind, message, ctx);
    expect(f.link).toBe(link);
    expect(f.detail).toContain(message);
    expect(f.fix).not.toBe('');
  });

  it('names the identity in the links that are about it', () => {
    expect(explainKindTestFailure('azure', 'AADSTS70021', { ...ctx, identity: '0c8f2a8e-client' }).detail).toContain('0c8f2a8e-client');
  });
});

function fakeClient(testError?: Error) {
  const calls: string[] = [];
  const client = {
    via: 'test',
    test: vi.fn(async () => {
      calls.push('test');
      if (testError) throw testError;
    }),
    testUpdated: vi.fn(async () => void calls.push('testUpdated')),
    create: vi.fn(async (i) => {
      calls.push('create');
      return { ...i, id: 'new-id' };
    }),
    update: vi.fn(async () => void calls.push('update')),
    remove: vi.fn(async () => void calls.push('remove')),
  } as unknown as CentralClient;
  return { client, calls };
}

function fakeKube() {
  const patches: { name: string; body: { metadata: { annotations: Record<string, string | null> } } }[] = [];
  const kube = { api: { call: (_c: unknown, f: () => unknown) => f(), core: { patchNamespacedServiceAccount: async (p: (typeof patches)[number]) => void patches.push(p) } } } as unknown as KubeSession;
  return { kube, patches };
}

const failure: FailureContext = { cluster: { namespace: 'stackrox' } as ClusterFacts, roleArn: '', identity: '0c8f2a8e-client', initCommand: 'rhacs-sts init --configure-integration', wired: true };
const ref = { namespace: 'stackrox', name: 'central' };

describe('applyIntegration by kind', () => {
  it('saves an Azure integration only after Central\'s test passes, recording it under its own annotation', async () => {
    const { action } = planKindIntegration({ kind: 'azure', inputs: { registry: 'rhacsimages' }, integrations: [], adopt: false, ref });
    const { client, calls } = fakeClient();
    const { kube, patches } = fakeKube();
    await applyIntegration(action, { client, kube, failure });
    expect(calls).toEqual(['test', 'create']);
    expect(client.test).toHaveBeenCalledWith(integrationFor('azure', { registry: 'rhacsimages' }));
    expect(patches).toEqual([expect.objectContaining({ name: 'central', body: { metadata: { annotations: { 'rhacs-sts/azure-integration': JSON.stringify({ id: 'new-id', created: true }) } } } })]);
  });

  it('names the broken link when Central\'s test fails, and saves nothing', async () => {
    const { action } = planKindIntegration({ kind: 'azure', inputs: { registry: 'rhacsimages' }, integrations: [], adopt: false, ref });
    const { client, calls } = fakeClient(new CentralApiError(400, 3, 'registry integration: …: AADSTS70021: No matching federated identity record found: invalid arguments', 'the test of the integration'));
    const { kube, patches } = fakeKube();
    await expect(applyIntegration(action, { client, kube, failure })).rejects.toThrow(/Central's test of the Azure Container Registry integration failed — broken link: federated credential\. .*0c8f2a8e-client/);
    expect(calls).toEqual(['test']);
    expect(patches).toEqual([]);
  });

  it('moves ours (no secret stored) to another location with updatePassword, which Central needs for that; adopts with the stored secret kept', async () => {
    const ours: ImageIntegration = { ...integrationFor('artifactregistry', { project: 'rhacs-images', location: 'us-central1' }), id: 'g-1' };
    const moved = planKindIntegration({ kind: 'artifactregistry', inputs: { project: 'rhacs-images', location: 'europe-west4' }, integrations: [ours], record: { id: 'g-1', created: true }, adopt: false, ref });
    expect(moved.action).toMatchObject({ op: 'update', integration: { google: { endpoint: 'europe-west4-docker.pkg.dev' } } });
    const { client } = fakeClient();
    const { kube } = fakeKube();
    await applyIntegration(moved.action, { client, kube, failure });
    expect(client.testUpdated).toHaveBeenCalledWith({ ...moved.action.integration, id: 'g-1' }, { updatePassword: true });
    expect(client.update).toHaveBeenCalledWith({ ...moved.action.integration, id: 'g-1' }, { updatePassword: true });

    const keyed: ImageIntegration = { id: 'k-1', name: 'team', type: 'artifactregistry', categories: ['REGISTRY'], google: { endpoint: 'us-central1-docker.pkg.dev', project: 'rhacs-images', serviceAccount: '******' } };
    const adopted = planKindIntegration({ kind: 'artifactregistry', inputs: { project: 'rhacs-images', location: 'us-central1' }, integrations: [keyed], adopt: true, ref });
    const second = fakeClient();
    await applyIntegration(adopted.action, { client: second.client, kube, failure });
    expect(second.client.update).toHaveBeenCalledWith({ ...adopted.action.integration, id: 'k-1' });
  });

  it('keeps ECR\'s record where it always was', async () => {
    const { action } = planIntegration({ wanted: { registryId: '111122223333', region: 'eu-west-1' }, integrations: [], adopt: false, ref });
    const { client } = fakeClient();
    const { kube, patches } = fakeKube();
    await applyIntegration(action, { client, kube, failure });
    expect(Object.keys(patches[0]!.body.metadata.annotations)).toEqual(['rhacs-sts/ecr-integration']);
  });
});
