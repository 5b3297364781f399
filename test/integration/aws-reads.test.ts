// What one run asks AWS, counted at the sandbox's AWS gate: a run reads each thing once (the role,
// the account's quotas), however many steps look at it, and reads it afresh after it wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli, type Run } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsRequests, isReadOnlyAwsAction, kubeConfigFor } from '../sandbox/observe.js';

const sb = useSandbox();

/** Each AWS action sent since `mark` with how often: all of them, and those before the run's first write (what it read to plan). */
async function countsSince(mark: number): Promise<{ all: Record<string, number>; planning: Record<string, number> }> {
  const requests = await awsRequests(sb, mark);
  const firstWrite = requests.findIndex((r) => !isReadOnlyAwsAction(r.action));
  const count = (rs: typeof requests) => {
    const counts: Record<string, number> = {};
    for (const r of rs) counts[r.action ?? `${r.method} ${r.path}`] = (counts[r.action ?? `${r.method} ${r.path}`] ?? 0) + 1;
    return counts;
  };
  return { all: count(requests), planning: count(firstWrite < 0 ? requests : requests.slice(0, firstWrite)) };
}

async function counted(args: string[]): Promise<{ run: Run } & Awaited<ReturnType<typeof countsSince>>> {
  const mark = await awsMark(sb);
  const run = await runCli(sb, 'eks', args);
  expect(run.code, run.stderr).toBe(0);
  return { run, ...(await countsSince(mark)) };
}

const ROLE = 'reads-role';
const POD_ROLE = 'reads-pod-role';
let ns: string;
beforeAll(async () => {
  ns = uniqueNamespace('reads');
  await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
});
afterAll(async () => {
  // Whatever a failed test left behind (a second uninstall finds nothing to do).
  await runCli(sb, 'eks', ['uninstall', '--namespace', ns, '--role-name', ROLE, '--yes']);
  await runCli(sb, 'eks', ['uninstall', '--namespace', ns, '--role-name', POD_ROLE, '--yes']);
});

// Each step that looks at the role (the settings an earlier run left, the plan) used to read it
// again: GetRole, GetRolePolicy, ListAttachedRolePolicies, ListRolePolicies and GetAccountSummary twice per run.
describe('a run reads the role and the account summary once', () => {
  it('first init: one read of each before the first write; after it, only the re-check before each write', async () => {
    const { planning, all } = await counted(['init', '--namespace', ns, '--role-name', ROLE, '--yes']);
    // The provider twice: once to plan, once as the re-check just before it is created (the first write).
    expect(planning).toEqual({ GetCallerIdentity: 1, GetAccountSummary: 1, GetRole: 1, GetOpenIDConnectProvider: 2, ListOpenIDConnectProviders: 1 });
    expect(all.GetAccountSummary).toBe(1);
    // Writes: the provider, the role (created with its trust policy) and its permissions; each re-read before writing.
    expect(all).toMatchObject({ CreateOpenIDConnectProvider: 1, CreateRole: 1, PutRolePolicy: 1, GetOpenIDConnectProvider: 2 });
    // The role: once to plan, then before creating it, converging its trust policy and writing its permissions.
    expect(all.GetRole).toBe(4);
  });

  it('re-run and plan: every read once, nothing written', async () => {
    const once = { GetCallerIdentity: 1, GetAccountSummary: 1, GetRole: 1, GetRolePolicy: 1, ListAttachedRolePolicies: 1, ListRolePolicies: 1, GetOpenIDConnectProvider: 1 };
    const again = await counted(['init', '--namespace', ns, '--role-name', ROLE, '--yes']);
    expect(again.all).toEqual(once);
    const plan = await counted(['plan', '--namespace', ns, '--role-name', ROLE]);
    expect(plan.all).toEqual(once);
  });

  it('uninstall: the role once to plan, then once more as the re-check before deleting it (its inline policies listed once there)', async () => {
    const { all } = await counted(['uninstall', '--namespace', ns, '--role-name', ROLE, '--yes']);
    expect(all).toMatchObject({ DeleteRolePolicy: 1, DeleteRole: 1, DeleteOpenIDConnectProvider: 1 });
    expect(all).toMatchObject({ GetAccountSummary: 1, GetRole: 2, ListAttachedRolePolicies: 2, ListRolePolicies: 2 });
  });
});

// The associations were read by each step that looks at them (the settings in place, the plan):
// a re-run sent ListPodIdentityAssociations 4 times for two service accounts, and described Central's twice.
describe('a run on EKS Pod Identity reads each association once', () => {
  it('re-run: one list per service account looked at (Central, Sensor), one describe per association, nothing written', async () => {
    const first = await counted(['init', '--namespace', ns, '--role-name', POD_ROLE, '--mechanism', 'pod-identity', '--yes']);
    expect(first.all.CreatePodIdentityAssociation).toBeGreaterThan(0);
    const again = await counted(['init', '--namespace', ns, '--role-name', POD_ROLE, '--mechanism', 'pod-identity', '--yes']);
    // Central's association only (Sensor is wired with delegated scanning); Sensor's service account is looked up too.
    expect(first.all.CreatePodIdentityAssociation).toBe(1);
    expect(again.all).toMatchObject({ GetRole: 1, GetAccountSummary: 1, ListPodIdentityAssociations: 2, DescribePodIdentityAssociation: 1 });
    // No OIDC provider is created for a cluster on Pod Identity, so the account's count of them is not asked for.
    expect(first.all.ListOpenIDConnectProviders).toBeUndefined();
    expect(again.all.ListOpenIDConnectProviders).toBeUndefined();
    expect(Object.keys(again.all).filter((a) => !isReadOnlyAwsAction(a))).toEqual([]);
  });
});
