// Stand-in IAM policy evaluation for the AWS gate, independent of the product's own trust-eval.
// Enforces AWS's published policy evaluation logic (IAM User Guide, "Policy evaluation logic":
// explicit deny > allow; identity policies AND the permissions boundary must allow; a same-account
// request is allowed by an identity OR a resource policy, a cross-account one needs both; a role's
// trust policy must allow sts:AssumeRole* explicitly) by running @cloud-copilot/iam-simulate.
//
// iam-simulate is AGPL-3.0: it is a devDependency used only here, under test/sandbox, never by src/.
//
// Why runUnsafeSimulation and not runSimulation: the validated entry point drops every context key
// its action catalogue does not list for the action. For sts:AssumeRoleWithWebIdentity it lists the
// fixed identity providers' keys (accounts.google.com:sub, …) but not `<issuer-host-path>:sub` /
// `:aud` of an IAM OIDC provider, so every IRSA trust condition failed as "missing" and everything
// was denied. The unsafe entry point evaluates the keys as given; we validate the policies ourselves
// (iam-policy's validators) and give each a name (the unsafe path crashes on an unnamed resource policy).
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy,
  validateTrustPolicy,
  type ValidationError,
} from '@cloud-copilot/iam-policy';
import { runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';

export interface NamedPolicy {
  name: string;
  document: unknown;
}

export interface EngineRequest {
  principal: string;
  action: string;
  resource: string;
  /** Account that owns the resource (decides same- vs cross-account evaluation). */
  resourceAccount: string;
  context?: Record<string, string | string[]>;
  identityPolicies?: NamedPolicy[];
  permissionsBoundary?: NamedPolicy;
  /** Trust policy (for sts:AssumeRole*) or resource policy (e.g. an ECR repository policy). */
  resourcePolicy?: NamedPolicy;
  resourcePolicyKind?: 'trust' | 'resource';
}

export interface EngineDecision {
  allowed: boolean;
  /** iam-simulate's result: Allowed, ImplicitlyDenied, ExplicitlyDenied, or Invalid (policy did not validate). */
  result: string;
  /** Which policy kind failed to allow, for the error message (identity, boundary, resource). */
  missing?: 'identity' | 'boundary' | 'resource' | 'explicit-deny' | 'invalid';
  detail?: string;
}

function errorsOf(doc: unknown, kind: 'identity' | 'trust' | 'resource'): ValidationError[] {
  const validate = kind === 'identity' ? validateIdentityPolicy : kind === 'trust' ? validateTrustPolicy : validateResourcePolicy;
  return validate(doc);
}

/** Policy documents from IAM come URL-encoded; accept either form. */
export function parsePolicy(text: string): unknown {
  const raw = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  return JSON.parse(raw);
}

function simulate(req: EngineRequest): EngineDecision {
  const invalid: string[] = [];
  const check = (p: NamedPolicy | undefined, kind: 'identity' | 'trust' | 'resource') => {
    if (!p) return;
    const errs = errorsOf(p.document, kind);
    if (errs.length) invalid.push(`${p.name}: ${errs.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  };
  for (const p of req.identityPolicies ?? []) check(p, 'identity');
  check(req.permissionsBoundary, 'identity');
  check(req.resourcePolicy, req.resourcePolicyKind === 'trust' ? 'trust' : 'resource');
  if (invalid.length) return { allowed: false, result: 'Invalid', missing: 'invalid', detail: invalid.join(' | ') };

  const validator = req.resourcePolicyKind === 'trust' ? validateTrustPolicy : validateResourcePolicy;
  const simulation: Simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context ?? {},
    },
    identityPolicies: (req.identityPolicies ?? []).map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy
      ? createValidatedPolicy(req.resourcePolicy.document, validator, { name: req.resourcePolicy.name })
      : undefined,
    permissionBoundaryPolicies: req.permissionsBoundary
      ? [{ name: req.permissionsBoundary.name, policy: req.permissionsBoundary.document }]
      : undefined,
  };
  const result = runUnsafeSimulation(simulation, {}) as unknown as string;
  return { allowed: result === 'Allowed', result };
}

export function evaluate(req: EngineRequest): EngineDecision {
  const d = simulate(req);
  if (d.allowed || d.missing) return d;
  return { ...d, missing: d.result === 'ExplicitlyDenied' ? 'explicit-deny' : whichIsMissing(req) };
}

/** For the denial message: re-evaluate one policy kind at a time to name the one that does not allow. */
function whichIsMissing(req: EngineRequest): EngineDecision['missing'] {
  if (req.resourcePolicyKind === 'trust') return 'resource';
  // As a same-account request without a resource policy: does the identity side allow on its own?
  const alone = (policies: NamedPolicy[]) =>
    policies.length > 0 &&
    simulate({ ...req, identityPolicies: policies, permissionsBoundary: undefined, resourcePolicy: undefined, resourceAccount: accountOf(req.principal) })
      .allowed;
  if (!alone(req.identityPolicies ?? [])) return 'identity';
  if (req.permissionsBoundary && !alone([req.permissionsBoundary])) return 'boundary';
  return 'resource';
}

export function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}
