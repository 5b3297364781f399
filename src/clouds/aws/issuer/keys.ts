/**
 * The published keys: merged on publish (the cluster's, plus each key it no longer lists until the
 * grace has passed), compared on verify. When each key was first seen missing is kept in the keys
 * object's metadata, so re-publishing is idempotent and the grace survives between runs.
 */
import type { Jwk } from '../../../kube/session.js';
import type { StoredObject } from './bucket.js';

/** Object metadata (x-amz-meta-…) on keys.json: `kid=ISO time` of keys the cluster no longer lists. */
export const RETIRED_META = 'rhacs-sts-retired-keys';
/** How long a key the cluster no longer lists stays published. */
export const RETIRED_KEY_GRACE_MS = 24 * 60 * 60 * 1000;

/** Same key material (not just the same kid). */
export function sameKey(a: Jwk, b: Jwk): boolean {
  return a.kty === b.kty && a.n === b.n && a.e === b.e && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

export function parseRetired(meta: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (meta ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.lastIndexOf('=');
    if (i > 0 && !Number.isNaN(Date.parse(part.slice(i + 1)))) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function formatRetired(retired: Record<string, string>): string {
  return Object.entries(retired)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The keys a stored keys.json lists (none when it is missing or unreadable). */
export function parseKeys(o: StoredObject | null): Jwk[] {
  if (!o) return [];
  try {
    const v = JSON.parse(o.body) as { keys?: unknown };
    return Array.isArray(v.keys) ? (v.keys as Jwk[]) : [];
  } catch {
    return [];
  }
}

export interface KeyMerge {
  keys: Jwk[];
  /** kid → when it was first seen missing from the cluster (kept keys only). */
  retired: Record<string, string>;
  /** The cluster's keys that were not published. */
  added: string[];
  /** Published keys the cluster no longer lists, still within the grace. */
  kept: string[];
  /** Published keys past the grace: removed now. */
  dropped: string[];
}

/**
 * The keys to publish: the cluster's (they are the truth; a kid with new material replaces the
 * old), then each published key the cluster no longer lists, until it has been gone for `graceMs`.
 */
export function mergeKeys(published: Jwk[], cluster: Jwk[], retiredBefore: Record<string, string>, now: Date, graceMs = RETIRED_KEY_GRACE_MS): KeyMerge {
  const clusterKids = new Set(cluster.map((k) => k.kid).filter((k): k is string => !!k));
  const added = cluster.filter((k) => k.kid && !published.some((p) => p.kid === k.kid && sameKey(p, k))).map((k) => k.kid!);
  const keys = [...cluster.filter((k) => k.kid)];
  const retired: Record<string, string> = {};
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const p of published) {
    if (!p.kid || clusterKids.has(p.kid) || keys.some((k) => k.kid === p.kid)) continue;
    const since = retiredBefore[p.kid] ?? now.toISOString();
    if (now.getTime() - Date.parse(since) >= graceMs) {
      dropped.push(p.kid);
      continue;
    }
    retired[p.kid] = since;
    kept.push(p.kid);
    keys.push(p);
  }
  return { keys, retired, added, kept, dropped };
}

export interface KeyComparison {
  /** kids the cluster lists and the published JWKS lacks (or has with other material). */
  missing: string[];
  /** kids published and no longer listed by the cluster (retired keys: fine). */
  extra: string[];
}

export function compareKeys(published: Jwk[], cluster: Jwk[]): KeyComparison {
  return {
    missing: cluster.filter((k) => k.kid && !published.some((p) => p.kid === k.kid && sameKey(p, k))).map((k) => k.kid!),
    extra: published.filter((p) => p.kid && !cluster.some((k) => k.kid === p.kid)).map((p) => p.kid!),
  };
}
