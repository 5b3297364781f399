// Google Cloud for the sandbox's OpenShift-on-Google-Cloud cluster: the Google stand-ins (standins.ts),
// gcloud's application default credentials for the seeded owner, and the environment that points
// rhacs-sts at them. Nothing GKE: an OpenShift cluster's trust goes through a workload identity
// pool and the cluster's OIDC provider, whose keys Google STS holds inline (the issuer is not public).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicFetcher } from '../issuers/public-fetch.js';
import type { SandboxInfo } from '../types.js';
import { startGcpStandins, type GcpStandins } from './standins.js';

export interface OpenShiftGoogle {
  standins: GcpStandins;
  /** GOOGLE_APPLICATION_CREDENTIALS, CLOUDSDK_API_ENDPOINT_OVERRIDES_*, CLOUDSDK_AUTH_TOKEN_HOST, NODE_EXTRA_CA_CERTS. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startOpenShiftGoogle(info: SandboxInfo): Promise<OpenShiftGoogle> {
  const standins = await startGcpStandins({ fetchPublic: publicFetcher(info) });
  const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-ocp-google-'));
  const adc = join(dir, 'application_default_credentials.json');
  writeFileSync(adc, JSON.stringify(standins.adminCredentials()), { mode: 0o600 });
  const cas = join(dir, 'cas.pem');
  writeFileSync(cas, `${standins.ca}\n${readFileSync(info.awsEnv.NODE_EXTRA_CA_CERTS, 'utf8')}`);
  const env = {
    GOOGLE_APPLICATION_CREDENTIALS: adc,
    CLOUDSDK_AUTH_TOKEN_HOST: standins.urls.oauth2Token,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM: standins.urls.iam,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER: standins.urls.cloudresourcemanager,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: standins.urls.container,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY: standins.urls.artifactregistry,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STS: standins.urls.sts,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: standins.urls.iamcredentials,
    NODE_EXTRA_CA_CERTS: cas,
  };
  return {
    standins, env,
    stop: async () => {
      await standins.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
