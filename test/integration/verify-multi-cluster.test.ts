// Central in the EKS cluster and Sensor in the OpenShift cluster (--central-context and
// --sensor-context, the sandbox's combined kubeconfig): verify checks each cluster's issuer,
// provider, trust and wiring under the cluster's name, exchanges a token from each, and uninstall
// restores both clusters and the account.
import { beforeAll, describe, expect, it } from 'vitest';
import type { IAMClient } from '@aws-sdk/client-iam';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { awsSnapshot, checksOf, cli, iamClient, kubeSnapshot } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });

describe('verify and uninstall across two clusters', () => {
  it('verify passes with a row per cluster; uninstall restores both clusters and the account; a second one changes nothing', async () => {
    const ns = uniqueNamespace('vmc');
    const eksKc = kubeConfigFor(sb, 'eks');
    const ocpKc = kubeConfigFor(sb, 'openshift');
    await seedRhacs(eksKc, { namespace: ns, method: 'manifests', components: ['central'] });
    await seedRhacs(ocpKc, { namespace: ns, method: 'manifests', components: ['sensor'], openshift: true });
    const E = sb.clusters.eks!.context;
    const O = sb.clusters.openshift!.context;
    const args = ['--central-context', E, '--sensor-context', O, '--namespace', ns, '--role-name', 'vmc'];
    const before = { aws: await awsSnapshot(iam), eks: await kubeSnapshot(eksKc, ns), ocp: await kubeSnapshot(ocpKc, ns) };

    const init = await cli(sb, 'all', ['init', '--yes', ...args]);
    expect(init.code, init.stderr).toBe(0);

    const v = await cli(sb, 'all', ['verify', '--output', 'json', ...args]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const rows = checksOf(v.stdout);
    expect(rows.filter((r) => r.result === 'fail')).toEqual([]);
    const names = rows.map((r) => r.check);
    for (const n of [`${E}: IAM OIDC provider`, `${O}: IAM OIDC provider`, `${E}: Trust policy`, `${O}: Trust policy`,
      `${E}: Service account central`, `${O}: Deployment sensor env`, `${E}: End to end central`, `${O}: End to end sensor`]) {
      expect(names).toContain(n);
    }
    expect(rows.find((r) => r.check === `${O}: End to end sensor`)).toMatchObject({ result: 'pass', detail: expect.stringMatching(/\(aud openshift\)/) });
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);

    const u = await cli(sb, 'all', ['uninstall', '--yes', ...args]);
    expect(u.code, u.stderr).toBe(0);
    expect({ aws: await awsSnapshot(iam), eks: await kubeSnapshot(eksKc, ns), ocp: await kubeSnapshot(ocpKc, ns) }).toEqual(before);
    const again = await cli(sb, 'all', ['uninstall', '--yes', ...args]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change: nothing of ours is left to remove\./);
  });
});
