/**
 * `issuer publish`: OpenShift installed without STS issues its tokens as https://kubernetes.default.svc,
 * which AWS cannot reach. This publishes the cluster's issuer where AWS can read it — ccoctl's layout
 * in an S3 bucket of the cluster's region (the cloud's issuer publishing, through the registry) — creates its IAM OIDC provider
 * (audience openshift) and, only with --set-cluster-issuer and a second confirmation at a terminal,
 * points the cluster at it (a cluster-wide change) and waits for the kube-apiservers to roll out.
 * Re-running it after a signing-key rotation adds the new keys; a second run changes nothing.
 */
import { loadCloud } from '../clouds/registry.js';
import { InputError, OperationError } from '../errors.js';
import type { KubeSession } from '../kube/session.js';
import { DEFAULT_TIMEOUT_MS, type Options } from '../options/options.js';
import type { Sessions } from '../sessions.js';
import type { Ui } from '../ui/ui.js';
import { openOneCluster } from '../steps/open.js';

/** How long the kube-apiservers may take to roll out a new issuer when --timeout is not given. */
const ISSUER_ROLLOUT_DEFAULT_MS = 30 * 60_000;
const SETTLE_POLL_MS = 2000;

export async function runIssuerPublish(options: Options, ui: Ui): Promise<void> {
  checkPublishOptions(options, ui);
  const sessions = await openOneCluster(options, ui);
  const out = await publishIssuer(options, ui, sessions);
  if (options.output === 'text' && !options.dryRun) {
    ui.info('');
    ui.info(out.clusterIssuerSet
      ? 'Next: wire RHACS to AWS with "rhacs-sts init", then check the chain with "rhacs-sts verify".'
      : `Next: point the cluster at ${out.issuer} ("rhacs-sts issuer publish --set-cluster-issuer" at a terminal), then "rhacs-sts init".`);
  }
}

/** Input problems found before anything is contacted. */
export function checkPublishOptions(options: Options, ui: Ui): void {
  if (options.setClusterIssuer && !options.dryRun && !ui.interactive) {
    throw new InputError(
      [{ source: '--set-cluster-issuer', message: 'changes the issuer of every token the cluster issues and rolls its kube-apiservers: it is applied only after a second confirmation at a terminal' }],
      'Run "rhacs-sts issuer publish --set-cluster-issuer" at a terminal; in a script, publish without it and set spec.serviceAccountIssuer yourself.',
    );
  }
}

/** Publishes the cluster's issuer (the cloud's part), then, when asked, points the cluster at it. */
export async function publishIssuer(options: Options, ui: Ui, s: { kube: KubeSession; aws: Sessions['aws'] }) {
  const publishing = await (await loadCloud('aws')).issuerPublishing();
  return publishing.publishIssuer(options, ui, s, setClusterIssuer);
}

/** Sets the cluster's issuer and waits (bounded by --timeout) until the kube-apiservers serve it and the operator has settled. */
async function setClusterIssuer(options: Options, ui: Ui, kube: KubeSession, issuer: string): Promise<void> {
  if (!kube.setServiceAccountIssuer || !kube.clusterOperator) throw new OperationError('This cluster session cannot change the OpenShift issuer.');
  await kube.setServiceAccountIssuer(issuer);
  // A kube-apiserver revision rolls node by node: on three control-plane nodes that takes well over
  // the 5 minutes rollouts of RHACS get by default, so without --timeout this wait gets 30.
  const waitMs = options.timeoutMs === DEFAULT_TIMEOUT_MS ? ISSUER_ROLLOUT_DEFAULT_MS : options.timeoutMs;
  ui.info(`Set spec.serviceAccountIssuer to ${issuer}; waiting for the kube-apiservers to roll out (up to ${Math.round(waitMs / 60_000)} min)…`);
  const deadline = Date.now() + waitMs;
  let last = '';
  await ui.spinner('Waiting for the kube-apiserver operator…', async (setText) => {
    for (let attempt = 0; Date.now() < deadline && attempt < 100_000; attempt++) {
      let served: string | undefined;
      let co: Awaited<ReturnType<NonNullable<KubeSession['clusterOperator']>>> = null;
      try {
        [served, co] = await Promise.all([kube.issuerDiscovery().then((d) => d.issuer), kube.clusterOperator!('kube-apiserver')]);
      } catch (err) {
        // An API server restarting refuses connections for a moment: keep waiting.
        ui.debug(`waiting: ${(err as Error).message}`);
      }
      if (co?.degraded === 'True') {
        throw new OperationError(`The kube-apiserver operator is degraded after the issuer change: ${co.message ?? 'no message'}.`, {
          hint: 'Check "oc get clusteroperator kube-apiserver -o yaml"; to go back, set spec.serviceAccountIssuer to its previous value.',
        });
      }
      const msg = co?.message ?? '';
      if (msg && msg !== last) {
        last = msg;
        setText(`Waiting for the kube-apiserver operator… ${msg}`);
        if (!ui.interactive) ui.step(msg);
      }
      if (served === issuer && co && co.progressing === 'False' && co.available !== 'False') return;
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
    throw new OperationError(`The kube-apiservers did not finish rolling out to the issuer ${issuer} within ${Math.round(waitMs / 1000)} s.`, {
      hint: 'The change is made and keeps rolling out: watch "oc get clusteroperator kube-apiserver", then run "rhacs-sts init". Raise --timeout to wait longer.',
    });
  });
  ui.info(`The cluster now issues its tokens as ${issuer}.`);
}
