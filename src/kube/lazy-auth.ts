/**
 * Stand-ins for three of the Kubernetes client's authenticators (Azure, GCP and OIDC
 * `auth-provider` users), which the build puts in place of the real ones in the client's
 * KubeConfig (see scripts/build.mjs). Every KubeConfig constructs all of them, and the OIDC one
 * loads an OpenID client library and the others a JSONPath engine, which cost start-up time in
 * every run. A stand-in answers "is this user mine?" exactly as the real one does, and loads the
 * real authenticator only when a kubeconfig user names it. Exec plugins (`aws eks get-token`),
 * tokens, token files and client certificates do not go through these.
 */
import type { RequestOptions } from 'node:https';
import type { User } from '@kubernetes/client-node';

interface Authenticator {
  isAuthProvider(user: User): boolean;
  applyAuthentication(user: User, opts: RequestOptions): Promise<void>;
}

type AuthenticatorClass = new () => Authenticator;

/** An authenticator for `auth-provider: { name }` that loads the real one on first use. */
export function lazyAuthenticator(name: string, load: () => Promise<AuthenticatorClass>): AuthenticatorClass {
  return class LazyAuthenticator implements Authenticator {
    #real: Promise<Authenticator> | undefined;

    isAuthProvider(user: User): boolean {
      return user?.authProvider?.name === name;
    }

    async applyAuthentication(user: User, opts: RequestOptions): Promise<void> {
      this.#real ??= load().then((Real) => new Real());
      await (await this.#real).applyAuthentication(user, opts);
    }
  };
}

export const AzureAuth = lazyAuthenticator('azure', async () => (await import('@kubernetes/client-node/dist/azure_auth.js')).AzureAuth);
export const GoogleCloudPlatformAuth = lazyAuthenticator('gcp', async () => (await import('@kubernetes/client-node/dist/gcp_auth.js')).GoogleCloudPlatformAuth);
export const OpenIDConnectAuth = lazyAuthenticator('oidc', async () => (await import('@kubernetes/client-node/dist/oidc_auth.js')).OpenIDConnectAuth);
