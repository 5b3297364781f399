// Serialisable description of a running sandbox. The global setup hands it to the test files
// (vitest `provide`/`inject`), so it holds only plain data: paths, URLs and strings.

export type Flavour = 'eks' | 'openshift' | 'gke' | 'aks' | 'plain';

/**
 * Environment for the AWS SDK (and the aws CLI) to talk to the sandbox's moto server, and for
 * rhacs-sts to reach the issuers' public URLs (the public issuer stand-in, public-issuers.ts) as it
 * reaches the internet: curl-style --connect-to for their hosts, and the stand-in's root CA.
 */
export interface AwsEnv {
  AWS_ENDPOINT_URL: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  RHACS_STS_CONNECT_TO: string;
  NODE_EXTRA_CA_CERTS: string;
}

export interface ClusterInfo {
  /** Cluster name (the EKS cluster name in the context ARN). */
  name: string;
  /**
   * Its context name in the kubeconfigs, as people have it: EKS `arn:aws:eks:<region>:<account>:cluster/<name>`,
   * OpenShift `default/api-<name>-sandbox-example-com:6443/kube:admin`. Pass this to --context.
   */
  context: string;
  flavour: Flavour;
  /** OpenShift: the cloud its Infrastructure object names (absent: AWS). */
  cloud?: 'gcp' | 'azure';
  /** https://127.0.0.1:PORT */
  server: string;
  /** The API server's --service-account-issuer (the `iss` of its service-account tokens). */
  issuer: string;
  /** `jwks_uri` published in the discovery document (--service-account-jwks-uri). */
  jwksUri: string;
  /** AWS region the flavour's fixtures use (EKS issuer host, OpenShift infrastructure status). */
  region: string;
  /** --api-audiences */
  apiAudiences: string[];
  /** Kubeconfig with only this cluster (admin user, context `name`). */
  kubeconfig: string;
  /** Kubeconfig of kube-controller-manager (its own user, so audit queries can exclude it). */
  controllerKubeconfig: string;
  /** Kubernetes audit log (JSON lines, level Metadata). */
  auditLogPath: string;
  etcdPrefix: string;
  /** PEM public key that verifies this cluster's service-account tokens. */
  serviceAccountPublicKey: string;
  /**
   * Port of kwok's kubelet API (exec, logs, port-forward) on 127.0.0.1: every fake node reports it as
   * its kubelet port, and the API server reaches it through the cluster network stand-in (cluster-network.ts).
   */
  kubeletPort: number;
}

export interface SandboxInfo {
  /** Temporary directory holding everything below; deleted by stop(). */
  workDir: string;
  /** Directory with the CA, serving and client certificates. */
  certDir: string;
  caCertPath: string;
  /** The CA key, so tests can issue more client certificates (restricted users). */
  caKeyPath: string;
  /** Admin client certificate (user `sandbox-admin`, group system:masters) and its key. */
  adminCertPath: string;
  adminKeyPath: string;
  /** Kubeconfig with every cluster's context; the current context is the first cluster. */
  kubeconfig: string;
  clusters: Record<string, ClusterInfo>;
  /** moto's own URL (not counted). */
  motoUrl: string;
  /** The AWS gate in front of moto (aws-gate.ts): AWS_ENDPOINT_URL points here. */
  awsEndpoint: string;
  /** Base URL of the gate's own endpoints: GET {counterUrl}/requests?since=N, /mark, /decisions?since=N. */
  counterUrl: string;
  awsEnv: AwsEnv;
  /** The public issuer stand-in (public-issuers.ts): GET {url}/_sandbox/requests?since=N; its root CA; RHACS_STS_CONNECT_TO. */
  publicIssuers: { url: string; caCertPath: string; connectTo: string };
  /** moto's default account. */
  accountId: string;
  /** Directory with the stand-in `aws` (eks get-token only) that the EKS kubeconfig users exec: first on PATH. */
  awsCliDir: string;
  /** The stand-in's call log (JSON lines), see aws-cli.ts awsCliCalls(). */
  awsCliLog: string;
  /** The Central API stand-ins' control API (central-standin.ts), once they run: tokens, state, requests. */
  centralControlUrl?: string;
  /**
   * The EKS Pod Identity Agent stand-ins (pod-identity-agent.ts), once they run: cluster name → the
   * loopback URL that plays http://169.254.170.23/v1/credentials on that cluster's nodes.
   */
  podIdentityAgents?: Record<string, string>;
  /** The Azure stand-ins (azure/standins.ts), when the sandbox has an AKS-flavour cluster (aks-sandbox.ts). */
  azure?: AzureSandboxInfo;
}

/** Where the Azure stand-ins answer, and what they were seeded with for the AKS clusters. */
export interface AzureSandboxInfo {
  tenantId: string;
  subscriptionId: string;
  /** The resource group the AKS clusters and the registry are in. */
  resourceGroup: string;
  /** https://127.0.0.1:PORT — AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  /** https://127.0.0.1:PORT — the ARM clients' endpoint. */
  armUrl: string;
  /** The registry seeded for the AKS clusters (`<name>.azurecr.io`) and its resource id. */
  registry: { id: string; loginServer: string };
  /** `<registry host>:443:127.0.0.1:PORT` (curl's --connect-to). */
  acrConnectTo: string;
  /** The stand-ins' CA (NODE_EXTRA_CA_CERTS for a child process). */
  caCertPath: string;
  /** AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST of the sandbox's administrator. */
  adminEnv: Record<string, string>;
}

/** One AWS request seen by the AWS gate. */
export interface AwsRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  /** Signing service from the Authorization header (`iam`, `sts`, …), or undefined if unsigned. */
  service?: string;
  /** `Action=` of a query-protocol request, or the operation of an X-Amz-Target request. */
  action?: string;
  status?: number;
}

/** One decision of the AWS gate (aws-gate.ts): a check that AWS makes and moto does not. */
export interface GateDecision {
  seq: number;
  time: string;
  /** `sts:AssumeRoleWithWebIdentity`, `iam:CreateRole`, `ecr:DescribeImages`, … */
  action: string;
  /** Who asked: the token's subject, an assumed-role ARN, or the caller's access key id. */
  principal?: string;
  /** The IAM role involved (the role being assumed, or the role behind the credentials). */
  role?: string;
  resource?: string;
  allowed: boolean;
  reason: string;
  /** The AWS error code answered when not allowed. */
  code?: string;
}

/** One Kubernetes API request from the audit log (stage ResponseComplete). */
export interface KubeRequest {
  time: string;
  verb: string;
  /** e.g. `deployments`, `serviceaccounts`; undefined for non-resource URLs. */
  resource?: string;
  subresource?: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
  user: string;
  userAgent?: string;
  code?: number;
  /** True when the request carried dryRun=All (server-side dry run: nothing persisted). */
  dryRun: boolean;
  uri: string;
}
