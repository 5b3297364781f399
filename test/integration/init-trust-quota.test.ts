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
    // Measured against the account's quota (GetAccountSummary) before any write: no provider, no role.
    expect(r.stderr).toMatch(/The role's trust policy would be \d+ characters \(IAM counts non-white-space characters\), over the account's quota of 200: IAM would refuse it with LimitExceeded/);
    expect(r.stderr).toContain('L-C07B4B0D');
    const sent = await awsRequests(sb, a0);
    expect(sent.map((x) => x.action)).toContain('GetAccountSummary');
    expect(sent.filter((x) => /^(Create|Update|Put|Tag|Add)/.test(x.action ?? ''))).toEqual([]);
    expect(await gateDecisions(sb, d0)).toEqual([]);

    // With the account's quota back at its default, the same init goes through.
    await setTrustPolicyQuota(sb, 2048);
    const ok = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'rhacs-quota', '--no-restart']);
    expect(ok.code).toBe(0);
  });
});
