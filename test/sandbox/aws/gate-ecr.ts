// Stand-in for ECR's authorization, in front of moto (see aws-gate.ts). moto's ECR serves any caller;
// this enforces what the ECR User Guide ("Identity-based policies", "Private repository policies",
// cross-account access) and the IAM policy evaluation logic publish, for calls signed with credentials
// that the gate saw STS issue for a role (AssumeRoleWithWebIdentity):
//   the role's inline and attached policies, its permissions boundary and — for a repository in
//   another account — the repository policy must allow the action on the repository ARN
//   (`arn:aws:ecr:<region>:<registry>:repository/<name>`; `*` for GetAuthorizationToken), evaluated
//   by the independent engine (iam-engine.ts) → AccessDeniedException (HTTP 400, JSON 1.1).
// Calls signed with the sandbox's admin keys (or any other key) pass through unchecked. A permitted
// cross-account call is served from the registry account's moto backend (moto keeps one per account).
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import { accountOf, evaluate, parsePolicy, type EngineDecision, type NamedPolicy } from './iam-engine.js';
import { FORWARD, jsonError, MOTO_ACCOUNT_HEADER, motoEcr, motoIam, type GateContext, type GateOutcome, type GateRequest } from './gate-wire.js';
import type { StsGate } from './gate-sts.js';

export class EcrGate {
  constructor(
    private readonly ctx: GateContext,
    private readonly sts: StsGate,
  ) {}

  async handle(req: GateRequest): Promise<GateOutcome> {
    const issued = req.accessKeyId ? this.sts.issued.get(req.accessKeyId) : undefined;
    if (!issued) return FORWARD; // admin (or other) credentials: not gated
    const action = `ecr:${req.action}`;
    const roleAccount = accountOf(issued.roleArn);
    const registry = typeof req.json.registryId === 'string' && req.json.registryId ? req.json.registryId : roleAccount;
    const resources = resourcesOf(req, registry);
    const identity = await this.identityPolicies(issued.roleArn);
    for (const resource of resources) {
      const repoPolicy = resource === '*' ? undefined : await this.repositoryPolicy(req.region, registry, repositoryName(resource));
      const decision = evaluate({
        principal: issued.assumedRoleArn,
        action,
        resource,
        resourceAccount: resource === '*' ? roleAccount : registry,
        identityPolicies: identity.policies,
        permissionsBoundary: identity.boundary,
        resourcePolicy: repoPolicy,
        resourcePolicyKind: 'resource',
      });
      if (!decision.allowed) {
        const message = `User: ${issued.assumedRoleArn} is not authorized to perform: ${action} on resource: ${resource} ${because(decision, action)}`;
        this.ctx.decide({ action, principal: issued.assumedRoleArn, role: issued.roleArn, resource, allowed: false, reason: message, code: 'AccessDeniedException' });
        return jsonError(400, 'AccessDeniedException', message);
      }
    }
    this.ctx.decide({ action, principal: issued.assumedRoleArn, role: issued.roleArn, resource: resources.join(','), allowed: true, reason: 'policies allow' });
    return registry !== roleAccount && resources[0] !== '*' ? { kind: 'forward', headers: { [MOTO_ACCOUNT_HEADER]: registry } } : FORWARD;
  }

  /** The role's inline and attached (default version) policies and its permissions boundary. */
  private async identityPolicies(roleArn: string): Promise<{ policies: NamedPolicy[]; boundary?: NamedPolicy }> {
    const iam = motoIam(this.ctx.motoUrl, accountOf(roleArn));
    const RoleName = roleArn.split('/').pop() ?? '';
    const policies: NamedPolicy[] = [];
    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName }));
    for (const PolicyName of inline.PolicyNames ?? []) {
      const p = await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }));
      policies.push({ name: `inline:${PolicyName}`, document: parsePolicy(p.PolicyDocument ?? '{}') });
    }
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
    for (const a of attached.AttachedPolicies ?? []) policies.push({ name: a.PolicyArn!, document: await this.managedPolicy(a.PolicyArn!) });
    const role = await iam.send(new GetRoleCommand({ RoleName }));
    const boundaryArn = role.Role?.PermissionsBoundary?.PermissionsBoundaryArn;
    return { policies, boundary: boundaryArn ? { name: `boundary:${boundaryArn}`, document: await this.managedPolicy(boundaryArn) } : undefined };
  }

  private async managedPolicy(arn: string): Promise<unknown> {
    const iam = motoIam(this.ctx.motoUrl, accountOf(arn) === 'aws' ? undefined : accountOf(arn));
    const p = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: p.Policy?.DefaultVersionId }));
    return parsePolicy(v.PolicyVersion?.Document ?? '{}');
  }

  private async repositoryPolicy(region: string, registry: string, name: string): Promise<NamedPolicy | undefined> {
    try {
      const r = await motoEcr(this.ctx.motoUrl, region, registry).send(new GetRepositoryPolicyCommand({ registryId: registry, repositoryName: name }));
      return r.policyText ? { name: `repository:${name}`, document: JSON.parse(r.policyText) } : undefined;
    } catch (err) {
      if (/RepositoryPolicyNotFound|RepositoryNotFound/.test((err as { name?: string }).name ?? '')) return undefined;
      throw err;
    }
  }
}

/** The resources an ECR call acts on (IAM resource types of the ECR service authorization reference). */
function resourcesOf(req: GateRequest, registry: string): string[] {
  if (req.action === 'GetAuthorizationToken') return ['*'];
  const arn = (name: string) => `arn:aws:ecr:${req.region}:${registry}:repository/${name}`;
  if (typeof req.json.repositoryName === 'string') return [arn(req.json.repositoryName)];
  const names = req.json.repositoryNames;
  if (Array.isArray(names) && names.length) return names.map((n) => arn(String(n)));
  return [arn('*')];
}

function repositoryName(resourceArn: string): string {
  return resourceArn.slice(resourceArn.indexOf(':repository/') + ':repository/'.length);
}

function because(d: EngineDecision, action: string): string {
  switch (d.missing) {
    case 'explicit-deny':
      return 'with an explicit deny in a policy';
    case 'boundary':
      return `because no permissions boundary allows the ${action} action`;
    case 'resource':
      return `because no resource-based policy allows the ${action} action`;
    case 'invalid':
      return `because a policy is not valid (${d.detail})`;
    default:
      return `because no identity-based policy allows the ${action} action`;
  }
}
