// Where the kubeconfig is looked for, read at the entry (src/options/environment.ts) and passed in.

/** Where the kubeconfig is found when --kubeconfig is not given. */
export interface KubeEnvironment {
  /** KUBECONFIG: a list of files, separated as the platform separates paths. */
  kubeconfig?: string;
  /** HOME, for ~/.kube/config. */
  home?: string;
  /** KUBERNETES_SERVICE_HOST: set inside a pod, where the in-cluster configuration applies. */
  kubernetesServiceHost?: string;
}
