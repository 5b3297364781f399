/**
 * Pure: the names Google's workload identity federation is built from, and the `external_account`
 * credential configuration Central reads on OpenShift (Secret `gcp-cloud-credentials`, key
 * `credentials`).
 *
 * Google names a workload identity pool, its providers and its principals by the project NUMBER;
 * the published OpenShift example writes the project id there (and names the pool by the
 * provider's name), and Google STS then answers `invalid_target`. So the functions that build those
 * names take a `ProjectNumber`, which only `toProjectNumber` makes, and which refuses an id.
 */
import { InputError } from '../../errors.js';
import { PROJECT_ID, PROJECT_NUMBER } from './project.js';

/** A Google project number (digits), never a project id. */
export type ProjectNumber = string & { readonly __projectNumber: true };

/** Where OpenShift mounts the projected token (audience `openshift`) in Central and Sensor. */
export const OPENSHIFT_TOKEN_FILE = '/var/run/secrets/openshift/serviceaccount/token';
/** The audience of that token, and the one the OIDC provider allows. */
export const OPENSHIFT_AUDIENCE = 'openshift';
/** The Secret Central watches, and its key. */
export const CREDENTIALS_SECRET = 'gcp-cloud-credentials';
export const CREDENTIALS_SECRET_KEY = 'credentials';
export const STS_TOKEN_URL = 'https://sts.googleapis.com/v1/token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const IAM_CREDENTIALS_ROOT = 'https://iamcredentials.googleapis.com/';

/** The project number, checked: a project id here is the published mistake, refused with the way to the number. */
export function toProjectNumber(value: string, source = '--gcp-project'): ProjectNumber {
  if (PROJECT_NUMBER.test(value)) return value as ProjectNumber;
  const message = PROJECT_ID.test(value)
    ? `${JSON.stringify(value)} is a project id; workload identity pools are named by the project NUMBER (\`gcloud projects describe ${value} --format='value(projectNumber)'\`)`
    : `${JSON.stringify(value)} is not a project number`;
  throw new InputError([{ source, message }]);
}

export interface PoolRef {
  projectNumber: ProjectNumber;
  poolId: string;
}

export interface ProviderRef extends PoolRef {
  providerId: string;
}

/** `projects/<NUMBER>/locations/global/workloadIdentityPools/<pool>`. */
export function poolResourceName(p: PoolRef): string {
  return `projects/${p.projectNumber}/locations/global/workloadIdentityPools/${p.poolId}`;
}

/** `projects/<NUMBER>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`. */
export function providerResourceName(p: ProviderRef): string {
  return `${poolResourceName(p)}/providers/${p.providerId}`;
}

/** The audience Google STS expects for a provider: its full resource name, by project number. */
export function providerAudience(p: ProviderRef): string {
  return `//iam.googleapis.com/${providerResourceName(p)}`;
}

/** The principal of a Kubernetes service account on OpenShift, through the pool (`google.subject=assertion.sub`). */
export function openshiftMember(p: PoolRef, namespace: string, serviceAccount: string): string {
  return `principal://iam.googleapis.com/${poolResourceName(p)}/subject/system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** The GKE workload pool of a project: `<project>.svc.id.goog` (by project id). */
export function gkeWorkloadPool(projectId: string): string {
  return `${projectId}.svc.id.goog`;
}

/** The principal of a Kubernetes service account on GKE: `serviceAccount:<project>.svc.id.goog[<ns>/<sa>]`. */
export function gkeMember(projectId: string, namespace: string, serviceAccount: string): string {
  if (!PROJECT_ID.test(projectId)) throw new InputError([{ source: '--gcp-project', message: `${JSON.stringify(projectId)} is not a project id (GKE's workload pool is named by the project id)` }]);
  return `serviceAccount:${gkeWorkloadPool(projectId)}[${namespace}/${serviceAccount}]`;
}

/** Google STS's audience for a GKE cluster's token: the workload pool and the cluster's issuer. */
export function gkeStsAudience(projectId: string, issuer: string): string {
  return `identitynamespace:${gkeWorkloadPool(projectId)}:${issuer}`;
}

export function impersonationUrl(serviceAccountEmail: string): string {
  return `${IAM_CREDENTIALS_ROOT}v1/projects/-/serviceAccounts/${serviceAccountEmail}:generateAccessToken`;
}

export interface ExternalAccountCredential {
  type: 'external_account';
  audience: string;
  subject_token_type: string;
  token_url: string;
  service_account_impersonation_url: string;
  credential_source: { file: string; format: { type: 'text' } };
}

export interface ExternalAccountInput extends ProviderRef {
  serviceAccountEmail: string;
}

/** The `external_account` configuration Central reads (what `gcloud iam workload-identity-pools create-cred-config` writes). */
export function externalAccountCredential(i: ExternalAccountInput): ExternalAccountCredential {
  return {
    type: 'external_account',
    audience: providerAudience(i),
    subject_token_type: JWT_TOKEN_TYPE,
    token_url: STS_TOKEN_URL,
    service_account_impersonation_url: impersonationUrl(i.serviceAccountEmail),
    credential_source: { file: OPENSHIFT_TOKEN_FILE, format: { type: 'text' } },
  };
}

/** The Secret's `credentials` value: the configuration as JSON text. */
export function externalAccountJson(i: ExternalAccountInput): string {
  return `${JSON.stringify(externalAccountCredential(i), null, 2)}\n`;
}

/** What a credential configuration read back from the cluster says, or why it cannot be read. */
export interface ReadExternalAccount {
  audience?: string;
  serviceAccountEmail?: string;
  tokenFile?: string;
  problems: string[];
}

/** Pure: the parts of a credential configuration that matter, and what is malformed in it. */
export function readExternalAccount(text: string): ReadExternalAccount {
  let j: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problems: ['is not a JSON object'] };
    j = parsed as Record<string, unknown>;
  } catch {
    return { problems: ['is not JSON'] };
  }
  const problems: string[] = [];
  if (j.type !== 'external_account') problems.push(`its "type" is ${JSON.stringify(j.type)}, not "external_account"`);
  const audience = typeof j.audience === 'string' ? j.audience : undefined;
  if (!audience) problems.push('it has no "audience"');
  if (j.subject_token_type !== JWT_TOKEN_TYPE) problems.push(`its "subject_token_type" is ${JSON.stringify(j.subject_token_type)}, not "${JWT_TOKEN_TYPE}"`);
  if (j.token_url !== STS_TOKEN_URL) problems.push(`its "token_url" is ${JSON.stringify(j.token_url)}, not "${STS_TOKEN_URL}"`);
  const url = typeof j.service_account_impersonation_url === 'string' ? j.service_account_impersonation_url : undefined;
  const email = url ? /\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url)?.[1] : undefined;
  if (!email) problems.push('its "service_account_impersonation_url" names no service account');
  const source = j.credential_source as { file?: unknown } | undefined;
  const tokenFile = typeof source?.file === 'string' ? source.file : undefined;
  if (!tokenFile) problems.push('its "credential_source" has no "file"');
  return { ...(audience ? { audience } : {}), ...(email ? { serviceAccountEmail: email } : {}), ...(tokenFile ? { tokenFile } : {}), problems };
}

/**
 * Pure: how a credential configuration found in the cluster differs from the one expected, each
 * difference in words a person can act on (empty when it is right).
 */
export function externalAccountDifferences(text: string, expected: ExternalAccountInput): string[] {
  const found = readExternalAccount(text);
  const out = [...found.problems];
  const audience = providerAudience(expected);
  if (found.audience && found.audience !== audience) {
    const byId = /\/projects\/([^/]+)\//.exec(found.audience)?.[1];
    out.push(
      byId && !PROJECT_NUMBER.test(byId)
        ? `its audience names the project by id (${byId}) where Google needs the number (${expected.projectNumber})`
        : `its audience is ${found.audience}, not ${audience}`,
    );
  }
  if (found.serviceAccountEmail && found.serviceAccountEmail !== expected.serviceAccountEmail) {
    out.push(`it impersonates ${found.serviceAccountEmail}, not ${expected.serviceAccountEmail}`);
  }
  if (found.tokenFile && found.tokenFile !== OPENSHIFT_TOKEN_FILE) out.push(`it reads the token from ${found.tokenFile}, not ${OPENSHIFT_TOKEN_FILE}`);
  return out;
}
