/**
 * Every AWS SDK client rhacs-sts makes sends its requests through a bounded HTTP handler: a
 * connection must open, an answer start, the socket stay busy and the whole answer arrive, each
 * within the request timeout (--request-timeout). The SDK's retries stay as they are: each
 * attempt is bounded, so the call is. A server that accepts and never answers thus fails the run
 * instead of hanging it.
 *
 * Each client also logs its calls by service and operation (never parameters or credentials), and
 * marks a failure with the call, the endpoint it went to and the bound, so that the error a person
 * reads names them (see errors.ts).
 */
import type { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** What a failed call was (set on the SDK's error by watchCalls; read by mapAwsError). */
export interface CallFacts {
  /** "IAM.GetRole" */
  call: string;
  /** Where the request went: "https://iam.amazonaws.com". */
  endpoint?: string;
  /** The bound of each attempt, in ms. */
  timeoutMs: number;
}

export const CALL_FACTS = Symbol.for('rhacs-sts.aws-call');

export function callFacts(err: unknown): CallFacts | undefined {
  return typeof err === 'object' && err !== null ? (err as { [CALL_FACTS]?: CallFacts })[CALL_FACTS] : undefined;
}

type Handle = NodeHttpHandler['handle'];

/** NodeHttpHandler bounds a request until its answer starts; this bounds the answer's body too. */
class BoundedHttpHandler extends NodeHttpHandler {
  constructor(private readonly totalMs: number) {
    super({
      connectionTimeout: Math.min(totalMs, 10_000),
      requestTimeout: totalMs,
      throwOnRequestTimeout: true,
      socketTimeout: totalMs,
    });
  }

  override async handle(...args: Parameters<Handle>): ReturnType<Handle> {
    const started = Date.now();
    const out = await super.handle(...args);
    const body = out.response.body as Readable | undefined;
    if (body && typeof body.destroy === 'function' && typeof body.once === 'function') {
      const left = Math.max(this.totalMs - (Date.now() - started), 1);
      const timer = setTimeout(() => {
        body.destroy(Object.assign(new Error(`the answer did not complete within ${this.totalMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
      }, left);
      timer.unref();
      const clear = () => clearTimeout(timer);
      body.once('end', clear);
      body.once('close', clear);
      body.once('error', clear);
    }
    return out;
  }
}

/** The client settings every SDK client gets: the bounded handler (the SDK's retry strategy is left alone). */
export function boundedRequests(timeoutMs: number): { requestHandler: NodeHttpHandler } {
  return { requestHandler: new BoundedHttpHandler(timeoutMs) };
}

type Middlewared = { middlewareStack: { add: (mw: unknown, opts: unknown) => void } };
type Context = { clientName?: string; commandName?: string; [CALL_FACTS]?: string };

/**
 * Logs each call by service and operation name (log: undefined logs nothing), and marks its
 * failure with the call, the endpoint and the bound.
 */
export function watchCalls(client: unknown, o: { timeoutMs: number; log?: (message: string) => void }): void {
  const stack = (client as Middlewared).middlewareStack;
  stack.add(
    (next: (a: unknown) => Promise<unknown>, context: Context) => async (args: unknown) => {
      const call = `${String(context.clientName ?? '').replace(/Client$/, '')}.${String(context.commandName ?? '').replace(/Command$/, '')}`;
      o.log?.(`aws ${call}`);
      try {
        return await next(args);
      } catch (err) {
        if (typeof err === 'object' && err !== null && !callFacts(err)) {
          const facts: CallFacts = { call, timeoutMs: o.timeoutMs, ...(context[CALL_FACTS] ? { endpoint: context[CALL_FACTS] } : {}) };
          Object.defineProperty(err, CALL_FACTS, { value: facts, enumerable: false });
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'rhacsStsCallLog' },
  );
  // After the endpoint is resolved and the request built: remember where it goes.
  stack.add(
    (next: (a: unknown) => Promise<unknown>, context: Context) => async (args: { request?: { protocol?: string; hostname?: string; port?: number } }) => {
      const r = args.request;
      if (r?.hostname) context[CALL_FACTS] = `${r.protocol ?? 'https:'}//${r.hostname}${r.port ? `:${r.port}` : ''}`;
      return next(args);
    },
    { step: 'build', name: 'rhacsStsEndpoint' },
  );
}
