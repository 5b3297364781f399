/**
 * Local evaluation of a role's trust policy against a service-account token's claims, so that a
 * mismatch names the exact condition that fails ("aud is openshift, the policy wants
 * sts.amazonaws.com") before AWS answers a bare AccessDenied. Covers what web-identity trust
 * policies use: Allow/Deny, Principal.Federated, the sts:AssumeRoleWithWebIdentity action, and the
 * String* condition operators (with ForAnyValue:/ForAllValues: and IfExists).
 */
import { issuerHostPath } from '../../../validate.js';
import type { PolicyDocument, PolicyStatement } from '../policies.js';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
}

export interface StatementResult {
  sid?: string;
  effect: 'Allow' | 'Deny';
  matches: boolean;
  /** Why the statement does not apply, one line per failing part. */
  failures: string[];
}

export interface TrustEvaluation {
  allowed: boolean;
  /** The statements that concern web identity, each with its verdict. */
  statements: StatementResult[];
  /** One sentence: why the token is or is not allowed. */
  reason: string;
}

const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function valueMatches(op: string, wanted: string, actual: string): boolean {
  switch (op) {
    case 'StringEquals': return wanted === actual;
    case 'StringEqualsIgnoreCase': return wanted.toLowerCase() === actual.toLowerCase();
    case 'StringLike': return globMatch(wanted, actual);
    case 'StringNotEquals': return wanted !== actual;
    case 'StringNotEqualsIgnoreCase': return wanted.toLowerCase() !== actual.toLowerCase();
    case 'StringNotLike': return !globMatch(wanted, actual);
    default: return false;
  }
}

const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike']);
const SUPPORTED = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', ...NEGATED]);

function contextValues(key: string, claims: TokenClaims, hostPath: string): string[] | undefined {
  if (key === `${hostPath}:sub`) return [claims.sub];
  if (key === `${hostPath}:aud`) return asArray(claims.aud);
  // IAM also offers <issuer>:oaud and :amr; nothing else is known from a service-account token.
  if (key === `${hostPath}:oaud`) return asArray(claims.aud);
  return undefined;
}

/** Evaluates one condition block entry; returns a failure sentence, or undefined when it holds. */
function checkCondition(rawOp: string, key: string, wanted: string | string[], claims: TokenClaims, hostPath: string): string | undefined {
  let op = rawOp;
  let setOp: 'any' | 'all' | undefined;
  if (op.startsWith('ForAnyValue:')) { setOp = 'any'; op = op.slice('ForAnyValue:'.length); }
  else if (op.startsWith('ForAllValues:')) { setOp = 'all'; op = op.slice('ForAllValues:'.length); }
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const wants = asArray(wanted);
  const short = key.startsWith(`${hostPath}:`) ? key.slice(hostPath.length + 1) : key;
  if (!SUPPORTED.has(op)) return `condition ${rawOp} on ${key} cannot be evaluated locally`;
  const actual = contextValues(key, claims, hostPath);
  if (actual === undefined || actual.length === 0) {
    if (ifExists || setOp === 'all') return undefined;
    return `${key} is not in the token (the condition names another issuer, or a claim the token lacks)`;
  }
  const negated = NEGATED.has(op);
  // A single-valued key holds when any wanted value matches (for negated operators: when none is matched away).
  const one = (a: string) => (negated ? wants.every((w) => valueMatches(op, w, a)) : wants.some((w) => valueMatches(op, w, a)));
  const holds = setOp === 'all' ? actual.every(one) : actual.some(one);
  if (holds) return undefined;
  const got = actual.length === 1 ? actual[0] : `[${actual.join(', ')}]`;
  const want = wants.length === 1 ? wants[0] : `one of ${wants.join(', ')}`;
  return negated ? `${short} is ${got}, which the policy excludes (${rawOp} ${want})` : `${short} is ${got} but the policy wants ${want}`;
}

function evaluateStatement(s: PolicyStatement, claims: TokenClaims, providerArn: string): StatementResult | undefined {
  const actions = asArray(s.Action as string | string[]);
  const concernsWebIdentity = actions.some((a) => globMatch(a, 'sts:AssumeRoleWithWebIdentity', true));
  if (!concernsWebIdentity) return undefined;
  const failures: string[] = [];
  const federated = s.Principal && s.Principal !== '*' ? asArray(s.Principal.Federated) : s.Principal === '*' ? ['*'] : [];
  if (!federated.some((f) => f === '*' || f === providerArn)) {
    failures.push(`the principal is ${federated.join(', ') || 'not a federated provider'}, not the OIDC provider ${providerArn}`);
  }
  const hostPath = issuerHostPath(claims.iss);
  for (const [op, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, wanted] of Object.entries(block)) {
      const f = checkCondition(op, key, wanted, claims, hostPath);
      if (f) failures.push(f);
    }
  }
  return { sid: s.Sid, effect: s.Effect, matches: failures.length === 0, failures };
}

export function evaluateTrust(policy: PolicyDocument, claims: TokenClaims, providerArn: string): TrustEvaluation {
  const statements = policy.Statement.map((s) => evaluateStatement(s, claims, providerArn)).filter((x): x is StatementResult => !!x);
  const deny = statements.find((s) => s.effect === 'Deny' && s.matches);
  if (deny) return { allowed: false, statements, reason: `statement ${deny.sid ?? '(no Sid)'} denies it explicitly` };
  const allow = statements.find((s) => s.effect === 'Allow' && s.matches);
  if (allow) return { allowed: true, statements, reason: `statement ${allow.sid ?? '(no Sid)'} allows ${claims.sub}` };
  const allows = statements.filter((s) => s.effect === 'Allow');
  if (allows.length === 0) return { allowed: false, statements, reason: 'no statement allows sts:AssumeRoleWithWebIdentity' };
  // Report the closest statement: the one with the fewest failures.
  const closest = [...allows].sort((a, b) => a.failures.length - b.failures.length)[0]!;
  return { allowed: false, statements, reason: `${closest.sid ? `statement ${closest.sid}: ` : ''}${closest.failures.join('; ')}` };
}

/** Decodes a JWT's payload without verifying it (the API server just issued it to us). */
export function decodeJwtClaims(token: string): TokenClaims & Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as TokenClaims & Record<string, unknown>;
}
