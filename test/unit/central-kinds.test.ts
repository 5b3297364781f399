// Central's integration kinds as data: the builders for Artifact Registry and Azure Container
// Registry, the "in place" comparison, and the converging plan with the ECR integration's rules
// (ours by the record, another one adopted only with consent, Sensor's left alone, undo).
import { describe, expect, it } from 'vitest';
import { desiredIntegration, type ImageIntegration } from '../../src/central/integration.js';
import { aws } from '../../src/clouds/aws/cloud.js';
import {
  artifactRegistryEndpoint,
  azureRegistryEndpoint,
  differences,
  holdsNoSecret,
  INTEGRATION_KINDS,
  inPlace,
  integrationFor,
  kindOfType,
  planKindIntegration,
  planKindRemoval,
  sameRegistry,
} from '../../src/central/kinds.js';

const ref = { namespace: 'stackrox', name: 'central' };
const gar = { project: 'rhacs-images', location: 'us-central1' };
const acr = { registry: 'rhacsimages' };

describe('integration kinds as data', () => {
  it('names each kind\'s Central type and identity field, as the clouds declare them', () => {
    expect(Object.values(INTEGRATION_KINDS).map((k) => [k.kind.type, k.kind.identityField])).toEqual([
      ['ecr', 'ecr.useIam'],
      ['artifactregistry', 'google.wifEnabled'],
      ['azure', 'azure.wifEnabled'],
    ]);
    expect(kindOfType('azure')?.id).toBe('azure');
    // What a cloud declares is its kind's entry here.
    expect(kindOfType(aws.integration.type)?.kind).toEqual(aws.integration);
    expect(kindOfType('docker')).toBeUndefined();
  });

  it('builds the ECR integration exactly as before', () => {
    const w = { registryId: '111122223333', region: 'eu-west-1', assumeRole: { name: 'reader', externalId: 'x' } };
    expect(integrationFor('ecr', w)).toEqual(desiredIntegration(w));
  });

  it('builds an Artifact Registry integration: type artifactregistry, google.wifEnabled, <location>-docker.pkg.dev and the project', () => {
    expect(integrationFor('artifactregistry', gar)).toEqual({
      name: 'Google Artifact Registry us-central1-docker.pkg.dev/rhacs-images (rhacs-sts)',
      type: 'artifactregistry',
      categories: ['REGISTRY'],
      google: { endpoint: 'us-central1-docker.pkg.dev', project: 'rhacs-images', wifEnabled: true },
    });
    expect(integrationFor('artifactregistry', { ...gar, name: 'GAR' }).name).toBe('GAR');
    expect(artifactRegistryEndpoint('Europe ')).toBe('europe-docker.pkg.dev');
  });

  it('builds an Azure integration in the 4.7+ shape: type azure, azure.wifEnabled, <registry>.azurecr.io, no secret', () => {
    expect(integrationFor('azure', acr)).toEqual({
      name: 'Azure Container Registry rhacsimages.azurecr.io (rhacs-sts)',
      type: 'azure',
      categories: ['REGISTRY'],
      azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: true },
    });
    expect(azureRegistryEndpoint('https://RhacsImages.azurecr.io/')).toBe('rhacsimages.azurecr.io');
    expect(azureRegistryEndpoint('rhacsimages', 'azurecr.us')).toBe('rhacsimages.azurecr.us');
  });

  it('names every problem of the inputs at once', () => {
    expect(INTEGRATION_KINDS.artifactregistry.problems({ project: 'P', location: 'us_central1' }).map((p) => p.source)).toEqual(['project', 'location']);
    expect(INTEGRATION_KINDS.artifactregistry.problems(gar)).toEqual([]);
    expect(INTEGRATION_KINDS.azure.problems({ registry: 'ab' })).toEqual([{ source: 'registry', message: expect.stringContaining('5–50 letters and digits') }]);
    expect(INTEGRATION_KINDS.azure.problems({ registry: 'rhacsimages.azurecr.io' })).toEqual([]);
  });
});

describe('in place', () => {
  const want = integrationFor('artifactregistry', gar);

  it('is in place when the compared fields match (endpoint case aside; the name is not compared)', () => {
    const cur: ImageIntegration = { ...want, id: 'g-1', name: 'other name', google: { endpoint: 'US-CENTRAL1-docker.pkg.dev', project: 'rhacs-images', wifEnabled: true, serviceAccount: '' } };
    expect(inPlace('artifactregistry', cur, want)).toBe(true);
  });

  it('names what differs: the identity switch, the project, the type', () => {
    const cur: ImageIntegration = { ...want, type: 'google', google: { endpoint: 'us-central1-docker.pkg.dev', project: 'other-project', serviceAccount: '******' } };
    expect(differences('artifactregistry', cur, want)).toEqual(['type', 'google.project', 'google.wifEnabled']);
    const az = integrationFor('azure', acr);
    expect(differences('azure', { ...az, azure: { endpoint: 'rhacsimages.azurecr.io', username: 'u', password: '******' } }, az)).toEqual(['azure.wifEnabled']);
  });

  it('tells an integration that holds no secret (set secrets come back "******")', () => {
    expect(holdsNoSecret(want)).toBe(true);
    expect(holdsNoSecret({ ...want, google: { ...want.google, serviceAccount: '******' } })).toBe(false);
    expect(holdsNoSecret({ ...integrationFor('azure', acr), azure: { endpoint: 'rhacsimages.azurecr.io', password: '******' } })).toBe(false);
    expect(holdsNoSecret({ ...want, type: 'quay' })).toBe(false);
  });

  it('tells the same registry by type and endpoint (and project for Google)', () => {
    expect(sameRegistry('artifactregistry', { ...want, google: { ...want.google, wifEnabled: false } }, want)).toBe(true);
    expect(sameRegistry('artifactregistry', { ...want, google: { ...want.google, project: 'x-project' } }, want)).toBe(false);
    expect(sameRegistry('artifactregistry', { ...want, type: 'google' }, want)).toBe(false);
  });
});

describe('planKindIntegration', () => {
  const keyed = (over: Partial<ImageIntegration> = {}): ImageIntegration => ({
    id: 'a-1', name: 'team ACR', type: 'azure', categories: ['REGISTRY'], azure: { endpoint: 'rhacsimages.azurecr.io', username: 'puller', password: '******' }, ...over,
  });

  it('creates one when Central has none for the registry', () => {
    const p = planKindIntegration({ kind: 'artifactregistry', inputs: gar, integrations: [], adopt: false, ref });
    expect(p.blockers).toEqual([]);
    expect(p.action).toMatchObject({ status: 'create', op: 'create', integration: integrationFor('artifactregistry', gar) });
    expect(p.action.summary).toContain("once Central's test of it passes");
  });

  it('keeps ours when it is in place, and updates ours when it drifted', () => {
    const ours: ImageIntegration = { ...integrationFor('azure', acr), id: 'ours' };
    const same = planKindIntegration({ kind: 'azure', inputs: acr, integrations: [ours], record: { id: 'ours', created: true }, adopt: false, ref });
    expect(same.action).toMatchObject({ status: 'unchanged', integrationId: 'ours' });
    const drifted = { ...ours, azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: false } };
    const upd = planKindIntegration({ kind: 'azure', inputs: acr, integrations: [drifted], record: { id: 'ours', created: true }, adopt: false, ref });
    expect(upd.action).toMatchObject({ status: 'update', op: 'update', integration: { azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: true } } });
  });

  it('blocks on another one for the registry that holds secrets, naming --adopt-integration; adopts with it, recording the way back', () => {
    const blocked = planKindIntegration({ kind: 'azure', inputs: acr, integrations: [keyed()], adopt: false, ref });
    expect(blocked.blockers).toEqual([expect.objectContaining({ fix: '--adopt-integration', message: expect.stringContaining('a username and password') })]);
    const adopted = planKindIntegration({ kind: 'azure', inputs: acr, integrations: [keyed()], adopt: true, ref });
    expect(adopted.blockers).toEqual([]);
    expect(adopted.action).toMatchObject({ op: 'adopt', integrationId: 'a-1', record: { id: 'a-1', previous: { wifEnabled: false } } });
    // The stored secret is not sent back: the scrubbed value goes as Central returned it, and Central keeps its own.
    expect(adopted.action.integration.azure).toEqual({ endpoint: 'rhacsimages.azurecr.io', username: 'puller', password: '******', wifEnabled: true });
    expect(adopted.action.integration.name).toBe('team ACR');
  });

  it('leaves one that already uses the pod identity, and Sensor\'s autogenerated ones, alone', () => {
    const theirs = keyed({ azure: { endpoint: 'rhacsimages.azurecr.io', wifEnabled: true } });
    expect(planKindIntegration({ kind: 'azure', inputs: acr, integrations: [theirs], adopt: false, ref }).action).toMatchObject({ status: 'unchanged', integrationId: 'a-1' });
    const auto = keyed({ autogenerated: true, id: 'auto' });
    const p = planKindIntegration({ kind: 'azure', inputs: acr, integrations: [auto], adopt: false, ref });
    expect(p.action).toMatchObject({ status: 'create' });
    expect(p.notes.join(' ')).toContain('autogenerated');
  });

  it('blocks a create whose name another integration has', () => {
    const p = planKindIntegration({ kind: 'artifactregistry', inputs: { ...gar, name: 'team' }, integrations: [keyed({ name: 'team' })], adopt: false, ref });
    expect(p.blockers).toEqual([expect.objectContaining({ hint: expect.stringContaining('--integration-name') })]);
  });
});

describe('planKindRemoval', () => {
  const cur: ImageIntegration = { id: 'g-1', name: 'gar', type: 'artifactregistry', categories: ['REGISTRY'], google: { endpoint: 'us-central1-docker.pkg.dev', project: 'rhacs-images', wifEnabled: true, serviceAccount: '******' } };

  it('deletes ours, switches an adopted one back, forgets a vanished one', () => {
    expect(planKindRemoval({ kind: 'artifactregistry', integrations: [cur], record: { id: 'g-1', created: true }, ref })).toMatchObject({ op: 'delete', integrationId: 'g-1', record: null });
    const back = planKindRemoval({ kind: 'artifactregistry', integrations: [cur], record: { id: 'g-1', previous: { wifEnabled: false } }, ref });
    expect(back).toMatchObject({ op: 'restore', integration: { google: { wifEnabled: false, serviceAccount: '******' } } });
    expect(planKindRemoval({ kind: 'artifactregistry', integrations: [], record: { id: 'g-1', created: true }, ref })).toMatchObject({ op: 'forget', record: null });
  });
});
