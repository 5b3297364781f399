// Stand-in for Microsoft Entra ID's v2.0 endpoints, as MSAL and @azure/identity use them:
//   GET  /{tenant}/v2.0/.well-known/openid-configuration  (MSAL reads it before the first token)
//   GET  /common/discovery/instance                        (instance discovery, for clients that reach
//                                                          the real authority host name through the sandbox)
//   GET  /{tenant}/discovery/v2.0/keys                     (the keys access tokens are signed with)
//   POST /{tenant}/oauth2/v2.0/token                       client_credentials, with a client secret or a
//                                                          client assertion (jwt-bearer: workload identity)
// What it enforces, as Entra does:
//   - the tenant exists (AADSTS90002), the client id is an app or a managed identity of it (AADSTS700016),
//     a secret matches (AADSTS7000215), the scope is `<resource>/.default` (AADSTS1002012) of a resource
//     the tenant knows (AADSTS500011);
//   - a client assertion is a JWT (AADSTS50027); a federated identity credential on the identity has
//     `issuer` equal to the assertion's `iss` as strings (a trailing slash matters), `subject` equal to
//     `sub` and `audiences` containing `aud` (else AADSTS70021, naming the assertion's three values as
//     Entra does); the issuer's OIDC discovery document and JWKS, fetched from the public web through the
//     injected fetcher (unreachable → AADSTS50166), verify the RS256 signature (AADSTS50013); `exp` and
//     `nbf` hold on the virtual clock (AADSTS700024);
//   - errors in Entra's JSON: error, error_description ("AADSTSn: … Trace ID … Correlation ID …
//     Timestamp …"), error_codes, timestamp, trace_id, correlation_id, error_uri.
// Tokens are RS256 JWTs signed with the world's key, v1 claims (aud = the resource, iss
// https://sts.windows.net/<tenant>/, oid, appid, tid), one hour, which ARM and ACR verify.
import { createPublicKey, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import { ACR_AAD_RESOURCE, type World } from './world.js';
import { form, json, type AzReply, type AzRequest } from './wire.js';

/** How Entra reaches issuers on the internet (the sandbox's public web stand-in, or a test's own). */
export type PublicFetch = (url: string) => Promise<{ status: number; body: string }>;

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_LIFETIME_S = 3599;
const SKEW_S = 300;

class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    message: string,
    readonly reason = message,
  ) {
    super(message);
  }
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export class EntraStandin {
  constructor(
    private readonly world: World,
    private readonly baseUrl: () => string,
    private readonly fetchPublic: PublicFetch,
  ) {}

  /** Resources whose `.default` scope the tenant issues tokens for. */
  private resources(): string[] {
    const { armResource: arm, legacyArmResource: legacy } = this.world.cloud;
    return [arm, `${arm}/`, legacy, `${legacy}/`, ACR_AAD_RESOURCE];
  }

  metadata(tenant: string): Record<string, unknown> {
    const base = `${this.baseUrl()}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${this.baseUrl()}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: null,
      cloud_instance_name: new URL(this.world.cloud.authorityHost).hostname.replace(/^login\./, ''),
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  async handle(req: AzRequest): Promise<AzReply> {
    const path = req.url.pathname;
    const parts = path.split('/').filter(Boolean);
    const observe = (operationId: string, reply: AzReply, allowed: boolean, reason: string, code?: string, caller?: string) => {
      this.world.observe({ service: 'entra', method: req.method, path, operationId, status: reply.status, caller, decision: { allowed, reason, code } });
      return reply;
    };
    if (req.method === 'GET' && path === '/common/discovery/instance') {
      const host = new URL(this.baseUrl()).host;
      const reply = json(200, {
        tenant_discovery_endpoint: `${this.baseUrl()}/${req.url.searchParams.get('tenant') ?? 'common'}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return observe('InstanceDiscovery', reply, true, 'served');
    }
    if (req.method === 'GET' && parts.length === 4 && parts[1] === 'v2.0' && parts[2] === '.well-known' && parts[3] === 'openid-configuration') {
      if (!this.tenantKnown(parts[0]!)) return observe('OpenIdConfiguration', this.err(new EntraError(400, 'invalid_tenant', 90002, `Tenant '${parts[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`)), false, 'unknown tenant', 'AADSTS90002');
      return observe('OpenIdConfiguration', json(200, this.metadata(parts[0]!)), true, 'served');
    }
    if (req.method === 'GET' && parts.length === 4 && parts[1] === 'discovery' && parts[2] === 'v2.0' && parts[3] === 'keys') {
      return observe('Keys', json(200, this.world.jwks()), true, 'served');
    }
    if (req.method === 'POST' && parts.length === 4 && parts[1] === 'oauth2' && parts[2] === 'v2.0' && parts[3] === 'token') {
      const f = form(req);
      try {
        const { reply, caller, how } = await this.token(parts[0]!, f);
        return observe('Token', reply, true, how, undefined, caller);
      } catch (err) {
        if (!(err instanceof EntraError)) throw err;
        return observe('Token', this.err(err), false, err.reason, `AADSTS${err.aadsts}`, f.get('client_id') ?? undefined);
      }
    }
    return observe('Unknown', json(404, { error: 'not_found' }), false, 'no such endpoint');
  }

  private tenantKnown(t: string): boolean {
    return t.toLowerCase() === this.world.tenantId;
  }

  private err(e: EntraError): AzReply {
    const trace = randomUUID();
    const corr = randomUUID();
    const ts = stamp(this.world.now());
    return json(e.status, {
      error: e.error,
      error_description: `AADSTS${e.aadsts}: ${e.message} Trace ID: ${trace} Correlation ID: ${corr} Timestamp: ${ts}`,
      error_codes: [e.aadsts],
      timestamp: ts,
      trace_id: trace,
      correlation_id: corr,
      error_uri: `${this.baseUrl()}/error?code=${e.aadsts}`,
    });
  }

  private async token(tenant: string, f: URLSearchParams): Promise<{ reply: AzReply; caller: string; how: string }> {
    if (!this.tenantKnown(tenant)) throw new EntraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`, 'unknown tenant');
    if (f.get('grant_type') !== 'client_credentials') throw new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${f.get('grant_type') ?? ''}'.`, 'grant type');
    const clientId = (f.get('client_id') ?? '').toLowerCase();
    const scope = f.get('scope') ?? '';
    const notFound = () => new EntraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, `unknown client id ${clientId}`);
    let principalId: string;
    let how: string;
    const assertion = f.get('client_assertion');
    if (assertion !== null) {
      if (f.get('client_assertion_type') !== JWT_BEARER) throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.', 'client_assertion_type');
      const identity = this.world.identityByClientId(clientId);
      if (!identity) throw notFound();
      await this.checkAssertion(identity, assertion);
      principalId = identity.principalId;
      how = `client assertion matched a federated credential of ${identity.id}`;
    } else {
      const app = this.world.apps.get(clientId);
      if (!app) throw notFound();
      if (!app.secret || f.get('client_secret') !== app.secret) {
        throw new EntraError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`, 'wrong secret');
      }
      principalId = app.principalId;
      how = 'client secret';
    }
    const resource = this.resourceOf(scope);
    const now = Math.floor(this.world.now() / 1000);
    const token = this.world.signJwt({
      aud: resource,
      iss: `https://${this.world.cloud.stsHost}/${this.world.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + TOKEN_LIFETIME_S,
      appid: clientId,
      oid: principalId,
      sub: principalId,
      tid: this.world.tenantId,
      idtyp: 'app',
      ver: '1.0',
    });
    return { reply: json(200, { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, ext_expires_in: TOKEN_LIFETIME_S, access_token: token }), caller: clientId, how };
  }

  private resourceOf(scope: string): string {
    const scopes = scope.split(' ').filter(Boolean);
    const main = scopes.find((s) => s.endsWith('/.default'));
    if (!main) throw new EntraError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, 'scope without /.default');
    const resource = main.slice(0, -'/.default'.length);
    if (!this.resources().includes(resource)) {
      throw new EntraError(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${this.world.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`, `unknown resource ${resource}`);
    }
    return resource.replace(/\/$/, '');
  }

  private async checkAssertion(identity: { id: string; fics: Map<string, { issuer: string; subject: string; audiences: string[] }> }, assertion: string): Promise<void> {
    const malformed = (why: string) => new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.', why);
    const parts = assertion.split('.');
    if (parts.length !== 3) throw malformed('not three parts');
    let header: { alg?: string; kid?: string };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; exp?: unknown; nbf?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw malformed('does not decode');
    }
    if (typeof claims.iss !== 'string' || typeof claims.sub !== 'string') throw malformed('no iss or sub');
    const auds = [claims.aud].flat().filter((a): a is string => typeof a === 'string');
    const iss = claims.iss;
    const sub = claims.sub;
    const fics = [...identity.fics.values()];
    const match = fics.find((c) => c.issuer === iss && c.subject === sub && auds.some((a) => c.audiences.includes(a)));
    if (!match) {
      const near = fics.map((c) => `${c.issuer} | ${c.subject} | ${c.audiences.join(',')}`).join('; ') || '(none)';
      throw new EntraError(
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${auds.join(',')}'. https://docs.microsoft.com/azure/active-directory/develop/workload-identity-federation`,
        `no federated credential on ${identity.id} matches iss ${iss}, sub ${sub}, aud ${auds.join(',')}; it has: ${near}`,
      );
    }
    let keys: (JsonWebKey & { kid?: string })[];
    try {
      const doc = await this.getJson(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`);
      const jwksUri = (doc as { jwks_uri?: unknown }).jwks_uri;
      if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) throw new Error('jwks_uri is not an https URL');
      keys = ((await this.getJson(jwksUri)) as { keys?: (JsonWebKey & { kid?: string })[] }).keys ?? [];
    } catch (err) {
      throw new EntraError(400, 'invalid_request', 50166, `Request to External OIDC endpoint failed.`, `fetching the issuer ${iss}: ${(err as Error).message}`);
    }
    const jwk = keys.find((k) => k.kid === header.kid);
    let ok = false;
    if (header.alg === 'RS256' && jwk) {
      try {
        ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(parts[2]!, 'base64url'));
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new EntraError(401, 'invalid_client', 50013, `Assertion failed signature validation. [Reason - ${jwk ? 'The provided signature value did not match the expected signature value.' : 'The key was not found.'}]`, jwk ? 'bad signature' : `no key with kid ${header.kid}`);
    const now = Math.floor(this.world.now() / 1000);
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
    if (exp === undefined || exp <= now || (nbf !== undefined && nbf > now + SKEW_S)) {
      const at = (s: number | undefined) => (s === undefined ? '(none)' : new Date(s * 1000).toISOString());
      throw new EntraError(400, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ${at(nbf)}, expiry time of assertion ${at(exp)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`, 'assertion outside its valid time range');
    }
  }

  private async getJson(url: string): Promise<unknown> {
    if (!url.startsWith('https://')) throw new Error(`${url} is not https`);
    const r = await this.fetchPublic(url);
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
    return JSON.parse(r.body);
  }
}
