/**
 * The real AwsSession: IAM, STS and EKS through the SDK v3 clients. Credentials come from the SDK's
 * default chain (env, shared config / --profile, SSO, web identity, container and instance roles);
 * AWS_ENDPOINT_URL is honoured by the SDK itself. Loaded lazily so start-up stays fast.
 *
 * This module composes: the clients are made in sdk-clients.ts, the IAM reads and the writes per
 * resource (with their ownership re-checks) live in iam/, the Pod Identity associations in eks.ts.
 */
import './sdk-env.js';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AssociationState, AwsState } from '../../plan/model.js';
import { partitionOfArn } from '../../validate.js';
import { callerIdentity } from './caller-identity.js';
import { call } from './errors.js';
import { applyIamAction } from './iam/apply.js';
import type { IamContext } from './iam/context.js';
import { ensureProvider } from './iam/oidc-provider.js';
import { managedPolicy, oidcProviderCount, readProvider, readRole, readTrustPolicyQuota, rolesTrusting } from './iam/read.js';
import { readMemo } from './iam/read-memo.js';
import { oidcProviderArn } from './policies.js';
import { createAwsClients, type AwsSessionOptions } from './sdk-clients.js';
import type { AwsSession, CallerIdentity } from './session.js';

export type { AwsSessionOptions } from './sdk-clients.js';
export { callerIdentity } from './caller-identity.js';

export function createAwsSession(o: AwsSessionOptions): AwsSession {
  const clients = createAwsClients(o);
  const ctx: IamContext = {
    iam: clients.iam,
    log: (message) => o.log(message),
    sleep: o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
  // The role, the providers, the quota and the Pod Identity associations, read once per session until it writes (see iam/read-memo.ts).
  const memo = readMemo();
  const provider = (arn: string) => memo.read(`provider ${arn}`, () => readProvider(ctx, arn));
  const writing = async <T>(write: () => Promise<T>): Promise<T> => {
    memo.forget();
    try {
      return await write();
    } finally {
      memo.forget();
    }
  };
  return {
    rolesTrusting: (providerArn) => rolesTrusting(ctx, providerArn),
    managedPolicy: (arn) => managedPolicy(ctx, arn),
    async identity(hint): Promise<CallerIdentity> {
      clients.useRegionHint(hint);
      const out = await call('asking AWS who you are (sts:GetCallerIdentity)', () => clients.sts.send(new GetCallerIdentityCommand({})));
      const checked = callerIdentity(out.Account, out.Arn);
      clients.usePartition(checked.partition);
      return checked;
    },
    oidcProviderCount: () => oidcProviderCount(ctx),
    async readState({ accountId, partition, issuers, roleName }): Promise<AwsState> {
      clients.usePartition(partition);
      const [providers, role, trustPolicySizeQuota] = await Promise.all([
        Promise.all(issuers.map(async (issuer) => [issuer, await provider(oidcProviderArn(partition, accountId, issuer))] as const)),
        memo.read(`role ${roleName}`, () => readRole(ctx, roleName)),
        memo.read('trust policy size quota', () => readTrustPolicyQuota(ctx)),
      ]);
      return { oidcProviders: Object.fromEntries(providers), role, ...(trustPolicySizeQuota ? { trustPolicySizeQuota } : {}) };
    },
    async oidcProvider(arn) {
      clients.usePartition(partitionOfArn(arn));
      return provider(arn);
    },
    async ensureOidcProvider(action) {
      clients.usePartition(partitionOfArn(action.arn));
      return writing(() => ensureProvider(ctx, action));
    },
    async readAssociations(queries) {
      if (!queries.length) return [];
      const eks = await clients.eks();
      // One service account at a time, so that steps asking for different sets share what was read.
      const found = await Promise.all(queries.flatMap((q) => q.serviceAccounts.map((sa) =>
        memo.read(`association ${q.region} ${q.clusterName} ${q.namespace} ${sa}`, async () => (await eks.read([{ ...q, serviceAccounts: [sa] }]))[0] ?? null))));
      return found.filter((a): a is AssociationState => a !== null);
    },
    async apply(action, plan): Promise<boolean> {
      return writing(async () => (action.type === 'pod-identity-association' ? (await clients.eks()).apply(action) : applyIamAction(ctx, action, plan)));
    },
  };
}
