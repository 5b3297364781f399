/**
 * Account facts: which subscription a run acts in (the flag, AZURE_SUBSCRIPTION_ID, or `az login`'s
 * default), and who the credentials are (tenant and object id, from the ARM token's claims).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import type { AzureEnvironment } from './environment.js';

export interface AzureCaller {
  tenantId: string;
  /** The principal's object id (`oid`). */
  objectId: string;
  /** The application (client) id, for an app or a managed identity (`appid` / `azp`). */
  appId?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Pure: the claims of a JWT access token that say who it is for (not verified: ARM verifies it). */
export function tokenClaims(token: string): AzureCaller {
  const payload = token.split('.')[1];
  let claims: Record<string, unknown> = {};
  try {
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    // An opaque token: the facts stay unknown below.
  }
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const appId = s(claims.appid) ?? s(claims.azp);
  return { tenantId: s(claims.tid) ?? '', objectId: s(claims.oid) ?? '', ...(appId ? { appId } : {}) };
}

/** `az login`'s profile: the subscription marked default (what `az account show` shows). */
export function cliDefaultSubscription(environment: AzureEnvironment, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  const dir = environment.configDir ?? (environment.home ? join(environment.home, '.azure') : undefined);
  if (!dir) return undefined;
  let text: string;
  try {
    text = read(join(dir, 'azureProfile.json'));
  } catch {
    return undefined;
  }
  try {
    // The CLI writes the file with a byte-order mark.
    const profile = JSON.parse(text.replace(/^\uFEFF/, '')) as { subscriptions?: { id?: string; isDefault?: boolean }[] };
    return profile.subscriptions?.find((s) => s.isDefault === true)?.id;
  } catch {
    return undefined;
  }
}

/** The subscription: --azure-subscription, else AZURE_SUBSCRIPTION_ID, else `az login`'s default. Input errors name the flag. */
export function resolveSubscription(o: { flag?: string; environment: AzureEnvironment; read?: (path: string) => string }): string {
  const [value, source] = o.flag !== undefined
    ? [o.flag, '--azure-subscription']
    : o.environment.subscriptionId !== undefined
      ? [o.environment.subscriptionId, 'AZURE_SUBSCRIPTION_ID']
      : [cliDefaultSubscription(o.environment, o.read), 'the az CLI\'s default subscription'];
  if (value === undefined || value.trim() === '') {
    throw new InputError([{ source: '--azure-subscription', message: 'no Azure subscription given, and "az login" has no default subscription' }], 'Pass --azure-subscription <id>, set AZURE_SUBSCRIPTION_ID, or choose one with "az account set --subscription <id>".');
  }
  if (!GUID.test(value.trim())) throw new InputError([{ source, message: `"${value}" is not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)` }]);
  return value.trim().toLowerCase();
}
