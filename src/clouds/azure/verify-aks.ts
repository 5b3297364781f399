/**
 * verify on AKS: for each cluster, AKS's own prerequisites (the OIDC issuer published, workload
 * identity on), then for each RHACS component that acts as the managed identity: its wiring (the
 * service account's client-id annotation names our identity, the pod template carries the label
 * the webhook selects), and the chain as the pod walks it (a token for the component's service
 * account with audience api://AzureADTokenExchange → Entra → ACR's token exchange → a registry read).
 */
import type { KubeSession } from '../../kube/session.js';
import type { ClusterFacts, Component } from '../../plan/model.js';
import { targetComponents } from '../../plan/components.js';
import { AKS_AUDIENCE, AKS_CLIENT_ID_ANNOTATION, AKS_USE_LABEL } from '../../platforms/aks/constants.js';
import { OPENSHIFT_AUDIENCE } from '../../platforms/openshift/constants.js';
import { openShiftIssuerRow, openShiftWiringRow } from './verify-openshift.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../verify/rows.js';
import type { FederatedCredentialView, IdentityView } from './arm.js';
import { ACR_PULL_ROLE_ID, assignmentCovers } from './acr-pull.js';
import { AZURE_CLOUDS } from './clouds.js';
import { mapAzureError } from './errors.js';
import type { AzureDecisions, AzureFacts } from './plan.js';
import type { AzureSession } from './session.js';
import { acrPullAssignmentCheck } from './verify-checks.js';
import { verifyAzureChain } from './verify.js';
import type { AzureHttp } from './verify-http.js';


/** verify's report for an Azure run (the JSON document, and what the text is rendered from). */
export interface AzureVerifyReport {
  ok: boolean;
  cloud: 'azure';
  subscriptionId: string;
  tenantId: string;
  identity: { name: string; resourceGroup: string; clientId?: string; exists: boolean };
  registry?: string;
  clusters: { context?: string; provider: ClusterFacts['provider']; issuer: string; namespace: string; components: Component[] }[];
  summary: { pass: number; warn: number; fail: number };
  checks: CheckRow[];
}

export interface AksCheckInput {
  azure: AzureSession;
  facts: AzureFacts;
  decisions: AzureDecisions;
  /** The Kubernetes session of each cluster of facts.clusters, in the same order. */
  kube: KubeSession[];
  http: AzureHttp;
  /** Entra's authority when not the cloud's own (AZURE_AUTHORITY_HOST). */
  authorityHost?: string;
  /** --acr-repository: a repository whose tags the registry read lists (absent: the AcrPull assignment is read instead). */
  repository?: string;
  /** --skip-exchange: no tokens requested, no call made with them. */
  skipExchange: boolean;
  now: () => number;
  log: (message: string) => void;
}

/** Pure: the rows and their tally as a report. */
export function azureReport(base: Omit<AzureVerifyReport, 'ok' | 'summary' | 'checks' | 'cloud'>, checks: CheckRow[]): AzureVerifyReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.result]++;
  return { ok: summary.fail === 0, cloud: 'azure', ...base, summary, checks };
}

/** Pure: AKS's rows of one cluster (the issuer published, workload identity on), each failure with the az command that fixes it. */
export function aksClusterRows(aks: AzureFacts['clusters'][number]['aks'], where: Where): CheckRow[] {
  const oidc = aks.problems.filter((p) => p.code !== 'workload-identity-disabled');
  const wi = aks.problems.filter((p) => p.code === 'workload-identity-disabled');
  return [
    oidc.length
      ? row(rowId('aks-oidc-issuer', where), rowName('AKS OIDC issuer', where), 'fail', oidc.map((p) => p.message).join('; '), `Run: ${aks.fix}`)
      : row(rowId('aks-oidc-issuer', where), rowName('AKS OIDC issuer', where), 'pass', `AKS cluster ${aks.name} publishes ${aks.issuerUrl}.`),
    wi.length
      ? row(rowId('aks-workload-identity', where), rowName('AKS workload identity', where), 'fail', wi.map((p) => p.message).join('; '), `Run: ${aks.fix}`)
      : row(rowId('aks-workload-identity', where), rowName('AKS workload identity', where), 'pass', `AKS cluster ${aks.name} has workload identity on.`),
  ];
}

/** Pure: a component's wiring: the client-id annotation names our identity, and the pod template carries the webhook's label. */
export function aksWiringRow(o: { cluster: ClusterFacts; component: Component; identity: { name: string; clientId?: string }; initCommand: string }, where: Where): CheckRow {
  const { cluster, component: comp } = o;
  const id = rowId('azure-wiring', where, comp);
  const name = rowName(`workload identity wiring (${comp})`, where);
  const state = cluster.current?.[comp];
  const sa = state?.serviceAccount;
  const annotation = sa?.annotations[AKS_CLIENT_ID_ANNOTATION];
  const label = state?.deployment?.podTemplateLabels?.[AKS_USE_LABEL];
  const problems: string[] = [];
  if (!o.identity.clientId) problems.push(`managed identity ${o.identity.name} does not exist`);
  if (!sa) problems.push(`service account ${cluster.namespace}/${comp} was not found`);
  else if (annotation === undefined) problems.push(`service account ${cluster.namespace}/${comp} has no ${AKS_CLIENT_ID_ANNOTATION} annotation`);
  else if (o.identity.clientId && annotation.toLowerCase() !== o.identity.clientId.toLowerCase()) {
    problems.push(`service account ${cluster.namespace}/${comp} names client id ${annotation} (${AKS_CLIENT_ID_ANNOTATION}), not managed identity ${o.identity.name}'s ${o.identity.clientId}`);
  }
  if (state?.deployment && label !== 'true') {
    problems.push(`the pod template of deployment ${cluster.namespace}/${comp} ${label === undefined ? 'does not carry' : `has ${AKS_USE_LABEL}: "${label}", not`} the label ${AKS_USE_LABEL}: "true" (the workload identity webhook mutates only labelled pods)`);
  }
  if (problems.length) return row(id, name, 'fail', `${problems.join('; ')}.`, `Run "${o.initCommand}" (it writes the annotation and the label, and restarts the pods).`);
  return row(id, name, 'pass', `Service account ${cluster.namespace}/${comp} names client id ${annotation}; the pod template carries ${AKS_USE_LABEL}: "true".`);
}

/** A row id of a component's link (two components of one cluster each have their chain). */
const ofComponent = (rows: CheckRow[], comp: Component, where: Where, many: boolean): CheckRow[] =>
  rows.map((r) => ({ ...r, id: rowId(r.id, where, comp), check: rowName(`${r.check}${many ? ` (${comp})` : ''}`, where) }));

/** Built-in roles that also let an identity pull, by id (named for people). */
const BUILT_IN_ROLES: Record<string, string> = {
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader', 'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner', '8311e382-0749-4cb8-b61a-304f252e45ec': 'AcrPush',
};

/** The registry read link from ARM: the identity's role assignments over the registry (no repository named). */
async function acrPullRow(azure: AzureSession, registry: NonNullable<AzureFacts['registry']>, identity: IdentityView, name: string): Promise<CheckRow> {
  const base = { loginServer: registry.loginServer, identityName: name, principalId: identity.principalId };
  try {
    const id = registry.id.toLowerCase();
    // At the registry or above it (below it, on a repository scope, grants nothing over the registry).
    const over = (await azure.arm.roleAssignmentsOf(registry.id, identity.principalId)).filter((a) => id === a.scope.toLowerCase() || id.startsWith(`${a.scope.toLowerCase()}/`));
    const acrPull = over.some((a) => assignmentCovers(a, ACR_PULL_ROLE_ID, registry.id));
    const others = over.filter((a) => !assignmentCovers(a, ACR_PULL_ROLE_ID, registry.id)).map((a) => a.roleDefinitionId.split('/').pop()!.toLowerCase());
    return acrPullAssignmentCheck({ ...base, acrPull, otherRoles: [...new Set(others)].map((g) => BUILT_IN_ROLES[g] ?? `role definition ${g}`) });
  } catch (err) {
    return acrPullAssignmentCheck({ ...base, acrPull: false, otherRoles: [], error: err instanceof Error ? err.message : String(err) });
  }
}

export async function checkAks(i: AksCheckInput): Promise<AzureVerifyReport> {
  const { facts, decisions } = i;
  const rg = decisions.identityResourceGroup;
  const name = decisions.identityName;
  let identity: IdentityView | null;
  let credentials: FederatedCredentialView[] = [];
  try {
    identity = await i.azure.arm.getIdentity(rg, name);
    if (identity) credentials = await i.azure.arm.listFederatedCredentials(rg, name);
  } catch (err) {
    throw mapAzureError(err, `reading the managed identity ${name} in resource group ${rg}`);
  }
  const init = (c: ClusterFacts) => `rhacs-sts init --provider ${c.provider === 'openshift' ? 'openshift --cloud azure' : 'aks'} --resource-group ${rg} --azure-identity ${name}${facts.registry ? ` --acr ${facts.registry.name}` : ''}`;
  const checks: CheckRow[] = [];
  const multi = facts.clusters.length > 1;
  for (const [n, { cluster, aks }] of facts.clusters.entries()) {
    const where: Where = { cluster, multi };
    const openshift = cluster.provider === 'openshift';
    const initCommand = init(cluster);
    const audience = openshift ? OPENSHIFT_AUDIENCE : AKS_AUDIENCE;
    checks.push(...(openshift ? [openShiftIssuerRow(aks.issuerUrl, where)] : aksClusterRows(aks, where)));
    const comps = targetComponents(cluster, decisions.delegatedScanning);
    const many = comps.length > 1;
    for (const comp of comps) {
      const id = { name, ...(identity ? { clientId: identity.clientId } : {}) };
      checks.push(openshift
        ? openShiftWiringRow({ cluster, component: comp, identity: { ...id, tenantId: identity?.tenantId || facts.tenantId }, cloud: facts.cloud, initCommand }, where)
        : aksWiringRow({ cluster, component: comp, identity: id, initCommand }, where));
      if (i.skipExchange) {
        checks.push(row(rowId('azure-token-chain', where, comp), rowName(`token chain${many ? ` (${comp})` : ''}`, where), 'warn', 'Skipped (--skip-exchange): no token requested, no Azure call made with one.', 'Run verify without --skip-exchange to prove the chain end to end.'));
        continue;
      }
      if (!identity) {
        checks.push(row(rowId('azure-token-chain', where, comp), rowName(`token chain${many ? ` (${comp})` : ''}`, where), 'fail', `Not checked: managed identity ${name} does not exist in resource group ${rg}.`, `Run "${initCommand}".`));
        continue;
      }
      let token: string;
      try {
        // What the pod presents: on AKS the webhook's projected token, on OpenShift its own (audience openshift).
        token = await i.kube[n]!.requestToken(cluster.namespace, comp, audience);
      } catch (err) {
        checks.push(row(rowId('azure-token', where, comp), rowName(`Cluster token${many ? ` (${comp})` : ''}`, where), 'fail',
          `no token for service account ${cluster.namespace}/${comp}: ${err instanceof Error ? err.message : String(err)}`,
          'Check that the service account exists and that you may create its tokens (serviceaccounts/token, create).'));
        continue;
      }
      const rows = await verifyAzureChain(i.http, {
        token, tokenSource: `${cluster.namespace}/${comp}`, audience,
        tenantId: identity.tenantId || facts.tenantId, clientId: identity.clientId, cloud: AZURE_CLOUDS[facts.cloud],
        ...(i.authorityHost ? { authorityHost: i.authorityHost } : {}),
        place: { resourceGroup: rg, identityName: name }, credentials,
        ...(facts.registry ? { loginServer: facts.registry.loginServer, ...(i.repository ? { repository: i.repository } : { roleRow: () => acrPullRow(i.azure, facts.registry!, identity!, name) }) } : {}),
        nowS: Math.floor(i.now() / 1000),
      });
      const broke = rows.find((r) => r.result === 'fail');
      if (broke) i.log(`The token chain of ${cluster.namespace}/${comp} broke at ${broke.check}.`);
      checks.push(...ofComponent(rows, comp, where, many));
    }
  }
  return azureReport({
    subscriptionId: facts.subscriptionId, tenantId: facts.tenantId,
    identity: { name, resourceGroup: rg, ...(identity ? { clientId: identity.clientId } : {}), exists: identity !== null },
    ...(facts.registry ? { registry: facts.registry.loginServer } : {}),
    clusters: facts.clusters.map(({ cluster: c, aks }) => ({ ...(c.context ? { context: c.context } : {}), provider: c.provider, issuer: aks.issuerUrl || c.issuer, namespace: c.namespace, components: targetComponents(c, decisions.delegatedScanning) })),
  }, checks);
}
