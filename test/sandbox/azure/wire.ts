// The HTTP shapes the Azure stand-ins share: a parsed request, a reply, and each service's error body.
import { randomUUID } from 'node:crypto';

export interface AzRequest {
  method: string;
  url: URL;
  host: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface AzReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): AzReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: value === undefined ? '' : JSON.stringify(value) };
}

/** ARM's error shape (common-types ErrorResponse): `{error: {code, message}}`, with ARM's request ids. */
export function armError(status: number, code: string, message: string, details?: { code: string; message: string; target?: string }[]): AzReply {
  const id = randomUUID();
  return json(status, { error: { code, message, ...(details ? { details } : {}) } }, { 'x-ms-request-id': id, 'x-ms-correlation-request-id': id, 'x-ms-failure-cause': status >= 500 ? 'service' : 'gateway' });
}

/** The form body of an OAuth request. */
export function form(req: AzRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

export function header(req: AzRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
