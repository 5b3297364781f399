// The Azure variables rhacs-sts acts on, read at the entry point and passed in: the credential chain
// is built from these values, never from the process's environment.

/** What `@azure/identity`'s default chain would read from the environment, as values. */
export interface AzureEnvironment {
  /** AZURE_TENANT_ID */
  tenantId?: string;
  /** AZURE_CLIENT_ID */
  clientId?: string;
  /** AZURE_CLIENT_SECRET */
  clientSecret?: string;
  /** AZURE_CLIENT_CERTIFICATE_PATH */
  clientCertificatePath?: string;
  /** AZURE_FEDERATED_TOKEN_FILE (workload identity) */
  federatedTokenFile?: string;
  /** AZURE_AUTHORITY_HOST */
  authorityHost?: string;
  /** AZURE_SUBSCRIPTION_ID, when --azure-subscription is not given. */
  subscriptionId?: string;
  /** AZURE_CONFIG_DIR, else HOME/.azure: where `az login` keeps its profile (the default subscription). */
  configDir?: string;
  home?: string;
}
