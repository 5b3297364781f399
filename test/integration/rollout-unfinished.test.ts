// A restart is done when its rollout has completed. Against the sandbox's real scheduler and
// controllers: Central made unschedulable (a nodeSelector no node has) never finishes rolling out;
// init says why (the pods' conditions and events) with the fix, never reports the restart done, a
// re-run waits for the unfinished rollout again instead of finding nothing to change, Ctrl-C while
// waiting leaves it not done (exit 130), and once the cause is gone a re-run finishes.
import { spawn } from 'node:child_process';
import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { cli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { mergePatch, seedRhacs, uniqueNamespace, waitForRollout } from '../sandbox/fixtures.js';
import { kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();
const kc = kubeConfigFor(sb, 'eks');
const apps = kc.makeApiClient(AppsV1Api);
const NO_NODE = { 'sandbox.rhacs-sts.test/pool': 'nowhere' };

/** Starts init, presses Ctrl-C once it reports the rollout's progress, and returns how it ended. */
function interruptWhileWaiting(args: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('RHACS_STS_')) delete env[k];
  Object.assign(env, sb.awsEnv, { KUBECONFIG: sb.clusters.eks!.kubeconfig, NO_COLOR: '1' });
  return new Promise((resolve) => {
    const child = spawn('bin/rhacs-sts', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!sent && /rollout .*central: /.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('an unfinished rollout is not a finished restart', () => {
  it('says why it cannot finish, waits again on a re-run, stays not done when interrupted, and finishes once fixed', async () => {
    const ns = uniqueNamespace('ru');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const common = ['--namespace', ns, '--role-name', 'ru-eks'];
    await apps.patchNamespacedDeployment({ name: 'central', namespace: ns, body: { spec: { template: { spec: { nodeSelector: NO_NODE } } } } }, mergePatch());

    // First run: the restart is made, the rollout cannot finish; the message says why and the fix.
    const first = await cli(sb, 'eks', ['init', '--yes', '--timeout', '5s', ...common]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(new RegExp(`Deployment ${ns}/central did not become ready within 5s`));
    expect(first.stderr).toMatch(/No node can run pod central-[a-z0-9]+-[a-z0-9]+ \(0\/\d nodes are available: .*node affinity\/selector/);
    expect(first.stderr).toMatch(/nodeSelector, affinity, tolerations and resource requests/);
    expect(first.stderr).toMatch(/✗ Restart central .*\(the rollout did not finish\)/);
    expect(first.stderr).not.toMatch(/✓ Restart central/);

    // A re-run: the wiring and the (pending) pods carry the role, but the rollout has not finished.
    const again = await cli(sb, 'eks', ['init', '--yes', '--timeout', '3s', ...common]);
    expect(again.code, again.stderr).toBe(1);
    expect(`${again.stdout}\n${again.stderr}`).toMatch(/Wait for central to finish rolling out \(its last rollout has not finished: 1\/1 updated, 0 available/);
    expect(again.stderr).not.toMatch(/Nothing to change/);
    expect(again.stderr).toMatch(/No node can run pod central-/);

    // Ctrl-C while waiting: exit 130, the wait is not reported done, and the reason is given.
    const stopped = await interruptWhileWaiting(['init', '--yes', '--timeout', '60s', ...common]);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/- Wait for central to finish rolling out .*\(interrupted before the rollout finished\)/);
    expect(stopped.stderr).not.toMatch(/✓ Wait for central/);
    expect(stopped.stderr).toMatch(/the rollout has not finished \(1\/1 updated, 0 available.*No node can run pod central-/s);
    expect(stopped.stderr).toMatch(/A re-run waits for the rollout again/);

    // The cause removed: the rollout completes, and a re-run has nothing left to wait for.
    await apps.patchNamespacedDeployment({ name: 'central', namespace: ns, body: { spec: { template: { spec: { nodeSelector: null } } } } }, mergePatch());
    await waitForRollout(kc, ns, 'central');
    const done = await cli(sb, 'eks', ['init', '--yes', ...common]);
    expect(done.code, done.stderr).toBe(0);
    expect(`${done.stdout}\n${done.stderr}`).not.toMatch(/Wait for central/);
  }, 240_000);
});
