/** The machine-readable plan: one JSON document, policies as objects. */
import type { ApplyResult } from '../plan/apply-result.js';
import type { AnyPlan as Plan } from '../plan/model.js';

export interface JsonExtra {
  inputs?: unknown;
  /** What apply did, action by action (absent for a plan). */
  applied?: ApplyResult[];
  /** Set when the run failed or was interrupted: the same message, hint and exit code as on stderr. */
  error?: { message: string; hint?: string; exitCode: number };
  /** Secured clusters left out of the run because they could not be reached. */
  leftOut?: { context: string; message: string }[];
  [key: string]: unknown;
}

/** An error as the JSON document carries it: the same message, hint and exit code as on stderr. */
export function errorJson(err: unknown): NonNullable<JsonExtra['error']> {
  const e = err as { message?: string; hint?: string; exitCode?: unknown } | undefined;
  return { message: e?.message ?? String(err), ...(e?.hint ? { hint: e.hint } : {}), exitCode: typeof e?.exitCode === 'number' ? e.exitCode : 1 };
}

export interface ClusterSection {
  context: string | null;
  /** Kubernetes actions in this cluster that change something. */
  changes: number;
  /** After apply: done (all applied), unchanged (nothing to do), failed, or left-out (not reached). */
  outcome?: 'done' | 'unchanged' | 'failed' | 'left-out';
  error?: string;
  actions: string[];
}

/** One section per cluster: its Kubernetes actions and, after apply, how it went. */
export function clusterSections(plan: Plan, applied?: ApplyResult[], leftOut: JsonExtra['leftOut'] = []): ClusterSection[] {
  const byContext = new Map<string, ClusterSection>();
  for (const a of plan.actions) {
    const ref = (a as { ref?: { context?: string } }).ref;
    if (!ref) continue;
    const key = ref.context ?? '';
    const s = byContext.get(key) ?? { context: ref.context ?? null, changes: 0, actions: [] };
    s.actions.push(a.id);
    if (a.status !== 'unchanged') s.changes++;
    byContext.set(key, s);
  }
  const sections = [...byContext.values()];
  if (applied) {
    for (const s of sections) {
      const mine = applied.filter((r) => s.actions.includes(r.id));
      const failed = mine.find((r) => r.outcome === 'failed');
      s.outcome = failed ? 'failed' : mine.some((r) => r.outcome === 'done') ? 'done' : s.changes > 0 && mine.length < s.actions.length ? 'failed' : 'unchanged';
      if (failed?.error) s.error = failed.error;
    }
  }
  for (const l of leftOut) sections.push({ context: l.context, changes: 0, outcome: 'left-out', error: l.message, actions: [] });
  return sections;
}

export function planToJson(plan: Plan, extra: JsonExtra = {}): string {
  const { actions, ...rest } = plan;
  const { leftOut, ...more } = extra;
  return JSON.stringify(
    {
      ...rest,
      // In its place among the plan's fields: what blocks and the fix (the flag in `fix` is named in the hint).
      blockers: plan.blockers?.map((b) => ({ message: b.message, hint: b.hint })),
      actions: actions.map((a) => ({
        id: a.id,
        type: a.type,
        target: a.target,
        status: a.status,
        summary: a.summary,
        ...(a.current !== undefined ? { current: a.current } : {}),
        ...(a.desired !== undefined ? { desired: a.desired } : {}),
      })),
      clusters: clusterSections(plan, extra.applied, leftOut ?? []),
      ...more,
    },
    null,
    2,
  );
}
