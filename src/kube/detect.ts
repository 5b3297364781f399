/**
 * Provider and issuer detection (DESIGN.md §2), read-only:
 * - OpenShift: the `config.openshift.io` API group is served; the issuer is
 *   `authentications.config.openshift.io/cluster` spec.serviceAccountIssuer (empty: the cluster is
 *   not set up for STS), the region and cluster name come from `infrastructures…/cluster`.
 * - EKS: the issuer is `https://oidc.eks.<region>.amazonaws.com/id/<ID>`, or the API server host
 *   is `*.eks.amazonaws.com`, or nodes have providerID `aws:///…`.
 * - Otherwise "other": --provider must say which.
 * The issuer, except on OpenShift, is the API server's /.well-known/openid-configuration.
 * --oidc-issuer and --provider override what is detected; with --oidc-issuer, the issuer the
 * tokens carry is read too, so that discover can hold the flag against it.
 */
import type { V1Node } from '@kubernetes/client-node';
import { CloudHandOverError, InputError, OperationError, RhacsStsError } from '../errors.js';
import { OPENSHIFT_PUBLIC_ISSUER_HINT } from '../messages.js';
import type { Provider } from '../options/options.js';
import { eksIssuerRegion, normaliseIssuer } from '../validate.js';
import { OPENSHIFT_CONFIG_GROUP, type KubeApi } from './api.js';
import { kubeStatus } from './errors.js';
import { detectRhacs } from './rhacs.js';
import { POD_IDENTITY_AGENT } from '../plan/model.js';
import type { ClusterDiscovery, DiscoverInput } from './session.js';
import { hasSignal, platform } from '../platforms/registry.js';
import { GKE_NODEPOOL_LABEL, gkeClusterRef, type GkeClusterRef } from '../platforms/gke/index.js';
import { AKS_CLUSTER_NODE_LABEL, aksFactsFromSignals } from '../platforms/aks/index.js';
import { aksKubeconfigSignals, readAksSignals } from './aks-signals.js';
import type { ClusterFacts } from '../plan/model.js';
import { openShiftAzureFacts, type InfrastructureView } from '../platforms/openshift/azure.js';
import { cloudFor, cloudTitle } from '../clouds/registry.js';
import { openShiftGcpFacts, openShiftGcpWithoutIssuer } from '../platforms/openshift/gcp.js';

const EKS_HOST_RE = /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.eks\.amazonaws\.com(?:\.cn)?$/;

export interface ProviderDetection {
  /** What the cluster looks like; `other` when no signal matched. */
  detected: Provider | 'other';
  /** Detected, or --provider when given. */
  provider: Provider;
  issuer: string;
  region?: string;
  clusterName?: string;
  /** Why we think so, for people. */
  evidence: string[];
  warnings: string[];
  /** With --oidc-issuer: the issuer the cluster's tokens carry (see ClusterDiscovery). */
  tokenIssuer?: ClusterDiscovery['tokenIssuer'];
  /** GKE: where Google has the cluster (from the issuer, else the kubeconfig context). */
  gke?: GkeClusterRef;
  /** AKS: where Azure has the cluster (kubeconfig user, nodes, issuer). */
  aks?: ClusterFacts['aks'];
  /** OpenShift: what its Authentication and Infrastructure objects say. */
  openshift?: ClusterFacts['openshift'];
  /** OpenShift: its Infrastructure object's platform type (`AWS`, `GCP`, `Azure`, `None`…). */
  openshiftPlatform?: string;
  /** OpenShift on Google Cloud: its project and region, as the Infrastructure object says. */
  openshiftGcp?: ClusterFacts['openshiftGcp'];
}

/** The issuer as IAM names it (see validate.normaliseIssuer); an invalid one is only trimmed, for the error that follows. */
export function normalizeIssuer(issuer: string): string {
  return normaliseIssuer(issuer.trim()).value ?? issuer.trim().replace(/\/+$/, '');
}

interface OpenShiftAuthentication {
  spec?: { serviceAccountIssuer?: string };
}
type OpenShiftInfrastructure = InfrastructureView & { status?: { platformStatus?: { aws?: { region?: string }; gcp?: { projectID?: string; region?: string } } } };

async function readOpenShiftConfig<T>(api: KubeApi, plural: string): Promise<T | null> {
  return api.optional(
    { verb: 'get', group: OPENSHIFT_CONFIG_GROUP, resource: plural, name: 'cluster' },
    () => api.custom.getClusterCustomObject({ group: OPENSHIFT_CONFIG_GROUP, version: 'v1', plural, name: 'cluster' }) as Promise<T>,
  );
}

/** The API server's service-account issuer, from its OIDC discovery document. */
export async function wellKnownIssuer(api: KubeApi): Promise<string> {
  const path = '/.well-known/openid-configuration';
  let raw: unknown;
  try {
    raw = await api.call({ verb: 'get', group: '', resource: '', nonResourceUrl: path }, () => api.wellKnown.getServiceAccountIssuerOpenIDConfiguration());
  } catch (err) {
    if (err instanceof RhacsStsError && err.exitCode === 1) {
      throw new OperationError(`Could not read the cluster's OIDC issuer: ${err.message}`, {
        hint: `Pass the issuer with --oidc-issuer (for EKS: aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer), or ${err.hint ? err.hint.charAt(0).toLowerCase() + err.hint.slice(1) : 'get read access to it.'}`,
        cause: err,
      });
    }
    throw err;
  }
  let doc: { issuer?: unknown };
  try {
    doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { issuer?: unknown };
  } catch {
    throw new OperationError(`The API server's ${path} is not JSON.`, { hint: 'Pass the issuer with --oidc-issuer.' });
  }
  if (typeof doc?.issuer !== 'string' || !doc.issuer) {
    throw new OperationError(`The API server's ${path} has no issuer.`, { hint: 'Pass the issuer with --oidc-issuer.' });
  }
  return normalizeIssuer(doc.issuer);
}

/**
 * OpenShift: the region and name from its Infrastructure object, and the issuer from its
 * Authentication object (unless --oidc-issuer gave one); without one the cluster is not set up for STS.
 */
async function readOpenShift(api: KubeApi, input: DiscoverInput, given: string | undefined, evidence: string[], warnings: string[]) {
  let issuer = given;
  evidence.push(`the ${OPENSHIFT_CONFIG_GROUP} API group is served`);
  const [auth, infra] = await Promise.all([
    readOpenShiftConfig<OpenShiftAuthentication>(api, 'authentications'),
    readOpenShiftConfig<OpenShiftInfrastructure>(api, 'infrastructures'),
  ]);
  const region = infra?.status?.platformStatus?.aws?.region || infra?.status?.platformStatus?.gcp?.region || undefined;
  const clusterName = infra?.status?.infrastructureName || undefined;
  const platform = infra?.status?.platformStatus?.type ?? infra?.status?.platform;
  const gcp = platform === 'GCP' ? openShiftGcpFacts(infra?.status?.platformStatus?.gcp) : undefined;
  // A cluster on Google Cloud or Azure goes to that cloud's run (unless --cloud said which).
  const cloud = platform ? cloudFor('openshift', platform) : undefined;
  if ((cloud === 'azure' || cloud === 'gcp') && input.cloud === undefined) throw new CloudHandOverError(cloud, `the OpenShift cluster of context ${api.endpoint.contextName} runs on ${cloudTitle(cloud)} (its Infrastructure object says platformStatus.type ${platform}): run again with --provider openshift --cloud ${cloud}`);
  if (platform && platform !== 'AWS' && platform !== 'GCP' && input.cloud !== 'azure') {
    warnings.push(`The OpenShift infrastructure platform is ${platform}, not AWS; AWS STS still works if the issuer is public, but check that this is the cluster you meant.`);
  }
  const rawIssuer = auth?.spec?.serviceAccountIssuer?.trim() || undefined;
  const saIssuer = rawIssuer ? normalizeIssuer(rawIssuer) : undefined;
  const azure = openShiftAzureFacts(infra ?? undefined);
  const openshiftFacts: NonNullable<ClusterFacts['openshift']> = { ...(platform ? { platformType: platform } : {}), ...(rawIssuer ? { serviceAccountIssuer: rawIssuer } : {}), ...(azure ? { azure } : {}) };
  if (!issuer && (input.provider ?? 'openshift') === 'openshift') {
    if (!saIssuer && input.cloud === 'azure') {
      throw new InputError([{ source: api.endpoint.contextName, message: 'authentication.config.openshift.io/cluster has no spec.serviceAccountIssuer: the cluster\'s tokens carry the internal issuer https://kubernetes.default.svc, which Entra ID cannot reach. Set up the cluster for workload identity (ccoctl azure create-all, then its manifests) and run again' }]);
    }
    if (!saIssuer && gcp) throw openShiftGcpWithoutIssuer();
    if (!saIssuer) {
      // Passing the public issuer with --oidc-issuer does not help: the tokens still carry the internal one.
      throw Object.assign(
        new OperationError(
          `This OpenShift cluster is not configured for AWS STS: authentication.config.openshift.io/cluster has no spec.serviceAccountIssuer, so its service-account tokens are issued by the internal issuer (https://kubernetes.default.svc), which AWS cannot reach.`,
          { hint: OPENSHIFT_PUBLIC_ISSUER_HINT },
        ),
        { openshiftWithoutSts: true },
      );
    }
    issuer = saIssuer;
    evidence.push('issuer from authentication.config.openshift.io/cluster');
  }
  return { issuer, region, clusterName, saIssuer, openshiftFacts, platform, gcp };
}

/** OpenShift: the cloud its Infrastructure object names, and on Google Cloud the project and region there. */
function openShiftCloud(os: { platform?: string; gcp?: ClusterFacts['openshiftGcp'] } | undefined): Pick<ProviderDetection, 'openshiftPlatform' | 'openshiftGcp'> {
  return { ...(os?.platform ? { openshiftPlatform: os.platform } : {}), ...(os?.gcp ? { openshiftGcp: os.gcp } : {}) };
}

/** A few nodes (bounded), or null when we may not list them (the signal is then just missing). */
async function sampleNodes(api: KubeApi): Promise<V1Node[] | null> {
  try {
    const list = await api.call({ verb: 'list', group: '', resource: 'nodes' }, () => api.core.listNode({ limit: 20 }));
    return list.items;
  } catch (err) {
    if (err instanceof OperationError && kubeStatus(err.cause) === 403) {
      api.log('kube: may not list nodes; skipping the node providerID signal');
      return null;
    }
    throw err;
  }
}

export async function detectProvider(api: KubeApi, input: DiscoverInput): Promise<ProviderDetection> {
  const evidence: string[] = [];
  const warnings: string[] = [];
  const groups = await api.apiGroups();
  const openshift = groups.has(OPENSHIFT_CONFIG_GROUP);
  let issuer = input.oidcIssuer ? normalizeIssuer(input.oidcIssuer) : undefined;
  let region: string | undefined;
  let clusterName: string | undefined;
  let openshiftFacts: ClusterFacts['openshift'];
  let os: Awaited<ReturnType<typeof readOpenShift>> | undefined;
  let detected: ProviderDetection['detected'] = 'other';

  if (openshift) {
    detected = 'openshift';
    ({ issuer, region, clusterName, openshiftFacts } = os = await readOpenShift(api, input, issuer, evidence, warnings));
  }

  let tokenIssuer: ProviderDetection['tokenIssuer'];
  if (!issuer) {
    issuer = await wellKnownIssuer(api);
    evidence.push('issuer from /.well-known/openid-configuration');
  } else if (input.oidcIssuer) {
    // The issuer the tokens carry, to hold --oidc-issuer against: the API server's discovery
    // document (on OpenShift it follows spec.serviceAccountIssuer once the kube-apiservers have
    // rolled out); when we may not read it, OpenShift's spec.serviceAccountIssuer.
    try {
      tokenIssuer = { issuer: await wellKnownIssuer(api), source: 'the API server\'s /.well-known/openid-configuration' };
    } catch (err) {
      if (!(err instanceof RhacsStsError) || err.exitCode !== 1) throw err;
      tokenIssuer = os?.saIssuer
        ? { issuer: os.saIssuer, source: 'spec.serviceAccountIssuer of authentication.config.openshift.io/cluster' }
        : { error: err.message };
    }
  }

  const eksRegion = eksIssuerRegion(issuer);
  const host = new URL(api.endpoint.server).hostname;
  const eksHost = hasSignal('eks', 'api-server', host) ? host : undefined;
  if (!openshift) {
    if (eksRegion) {
      detected = 'eks';
      evidence.push('the issuer is an EKS OIDC issuer');
    } else if (eksHost) {
      detected = 'eks';
      evidence.push(`the API server host ${eksHost} is an EKS endpoint`);
    }
  }
  if (eksRegion) region = eksRegion;
  else if (eksHost) region ??= EKS_HOST_RE.exec(eksHost)?.[1];
  // GKE: its issuer, else its kubeconfig (gcloud's context name, the gke-gcloud-auth-plugin user); its nodes below.
  if (!openshift && detected === 'other') {
    const why = hasSignal('gke', 'issuer', issuer) ? 'the issuer is a GKE issuer'
      : hasSignal('gke', 'kubeconfig', api.endpoint.contextName) ? `the kubeconfig context ${api.endpoint.contextName} is a GKE context`
      : api.endpoint.execCommand && hasSignal('gke', 'kubeconfig-exec', api.endpoint.execCommand) ? 'the kubeconfig user runs gke-gcloud-auth-plugin'
      : undefined;
    if (why) {
      detected = 'gke';
      evidence.push(why);
    }
  }

  // AKS: its issuer, API server host, or the kubeconfig `az aks get-credentials` writes; its nodes below.
  if (!openshift && detected === 'other') {
    const why = aksEvidence(api, issuer, host);
    if (why) {
      detected = 'aks';
      evidence.push(why);
    }
  }

  if (detected === 'other' || !region) {
    const nodes = await sampleNodes(api);
    if (nodes) {
      const aws = nodes.find((n) => hasSignal('eks', 'node-provider-id', n.spec?.providerID ?? ''));
      if (detected === 'other' && aws) {
        detected = 'eks';
        evidence.push(`node ${aws.metadata?.name} has an AWS providerID`);
      }
      const gce = detected === 'other' ? nodes.find((n) => hasSignal('gke', 'node-provider-id', n.spec?.providerID ?? '') || n.metadata?.labels?.[GKE_NODEPOOL_LABEL] !== undefined) : undefined;
      if (gce) {
        detected = 'gke';
        evidence.push(`node ${gce.metadata?.name} is a GKE node (${gce.spec?.providerID?.startsWith('gce://') ? 'providerID gce://' : `label ${GKE_NODEPOOL_LABEL}`})`);
      }
      const azure = detected === 'other' ? nodes.find((n) => hasSignal('aks', 'node-provider-id', n.spec?.providerID ?? '') || n.metadata?.labels?.[AKS_CLUSTER_NODE_LABEL] !== undefined) : undefined;
      if (azure) {
        detected = 'aks';
        evidence.push(`node ${azure.metadata?.name} is an AKS node (${azure.spec?.providerID?.startsWith('azure://') ? 'providerID azure:///' : `label ${AKS_CLUSTER_NODE_LABEL}`})`);
      }
      const labels = (aws ?? nodes[0])?.metadata?.labels ?? {};
      region ??= labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'];
      clusterName ??= labels['alpha.eksctl.io/cluster-name'] ?? labels['eks.amazonaws.com/cluster-name'];
    }
  }

  if (!input.provider && detected === 'other') {
    throw new InputError(
      [{
        source: '--provider',
        message: `could not tell whether the cluster of context "${api.endpoint.contextName}" is EKS or OpenShift (no ${OPENSHIFT_CONFIG_GROUP} API group; issuer ${issuer} is not an EKS issuer; no AWS nodes seen); say which with --provider eks or --provider openshift`,
      }],
    );
  }
  const provider = input.provider ?? (detected as Provider);
  if (input.provider && detected !== 'other' && detected !== input.provider) {
    warnings.push(`--provider ${input.provider} overrides the detection: the cluster looks like ${platform(detected).title} (${evidence.join('; ')}).`);
  }

  if (provider === 'eks' && eksRegion && input.region && input.region !== eksRegion) {
    throw new InputError([{
      source: '--region',
      message: `is ${input.region}, but the cluster's EKS OIDC issuer ${issuer} is in ${eksRegion}; drop --region or pass --region ${eksRegion}`,
    }]);
  }
  const gke = provider === 'gke' ? gkeClusterRef({ issuer, context: api.endpoint.contextName }) : undefined;
  if (gke) clusterName ??= gke.name;
  const aks = provider === 'aks' ? await aksClusterRef(api) : undefined;
  if (aks?.name) clusterName ??= aks.name;
  const osFacts = provider === 'openshift' && openshiftFacts ? { ...openshiftFacts, ...(region ? { region } : {}) } : undefined;
  return { detected, provider, issuer, region, clusterName, evidence, warnings, ...(tokenIssuer ? { tokenIssuer } : {}), ...(gke ? { gke } : {}), ...(aks ? { aks } : {}), ...(osFacts ? { openshift: osFacts } : {}), ...(provider === 'openshift' ? openShiftCloud(os) : {}) };
}

/** Why the cluster looks like AKS before its nodes are read (undefined: it does not). */
function aksEvidence(api: KubeApi, issuer: string, host: string): string | undefined {
  const kc = aksKubeconfigSignals(api.kc);
  return hasSignal('aks', 'issuer', issuer) ? 'the issuer is an AKS issuer'
    : hasSignal('aks', 'api-server', host) ? `the API server host ${host} is an AKS endpoint`
    : kc.userName && hasSignal('aks', 'kubeconfig', kc.userName) ? `the kubeconfig user ${kc.userName} is an AKS user (az aks get-credentials)`
    : undefined;
}

/** AKS: the cluster's place in Azure, from its signals (kubeconfig user, a node, the issuer; reads only). */
async function aksClusterRef(api: KubeApi): Promise<NonNullable<ClusterFacts['aks']>> {
  const f = aksFactsFromSignals(await readAksSignals(api));
  return {
    ...(f.subscription ? { subscription: f.subscription } : {}),
    ...(f.resourceGroup ? { resourceGroup: f.resourceGroup } : {}),
    ...(f.clusterName ? { name: f.clusterName } : {}),
    ...(f.region ? { region: f.region } : {}),
    ...(f.tenant ? { tenant: f.tenant } : {}),
  };
}

/**
 * Whether the EKS Pod Identity Agent runs: its add-on's DaemonSet (kube-system/eks-pod-identity-agent)
 * with at least one ready pod. Undefined when DaemonSets may not be read there.
 */
export async function podIdentityAgent(api: KubeApi): Promise<boolean | undefined> {
  const { namespace, name } = POD_IDENTITY_AGENT;
  try {
    const ds = await api.optional({ verb: 'get', group: 'apps', resource: 'daemonsets', namespace, name }, () => api.apps.readNamespacedDaemonSet({ name, namespace }));
    return ds !== null && (ds.status?.numberReady ?? 0) > 0;
  } catch (err) {
    api.log(`kube: could not read ${namespace}/daemonset/${name}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Everything discover() reports for one cluster. Reads only. */
export async function discoverCluster(api: KubeApi, input: DiscoverInput): Promise<ClusterDiscovery> {
  // RHACS is read alongside the provider's detection (reads only; only its pod reads on EKS wait
  // for the provider); a failed detection is still the error reported.
  // Each promise that may reject before it is awaited gets a handler, so that a failure is reported
  // once, as the error, not as an unhandled rejection.
  const provider = detectProvider(api, input);
  provider.catch(() => undefined);
  const providerName = provider.then((p) => p.provider);
  providerName.catch(() => undefined);
  const reading = detectRhacs(api, { namespace: input.namespace, provider: providerName });
  reading.catch(() => undefined);
  const p = await provider;
  // EKS: does the Pod Identity Agent add-on run? (read alongside RHACS; unknown when not allowed)
  const agent = p.provider === 'eks' ? podIdentityAgent(api) : Promise.resolve(undefined);
  agent.catch(() => undefined);
  const rhacs = await reading;
  const agentRuns = await agent;
  // GKE: the node pools that run Central and Sensor (their metadata mode decides whether the pods can act as a Google identity).
  const nodePools = p.provider === 'gke' ? await rhacsNodePools(api, rhacs.namespace, rhacs.components) : undefined;
  api.log(`kube: provider ${p.provider} (${p.evidence.join('; ') || 'from --provider'})`);
  // A name the kubeconfig gives (EKS) beats what the cluster says; the context name is the last resort.
  const clusterName = api.endpoint.clusterName ?? p.clusterName ?? (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(api.endpoint.contextName) ? api.endpoint.contextName : undefined);
  return {
    facts: {
      context: api.endpoint.contextName,
      ...(clusterName ? { name: clusterName } : {}),
      provider: p.provider,
      issuer: p.issuer,
      namespace: rhacs.namespace,
      components: rhacs.components,
      installMethod: rhacs.installMethod,
      installEvidence: rhacs.installEvidence,
      ...(rhacs.operatorCrs ? { operatorCrs: rhacs.operatorCrs } : {}),
      ...(rhacs.helmReleases ? { helmReleases: rhacs.helmReleases } : {}),
      ...(rhacs.helmChartVersions ? { helmChartVersions: rhacs.helmChartVersions } : {}),
      ...(rhacs.version ? { version: rhacs.version } : {}),
      ...(p.provider === 'eks' && p.region ? { region: p.region } : {}),
      ...(agentRuns !== undefined ? { podIdentityAgent: agentRuns } : {}),
      ...(p.gke ? { gke: { ...p.gke, ...(nodePools ? { nodePools } : {}) } } : {}),
      ...(p.aks ? { aks: p.aks } : {}),
      ...(p.openshift ? { openshift: p.openshift } : {}),
      ...(p.openshiftPlatform ? { openshiftPlatform: p.openshiftPlatform } : {}),
      ...(p.openshiftGcp ? { openshiftGcp: p.openshiftGcp } : {}),
      current: rhacs.current,
    },
    region: p.region,
    warnings: [...p.warnings, ...rhacs.warnings],
    clusterName,
    ...(p.tokenIssuer ? { tokenIssuer: p.tokenIssuer } : {}),
  };
}

/**
 * GKE: the node pools (label cloud.google.com/gke-nodepool) of the nodes that run the components'
 * pods; undefined when pods or nodes may not be read (every pool is then checked).
 */
export async function rhacsNodePools(api: KubeApi, namespace: string, components: readonly string[]): Promise<string[] | undefined> {
  const pools = new Set<string>();
  try {
    for (const comp of components) {
      const pods = await api.call({ verb: 'list', group: '', resource: 'pods', namespace }, () => api.core.listNamespacedPod({ namespace, labelSelector: `app=${comp}` }));
      api.log(`kube: ${pods.items.length} pod(s) of ${comp}`);
      for (const nodeName of new Set(pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))) {
        const node = await api.call({ verb: 'get', group: '', resource: 'nodes', name: nodeName }, () => api.core.readNode({ name: nodeName }));
        const pool = node.metadata?.labels?.[GKE_NODEPOOL_LABEL];
        api.log(`kube: ${comp} runs on node ${nodeName}${pool ? ` (node pool ${pool})` : ' (no node pool label)'}`);
        if (pool) pools.add(pool);
      }
    }
  } catch (err) {
    if (err instanceof OperationError && kubeStatus(err.cause) === 403) {
      api.log('kube: may not read the pods or nodes of RHACS; every node pool is checked');
      return undefined;
    }
    throw err;
  }
  // Nodes without the label say nothing of their pool: every pool is checked.
  return pools.size ? [...pools].sort() : undefined;
}
