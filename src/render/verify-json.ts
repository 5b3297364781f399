/** The machine-readable verify report: one JSON document. */
import type { VerifyReport } from '../verify/run.js';

export function verifyToJson(report: VerifyReport): string {
  return JSON.stringify({ command: 'verify', ...report }, null, 2);
}
