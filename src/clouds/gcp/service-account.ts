/**
 * The Google service account RHACS acts as: its name rules, the default derived from the cluster
 * name, create-or-get, and ownership.
 *
 * Ownership: service accounts carry no labels, so rhacs-sts records itself in the account's
 * `description` (≤ 256 characters), which only someone with iam.serviceAccounts.update can change.
 * An account is ours when its description contains the marker `[rhacs-sts/managed=true]`, followed
 * by the clusters it serves: `[rhacs-sts/managed=true; clusters=<a>,<b>]`. rhacs-sts writes it when
 * it creates the account, changes only accounts that carry it, and deletes only those.
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, isNotFound } from './errors.js';
import type { GcpSession } from './session.js';

/** Google's `accountId` rule. */
export const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;
export const ACCOUNT_ID_MIN = 6;
export const ACCOUNT_ID_MAX = 30;
const DESCRIPTION_MAX = 256;
const MARKER = 'rhacs-sts/managed=true';
const MARKER_RE = /\[rhacs-sts\/managed=true(?:; clusters=([^\]]*))?\]/;
const PREFIX = 'rhacs-';

/** Pure: what is wrong with an account id (empty when Google would accept it). */
export function accountIdProblems(id: string): string[] {
  const out: string[] = [];
  if (id.length < ACCOUNT_ID_MIN || id.length > ACCOUNT_ID_MAX) out.push(`must be ${ACCOUNT_ID_MIN}–${ACCOUNT_ID_MAX} characters (it has ${id.length})`);
  if (!ACCOUNT_ID.test(id)) out.push('must start with a lower-case letter, hold only lower-case letters, digits and hyphens, and not end with a hyphen');
  return out;
}

/**
 * Pure: the default account id for a cluster: `rhacs-<cluster>`, lower-cased, other characters as
 * hyphens; when that is longer than 30 characters, cut and ended with a hash of the full name, so
 * two long names that share a beginning still get two accounts.
 */
export function defaultAccountId(clusterName: string): string {
  const slug = clusterName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!slug) return 'rhacs-central';
  const whole = `${PREFIX}${slug}`;
  // The prefix and one character already make the minimum of 6.
  if (whole.length <= ACCOUNT_ID_MAX) return whole;
  const hash = createHash('sha256').update(clusterName).digest('hex').slice(0, 6);
  const room = ACCOUNT_ID_MAX - PREFIX.length - hash.length - 1;
  return `${PREFIX}${slug.slice(0, room).replace(/-+$/, '')}-${hash}`;
}

export function accountEmail(accountId: string, projectId: string): string {
  return `${accountId}@${projectId}.iam.gserviceaccount.com`;
}

/** Pure: the description that records rhacs-sts's ownership and the clusters served (as many as fit). */
export function ownershipDescription(clusters: readonly string[]): string {
  const head = 'RHACS (StackRox) reads Artifact Registry as this account. ';
  let listed = [...new Set(clusters)].sort();
  const render = (l: string[]) => `${head}[${MARKER}${l.length ? `; clusters=${l.join(',')}` : ''}]`;
  while (listed.length && render(listed).length > DESCRIPTION_MAX) listed = listed.slice(0, -1);
  return render(listed);
}

/** Pure: whether an account's description carries our marker, and the clusters it lists. */
export function ownershipOf(description: string | undefined): { managed: boolean; clusters: string[] } {
  const m = MARKER_RE.exec(description ?? '');
  if (!m) return { managed: false, clusters: [] };
  return { managed: true, clusters: (m[1] ?? '').split(',').filter(Boolean) };
}

export interface ServiceAccountFacts {
  email: string;
  uniqueId?: string;
  description?: string;
  disabled: boolean;
  managed: boolean;
  clusters: string[];
}

interface ServiceAccountBody {
  email?: string;
  uniqueId?: string;
  description?: string;
  disabled?: boolean;
}

function facts(email: string, a: ServiceAccountBody): ServiceAccountFacts {
  const own = ownershipOf(a.description);
  return { email: a.email ?? email, ...(a.uniqueId ? { uniqueId: a.uniqueId } : {}), ...(a.description !== undefined ? { description: a.description } : {}), disabled: a.disabled === true, ...own };
}

/** The account, or undefined when it does not exist. */
export async function readServiceAccount(session: GcpSession, email: string): Promise<ServiceAccountFacts | undefined> {
  try {
    const a = await session.call<ServiceAccountBody>({ api: 'iam', name: 'iam.projects.serviceAccounts.get', method: 'GET', path: `v1/projects/-/serviceAccounts/${encodeURIComponent(email)}`, safe: true });
    return facts(email, a);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export type ServiceAccountOutcome =
  /** rhacs-sts created it now, with its marker. */
  | { status: 'created'; account: ServiceAccountFacts }
  /** It carries our marker: ours to change. */
  | { status: 'managed'; account: ServiceAccountFacts }
  /** It exists without our marker: not changed; using it needs the user's explicit adoption. */
  | { status: 'foreign'; account: ServiceAccountFacts };

/**
 * Create-or-get: an account that does not exist is created with the ownership marker; one created
 * by someone else in between (409 ALREADY_EXISTS) is read, never overwritten. Nothing is written to
 * an existing account.
 */
export async function convergeServiceAccount(session: GcpSession, input: { projectId: string; accountId: string; clusters: readonly string[] }): Promise<ServiceAccountOutcome> {
  const email = accountEmail(input.accountId, input.projectId);
  const seen = await readServiceAccount(session, email);
  if (seen) return { status: seen.managed ? 'managed' : 'foreign', account: seen };
  try {
    const a = await session.call<ServiceAccountBody>({
      api: 'iam',
      name: 'iam.projects.serviceAccounts.create',
      method: 'POST',
      path: `v1/projects/${encodeURIComponent(input.projectId)}/serviceAccounts`,
      body: { accountId: input.accountId, serviceAccount: { displayName: 'RHACS (rhacs-sts)', description: ownershipDescription(input.clusters) } },
      safe: false,
    });
    return { status: 'created', account: facts(email, a) };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const now = await readServiceAccount(session, email);
    if (!now) throw err;
    return { status: now.managed ? 'managed' : 'foreign', account: now };
  }
}
