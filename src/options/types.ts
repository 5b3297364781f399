/**
 * The typed options every command's flags parse into, and the names and limits they use. Kept
 * apart from the option table and its parsing so that the cross-flag rules (rules.ts) can read them.
 */
import type { Environment } from './environment.js';
import type { ConnectTo } from '../net/https.js';
import type { CloudId } from '../clouds/ids.js';

export type Provider = 'eks' | 'openshift' | 'gke' | 'aks';
export type OutputFormat = 'text' | 'json';
export type CommandName = 'init' | 'plan' | 'verify' | 'uninstall' | 'status' | 'issuer-publish';

export const PROVIDERS: readonly Provider[] = ['eks', 'openshift', 'gke', 'aks'];
export type { CloudId };
export const CLOUDS: readonly CloudId[] = ['aws', 'gcp', 'azure'];
/** The cloud of each managed platform (OpenShift runs on any: --cloud, or its Infrastructure object). */
export const PROVIDER_CLOUD: Readonly<Record<Exclude<Provider, 'openshift'>, CloudId>> = { eks: 'aws', gke: 'gcp', aks: 'azure' };

/**
 * How pods get the role on EKS: IRSA (the service account annotation, a web identity through the
 * cluster's IAM OIDC provider) or EKS Pod Identity (an association through the EKS API, credentials
 * from the Pod Identity Agent). OpenShift has only web identity, which is what `irsa` means there.
 */
export type Mechanism = 'irsa' | 'pod-identity';
export const MECHANISMS: readonly Mechanism[] = ['irsa', 'pod-identity'];
export const DEFAULT_NAMESPACE = 'stackrox';
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** Bound of one request attempt to AWS (--request-timeout); the SDK retries within its own budget. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface Options {
  command: CommandName;
  provider?: Provider;
  /** OpenShift: the cloud it runs on (--cloud); undefined: detected, or the managed platform's own. */
  cloud?: CloudId;
  /** The namespace RHACS runs in; undefined means "detect, defaulting to stackrox". */
  namespace?: string;
  clusterName?: string;
  region?: string;
  accountId?: string;
  oidcIssuer?: string;
  roleName?: string;
  rolePath: string;
  /** undefined: not said (a prompt may ask; otherwise false). */
  delegatedScanning?: boolean;
  ecrRegistryId?: string;
  ecrRegion?: string;
  ecrRepositories: string[];
  permissionsBoundary?: string;
  /** Managed policies to attach to the role (the role is Central's identity for S3 backups, Security Hub, …). */
  attachPolicyArns: string[];
  context?: string;
  centralContext?: string;
  /** Contexts of secured clusters that run Sensor (repeatable); Central runs in --central-context or the current context. */
  sensorContexts: string[];
  /** Each secured cluster gets its own role (--role-per-cluster). */
  rolePerCluster: boolean;
  /** Internal: this run is one secured cluster of a --role-per-cluster run (its role is named after it, never taken from the wiring). */
  ownRoleForCluster?: boolean;
  kubeconfig?: string;
  helmValuesOut?: string;
  planFile?: string;
  keepOidcProvider: boolean;
  /** uninstall only: delete the role even when it still trusts clusters outside this run. */
  allClusters: boolean;
  /** issuer publish (and init's offer of it): the S3 bucket that hosts the issuer (default: <infrastructure name>-rhacs-sts-oidc). */
  bucket?: string;
  /** issuer publish: publish in a bucket rhacs-sts did not create (tagged as adopted; never deleted). */
  adoptBucket: boolean;
  /** issuer publish: also set the cluster's spec.serviceAccountIssuer to the bucket (cluster-wide; asks again at a terminal). */
  setClusterIssuer: boolean;
  /** init at a terminal on OpenShift without STS: offer `issuer publish` first (undefined: ask). */
  publishIssuer?: boolean;
  /** verify only: skip the token request and exchange (the end-to-end check is reported as skipped). */
  skipExchange?: boolean;
  profile?: string;
  dryRun: boolean;
  yes: boolean;
  output: OutputFormat;
  offline: boolean;
  adoptRole: boolean;
  /** init: point Central/Sensor at our role even where their wiring names another role. */
  replaceRoleWiring: boolean;
  /** EKS: how pods get the role (undefined: not said; IRSA unless the wizard offers Pod Identity). */
  mechanism?: Mechanism;
  /** init: point an existing EKS Pod Identity association that rhacs-sts did not create at the role. */
  adoptAssociation: boolean;
  adoptOidcProvider: boolean;
  restart: boolean;
  timeoutMs: number;
  /** Bound of one request attempt to AWS, connection to last byte (--request-timeout). */
  requestTimeoutMs: number;
  /** Use a kubeconfig cluster that sets insecure-skip-tls-verify (refused otherwise; warned about on every run). */
  allowInsecureSkipTlsVerify: boolean;
  verbose: boolean;
  quiet: boolean;
  /** init/plan: converge Central's ECR integration through its API (undefined: not said; the wizard may ask). */
  configureIntegration?: boolean;
  /** GKE: the Google Cloud project of the service account and its grants (undefined: the cluster's). */
  gcpProject?: string;
  /** GKE: the Google service account RHACS acts as, by id or email (undefined: rhacs-<cluster>). */
  gcpServiceAccount?: string;
  /** GKE: the Artifact Registry repositories the reader grant goes on (none: the project). */
  garRepositories: { location: string; repository: string }[];
  /** GKE: act as a Google service account rhacs-sts did not create. */
  adoptServiceAccount: boolean;
  /** OpenShift on Google Cloud: the workload identity pool (undefined: rhacs-<cluster>). */
  workloadIdentityPool?: string;
  /** OpenShift on Google Cloud: the OIDC provider in the pool (undefined: the cluster's name). */
  workloadIdentityProvider?: string;
  /** OpenShift on Google Cloud: replace a Secret gcp-cloud-credentials rhacs-sts did not write. */
  adoptCredentialsSecret: boolean;
  /** AKS: the Azure subscription (undefined: AZURE_SUBSCRIPTION_ID, else the az CLI's default). */
  azureSubscription?: string;
  /** AKS: the cluster's resource group, where the managed identity is made (undefined: from the kubeconfig or nodes). */
  resourceGroup?: string;
  /** AKS: the user-assigned managed identity RHACS acts as (undefined: rhacs-sts-<cluster>). */
  azureIdentity?: string;
  /** AKS: the Azure Container Registry AcrPull is assigned on: a name (in --resource-group) or a resource id. */
  acr?: string;
  /** AKS verify: a repository of the registry whose tags verify lists (undefined: the AcrPull assignment is checked instead). */
  acrRepository?: string;
  /** Central's API at this URL instead of a port-forward to the `central` service. */
  centralEndpoint?: string;
  /** Log in as admin with the password the operator generated (Secret central-htpasswd, key password). */
  useGeneratedAdminPassword: boolean;
  /** Name of the integration rhacs-sts creates (default: see src/central/integration.ts). */
  integrationName?: string;
  /** Let rhacs-sts change an existing ECR integration for the same registry and region that it did not create. */
  adoptIntegration: boolean;
  /** Cross-account ECR: the registry account's role Central assumes, and its external ID. */
  ecrAssumeRole?: string;
  ecrAssumeRoleExternalId?: string;
  /** Central credentials, as roxctl reads them (ROX_API_TOKEN, ROX_API_TOKEN_FILE, ROX_ADMIN_PASSWORD). Secrets: never printed. */
  centralCredentials: CentralCredentialInput;
  /**
   * RHACS_STS_CONNECT_TO (environment only): connect elsewhere for these hosts when fetching the
   * issuer's public documents, as curl's --connect-to does (see net/https.ts). Empty in production.
   */
  connectTo: ConnectTo[];
  /**
   * NODE_EXTRA_CA_CERTS (Node's own variable): the file of extra CAs Node trusts. Requests that
   * name their CAs explicitly (Central's) add it themselves.
   */
  extraCaCertsFile?: string;
  /** The environment variables the rooms below act on (kubeconfig, AWS profile and endpoints), read once here. */
  environment?: Environment;
}

/** The environment variable behind Options.connectTo. */
export const CONNECT_TO_ENV = 'RHACS_STS_CONNECT_TO';

/** Where Central credentials come from (at most one kind; checked by parseOptions). */
export type CentralCredentialInput =
  | { kind: 'none' }
  | { kind: 'token'; token: string; source: 'ROX_API_TOKEN' }
  | { kind: 'token-file'; path: string; source: 'ROX_API_TOKEN_FILE' }
  | { kind: 'password'; password: string; source: 'ROX_ADMIN_PASSWORD' }
  | { kind: 'generated-password'; source: '--use-generated-admin-password' };

/** Secured clusters one run configures at most (each is read and changed concurrently, a few at a time). */
export const MAX_SENSOR_CONTEXTS = 20;
