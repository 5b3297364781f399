// moto's server (IAM, STS, ECR, EKS, S3 models) from the project's virtualenv, on 127.0.0.1. The
// AWS gate (aws-gate.ts) stands in front of it.
import { join } from 'node:path';
import { httpGet, Proc, waitFor } from '../processes.js';

export const MOTO_ACCOUNT_ID = '123456789012';

export interface MotoStart {
  url: string;
  proc: Proc;
  /** Resolves once moto answers. */
  ready: Promise<void>;
}

/** Starts moto on `port`; `start` tracks the process as part of the sandbox. */
export function startMoto(opts: {
  binary: string;
  port: number;
  region: string;
  logDir: string;
  timeoutMs: number;
  start: (proc: Proc) => Proc;
}): MotoStart {
  const url = `http://127.0.0.1:${opts.port}`;
  const proc = opts.start(
    new Proc('moto', opts.binary, ['-H', '127.0.0.1', '-p', String(opts.port)], join(opts.logDir, 'moto.log'), {
      ...process.env,
      // moto must not pick up real credentials or config from the environment.
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_DEFAULT_REGION: opts.region,
      PYTHONUNBUFFERED: '1',
    }),
  );
  const ready = waitFor(`moto at ${url}`, async () => (await httpGet(`${url}/moto-api/data.json`)).status === 200, proc, opts.timeoutMs);
  return { url, proc, ready };
}
