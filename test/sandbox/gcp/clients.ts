// Google's own Node clients pointed at the stand-ins (for the tests): `rootUrl` per API, and a
// transporter whose HTTPS agent trusts the sandbox CA (verification stays on).
import { cloudresourcemanager_v3 } from '@googleapis/cloudresourcemanager';
import { container_v1 } from '@googleapis/container';
import { iam_v1 } from '@googleapis/iam';
import { iamcredentials_v1 } from '@googleapis/iamcredentials';
import { sts_v1 } from '@googleapis/sts';
import { gaxios, GoogleAuth, OAuth2Client } from 'google-auth-library';
import type { GcpStandins } from './standins.js';

export interface GoogleClients {
  auth: OAuth2Client;
  iam: iam_v1.Iam;
  crm: cloudresourcemanager_v3.Cloudresourcemanager;
  container: container_v1.Container;
  iamcredentials: iamcredentials_v1.Iamcredentials;
  sts: sts_v1.Sts;
}

/** A transporter trusting the stand-ins' CA. */
export function transporter(s: GcpStandins): gaxios.Gaxios {
  return new gaxios.Gaxios({ agent: s.agent });
}

/**
 * Application default credentials from a JSON document: authorized_user (refreshed at the stand-ins'
 * token endpoint) or service_account. google-auth-library 10 sends a key's token request to Google's
 * fixed token URL whatever the key's `token_uri` says, so a key signs its own scoped JWTs
 * (`useJWTAccessWithScope`), which Google accepts as well and the stand-ins verify against the key.
 */
export async function adc(s: GcpStandins, credentials: Record<string, string>): Promise<OAuth2Client> {
  const auth = new GoogleAuth({
    credentials,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    clientOptions: { transporter: transporter(s), endpoints: { oauth2TokenUrl: s.urls.oauth2Token } },
  });
  // What Google's generated (gapic) clients set on their GoogleAuth.
  auth.useJWTAccessWithScope = true;
  // Both kinds of key document make an OAuth2Client (UserRefreshClient, JWT).
  return (await auth.getClient()) as OAuth2Client;
}

/** A client that sends a fixed bearer token (a token the stand-ins issued, e.g. after STS). */
export function bearer(s: GcpStandins, token: string): OAuth2Client {
  const client = new OAuth2Client({ transporter: transporter(s) });
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}

export function clients(s: GcpStandins, auth: OAuth2Client): GoogleClients {
  return {
    auth,
    iam: new iam_v1.Iam({ rootUrl: s.urls.iam, auth }),
    crm: new cloudresourcemanager_v3.Cloudresourcemanager({ rootUrl: s.urls.cloudresourcemanager, auth }),
    container: new container_v1.Container({ rootUrl: s.urls.container, auth }),
    iamcredentials: new iamcredentials_v1.Iamcredentials({ rootUrl: s.urls.iamcredentials, auth }),
    sts: new sts_v1.Sts({ rootUrl: s.urls.sts, agent: s.agent }),
  };
}

/** The status and Google error of a rejected client call. */
export async function failure(p: Promise<unknown>): Promise<{ status: number; error: { status?: string; message?: string; error?: string; error_description?: string } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; response?: { status: number; data: unknown } };
    const data = e.response?.data as { error?: { status?: string; message?: string } | string; error_description?: string } | undefined;
    const error = typeof data?.error === 'object' ? data.error : { error: data?.error, error_description: data?.error_description };
    return { status: e.response?.status ?? e.status ?? 0, error };
  }
  throw new Error('expected the call to fail, and it succeeded');
}
