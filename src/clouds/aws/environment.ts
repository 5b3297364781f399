// The AWS variables rhacs-sts acts on itself, read at the entry (src/options/environment.ts) and passed in.

/** The AWS variables rhacs-sts reads itself (the SDK reads its own). */
export interface AwsEnvironment {
  /** AWS_PROFILE, when --profile is not given. */
  profile?: string;
  /** HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE: where named profiles are defined. */
  home?: string;
  configFile?: string;
  sharedCredentialsFile?: string;
  /** AWS_ENDPOINT_URL_EKS_AUTH, AWS_ENDPOINT_URL: where the EKS Auth API is reached. */
  endpointUrlEksAuth?: string;
  endpointUrl?: string;
}
