/**
 * verify for a cloud other than AWS (Google Cloud, Azure): open the clusters → detect → open the
 * cloud's session → read its facts and decide as init does → check every link, one row per link
 * with its fix → a table (or JSON); exit 3 when a check fails.
 */
import { loadCloud } from '../clouds/registry.js';
import type { ChalkInstance } from 'chalk';
import { OperationError, VerifyFailedError } from '../errors.js';
import type { Options } from '../options/options.js';
import type { ClusterFacts } from '../plan/model.js';
import { renderAzureVerifyText } from '../render/verify-azure-text.js';
import { renderGcpVerifyText } from '../render/verify-gcp-text.js';
import { clusterTargets } from '../targets.js';
import type { CheckRow } from '../verify/rows.js';
import { centralRowOnCloud } from './cloud-central.js';
import { SESSION, type CloudRun } from './cloud-init.js';
import type { Step } from './run.js';

/** What each cloud's verify says, checks with and renders (its session is opened as init opens it: SESSION). */
/* eslint-disable @typescript-eslint/no-explicit-any -- each cloud has its own facts, decisions and report */
const VERIFY: { [I in CloudRun['cloud']]: { step: (skip: boolean) => string; reading: string; input: (o: Options) => Record<string, unknown>; render: (report: any, c: ChalkInstance) => string } } = {
  gcp: {
    step: (skip) => (skip ? 'Checking the chain (without the token exchange)…' : 'Checking the chain, including a real token exchange with Google…'),
    reading: 'Reading the Google project and the cluster, walking the token chain…',
    input: (o) => {
      const endpoints = o.environment?.gcpEndpoints ?? {};
      return {
        endpoints: {
          ...(endpoints.sts ? { sts: endpoints.sts } : {}),
          ...(endpoints.iamcredentials ? { iamcredentials: endpoints.iamcredentials } : {}),
          ...(endpoints.artifactregistry ? { artifactregistry: endpoints.artifactregistry } : {}),
          ...(endpoints.cloudresourcemanager ? { cloudresourcemanager: endpoints.cloudresourcemanager } : {}),
        },
      };
    },
    render: renderGcpVerifyText,
  },
  azure: {
    step: (skip) => (skip ? 'Checking the chain (without the token exchange)…' : 'Checking the chain, including a real token exchange with Entra ID…'),
    reading: 'Reading the Azure subscription, the cluster and the managed identity, walking the token chain…',
    input: (o) => ({
      ...(o.environment?.azure.authorityHost ? { authorityHost: o.environment.azure.authorityHost } : {}),
      ...(o.connectTo?.length ? { connectTo: o.connectTo } : {}),
      ...(o.acrRepository ? { repository: o.acrRepository } : {}),
    }),
    render: renderAzureVerifyText,
  },
};

type VerifyingCloud = {
  openSession: (i: { log: (m: string) => void; warn: (m: string) => void; timeoutMs?: number; environment: any }) => Promise<any>;
  readFacts: (session: any, options: Options, clusters: ClusterFacts[]) => Promise<any>;
  decide: (options: Options, facts: any) => any;
  checks: (session: any, input: any) => Promise<{ ok: boolean; summary: Record<CheckRow['result'], number>; checks: CheckRow[]; projectId?: string; serviceAccount?: { email: string }; identity?: { name: string; clientId?: string }; registry?: string }>;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The chain, checked with the cloud's session and each cluster's own Kubernetes session. */
export const verifyOnCloud: Step<CloudRun> = async (r) => {
  const { answers: o, ui } = r;
  const how = VERIFY[r.cloud];
  if (!how) throw new OperationError(`No verify for cloud ${r.cloud}.`);
  const cloud = (await loadCloud(r.cloud)) as unknown as VerifyingCloud;
  const session = await cloud.openSession({ log: ui.debug, warn: ui.warn, timeoutMs: o.requestTimeoutMs, environment: SESSION[r.cloud].environment(o, r.clusters!) });
  // The clusters as openClusters read them, in the order of the targets it opened.
  const sessions = clusterTargets(o).filter((t) => r.kube!.has(t.key)).map((t) => r.kube!.get(t.key)!);
  ui.step(how.step(o.skipExchange === true));
  const report = await ui.spinner(how.reading, async () => {
    const facts = await cloud.readFacts(session, o, r.clusters!);
    const decisions = cloud.decide(o, facts);
    return cloud.checks(session, {
      facts, decisions, kube: sessions, skipExchange: o.skipExchange === true, now: () => Date.now(), log: ui.debug,
      ...(o.requestTimeoutMs !== undefined ? { timeoutMs: o.requestTimeoutMs } : {}),
      ...how.input(o),
    });
  });
  // Central's own test of its Artifact Registry or Azure Container Registry integration, as its pod (when Central runs here).
  // (Not on OpenShift yet: rhacs-sts does not configure the integration there.)
  const central = r.clusters!.some((c) => c.provider === 'openshift') ? undefined : await centralRowOnCloud(r, r.cloud === 'gcp'
    ? { cloud: 'gcp', google: { projectId: report.projectId!, email: report.serviceAccount!.email } }
    : { cloud: 'azure', azure: { name: report.identity!.name, ...(report.identity!.clientId ? { clientId: report.identity!.clientId } : {}), ...(report.registry ? { loginServer: report.registry } : {}) } }, ui);
  if (central) {
    report.checks.push(central);
    report.summary[central.result]++;
    report.ok = report.summary.fail === 0;
  }
  ui.result(o.output === 'json' ? JSON.stringify({ command: 'verify', ...report }, null, 2) : how.render(report, ui.colors));
  if (!report.ok) {
    const failed = report.checks.filter((c) => c.result === 'fail');
    throw new VerifyFailedError(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.check).join(', ')}.`,
      'Apply the fix shown under each failed check, then run "rhacs-sts verify" again.',
    );
  }
};
