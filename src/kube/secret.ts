/**
 * A credentials Secret a component reads (OpenShift on Google Cloud: `gcp-cloud-credentials`, key
 * `credentials`, the `external_account` configuration Central watches). rhacs-sts marks the ones it
 * writes with the label app.kubernetes.io/managed-by=rhacs-sts; one without it is someone else's:
 * its data is never read into a plan or printed, and it is replaced only when the action says
 * `adopt` (--adopt-credentials-secret). Writes carry the resourceVersion read, so a concurrent
 * change is a conflict, re-read and retried (bounded). Delete: only ours, with its resourceVersion.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { OperationError } from '../errors.js';
import { MANAGED_BY, MANAGED_BY_LABEL, type CredentialsSecretState } from '../plan/credentials-secret.js';
import { FIELD_MANAGER, type KubeApi } from './api.js';
import type { KubeCall } from './errors.js';
import type { KubeAction } from './session.js';

type SecretAction = Extract<KubeAction, { type: 'credentials-secret' }>;

const isOurs = (s: V1Secret): boolean => s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
const valueOf = (s: V1Secret, key: string): string | undefined => {
  const b64 = s.data?.[key];
  return b64 === undefined ? s.stringData?.[key] : Buffer.from(b64, 'base64').toString('utf8');
};

function readSecret(api: KubeApi, namespace: string, name: string): Promise<V1Secret | null> {
  return api.optional({ verb: 'get', group: '', resource: 'secrets', namespace, name }, () => api.core.readNamespacedSecret({ name, namespace }));
}

export async function readCredentialsSecret(api: KubeApi, namespace: string, name: string, key: string): Promise<CredentialsSecretState | null> {
  const s = await readSecret(api, namespace, name);
  if (!s) return null;
  if (!isOurs(s)) return { ours: false };
  const value = valueOf(s, key);
  return { ours: true, ...(value !== undefined ? { value } : {}) };
}

export async function writeCredentialsSecret(api: KubeApi, a: SecretAction): Promise<boolean> {
  const { namespace, name } = a.ref;
  const call: KubeCall = { verb: 'update', group: '', resource: 'secrets', namespace, name };
  return api.retryOnConflict(call, async () => {
    const s = await readSecret(api, namespace, name);
    const data = { [a.key]: Buffer.from(a.value, 'utf8').toString('base64') };
    if (!s) {
      await api.core.createNamespacedSecret({
        namespace, fieldManager: FIELD_MANAGER,
        body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, data },
      });
      return true;
    }
    if (!isOurs(s) && !a.adopt) {
      throw new OperationError(`Secret ${namespace}/${name} was not written by rhacs-sts: it was left as it is.`, {
        hint: 'Replace it with --adopt-credentials-secret (its content is replaced, and it is marked as rhacs-sts\'s), or remove it first.',
      });
    }
    if (isOurs(s) && valueOf(s, a.key) === a.value) return false;
    // The whole Secret is replaced (a replaced foreign one keeps nothing of its own data: it held another credential).
    await api.core.replaceNamespacedSecret({
      name, namespace, fieldManager: FIELD_MANAGER,
      body: { ...s, metadata: { ...s.metadata, labels: { ...s.metadata?.labels, [MANAGED_BY_LABEL]: MANAGED_BY } }, data, stringData: undefined },
    });
    return true;
  });
}

export async function deleteCredentialsSecret(api: KubeApi, a: SecretAction): Promise<boolean> {
  const { namespace, name } = a.ref;
  const call: KubeCall = { verb: 'delete', group: '', resource: 'secrets', namespace, name };
  return api.retryOnConflict(call, async () => {
    const s = await readSecret(api, namespace, name);
    if (!s || !isOurs(s)) return false;
    await api.core.deleteNamespacedSecret({ name, namespace, body: { preconditions: { resourceVersion: s.metadata?.resourceVersion } } });
    return true;
  });
}
