/** The role's trust policy: this run's statements converged into what is there now, re-checked after writing. */
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { OperationError } from '../../../errors.js';
import type { Plan } from '../../../plan/model.js';
import { issuerHostPath } from '../../../validate.js';
import { federatedHostPaths, isOurStatement, isPodIdentityStatement, mergeTrustPolicy, samePolicy, withPodIdentityStatement } from '../policies.js';
import type { AwsAction } from '../session.js';
import { retryPropagation, type IamContext } from './context.js';
import { assertOwned } from './ownership.js';
import { readRoleBasic } from './read.js';

/** Writes of the trust policy per run, and the pause before checking that a write stuck. */
const TRUST_WRITE_ATTEMPTS = 4;
const TRUST_SETTLE_MS = 400;

/**
 * IAM has no conditional write: two runs for different clusters that update the trust policy at
 * the same moment can each drop the other's new statement. So after writing, re-read (after a
 * short, random pause) and write again while this run's statements are not what it wrote; the
 * other run does the same for its own, so both converge. Bounded.
 */
export async function ensureTrust(ctx: IamContext, a: Extract<AwsAction, { type: 'trust-policy' }>, plan: Plan): Promise<boolean> {
  const scope = a.scope ?? [...new Set(a.document.Statement.filter(isOurStatement).flatMap(federatedHostPaths))].map((hp) => `https://${hp}`);
  const paths = new Set(scope.map(issuerHostPath));
  const ours = a.document.Statement.filter((s) => isOurStatement(s) && federatedHostPaths(s).some((p) => paths.has(p)));
  let wrote = false;
  for (let attempt = 1; attempt <= TRUST_WRITE_ATTEMPTS; attempt++) {
    const role = await readRoleBasic(ctx, a.roleName);
    if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
    // Re-merge against what is there now, so statements someone added since the plan survive
    // (foreign ones, and ours for clusters another run added meanwhile).
    // Our one Pod Identity statement is there exactly when the planned document has it.
    const desired = withPodIdentityStatement(mergeTrustPolicy(role.trustPolicy, ours, scope), a.document.Statement.find(isPodIdentityStatement));
    if (samePolicy(role.trustPolicy, desired)) return wrote;
    if (attempt > 1) ctx.log(`the trust policy of ${a.roleName} changed under this run (another run for other clusters?); writing it again (${attempt}/${TRUST_WRITE_ATTEMPTS})`);
    assertOwned(role, plan);
    await retryPropagation(ctx, `updating the trust policy of ${a.roleName}`, () =>
      ctx.iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: a.roleName, PolicyDocument: JSON.stringify(desired) })), { trustPolicy: JSON.stringify(desired) });
    wrote = true;
    await ctx.sleep(TRUST_SETTLE_MS + Math.floor(Math.random() * TRUST_SETTLE_MS));
  }
  return wrote;
}
