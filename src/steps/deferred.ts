/**
 * What --no-restart (or a rollout left to "helm upgrade") leaves for later, said after init and
 * uninstall alike: the restarts to run (EKS), and the Helm values to apply when a rollout suits
 * (OpenShift). Each command words it its own way.
 */
import type { HelmValuesFile } from '../apply/helm-values.js';
import { helmUpgradeCommand } from '../plan/helm-values.js';
import type { Action, Plan } from '../plan/model.js';
import type { Ui } from '../ui/ui.js';

type Restart = Extract<Action, { type: 'restart' }>;

export interface DeferredWording {
  /** Heading of the restarts to run later. */
  restarts: string;
  /** Heading of the Helm values to apply, given the deployments they roll and whether restarts were listed first. */
  rollouts(names: string, afterRestarts: boolean): string;
  /** Lead of each command line. */
  indent: string;
  /** Say which restarts are a short outage (Recreate strategy). */
  outage: boolean;
  /** Said when no values file was written. */
  noFile?: string;
}

/** After init: what to run so the pods pick up the role (`lead` numbers it among the next steps). */
export const afterInit = (lead = ''): DeferredWording => ({
  restarts: `${lead}Restart the pods so they pick up the role:`,
  rollouts: (names, afterRestarts) => `${afterRestarts ? '  ' : lead}When a rollout suits, apply the Helm values, which sets the environment and rolls ${names}:`,
  indent: '       ',
  outage: true,
  noFile: '     (<file>: the values shown in the plan for that release; --helm-values-out writes them)',
});

/** After uninstall: what to run so the pods stop using the role. */
export const afterUninstall: DeferredWording = {
  restarts: 'Restart later so the pods stop using the role:',
  rollouts: () => 'When a rollout suits, apply the Helm values that undo the wiring (this rolls the pods):',
  indent: '  ',
  outage: false,
};

export function printDeferred(plan: Plan, files: HelmValuesFile[] | undefined, ui: Ui, w: DeferredWording): void {
  const deferred = plan.actions.filter((a): a is Restart => a.type === 'restart' && a.deferred === true);
  const restarts = deferred.filter((a) => a.method === 'restartedAt');
  const rollouts = deferred.filter((a) => a.method !== 'restartedAt');
  const outage = (a: { outage?: boolean }) => (w.outage && a.outage ? ' (Recreate strategy: a short outage)' : '');
  if (restarts.length) {
    ui.info(w.restarts);
    for (const a of restarts) ui.info(`${w.indent}kubectl${a.ref.context ? ` --context ${a.ref.context}` : ''} -n ${a.ref.namespace} rollout restart deployment/${a.ref.name}${outage(a)}`);
  }
  if (rollouts.length) {
    ui.info(w.rollouts(rollouts.map((a) => `${a.ref.name}${outage(a)}`).join(', '), restarts.length > 0));
    for (const h of plan.helmValues ?? []) {
      const file = files?.find((f) => f.release === h.release && f.context === h.context)?.file;
      ui.info(`${w.indent}${helmUpgradeCommand(h, file)}`);
    }
    if (w.noFile && !files?.length) ui.info(w.noFile);
  }
}
