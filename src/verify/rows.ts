// The shape of verify's rows and how each is named: shared by the runner, the neutral checks and each cloud's.
import type { ClusterFacts, Component } from '../plan/model.js';

export type CheckResult = 'pass' | 'warn' | 'fail';

export interface CheckRow {
  /** Stable identifier (for scripts): `<kind>[:<context>:<namespace>:<component>]`. */
  id: string;
  check: string;
  result: CheckResult;
  detail: string;
  /** What to do about it (rows that do not pass). */
  fix?: string;
}

/** Where a row applies, for its name and id. */
export interface Where {
  cluster: ClusterFacts;
  /** Several clusters: names are prefixed with the context. */
  multi: boolean;
}

export function rowId(kind: string, w?: Where, comp?: Component): string {
  if (!w) return kind;
  return [kind, w.cluster.context ?? '', w.cluster.namespace, ...(comp ? [comp] : [])].join(':');
}

export function rowName(name: string, w?: Where): string {
  return w?.multi && w.cluster.context ? `${w.cluster.context}: ${name}` : name;
}

export const row = (id: string, check: string, result: CheckResult, detail: string, fix?: string): CheckRow =>
  result === 'pass' || !fix ? { id, check, result, detail } : { id, check, result, detail, fix };

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
