// `rhacs-sts status` through the built binary against the sandbox: after init it lists what
// rhacs-sts manages (the OIDC provider, the role, the wiring) as healthy and exits 0; a broken piece
// is unhealthy with its fix and exit 3; JSON carries the same; and no run writes anything.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests, resetAws } from '../sandbox/observe.js';
import { cli, iamClient, type Run } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
beforeAll(() => { iam = iamClient(sb); });
beforeEach(() => resetAws(sb));

/** Runs status and proves it wrote nothing, to AWS or to the cluster. */
async function status(args: string[]): Promise<Run> {
  const a = await awsMark(sb);
  const k = kubeMark(sb, 'eks');
  const r = await cli(sb, 'eks', ['status', ...args]);
  expect((await awsWrites(sb, a)).map((x) => x.action)).toEqual([]);
  expect((await kubeRequests(sb, 'eks', k, { writesOnly: true })).map((x) => `${x.verb} ${x.resource}/${x.name}`)).toEqual([]);
  return r;
}

describe('rhacs-sts status', () => {
  it('after init: the provider, the role and the wiring, all healthy (exit 0); a missing ECR policy is unhealthy (exit 3)', async () => {
    const ns = uniqueNamespace('status');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const role = `status-${ns.slice(-6)}`;
    const init = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', role, '--mechanism', 'irsa']);
    expect(init.code, init.stderr).toBe(0);

    const text = await status(['--namespace', ns, '--role-name', role]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^KIND +NAME +HEALTH +DETAIL$/m);
    expect(text.stdout).toMatch(/^OIDC provider +arn:aws:iam::\d+:oidc-provider\/\S+ +healthy +audience sts\.amazonaws\.com$/m);
    expect(text.stdout).toMatch(new RegExp(`^IAM role +arn:aws:iam::\\d+:role/${role} +healthy `, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^Wiring +${ns}/serviceaccount/central +healthy +annotation eks\\.amazonaws\\.com/role-arn; the pods carry the role$`, 'm'));
    expect(text.stdout).toMatch(/3 managed, all healthy\./);

    const json = await status(['--namespace', ns, '--role-name', role, '--output', 'json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { command: string; healthy: boolean; managed: { kind: string; health: string }[] };
    expect(doc).toMatchObject({ command: 'status', healthy: true });
    expect(doc.managed.map((m) => m.kind)).toEqual(['OIDC provider', 'IAM role', 'Wiring']);

    // Without --role-name: the role the wiring points at, as uninstall finds it.
    const found = await status(['--namespace', ns]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(`role/${role}`);

    await iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: 'rhacs-sts-ecr-read' }));
    const broken = await status(['--namespace', ns, '--role-name', role]);
    expect(broken.code).toBe(3);
    expect(broken.stdout).toMatch(new RegExp(`^IAM role +arn:aws:iam::\\d+:role/${role} +UNHEALTHY +its ECR read policy rhacs-sts-ecr-read is missing`, 'm'));
    expect(broken.stdout).toMatch(/fix: Run "rhacs-sts init" with the same flags/);
    expect(broken.stderr).toMatch(/1 of 3 managed items are not healthy: IAM role/);
  });

  it('where rhacs-sts manages nothing: says so, exit 0', async () => {
    const ns = uniqueNamespace('status-none');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const r = await status(['--namespace', ns, '--role-name', 'status-none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rhacs-sts manages nothing here/);
  });
});
