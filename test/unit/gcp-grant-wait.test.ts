// init's wait for IAM propagation on GKE (grant-wait.ts), with a fake Google: each RHACS Kubernetes
// service account's token chain is checked until it holds, with progress before every wait; a
// cluster that gives no token is a warning, not a failure; a wrong setup stops at once; and the
// waits share one budget.
import { describe, expect, it } from 'vitest';
import { awaitGrants, type GrantWaitDeps } from '../../src/clouds/gcp/grant-wait.js';
import type { GcpAction } from '../../src/clouds/gcp/plan.js';
import type { TokenHttpAnswer } from '../../src/clouds/gcp/token-http.js';
import { OperationError } from '../../src/errors.js';

const PROJECT = 'sandbox-project';
const EMAIL = `rhacs-prod@${PROJECT}.iam.gserviceaccount.com`;
const ISSUER = `https://container.googleapis.com/v1/projects/${PROJECT}/locations/europe-west1/clusters/prod`;
const DOWNLOAD = 'artifactregistry.repositories.downloadArtifacts';

const action = (serviceAccounts = ['central']): Extract<GcpAction, { type: 'gcp-propagation' }> => ({
  id: 'gcp-propagation', type: 'gcp-propagation', status: 'create', target: EMAIL, summary: 'wait',
  projectId: PROJECT, email: EMAIL, repositories: [],
  probes: serviceAccounts.map((sa) => ({ context: 'gke', namespace: 'stackrox', serviceAccount: sa, issuer: ISSUER })),
});
const jwt = (aud: string) => `e30.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'system:serviceaccount:stackrox:central', aud, exp: 4_000_000_000 })).toString('base64url')}.sig`;

/** Google, as the chain meets it: impersonation answers 403 for the first `pending` calls, then a token. */
function fakeGoogle(o: { pending: number; sts?: TokenHttpAnswer }) {
  const calls: string[] = [];
  let impersonations = 0;
  const http: GrantWaitDeps['http'] = {
    request: async (_m, url) => {
      calls.push(url.replace(/^https:\/\/[^/]+\//, ''));
      if (url.includes('/v1/token')) return o.sts ?? { status: 200, json: { access_token: 'federated' } };
      if (url.includes(':generateAccessToken')) {
        return ++impersonations <= o.pending
          ? { status: 403, json: { error: { code: 403, status: 'PERMISSION_DENIED', message: "Permission 'iam.serviceAccounts.getAccessToken' denied" } } }
          : { status: 200, json: { accessToken: 'sa-token' } };
      }
      return { status: 200, json: { permissions: [DOWNLOAD] } };
    },
  };
  return { http, calls };
}

function deps(http: GrantWaitDeps['http'], over: Partial<GrantWaitDeps> = {}) {
  const progress: string[] = [];
  const warnings: string[] = [];
  const slept: number[] = [];
  const tokens: string[] = [];
  const d: GrantWaitDeps = {
    clusterToken: async (context, ns, sa, audience) => {
      tokens.push(`${context}/${ns}/${sa} ${audience}`);
      return jwt(audience);
    },
    http, progress: (m) => progress.push(m), warn: (m) => warnings.push(m),
    sleep: async (ms) => { slept.push(ms); }, now: () => 1_000_000, ...over,
  };
  return { d, progress, warnings, slept, tokens };
}

describe('init waits for IAM propagation on GKE', () => {
  it('checks the chain until Google honours the binding, saying how long it waited before each check', async () => {
    const g = fakeGoogle({ pending: 2 });
    const x = deps(g.http);
    await expect(awaitGrants(action(), x.d)).resolves.toBe(true);
    expect(x.tokens).toEqual([`gke/stackrox/central ${PROJECT}.svc.id.goog`]);
    expect(x.slept).toEqual([2_000, 4_000]);
    expect(x.progress).toHaveLength(2);
    expect(x.progress[1]).toMatch(/^IAM propagation: Google does not honour the new grants for stackrox\/central yet \(.*roles\/iam\.workloadIdentityUser.*\); 2 s waited, checking again in 4 s$/);
    expect(g.calls.filter((c) => c.includes('testIamPermissions'))).toHaveLength(1);
  });

  it('a cluster that gives no token is a warning, and the other service accounts are still proven', async () => {
    const g = fakeGoogle({ pending: 0 });
    const x = deps(g.http, {
      clusterToken: async (_c, _ns, sa, audience) => {
        if (sa === 'central') throw new Error('forbidden: serviceaccounts/token');
        return jwt(audience);
      },
    });
    await awaitGrants(action(['central', 'sensor']), x.d);
    expect(x.warnings).toEqual([expect.stringMatching(/^Could not check that Google honours the grants for stackrox\/central \(no token for it: forbidden/)]);
    expect(g.calls.filter((c) => c.includes(':generateAccessToken'))).toHaveLength(1);
  });

  it('a broken link that waiting cannot mend stops at once with its fix', async () => {
    const g = fakeGoogle({ pending: 0, sts: { status: 400, json: { error: 'invalid_target', error_description: 'unknown pool' } } });
    const x = deps(g.http);
    const err = await awaitGrants(action(), x.d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).message).toMatch(/Google STS does not know the workload pool/);
    expect(x.slept).toEqual([]);
  });

  it('the service accounts share one budget: still pending when it is spent → an error saying a re-run resumes', async () => {
    const g = fakeGoogle({ pending: 1_000 });
    const x = deps(g.http, { maxWaitMs: 10_000 });
    const err = await awaitGrants(action(['central', 'sensor']), x.d).catch((e: unknown) => e);
    expect((err as OperationError).message).toMatch(/stackrox\/central: Google has not made the change effective after 10 s/);
    expect((err as OperationError).hint).toMatch(/run the same command again/);
    expect(x.slept.reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});
