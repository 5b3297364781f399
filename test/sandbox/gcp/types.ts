// The public shapes of the Google Cloud stand-ins (standins.ts): projects, clusters and repositories
// to seed, the resources whose IAM policies they keep, the request log, and their URLs.

/** The issuers' public web, as Google STS reaches it (the sandbox's public issuer stand-in). */
export type PublicFetch = (url: string) => Promise<{ status: number; body: string }>;

export interface GcpProjectSpec {
  projectId: string;
  projectNumber: string;
}

/** One request as the stand-ins saw it. */
export interface GcpRequestRecord {
  seq: number;
  method: string;
  path: string;
  /** The discovery method id (`iam.projects.serviceAccounts.create`), or the endpoint's own name. */
  methodId: string;
  /** Who called (`user:…`, `serviceAccount:…`, `principal://…`), when known. */
  caller?: string;
  decision: 'allowed' | 'denied' | 'invalid' | 'unauthenticated' | 'not-found' | 'conflict' | 'unimplemented';
  status: number;
  reason?: string;
}

export interface GkeNodePoolSpec {
  name: string;
  /** `config.workloadMetadataConfig.mode` (default GKE_METADATA when the cluster has workload identity). */
  metadataMode?: 'GKE_METADATA' | 'GCE_METADATA' | 'MODE_UNSPECIFIED';
  /** The nodes' Compute Engine service account (default: the project's compute default). */
  serviceAccount?: string;
}

export interface GkeClusterSpec {
  projectId: string;
  location: string;
  name: string;
  /** Workload identity on: `workloadIdentityConfig.workloadPool` = `<project>.svc.id.goog`. */
  workloadIdentity: boolean;
  nodePools: GkeNodePoolSpec[];
  /** The cluster's service-account issuer (GKE's own form by default). */
  issuer?: string;
}

export interface ArtifactRepositorySpec {
  projectId: string;
  location: string;
  repository: string;
  /** Image references served by its Docker registry (`image:tag`). */
  images?: string[];
}

/** A resource whose IAM policy the stand-ins keep. */
export type PolicyResource =
  | { kind: 'project'; projectId: string }
  | { kind: 'serviceAccount'; email: string }
  | { kind: 'repository'; projectId: string; location: string; repository: string };

export interface GcpStandinUrls {
  iam: string;
  sts: string;
  iamcredentials: string;
  cloudresourcemanager: string;
  container: string;
  artifactregistry: string;
  /** Google's OAuth 2.0 token endpoint (a key file's `token_uri`, authorized_user refresh). */
  oauth2Token: string;
  /** Google STS's token URL for an `external_account` configuration. */
  stsToken: string;
  /** The Docker registry of `<location>-docker.pkg.dev` (once a repository is seeded there). */
  docker(location: string): string;
}
