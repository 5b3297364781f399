/**
 * The environment variables that rooms below the entry point act on, read once here and passed in
 * (nothing under src/ but the entry point and src/options/ reads process.env).
 */
import type { AwsEnvironment } from '../clouds/aws/environment.js';
import type { GcpEnvironment } from '../clouds/gcp/environment.js';
import type { AzureEnvironment } from '../clouds/azure/environment.js';
import type { KubeEnvironment } from '../kube/environment.js';

export type { AwsEnvironment, AzureEnvironment, GcpEnvironment, KubeEnvironment };

/**
 * Where Azure Resource Manager is reached when not at the cloud's own host: RHACS_STS_AZURE_ARM_ENDPOINT
 * (an Azure Stack Hub or a test double; Entra's host is AZURE_AUTHORITY_HOST, as the SDKs read it).
 */
export interface AzureEndpoints {
  arm?: string;
}

/** The Google APIs whose endpoint gcloud lets a user override (CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>), and the OAuth token host (CLOUDSDK_AUTH_TOKEN_HOST). */
export type GcpEndpoints = Partial<Record<'iam' | 'cloudresourcemanager' | 'container' | 'artifactregistry' | 'sts' | 'iamcredentials' | 'oauth2Token', string>>;

export interface Environment {
  kube: KubeEnvironment;
  aws: AwsEnvironment;
  gcp: GcpEnvironment;
  gcpEndpoints: GcpEndpoints;
  azure: AzureEnvironment;
  azureEndpoints: AzureEndpoints;
}

/** Reads the variables above from an environment (the process's, given by the entry point). */
export function readEnvironment(env: Record<string, string | undefined>): Environment {
  const pick = <T extends object>(o: Record<keyof T, string | undefined>): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    kube: pick<KubeEnvironment>({ kubeconfig: env.KUBECONFIG, home: env.HOME, kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST }),
    aws: pick<AwsEnvironment>({
      profile: env.AWS_PROFILE,
      home: env.HOME,
      configFile: env.AWS_CONFIG_FILE,
      sharedCredentialsFile: env.AWS_SHARED_CREDENTIALS_FILE,
      endpointUrlEksAuth: env.AWS_ENDPOINT_URL_EKS_AUTH,
      endpointUrl: env.AWS_ENDPOINT_URL,
    }),
    gcp: pick<GcpEnvironment>({
      applicationCredentials: env.GOOGLE_APPLICATION_CREDENTIALS,
      cloudsdkConfig: env.CLOUDSDK_CONFIG,
      home: env.HOME,
      appData: env.APPDATA,
    }),
    azure: pick<AzureEnvironment>({
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
      clientCertificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH,
      federatedTokenFile: env.AZURE_FEDERATED_TOKEN_FILE,
      authorityHost: env.AZURE_AUTHORITY_HOST,
      subscriptionId: env.AZURE_SUBSCRIPTION_ID,
      configDir: env.AZURE_CONFIG_DIR,
      home: env.HOME,
    }),
    azureEndpoints: pick<Required<AzureEndpoints>>({ arm: env.RHACS_STS_AZURE_ARM_ENDPOINT }),
    gcpEndpoints: pick<Required<GcpEndpoints>>({
      iam: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM,
      cloudresourcemanager: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER,
      container: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER,
      artifactregistry: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY,
      sts: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_STS,
      iamcredentials: env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS,
      oauth2Token: env.CLOUDSDK_AUTH_TOKEN_HOST,
    }),
  };
}
