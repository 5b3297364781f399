/**
 * Whether an IAM policy document allows an action on a resource, for verify's local look at the
 * role's ECR permissions: its inline policy and its permissions boundary (IAM grants only what both
 * allow, and an explicit deny in either wins). The resources asked about may be patterns themselves
 * (the role's scope, e.g. `arn:aws:ecr:*:111122223333:repository/team/*`): a statement allows one
 * when its own pattern covers the whole of it. Conditions are not evaluated: a statement with one
 * counts as applying. The end-to-end check (real credentials against ECR) has the last word.
 */
import type { PolicyDocument, PolicyStatement } from '../policies.js';

export type PolicyVerdict = 'allow' | 'deny' | 'none';

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function globRe(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

/** `pattern` matches every value `wanted` stands for (wanted's own wildcards taken literally). */
function covers(pattern: string, wanted: string): boolean {
  return globRe(pattern).test(wanted);
}

/** `pattern` matches part of what `wanted` stands for, at least: it covers it, or is itself within it. */
function overlaps(pattern: string, wanted: string): boolean {
  return covers(pattern, wanted) || covers(wanted, pattern);
}

function matchesAction(s: PolicyStatement, action: string): boolean {
  if (s.NotAction !== undefined) return !asList(s.NotAction).some((a) => covers(a, action));
  return asList(s.Action).some((a) => covers(a, action));
}

function matchesResource(s: PolicyStatement, resource: string, how: (pattern: string, wanted: string) => boolean): boolean {
  if (s.NotResource !== undefined) return !asList(s.NotResource).some((r) => overlaps(r, resource));
  return asList(s.Resource).some((r) => how(r, resource));
}

/**
 * The document's verdict on `action` over all of `resource`: deny when a Deny statement reaches
 * any part of it, allow when an Allow statement covers all of it, else none (implicitly denied).
 */
export function evaluatePolicy(doc: PolicyDocument | undefined, action: string, resource: string): PolicyVerdict {
  const st = doc?.Statement ?? [];
  if (st.some((s) => s.Effect === 'Deny' && matchesAction(s, action) && matchesResource(s, resource, overlaps))) return 'deny';
  if (st.some((s) => s.Effect === 'Allow' && matchesAction(s, action) && matchesResource(s, resource, covers))) return 'allow';
  return 'none';
}

/** The (action, resource) pairs of `wanted` the document does not allow. */
export function notAllowed(doc: PolicyDocument | undefined, wanted: { action: string; resource: string }[]): { action: string; resource: string; verdict: PolicyVerdict }[] {
  return wanted.map((w) => ({ ...w, verdict: evaluatePolicy(doc, w.action, w.resource) })).filter((w) => w.verdict !== 'allow');
}
