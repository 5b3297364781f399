// No command ever prints a credential: every command runs with --verbose (which logs every API
// call) against the sandbox, with recognisable fake AWS credentials, and its whole output is
// searched for the access key, the secret key, the session token, service-account tokens (JWTs,
// which verify requests through the TokenRequest API), and private keys.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const SECRETS = {
  AWS_ACCESS_KEY_ID: 'AKIARHACSSTSLEAKTEST',
  AWS_SECRET_ACCESS_KEY: 'LeakTestSecretKey/abcdefghijklmnopqrstuv',
  AWS_SESSION_TOKEN: 'LeakTestSessionTokenAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
};

function cli(cluster: 'eks' | 'openshift', args: string[]): Promise<{ code: number; out: string }> {
  const env = { ...process.env, ...sb.awsEnv, ...SECRETS, KUBECONFIG: sb.clusters[cluster]!.kubeconfig, NO_COLOR: '1' };
  return new Promise((resolve) => {
    execFile('bin/rhacs-sts', [...args, '--verbose'], { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

function expectNoSecrets(out: string): void {
  for (const [name, value] of Object.entries(SECRETS)) expect(out, `${name} leaked`).not.toContain(value);
  expect(out, 'a JWT leaked').not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./);
  expect(out, 'a private key leaked').not.toMatch(/PRIVATE KEY/);
  const adminKey = readFileSync(sb.adminKeyPath, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----'))[0]!;
  expect(out, 'the client key leaked').not.toContain(adminKey.slice(0, 40));
  expect(out).not.toContain(readFileSync(sb.adminKeyPath).toString('base64').slice(0, 40));
}

describe('no secrets in any output, even with --verbose', () => {
  it.each(['eks', 'openshift'] as const)('%s: plan, init, verify, uninstall', async (cluster) => {
    const ns = uniqueNamespace(`secrets-${cluster}`);
    await seedRhacs(kubeConfigFor(sb, cluster), { namespace: ns, method: 'manifests', openshift: cluster === 'openshift' });
    const common = ['--namespace', ns, '--role-name', `rhacs-secrets-${cluster}`, '--delegated-scanning'];
    const runs = [
      await cli(cluster, ['plan', ...common]),
      await cli(cluster, ['plan', ...common, '--output', 'json']),
      await cli(cluster, ['init', '--yes', ...common]),
      await cli(cluster, ['verify', ...common]),
      await cli(cluster, ['verify', ...common, '--output', 'json']),
      // uninstall reverts Sensor's wiring whatever delegated scanning says, so it takes no such flag.
      await cli(cluster, ['uninstall', '--yes', ...common.filter((x) => x !== '--delegated-scanning')]),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    // --verbose really logged the API calls, including the token exchange.
    const all = runs.map((r) => r.out).join('\n');
    expect(all).toMatch(/\[debug\] aws IAM\.GetRole/);
    expect(all).toMatch(/\[debug\] kube (GET|PATCH) /);
    expect(all).toMatch(/AssumeRoleWithWebIdentity/);
    for (const r of runs) expectNoSecrets(r.out);
  });
});
