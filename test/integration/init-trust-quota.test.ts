// init against IAM's trust policy size quota (enforced by the sandbox's AWS gate, as IAM does): the
// refusal names the policy's size, the quota and the Service Quotas code to raise it.
import { CreateOpenIDConnectProviderCommand, DeleteOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { iamClient } from './verify-support.js';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, gateDecisions, gateMark, kubeConfigFor, resetAws, setTrustPolicyQuota } from '../sandbox/observe.js';

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

describe('the account nearing its OIDC provider quota', () => {
  it('plan warns when the providers would pass 90 of the default 100; below that it says nothing', async () => {
    const ns = uniqueNamespace('oidc-quota');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    // The first test created this cluster's provider: start from an empty account.
    await resetAws(sb);
    const iam = iamClient(sb);
    const arns: string[] = [];
    try {
      const quiet = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'rhacs-oidc-quota']);
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toMatch(/IAM OIDC providers/);
      // Someone else's providers fill the account up to 90.
      for (let i = 0; i < 90; i++) {
        const out = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: `https://issuer-${i}.example.com/id/${i}`, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'] }));
        arns.push(out.OpenIDConnectProviderArn!);
      }
      const r = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'rhacs-oidc-quota']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/The account has 90 IAM OIDC providers; this run adds 1\. IAM allows 100 per account by default/);
    } finally {
      for (const arn of arns) await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
      iam.destroy();
    }
  }, 120_000);
});

