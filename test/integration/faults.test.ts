// Fault injection across a whole `init`: for every request N of an uninterrupted run, fail that
// request (500, throttling, connection reset, 403) or kill the process when it arrives. The run
// either recovers (transient faults are retried) or fails with a clear message; a re-run then
// converges to exactly the state of an uninterrupted run — nothing duplicated, nothing orphaned.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS, startFaultProxies, type Fault, type FaultProxies } from '../sandbox/fault-proxy.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { snapshot } from '../sandbox/snapshot.js';

const sb = useSandbox();
let proxies: FaultProxies;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  proxies = await startFaultProxies(sb, 'eks');
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-faults-'));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  const b64 = (p: string) => readFileSync(p).toString('base64');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'faulty',
    clusters: [{ name: 'faulty', cluster: { server: proxies.kubeUrl, 'certificate-authority-data': b64(sb.caCertPath) } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(sb.adminCertPath), 'client-key-data': b64(sb.adminKeyPath) } }],
    contexts: [{ name: 'faulty', context: { cluster: 'faulty', user: 'admin' } }],
  }));
});
afterAll(async () => {
  await proxies?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string }

function init(ns: string, fault?: { at: number; fault: Fault }): Promise<Run> {
  proxies.arm(fault ?? { at: 0, fault: 'http500' });
  const env: NodeJS.ProcessEnv = { ...process.env, ...sb.awsEnv, AWS_ENDPOINT_URL: proxies.awsUrl, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  return new Promise((resolve) => {
    const child = spawn('bin/rhacs-sts', ['init', '--yes', '--namespace', ns, '--role-name', 'rhacs-faults', '--cluster-name', 'faults', '--delegated-scanning', '--timeout', '30s'], { env });
    proxies.setVictim(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('fault injection across init', () => {
  it('every injected fault recovers or fails clearly, and a re-run converges to the uninterrupted state', async () => {
    await resetAws(sb);
    const refNs = uniqueNamespace('faults-ref');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: refNs, method: 'manifests' });
    const ref = await init(refNs);
    expect(ref.code, ref.stderr).toBe(0);
    const steps = proxies.seen();
    expect(steps.length).toBeGreaterThan(10);
    const expected = await snapshot(sb, 'eks', refNs);

    const outcomes: string[] = [];
    for (let n = 1; n <= steps.length; n++) {
      const fault = FAULTS[(n - 1) % FAULTS.length]!;
      await resetAws(sb);
      const ns = uniqueNamespace(`faults-${n}`);
      await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
      const first = await init(ns, { at: n, fault });
      const where = `fault ${fault} at request ${n} (${steps[n - 1]})`;
      if (fault === 'kill') {
        expect(first.signal, where).toBe('SIGKILL');
      } else if (first.code !== 0) {
        // A clear message: our error line, a hint, no stack trace.
        expect(first.stderr, where).toMatch(/^error: /m);
        expect(first.stderr, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
        expect([1, 2], where).toContain(first.code);
      }
      outcomes.push(`${n} ${fault}: ${first.signal ?? first.code}`);
      const again = await init(ns);
      expect(again.code, `${where}, re-run: ${again.stderr}`).toBe(0);
      expect(await snapshot(sb, 'eks', ns), where).toEqual(expected);
    }
    // Transient faults on AWS are retried by the SDK: at least one run recovered by itself.
    expect(outcomes.some((o) => /(throttle|http500|reset): 0$/.test(o))).toBe(true);
  }, 600_000);
});
