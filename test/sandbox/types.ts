// Serialisable description of a running sandbox. The global setup hands it to the test files
// (vitest `provide`/`inject`), so it holds only plain data: paths, URLs and strings.

export type Flavour = 'eks' | 'openshift' | 'plain';

/** Environment for the AWS SDK (and the aws CLI) to talk to the sandbox's moto server. */
export interface AwsEnv {
  AWS_ENDPOINT_URL: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
}

export interface ClusterInfo {
  /** Cluster name; also its context name in the kubeconfigs. */
  name: string;
  context: string;
  flavour: Flavour;
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
  /** The counting proxy in front of moto: AWS_ENDPOINT_URL points here. */
  awsEndpoint: string;
  /** Base URL of the proxy's request log: GET {counterUrl}/requests?since=N, GET {counterUrl}/mark. */
  counterUrl: string;
  awsEnv: AwsEnv;
  /** moto's default account. */
  accountId: string;
}

/** One IAM/STS request seen by the counting proxy. */
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
