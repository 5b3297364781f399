/**
 * The environment variables that rooms below the entry point act on, read once here and passed in
 * (nothing under src/ but the entry point and src/options/ reads process.env).
 */
import type { AwsEnvironment } from '../clouds/aws/environment.js';
import type { KubeEnvironment } from '../kube/environment.js';

export type { AwsEnvironment, KubeEnvironment };

export interface Environment {
  kube: KubeEnvironment;
  aws: AwsEnvironment;
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
  };
}
