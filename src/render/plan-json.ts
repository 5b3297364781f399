/** The machine-readable plan: one JSON document, policies as objects. */
import type { Plan } from '../plan/model.js';

export function planToJson(plan: Plan, extra: Record<string, unknown> = {}): string {
  const { actions, ...rest } = plan;
  return JSON.stringify(
    {
      ...rest,
      actions: actions.map((a) => ({
        id: a.id,
        type: a.type,
        target: a.target,
        status: a.status,
        summary: a.summary,
        ...(a.current !== undefined ? { current: a.current } : {}),
        ...(a.desired !== undefined ? { desired: a.desired } : {}),
      })),
      ...extra,
    },
    null,
    2,
  );
}
