// Cross-account ECR through the built binary against the sandbox, whose AWS gate authorizes calls
// made with role credentials as ECR does (the role's policies, its permissions boundary and, for
// another account's repository, the repository policy). The sandbox seeds registry 111122223333 with
// `shared/base`, which has no repository policy: the role's own policy is not enough there, and
// ecr:GetAuthorizationToken succeeds without any grant. So plan and init print the statement the
// registry owner must add; verify reads the repository with the role's credentials and fails until
// the owner has added it, then passes.
import { CreatePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DeleteRepositoryPolicyCommand, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useSandbox } from '../sandbox/context.js';
import { REGISTRY_ACCOUNT_ID } from '../sandbox/aws/ecr-seed.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { motoEcr } from '../sandbox/aws/gate-wire.js';
import { gateDecisions, gateMark, kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { checksOf, cli, iamClient } from './verify-support.js';

const sb = useSandbox();
const region = sb.awsEnv.AWS_REGION;
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });
beforeEach(() => resetAws(sb));
/** The registry owner's view of their registry (the sandbox admin acting as account 111122223333). */
const ownerEcr = () => motoEcr(sb.motoUrl, region, REGISTRY_ACCOUNT_ID);
afterEach(async () => {
  await ownerEcr().send(new DeleteRepositoryPolicyCommand({ repositoryName: 'shared/base' })).catch(() => undefined);
});

const SHARED = ['--ecr-registry-id', REGISTRY_ACCOUNT_ID, '--ecr-repository', 'shared/base'];

async function setUp(role: string, extra: string[] = []) {
  const ns = uniqueNamespace(`x-${role}`);
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
  return { ns, flags: ['--namespace', ns, '--role-name', role, ...SHARED, ...extra] };
}

async function verify(ns: string, role: string) {
  const r = await cli(sb, 'eks', ['verify', '--namespace', ns, '--role-name', role, '--output', 'json']);
  const rows = checksOf(r.stdout);
  return { code: r.code, stderr: r.stderr, row: (check: string) => rows.find((x) => x.check === check)! };
}

describe('cross-account ECR', () => {
  it('plan and init print the repository-policy statement; verify fails until the registry owner adds it, then passes', async () => {
    const role = 'x-acct';
    const { ns, flags } = await setUp(role);
    const roleArn = `arn:aws:iam::${sb.accountId}:role/${role}`;

    // The plan names the grant, in text and JSON.
    const planned = await cli(sb, 'eks', ['plan', ...flags, '--output', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const grant = JSON.parse(planned.stdout).repositoryGrant as { registryId: string; repositories: string[]; statement: Record<string, unknown> };
    expect(grant).toMatchObject({ registryId: REGISTRY_ACCOUNT_ID, repositories: ['shared/base'], statement: { Effect: 'Allow', Principal: { AWS: roleArn } } });
    expect(grant.statement.Action).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages']);

    // init prints it in the plan and again at the end.
    const init = await cli(sb, 'eks', ['init', '--yes', ...flags]);
    expect(init.code, init.stderr).toBe(0);
    const command = `aws ecr set-repository-policy --registry-id ${REGISTRY_ACCOUNT_ID} --region <registry region> --repository-name shared/base --policy-text '${JSON.stringify({ Version: '2012-10-17', Statement: [grant.statement] })}'`;
    expect(init.stdout).toContain(`Registry ${REGISTRY_ACCOUNT_ID} is in another account: its owner must grant the role read access.`);
    expect(init.stdout).toContain(command);
    expect(init.stderr).toContain(`Registry ${REGISTRY_ACCOUNT_ID} is in another account`);
    expect(init.stderr).toContain(command);

    // Without the repository policy: the token call works, the read does not. verify needs no --ecr-* flag: the role's policy says where.
    const d0 = await gateMark(sb);
    const before = await verify(ns, role);
    expect(before.code, before.stderr).toBe(3);
    expect(before.row('ECR permissions').result).toBe('pass');
    const e2e = before.row('End to end central');
    expect(e2e.result).toBe('fail');
    expect(e2e.detail).toMatch(new RegExp(`ecr:GetAuthorizationToken succeeded \\(https://${REGISTRY_ACCOUNT_ID}\\.dkr\\.ecr\\.${region}\\.amazonaws\\.com\\), but reading repository shared/base in registry ${REGISTRY_ACCOUNT_ID} failed: ecr:DescribeRepositories: AccessDeniedException: .*because no resource-based policy allows the ecr:DescribeRepositories action`));
    expect(e2e.fix).toBe(`The owner of registry ${REGISTRY_ACCOUNT_ID} must add this statement to the repository policy of shared/base: ${JSON.stringify(grant.statement)}`);
    const decisions = await gateDecisions(sb, d0);
    expect(decisions).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'ecr:GetAuthorizationToken', allowed: true }),
      expect.objectContaining({ action: 'ecr:DescribeRepositories', allowed: false, code: 'AccessDeniedException', resource: `arn:aws:ecr:${region}:${REGISTRY_ACCOUNT_ID}:repository/shared/base` }),
    ]));

    // The registry owner adds the printed statement, as printed.
    await ownerEcr().send(new SetRepositoryPolicyCommand({ repositoryName: 'shared/base', policyText: JSON.stringify({ Version: '2012-10-17', Statement: [grant.statement] }) }));
    const d1 = await gateMark(sb);
    const after = await verify(ns, role);
    expect(after.code, after.stderr).toBe(0);
    expect(after.row('End to end central')).toMatchObject({
      result: 'pass',
      detail: expect.stringMatching(new RegExp(`; read shared/base \\(DescribeRepositories, ListImages, BatchGetImage of (9\\.4|latest)\\) in registry ${REGISTRY_ACCOUNT_ID}\\.$`)),
    });
    expect((await gateDecisions(sb, d1)).filter((d) => d.action.startsWith('ecr:')).map((d) => `${d.action} ${d.allowed}`)).toEqual([
      'ecr:GetAuthorizationToken true', 'ecr:DescribeRepositories true', 'ecr:ListImages true', 'ecr:BatchGetImage true',
    ]);
  }, 180_000);

  it('the local permissions check includes the permissions boundary, and ECR agrees', async () => {
    const role = 'x-bounded';
    // A boundary that lets the role read its own account's registry only.
    const boundary = await iam.send(new CreatePolicyCommand({
      PolicyName: `x-boundary-${Date.now().toString(36)}`,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:*:${sb.accountId}:repository/*` },
        ],
      }),
    }));
    const { ns, flags } = await setUp(role, ['--permissions-boundary', boundary.Policy!.Arn!]);
    const init = await cli(sb, 'eks', ['init', '--yes', ...flags]);
    expect(init.code, init.stderr).toBe(0);
    // Even with the repository policy in place, the boundary keeps the role out.
    const planned = JSON.parse((await cli(sb, 'eks', ['plan', ...flags, '--output', 'json'])).stdout) as { repositoryGrant: { statement: unknown } };
    await ownerEcr().send(new SetRepositoryPolicyCommand({ repositoryName: 'shared/base', policyText: JSON.stringify({ Version: '2012-10-17', Statement: [planned.repositoryGrant.statement] }) }));

    const r = await verify(ns, role);
    expect(r.code, r.stderr).toBe(3);
    const perms = r.row('ECR permissions');
    expect(perms.result).toBe('fail');
    expect(perms.detail).toContain(`but the permissions boundary ${boundary.Policy!.Arn} does not allow ecr:BatchCheckLayerAvailability on arn:aws:ecr:*:${REGISTRY_ACCOUNT_ID}:repository/shared/base`);
    expect(r.row('End to end central')).toMatchObject({ result: 'fail', detail: expect.stringMatching(/because no permissions boundary allows the ecr:DescribeRepositories action/) });
    // Not the registry owner's to fix: the boundary is the role's.
    expect(r.row('End to end central').fix).not.toMatch(/must add this statement/);
  }, 180_000);
});
