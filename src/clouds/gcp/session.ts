/**
 * A Google Cloud session: application default credentials (ADC) and one bounded way to call Google's
 * REST APIs. google-auth-library is loaded here only, with import(), so a run that never reaches
 * Google never loads it.
 *
 * Plain authorized requests rather than the generated `@googleapis/*` clients: we make about a dozen
 * calls on four APIs, and one of them (Artifact Registry) has no Node package; one code path gives
 * every call the same timeout, retry rule, error shape and endpoint override, and the narrow
 * `GcpSession` below is what the rest of this folder (and its tests' fakes) depend on.
 *
 * Rules: each attempt is bounded by `timeoutMs` (connection, answer and body, through gaxios'
 * abort signal); only calls marked `safe` (reads) are retried, on no answer, 429 and 5xx, a bounded
 * number of times; TLS is always verified (`trustedCa` adds a CA, it never turns checking off).
 */
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { InputError, OperationError } from '../../errors.js';
import type { GcpEnvironment } from './environment.js';
import { GoogleApiError } from './errors.js';

/** The Google APIs rhacs-sts calls. */
export type GoogleApi = 'iam' | 'cloudresourcemanager' | 'container' | 'artifactregistry';

/** Each API's root URL (`rootUrl` in Google's clients); an override replaces it, e.g. for the sandbox. */
export const GOOGLE_ROOT_URLS: Readonly<Record<GoogleApi, string>> = {
  iam: 'https://iam.googleapis.com/',
  cloudresourcemanager: 'https://cloudresourcemanager.googleapis.com/',
  container: 'https://container.googleapis.com/',
  artifactregistry: 'https://artifactregistry.googleapis.com/',
};

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ATTEMPTS = 3;
const RETRY_BASE_MS = 250;
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** The fix for missing or expired credentials, in every such error. */
export const CREDENTIALS_HINT =
  'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a valid credentials file (a service account key or an external_account configuration).';
const CREDENTIALS_SOURCE = 'Google application default credentials';

/** One call of a Google REST API. */
export interface GoogleCall {
  api: GoogleApi;
  /** The API method id, for logs and errors: `iam.projects.serviceAccounts.get`. */
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the API's root: `v1/projects/p/serviceAccounts/x`. */
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  /** True for a call that changes nothing (a read): only these are retried. */
  safe: boolean;
}

/** What the rest of this folder needs of a session (tests pass fakes). */
export interface GcpSession {
  /** Sends one call; throws GoogleApiError for Google's refusals, InputError when the credentials no longer work. */
  call<T>(call: GoogleCall): Promise<T>;
  /** Waits between attempts (injected in tests: no test sleeps). */
  sleep(ms: number): Promise<void>;
  /** Where the credentials came from, for people: a file path, or the metadata server. */
  readonly credentialsFrom: string;
}

export interface GcpSessionInput {
  /** The variables read at the entry point (never process.env here). */
  environment?: GcpEnvironment;
  /** Root URL per API, and Google's OAuth 2.0 token URL (where `authorized_user` credentials are refreshed). */
  endpoints?: Partial<Record<GoogleApi | 'oauth2Token', string>>;
  /** Bound of each attempt, in ms (default 30 s). */
  timeoutMs?: number;
  /** Attempts of a safe call (default 3). */
  attempts?: number;
  /** A CA (PEM) to trust besides the system's: verification stays on. */
  trustedCa?: string;
  sleep?: (ms: number) => Promise<void>;
  log: (message: string) => void;
}

/** The credentials file ADC would use, in Google's order: GOOGLE_APPLICATION_CREDENTIALS, then gcloud's well-known file. */
export function credentialsFileCandidates(env: GcpEnvironment): { path: string; source: string; required: boolean }[] {
  if (env.applicationCredentials) return [{ path: env.applicationCredentials, source: 'GOOGLE_APPLICATION_CREDENTIALS', required: true }];
  const folder = env.cloudsdkConfig ?? (env.appData ? join(env.appData, 'gcloud') : env.home ? join(env.home, '.config', 'gcloud') : undefined);
  return folder ? [{ path: join(folder, 'application_default_credentials.json'), source: 'gcloud application-default login', required: false }] : [];
}

const CREDENTIAL_TYPES = new Set(['authorized_user', 'service_account', 'external_account', 'external_account_authorized_user', 'impersonated_service_account']);

async function readCredentialsFile(env: GcpEnvironment): Promise<{ json: Record<string, unknown>; path: string } | undefined> {
  for (const c of credentialsFileCandidates(env)) {
    let text: string;
    try {
      text = await readFile(c.path, 'utf8');
    } catch (err) {
      if (!c.required && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new InputError([{ source: c.source, message: `cannot read the credentials file ${c.path}: ${(err as Error).message}` }], CREDENTIALS_HINT);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InputError([{ source: c.source, message: `${c.path} is not JSON` }], CREDENTIALS_HINT);
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (typeof json !== 'object' || json === null || typeof type !== 'string' || !CREDENTIAL_TYPES.has(type)) {
      throw new InputError([{ source: c.source, message: `${c.path} is not a Google credentials file (its "type" is ${JSON.stringify(type)})` }], CREDENTIALS_HINT);
    }
    return { json: json as Record<string, unknown>, path: c.path };
  }
  return undefined;
}

/** The OAuth error of a token refresh that the user must fix (revoked or expired grant, unknown client). */
function isCredentialsRefusal(err: unknown): boolean {
  const data = (err as { response?: { data?: { error?: unknown } } })?.response?.data;
  const code = typeof data?.error === 'string' ? data.error : undefined;
  return code === 'invalid_grant' || code === 'invalid_client' || code === 'unauthorized_client' || code === 'invalid_rapt';
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { name: 'TimeoutError' })), ms);
    timer.unref();
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

interface RequestClient {
  request<T>(opts: Record<string, unknown>): Promise<{ data: T }>;
  getAccessToken(): Promise<{ token?: string | null }>;
}

/** Opens a session: finds the credentials, proves they yield a token, and returns the bounded caller. */
export async function openGcpSession(input: GcpSessionInput): Promise<GcpSession> {
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = Math.max(1, input.attempts ?? DEFAULT_ATTEMPTS);
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const roots = { ...GOOGLE_ROOT_URLS, ...input.endpoints };
  const file = await readCredentialsFile(input.environment ?? {});

  const { GoogleAuth, Compute, gaxios } = await import('google-auth-library');
  const agent = input.trustedCa ? new Agent({ ca: [...rootCertificates, input.trustedCa] }) : undefined;
  const transporter = new gaxios.Gaxios({ ...(agent ? { agent } : {}), timeout: timeoutMs });
  const clientOptions = { transporter, ...(input.endpoints?.oauth2Token ? { endpoints: { oauth2TokenUrl: input.endpoints.oauth2Token } } : {}) };

  let client: RequestClient;
  let credentialsFrom: string;
  if (file) {
    const auth = new GoogleAuth({ credentials: file.json, scopes: [CLOUD_PLATFORM_SCOPE], clientOptions });
    // A service account key signs its own scoped JWTs, as Google's generated clients do: no token round trip.
    auth.useJWTAccessWithScope = true;
    client = (await auth.getClient()) as unknown as RequestClient;
    credentialsFrom = file.path;
  } else {
    // No file: the metadata server (GKE, Compute Engine), the last place ADC looks.
    client = new Compute({ ...clientOptions, scopes: [CLOUD_PLATFORM_SCOPE] }) as unknown as RequestClient;
    credentialsFrom = 'the metadata server';
  }

  try {
    const t = await bounded(client.getAccessToken(), timeoutMs, 'Google credentials');
    if (!t.token) throw new Error('no access token');
  } catch (err) {
    if (file && !isCredentialsRefusal(err)) {
      // The token service did not answer, or failed: an operation failure, not bad input.
      throw new OperationError(`Google credentials from ${credentialsFrom} could not be exchanged for a token: ${(err as Error).message}`, { cause: err, hint: CREDENTIALS_HINT });
    }
    const message = file
      ? `the credentials in ${credentialsFrom} are expired or revoked`
      : 'none found: GOOGLE_APPLICATION_CREDENTIALS is not set, gcloud\'s application-default file does not exist, and no metadata server answered';
    throw new InputError([{ source: CREDENTIALS_SOURCE, message }], CREDENTIALS_HINT);
  }
  input.log(`Google credentials: ${credentialsFrom}`);

  const call = async <T>(c: GoogleCall): Promise<T> => {
    const root = roots[c.api].endsWith('/') ? roots[c.api] : `${roots[c.api]}/`;
    const url = new URL(c.path, root).toString();
    const tries = c.safe ? attempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await client.request<T>({ url, method: c.method, params: c.query, data: c.body, timeout: timeoutMs, retry: false, responseType: 'json' });
        return r.data;
      } catch (err) {
        const e = toGoogleApiError(c, url, timeoutMs, err);
        if (e.httpStatus === 401) throw new InputError([{ source: CREDENTIALS_SOURCE, message: `Google refused them (${e.call}: ${e.message})` }], CREDENTIALS_HINT);
        if (err instanceof InputError) throw err;
        const retryable = e.httpStatus === 0 || RETRYABLE_STATUS.has(e.httpStatus);
        if (!retryable || attempt >= tries) throw e;
        const delay = RETRY_BASE_MS * 2 ** (attempt - 1);
        input.log(`${c.name}: ${e.message}; retrying in ${delay} ms (attempt ${attempt + 1} of ${tries})`);
        await sleep(delay);
      }
    }
  };
  return { call, sleep, credentialsFrom };
}

/** Google's error shape `{error: {code, message, status}}`, or no answer at all, as a GoogleApiError. */
export function toGoogleApiError(c: Pick<GoogleCall, 'name'>, url: string, timeoutMs: number, err: unknown): GoogleApiError {
  if (err instanceof GoogleApiError) return err;
  const response = (err as { response?: { status?: number; data?: unknown } } | null)?.response;
  const where = new URL(url).origin;
  if (!response?.status) {
    const name = (err as Error | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError' || /aborted|timeout/i.test(String((err as Error | null)?.message));
    const message = timedOut ? `${c.name}: no complete answer from ${where} within ${timeoutMs} ms` : `${c.name}: ${where} could not be reached: ${(err as Error | null)?.message ?? String(err)}`;
    return new GoogleApiError(c.name, 0, undefined, message, { cause: err });
  }
  const data = response.data as { error?: { message?: string; status?: string } | string; error_description?: string } | undefined;
  const body = typeof data?.error === 'object' ? data.error : undefined;
  const status = body?.status ?? (typeof data?.error === 'string' ? data.error : undefined);
  const detail = body?.message ?? data?.error_description ?? `HTTP ${response.status}`;
  const hint = response.status === 403 ? 'The credentials need the permission named above on that resource (or the resource does not exist): grant a role that holds it, or use other credentials.' : undefined;
  return new GoogleApiError(c.name, response.status, status, `${c.name}: ${detail}`, { cause: err, ...(hint ? { hint } : {}) });
}
