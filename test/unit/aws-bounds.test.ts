// Every AWS call is bounded: the real SDK clients of createAwsSession against hostile HTTP servers
// on 127.0.0.1 (through AWS_ENDPOINT_URL, as the sandbox points the SDK at moto). The SDK's retries
// stay: each attempt is bounded, so the call is, and the error names the call, the endpoint and
// the bound.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSession } from '../../src/clouds/aws/client.js';
import { mapAwsError } from '../../src/clouds/aws/errors.js';
import { CALL_FACTS } from '../../src/clouds/aws/http.js';
import { exchangePodIdentity } from '../../src/clouds/aws/pod-identity.js';
import { OperationError } from '../../src/errors.js';

const saved: Record<string, string | undefined> = {};
const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
  AWS_SECRET_ACCESS_KEY: 'secret-example-secret-example-secret-0000',
  AWS_REGION: 'eu-west-1',
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
};
beforeEach(() => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(() => {
  for (const k of [...Object.keys(ENV), 'AWS_ENDPOINT_URL']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

async function hostile(handler: (req: IncomingMessage, res: ServerResponse) => void, fn: (endpoint: string, requests: () => number) => Promise<void>): Promise<void> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  saved.AWS_ENDPOINT_URL = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = endpoint;
  try {
    await fn(endpoint, () => requests);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const session = () => createAwsSession({ log: () => undefined, timeoutMs: 300 });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('AWS calls are bounded and their failures name the call, the endpoint and the bound', () => {
  it('a server that accepts and never answers: each attempt ends at the bound, the SDK retries, then exit 1', async () => {
    await hostile(() => undefined, async (endpoint, requests) => {
      const err = await failure(session().identity());
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).exitCode).toBe(1);
      expect((err as OperationError).message).toBe(`AWS did not answer STS.GetCallerIdentity at ${endpoint} within 300 ms (5 attempts) while asking AWS who you are (sts:GetCallerIdentity).`);
      expect((err as OperationError).hint).toMatch(/--request-timeout \(RHACS_STS_REQUEST_TIMEOUT, default 30s\)/);
      expect(requests()).toBe(5);
    });
  });

  it('a server that starts its answer and then sends a byte at a time: bounded too', async () => {
    await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write('<GetCallerIdentityResponse>');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    }, async (endpoint) => {
      const err = await failure(session().identity());
      expect((err as OperationError).message).toMatch(new RegExp(`^AWS did not answer STS\\.GetCallerIdentity at ${endpoint.replace(/\./g, '\\.')} within 300 ms`));
    });
  });

  it('an HTML 502 from the endpoint says the status and the endpoint, not "Unknown: Unknown"', async () => {
    await hostile((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    }, async (endpoint) => {
      const err = await failure(session().identity());
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).message).toBe(`${endpoint} answered STS.GetCallerIdentity with HTTP 502 and no AWS error in the body while asking AWS who you are (sts:GetCallerIdentity): not an answer from AWS itself.`);
      expect((err as OperationError).message).not.toMatch(/Unknown/);
    });
  });

  it.each([
    ['a JSON service (EKS, ECR): the body is not JSON', { name: 'SyntaxError', message: 'Unexpected token \'<\', "<html><bod"... is not valid JSON\n  Deserialization error: …' }],
    ['S3: the body is not XML', { name: 'Unknown', message: 'UnknownError' }],
  ])('%s: the status and the endpoint', (_what, e) => {
    const err = Object.assign(new Error(e.message), { name: e.name, $metadata: { httpStatusCode: 503 } });
    Object.defineProperty(err, CALL_FACTS, { value: { call: 'EKS.ListPodIdentityAssociations', endpoint: 'https://eks.eu-west-1.amazonaws.com', timeoutMs: 30_000 } });
    expect(mapAwsError(err, 'reading the associations').message).toBe('https://eks.eu-west-1.amazonaws.com answered EKS.ListPodIdentityAssociations with HTTP 503 and no AWS error in the body while reading the associations: not an answer from AWS itself.');
  });

  it('an AWS error keeps AWS\'s own words', () => {
    const err = Object.assign(new Error('Role not found'), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    expect(mapAwsError(err, 'reading the role').message).toBe('AWS error while reading the role: ValidationError: Role not found');
  });

  it('EKS Auth (verify on Pod Identity) that never answers: bounded, naming the call, the endpoint and the bound', async () => {
    await hostile(() => undefined, async (endpoint) => {
      const err = await failure(exchangePodIdentity({ clusterName: 'c', region: 'eu-west-1', token: 'x.y.z', endpoint, log: () => undefined, timeoutMs: 300 }));
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).message).toBe(`EKS Auth did not answer AssumeRoleForPodIdentity at ${endpoint} within 0.3s.`);
    });
  });
});
