/**
 * Federated identity credentials on the identity: one per cluster and service account, trusting the
 * cluster's issuer exactly as the cluster publishes it (Entra compares issuers as strings: AKS's ends
 * in `/`, and a missing slash is AADSTS70021), the service account as subject, and the platform's
 * audience. An identity carries at most 20: a run counts them and stops before the 21st, before any
 * write. Azure refuses concurrent writes on one identity (409), so writes go one at a time.
 */
import { createHash } from 'node:crypto';
import { OperationError } from '../../errors.js';
import type { AzureArm, FederatedCredentialView } from './arm.js';
import { azureErrorCode, mapAzureError } from './errors.js';

/** Federated identity credentials one user-assigned identity may carry (Entra's limit). */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** The credential name rule (ManagedIdentity.json 2024-11-30). */
export const CREDENTIAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;

export type AzurePlatform = 'aks' | 'openshift';

/** The audience of the token each platform's pods present: the webhook's on AKS, RHACS's projected token on OpenShift. */
export const AUDIENCE: Readonly<Record<AzurePlatform, string>> = { aks: 'api://AzureADTokenExchange', openshift: 'openshift' };

/** 409 when another write on the same identity is in progress. */
export const CONCURRENT_WRITE = 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity';
/** Waits before retrying a write refused as concurrent: bounded (about 15 s in all). */
export const CONCURRENT_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];

/** Pure: the credential's name for a cluster and service account (`rhacs-sts-<cluster>-<ns>-<sa>`), within the rule; long ones end in a hash. */
export function federatedCredentialName(clusterName: string, namespace: string, serviceAccount: string): string {
  const raw = `rhacs-sts-${clusterName}-${namespace}-${serviceAccount}`.replace(/[^a-zA-Z0-9_-]+/g, '-');
  if (raw.length <= 120) return raw;
  const hash = createHash('sha256').update(`${clusterName}\n${namespace}\n${serviceAccount}`).digest('hex').slice(0, 10);
  return `${raw.slice(0, 109)}-${hash}`;
}

export interface CredentialRequest {
  clusterName: string;
  /** The cluster's issuer, exactly as it publishes it. */
  issuer: string;
  namespace: string;
  serviceAccounts: readonly string[];
  platform: AzurePlatform;
}

/** Pure: the credentials a cluster's service accounts need. The issuer is kept as given, trailing slash and all. */
export function desiredCredentials(req: CredentialRequest): FederatedCredentialView[] {
  return req.serviceAccounts.map((sa) => ({
    name: federatedCredentialName(req.clusterName, req.namespace, sa),
    issuer: req.issuer,
    subject: `system:serviceaccount:${req.namespace}:${sa}`,
    audiences: [AUDIENCE[req.platform]],
  }));
}

export interface CredentialPlan {
  create: FederatedCredentialView[];
  update: { current: FederatedCredentialView; desired: FederatedCredentialView }[];
  unchanged: FederatedCredentialView[];
  /** How many the identity would carry after the writes. */
  total: number;
}

const sameTrust = (a: FederatedCredentialView, b: FederatedCredentialView) => a.issuer === b.issuer && a.subject === b.subject;
const grantsAudience = (have: FederatedCredentialView, want: FederatedCredentialView) => want.audiences.every((x) => have.audiences.includes(x));

/**
 * Pure: what to write. A credential of ours (by name) that differs is updated; one under any name
 * that already trusts the same issuer (exactly), subject and audience is enough; the rest are created.
 */
export function planCredentials(existing: readonly FederatedCredentialView[], desired: readonly FederatedCredentialView[]): CredentialPlan {
  const plan: CredentialPlan = { create: [], update: [], unchanged: [], total: existing.length };
  for (const want of desired) {
    const byName = existing.find((e) => e.name.toLowerCase() === want.name.toLowerCase());
    if (byName) {
      if (sameTrust(byName, want) && grantsAudience(byName, want) && byName.audiences.length === want.audiences.length) plan.unchanged.push(byName);
      else plan.update.push({ current: byName, desired: { ...want, name: byName.name } });
      continue;
    }
    const equivalent = existing.find((e) => sameTrust(e, want) && grantsAudience(e, want));
    if (equivalent) plan.unchanged.push(equivalent);
    else plan.create.push(want);
  }
  plan.total = existing.length + plan.create.length;
  return plan;
}

/** One cluster of a run, as the 20-credential count names it: what it needs created on the identity. */
export interface ClusterCredentialNeed {
  /** The cluster's name (AKS's), and its kubeconfig context. */
  cluster: string;
  context?: string;
  /** The service accounts whose credentials are still to be created. */
  serviceAccounts: readonly string[];
  /** Central runs there too (Sensor's credential is then there only for delegated scanning). */
  withCentral: boolean;
}

/**
 * Pure: the plan's blocker when the identity would carry more federated credentials than Azure
 * allows (undefined: within the limit): how many are there, what each cluster of the run adds, and
 * the ways out — an identity of their own for some secured clusters (run on its own), removing
 * credentials no longer used, or trusting fewer service accounts.
 */
export function credentialLimitBlocker(o: { identity: string; resourceGroup: string; existing: number; needs: readonly ClusterCredentialNeed[] }): { message: string; hint: string } | undefined {
  const adding = o.needs.reduce((n, c) => n + c.serviceAccounts.length, 0);
  if (o.existing + adding <= MAX_FEDERATED_CREDENTIALS) return undefined;
  const room = Math.max(0, MAX_FEDERATED_CREDENTIALS - o.existing);
  const per = o.needs.filter((c) => c.serviceAccounts.length).map((c) => `${c.context ?? c.cluster}: ${c.serviceAccounts.join(', ')}`);
  const secured = o.needs.filter((c) => c.serviceAccounts.length && !c.withCentral);
  const ways = [
    secured.length
      ? `give secured clusters an identity of their own: leave them out of --sensor-context and run "rhacs-sts init --context <context> --azure-identity rhacs-sts-<cluster>" for each (e.g. --context ${secured[0]!.context ?? secured[0]!.cluster} --azure-identity rhacs-sts-${secured[0]!.cluster})`
      : 'give this cluster an identity of its own (--azure-identity <name>, one per cluster)',
    `remove credentials no longer used ("az identity federated-credential list --identity-name ${o.identity} --resource-group ${o.resourceGroup}", then "az identity federated-credential delete … --name <name>")`,
    ...(o.needs.some((c) => c.withCentral && c.serviceAccounts.includes('sensor')) ? ['trust fewer service accounts (--no-delegated-scanning: Sensor beside Central then pulls nothing itself)'] : []),
  ];
  return {
    message: `The managed identity ${o.identity} carries ${o.existing} federated credential${o.existing === 1 ? '' : 's'} and this run needs ${adding} more (${per.join('; ')}): Azure allows ${MAX_FEDERATED_CREDENTIALS} per identity, so there is room for ${room}. Nothing was written.`,
    hint: `Ways out: ${ways.join('; or ')}.`,
  };
}

/** The identity would carry more federated credentials than Azure allows: nothing was written. */
export class FederatedCredentialLimitError extends OperationError {
  constructor(identity: string, existing: number, adding: number) {
    super(
      `The managed identity ${identity} carries ${existing} federated credentials and this run needs ${adding} more: Azure allows ${MAX_FEDERATED_CREDENTIALS} per identity. Nothing was written.`,
      {
        hint:
          'Give this cluster an identity of its own (--azure-identity <name>, one per cluster), remove credentials no longer used ' +
          '("az identity federated-credential list/delete --identity-name ' + identity + ' --resource-group <rg>"), or trust fewer service accounts.',
      },
    );
  }
}

/** Writes on one identity, one at a time within this process (other processes: Azure's 409, retried). */
const identityLocks = new Map<string, Promise<unknown>>();

async function oneAtATime<T>(key: string, run: () => Promise<T>): Promise<T> {
  const before = identityLocks.get(key) ?? Promise.resolve();
  const mine = before.then(run, run);
  const settled = mine.then(() => undefined, () => undefined);
  identityLocks.set(key, settled);
  try {
    return await mine;
  } finally {
    if (identityLocks.get(key) === settled) identityLocks.delete(key);
  }
}

export interface ConvergeCredentialsOptions {
  /** Waits between retries (injected: tests advance a virtual clock). */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Converges the identity's credentials to include the desired ones. Reads, counts (stops before the
 * 21st), then writes one at a time. Returns the plan it carried out.
 */
export async function convergeCredentials(arm: AzureArm, target: { resourceGroup: string; identity: string }, desired: readonly FederatedCredentialView[], options: ConvergeCredentialsOptions = {}): Promise<CredentialPlan> {
  const sleep = options.sleep ?? realSleep;
  for (const d of desired) {
    if (!CREDENTIAL_NAME.test(d.name)) throw new OperationError(`"${d.name}" is not a valid federated credential name (${CREDENTIAL_NAME.source}).`);
  }
  return oneAtATime(`${target.resourceGroup}/${target.identity}`.toLowerCase(), async () => {
    let existing: FederatedCredentialView[];
    try {
      existing = await arm.listFederatedCredentials(target.resourceGroup, target.identity);
    } catch (err) {
      throw mapAzureError(err, `listing the federated credentials of ${target.identity}`);
    }
    const plan = planCredentials(existing, desired);
    if (plan.total > MAX_FEDERATED_CREDENTIALS) throw new FederatedCredentialLimitError(target.identity, existing.length, plan.create.length);
    for (const write of [...plan.update.map((u) => u.desired), ...plan.create]) {
      for (let attempt = 0; ; attempt++) {
        try {
          await arm.putFederatedCredential(target.resourceGroup, target.identity, write);
          break;
        } catch (err) {
          const delay = CONCURRENT_RETRY_DELAYS_MS[attempt];
          if (azureErrorCode(err) === CONCURRENT_WRITE && delay !== undefined) {
            await sleep(delay);
            continue;
          }
          throw mapAzureError(err, `writing the federated credential ${write.name} on ${target.identity}`);
        }
      }
    }
    return plan;
  });
}
