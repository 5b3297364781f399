/**
 * What an AKS cluster says about itself, read from the signals any reader already has (the
 * kubeconfig `az aks get-credentials` wrote, a node, the issuer): subscription, resource group,
 * cluster name, region, tenant, and the issuer exactly as published. Pure: no I/O.
 *
 * Each parser returns only what its signal proves. Resource groups and cluster names may both
 * contain `_`, so `clusterUser_<rg>_<cluster>` and `MC_<rg>_<cluster>_<region>` split only when
 * another signal (the context name, the region) or a single `_` settles where; otherwise the name
 * is left out rather than guessed.
 */
import { AKS_AAD_SERVER_ID, AKS_CLUSTER_NODE_LABEL } from './constants.js';

export interface AksFacts {
  subscription?: string;
  resourceGroup?: string;
  clusterName?: string;
  region?: string;
  tenant?: string;
  /** The OIDC issuer byte for byte as the cluster publishes it (AKS's ends in `/`; Entra compares strings). */
  issuer?: string;
  /** Which signal gave each fact, for the "why" of detection. */
  sources: Partial<Record<Exclude<keyof AksFacts, 'sources' | 'conflicts'>, string>>;
  /** Signals that disagree on a fact (the first one read wins; these are shown). */
  conflicts: string[];
}

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** `https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/` — AKS's published issuer, trailing slash included. */
export const AKS_ISSUER = new RegExp(`^https://([a-z0-9]+)\\.oic\\.prod-aks\\.azure\\.com/(${GUID})/(${GUID})/$`);
/** The API server host: `<prefix>-<hash>.hcp.<region>.azmk8s.io` (public) or `….privatelink.<region>.azmk8s.io`. */
export const AKS_API_SERVER = /^[a-z0-9-]+\.(?:hcp|privatelink|[a-z0-9]+\.privatelink)\.([a-z0-9]+)\.azmk8s\.io$/i;
/** A node's providerID: `azure:///subscriptions/<sub>/resourceGroups/<node rg>/providers/…`. */
export const AKS_PROVIDER_ID = new RegExp(`^azure:///subscriptions/(${GUID})/resourceGroups/([^/]+)/providers/`, 'i');
/** The user `az aks get-credentials` writes: `clusterUser_<rg>_<cluster>` (or `clusterAdmin_…` with --admin). */
export const AKS_KUBECONFIG_USER = /^cluster(?:User|Admin)_.+_.+$/;

/** An exec user of a kubeconfig (kubelogin's, after `kubelogin convert-kubeconfig` or with AAD clusters). */
export interface KubeconfigExec {
  command: string;
  args?: readonly string[];
}

/** Whether an exec user is kubelogin asking for AKS's server application (so the cluster is AKS with Entra sign-in). */
export function isKubeloginExec(exec: KubeconfigExec): boolean {
  const cmd = exec.command.split(/[\\/]/).pop() ?? '';
  if (!/^kubelogin(\.exe)?$/i.test(cmd)) return false;
  const args = exec.args ?? [];
  return args[0] === 'get-token' && args.some((a, i) => a === AKS_AAD_SERVER_ID || (a === '--server-id' && args[i + 1] === AKS_AAD_SERVER_ID) || a === `--server-id=${AKS_AAD_SERVER_ID}`);
}

/** The issuer's region and tenant; the issuer itself kept exactly (undefined when it is not AKS's). */
export function parseAksIssuer(issuer: string): { region: string; tenant: string; issuer: string } | undefined {
  const m = AKS_ISSUER.exec(issuer);
  return m ? { region: m[1]!, tenant: m[2]!.toLowerCase(), issuer } : undefined;
}

/** The API server host's region (a URL or a bare host). */
export function parseAksApiServer(server: string): { region: string } | undefined {
  let host = server;
  try {
    host = new URL(server).hostname;
  } catch {
    /* a bare host */
  }
  const m = AKS_API_SERVER.exec(host);
  return m ? { region: m[1]!.toLowerCase() } : undefined;
}

/** A node's providerID: the subscription (the node resource group is AKS's own, not the cluster's). */
export function parseAksProviderId(providerId: string): { subscription: string; nodeResourceGroup: string } | undefined {
  const m = AKS_PROVIDER_ID.exec(providerId);
  return m ? { subscription: m[1]!.toLowerCase(), nodeResourceGroup: m[2]! } : undefined;
}

/** `clusterUser_<rg>_<cluster>`: split where the context name (the cluster, as az names it) says, or at the only `_`. */
export function parseAksKubeconfigUser(user: string, contextName?: string): { resourceGroup: string; clusterName: string } | undefined {
  const m = /^cluster(?:User|Admin)_(.+)$/.exec(user);
  if (!m) return undefined;
  return splitLast(m[1]!, contextName);
}

/** `kubernetes.azure.com/cluster` = `MC_<rg>_<cluster>_<region>`: the region is the last part when it matches `region`. */
export function parseAksNodeLabels(labels: Readonly<Record<string, string>>, clusterName?: string): { resourceGroup?: string; clusterName?: string; region?: string } | undefined {
  const value = labels[AKS_CLUSTER_NODE_LABEL];
  if (!value) return undefined;
  const region = labels['topology.kubernetes.io/region'];
  const m = /^MC_(.+)$/i.exec(value);
  if (!m) return region ? { region } : {};
  let rest = m[1]!;
  if (region && rest.toLowerCase().endsWith(`_${region.toLowerCase()}`)) rest = rest.slice(0, -(region.length + 1));
  else if (!region) {
    const cut = rest.lastIndexOf('_');
    if (cut <= 0) return {};
    const r = rest.slice(cut + 1);
    rest = rest.slice(0, cut);
    const split = splitLast(rest, clusterName);
    return { ...(split ?? {}), region: r.toLowerCase() };
  }
  const split = splitLast(rest, clusterName);
  return { ...(split ?? {}), ...(region ? { region } : {}) };
}

function splitLast(s: string, last?: string): { resourceGroup: string; clusterName: string } | undefined {
  if (last && s.length > last.length + 1 && s.endsWith(`_${last}`)) return { resourceGroup: s.slice(0, -(last.length + 1)), clusterName: last };
  const parts = s.split('_');
  if (parts.length === 2 && parts[0] && parts[1]) return { resourceGroup: parts[0], clusterName: parts[1] };
  return undefined;
}

/** The signals read from one cluster (any may be missing). */
export interface AksSignals {
  /** The kubeconfig context (az names it after the cluster). */
  contextName?: string;
  /** The kubeconfig user of that context. */
  userName?: string;
  /** The user's exec section, if any. */
  exec?: KubeconfigExec;
  /** The API server URL. */
  server?: string;
  /** One node's labels and providerID. */
  nodeLabels?: Readonly<Record<string, string>>;
  providerId?: string;
  /** The issuer the API server publishes. */
  issuer?: string;
}

/** Whether any signal says AKS. */
export function looksLikeAks(s: AksSignals): boolean {
  return !!(
    (s.issuer && parseAksIssuer(s.issuer)) ||
    (s.server && parseAksApiServer(s.server)) ||
    (s.providerId && parseAksProviderId(s.providerId)) ||
    (s.nodeLabels && s.nodeLabels[AKS_CLUSTER_NODE_LABEL]) ||
    (s.userName && AKS_KUBECONFIG_USER.test(s.userName)) ||
    (s.exec && isKubeloginExec(s.exec))
  );
}

/** Every fact the signals give, strongest source first; disagreements are listed, never silently merged. */
export function aksFactsFromSignals(s: AksSignals): AksFacts {
  const facts: AksFacts = { sources: {}, conflicts: [] };
  type Key = Exclude<keyof AksFacts, 'sources' | 'conflicts'>;
  const put = (key: Key, value: string | undefined, source: string, same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()) => {
    if (value === undefined) return;
    const had = facts[key];
    if (had === undefined) {
      facts[key] = value;
      facts.sources[key] = source;
    } else if (!same(had, value)) facts.conflicts.push(`${key}: ${facts.sources[key]} says ${had}, ${source} says ${value}`);
  };
  const issuer = s.issuer ? parseAksIssuer(s.issuer) : undefined;
  if (issuer) {
    put('issuer', issuer.issuer, 'the issuer', (a, b) => a === b);
    put('tenant', issuer.tenant, 'the issuer');
    put('region', issuer.region, 'the issuer');
  }
  const provider = s.providerId ? parseAksProviderId(s.providerId) : undefined;
  if (provider) put('subscription', provider.subscription, "a node's providerID");
  const user = s.userName ? parseAksKubeconfigUser(s.userName, s.contextName) : undefined;
  if (user) {
    put('resourceGroup', user.resourceGroup, 'the kubeconfig user');
    put('clusterName', user.clusterName, 'the kubeconfig user');
  }
  const node = s.nodeLabels ? parseAksNodeLabels(s.nodeLabels, facts.clusterName) : undefined;
  if (node) {
    put('resourceGroup', node.resourceGroup, `the node label ${AKS_CLUSTER_NODE_LABEL}`);
    put('clusterName', node.clusterName, `the node label ${AKS_CLUSTER_NODE_LABEL}`);
    put('region', node.region, "a node's labels");
  }
  const server = s.server ? parseAksApiServer(s.server) : undefined;
  if (server) put('region', server.region, 'the API server host');
  return facts;
}
