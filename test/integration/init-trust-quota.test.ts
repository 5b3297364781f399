// init against IAM's trust policy size quota (enforced by the sandbox's AWS gate, as IAM does): the
// refusal names the policy's size, the quota and the Service Quotas code to raise it.
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, gateDecisions, gateMark, kubeConfigFor, setTrustPolicyQuota } from '../sandbox/observe.js';

const sb = useSandbox();
afterAll(() => setTrustPolicyQuota(sb, 2048));

describe('init and the trust policy size quota', () => {
  it('a trust policy over the quota fails with its size, the quota and L-C07B4B0D', async () => {
    const ns = uniqueNamespace('quota');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    // Our trust policy for one cluster is a few hundred characters: a small quota makes it too large.
    await setTrustPolicyQuota(sb, 200);
    const a0 = await awsMark(sb);
    const d0 = await gateMark(sb);
    const r = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'rhacs-quota']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The trust policy is too large while creating the role rhacs-quota: \d+ characters \(whitespace not counted\), over the IAM quota of 200 \(ACLSizePerRole\)/);
    expect(r.stderr).toContain('L-C07B4B0D');
    expect((await awsRequests(sb, a0)).filter((x) => x.action === 'CreateRole').every((x) => x.status === 409)).toBe(true);
    expect(await gateDecisions(sb, d0)).toContainEqual(expect.objectContaining({ action: 'iam:CreateRole', role: 'rhacs-quota', allowed: false, code: 'LimitExceeded' }));
  });
});
