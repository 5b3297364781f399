/**
 * The narrow interface through which the pipeline reaches AWS (IAM, STS). Only the calls
 * rhacs-sts makes; the real implementation wraps the SDK v3 clients and is loaded lazily.
 */
import type { Action, AssociationState, AwsState, OidcProviderState, Plan } from '../../plan/model.js';
import type { PolicyDocument } from './policies.js';
import type { Partition } from '../../validate.js';

export type AwsAction = Extract<Action, { type: 'oidc-provider' | 'role' | 'role-tags' | 'trust-policy' | 'permissions-policy' | 'managed-policy' | 'pod-identity-association' }>;

export const AWS_ACTION_TYPES: ReadonlySet<Action['type']> = new Set(['oidc-provider', 'role', 'role-tags', 'trust-policy', 'permissions-policy', 'managed-policy', 'pod-identity-association']);

/** The service accounts of one EKS cluster whose Pod Identity associations are read. */
export interface AssociationQuery {
  clusterName: string;
  region: string;
  namespace: string;
  serviceAccounts: string[];
}

export function isAwsAction(a: Action): a is AwsAction {
  return AWS_ACTION_TYPES.has(a.type);
}

export interface CallerIdentity {
  accountId: string;
  partition: Partition;
  arn: string;
}

export interface AwsSession {
  /**
   * sts:GetCallerIdentity. `regionHint` gives the region the cluster names (EKS issuer, OpenShift
   * infrastructure), used for STS only when no region is configured.
   */
  identity(regionHint?: () => Promise<string | undefined>): Promise<CallerIdentity>;
  /** Reads the OIDC providers (by issuer) and the role, in parallel. Read-only. */
  readState(input: { accountId: string; partition: Partition; issuers: string[]; roleName: string }): Promise<AwsState>;
  /**
   * Applies one planned action; re-reads and re-checks before writing, so a second run (or a
   * concurrent one) writes nothing. Returns true when it wrote. The plan gives context, such as
   * the trust policy a new role is created with.
   */
  apply(action: AwsAction, plan: Plan): Promise<boolean>;
  /** One OIDC provider (null when it does not exist). Read-only. */
  oidcProvider?(arn: string): Promise<OidcProviderState | null>;
  /** Creates or converges one OIDC provider (audiences, tags) without a plan: `issuer publish`. Returns true when it wrote. */
  ensureOidcProvider?(action: Extract<AwsAction, { type: 'oidc-provider' }>): Promise<boolean>;
  /** Names of roles whose trust policy names this OIDC provider as a federated principal. */
  rolesTrusting(providerArn: string): Promise<string[]>;
  /** How many IAM OIDC providers the account has (ListOpenIDConnectProviders); undefined when it may not list them. */
  oidcProviderCount?(): Promise<number | undefined>;
  /** The default version of a managed policy (e.g. a permissions boundary); null when it does not exist. Read-only. */
  managedPolicy(arn: string): Promise<PolicyDocument | null>;
  /** EKS Pod Identity associations of these service accounts (EKS API). Read-only. */
  readAssociations?(queries: AssociationQuery[]): Promise<AssociationState[]>;
}
