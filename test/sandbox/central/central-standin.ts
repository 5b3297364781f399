// Stand-in for RHACS Central's API (no Central runs in the sandbox: kwok pods run no container).
// It plays the `central` container of every Central pod of a cluster, and follows the published
// contract (StackRox's generated swagger, see central-schema.ts and stackrox-api/):
//
//   reach   For each Central pod (label app=central) it listens on 127.0.0.1 with the install's own
//           certificate (Secret central-tls, cert.pem/key.pem; for a server name other than
//           central.<ns>[.svc], the exposure's central-default-tls-cert when there is one, as Central
//           serves it) and tells kwok, the pod's kubelet, to forward the pod's port 8443 there (a kwok
//           PortForward named like the pod, owned by it). So `kubectl port-forward` — through the real
//           kube-apiserver, the cluster network stand-in and kwok — reaches "the Central of that pod".
//   auth    Bearer API tokens (issued through the control API) or HTTP basic `admin` against the
//           install's Secret central-htpasswd (key htpasswd, `admin:{SHA}…`); both in one request, or
//           none, are refused (401, gRPC code 16); a read-only token may not write (403, code 7).
//   API     /v1/metadata (the pod's image version), /v1/central-capabilities (capabilities disabled
//           when the pod runs with ROX_MANAGED_CENTRAL=true, as a managed Central does),
//           /v1/imageintegrations (GET, POST, PUT /{id}, PATCH /{config.id}, DELETE), /test and
//           /test/updated. Every body is validated against the swagger (unknown fields, wrong types:
//           400, code 3). Integrations are stored per Central (cluster and namespace) across pod
//           restarts, secrets scrubbed to "******" on the way out and reconciled on PATCH with
//           updatePassword=false (central/imageintegration/service, pkg/secrets).
//   test    What Central does for an ECR integration (pkg/registries/ecr): the ECR validation
//           (registry ID and region required, keys unless useIam, an assume-role ID with
//           useAssumeRole), then the AWS SDK's default credential chain AS THE SERVING POD HAS IT:
//           AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE → a token for the pod's service account with the
//           audience and lifetime of the projected volume behind that file, bound to the pod
//           (TokenRequest against the real kube-apiserver) → sts:AssumeRoleWithWebIdentity at the AWS
//           gate (gate-sts.ts: issuer, keys, audience, trust policy) → with useAssumeRole,
//           sts:AssumeRole of arn:aws:iam::<registryId>:role/<assumeRoleId> → ecr:GetAuthorizationToken
//           (gate-ecr.ts: the role's policies); else AWS_CONTAINER_CREDENTIALS_FULL_URI +
//           AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity) → the projected token behind that
//           file in the Authorization header of a GET to the cluster's Pod Identity Agent stand-in
//           (pod-identity-agent.ts → EKS Auth at the gate, gate-eks.ts); with neither, no credentials (no
//           instance metadata in the sandbox). Failures come back as Central words them (the Go SDK's
//           error chain under "registry integration: …").
//           For an Artifact Registry integration with google.wifEnabled (artifactregistry-integration-test.ts):
//           the external_account configuration in Secret gcp-cloud-credentials (key credentials) of
//           Central's namespace → the pod's projected token behind credential_source.file → Google
//           STS → IAM Credentials generateAccessToken; without that Secret, the metadata server of
//           the pod's node on GKE; then the registry's ping (GET /v2/). For an Azure integration
//           with azure.wifEnabled (azure-integration-test.ts): AZURE_CLIENT_ID, AZURE_TENANT_ID,
//           AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST of the central container → Entra's token
//           endpoint → the registry's /oauth2/exchange → its ping and, when the sandbox names one, a
//           pull. The Google and Azure stand-ins a cluster's pods reach are given per cluster
//           (`clouds`, cloud-sides.ts); without them Google and Azure are unreachable, and the test
//           fails as Central's would.
//
// Not covered: the registry's Docker API (Central lists /v2/_catalog with the authorization token;
// the sandbox has no registry endpoint), and the trust of a
// cross-account role assumed with sts:AssumeRole (the gate does not check plain AssumeRole).
//
// Rooms: central-pods.ts (listeners, certificates, PortForwards), central-api.ts (authentication and
// the API), ecr-integration-test.ts, artifactregistry-integration-test.ts, azure-integration-test.ts
// (Central's tests, one file per kind), cloud-sides.ts (the Google and Azure stand-ins a pod
// reaches); this file starts them for every cluster and serves their control API.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { json, readBody, type CentralRequest, type TokenRole } from './central-api.js';
import { ClusterCentrals } from './central-pods.js';
import { cloudsFromWire, type CentralClouds, type CentralCloudsWire } from './cloud-sides.js';
import { IMAGE_INTEGRATION_API, validate } from './central-schema.js';
import type { Integration } from './integrations.js';
import { createRestrictedUser } from '../kube/restricted-users.js';
import { CENTRAL_STANDIN_USER } from '../observe.js';
import type { SandboxInfo } from '../types.js';

export { CENTRAL_PORT } from './central-pods.js';
export { SCRUBBED, scrub } from './integrations.js';
export type { CentralRequest, TokenRole } from './central-api.js';
export type { AzureSide, CentralClouds, GcpSide } from './cloud-sides.js';

// ---------------------------------------------------------------------------------------------------
// The stand-ins of every cluster, and their control API (tests and people: tokens, state, requests)

export interface CentralStandIns {
  /** http://127.0.0.1:PORT: POST /tokens, GET/POST /integrations, GET /endpoint, GET /requests, GET /mark, PUT /clouds. */
  controlUrl: string;
  stop(): Promise<void>;
}

export interface CentralStandInsOptions {
  log?: (m: string) => void;
  /** The Google and Azure stand-ins the pods of a cluster reach (by cluster name; asked at each test); none by default. */
  clouds?: (cluster: string) => CentralClouds | undefined;
}

export async function startCentralStandIns(info: SandboxInfo, opts: CentralStandInsOptions = {}): Promise<CentralStandIns> {
  const log = opts.log ?? (() => undefined);
  const requests: CentralRequest[] = [];
  let seq = 0;
  const record = (r: Omit<CentralRequest, 'seq'>) => requests.push({ ...r, seq: ++seq });
  const clusters = new Map<string, ClusterCentrals>();
  // Google stand-ins started after the sandbox (by a test or `npm run sandbox`) register here (PUT /clouds).
  const registered = new Map<string, CentralClouds>();
  for (const name of Object.keys(info.clusters)) {
    // Its own user, with what a kubelet does for Central's pods (watch them, read their Secrets,
    // request their service-account tokens, tell kwok where their port goes), so audit queries
    // can tell its requests from rhacs-sts's (observe.ts: isClusterComponent).
    const user = await createRestrictedUser(info, name, {
      name: CENTRAL_STANDIN_USER,
      namespace: 'kube-system',
      rules: [],
      clusterRules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
        { apiGroups: ['kwok.x-k8s.io'], resources: ['portforwards'], verbs: ['create'] },
      ],
    });
    const kc = new KubeConfig();
    kc.loadFromFile(user.kubeconfig);
    const cc = new ClusterCentrals(info, name, kc, record, log);
    cc.api.clouds = () => registered.get(name) ?? opts.clouds?.(name) ?? {};
    await cc.start();
    clusters.set(name, cc);
  }
  const of = (cluster: string | null) => {
    const cc = clusters.get(cluster ?? '');
    if (!cc) throw new Error(`no cluster ${cluster}`);
    return cc;
  };
  const control = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const q = (k: string) => url.searchParams.get(k);
      try {
        if (req.method === 'POST' && url.pathname === '/tokens') {
          const b = JSON.parse(await readBody(req)) as { cluster: string; namespace: string; role?: TokenRole };
          const token = `sandbox-api-token-${randomBytes(24).toString('base64url')}`;
          of(b.cluster).state(b.namespace).tokens.set(token, b.role ?? 'Admin');
          return json(res, 200, { token });
        }
        if (url.pathname === '/integrations') {
          const st = of(q('cluster')).state(q('namespace') ?? '');
          if (req.method === 'POST') {
            // As Sensor (autogenerated) or a person in the portal would have made it: stored as given.
            const i = JSON.parse(await readBody(req)) as Integration;
            const problems = validate(IMAGE_INTEGRATION_API, { $ref: '#/definitions/storageImageIntegration' }, i);
            if (problems.length) return json(res, 400, { problems });
            const stored = { ...i, id: randomUUID() };
            st.integrations.set(stored.id, stored);
            return json(res, 200, stored);
          }
          return json(res, 200, { integrations: [...st.integrations.values()] });
        }
        if (req.method === 'PUT' && url.pathname === '/clouds') {
          // What the cluster's pods reach from now on (an empty body: nothing again).
          const name = q('cluster') ?? '';
          of(name);
          const body = await readBody(req);
          if (body.trim()) registered.set(name, cloudsFromWire(JSON.parse(body) as CentralCloudsWire));
          else registered.delete(name);
          return json(res, 200, {});
        }
        if (url.pathname === '/endpoint') return json(res, 200, { url: await of(q('cluster')).endpoint(q('namespace') ?? '') });
        if (url.pathname === '/mark') return json(res, 200, { seq });
        if (url.pathname === '/requests') {
          const since = Number(q('since') ?? 0);
          return json(res, 200, { requests: requests.filter((r) => r.seq > since) });
        }
        json(res, 404, { error: 'not found' });
      } catch (err) {
        json(res, 500, { error: (err as Error).message });
      }
    })();
  });
  const port = await new Promise<number>((resolve) => control.listen(0, '127.0.0.1', () => resolve((control.address() as AddressInfo).port)));
  control.unref();
  return {
    controlUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      await Promise.all([...clusters.values()].map((c) => c.stop()));
      await new Promise((r) => control.close(r));
    },
  };
}
