/**
 * An open connection to Azure: credentials from `@azure/identity`'s default chain, built from the
 * environment values passed in (never from the process's environment), and the ARM clients behind the
 * narrow `AzureArm` interface (arm.ts). The SDK is loaded here with import(), only when a run needs
 * Azure. Every request is bounded (each attempt by --request-timeout, retries few and short); TLS is
 * never skipped: a sandbox's CA is added to Node's trusted roots, not put in their place.
 */
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { TokenCredential, TokenCredentialOptions } from '@azure/identity';
import { InputError } from '../../errors.js';
import { connectAddress, type ConnectTo } from '../../net/https.js';
import type { AzureArm, FederatedCredentialView, IdentityView, RoleAssignmentView, RoleDefinitionView } from './arm.js';
import { AZURE_CLOUDS, armScope, cloudOfAuthority, type AzureCloud, type AzureCloudName } from './clouds.js';
import type { AzureEnvironment } from './environment.js';
import { azureErrorCode, azureStatus, credentialError } from './errors.js';
import { resolveSubscription, tokenClaims, type AzureCaller } from './account.js';

/** The members of the default chain, in its order. */
export type CredentialSource = 'environment' | 'workload-identity' | 'managed-identity' | 'azure-cli';
export const DEFAULT_CHAIN: readonly CredentialSource[] = ['environment', 'workload-identity', 'managed-identity', 'azure-cli'];

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Retries of one call by the SDK: few and short, so a call is bounded by about 3 × the timeout. */
export const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 500, maxRetryDelayInMs: 4_000 } as const;

export interface AzureSessionInput {
  /** The cloud (public, usgov, china); by default the one AZURE_AUTHORITY_HOST names, else public. */
  cloud?: AzureCloudName;
  environment?: AzureEnvironment;
  /** --azure-subscription. */
  subscriptionId?: string;
  /** Bound of each request attempt, in ms (--request-timeout). */
  timeoutMs?: number;
  /** Where Entra and ARM are reached, when not at the cloud's own hosts (the sandbox). */
  endpoints?: { authorityHost?: string; arm?: string };
  /** A CA to trust besides Node's roots (the sandbox's), PEM. */
  ca?: string | Buffer;
  /** The chain's members (all of them by default). */
  sources?: readonly CredentialSource[];
  /** RHACS_STS_CONNECT_TO: Entra's and ARM's hosts reached at another address (the certificate still checked for the host). */
  connectTo?: readonly ConnectTo[];
}

/** An agent that connects to where RHACS_STS_CONNECT_TO sends a host, keeping the host as the TLS server name. */
function connectToAgent(connectTo: readonly ConnectTo[], ca: string | Buffer | undefined): https.Agent {
  class Routed extends https.Agent {
    override createConnection(o: Parameters<https.Agent['createConnection']>[0], cb?: Parameters<https.Agent['createConnection']>[1]) {
      const host = String(o?.host ?? o?.servername ?? '');
      const to = connectAddress(connectTo, host, Number(o?.port ?? 443));
      return super.createConnection({ ...o, host: to.host, port: to.port, servername: o?.servername ?? host }, cb);
    }
  }
  return new Routed({ keepAlive: false, ...(ca !== undefined ? { ca: [...rootCertificates, ca.toString()] } : {}) });
}

export interface AzureSession {
  cloud: AzureCloud;
  subscriptionId: string;
  arm: AzureArm;
  /** Who the credentials are (tenant, object id), from the ARM token; missing or refused credentials → InputError. */
  caller(): Promise<AzureCaller>;
}

type PipelinePolicy = NonNullable<TokenCredentialOptions['additionalPolicies']>[number]['policy'];

/** The request attempt's bound: an abort after `timeoutMs`, the answer's body included. */
export function boundedPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'rhacsStsBoundedRequest',
    async sendRequest(request, next) {
      const ac = new AbortController();
      const outer = request.abortSignal;
      const onOuterAbort = () => ac.abort();
      if (outer?.aborted) ac.abort();
      outer?.addEventListener('abort', onOuterAbort);
      // A shorter bound the caller set stays (the managed identity probe's one second).
      const bound = request.timeout > 0 ? Math.min(request.timeout, timeoutMs) : timeoutMs;
      const timer = setTimeout(() => ac.abort(), bound);
      timer.unref();
      request.abortSignal = ac.signal;
      request.timeout = bound;
      try {
        return await next(request);
      } catch (err) {
        if (ac.signal.aborted && !outer?.aborted) throw Object.assign(new Error(`the request timed out: no complete answer within ${bound} ms`), { name: 'AbortError', cause: err });
        throw err;
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onOuterAbort);
        request.abortSignal = outer;
      }
    },
  };
}

/** Options every Azure client and credential gets: the bound, the retries, the trusted CAs. */
function commonOptions(timeoutMs: number, agent: https.Agent | undefined) {
  return {
    retryOptions: { ...RETRY_OPTIONS },
    additionalPolicies: [{ policy: boundedPolicy(timeoutMs), position: 'perRetry' as const }],
    ...(agent ? { agent } : {}),
  };
}

/** Whether MSAL may ask the public cloud about the authority: only for Azure's own hosts. */
export function isKnownAuthority(authorityHost: string): boolean {
  return cloudOfAuthority(authorityHost) !== undefined;
}

async function defaultChain(env: AzureEnvironment, sources: readonly CredentialSource[], authorityHost: string, timeoutMs: number, options: ReturnType<typeof commonOptions>): Promise<TokenCredential> {
  const id = await import('@azure/identity');
  const credentialOptions = { ...options, authorityHost, disableInstanceDiscovery: !isKnownAuthority(authorityHost) };
  const chain: TokenCredential[] = [];
  for (const source of sources) {
    if (source === 'environment' && env.tenantId && env.clientId) {
      if (env.clientSecret) chain.push(new id.ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, credentialOptions));
      else if (env.clientCertificatePath) chain.push(new id.ClientCertificateCredential(env.tenantId, env.clientId, env.clientCertificatePath, credentialOptions));
    } else if (source === 'workload-identity' && env.tenantId && env.clientId && env.federatedTokenFile) {
      chain.push(new id.WorkloadIdentityCredential({ ...credentialOptions, tenantId: env.tenantId, clientId: env.clientId, tokenFilePath: env.federatedTokenFile }));
    } else if (source === 'managed-identity') {
      // As in DefaultAzureCredential: a short probe of the instance metadata service first, so that a
      // machine outside Azure moves on to `az login` at once instead of waiting out the retries.
      const probe = { sendProbeRequest: true } as Record<string, unknown>;
      chain.push(new id.ManagedIdentityCredential({ ...options, ...probe, ...(env.clientId ? { clientId: env.clientId } : {}) }));
    } else if (source === 'azure-cli') {
      chain.push(new id.AzureCliCredential({ ...(env.tenantId ? { tenantId: env.tenantId } : {}), processTimeoutInMs: timeoutMs }));
    }
  }
  if (chain.length === 0) throw new InputError([{ source: 'Azure credentials', message: 'no Azure credentials were found' }]);
  return new id.ChainedTokenCredential(...chain);
}

const isNotFound = (err: unknown) => azureStatus(err) === 404 || /NotFound$/.test(azureErrorCode(err));

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Opens a session: resolves the cloud, the subscription and the chain; loads the clients on first use. */
export async function openAzureSession(input: AzureSessionInput): Promise<AzureSession> {
  const env = input.environment ?? {};
  const cloud = AZURE_CLOUDS[input.cloud ?? (env.authorityHost ? cloudOfAuthority(env.authorityHost) : undefined) ?? 'public'];
  const subscriptionId = resolveSubscription({ flag: input.subscriptionId, environment: env });
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agent = input.connectTo?.length ? connectToAgent(input.connectTo, input.ca)
    : input.ca === undefined ? undefined : new https.Agent({ ca: [...rootCertificates, input.ca.toString()], keepAlive: false });
  const options = commonOptions(timeoutMs, agent);
  const authorityHost = input.endpoints?.authorityHost ?? env.authorityHost ?? cloud.authorityHost;
  const endpoint = input.endpoints?.arm ?? cloud.armEndpoint;
  const scopes = [armScope(cloud)];
  const credential = await defaultChain(env, input.sources ?? DEFAULT_CHAIN, authorityHost, timeoutMs, options);

  const clientOptions = { ...options, endpoint, credentialScopes: scopes };
  let loaded: Promise<Clients> | undefined;
  const clients = () => (loaded ??= loadClients(credential, subscriptionId, clientOptions, { ...options, endpoint, credentials: { scopes } }));
  return {
    cloud,
    subscriptionId,
    arm: armOver(clients),
    async caller() {
      try {
        const token = await credential.getToken(scopes);
        if (!token) throw credentialError(Object.assign(new Error('the credential chain returned no token'), { name: 'CredentialUnavailableError' }));
        return tokenClaims(token.token);
      } catch (err) {
        throw err instanceof InputError ? err : credentialError(err);
      }
    },
  };
}

type Clients = Awaited<ReturnType<typeof loadClients>>;

async function loadClients(credential: TokenCredential, subscriptionId: string, armOptions: Record<string, unknown>, registryOptions: Record<string, unknown>) {
  const [msi, authz, aks, acr] = await Promise.all([import('@azure/arm-msi'), import('@azure/arm-authorization'), import('@azure/arm-containerservice'), import('@azure/arm-containerregistry')]);
  return {
    msi: new msi.ManagedServiceIdentityClient(credential, subscriptionId, armOptions),
    authz: new authz.AuthorizationManagementClient(credential, subscriptionId, armOptions),
    aks: new aks.ContainerServiceClient(credential, subscriptionId, armOptions),
    acr: new acr.ContainerRegistryManagementClient(credential, subscriptionId, registryOptions),
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function identityView(i: { id?: string; name?: string; location?: string; tags?: Record<string, string>; clientId?: string; principalId?: string; tenantId?: string }): IdentityView {
  return { id: str(i.id), name: str(i.name), location: str(i.location), tags: { ...(i.tags ?? {}) }, clientId: str(i.clientId), principalId: str(i.principalId), tenantId: str(i.tenantId) };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The narrow interface over the SDK clients. */
function armOver(clients: () => Promise<Clients>): AzureArm {
  return {
    async getManagedCluster(rg, name) {
      const c = await orNull((await clients()).aks.managedClusters.get(rg, name));
      if (!c) return null;
      return {
        id: str(c.id),
        name: str(c.name),
        location: str(c.location),
        oidcIssuerEnabled: c.oidcIssuerProfile?.enabled === true,
        ...(c.oidcIssuerProfile?.issuerURL ? { issuerUrl: c.oidcIssuerProfile.issuerURL } : {}),
        workloadIdentityEnabled: c.securityProfile?.workloadIdentity?.enabled === true,
      };
    },
    async getRegistry(rg, name) {
      const r = await orNull((await clients()).acr.registries.get(rg, name));
      return r ? { id: str(r.id), name: str(r.name), loginServer: str(r.loginServer) } : null;
    },
    async getIdentity(rg, name) {
      const i = await orNull((await clients()).msi.userAssignedIdentities.get(rg, name));
      return i ? identityView(i) : null;
    },
    async putIdentity(rg, name, body) {
      return identityView(await (await clients()).msi.userAssignedIdentities.createOrUpdate(rg, name, { location: body.location, tags: body.tags }));
    },
    async listFederatedCredentials(rg, identity) {
      const list = await all((await clients()).msi.federatedIdentityCredentials.list(rg, identity));
      return list.map((f): FederatedCredentialView => ({ name: str(f.name), issuer: str(f.issuer), subject: str(f.subject), audiences: [...(f.audiences ?? [])] }));
    },
    async putFederatedCredential(rg, identity, f) {
      await (await clients()).msi.federatedIdentityCredentials.createOrUpdate(rg, identity, f.name, { issuer: f.issuer, subject: f.subject, audiences: f.audiences });
    },
    async roleDefinitionsNamed(scope, roleName) {
      const list = await all((await clients()).authz.roleDefinitions.list(scope, { filter: `roleName eq '${roleName.replace(/'/g, "''")}'` }));
      return list.map((d): RoleDefinitionView => ({
        id: str(d.id),
        name: str(d.name),
        roleName: str(d.roleName),
        actions: (d.permissions ?? []).flatMap((p) => p.actions ?? []),
        notActions: (d.permissions ?? []).flatMap((p) => p.notActions ?? []),
        dataActions: (d.permissions ?? []).flatMap((p) => p.dataActions ?? []),
      }));
    },
    async roleAssignmentsOf(scope, principalId) {
      const list = await all((await clients()).authz.roleAssignments.listForScope(scope, { filter: `principalId eq '${principalId}'` }));
      return list.map(assignmentView);
    },
    async createRoleAssignment(scope, name, body) {
      return assignmentView(await (await clients()).authz.roleAssignments.create(scope, name, body));
    },
    async deleteFederatedCredential(rg, identity, name) {
      await orNull((await clients()).msi.federatedIdentityCredentials.delete(rg, identity, name));
    },
    async deleteRoleAssignment(id) {
      await orNull((await clients()).authz.roleAssignments.deleteById(id));
    },
    async deleteIdentity(rg, name) {
      await orNull((await clients()).msi.userAssignedIdentities.delete(rg, name));
    },
  };
}

function assignmentView(a: { id?: string; name?: string; scope?: string; roleDefinitionId?: string; principalId?: string; description?: string }): RoleAssignmentView {
  return { id: str(a.id), name: str(a.name), scope: str(a.scope), roleDefinitionId: str(a.roleDefinitionId), principalId: str(a.principalId), ...(a.description ? { description: a.description } : {}) };
}
