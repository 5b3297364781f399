/**
 * `init --plan <file>`: the saved plan's choices become the run's, and the plan rebuilt from the
 * live state must match it before anything is applied; when it does not, the hint names the plan
 * command that makes a new one with the same choices.
 */
import type { Detected } from '../discover.js';
import { OperationError } from '../errors.js';
import type { Options } from '../options/options.js';
import { planDrift, type PlanInputs, type SavedPlan } from '../options/plan-file.js';
import type { Plan } from '../plan/model.js';
import { planToJson } from '../render/plan-json.js';
import type { Ui } from '../ui/ui.js';

/** Refuses (nothing changed) when the live plan differs from the saved one; says so when it matches. */
export function checkDrift(saved: SavedPlan, live: { plan: Plan; inputs: PlanInputs; detected: Detected; options: Options }, ui: Ui): void {
  const drift = planDrift(saved, { doc: JSON.parse(planToJson(live.plan, { inputs: live.inputs })), detected: live.detected });
  if (drift.length > 0) {
    const shown = drift.slice(0, 12).map((d) => `  - ${d}`);
    if (drift.length > shown.length) shown.push(`  - … and ${drift.length - shown.length} more`);
    throw new OperationError(
      `The live state has drifted since ${saved.path} was saved, so it no longer shows what would change. Nothing was changed. What differs:\n${shown.join('\n')}`,
      { hint: `Make and review a new plan with the same choices: ${planCommand(hintOptions(live.options, saved), saved.doc.accountId)} --output json > ${shellWord(saved.path)}, then rhacs-sts init --plan ${shellWord(saved.path)}.` },
    );
  }
  ui.info(ui.logColors.green(`✓ The live state matches ${saved.path}.`));
}

/** The options a saved plan's drift hint names: its own, with the cross-account ECR role it kept from what was in place. */
function hintOptions(opts: Options, saved: SavedPlan): Options {
  const arn = saved.inputs.ecr.assumeRoleArn;
  return !opts.ecrAssumeRole && arn ? { ...opts, ecrAssumeRole: arn.slice(arn.lastIndexOf('/') + 1) } : opts;
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./*-]+$/.test(s) && !s.includes('*') ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The plan command that makes the same choices as these options (a saved plan's, for its drift hint). */
export function planCommand(options: Options, accountId: string): string {
  const parts = ['rhacs-sts plan'];
  const add = (flag: string, value?: string) => { if (value !== undefined) parts.push(`${flag} ${shellWord(value)}`); };
  if (options.kubeconfig) add('--kubeconfig', options.kubeconfig);
  if (options.profile) add('--profile', options.profile);
  add('--context', options.context);
  add('--central-context', options.centralContext);
  for (const c of options.sensorContexts) add('--sensor-context', c);
  add('--namespace', options.namespace);
  add('--provider', options.provider);
  add('--oidc-issuer', options.oidcIssuer);
  add('--cluster-name', options.clusterName);
  add('--role-name', options.roleName);
  if (options.rolePath !== '/') add('--role-path', options.rolePath);
  add('--permissions-boundary', options.permissionsBoundary);
  for (const a of options.attachPolicyArns) add('--attach-policy-arn', a);
  add('--mechanism', options.mechanism);
  if (options.delegatedScanning !== undefined) parts.push(options.delegatedScanning ? '--delegated-scanning' : '--no-delegated-scanning');
  if (options.ecrRegistryId !== undefined && options.ecrRegistryId !== accountId) add('--ecr-registry-id', options.ecrRegistryId);
  add('--ecr-region', options.ecrRegion);
  for (const r of options.ecrRepositories) add('--ecr-repository', r);
  add('--ecr-assume-role', options.ecrAssumeRole);
  add('--ecr-assume-role-external-id', options.ecrAssumeRoleExternalId);
  add('--integration-name', options.integrationName);
  if (!options.restart) parts.push('--no-restart');
  if (options.adoptRole) parts.push('--adopt-role');
  if (options.adoptOidcProvider) parts.push('--adopt-oidc-provider');
  if (options.replaceRoleWiring) parts.push('--replace-role-wiring');
  return parts.join(' ');
}
