// Stand-in for STS AssumeRoleWithWebIdentity's checks, in front of moto (see aws-gate.ts). moto
// accepts any token and never reads the trust policy; this enforces what the STS API Reference
// (AssumeRoleWithWebIdentity, its Errors section) and the IAM User Guide ("Create an OpenID Connect
// (OIDC) identity provider", "Available keys for AWS OIDC federation") publish:
//   1. the token is a JWT; the IAM OIDC provider whose URL is its `iss` must exist in the role's
//      account, else InvalidIdentityToken;
//   2. STS fetches `<iss>/.well-known/openid-configuration`, then the `jwks_uri` it names (https
//      only), from the internet: here from the sandbox's public issuer stand-in (public-issuers.ts),
//      which serves each cluster's documents at its issuer's public URLs; an issuer it does not
//      serve, or an answer that is not the documents, is unreachable → IDPCommunicationError; the
//      discovery `issuer` must equal `iss`;
//   3. RS256 signature against the JWKS key with the token's `kid`, `exp` (ExpiredTokenException),
//      `nbf`/`iat` not in the future → InvalidIdentityToken;
//   4. `aud` must be one of the provider's client IDs → InvalidIdentityToken "Incorrect token audience";
//   5. the role's trust policy, evaluated by the independent engine (iam-engine.ts) with the
//      `<issuer-host-path>:sub` / `:aud` keys → AccessDenied "Not authorized to perform
//      sts:AssumeRoleWithWebIdentity" (HTTP 403).
// Only then does moto issue the credentials; the gate remembers which role their access key is for.
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { GetRoleCommand, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import type { IamGate } from './gate-iam.js';
import { evaluate, parsePolicy } from './iam-engine.js';
import { motoIam, xmlError, xmlText, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';
import type { PublicIssuers } from '../issuers/public-issuers.js';

/** How the gate reaches the internet: the public issuer stand-in. */
export type PublicWeb = Pick<PublicIssuers, 'fetchPublic'>;

const ACTION = 'sts:AssumeRoleWithWebIdentity';
/** STS tolerates a little clock skew on nbf/iat. */
const CLOCK_SKEW_S = 300;

interface Jwt {
  header: { alg?: string; kid?: string };
  payload: { iss?: string; sub?: string; aud?: string | string[]; exp?: number; nbf?: number; iat?: number };
  signingInput: string;
  signature: Buffer;
}

class Reject extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason = message,
  ) {
    super(message);
  }
}

function decodeJwt(token: string): Jwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Reject(400, 'InvalidIdentityToken', 'The web identity token is not a valid JWT', 'not a JWT');
  try {
    const json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return { header: json(parts[0]!), payload: json(parts[1]!), signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    throw new Reject(400, 'InvalidIdentityToken', 'The web identity token is not a valid JWT', 'JWT does not decode');
  }
}

/** IAM's provider URL form: the issuer without `https://` and without a trailing slash. */
export function hostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** GET a public URL and parse it as JSON; any failure (no route, TLS, HTTP status, not JSON) throws. */
async function fetchJson(web: PublicWeb, url: string): Promise<unknown> {
  const r = await web.fetchPublic(url);
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  try {
    return JSON.parse(r.body);
  } catch {
    throw new Error(`${url}: not JSON`);
  }
}

export class StsGate {
  /** Access key id → role ARN, for credentials moto issued through this gate. */
  readonly issued = new Map<string, { roleArn: string; assumedRoleArn: string }>();

  constructor(
    private readonly ctx: GateContext,
    private readonly iam: IamGate,
    private readonly web: PublicWeb,
  ) {}

  reset(): void {
    this.issued.clear();
  }

  async handle(req: GateRequest): Promise<GateOutcome> {
    const roleArn = req.params.get('RoleArn') ?? '';
    const token = req.params.get('WebIdentityToken') ?? '';
    let subject: string | undefined;
    try {
      const jwt = decodeJwt(token);
      subject = jwt.payload.sub;
      const audience = await this.checkToken(jwt, roleArn);
      await this.checkTrust(jwt, roleArn, audience);
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      this.ctx.decide({ action: ACTION, principal: subject, role: roleArn, allowed: false, reason: err.reason, code: err.code });
      return xmlError('sts', err.status, err.code, err.message);
    }
    this.ctx.decide({ action: ACTION, principal: subject, role: roleArn, allowed: true, reason: 'token verified; trust policy allows' });
    return {
      kind: 'forward',
      response: (status, body) => {
        const key = status === 200 ? xmlText(body, 'AccessKeyId') : undefined;
        if (key) this.issued.set(key, { roleArn, assumedRoleArn: xmlText(body, 'Arn') ?? roleArn });
      },
    };
  }

  /** Steps 1–4; returns the audience that matched a client ID. */
  private async checkToken(jwt: Jwt, roleArn: string): Promise<string> {
    const iss = jwt.payload.iss;
    if (!iss) throw new Reject(400, 'InvalidIdentityToken', 'The web identity token has no iss claim', 'no iss');
    const account = roleArn.split(':')[4] ?? '';
    const provider = await this.findProvider(account, iss);
    if (!provider) throw new Reject(400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`, `no IAM OIDC provider for ${iss}`);

    let discovery: { issuer?: string; jwks_uri?: unknown };
    let jwks: { keys?: (JsonWebKey & { kid?: string })[] };
    try {
      discovery = (await fetchJson(this.web, `${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`)) as typeof discovery;
      const jwksUri = discovery.jwks_uri;
      if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) throw new Error(`the discovery document's jwks_uri ${String(jwksUri)} is not an https URL`);
      jwks = (await fetchJson(this.web, jwksUri)) as typeof jwks;
    } catch (err) {
      throw this.unreachable(`fetching ${iss}: ${(err as Error).message}`);
    }
    if (discovery.issuer !== iss) {
      throw new Reject(400, 'InvalidIdentityToken', `Issuer in the discovery document (${discovery.issuer}) does not match the token's issuer ${iss}`, 'discovery issuer mismatch');
    }
    this.checkSignature(jwt, jwks.keys ?? []);
    this.checkTimes(jwt);

    const auds = [jwt.payload.aud ?? []].flat();
    const matched = auds.find((a) => provider.clientIds.includes(a));
    if (!matched) throw new Reject(400, 'InvalidIdentityToken', 'Incorrect token audience', `audience ${auds.join(',') || '(none)'} not among the client IDs ${provider.clientIds.join(',') || '(none)'}`);
    return matched;
  }

  private unreachable(reason: string): Reject {
    return new Reject(
      400,
      'IDPCommunicationError',
      "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
      reason,
    );
  }

  private async findProvider(account: string, iss: string) {
    const want = hostPath(iss);
    const list = await motoIam(this.ctx.motoUrl, account).send(new ListOpenIDConnectProvidersCommand({}));
    const arn = (list.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '').find((a) => a.endsWith(`:oidc-provider/${want}`));
    if (!arn) return undefined;
    const view = await this.iam.provider(arn);
    return view && hostPath(view.url.startsWith('https://') ? view.url : `https://${view.url}`) === want ? { arn, ...view } : undefined;
  }

  private checkSignature(jwt: Jwt, keys: (JsonWebKey & { kid?: string })[]): void {
    if (jwt.header.alg !== 'RS256') throw new Reject(400, 'InvalidIdentityToken', `Unsupported token signing algorithm ${jwt.header.alg}`, `alg ${jwt.header.alg}`);
    const jwk = keys.find((k) => k.kid === jwt.header.kid);
    if (!jwk) throw new Reject(400, 'InvalidIdentityToken', 'No key in the identity provider\'s JWKS matches the token\'s kid', `no JWKS key with kid ${jwt.header.kid}`);
    let ok = false;
    try {
      ok = verify('sha256', Buffer.from(jwt.signingInput), createPublicKey({ key: jwk, format: 'jwk' }), jwt.signature);
    } catch {
      ok = false;
    }
    if (!ok) throw new Reject(400, 'InvalidIdentityToken', 'The web identity token signature could not be verified', 'bad signature');
  }

  private checkTimes(jwt: Jwt): void {
    const now = Math.floor(Date.now() / 1000);
    const { exp, nbf, iat } = jwt.payload;
    if (typeof exp !== 'number') throw new Reject(400, 'InvalidIdentityToken', 'The web identity token has no exp claim', 'no exp');
    if (exp <= now) {
      const at = (s: number) => new Date(s * 1000).toISOString();
      throw new Reject(400, 'ExpiredTokenException', `Token expired: current date/time ${at(now)} must be before the expiration date/time ${at(exp)}`, 'token expired');
    }
    if (typeof nbf === 'number' && nbf > now + CLOCK_SKEW_S) throw new Reject(400, 'InvalidIdentityToken', 'The web identity token is not valid yet (nbf)', 'nbf in the future');
    if (typeof iat === 'number' && iat > now + CLOCK_SKEW_S) throw new Reject(400, 'InvalidIdentityToken', 'The web identity token was issued in the future (iat)', 'iat in the future');
  }

  /** Step 5: the role's trust policy must allow this provider, subject and audience. */
  private async checkTrust(jwt: Jwt, roleArn: string, audience: string): Promise<void> {
    const denied = (reason: string) => new Reject(403, 'AccessDenied', `Not authorized to perform ${ACTION}`, reason);
    const account = roleArn.split(':')[4] ?? '';
    const roleName = roleArn.split('/').pop() ?? '';
    let trust: unknown;
    try {
      const role = await motoIam(this.ctx.motoUrl, account).send(new GetRoleCommand({ RoleName: roleName }));
      if (role.Role?.Arn !== roleArn) throw denied(`role ${roleArn} does not exist`);
      trust = parsePolicy(role.Role?.AssumeRolePolicyDocument ?? '{}');
    } catch (err) {
      if (err instanceof Reject) throw err;
      if (/NoSuchEntity/.test((err as { name?: string }).name ?? '')) throw denied(`role ${roleArn} does not exist`);
      throw err;
    }
    const hp = hostPath(jwt.payload.iss!);
    const providerArn = `arn:aws:iam::${account}:oidc-provider/${hp}`;
    const decision = evaluate({
      principal: providerArn,
      action: ACTION,
      resource: roleArn,
      resourceAccount: account,
      context: { [`${hp}:sub`]: jwt.payload.sub ?? '', [`${hp}:aud`]: audience, 'aws:FederatedProvider': providerArn },
      resourcePolicy: { name: 'TrustPolicy', document: trust },
      resourcePolicyKind: 'trust',
    });
    if (!decision.allowed) {
      throw denied(`trust policy of ${roleArn} does not allow ${jwt.payload.sub} (${decision.result}${decision.detail ? `: ${decision.detail}` : ''})`);
    }
  }
}
