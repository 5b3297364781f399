// OpenShift without STS, and a stand-in for the part of OpenShift that acts on
// `authentications.config.openshift.io/cluster` `spec.serviceAccountIssuer`.
//
// The flavour: an OpenShift-looking cluster installed without STS (no ccoctl): its API server issues
// tokens as `https://kubernetes.default.svc` (the documented default when the field is empty), its
// discovery document's jwks_uri is the internal API URL, and nothing of it is on the internet. The
// Authentication object has `serviceAccountIssuer: ""`; a ClusterOperator `kube-apiserver` reports
// the API servers' rollout, as on a real cluster.
//
// The stand-in (real: cluster-kube-apiserver-operator's service-account-issuer config observer and
// its static-pod installer) enforces the published contract (openshift/api
// config/v1 types_authentication.go, and the OpenShift docs on changing the issuer):
//   - the issuer is `spec.serviceAccountIssuer`, or `https://kubernetes.default.svc` when empty; a
//     value that is not an https URL is refused (the operator goes Degraded, nothing rolls);
//   - a change rolls the kube-apiservers: the ClusterOperator goes Progressing=True
//     (NodeInstallerProgressing, a new revision), the API server restarts with
//     `--service-account-issuer=<new>` first (it issues tokens) and each previous issuer after it
//     (still accepted: "tokens issued by previous service account issuer will continue to be trusted
//     for a time period chosen by the platform (currently set to 24h)"), then Progressing=False at
//     the new revision;
//   - previous issuers older than 24 h are dropped at the next change (the real operator drops them
//     on a timer; the sandbox never runs that long).
// Not covered: several control-plane nodes (one API server here), the operator's other observers,
// and the kube-controller-manager/openshift-apiserver rollouts a real change also triggers.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { applyCrds, mergePatch } from './objects.js';
import { OPENSHIFT_CRDS, seedOpenShift } from './openshift-flavour.js';
import type { ClusterOptions, Sandbox } from '../sandbox.js';

export const DEFAULT_OPENSHIFT_ISSUER = 'https://kubernetes.default.svc';
const GROUP = 'config.openshift.io';
const VERSION = 'v1';
/** How long a previous issuer stays accepted (openshift/api: "currently set to 24h"). */
export const PREVIOUS_ISSUER_TRUST_MS = 24 * 60 * 60 * 1000;

/** A sandbox cluster of the OpenShift flavour installed without STS. */
export function openShiftWithoutStsCluster(name: string, region?: string): ClusterOptions {
  return {
    name,
    flavour: 'openshift',
    issuer: DEFAULT_OPENSHIFT_ISSUER,
    jwksUri: `https://api-int.${name}.sandbox.example.com:6443/openid/v1/jwks`,
    ...(region ? { region } : {}),
  };
}

const CLUSTER_OPERATOR_CRD = (() => {
  const base = OPENSHIFT_CRDS[0]!;
  const copy = JSON.parse(JSON.stringify(base)) as typeof base;
  copy.metadata = { name: `clusteroperators.${GROUP}` };
  copy.spec.names = { kind: 'ClusterOperator', listKind: 'ClusterOperatorList', plural: 'clusteroperators', singular: 'clusteroperator', shortNames: ['co'] };
  return copy;
})();

type Condition = { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; lastTransitionTime: string };

function conditions(revision: number, progressing?: { to: number }, degraded?: string): Condition[] {
  const now = new Date().toISOString();
  return [
    { type: 'Degraded', status: degraded ? 'True' : 'False', reason: degraded ? 'ServiceAccountIssuerObserver_Error' : 'AsExpected', message: degraded ?? 'NodeControllerDegraded: All master nodes are ready', lastTransitionTime: now },
    progressing
      ? { type: 'Progressing', status: 'True', reason: 'NodeInstaller', message: `NodeInstallerProgressing: 1 node is at revision ${revision}; 0 nodes have achieved new revision ${progressing.to}`, lastTransitionTime: now }
      : { type: 'Progressing', status: 'False', reason: 'AsExpected', message: `NodeInstallerProgressing: 1 node is at revision ${revision}`, lastTransitionTime: now },
    { type: 'Available', status: 'True', reason: 'AsExpected', message: `StaticPodsAvailable: 1 nodes are active; 1 node is at revision ${revision}`, lastTransitionTime: now },
    { type: 'Upgradeable', status: 'True', reason: 'AsExpected', message: 'All is well', lastTransitionTime: now },
  ];
}

async function setOperatorStatus(kc: KubeConfig, revision: number, progressing?: { to: number }, degraded?: string): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObjectStatus(
    { group: GROUP, version: VERSION, plural: 'clusteroperators', name: 'kube-apiserver', body: { status: { conditions: conditions(revision, progressing, degraded) } } },
    mergePatch(),
  );
}

/**
 * Seeds the OpenShift flavour without STS: the config.openshift.io objects with an empty
 * `serviceAccountIssuer`, and the ClusterOperator `kube-apiserver` at revision 1, settled.
 */
export async function seedOpenShiftWithoutSts(kc: KubeConfig, opts: { region?: string; version?: string; infrastructureName?: string } = {}): Promise<void> {
  await seedOpenShift(kc, { issuer: '', ...opts });
  await applyCrds(kc, [CLUSTER_OPERATOR_CRD]);
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    await api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'clusteroperators',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ClusterOperator', metadata: { name: 'kube-apiserver' }, spec: {} },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await setOperatorStatus(kc, 1);
}

export interface AuthenticationOperator {
  /** Rollouts done: the issuers each revision was started with (first issues tokens). */
  readonly revisions: { revision: number; issuers: string[]; at: string }[];
  /** Why the last change was refused, if it was. */
  readonly degraded: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the stand-in for `cluster` of a running sandbox (it needs the Sandbox handle: it restarts
 * the API server). Polls the Authentication object every `intervalMs` until stopped.
 */
export function startAuthenticationOperator(sandbox: Sandbox, cluster: string, opts: { intervalMs?: number; log?: (m: string) => void } = {}): AuthenticationOperator {
  const kc = sandbox.kubeConfig(cluster);
  const api = kc.makeApiClient(CustomObjectsApi);
  const log = opts.log ?? (() => undefined);
  const interval = opts.intervalMs ?? 300;
  const info = sandbox.info.clusters[cluster];
  if (!info) throw new Error(`no sandbox cluster ${cluster}`);
  let current = info.issuer;
  let previous: { issuer: string; since: number }[] = [];
  let revision = 1;
  let degraded: string | undefined;
  const revisions: AuthenticationOperator['revisions'] = [];
  let stopped = false;
  let busy: Promise<void> = Promise.resolve();

  const observe = async () => {
    let spec: { serviceAccountIssuer?: string };
    try {
      const obj = (await api.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'authentications', name: 'cluster' })) as { spec?: typeof spec };
      spec = obj.spec ?? {};
    } catch {
      return; // the API server is restarting or the object is not there yet
    }
    const wanted = (spec.serviceAccountIssuer ?? '').trim() || DEFAULT_OPENSHIFT_ISSUER;
    if (wanted === current) {
      if (degraded) {
        degraded = undefined;
        await setOperatorStatus(kc, revision).catch(() => undefined);
      }
      return;
    }
    let url: URL | undefined;
    try {
      url = new URL(wanted);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:') {
      const why = `ServiceAccountIssuerObserverDegraded: service account issuer "${wanted}" is not a valid https URL`;
      if (degraded !== why) {
        degraded = why;
        log(why);
        await setOperatorStatus(kc, revision, undefined, why).catch(() => undefined);
      }
      return;
    }
    degraded = undefined;
    const now = Date.now();
    previous = [{ issuer: current, since: now }, ...previous].filter((p) => p.issuer !== wanted && now - p.since < PREVIOUS_ISSUER_TRUST_MS);
    previous = previous.filter((p, i) => previous.findIndex((q) => q.issuer === p.issuer) === i);
    const issuers = [wanted, ...previous.map((p) => p.issuer)];
    const next = revision + 1;
    log(`serviceAccountIssuer ${current} → ${wanted}: rolling the kube-apiserver to revision ${next} with ${issuers.join(', ')}`);
    await setOperatorStatus(kc, revision, { to: next });
    await sandbox.restartApiServer(cluster, { issuers });
    current = wanted;
    revision = next;
    revisions.push({ revision, issuers, at: new Date().toISOString() });
    // The API server just came back: retry the status write a few times.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await setOperatorStatus(kc, revision);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  let running = false;
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = true;
    busy = observe()
      .catch((err: Error) => log(`authentication operator stand-in: ${err.message}`))
      .finally(() => (running = false));
  }, interval);
  timer.unref();

  return {
    revisions,
    get degraded() {
      return degraded;
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await busy;
    },
  };
}
