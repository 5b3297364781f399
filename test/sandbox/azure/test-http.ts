// A plain HTTPS request to a stand-in, for what Azure's clients would refuse to send.
import https from 'node:https';

/** One HTTPS request trusting `ca`, for what the clients would refuse to send (a bad name, no api-version). */
export function raw(url: string, o: { ca: Buffer; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; json: any; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', headers: o.headers, ca: o.ca, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        let json: unknown = undefined;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = body;
        }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers as Record<string, string> });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
