// The bundle's stand-ins for the Kubernetes client's Azure, GCP and OIDC authenticators answer
// "is this user mine?" as the real ones do, and hand the work to the real one, loaded on first use.
import { AzureAuth as RealAzure } from '@kubernetes/client-node/dist/azure_auth.js';
import { GoogleCloudPlatformAuth as RealGcp } from '@kubernetes/client-node/dist/gcp_auth.js';
import { OpenIDConnectAuth as RealOidc } from '@kubernetes/client-node/dist/oidc_auth.js';
import type { User } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AzureAuth, GoogleCloudPlatformAuth, lazyAuthenticator, OpenIDConnectAuth } from '../../src/kube/lazy-auth.js';
import { regionFromKubeconfig } from '../../src/kube/errors.js';

const user = (authProvider?: { name: string; config: Record<string, string> }): User => ({ name: 'u', ...(authProvider ? { authProvider } : {}) }) as User;
const later = new Date(Date.now() + 3600_000).toISOString();

describe('lazy authenticators', () => {
  const users = [user(), user({ name: 'azure', config: {} }), user({ name: 'gcp', config: {} }), user({ name: 'oidc', config: {} }), user({ name: 'exec', config: {} })];

  it.each([
    ['azure', new AzureAuth(), new RealAzure()],
    ['gcp', new GoogleCloudPlatformAuth(), new RealGcp()],
    ['oidc', new OpenIDConnectAuth(), new RealOidc()],
  ] as const)('%s: claims exactly the users the real one claims', (_name, lazy, real) => {
    expect(users.map((u) => lazy.isAuthProvider(u))).toEqual(users.map((u) => Boolean(real.isAuthProvider(u))));
  });

  it('loads the real authenticator on first use, once, and lets it set the credentials', async () => {
    let loads = 0;
    const Lazy = lazyAuthenticator('gcp', async () => {
      loads++;
      return RealGcp;
    });
    const a = new Lazy();
    expect(loads).toBe(0);
    const opts: { headers: Record<string, string> } = { headers: {} };
    await a.applyAuthentication(user({ name: 'gcp', config: { 'access-token': 'tok-1', expiry: later } }), opts);
    await a.applyAuthentication(user({ name: 'gcp', config: { 'access-token': 'tok-1', expiry: later } }), opts);
    expect(loads).toBe(1);
    expect(opts.headers.Authorization).toBe('Bearer tok-1');
  });

  it('passes the real one\'s errors on (an expired token with no refresh command)', async () => {
    const opts = { headers: {} };
    await expect(new GoogleCloudPlatformAuth().applyAuthentication(user({ name: 'gcp', config: { 'access-token': 't', expiry: '2000-01-01T00:00:00Z' } }), opts))
      .rejects.toThrow(/Token is expired/);
  });
});

describe('regionFromKubeconfig', () => {
  it.each([
    ['arn:aws:eks:eu-west-1:123456789012:cluster/prod', undefined, 'eu-west-1'],
    ['arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/prod', undefined, 'us-gov-west-1'],
    ['prod-eks', ['--region', 'ap-southeast-2', 'eks', 'get-token', '--cluster-name', 'prod'], 'ap-southeast-2'],
    ['prod-eks', ['eks', 'get-token', '--cluster-name', 'prod', '--region=ca-central-1'], 'ca-central-1'],
    ['default/api-x:6443/kube:admin', undefined, undefined],
    ['prod-eks', ['eks', 'get-token', '--cluster-name', 'prod'], undefined],
  ])('%s %j → %s', (context, args, region) => {
    expect(regionFromKubeconfig(context, args ? { args } : undefined)).toBe(region);
  });
});
