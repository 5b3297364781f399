// A ready-to-use sandbox for people (npm run sandbox) and demos: one cluster of the chosen flavour,
// seeded with that flavour and a RHACS install; its controller-manager, scheduler and kwok run the
// rollouts (and, on EKS, the IRSA webhook stand-in, so pods get the role as they would on EKS); or a fleet
// of EKS clusters (`clusters: N`): a hub with Central and Sensor and N-1 spokes with Sensor only,
// each its own API server and issuer, sharing one etcd and one moto.
//
// The environment it hands out has no AWS region on purpose, as many shells do not: on EKS the
// region is in the issuer, and rhacs-sts must cope (see README, "No region").
import type { AzureStandins } from './azure/standins.js';
import { startGkeGoogle, type GkeGoogle } from './gcp/gke-google.js';
import { startOpenShiftGoogle, type OpenShiftGoogle } from './gcp/openshift-google.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathWith } from './aws/aws-cli.js';
import { seedRhacs, type InstallMethod, type RhacsComponent, type RhacsSeedResult } from './central/rhacs-install.js';
import { openShiftWithoutStsCluster } from './kube/openshift-auth.js';
import { OPENSHIFT_INFRASTRUCTURE_NAME } from './kube/openshift-flavour.js';
import { bucketIssuer, connectToWith } from './issuers/issuer-bucket.js';
import { clusterInfo } from './observe.js';
import type { Sandbox, SandboxOptions } from './sandbox.js';
import { OPENSHIFT_AZURE_CLUSTER, startWithStandIns } from './start.js';
import type { ClusterInfo, SandboxInfo } from './types.js';

// The sandbox's own AWS SDK clients (moto's seeding, the gates) run in the demo's and playground's
// process: the SDK's notice about its future Node requirement would land in the middle of the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type DemoFlavour = 'eks' | 'openshift' | 'gke' | 'aks';

export interface SeededSandboxOptions {
  flavour?: DemoFlavour;
  /** Namespace of the RHACS install (default `stackrox`). */
  namespace?: string;
  /** Install method (default: helm on EKS, operator on OpenShift). */
  method?: InstallMethod;
  components?: RhacsComponent[];
  /** Image tag / product version of the seeded install. */
  imageTag?: string;
  log?: (message: string) => void;
  /** A fleet of EKS clusters instead of one cluster: hub + (N-1) spokes, 1 ≤ N ≤ MAX_FLEET. */
  clusters?: number;
  /**
   * OpenShift only: false seeds it installed without STS (tokens from https://kubernetes.default.svc,
   * an empty spec.serviceAccountIssuer) and runs the Authentication operator stand-in in this
   * process, so that `rhacs-sts issuer publish --set-cluster-issuer` can be tried (default true).
   */
  sts?: boolean;
  /**
   * OpenShift only: `azure` seeds OpenShift on Azure (the `openshift-azure` cluster: its
   * Infrastructure object says Azure), with the Azure stand-ins and their variables exported; `gcp`
   * makes its Infrastructure object say Google Cloud, and starts the Google stand-ins.
   */
  cloud?: 'azure' | 'gcp';
  /** Passed to startSandbox (e.g. `handleSignals: false` when the caller handles Ctrl-C). */
  sandbox?: Omit<SandboxOptions, 'clusters' | 'log'>;
}

export interface SeededSandbox {
  sandbox: Sandbox;
  info: SandboxInfo;
  /** The (first) cluster: the hub of a fleet. */
  cluster: ClusterInfo;
  rhacs: RhacsSeedResult;
  /** Every cluster with its RHACS install, hub first. */
  fleet: { cluster: ClusterInfo; rhacs: RhacsSeedResult }[];
  /** GKE: the Google stand-ins (their recorded requests, e.g. for npm run bench). */
  google?: GkeGoogle | OpenShiftGoogle;
  /** AKS: the Azure stand-ins (likewise). */
  azure?: AzureStandins;
  /**
   * KUBECONFIG (every context), the AWS endpoint and fake credentials (no region), an empty AWS
   * config file (nothing from ~/.aws leaks in) and PATH with the stand-in `aws` first.
   */
  env: Record<string, string>;
  /** `export NAME=value` lines for a POSIX shell, one per variable. */
  exportLines: string[];
  stop(): Promise<void>;
}

/**
 * The bucket `rhacs-sts issuer publish` names by default on the seeded OpenShift cluster:
 * `<infrastructure name>-rhacs-sts-oidc` (seedOpenShift's infrastructure name).
 */
export function defaultIssuerBucket(): string {
  return `${OPENSHIFT_INFRASTRUCTURE_NAME}-rhacs-sts-oidc`;
}

/** Quotes a value for a POSIX shell only when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Most EKS API servers a fleet may have (each takes ~300 MB and a share of 2 cores). */
export const MAX_FLEET = 8;

/** Cluster names of a fleet of `n`: `hub`, `spoke-1`, …; throws outside 1..MAX_FLEET. */
export function fleetNames(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_FLEET) throw new Error(`--clusters must be a whole number from 1 to ${MAX_FLEET}, not ${n}`);
  return ['hub', ...Array.from({ length: n - 1 }, (_, i) => `spoke-${i + 1}`)];
}

/** The environment for a shell or a child process: see SeededSandbox.env. */
function sandboxEnv(info: SandboxInfo): Record<string, string> {
  const { AWS_REGION: _region, ...aws } = info.awsEnv;
  const awsConfig = join(info.workDir, 'aws-config');
  writeFileSync(awsConfig, '');
  return {
    KUBECONFIG: info.kubeconfig,
    ...aws,
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: awsConfig,
    PATH: pathWith(info.awsCliDir),
  };
}

/**
 * With AKS clusters: the sandbox administrator's Azure variables (EnvironmentCredential), the
 * subscription, Azure Resource Manager's stand-in, the registry's host routed to the ACR stand-in, and one CA bundle for Node with
 * both the public web's root and the Azure stand-ins' CA (NODE_EXTRA_CA_CERTS names one file).
 */
function azureEnv(info: SandboxInfo, env: Record<string, string>): Record<string, string> {
  const az = info.azure;
  if (!az) return {};
  const bundle = join(info.workDir, 'extra-ca.pem');
  writeFileSync(bundle, [env.NODE_EXTRA_CA_CERTS, az.caCertPath].filter(Boolean).map((p) => readFileSync(p!, 'utf8')).join('\n'));
  return {
    ...az.adminEnv,
    AZURE_SUBSCRIPTION_ID: az.subscriptionId,
    NODE_EXTRA_CA_CERTS: bundle,
    RHACS_STS_CONNECT_TO: [env.RHACS_STS_CONNECT_TO, az.acrConnectTo].filter(Boolean).join(','),
    RHACS_STS_AZURE_ARM_ENDPOINT: az.armUrl,
  };
}

/** `export` lines; PATH keeps the caller's own PATH after the stand-in's directory. */
function exportLinesOf(env: Record<string, string>, info: SandboxInfo): string[] {
  return Object.entries(env).map(([k, v]) =>
    k === 'PATH' ? `export PATH=${shellQuote(info.awsCliDir)}:"$PATH"` : `export ${k}=${shellQuote(v)}`,
  );
}

export async function startSeededSandbox(opts: SeededSandboxOptions = {}): Promise<SeededSandbox> {
  const flavour = opts.flavour ?? 'eks';
  if (opts.clusters !== undefined && flavour !== 'eks') throw new Error(`--clusters makes a fleet of EKS clusters; it cannot be combined with --flavour ${flavour}`);
  const withoutSts = opts.sts === false;
  if (withoutSts && flavour !== 'openshift') throw new Error('--no-sts seeds OpenShift without STS; it needs --flavour openshift');
  if (opts.cloud && (flavour !== 'openshift' || withoutSts)) throw new Error(`--cloud ${opts.cloud} seeds OpenShift on ${opts.cloud === 'gcp' ? 'Google Cloud' : 'Azure'}; it needs --flavour openshift (with STS)`);
  const names = opts.cloud === 'azure' ? [OPENSHIFT_AZURE_CLUSTER.name] : opts.clusters === undefined ? [flavour] : fleetNames(opts.clusters);
  const namespace = opts.namespace ?? 'stackrox';
  const log = opts.log ?? ((m: string) => process.stderr.write(`[sandbox] ${m}\n`));
  const fleet: SeededSandbox['fleet'] = [];
  const { sandbox, stop, azure } = await startWithStandIns({
    sandbox: {
      ...opts.sandbox,
      clusters: names.map((name) => (withoutSts ? openShiftWithoutStsCluster(name) : opts.cloud === 'azure' ? OPENSHIFT_AZURE_CLUSTER : { name, flavour, ...(opts.cloud ? { cloud: opts.cloud } : {}) })),
      // A fleet's contexts are short (`hub`, `spoke-1`, …), as after `kubectl config rename-context`.
      ...(opts.clusters !== undefined ? { shortContexts: true } : {}),
    },
    log,
    async seedCluster(cluster, kc, i) {
      const rhacs = await seedRhacs(kc, {
        namespace,
        method: opts.method ?? (flavour === 'openshift' ? 'operator' : 'helm'),
        components: i === 0 ? opts.components : ['sensor'],
        openshift: flavour === 'openshift',
        imageTag: opts.imageTag,
        clusterName: cluster.name,
      });
      fleet.push({ cluster, rhacs });
    },
  });
  let google: GkeGoogle | OpenShiftGoogle | undefined;
  try {
    const env = sandboxEnv(sandbox.info);
    Object.assign(env, azureEnv(sandbox.info, env));
    // GKE: the Google stand-ins, in this process, with gcloud's credentials and endpoints in the
    // environment; Central's pods reach them through a GKE metadata server stand-in per node.
    if (flavour === 'gke') {
      google = await startGkeGoogle(sandbox.info, fleet[0]!.cluster, { central: true });
      Object.assign(env, google.env);
    }
    // OpenShift on Google Cloud: the Google stand-ins (its keys go to Google inline; no metadata server).
    if (opts.cloud === 'gcp') {
      google = await startOpenShiftGoogle(sandbox.info);
      Object.assign(env, google.env);
    }
    const stopAll = async () => {
      await google?.stop();
      await stop();
    };
    // Without STS, `rhacs-sts issuer publish` creates the issuer's bucket: its public host must lead
    // to S3's public endpoint stand-in too, for rhacs-sts's own reads of the published documents.
    if (withoutSts) env.RHACS_STS_CONNECT_TO = connectToWith(sandbox.info, names.map((n) => new URL(bucketIssuer(defaultIssuerBucket(), clusterInfo(sandbox.info, n).region)).hostname));
    // The hub Central's admin password, as roxctl reads it: rhacs-sts init --configure-integration uses it.
    if (fleet[0]!.rhacs.adminPassword) env.ROX_ADMIN_PASSWORD = fleet[0]!.rhacs.adminPassword;
    return {
      sandbox,
      info: sandbox.info,
      cluster: fleet[0]!.cluster,
      rhacs: fleet[0]!.rhacs,
      fleet,
      ...(google ? { google } : {}),
      ...(azure ? { azure } : {}),
      env,
      exportLines: exportLinesOf(env, sandbox.info),
      stop: stopAll,
    };
  } catch (err) {
    await google?.stop().catch(() => undefined);
    await stop().catch(() => undefined);
    throw err;
  }
}
