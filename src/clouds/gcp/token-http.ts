/**
 * The requests of the token chain that do not go as the user (session.ts calls with application
 * default credentials): Google STS (no bearer: the cluster's token is in the body) and, as the
 * federated or impersonated identity, IAM Credentials and Artifact Registry. Bounded in time and
 * size; TLS always verified (`trustedCa` adds a CA, it never turns the check off).
 */
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export interface TokenHttpAnswer {
  /** HTTP status; 0 when nothing answered (the reason in `error`). */
  status: number;
  json?: unknown;
  error?: string;
}

export interface TokenHttp {
  request(method: 'GET' | 'POST', url: string, body?: unknown, bearer?: string): Promise<TokenHttpAnswer>;
}

const MAX_BYTES = 1024 * 1024;

export function tokenHttp(o: { timeoutMs?: number; trustedCa?: string } = {}): TokenHttp {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const ca = o.trustedCa ? [...rootCertificates, o.trustedCa] : undefined;
  return {
    request: (method, url, body, bearer) =>
      new Promise((resolve) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        let settled = false;
        const done = (a: TokenHttpAnswer) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          resolve(a);
        };
        const req = https.request(
          url,
          {
            method,
            agent: false,
            rejectUnauthorized: true,
            timeout: timeoutMs,
            ...(ca ? { ca } : {}),
            headers: {
              accept: 'application/json',
              ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
              ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > MAX_BYTES) {
                req.destroy();
                done({ status: 0, error: `${new URL(url).origin} answered with more than ${MAX_BYTES} bytes` });
              } else chunks.push(c);
            });
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = text ? JSON.parse(text) : undefined;
              } catch {
                json = undefined;
              }
              done({ status: res.statusCode ?? 0, ...(json !== undefined ? { json } : {}) });
            });
            res.on('error', (err) => done({ status: 0, error: err.message }));
          },
        );
        const deadline = setTimeout(() => {
          req.destroy();
          done({ status: 0, error: `${new URL(url).origin}: no complete answer within ${timeoutMs} ms` });
        }, timeoutMs);
        req.on('timeout', () => {
          req.destroy();
          done({ status: 0, error: `${new URL(url).origin}: no answer within ${timeoutMs} ms` });
        });
        req.on('error', (err) => done({ status: 0, error: `${new URL(url).origin} could not be reached: ${err.message}` }));
        req.end(data);
      }),
  };
}
