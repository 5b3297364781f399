/**
 * verify on Google's terms: the chain a workload walks, link by link, one row per link with its fix.
 *
 *   the cluster's token (audience `openshift`, or the GKE workload pool)
 *   → Google STS token exchange (audience: the provider's full name, or the GKE workload pool)
 *   → IAM Credentials generateAccessToken for the service account (proves the workloadIdentityUser binding)
 *   → Artifact Registry's permission check as that account (proves the reader role)
 *
 * and the pure rows beside it: workload identity and the node pools' metadata mode (GKE), the
 * provider's inline keys against the cluster's (OpenShift), and the wiring (the annotation on GKE,
 * the `external_account` Secret on OpenShift) naming the service account we expect.
 */
import type { Jwk } from '../../kube/session.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../verify/rows.js';
import { CREDENTIALS_SECRET, externalAccountDifferences, JWT_TOKEN_TYPE, type ExternalAccountInput } from './external-account.js';
import { gkeProblems, type GkeClusterFacts } from './gke.js';
import { jwksDifference, type ProviderFacts } from './pools.js';
import { DOWNLOAD_PERMISSION, READER_ROLE, type GarRepository } from './registry-grant.js';
import type { TokenHttp, TokenHttpAnswer } from './token-http.js';

export const GKE_ANNOTATION = 'iam.gke.io/gcp-service-account';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const WI_USER = 'roles/iam.workloadIdentityUser';

export interface TokenChainEndpoints {
  sts: string;
  iamcredentials: string;
  artifactregistry: string;
  cloudresourcemanager: string;
}

export const TOKEN_CHAIN_ROOTS: Readonly<TokenChainEndpoints> = {
  sts: 'https://sts.googleapis.com/',
  iamcredentials: 'https://iamcredentials.googleapis.com/',
  artifactregistry: 'https://artifactregistry.googleapis.com/',
  cloudresourcemanager: 'https://cloudresourcemanager.googleapis.com/',
};

export interface TokenChainInput {
  platform: 'openshift' | 'gke';
  /** The cluster's token for RHACS's Kubernetes service account, requested with `tokenAudience`. */
  subjectToken: string;
  /** What the token must carry: `openshift`, or the GKE workload pool `<project>.svc.id.goog`. */
  tokenAudience: string;
  /** Google STS's audience: the provider's full name by project number (OpenShift), `identitynamespace:<pool>:<issuer>` (GKE). */
  stsAudience: string;
  serviceAccountEmail: string;
  /** The member the service account's binding must hold (for the fix). */
  member: string;
  projectId: string;
  /** The repositories granted; none: the grant is on the project. */
  repositories: readonly GarRepository[];
  endpoints?: Partial<TokenChainEndpoints>;
  http: TokenHttp;
  now: () => number;
  where?: Where;
}

export type ChainLink = 'token' | 'sts' | 'impersonation' | 'registry';

export interface TokenChainResult {
  rows: CheckRow[];
  /** The first link that failed, if any. */
  failed?: ChainLink;
  /** Why, as Google said it (for the propagation wait, which tells a binding not yet effective from a wrong one). */
  answer?: TokenHttpAnswer;
}

const LINKS: Record<ChainLink, { kind: string; name: string }> = {
  token: { kind: 'gcp-token', name: 'cluster token for Google' },
  sts: { kind: 'gcp-sts', name: 'Google STS token exchange' },
  impersonation: { kind: 'gcp-impersonation', name: 'service account impersonation (binding)' },
  registry: { kind: 'gcp-registry', name: 'Artifact Registry read (reader role)' },
};

function linkRow(i: Pick<TokenChainInput, 'where'>, link: ChainLink, result: 'pass' | 'warn' | 'fail', detail: string, fix?: string): CheckRow {
  return row(rowId(LINKS[link].kind, i.where), rowName(LINKS[link].name, i.where), result, detail, fix);
}

function claims(token: string): Record<string, unknown> | undefined {
  try {
    const p = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const googleMessage = (a: TokenHttpAnswer): string => {
  const j = a.json as { error?: { message?: string; status?: string } | string; error_description?: string } | undefined;
  if (a.status === 0) return a.error ?? 'no answer';
  if (typeof j?.error === 'object') return `${j.error.status ?? `HTTP ${a.status}`}: ${j.error.message ?? ''}`.trim();
  if (typeof j?.error === 'string') return `${j.error}${j.error_description ? `: ${j.error_description}` : ''}`;
  return `HTTP ${a.status}`;
};

const root = (u: string): string => (u.endsWith('/') ? u : `${u}/`);

/** Pure: no answer, or Google's own failure (5xx): not a verdict on the setup. */
export function noVerdict(a: TokenHttpAnswer, host: string): { detail: string; fix: string } | undefined {
  if (a.status === 0) return { detail: `no answer from ${host}: ${a.error ?? 'the request failed'}`, fix: `Check the network path to ${host} (a proxy or firewall), then run verify again.` };
  if (a.status >= 500) return { detail: `${host} failed (${googleMessage(a)})`, fix: 'A failure on Google\'s side: run verify again in a while.' };
  return undefined;
}

/** Pure: the failed STS exchange as the broken link and its fix. */
export function stsFailure(i: Pick<TokenChainInput, 'platform' | 'stsAudience'>, a: TokenHttpAnswer): { detail: string; fix: string } {
  const said = googleMessage(a);
  const j = (a.json ?? {}) as { error?: unknown; error_description?: unknown };
  const code = typeof j.error === 'string' ? j.error : '';
  const text = typeof j.error_description === 'string' ? j.error_description : '';
  const project = /\/projects\/([^/]+)\//.exec(i.stsAudience)?.[1];
  if (i.platform === 'openshift' && project && !/^[0-9]+$/.test(project)) {
    return { detail: `the audience names the project by id (${project}) where Google needs the project NUMBER (${said})`, fix: `Use the project number (\`gcloud projects describe ${project} --format='value(projectNumber)'\`) in the audience, or run init again to rewrite the ${CREDENTIALS_SECRET} Secret.` };
  }
  if (code === 'invalid_target') {
    return i.platform === 'gke'
      ? { detail: `Google STS does not know the workload pool (${said})`, fix: 'Turn workload identity on for the cluster (`gcloud container clusters update … --workload-pool=<project>.svc.id.goog`).' }
      : { detail: `the pool or provider does not exist, is disabled or deleted (${said})`, fix: 'Run init again: it creates or undeletes the workload identity pool and provider (check --workload-identity-pool and --workload-identity-provider).' };
  }
  if (/signature/i.test(text)) {
    return { detail: `Google does not accept the token's signature: the provider's keys are not the cluster's (${said})`, fix: 'The cluster rotated its service-account signing keys: run init again, which re-syncs the provider\'s inline keys (jwksJson).' };
  }
  if (/issuer/i.test(text)) return { detail: `the token's issuer is not the provider's (${said})`, fix: 'Run init again: it sets the provider\'s issuer to the one the cluster publishes.' };
  if (/audience/i.test(text)) return { detail: `the token's audience is not one the provider allows (${said})`, fix: 'Run init again: it sets the provider\'s allowed audience to "openshift".' };
  if (/expired/i.test(text)) return { detail: `the token has expired (${said})`, fix: 'Check the clock of this machine and of the cluster.' };
  return { detail: `Google STS refused the exchange (${said})`, fix: 'Run init again; if it persists, check the provider with `gcloud iam workload-identity-pools providers describe`.' };
}

/** Runs the chain, stopping at the first broken link (the links after it are reported as not reached). */
export async function checkTokenChain(i: TokenChainInput): Promise<TokenChainResult> {
  const ep = { ...TOKEN_CHAIN_ROOTS, ...i.endpoints };
  const rows: CheckRow[] = [];
  const stop = (link: ChainLink, detail: string, fix: string, answer?: TokenHttpAnswer): TokenChainResult => {
    rows.push(linkRow(i, link, 'fail', detail, fix));
    const order: ChainLink[] = ['token', 'sts', 'impersonation', 'registry'];
    for (const next of order.slice(order.indexOf(link) + 1)) rows.push(linkRow(i, next, 'warn', `not reached: the ${LINKS[link].name} failed`, `Fix the ${LINKS[link].name} first.`));
    return { rows, failed: link, ...(answer ? { answer } : {}) };
  };

  // 1. The cluster's token.
  const c = claims(i.subjectToken);
  if (!c) return stop('token', 'the cluster\'s token is not a JWT', 'Check that the cluster issues service-account tokens (TokenRequest).');
  const auds = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!auds.includes(i.tokenAudience)) {
    const fix = i.platform === 'gke'
      ? 'Turn workload identity on for the cluster and the GKE metadata server on its node pools.'
      : 'Central and Sensor read the token OpenShift mounts with audience "openshift"; check the token volume.';
    return stop('token', `its audience is [${auds.map(String).join(', ')}], not ${i.tokenAudience}`, fix);
  }
  if (typeof c.exp === 'number' && c.exp * 1000 <= i.now()) return stop('token', `it expired at ${new Date(c.exp * 1000).toISOString()}`, 'Check the clock of this machine and of the cluster.');
  rows.push(linkRow(i, 'token', 'pass', `issuer ${String(c.iss)}, subject ${String(c.sub)}, audience ${i.tokenAudience}`));

  // 2. Google STS.
  const sts = await i.http.request('POST', `${root(ep.sts)}v1/token`, {
    grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: i.stsAudience,
    scope: CLOUD_PLATFORM_SCOPE,
    requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    subjectToken: i.subjectToken,
    subjectTokenType: JWT_TOKEN_TYPE,
  });
  const federated = (sts.json as { access_token?: unknown } | undefined)?.access_token;
  if (sts.status !== 200 || typeof federated !== 'string') {
    const f = noVerdict(sts, 'Google STS') ?? stsFailure(i, sts);
    return stop('sts', f.detail, f.fix, sts);
  }
  rows.push(linkRow(i, 'sts', 'pass', `a federated token for audience ${i.stsAudience}`));

  // 3. Impersonation: only with the workloadIdentityUser binding.
  const gat = await i.http.request('POST', `${root(ep.iamcredentials)}v1/projects/-/serviceAccounts/${encodeURIComponent(i.serviceAccountEmail)}:generateAccessToken`, { scope: [CLOUD_PLATFORM_SCOPE] }, federated);
  const accessToken = (gat.json as { accessToken?: unknown } | undefined)?.accessToken;
  if (gat.status !== 200 || typeof accessToken !== 'string') {
    const said = googleMessage(gat);
    const none = noVerdict(gat, 'IAM Credentials');
    if (none) return stop('impersonation', none.detail, none.fix, gat);
    const bindingFix = `Run init again, or grant it: \`gcloud iam service-accounts add-iam-policy-binding ${i.serviceAccountEmail} --role=${WI_USER} --member='${i.member}'\` (a new binding can take a few minutes to take effect).`;
    if (gat.status === 404) return stop('impersonation', `Google does not know ${i.serviceAccountEmail} (yet) (${said})`, 'Run init again: it creates the service account (a new one can take a minute to be usable).', gat);
    if (gat.status === 400 && /disabled/i.test(said)) return stop('impersonation', `${i.serviceAccountEmail} is disabled (${said})`, `Enable it: \`gcloud iam service-accounts enable ${i.serviceAccountEmail}\`.`, gat);
    return stop('impersonation', `${i.member} may not act as ${i.serviceAccountEmail}: the ${WI_USER} binding is missing (${said})`, bindingFix, gat);
  }
  rows.push(linkRow(i, 'impersonation', 'pass', `${i.member} acts as ${i.serviceAccountEmail}`));

  // 4. Artifact Registry, as the service account.
  const scopes = i.repositories.length
    ? i.repositories.map((r) => ({ label: `${r.location}/${r.repository}`, url: `${root(ep.artifactregistry)}v1/projects/${encodeURIComponent(i.projectId)}/locations/${encodeURIComponent(r.location)}/repositories/${encodeURIComponent(r.repository)}:testIamPermissions`, repo: r }))
    : [{ label: `project ${i.projectId}`, url: `${root(ep.cloudresourcemanager)}v3/projects/${encodeURIComponent(i.projectId)}:testIamPermissions`, repo: undefined }];
  const lacking: string[] = [];
  for (const s of scopes) {
    const t = await i.http.request('POST', s.url, { permissions: [DOWNLOAD_PERMISSION] }, accessToken);
    const held = (t.json as { permissions?: unknown } | undefined)?.permissions;
    if (t.status === 200 && Array.isArray(held) && held.includes(DOWNLOAD_PERMISSION)) continue;
    const none = noVerdict(t, s.repo ? 'Artifact Registry' : 'Resource Manager');
    if (none) return stop('registry', `${s.label}: ${none.detail}`, none.fix, t);
    lacking.push(t.status === 200 ? s.label : `${s.label} (${googleMessage(t)})`);
  }
  if (lacking.length) {
    const fix = i.repositories.length
      ? `Run init again, or grant it: ${i.repositories.map((r) => `\`gcloud artifacts repositories add-iam-policy-binding ${r.repository} --location=${r.location} --project=${i.projectId} --role=${READER_ROLE} --member=serviceAccount:${i.serviceAccountEmail}\``).join('; ')}.`
      : `Run init again, or grant it: \`gcloud projects add-iam-policy-binding ${i.projectId} --role=${READER_ROLE} --member=serviceAccount:${i.serviceAccountEmail}\`.`;
    return stop('registry', `${i.serviceAccountEmail} may not download images from ${lacking.join(', ')}: ${READER_ROLE} is missing there`, fix);
  }
  rows.push(linkRow(i, 'registry', 'pass', `${i.serviceAccountEmail} may download images from ${scopes.map((s) => s.label).join(', ')}`));
  return { rows };
}

/** Pure: GKE's own prerequisites as rows: workload identity on, and the GKE metadata server on the node pools that run RHACS. */
export function gkeClusterRows(facts: GkeClusterFacts, rhacsNodePools?: readonly string[], where?: Where): CheckRow[] {
  const problems = gkeProblems(facts, rhacsNodePools ? [...rhacsNodePools] : undefined);
  const off = problems.find((p) => p.kind === 'workload-identity-off');
  const pools = problems.filter((p) => p.kind === 'node-pool-metadata');
  return [
    off
      ? row(rowId('gcp-workload-identity', where), rowName('GKE workload identity', where), 'fail', off.message, off.fix)
      : row(rowId('gcp-workload-identity', where), rowName('GKE workload identity', where), 'pass', `workload pool ${facts.workloadPool ?? ''}`),
    pools.length
      ? row(rowId('gcp-metadata-mode', where), rowName('GKE metadata server on the node pools', where), 'fail', pools.map((p) => p.message).join('; '), pools.map((p) => p.fix).join('; '))
      : row(rowId('gcp-metadata-mode', where), rowName('GKE metadata server on the node pools', where), off ? 'warn' : 'pass', off ? 'not checked: workload identity is off' : 'GKE_METADATA on the node pools that run RHACS'),
  ];
}

/** Pure: on OpenShift with inline keys, whether the provider still trusts the cluster's current keys. */
export function providerKeysRow(provider: ProviderFacts | undefined, clusterKeys: readonly Jwk[], where?: Where): CheckRow {
  const id = rowId('gcp-provider-keys', where);
  const name = rowName('workload identity provider keys', where);
  if (!provider) return row(id, name, 'fail', 'the provider does not exist', 'Run init: it creates the workload identity pool and provider.');
  if (!provider.jwksJson) return row(id, name, 'pass', `Google reads the keys from the issuer ${provider.issuerUri ?? ''}`);
  const d = jwksDifference(provider.jwksJson, clusterKeys);
  if (!d.stale) return row(id, name, 'pass', `the provider holds the cluster's ${clusterKeys.length} current key(s) inline`);
  const parts = [d.missing.length ? `missing ${d.missing.join(', ')}` : '', d.extra.length ? `no longer published ${d.extra.join(', ')}` : ''].filter(Boolean);
  return row(id, name, 'fail', `the provider's inline keys are stale (${parts.join('; ')}): tokens signed with a new key are refused`, 'Run init again: it re-syncs the provider\'s keys (jwksJson) from the cluster.');
}

export type WiringInput =
  /** GKE: the `iam.gke.io/gcp-service-account` annotation on the Kubernetes service account. */
  | { platform: 'gke'; serviceAccount: string; annotation: string | undefined; expectedEmail: string }
  /** OpenShift: the `credentials` key of Secret gcp-cloud-credentials (undefined: no Secret). */
  | { platform: 'openshift'; secretText: string | undefined; expected: ExternalAccountInput };

/** Pure: whether the cluster's wiring names the service account (and, on OpenShift, the provider) we expect. */
export function wiringRow(i: WiringInput, where?: Where): CheckRow {
  const id = rowId('gcp-wiring', where);
  if (i.platform === 'gke') {
    const name = rowName(`${i.serviceAccount} annotation ${GKE_ANNOTATION}`, where);
    if (!i.annotation) return row(id, name, 'fail', 'not set: the pod acts as the Kubernetes service account, which holds no Artifact Registry role', 'Run init: it annotates the service account and restarts the pods.');
    if (i.annotation !== i.expectedEmail) return row(id, name, 'fail', `names ${i.annotation}, not ${i.expectedEmail}`, 'Run init again to set the annotation (or name that account with --gcp-service-account).');
    return row(id, name, 'pass', i.annotation);
  }
  const name = rowName(`Secret ${CREDENTIALS_SECRET}`, where);
  if (i.secretText === undefined) return row(id, name, 'fail', 'does not exist: Central uses no workload identity federation', 'Run init: it writes the Secret (Central picks it up without a restart).');
  const diffs = externalAccountDifferences(i.secretText, i.expected);
  if (diffs.length) return row(id, name, 'fail', diffs.join('; '), 'Run init again: it rewrites the Secret (Central picks it up without a restart).');
  return row(id, name, 'pass', `external_account impersonating ${i.expected.serviceAccountEmail}`);
}
