/**
 * OpenShift on Google Cloud: the workload identity pool and the cluster's OIDC provider in it.
 *
 * - Both are long-running operations (operation.ts), named by project NUMBER (external-account.ts).
 * - Ids: 4–32 characters of lower-case letters, digits and hyphens, not starting with `gcp-`.
 * - The provider: `attributeMapping` `google.subject=assertion.sub`, `allowedAudiences: ["openshift"]`
 *   (the audience OpenShift's projected token carries), the issuer exactly as the cluster publishes
 *   it (Google compares `iss` as a string), and, when the issuer is not public, the cluster's keys
 *   inline in `jwksJson`, compared with the cluster's current keys on every run (a rotation makes
 *   them stale: Google STS then refuses every token's signature) and re-synced.
 * - A deleted pool or provider keeps its id reserved for 30 days: ours is undeleted, not created.
 * - Ownership: pools and providers carry no labels; rhacs-sts records itself in the description
 *   (`[rhacs-sts/managed=true; clusters=<a>]`, as on service accounts) and the display name. A
 *   pool or provider without that marker is foreign: read, reported, never changed.
 */
import type { Jwk } from '../../kube/session.js';
import { InputError } from '../../errors.js';
import { isAlreadyExists, isNotFound } from './errors.js';
import { poolResourceName, providerResourceName, OPENSHIFT_AUDIENCE, type PoolRef, type ProviderRef } from './external-account.js';
import { awaitOperation, type GoogleOperation } from './operation.js';
import { ownershipOf } from './service-account.js';
import type { GcpSession } from './session.js';

export { WORKLOAD_IDENTITY_ID, WORKLOAD_IDENTITY_ID_MAX, WORKLOAD_IDENTITY_ID_MIN, workloadIdentityIdProblems } from './workload-identity-ids.js';
import { WORKLOAD_IDENTITY_ID_MAX, WORKLOAD_IDENTITY_ID_MIN, workloadIdentityIdProblems } from './workload-identity-ids.js';
export const DEFAULT_POOL_ID = 'rhacs';
export const SUBJECT_MAPPING = 'assertion.sub';
export const DISPLAY_NAME = 'RHACS (rhacs-sts)';
const DESCRIPTION_MAX = 256;

/** Pure: both ids checked at once, each problem naming its flag. */
export function workloadIdentityIdInputProblems(ids: { pool: string; provider: string }): { source: string; message: string }[] {
  return [
    ...workloadIdentityIdProblems(ids.pool).map((m) => ({ source: '--workload-identity-pool', message: `${JSON.stringify(ids.pool)} ${m}` })),
    ...workloadIdentityIdProblems(ids.provider).map((m) => ({ source: '--workload-identity-provider', message: `${JSON.stringify(ids.provider)} ${m}` })),
  ];
}

/** Pure: the default provider id for a cluster: its name as an id, cut to 32 with a hash tail when longer. */
export function defaultProviderId(clusterName: string, hash: (s: string) => string): string {
  const slug = clusterName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const base = slug.length >= WORKLOAD_IDENTITY_ID_MIN && !slug.startsWith('gcp-') ? slug : `rhacs-${slug}`.replace(/-+$/, '');
  if (base.length <= WORKLOAD_IDENTITY_ID_MAX) return base;
  const tail = hash(clusterName).slice(0, 6);
  return `${base.slice(0, WORKLOAD_IDENTITY_ID_MAX - tail.length - 1).replace(/-+$/, '')}-${tail}`;
}

/** Pure: the issuer as Google will compare it: an https URL, taken exactly as the cluster publishes it. */
export function issuerProblems(issuer: string): string[] {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    return [`${JSON.stringify(issuer)} is not a URL`];
  }
  return u.protocol === 'https:' ? [] : [`${issuer} is not https (Google accepts only https issuers)`];
}

/** Pure: the description recording ownership (and the clusters served), within Google's 256 characters. */
export function markedDescription(what: string, clusters: readonly string[]): string {
  let listed = [...new Set(clusters)].sort();
  const render = (l: string[]) => `${what} [rhacs-sts/managed=true${l.length ? `; clusters=${l.join(',')}` : ''}]`;
  while (listed.length && render(listed).length > DESCRIPTION_MAX) listed = listed.slice(0, -1);
  return render(listed);
}

const PUBLIC_JWK_FIELDS = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const;

/** Pure: the JWKS text for `jwksJson`: the keys' public parts only, in a stable order. */
export function jwksJsonOf(keys: readonly Jwk[]): string {
  const pick = (k: Jwk) => Object.fromEntries(PUBLIC_JWK_FIELDS.filter((f) => k[f] !== undefined).map((f) => [f, k[f]]));
  return JSON.stringify({ keys: [...keys].map(pick).sort((a, b) => String(a.kid ?? '').localeCompare(String(b.kid ?? ''))) });
}

const keyIdentity = (k: Jwk): string => JSON.stringify([k.kid ?? '', k.kty ?? '', k.n ?? '', k.e ?? '', k.crv ?? '', k.x ?? '', k.y ?? '']);
const keyLabel = (k: Jwk): string => k.kid ?? `(${k.kty ?? 'key'} without kid)`;

/**
 * Pure: whether the keys a provider holds inline are the cluster's current keys. `missing`: keys
 * the cluster signs with that the provider lacks (tokens signed with them are refused); `extra`:
 * keys the provider still trusts that the cluster no longer publishes.
 */
export function jwksDifference(providerJwksJson: string | undefined, clusterKeys: readonly Jwk[]): { stale: boolean; missing: string[]; extra: string[] } {
  let held: Jwk[] = [];
  try {
    const parsed = JSON.parse(providerJwksJson ?? '{}') as { keys?: unknown };
    if (Array.isArray(parsed.keys)) held = parsed.keys as Jwk[];
  } catch {
    held = [];
  }
  const heldIds = new Set(held.map(keyIdentity));
  const clusterIds = new Set(clusterKeys.map(keyIdentity));
  const missing = clusterKeys.filter((k) => !heldIds.has(keyIdentity(k))).map(keyLabel);
  const extra = held.filter((k) => !clusterIds.has(keyIdentity(k))).map(keyLabel);
  return { stale: missing.length > 0 || extra.length > 0, missing, extra };
}

// ---- reading

interface PoolBody {
  name?: string;
  displayName?: string;
  description?: string;
  state?: string;
  disabled?: boolean;
  expireTime?: string;
}

interface ProviderBody extends PoolBody {
  attributeMapping?: Record<string, string>;
  attributeCondition?: string;
  oidc?: { issuerUri?: string; allowedAudiences?: string[]; jwksJson?: string };
}

export interface PoolFacts {
  name: string;
  state: string;
  disabled: boolean;
  /** While deleted: when the id stops being reserved. */
  expireTime?: string;
  description?: string;
  managed: boolean;
  clusters: string[];
}

export interface ProviderFacts extends PoolFacts {
  issuerUri?: string;
  allowedAudiences: string[];
  jwksJson?: string;
  subjectMapping?: string;
  attributeCondition?: string;
}

function poolFacts(name: string, b: PoolBody): PoolFacts {
  return {
    name: b.name ?? name,
    state: b.state ?? 'STATE_UNSPECIFIED',
    disabled: b.disabled === true,
    ...(b.expireTime ? { expireTime: b.expireTime } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...ownershipOf(b.description),
  };
}

function providerFacts(name: string, b: ProviderBody): ProviderFacts {
  return {
    ...poolFacts(name, b),
    ...(b.oidc?.issuerUri ? { issuerUri: b.oidc.issuerUri } : {}),
    allowedAudiences: b.oidc?.allowedAudiences ?? [],
    ...(b.oidc?.jwksJson ? { jwksJson: b.oidc.jwksJson } : {}),
    ...(b.attributeMapping?.['google.subject'] ? { subjectMapping: b.attributeMapping['google.subject'] } : {}),
    ...(b.attributeCondition ? { attributeCondition: b.attributeCondition } : {}),
  };
}

async function readOrUndefined<T>(session: GcpSession, name: string, path: string): Promise<T | undefined> {
  try {
    return await session.call<T>({ api: 'iam', name, method: 'GET', path: `v1/${path}`, safe: true });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The pool (in whatever state), or undefined when none has that id. */
export async function readPool(session: GcpSession, ref: PoolRef): Promise<PoolFacts | undefined> {
  const name = poolResourceName(ref);
  const b = await readOrUndefined<PoolBody>(session, 'iam.projects.locations.workloadIdentityPools.get', name);
  return b && poolFacts(name, b);
}

/** The provider (in whatever state), or undefined. */
export async function readProvider(session: GcpSession, ref: ProviderRef): Promise<ProviderFacts | undefined> {
  const name = providerResourceName(ref);
  const b = await readOrUndefined<ProviderBody>(session, 'iam.projects.locations.workloadIdentityPools.providers.get', name);
  return b && providerFacts(name, b);
}

// ---- converging

export type PoolOutcome =
  | { status: 'created' | 'managed'; pool: PoolFacts }
  /** It was ours and deleted (its id still reserved): undeleted, with a note saying so. */
  | { status: 'undeleted'; pool: PoolFacts; note: string }
  /** Someone else's: not changed. */
  | { status: 'foreign'; pool: PoolFacts };

function reservedError(flag: string, what: string, f: PoolFacts): InputError {
  return new InputError(
    [{ source: flag, message: `${what} ${f.name} was deleted by someone else, and Google keeps its id reserved${f.expireTime ? ` until ${f.expireTime}` : ' for 30 days'}; rhacs-sts does not undelete what is not its own` }],
    `Choose another id with ${flag}, or undelete it yourself (\`gcloud iam workload-identity-pools … undelete\`) and adopt it.`,
  );
}

/**
 * Create-or-get the pool: missing → created with our marker; ours and deleted → undeleted (the id
 * stays reserved 30 days after a delete, so a create would fail); someone else's → reported, unchanged
 * (deleted and someone else's → InputError naming the flag). `clusters` go in a new pool's description.
 */
export async function convergePool(session: GcpSession, input: { ref: PoolRef; clusters: readonly string[] }): Promise<PoolOutcome> {
  const name = poolResourceName(input.ref);
  const seen = await readPool(session, input.ref);
  if (seen) return settle(session, seen, 'pool', '--workload-identity-pool', 'iam.projects.locations.workloadIdentityPools.undelete');
  try {
    const op = await session.call<GoogleOperation<PoolBody>>({
      api: 'iam',
      name: 'iam.projects.locations.workloadIdentityPools.create',
      method: 'POST',
      path: `v1/projects/${input.ref.projectNumber}/locations/global/workloadIdentityPools`,
      query: { workloadIdentityPoolId: input.ref.poolId },
      body: { displayName: DISPLAY_NAME, description: markedDescription('RHACS (StackRox) clusters that read Google Cloud with short-lived credentials.', input.clusters) },
      safe: false,
    });
    const done = await awaitOperation(session, 'iam.projects.locations.workloadIdentityPools.create', op);
    const now = (await readPool(session, input.ref)) ?? poolFacts(name, done ?? {});
    return { status: 'created', pool: now };
  } catch (err) {
    // Created by someone else between our read and our create.
    if (!isAlreadyExists(err)) throw err;
    const now = await readPool(session, input.ref);
    if (!now) throw err;
    return settle(session, now, 'pool', '--workload-identity-pool', 'iam.projects.locations.workloadIdentityPools.undelete');
  }
}

async function settle(session: GcpSession, f: PoolFacts, what: string, flag: string, undelete: string): Promise<PoolOutcome> {
  if (!f.managed) {
    if (f.state === 'DELETED') throw reservedError(flag, what, f);
    return { status: 'foreign', pool: f };
  }
  if (f.state !== 'DELETED') return { status: 'managed', pool: f };
  const op = await session.call<GoogleOperation<PoolBody>>({ api: 'iam', name: undelete, method: 'POST', path: `v1/${f.name}:undelete`, body: {}, safe: false });
  const done = await awaitOperation(session, undelete, op);
  const back = { ...f, ...(done ? poolFacts(f.name, done) : {}), state: 'ACTIVE' };
  delete back.expireTime;
  return { status: 'undeleted', pool: back, note: `${what} ${f.name} was deleted${f.expireTime ? ` (its id reserved until ${f.expireTime})` : ''}; rhacs-sts undeleted it rather than create a new one` };
}

export interface ProviderInput {
  ref: ProviderRef;
  /** The cluster's issuer, exactly as it publishes it. */
  issuer: string;
  /** The cluster's current keys, when its issuer is not public (Google then reads them inline); undefined: Google fetches them from the issuer. */
  keys?: readonly Jwk[];
  cluster: string;
}

/** Pure: the provider rhacs-sts wants for a cluster. */
export function desiredProvider(i: ProviderInput): ProviderBody {
  return {
    displayName: DISPLAY_NAME,
    description: markedDescription(`RHACS (StackRox) on OpenShift cluster ${i.cluster}.`, [i.cluster]),
    attributeMapping: { 'google.subject': SUBJECT_MAPPING },
    oidc: { issuerUri: i.issuer, allowedAudiences: [OPENSHIFT_AUDIENCE], ...(i.keys ? { jwksJson: jwksJsonOf(i.keys) } : {}) },
  };
}

/** One field of a provider that is not as wanted: its update-mask path and why, in words. */
export interface ProviderDrift {
  field: 'oidc.issuerUri' | 'oidc.allowedAudiences' | 'oidc.jwksJson' | 'attributeMapping';
  why: string;
}

/** Pure: what of ours differs from what is wanted (keys compared as sets: order and formatting do not count). */
export function providerDrift(current: ProviderFacts, i: ProviderInput): ProviderDrift[] {
  const out: ProviderDrift[] = [];
  if (current.issuerUri !== i.issuer) out.push({ field: 'oidc.issuerUri', why: `its issuer is ${current.issuerUri ?? '(none)'}, the cluster's is ${i.issuer}` });
  if (current.allowedAudiences.length !== 1 || current.allowedAudiences[0] !== OPENSHIFT_AUDIENCE) {
    out.push({ field: 'oidc.allowedAudiences', why: `it allows [${current.allowedAudiences.join(', ')}], not [${OPENSHIFT_AUDIENCE}]` });
  }
  if (i.keys) {
    const d = jwksDifference(current.jwksJson, i.keys);
    if (!current.jwksJson) out.push({ field: 'oidc.jwksJson', why: 'it holds no keys inline, and the cluster\'s issuer is not public' });
    else if (d.stale) out.push({ field: 'oidc.jwksJson', why: `its keys are stale (the cluster rotated them)${d.missing.length ? `: missing ${d.missing.join(', ')}` : ''}${d.extra.length ? `${d.missing.length ? ';' : ':'} no longer published ${d.extra.join(', ')}` : ''}` });
  } else if (current.jwksJson) out.push({ field: 'oidc.jwksJson', why: 'it holds keys inline, and the cluster\'s issuer is public (Google reads the keys there)' });
  if (current.subjectMapping !== SUBJECT_MAPPING) out.push({ field: 'attributeMapping', why: `it maps google.subject from ${current.subjectMapping ?? '(nothing)'}, not ${SUBJECT_MAPPING}` });
  return out;
}

export type ProviderOutcome =
  | { status: 'created' | 'unchanged'; provider: ProviderFacts; changes: ProviderDrift[] }
  /** Ours, changed in place: the fields patched and why (stale keys re-synced among them). */
  | { status: 'updated'; provider: ProviderFacts; changes: ProviderDrift[] }
  | { status: 'undeleted'; provider: ProviderFacts; changes: ProviderDrift[]; note: string }
  | { status: 'foreign'; provider: ProviderFacts; changes: ProviderDrift[] };

const PROVIDER_CALL = 'iam.projects.locations.workloadIdentityPools.providers';

/**
 * Create-or-converge the cluster's provider in a pool that is ours: missing → created; ours →
 * drifted fields patched (the keys re-synced after a rotation); ours and deleted → undeleted then
 * converged; someone else's → reported with its drift, unchanged.
 */
export async function convergeProvider(session: GcpSession, i: ProviderInput): Promise<ProviderOutcome> {
  const problems = issuerProblems(i.issuer);
  if (problems.length) throw new InputError(problems.map((message) => ({ source: 'the cluster\'s issuer', message })));
  const name = providerResourceName(i.ref);
  let seen = await readProvider(session, i.ref);
  if (!seen) {
    try {
      const op = await session.call<GoogleOperation<ProviderBody>>({
        api: 'iam',
        name: `${PROVIDER_CALL}.create`,
        method: 'POST',
        path: `v1/${poolResourceName(i.ref)}/providers`,
        query: { workloadIdentityPoolProviderId: i.ref.providerId },
        body: desiredProvider(i),
        safe: false,
      });
      await awaitOperation(session, `${PROVIDER_CALL}.create`, op);
      return { status: 'created', provider: (await readProvider(session, i.ref)) ?? providerFacts(name, desiredProvider(i)), changes: [] };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      seen = await readProvider(session, i.ref);
      if (!seen) throw err;
    }
  }
  let note: string | undefined;
  if (!seen.managed) {
    if (seen.state === 'DELETED') throw reservedError('--workload-identity-provider', 'provider', seen);
    return { status: 'foreign', provider: seen, changes: providerDrift(seen, i) };
  }
  if (seen.state === 'DELETED') {
    const settled = await settle(session, seen, 'provider', '--workload-identity-provider', `${PROVIDER_CALL}.undelete`);
    note = settled.status === 'undeleted' ? settled.note : undefined;
    seen = (await readProvider(session, i.ref)) ?? seen;
  }
  const changes = providerDrift(seen, i);
  if (changes.length) {
    const want = desiredProvider(i);
    const op = await session.call<GoogleOperation<ProviderBody>>({
      api: 'iam',
      name: `${PROVIDER_CALL}.patch`,
      method: 'PATCH',
      path: `v1/${name}`,
      query: { updateMask: changes.map((c) => c.field).join(',') },
      body: { attributeMapping: want.attributeMapping, oidc: want.oidc },
      safe: false,
    });
    await awaitOperation(session, `${PROVIDER_CALL}.patch`, op);
    seen = (await readProvider(session, i.ref)) ?? seen;
  }
  if (note) return { status: 'undeleted', provider: seen, changes, note };
  return { status: changes.length ? 'updated' : 'unchanged', provider: seen, changes };
}
