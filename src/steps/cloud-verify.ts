/**
 * verify for a cloud other than AWS (Google Cloud today): open the clusters → detect → open the
 * cloud's session → read its facts and decide as init does → check every link, one row per link
 * with its fix → a table (or JSON); exit 3 when a check fails.
 */
import { loadCloud } from '../clouds/registry.js';
import { InputError, VerifyFailedError } from '../errors.js';
import { renderGcpVerifyText } from '../render/verify-gcp-text.js';
import { clusterTargets } from '../targets.js';
import { centralRowOnCloud } from './cloud-central.js';
import type { CloudRun } from './cloud-init.js';
import type { Step } from './run.js';

/** The chain, checked with the cloud's session and each cluster's own Kubernetes session. */
export const verifyOnCloud: Step<CloudRun> = async (r) => {
  const { answers: o, ui } = r;
  if (r.cloud !== 'gcp') throw new InputError([{ source: '--provider', message: 'aks: "verify" is not available on AKS yet (init, plan and uninstall are)' }]);
  const cloud = await loadCloud('gcp');
  const endpoints = o.environment?.gcpEndpoints ?? {};
  const session = await cloud.openSession({
    log: ui.debug, warn: ui.warn, timeoutMs: o.requestTimeoutMs,
    environment: { credentials: o.environment?.gcp ?? {}, ...(Object.keys(endpoints).length ? { endpoints } : {}) },
  });
  // The clusters as openClusters read them, in the order of the targets it opened.
  const sessions = clusterTargets(o).filter((t) => r.kube!.has(t.key)).map((t) => r.kube!.get(t.key)!);
  ui.step(o.skipExchange ? 'Checking the chain (without the token exchange)…' : 'Checking the chain, including a real token exchange with Google…');
  const report = await ui.spinner('Reading the Google project and the GKE cluster, walking the token chain…', async () => {
    const facts = await cloud.readFacts(session, o, r.clusters!);
    const decisions = cloud.decide(o, facts);
    return cloud.checks(session, {
      facts, decisions, kube: sessions, skipExchange: o.skipExchange === true, now: () => Date.now(), log: ui.debug,
      ...(o.requestTimeoutMs !== undefined ? { timeoutMs: o.requestTimeoutMs } : {}),
      endpoints: {
        ...(endpoints.sts ? { sts: endpoints.sts } : {}),
        ...(endpoints.iamcredentials ? { iamcredentials: endpoints.iamcredentials } : {}),
        ...(endpoints.artifactregistry ? { artifactregistry: endpoints.artifactregistry } : {}),
        ...(endpoints.cloudresourcemanager ? { cloudresourcemanager: endpoints.cloudresourcemanager } : {}),
      },
    });
  });
  // Central's own test of the Artifact Registry integration, as its pod (when Central runs here).
  const central = await centralRowOnCloud(r, { projectId: report.projectId, email: report.serviceAccount.email }, ui);
  if (central) {
    report.checks.push(central);
    report.summary[central.result]++;
    report.ok = report.summary.fail === 0;
  }
  ui.result(o.output === 'json' ? JSON.stringify({ command: 'verify', ...report }, null, 2) : renderGcpVerifyText(report, ui.colors));
  if (!report.ok) {
    const failed = report.checks.filter((c) => c.result === 'fail');
    throw new VerifyFailedError(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.check).join(', ')}.`,
      'Apply the fix shown under each failed check, then run "rhacs-sts verify" again.',
    );
  }
};
