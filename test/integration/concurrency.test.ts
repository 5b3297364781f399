// Two `init` runs at once against the same account, cluster, namespace and role: both succeed,
// or one stops with a clear "changed underneath me, re-run" error; either way the end state is
// exactly that of a single run.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { snapshot } from '../sandbox/snapshot.js';

const sb = useSandbox();

function init(ns: string, role: string): Promise<{ code: number | null; stderr: string }> {
  const env = { ...process.env, ...sb.awsEnv, KUBECONFIG: sb.clusters.eks!.kubeconfig, NO_COLOR: '1' };
  return new Promise((resolve) => {
    const child = spawn('bin/rhacs-sts', ['init', '--yes', '--namespace', ns, '--role-name', role, '--delegated-scanning', '--timeout', '60s'], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('concurrent init runs', () => {
  it.each([1, 2, 3])('two at once converge to the state of one run (round %i)', async () => {
    await resetAws(sb);
    const kc = kubeConfigFor(sb, 'eks');
    const single = uniqueNamespace('conc-one');
    await seedRhacs(kc, { namespace: single, method: 'manifests' });
    const one = await init(single, 'rhacs-conc');
    expect(one.code, one.stderr).toBe(0);
    const expected = await snapshot(sb, 'eks', single);

    await resetAws(sb);
    const ns = uniqueNamespace('conc-two');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const [a, b] = await Promise.all([init(ns, 'rhacs-conc'), init(ns, 'rhacs-conc')]);
    for (const r of [a, b]) {
      if (r.code !== 0) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^error: /m);
        expect(r.stderr).toMatch(/re-run/i);
      }
    }
    expect([a.code, b.code]).toContain(0);
    expect(await snapshot(sb, 'eks', ns)).toEqual(expected);
  });
});
