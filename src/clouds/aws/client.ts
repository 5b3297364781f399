/**
 * The real AwsSession: IAM and STS through the SDK v3 clients. Credentials come from the SDK's
 * default chain (env, shared config / --profile, SSO, web identity, container and instance roles);
 * AWS_ENDPOINT_URL is honoured by the SDK itself. Loaded lazily so start-up stays fast.
 */
import type { AwsEnvironment } from './environment.js';
import './sdk-env.js';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  GetAccountSummaryCommand,
  ListRolePoliciesCommand,
  paginateListRoles,
  UntagRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListRoleTagsCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagOpenIDConnectProviderCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InputError, OperationError } from '../../errors.js';
import { isManaged } from '../../plan/build.js';
import type { AwsState, OidcProviderState, Plan, RoleState } from '../../plan/model.js';
import {
  ADDED_CLIENT_IDS_TAG,
  ADOPTED_TAG,
  federatedHostPaths,
  isOurStatement,
  isPodIdentityStatement,
  withPodIdentityStatement,
  mergeTrustPolicy,
  oidcProviderArn,
  parsePolicyDocument,
  PERMISSIONS_POLICY_NAME,
  samePolicy,
  type PolicyDocument,
} from './policies.js';
import { accountId as accountIdProblem, issuerHostPath, partitionOfArn, PARTITIONS, type Partition } from '../../validate.js';
import { isAlreadyExists, isNoSuchEntity, mapAwsError, type AwsErrorContext } from './errors.js';
import { boundedRequests, watchCalls } from './http.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../options/options.js';
import type { AwsAction, AwsSession, CallerIdentity } from './session.js';

export interface AwsSessionOptions {
  profile?: string;
  /** Region for STS (IAM is global); the SDK's own default applies when unset. */
  region?: string;
  log: (message: string) => void;
  /** Warnings a person should read (the SDK's, put in our words). */
  warn?: (message: string) => void;
  /** Bound of each request attempt, connection to last byte (--request-timeout). */
  timeoutMs?: number;
  /** Pause between retries of IAM's eventual consistency (tests shorten it). */
  sleep?: (ms: number) => Promise<void>;
  /** AWS_PROFILE and the other variables read at the entry point (for messages). */
  environment?: AwsEnvironment;
}

/** Writes of the trust policy per run, and the pause before checking that a write stuck. */
const TRUST_WRITE_ATTEMPTS = 4;
const TRUST_SETTLE_MS = 400;

const IAM_REGION: Partial<Record<Partition, string>> = { aws: 'us-east-1', 'aws-us-gov': 'us-gov-west-1', 'aws-cn': 'cn-north-1' };

const toTags = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const fromTags = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

export function createAwsSession(o: AwsSessionOptions): AwsSession {
  const sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  // The SDK's own warnings go through us: the one about both AWS_PROFILE and static keys being set
  // becomes one plain sentence; the rest are diagnostics (--verbose).
  let warnedSources = false;
  const logger = {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => {
      const m = args.map(String).join(' ');
      if (/Multiple credential sources detected/.test(m)) {
        if (!warnedSources) o.warn?.(`Both a profile (${o.profile ?? o.environment?.profile}) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set: the profile's credentials are used. Unset one of them to make the choice explicit.`);
        warnedSources = true;
      } else o.log?.(`aws sdk: ${m.split('\n')[0]}`);
    },
    error: (...args: unknown[]) => o.log?.(`aws sdk: ${args.map(String).join(' ').split('\n')[0]}`),
  };
  const timeoutMs = o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const base = { ...(o.profile ? { profile: o.profile } : {}), maxAttempts: 5, logger };
  // Each client its own bounded handler (see http.ts); the SDK's retries stay as they are.
  const common = () => ({ ...base, ...boundedRequests(timeoutMs) });
  const watched = <C>(client: C): C => {
    watchCalls(client, { timeoutMs, log: o.log });
    return client;
  };
  // STS is regional: --region, else the SDK's own chain (AWS_REGION, the profile), else the region
  // the cluster names (EKS issuer, OpenShift infrastructure), which identity() is given as a hint.
  let regionHint: (() => Promise<string | undefined>) | undefined;
  const sdkRegion = new STSClient(base).config.region;
  const stsRegion = async (): Promise<string> => {
    if (o.region) return o.region;
    try {
      return await sdkRegion();
    } catch {
      /* no region configured: fall back to the cluster's */
    }
    const hinted = await regionHint?.().catch(() => undefined);
    if (hinted) return hinted;
    throw new InputError(
      [{ source: '--region', message: 'no AWS region is configured (AWS_REGION, AWS_DEFAULT_REGION or the profile) and the cluster does not name one' }],
      'Pass --region with the AWS region the cluster runs in.',
    );
  };
  const sts = watched(new STSClient({ ...common(), region: stsRegion }));
  let iam: IAMClient | undefined;
  let partition: Partition = 'aws';
  const iamClient = () => {
    if (!iam) {
      iam = watched(new IAMClient({ ...common(), region: IAM_REGION[partition] ?? o.region ?? 'us-east-1' }));
    }
    return iam;
  };

  async function call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapAwsError(err, doing);
    }
  }

  // EKS (Pod Identity associations): the SDK client is loaded only when a run uses it.
  let eksModule: Promise<import('./eks.js').EksAssociations> | undefined;
  const eks = () =>
    (eksModule ??= Promise.all([import('@aws-sdk/client-eks'), import('./eks.js')]).then(([sdk, mod]) => {
      const clients = new Map<string, InstanceType<typeof sdk.EKSClient>>();
      return mod.eksAssociations((region) => {
        let c = clients.get(region);
        if (!c) {
          c = watched(new sdk.EKSClient({ ...common(), region }));
          clients.set(region, c);
        }
        return c;
      }, call);
    }));

  async function readProvider(arn: string): Promise<OidcProviderState | null> {
    try {
      const out = await iamClient().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
      return { arn, clientIds: out.ClientIDList ?? [], thumbprints: out.ThumbprintList ?? [], tags: fromTags(out.Tags) };
    } catch (err) {
      if (isNoSuchEntity(err)) return null;
      throw mapAwsError(err, `reading the OIDC provider ${arn}`);
    }
  }

  /** The role itself (one GetRole): trust policy, tags, boundary. Enough for every re-check before a write. */
  async function readRoleBasic(name: string): Promise<RoleState | null> {
    let role;
    try {
      role = (await iamClient().send(new GetRoleCommand({ RoleName: name }))).Role;
    } catch (err) {
      if (isNoSuchEntity(err)) return null;
      throw mapAwsError(err, `reading the role ${name}`);
    }
    if (!role) return null;
    // GetRole returns the tags; older endpoints did not, so fall back to ListRoleTags.
    const tags = role.Tags ?? (await call(`reading the tags of ${name}`, async () => (await iamClient().send(new ListRoleTagsCommand({ RoleName: name }))).Tags));
    const arnProblem = roleArnProblem(role.Arn);
    if (arnProblem) throw new OperationError(`IAM answered GetRole for ${name} with ${arnProblem}; nothing was changed.`, { hint: 'Check the AWS endpoint your configuration points at (AWS_ENDPOINT_URL, the profile\'s endpoint_url).' });
    return {
      arn: role.Arn!,
      path: role.Path ?? '/',
      trustPolicy: role.AssumeRolePolicyDocument ? policyDocument(role.AssumeRolePolicyDocument, `the trust policy of the role ${name}`) : { Version: '2012-10-17', Statement: [] },
      inlinePolicies: {},
      attachedPolicyArns: [],
      permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn,
      tags: fromTags(tags),
    };
  }

  /** The role with its inline policy of ours and its attached policies (discovery, deletion). */
  async function readRole(name: string): Promise<RoleState | null> {
    const role = await readRoleBasic(name);
    if (!role) return null;
    const [policy, attached, inline] = await Promise.all([
      readInlinePolicy(name),
      call(`listing the managed policies of ${name}`, () => iamClient().send(new ListAttachedRolePoliciesCommand({ RoleName: name }))),
      call(`listing the inline policies of ${name}`, () => iamClient().send(new ListRolePoliciesCommand({ RoleName: name }))),
    ]);
    if (policy) role.inlinePolicies[PERMISSIONS_POLICY_NAME] = policy;
    role.inlinePolicyNames = inline.PolicyNames ?? [];
    role.attachedPolicyArns = (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn!).filter(Boolean);
    return role;
  }

  async function readInlinePolicy(roleName: string): Promise<PolicyDocument | undefined> {
    try {
      const out = await iamClient().send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: PERMISSIONS_POLICY_NAME }));
      return out.PolicyDocument ? policyDocument(out.PolicyDocument, `the inline policy ${PERMISSIONS_POLICY_NAME} of the role ${roleName}`) : undefined;
    } catch (err) {
      if (isNoSuchEntity(err)) return undefined;
      throw mapAwsError(err, `reading the inline policy of ${roleName}`);
    }
  }

  /**
   * The account's trust-policy size quota (raised quotas show here). Not every principal may call
   * iam:GetAccountSummary: then the plan measures against the default and says so.
   */
  async function readTrustPolicyQuota(): Promise<number | undefined> {
    try {
      const out = await iamClient().send(new GetAccountSummaryCommand({}));
      const q = out.SummaryMap?.AssumeRolePolicySizeQuota;
      return typeof q === 'number' && q > 0 ? q : undefined;
    } catch (err) {
      if (/AccessDenied/.test((err as { name?: string })?.name ?? '')) {
        o.log('iam:GetAccountSummary was denied: measuring the trust policy against the default quota');
        return undefined;
      }
      throw mapAwsError(err, 'reading the account\'s IAM quotas (iam:GetAccountSummary)');
    }
  }

  /** IAM is eventually consistent: a role that trusts a provider created a moment ago may be refused briefly. */
  async function retryPropagation<T>(doing: string, fn: () => Promise<T>, context: AwsErrorContext = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const msg = (err as Error)?.message ?? '';
        const transient = /MalformedPolicyDocument/.test((err as Error)?.name ?? '') && /Invalid principal|does not exist/i.test(msg);
        if (!transient || attempt >= 8) throw mapAwsError(err, doing, context);
        o.log(`IAM has not propagated the new OIDC provider yet; retrying (${attempt}/8)`);
        await sleep(Math.min(1000 * attempt, 5000));
      }
    }
  }

  async function ensureProvider(a: Extract<AwsAction, { type: 'oidc-provider' }>): Promise<boolean> {
    let current = await readProvider(a.arn);
    let tags = a.tags;
    if (current) tags = ownedOrAdopted(a, current);
    else {
      try {
        await iamClient().send(new CreateOpenIDConnectProviderCommand({
          Url: a.issuer,
          ClientIDList: a.addClientIds,
          ...(a.thumbprints.length ? { ThumbprintList: a.thumbprints } : {}),
          Tags: toTags(a.tags),
        }));
        return true;
      } catch (err) {
        if (!isAlreadyExists(err)) throw mapAwsError(err, `creating the OIDC provider for ${a.issuer}`);
        // Someone just created it: re-read and converge.
        o.log(`the OIDC provider ${a.arn} was created concurrently; converging it`);
        current = await readProvider(a.arn);
        if (!current) throw new OperationError(`The OIDC provider ${a.arn} was reported as existing but cannot be read.`, { hint: 'Re-run "rhacs-sts init".' });
        tags = ownedOrAdopted(a, current);
      }
    }
    let wrote = false;
    for (const id of a.addClientIds.filter((x) => !current!.clientIds.includes(x))) {
      await call(`adding the audience ${id} to ${a.arn}`, () =>
        iamClient().send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, ClientID: id })));
      wrote = true;
    }
    const missingTags = Object.entries(tags).filter(([k, v]) => current!.tags[k] !== v);
    if (missingTags.length) {
      await call(`tagging ${a.arn}`, () =>
        iamClient().send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, Tags: toTags(Object.fromEntries(missingTags)) })));
      wrote = true;
    }
    // Giving an adopted provider back: only the audiences we added, and only our tags.
    for (const id of (a.removeClientIds ?? []).filter((x) => current!.clientIds.includes(x))) {
      await call(`removing the audience ${id} from ${a.arn}`, () =>
        iamClient().send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, ClientID: id })));
      wrote = true;
    }
    const untag = (a.removeTags ?? []).filter((k) => k in current!.tags);
    if (untag.length) {
      await call(`removing our tags from ${a.arn}`, () =>
        iamClient().send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, TagKeys: untag })));
      wrote = true;
    }
    return wrote;
  }

  async function ensureRole(a: Extract<AwsAction, { type: 'role' }>, plan: Plan): Promise<boolean> {
    let current = await readRoleBasic(a.name);
    if (!current) {
      try {
        await retryPropagation(`creating the role ${a.name}`, () => iamClient().send(new CreateRoleCommand({
          RoleName: a.name,
          Path: a.path,
          AssumeRolePolicyDocument: JSON.stringify(plan.role.trustPolicy),
          Description: 'RHACS short-lived AWS credentials (managed by rhacs-sts)',
          Tags: toTags(a.tags),
          ...(a.permissionsBoundary ? { PermissionsBoundary: a.permissionsBoundary } : {}),
        })), { trustPolicy: JSON.stringify(plan.role.trustPolicy) });
        return true;
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause ?? err;
        if (!isAlreadyExists(cause)) throw err;
        o.log(`the role ${a.name} was created concurrently; converging it`);
        current = await readRoleBasic(a.name);
        if (!current) throw new OperationError(`The role ${a.name} was reported as existing but cannot be read.`, { hint: 'Re-run "rhacs-sts init".' });
        assertOwned(current, plan);
      }
    }
    if (a.permissionsBoundary && current.permissionsBoundary !== a.permissionsBoundary) {
      assertOwned(current, plan);
      await call(`setting the permissions boundary of ${a.name}`, () =>
        iamClient().send(new PutRolePermissionsBoundaryCommand({ RoleName: a.name, PermissionsBoundary: a.permissionsBoundary })));
      return true;
    }
    return false;
  }

  /**
   * Last line of defence for providers, as for roles: a provider found at write time (it may have
   * appeared since the plan was read) is changed only when it is ours or this run adopts it. The
   * tags to write: an adopted provider is marked as such, with the audiences we add, so that
   * uninstall gives it back instead of deleting it.
   */
  function ownedOrAdopted(a: Extract<AwsAction, { type: 'oidc-provider' }>, current: OidcProviderState): Record<string, string> {
    if (a.status === 'delete' || isManaged(current.tags)) return a.tags;
    if (!a.adopt) {
      throw new OperationError(`The OIDC provider ${a.arn} exists and was not created by rhacs-sts (it was not there, or not as planned, when the plan was read); nothing was changed on it.`, {
        hint: 'Re-run with --adopt-oidc-provider to add our audience and tag to it (uninstall then gives it back, never deletes it), or re-run to see the new plan.',
      });
    }
    const added = [...new Set([...(current.tags[ADDED_CLIENT_IDS_TAG] ?? '').split(' ').filter(Boolean), ...a.addClientIds.filter((id) => !current.clientIds.includes(id))])].sort();
    return { ...a.tags, [ADOPTED_TAG]: 'true', ...(added.length ? { [ADDED_CLIENT_IDS_TAG]: added.join(' ') } : {}) };
  }

  /** Last line of defence: never write to a role that is not ours unless the plan adopts it. */
  function assertOwned(role: RoleState, plan: Plan): void {
    const adopting = plan.actions.some((x) => x.type === 'role-tags' && x.status !== 'unchanged');
    if (!isManaged(role.tags) && !adopting) {
      throw new OperationError(`The role ${role.arn} exists and was not created by rhacs-sts.`, {
        hint: 'Re-run with --adopt-role to take it over, or choose another --role-name.',
      });
    }
  }

  /**
   * IAM has no conditional write: two runs for different clusters that update the trust policy at
   * the same moment can each drop the other's new statement. So after writing, re-read (after a
   * short, random pause) and write again while this run's statements are not what it wrote; the
   * other run does the same for its own, so both converge. Bounded.
   */
  async function ensureTrust(a: Extract<AwsAction, { type: 'trust-policy' }>, plan: Plan): Promise<boolean> {
    const scope = a.scope ?? [...new Set(a.document.Statement.filter(isOurStatement).flatMap(federatedHostPaths))].map((hp) => `https://${hp}`);
    const paths = new Set(scope.map(issuerHostPath));
    const ours = a.document.Statement.filter((s) => isOurStatement(s) && federatedHostPaths(s).some((p) => paths.has(p)));
    let wrote = false;
    for (let attempt = 1; attempt <= TRUST_WRITE_ATTEMPTS; attempt++) {
      const role = await readRoleBasic(a.roleName);
      if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
      // Re-merge against what is there now, so statements someone added since the plan survive
      // (foreign ones, and ours for clusters another run added meanwhile).
      // Our one Pod Identity statement is there exactly when the planned document has it.
      const desired = withPodIdentityStatement(mergeTrustPolicy(role.trustPolicy, ours, scope), a.document.Statement.find(isPodIdentityStatement));
      if (samePolicy(role.trustPolicy, desired)) return wrote;
      if (attempt > 1) o.log(`the trust policy of ${a.roleName} changed under this run (another run for other clusters?); writing it again (${attempt}/${TRUST_WRITE_ATTEMPTS})`);
      assertOwned(role, plan);
      await retryPropagation(`updating the trust policy of ${a.roleName}`, () =>
        iamClient().send(new UpdateAssumeRolePolicyCommand({ RoleName: a.roleName, PolicyDocument: JSON.stringify(desired) })), { trustPolicy: JSON.stringify(desired) });
      wrote = true;
      await sleep(TRUST_SETTLE_MS + Math.floor(Math.random() * TRUST_SETTLE_MS));
    }
    return wrote;
  }

  async function ensurePermissions(a: Extract<AwsAction, { type: 'permissions-policy' }>, plan: Plan): Promise<boolean> {
    const current = await readInlinePolicy(a.roleName);
    if (current && samePolicy(current, a.document)) return false;
    const role = await readRoleBasic(a.roleName);
    if (role) assertOwned(role, plan);
    await call(`writing the inline policy ${a.policyName} of ${a.roleName}`, () =>
      iamClient().send(new PutRolePolicyCommand({ RoleName: a.roleName, PolicyName: a.policyName, PolicyDocument: JSON.stringify(a.document) })));
    return true;
  }

  async function ensureTags(a: Extract<AwsAction, { type: 'role-tags' }>): Promise<boolean> {
    const role = await readRoleBasic(a.roleName);
    if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
    const missing = Object.entries(a.tags).filter(([k, v]) => role.tags[k] !== v);
    if (missing.length === 0) return false;
    await call(`tagging the role ${a.roleName}`, () => iamClient().send(new TagRoleCommand({ RoleName: a.roleName, Tags: toTags(Object.fromEntries(missing)) })));
    return true;
  }

  /** Attach a managed policy and record on the role that rhacs-sts attached it. */
  async function attachPolicy(a: Extract<AwsAction, { type: 'managed-policy' }>, plan: Plan): Promise<boolean> {
    const role = await readRole(a.roleName);
    if (!role) throw new OperationError(`The role ${a.roleName} disappeared while rhacs-sts was configuring it.`, { hint: 'Re-run "rhacs-sts init".' });
    assertOwned(role, plan);
    let wrote = false;
    if (!role.attachedPolicyArns.includes(a.policyArn)) {
      await call(`attaching ${a.policyArn} to ${a.roleName}`, () => iamClient().send(new AttachRolePolicyCommand({ RoleName: a.roleName, PolicyArn: a.policyArn })));
      wrote = true;
    }
    if (role.tags[a.tagKey] !== a.policyArn) {
      await call(`tagging the role ${a.roleName}`, () => iamClient().send(new TagRoleCommand({ RoleName: a.roleName, Tags: toTags({ [a.tagKey]: a.policyArn }) })));
      wrote = true;
    }
    return wrote;
  }

  /** Detach a managed policy that rhacs-sts attached (its tag says so), and drop the tag. */
  async function detachPolicy(a: Extract<AwsAction, { type: 'managed-policy' }>): Promise<boolean> {
    const role = await readRole(a.roleName);
    if (!role || role.tags[a.tagKey] !== a.policyArn) return false;
    if (role.attachedPolicyArns.includes(a.policyArn)) {
      await call(`detaching ${a.policyArn} from ${a.roleName}`, () => iamClient().send(new DetachRolePolicyCommand({ RoleName: a.roleName, PolicyArn: a.policyArn })));
    }
    await call(`removing our tag from ${a.roleName}`, () => iamClient().send(new UntagRoleCommand({ RoleName: a.roleName, TagKeys: [a.tagKey] })));
    return true;
  }

  async function deletePermissions(a: Extract<AwsAction, { type: 'permissions-policy' }>): Promise<boolean> {
    if (!(await readInlinePolicy(a.roleName))) return false;
    await call(`deleting the inline policy ${a.policyName} of ${a.roleName}`, () =>
      iamClient().send(new DeleteRolePolicyCommand({ RoleName: a.roleName, PolicyName: a.policyName })));
    return true;
  }

  async function deleteRole(a: Extract<AwsAction, { type: 'role' }>): Promise<boolean> {
    const role = await readRole(a.name);
    if (!role) return false;
    if (!isManaged(role.tags)) throw new OperationError(`The role ${role.arn} is not tagged as created by rhacs-sts; it is not deleted.`);
    // IAM refuses to delete a role that still has policies: inline ones first, then attachments.
    const inline = await call(`listing the inline policies of ${a.name}`, () => iamClient().send(new ListRolePoliciesCommand({ RoleName: a.name })));
    for (const name of inline.PolicyNames ?? []) {
      await call(`deleting the inline policy ${name} of ${a.name}`, () => iamClient().send(new DeleteRolePolicyCommand({ RoleName: a.name, PolicyName: name })));
    }
    for (const policyArn of role.attachedPolicyArns) {
      await call(`detaching ${policyArn} from ${a.name}`, () => iamClient().send(new DetachRolePolicyCommand({ RoleName: a.name, PolicyArn: policyArn })));
    }
    await call(`deleting the role ${a.name}`, () => iamClient().send(new DeleteRoleCommand({ RoleName: a.name })));
    return true;
  }

  async function untagRole(a: Extract<AwsAction, { type: 'role-tags' }>): Promise<boolean> {
    const role = await readRoleBasic(a.roleName);
    const keys = Object.keys(a.tags).filter((k) => role && k in role.tags);
    if (!role || keys.length === 0) return false;
    await call(`removing our tags from ${a.roleName}`, () => iamClient().send(new UntagRoleCommand({ RoleName: a.roleName, TagKeys: keys })));
    return true;
  }

  async function deleteProvider(a: Extract<AwsAction, { type: 'oidc-provider' }>): Promise<boolean> {
    const current = await readProvider(a.arn);
    if (!current) return false;
    if (!isManaged(current.tags)) throw new OperationError(`The OIDC provider ${a.arn} is not tagged as created by rhacs-sts; it is not deleted.`);
    if (current.tags[ADOPTED_TAG] === 'true') throw new OperationError(`The OIDC provider ${a.arn} was adopted, not created, by rhacs-sts; it is never deleted.`);
    const trusting = await rolesTrusting(a.arn);
    if (trusting.length) {
      throw new OperationError(`The OIDC provider ${a.arn} is still trusted by ${trusting.join(', ')}; it is not deleted.`, {
        hint: 'Re-run "rhacs-sts uninstall" (the plan keeps a provider that other roles use), or pass --keep-oidc-provider.',
      });
    }
    await call(`deleting the OIDC provider ${a.arn}`, () => iamClient().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn })));
    return true;
  }

  async function oidcProviderCount(): Promise<number | undefined> {
    try {
      const out = await iamClient().send(new ListOpenIDConnectProvidersCommand({}));
      return (out.OpenIDConnectProviderList ?? []).length;
    } catch {
      return undefined; // a caller without iam:ListOpenIDConnectProviders: no warning, no failure
    }
  }

  async function rolesTrusting(providerArn: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const page of paginateListRoles({ client: iamClient(), pageSize: 1000 }, {})) {
        for (const r of page.Roles ?? []) {
          if (!r.AssumeRolePolicyDocument || !r.RoleName) continue;
          let doc: PolicyDocument;
          try {
            doc = policyDocument(r.AssumeRolePolicyDocument, `the trust policy of the role ${r.RoleName}`);
          } catch (err) {
            // Unreadable: it may trust the provider, so the provider stays, and the reason is said.
            names.push(`${r.RoleName} (${(err as Error).message})`);
            continue;
          }
          const trusts = doc.Statement.some((st) => {
            const fed = st.Principal && st.Principal !== '*' ? st.Principal.Federated : undefined;
            return (Array.isArray(fed) ? fed : [fed]).includes(providerArn);
          });
          if (trusts) names.push(r.RoleName);
        }
      }
    } catch (err) {
      throw mapAwsError(err, 'listing the roles that trust the OIDC provider');
    }
    return names.sort();
  }

  async function managedPolicy(arn: string): Promise<PolicyDocument | null> {
    return call(`reading the managed policy ${arn}`, async () => {
      let version: string | undefined;
      try {
        version = (await iamClient().send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId;
      } catch (err) {
        if (isNoSuchEntity(err)) return null;
        throw err;
      }
      const out = await iamClient().send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version }));
      return out.PolicyVersion?.Document ? policyDocument(out.PolicyVersion.Document, `the managed policy ${arn}`) : null;
    });
  }

  return {
    rolesTrusting,
    managedPolicy,
    async identity(hint): Promise<CallerIdentity> {
      regionHint = hint;
      const out = await call('asking AWS who you are (sts:GetCallerIdentity)', () => sts.send(new GetCallerIdentityCommand({})));
      const checked = callerIdentity(out.Account, out.Arn);
      partition = checked.partition;
      return checked;
    },
    oidcProviderCount,
    async readState({ accountId, partition: p, issuers, roleName }): Promise<AwsState> {
      partition = p;
      const [providers, role, trustPolicySizeQuota] = await Promise.all([
        Promise.all(issuers.map(async (issuer) => [issuer, await readProvider(oidcProviderArn(p, accountId, issuer))] as const)),
        readRole(roleName),
        readTrustPolicyQuota(),
      ]);
      return { oidcProviders: Object.fromEntries(providers), role, ...(trustPolicySizeQuota ? { trustPolicySizeQuota } : {}) };
    },
    async oidcProvider(arn) {
      partition = partitionOfArn(arn) ?? partition;
      return readProvider(arn);
    },
    async ensureOidcProvider(action) {
      partition = partitionOfArn(action.arn) ?? partition;
      return ensureProvider(action);
    },
    async readAssociations(queries) {
      if (!queries.length) return [];
      return (await eks()).read(queries);
    },
    async apply(action, plan): Promise<boolean> {
      if (action.type === 'pod-identity-association') return (await eks()).apply(action);
      if (action.status === 'delete') {
        switch (action.type) {
          case 'oidc-provider': return deleteProvider(action);
          case 'role': return deleteRole(action);
          case 'role-tags': return untagRole(action);
          case 'permissions-policy': return deletePermissions(action);
          case 'trust-policy': throw new OperationError('A trust policy is never deleted on its own; the role is.');
          case 'managed-policy': return detachPolicy(action);
        }
      }
      switch (action.type) {
        case 'oidc-provider': return ensureProvider(action);
        case 'role': return ensureRole(action, plan);
        case 'role-tags': return ensureTags(action);
        case 'trust-policy': return ensureTrust(action, plan);
        case 'permissions-policy': return ensurePermissions(action, plan);
        case 'managed-policy': return attachPolicy(action, plan);
      }
    },
  };
}

/**
 * What sts:GetCallerIdentity answered, checked as a flag would be: the account id and the
 * partition go into every ARN and policy we write (an account "*" would grant to every account).
 */
export function callerIdentity(account: string | undefined, arn: string | undefined): CallerIdentity {
  const problems: string[] = [];
  const accountProblem = accountIdProblem(account ?? '');
  if (accountProblem) problems.push(`Account: ${accountProblem}`);
  const m = /^arn:([a-z-]+):(?:sts|iam)::(\d{12}):[\x21-\x7e]+$/.exec(arn ?? '');
  if (!m) problems.push(`Arn: "${arn ?? ''}" is not the ARN of an IAM or STS principal`);
  else if (!PARTITIONS.includes(m[1] as Partition)) problems.push(`Arn: "${m[1]}" is not an AWS partition (${PARTITIONS.join(', ')})`);
  else if (!accountProblem && m[2] !== account) problems.push(`Arn: names account ${m[2]}, but Account is ${account}`);
  if (problems.length) {
    throw new OperationError(`AWS answered sts:GetCallerIdentity with values that cannot be used (${problems.join('; ')}); nothing was changed.`, {
      hint: 'Check the AWS endpoint your configuration points at (AWS_ENDPOINT_URL, the profile\'s endpoint_url) and the credentials.',
    });
  }
  return { accountId: account!, partition: m![1] as Partition, arn: arn! };
}

/** Why a role ARN from IAM cannot be used, or undefined. */
function roleArnProblem(arn: string | undefined): string | undefined {
  const m = /^arn:([a-z-]+):iam::(\d{12}):role\/[\x21-\x7e]+$/.exec(arn ?? '');
  if (!m) return `the ARN "${arn ?? ''}", which is not the ARN of a role`;
  if (!PARTITIONS.includes(m[1] as Partition)) return `the ARN "${arn}", whose partition "${m[1]}" is not an AWS partition`;
  if (/[*?]/.test(arn!)) return `the ARN "${arn}", which has a wildcard`;
  return undefined;
}

/** A policy document IAM returned, or an error naming whose policy it is and what is wrong. */
function policyDocument(text: string, what: string): PolicyDocument {
  let doc: PolicyDocument;
  try {
    doc = parsePolicyDocument(text);
  } catch (err) {
    throw new OperationError(`IAM returned ${what} as something that is not a JSON policy document (${(err as Error).message}); nothing was changed.`, {
      hint: 'Look at it with "aws iam get-role" (or get-role-policy) and correct it, or check the AWS endpoint your configuration points at.',
    });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !doc.Statement.every((st) => typeof st === 'object' && st !== null && !Array.isArray(st))) {
    throw new OperationError(`IAM returned ${what} as JSON that is not a policy document (an object whose Statement is an object or a list of them); nothing was changed.`, {
      hint: 'Look at it with "aws iam get-role" (or get-role-policy) and correct it, or check the AWS endpoint your configuration points at.',
    });
  }
  return doc;
}
