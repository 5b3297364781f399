// Stand-in for gke-gcloud-auth-plugin, the exec credential plugin that `gcloud container clusters
// get-credentials` writes into every GKE kubeconfig user (@kubernetes/client-node runs it, as kubectl
// does). It prints an ExecCredential (client.authentication.k8s.io/v1beta1) with an access token of
// Google's shape and an expiry an hour ahead. The token is sent but never what authenticates: the
// sandbox API servers accept the client certificate also in the kubeconfig user (as with the aws
// stand-in, aws-cli.ts). Installed next to the aws stand-in (first on PATH).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GKE_AUTH_PLUGIN = 'gke-gcloud-auth-plugin';

/** The exec section gcloud writes for a GKE cluster. */
export function gkeExecSection() {
  return {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: GKE_AUTH_PLUGIN,
    installHint: 'Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
    provideClusterInfo: true,
  };
}

const SCRIPT = `#!/usr/bin/env bash
# rhacs-sts sandbox stand-in for gke-gcloud-auth-plugin (see gke-auth-plugin.ts).
set -eu
expiry="$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+1H +%Y-%m-%dT%H:%M:%SZ)"
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false},"status":{"expirationTimestamp":"%s","token":"ya29.sandbox-gke-token"}}\\n' "$expiry"
`;

/** Writes the stand-in into `binDir` (already first on PATH for the aws stand-in). */
export function installGkeAuthPlugin(binDir: string): string {
  const file = join(binDir, GKE_AUTH_PLUGIN);
  writeFileSync(file, SCRIPT);
  chmodSync(file, 0o755);
  return file;
}
