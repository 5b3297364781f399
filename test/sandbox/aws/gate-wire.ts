// Wire shapes shared by the AWS gate's stand-ins (see aws-gate.ts): the parsed request, what a gate
// answers (its own reply, or "forward to moto", possibly rewriting moto's answer), AWS's published
// error shapes (query-protocol XML for IAM and STS, JSON 1.1 for ECR), and admin clients that read
// moto's state directly (not through the gate, so they are neither counted nor gated).
import { randomUUID } from 'node:crypto';
import { ECRClient } from '@aws-sdk/client-ecr';
import { IAMClient } from '@aws-sdk/client-iam';
import type { GateDecision } from '../types.js';

export interface GateRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  action?: string;
  /** Signing service from SigV4 (`iam`, `sts`, `ecr`), undefined when unsigned. */
  service?: string;
  /** Access key id from SigV4, undefined when unsigned. */
  accessKeyId?: string;
  /** Region from SigV4 (or the sandbox region when unsigned). */
  region: string;
  /** Query-protocol parameters (query string and form body merged). */
  params: URLSearchParams;
  /** JSON-protocol body (ECR), or {}. */
  json: Record<string, unknown>;
}

export type GateOutcome =
  | { kind: 'reply'; status: number; contentType: string; body: string; headers?: Record<string, string> }
  | {
      kind: 'forward';
      /** Extra headers for moto (e.g. x-moto-account-id to serve another account's registry). */
      headers?: Record<string, string>;
      /** Sees (and may rewrite) moto's answer. */
      response?: (status: number, body: string) => string | void;
    };

export const FORWARD: GateOutcome = { kind: 'forward' };

export interface GateContext {
  motoUrl: string;
  region: string;
  /** Records one gate decision (also returned by GET /_sandbox/decisions). */
  decide(d: Omit<GateDecision, 'seq' | 'time'>): void;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const XMLNS = { iam: 'https://iam.amazonaws.com/doc/2010-05-08/', sts: 'https://sts.amazonaws.com/doc/2011-06-15/' };

/** The query-protocol error shape IAM and STS answer with. */
export function xmlError(service: 'iam' | 'sts', status: number, code: string, message: string): GateOutcome {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return {
    kind: 'reply',
    status,
    contentType: 'text/xml',
    body:
      `<ErrorResponse xmlns="${XMLNS[service]}"><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code>` +
      `<Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** A successful query-protocol answer without a result element (e.g. AddClientIDToOpenIDConnectProvider). */
export function xmlEmptyResult(service: 'iam' | 'sts', action: string): GateOutcome {
  return {
    kind: 'reply',
    status: 200,
    contentType: 'text/xml',
    body: `<${action}Response xmlns="${XMLNS[service]}"><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** The JSON 1.1 error shape ECR answers with. */
export function jsonError(status: number, type: string, message: string): GateOutcome {
  return { kind: 'reply', status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) };
}

/** Text of the first <Tag>…</Tag> in a query-protocol answer. */
export function xmlText(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(body);
  return m?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

export { xmlEscape };

// moto decides the account from the access key, or from this header (moto's documented override).
const ACCOUNT_HEADER = 'x-moto-account-id';

/** Makes every request of `client` act in `account` (moto's account header). */
export function withAccount<T extends { middlewareStack: { add: Function } }>(client: T, account: string | undefined): T {
  if (!account) return client;
  client.middlewareStack.add(
    (next: (a: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      args.request.headers[ACCOUNT_HEADER] = account;
      return next(args);
    },
    { step: 'build', name: 'motoAccount' },
  );
  return client;
}

const ADMIN = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const iamClients = new Map<string, IAMClient>();
const ecrClients = new Map<string, ECRClient>();

/** IAM on moto as the sandbox admin, in `account` (default: moto's default account). */
export function motoIam(motoUrl: string, account?: string): IAMClient {
  const key = `${motoUrl}|${account ?? ''}`;
  let c = iamClients.get(key);
  if (!c) iamClients.set(key, (c = withAccount(new IAMClient({ region: 'us-east-1', endpoint: motoUrl, credentials: ADMIN, maxAttempts: 1 }), account)));
  return c;
}

/** ECR on moto as the sandbox admin, in `account` and `region`. */
export function motoEcr(motoUrl: string, region: string, account?: string): ECRClient {
  const key = `${motoUrl}|${region}|${account ?? ''}`;
  let c = ecrClients.get(key);
  if (!c) ecrClients.set(key, (c = withAccount(new ECRClient({ region, endpoint: motoUrl, credentials: ADMIN, maxAttempts: 1 }), account)));
  return c;
}

export const MOTO_ACCOUNT_HEADER = ACCOUNT_HEADER;
