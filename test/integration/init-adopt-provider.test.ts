// `init --adopt-oidc-provider` on an IAM OIDC provider someone else created without our audience:
// the audience is added with AddClientIDToOpenIDConnectProvider (served by the AWS gate; moto lacks
// it), GetOpenIDConnectProvider shows it, and verify's real token exchange (the gate checks the
// audience against the provider's client IDs) passes end to end.
import { CreateOpenIDConnectProviderCommand, GetOpenIDConnectProviderCommand, ListOpenIDConnectProviderTagsCommand, type IAMClient } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, gateDecisions, gateMark, kubeConfigFor } from '../sandbox/observe.js';
import { checksOf, iamClient } from './verify-support.js';

const sb = useSandbox();
const issuer = sb.clusters.eks!.issuer;
const providerArn = `arn:aws:iam::${sb.accountId}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;

describe('init --adopt-oidc-provider', () => {
  let iam: IAMClient;
  beforeAll(async () => {
    iam = iamClient(sb);
    await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['someone-elses-app'], ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'] }),
    );
  });

  it('adds our audience to a provider that lacks it, and verify exchanges a real token through it', async () => {
    const ns = uniqueNamespace('adopt-oidc');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const common = ['--namespace', ns, '--role-name', 'rhacs-adopt-oidc'];

    const refused = await cli(sb, 'eks', ['init', '--yes', ...common]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--adopt-oidc-provider/);

    const a0 = await awsMark(sb);
    const adopted = await cli(sb, 'eks', ['init', '--yes', '--adopt-oidc-provider', ...common]);
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
    expect((await awsRequests(sb, a0)).map((r) => r.action)).toContain('AddClientIDToOpenIDConnectProvider');
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    expect(provider.ClientIDList).toEqual(['someone-elses-app', 'sts.amazonaws.com']);

    const d0 = await gateMark(sb);
    const verified = await cli(sb, 'eks', ['verify', ...common, '--output', 'json']);
    const rows = checksOf(verified.stdout);
    expect(rows.find((r) => r.check === 'End to end central'), verified.stdout + verified.stderr).toMatchObject({ result: 'pass' });
    const exchanges = (await gateDecisions(sb, d0)).filter((d) => d.action === 'sts:AssumeRoleWithWebIdentity');
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.every((d) => d.allowed)).toBe(true);

    // Uninstall gives the provider back as it was: never deleted, only our audience and tags removed.
    const u0 = await awsMark(sb);
    const removed = await cli(sb, 'eks', ['uninstall', '--yes', '--no-restart', ...common]);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(removed.stdout + removed.stderr).toMatch(/Give the adopted OIDC provider back \(never deleted\)/);
    const calls = (await awsRequests(sb, u0)).map((r) => r.action);
    expect(calls).not.toContain('DeleteOpenIDConnectProvider');
    expect(calls).toContain('RemoveClientIDFromOpenIDConnectProvider');
    const after = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    expect(after.ClientIDList).toEqual(['someone-elses-app']);
    const tags = await iam.send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: providerArn }));
    expect((tags.Tags ?? []).filter((t) => t.Key?.startsWith('rhacs-sts/'))).toEqual([]);
  });
});
