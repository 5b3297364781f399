import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureStandins, type AzureStandins } from './standins.js';
import { raw } from './test-http.js';
import { WI, type ServiceAccountView } from './webhook.js';

const CLIENT_ID = '0c8f2a8e-1111-4222-8333-444455556666';
const OTHER_TENANT = '9a9a9a9a-1111-4222-8333-444455556666';
const serviceAccounts: Record<string, ServiceAccountView> = {
  'stackrox/central': { metadata: { name: 'central', namespace: 'stackrox', annotations: { [WI.clientIdAnnotation]: CLIENT_ID } } },
  'stackrox/sensor': { metadata: { name: 'sensor', namespace: 'stackrox', annotations: { [WI.clientIdAnnotation]: CLIENT_ID, [WI.tenantIdAnnotation]: OTHER_TENANT, [WI.expirationAnnotation]: '7200' } } },
  'stackrox/plain': { metadata: { name: 'plain', namespace: 'stackrox' } },
};
let az: AzureStandins;

beforeAll(async () => {
  az = await startAzureStandins({ serviceAccount: (ns, name) => serviceAccounts[`${ns}/${name}`] });
});
afterAll(async () => {
  await az.close();
});

let uid = 0;
function pod(o: { sa: string; labelled?: boolean; annotations?: Record<string, string>; containers?: { name: string; env?: { name: string; value: string }[] }[] }) {
  return {
    metadata: { generateName: 'central-', namespace: 'stackrox', labels: { app: 'central', ...(o.labelled === false ? {} : { [WI.useLabel]: 'true' }) }, annotations: o.annotations },
    spec: { serviceAccountName: o.sa, containers: o.containers ?? [{ name: 'central' }], volumes: [{ name: 'central-certs', secret: { secretName: 'central-tls' } }] },
  };
}

async function admit(p: unknown) {
  const id = `uid-${++uid}`;
  const r = await raw(`${az.webhookUrl}/mutate-v1-pod`, {
    ca: az.ca,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: id, namespace: 'stackrox', operation: 'CREATE', object: p } }),
  });
  expect(r.status).toBe(200);
  expect(r.json.response.uid).toBe(id);
  const patch = r.json.response.patch ? (JSON.parse(Buffer.from(r.json.response.patch, 'base64').toString('utf8')) as { op: string; path: string; value: any }[]) : [];
  return { response: r.json.response, patch };
}

describe('workload identity webhook stand-in', () => {
  it('leaves a pod without the azure.workload.identity/use label alone', async () => {
    const { response, patch } = await admit(pod({ sa: 'central', labelled: false }));
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(patch).toEqual([]);
    expect(az.webhookDecisions().at(-1)!.reason).toContain('not labelled');
  });

  it('leaves a labelled pod alone when its service account has no client-id annotation', async () => {
    const { patch } = await admit(pod({ sa: 'plain' }));
    expect(patch).toEqual([]);
  });

  it('injects the variables, the v1.6 mount and the projected token into a labelled pod', async () => {
    const { response, patch } = await admit(pod({ sa: 'central' }));
    expect(response.patchType).toBe('JSONPatch');
    const env = patch.find((p) => p.path === '/spec/containers/0/env')!.value as { name: string; value: string }[];
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_TENANT_ID: az.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/wi/token/azure-identity-token',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
    });
    expect(patch.find((p) => p.path === '/spec/containers/0/volumeMounts')!.value).toEqual([{ name: 'azure-identity-token', mountPath: '/var/run/secrets/azure/wi/token', readOnly: true }]);
    expect(patch.find((p) => p.path === '/spec/volumes/-')!.value).toEqual({
      name: 'azure-identity-token',
      projected: { sources: [{ serviceAccountToken: { path: 'azure-identity-token', expirationSeconds: 3600, audience: 'api://AzureADTokenExchange' } }] },
    });
  });

  it("takes the service account's tenant and expiration, skips listed containers and keeps a container's own variables", async () => {
    const { patch } = await admit(
      pod({
        sa: 'sensor',
        annotations: { [WI.skipContainersAnnotation]: 'sidecar;other' },
        containers: [{ name: 'sensor', env: [{ name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.us/' }] }, { name: 'sidecar' }],
      }),
    );
    const added = patch.filter((p) => p.path === '/spec/containers/0/env/-').map((p) => p.value as { name: string; value: string });
    expect(added.map((e) => e.name)).toEqual(['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE']);
    expect(added.find((e) => e.name === 'AZURE_TENANT_ID')!.value).toBe(OTHER_TENANT);
    expect(patch.some((p) => p.path.startsWith('/spec/containers/1/'))).toBe(false);
    expect(patch.find((p) => p.path === '/spec/volumes/-')!.value.projected.sources[0].serviceAccountToken.expirationSeconds).toBe(7200);
  });

  it('refuses a token expiration outside 3600–86400', async () => {
    const { response } = await admit(pod({ sa: 'central', annotations: { [WI.expirationAnnotation]: '600' } }));
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain('between 3600 and 86400');
  });

  it('generates the MutatingWebhookConfiguration that sends only labelled pods, on CREATE', () => {
    const cfg = az.webhookConfiguration() as { webhooks: Record<string, any>[] };
    const w = cfg.webhooks[0]!;
    expect(w.objectSelector).toEqual({ matchLabels: { 'azure.workload.identity/use': 'true' } });
    expect(w.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }]);
    expect(w.clientConfig.url).toBe(`${az.webhookUrl}/mutate-v1-pod`);
    expect(Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8')).toBe(az.ca.toString('utf8'));
  });
});
