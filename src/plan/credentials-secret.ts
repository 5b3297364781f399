// What a cluster's issuer keys and a credentials Secret look like to a plan (a credentials-secret action
// writes a Secret a component reads: OpenShift on Google Cloud's gcp-cloud-credentials, marked with our label).

/** One key of a JSON Web Key Set (only the public parts we look at). */
export interface Jwk {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** The label that marks a Secret as written by rhacs-sts. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'rhacs-sts';

/** A credentials Secret as found: whether it is ours (our label), and — only when it is — the value rhacs-sts wrote. */
export interface CredentialsSecretState {
  ours: boolean;
  /** The `credentials` value, when ours (a foreign Secret's data may hold a key: never read into the plan). */
  value?: string;
}

/** What a cluster adds on OpenShift when its cloud is not AWS (src/plan/model.ts ClusterFacts). */
export interface OpenShiftCloudFacts {
  /** OpenShift: its Infrastructure object's platform type (`AWS`, `GCP`, `Azure`, `None`…), which says its cloud. */
  openshiftPlatform?: string;
  /** OpenShift on Google Cloud: the project and region its Infrastructure object names (`status.platformStatus.gcp`). */
  openshiftGcp?: { projectId?: string; region?: string };
  /** OpenShift, when the cloud holds the cluster's keys inline (Google: the provider's `jwksJson`): its issuer's keys, read through the API server. */
  issuerKeys?: Jwk[];
  /** OpenShift, when the cloud's wiring is a Secret (Google: `gcp-cloud-credentials`): that Secret as found (null: none; undefined: not read). */
  credentialsSecret?: CredentialsSecretState | null;
}

/** The action that writes (or, with status delete, removes) such a Secret; `adopt`: replace one not ours. */
export interface CredentialsSecretAction {
  type: 'credentials-secret';
  ref: { context?: string; namespace: string; name: string };
  key: string;
  value: string;
  adopt?: boolean;
}
