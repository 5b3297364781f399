// The Azure stand-ins, started together: Entra ID (entra.ts), ARM (arm.ts), ACR (acr.ts) and the
// workload identity webhook (webhook.ts), each an HTTPS server on 127.0.0.1 with a certificate from
// the sandbox's own CA (the Azure SDKs refuse bearer tokens over plain HTTP, MSAL a non-HTTPS
// authority). Clients trust the CA through an https.Agent (`agent`, accepted by every Azure client's
// options) or NODE_EXTRA_CA_CERTS (`caCertPath`) in a child process.
//
// How a client reaches them:
//   - @azure/identity: authorityHost = `authorityHost` (or AZURE_AUTHORITY_HOST), with
//     `disableInstanceDiscovery: true` (MSAL's instance discovery goes to the public cloud's host
//     whatever the authority; /common/discovery/instance is served too, for clients that reach the
//     real host name through the sandbox);
//   - ARM clients: endpoint = `armUrl`, credentialScopes = [`<cloud's ARM resource>/.default`] (the
//     clients otherwise ask for `<endpoint>/.default`, which no tenant knows);
//   - ACR: by host name (`<registry>.azurecr.io`) through `acrConnectTo` (curl's --connect-to form) or
//     in-process with `acrFetch`.
// Tests turn knobs (`knobs.principalPropagationMs`, `knobs.ficWriteHold`, `advance(ms)` on the
// virtual clock), seed what Azure would already hold (`seed.*`) and read the observation log: every
// request with its operation id and the decision (allowed or not, why, the error code).
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createCa, issueCert } from '../certs.js';
import { AcrStandin } from './acr.js';
import { ArmStandin, RESOURCE_TYPES } from './arm.js';
import { ContractBreach } from './contract.js';
import { EntraStandin, type PublicFetch } from './entra.js';
import { ROLE } from './roles.js';
import { mutatingWebhookConfiguration, startWebhookServer, type ServiceAccountView, type MutationResult } from './webhook.js';
import type { AzReply, AzRequest } from './wire.js';
import { CLOUDS, World, type CloudHosts, type Knobs, type ObservedRequest } from './world.js';

export type { ObservedRequest } from './world.js';

export interface AzureStandinsOptions {
  /** Where the CA and serving certificate go (a new temporary directory by default). */
  certDir?: string;
  tenantId?: string;
  subscriptionId?: string;
  /** Which cloud's host names tokens and registries carry. */
  cloud?: keyof typeof CLOUDS;
  knobs?: Partial<Knobs>;
  /** Base clock in ms (Date.now by default); `advance()` moves the stand-ins' time on from it. */
  clock?: () => number;
  /** How Entra reaches issuers' public URLs (the sandbox's public web stand-in's fetchPublic). */
  fetchPublic?: PublicFetch;
  /** How the webhook reads service accounts (none known by default). */
  serviceAccount?: (namespace: string, name: string) => Promise<ServiceAccountView | undefined> | ServiceAccountView | undefined;
}

export interface AzureStandins {
  tenantId: string;
  subscriptionId: string;
  cloud: CloudHosts;
  /** https://127.0.0.1:PORT — use as authorityHost / AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  /** https://127.0.0.1:PORT — the ARM clients' endpoint. */
  armUrl: string;
  /** `[<ARM resource>/.default]` — the ARM clients' credentialScopes. */
  armScopes: string[];
  /** https://127.0.0.1:PORT — every registry's server (routed by Host). */
  acrUrl: string;
  /** `<registry host>:443:127.0.0.1:PORT,…` for the seeded registries. */
  acrConnectTo(): string;
  /** The workload identity webhook's base URL. */
  webhookUrl: string;
  caCertPath: string;
  ca: Buffer;
  /** Trusts the stand-ins' CA: pass as `agent` to the Azure clients. */
  agent: https.Agent;
  /** The sandbox's administrator app (Owner on the subscription), for EnvironmentCredential. */
  admin: { clientId: string; clientSecret: string; principalId: string };
  /** The variables EnvironmentCredential reads, for the administrator. */
  adminEnv: Record<string, string>;
  knobs: Knobs;
  /** Moves the stand-ins' clock on. */
  advance(ms: number): void;
  now(): number;
  seed: {
    resourceGroup(name: string, location?: string): string;
    managedCluster(o: { resourceGroup: string; name: string; issuerURL: string; oidcIssuer?: boolean; workloadIdentity?: boolean; location?: string }): string;
    registry(o: { resourceGroup: string; name: string; repositories?: Record<string, string[]>; location?: string }): { id: string; loginServer: string };
    /** Another app in the directory, with a secret and optional roles. */
    app(o: { name: string; roles?: { role: keyof typeof ROLE | string; scope: string }[] }): { clientId: string; clientSecret: string; principalId: string };
    /** A role assignment made out of band (by someone else). */
    roleAssignment(o: { principalId: string; role: keyof typeof ROLE | string; scope: string; name?: string }): string;
  };
  /** Observed requests with seq > since. */
  requests(since?: number): ObservedRequest[];
  mark(): number;
  /** Stand-in answers that broke their contract (each also answered 500); close() fails if any. */
  breaches(): string[];
  /** GET/POST a registry URL (`https://<name>.azurecr.io/…`) in-process. */
  acrFetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  webhookConfiguration(): Record<string, unknown>;
  webhookDecisions(): { uid: string; mutated: boolean; reason: string }[];
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

async function serve(cert: Buffer, key: Buffer, handle: (req: AzRequest) => Promise<AzReply>, onBreach: (msg: string) => void): Promise<{ server: https.Server; url: string; port: number }> {
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      // The ARM clients join `/{scope}` after the endpoint, so a scope's own slash doubles: ARM takes it.
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const azReq: AzRequest = { method: req.method ?? 'GET', url: new URL(`https://${host || '127.0.0.1'}${(req.url ?? '/').replace(/^\/{2,}/, '/')}`), host, headers: req.headers, body: Buffer.concat(chunks) };
      handle(azReq).then(
        (r) => {
          res.writeHead(r.status, r.headers ?? {});
          res.end(r.body ?? '');
        },
        (err: Error) => {
          const msg = err instanceof ContractBreach ? err.message : `stand-in failure: ${err.stack ?? err.message}`;
          onBreach(msg);
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'StandinContractBreach', message: msg } }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return { server, url: `https://127.0.0.1:${port}`, port };
}

export async function startAzureStandins(options: AzureStandinsOptions = {}): Promise<AzureStandins> {
  const world = new World({ tenantId: options.tenantId, subscriptionId: options.subscriptionId, cloud: options.cloud, knobs: options.knobs, clock: options.clock });
  const ownDir = options.certDir === undefined;
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'rhacs-sts-azure-'));
  const caPair = createCa(join(certDir, 'azure-ca'), 'rhacs-sts sandbox Azure CA');
  const sans = ['IP:127.0.0.1', 'DNS:localhost', ...Object.values(CLOUDS).flatMap((c) => [`DNS:*.${c.acrSuffix}`, `DNS:${new URL(c.authorityHost).hostname}`, `DNS:${new URL(c.armResource).hostname}`])];
  const leaf = issueCert(caPair, certDir, 'azure-standins', { cn: 'rhacs-sts Azure stand-ins', usage: 'server', sans });
  const ca = readFileSync(caPair.cert);
  const cert = readFileSync(leaf.cert);
  const key = readFileSync(leaf.key);
  const agent = new https.Agent({ ca, keepAlive: false });
  const breaches: string[] = [];
  const onBreach = (m: string) => breaches.push(m);

  const noWeb: PublicFetch = (url) => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${new URL(url).hostname}`), { code: 'ENOTFOUND' }));
  let loginUrl = '';
  const entra = new EntraStandin(world, () => loginUrl, options.fetchPublic ?? noWeb);
  const arm = new ArmStandin(world);
  const acr = new AcrStandin(world);
  const login = await serve(cert, key, (r) => entra.handle(r), onBreach);
  loginUrl = login.url;
  const armSrv = await serve(cert, key, (r) => arm.handle(r), onBreach);
  const acrSrv = await serve(cert, key, (r) => acr.handle(r), onBreach);
  const decisions: { uid: string; mutated: boolean; reason: string }[] = [];
  const webhook = await startWebhookServer({
    cert,
    key,
    tenantId: world.tenantId,
    authorityHost: `${world.cloud.authorityHost}/`,
    serviceAccount: options.serviceAccount ?? (() => undefined),
    onDecision: (r: MutationResult, status) => {
      const uid = r.review.response?.uid ?? '';
      decisions.push({ uid, mutated: r.mutated, reason: r.reason });
      world.observe({ service: 'webhook', method: 'POST', path: '/mutate-v1-pod', operationId: 'MutatePod', status, decision: { allowed: r.review.response?.allowed ?? false, reason: r.reason } });
    },
  });

  const sub = world.subscriptionId;
  const rgId = (rg: string) => `/subscriptions/${sub}/resourceGroups/${rg}`;
  const roleId = (role: string) => {
    const guid = ROLE[role] ?? role;
    return `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
  };
  const assign = (o: { principalId: string; role: string; scope: string; name?: string }): string => {
    const name = o.name ?? randomUUID();
    const id = `${o.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    world.roleAssignments.set(id.toLowerCase(), { id, name, scope: o.scope, roleDefinitionId: roleId(o.role), principalId: o.principalId.toLowerCase(), principalType: 'ServicePrincipal', createdOn: new Date(world.now()).toISOString(), createdBy: 'sandbox-seed' });
    return id;
  };
  const addApp = (o: { name: string; roles?: { role: string; scope: string }[] }) => {
    const app = { clientId: randomUUID(), principalId: randomUUID(), displayName: o.name, secret: `secret-${randomUUID()}` };
    world.apps.set(app.clientId, app);
    for (const r of o.roles ?? []) assign({ principalId: app.principalId, role: r.role, scope: r.scope });
    return { clientId: app.clientId, clientSecret: app.secret, principalId: app.principalId };
  };
  const admin = addApp({ name: 'rhacs-sts-sandbox-admin', roles: [{ role: 'Owner', scope: `/subscriptions/${sub}` }] });

  const acrFetch: AzureStandins['acrFetch'] = (target, init = {}) => {
    const u = new URL(target);
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: acrSrv.port, servername: u.hostname, method: init.method ?? 'GET', path: `${u.pathname}${u.search}`, headers: { host: u.hostname, ...init.headers }, ca, timeout: 5000, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout fetching ${target}`)));
      req.on('error', reject);
      req.end(init.body);
    });
  };

  return {
    tenantId: world.tenantId,
    subscriptionId: sub,
    cloud: world.cloud,
    authorityHost: login.url,
    armUrl: armSrv.url,
    armScopes: [`${world.cloud.armResource}/.default`],
    acrUrl: acrSrv.url,
    acrConnectTo: () => [...world.registries.values()].map((r) => `${r.loginServer}:443:127.0.0.1:${acrSrv.port}`).join(','),
    webhookUrl: webhook.url,
    caCertPath: caPair.cert,
    ca,
    agent,
    admin,
    adminEnv: { AZURE_TENANT_ID: world.tenantId, AZURE_CLIENT_ID: admin.clientId, AZURE_CLIENT_SECRET: admin.clientSecret, AZURE_AUTHORITY_HOST: login.url },
    knobs: world.knobs,
    advance: (ms) => world.advance(ms),
    now: () => world.now(),
    seed: {
      resourceGroup: (name, location = 'eastus') => {
        world.resourceGroups.set(name.toLowerCase(), { name, location, tags: {} });
        return rgId(name);
      },
      managedCluster: (o) => {
        const id = `${rgId(o.resourceGroup)}/providers/${RESOURCE_TYPES.cluster}/${o.name}`;
        const oidc = o.oidcIssuer ?? true;
        world.clusters.set(id.toLowerCase(), {
          id,
          name: o.name,
          type: RESOURCE_TYPES.cluster,
          location: o.location ?? 'eastus',
          properties: {
            provisioningState: 'Succeeded',
            kubernetesVersion: '1.33.2',
            dnsPrefix: o.name,
            fqdn: `${o.name}-dns.hcp.${o.location ?? 'eastus'}.azmk8s.io`,
            oidcIssuerProfile: oidc ? { enabled: true, issuerURL: o.issuerURL } : { enabled: false },
            securityProfile: { workloadIdentity: { enabled: o.workloadIdentity ?? true } },
          },
        });
        return id;
      },
      registry: (o) => {
        const id = `${rgId(o.resourceGroup)}/providers/${RESOURCE_TYPES.registry}/${o.name}`;
        const loginServer = `${o.name.toLowerCase()}.${world.cloud.acrSuffix}`;
        world.registries.set(id.toLowerCase(), { id, name: o.name, resourceGroup: o.resourceGroup, location: o.location ?? 'eastus', loginServer, repositories: new Map(Object.entries(o.repositories ?? {})) });
        return { id, loginServer };
      },
      app: addApp,
      roleAssignment: assign,
    },
    requests: (since = 0) => world.log.filter((r) => r.seq > since),
    mark: () => world.mark(),
    breaches: () => [...breaches],
    acrFetch,
    webhookConfiguration: () => mutatingWebhookConfiguration({ url: webhook.url, caBundle: ca.toString('base64') }),
    webhookDecisions: () => [...decisions],
    close: async () => {
      agent.destroy();
      await Promise.all([login, armSrv, acrSrv].map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))));
      await webhook.close();
      if (ownDir) rmSync(certDir, { recursive: true, force: true });
      if (breaches.length) throw new ContractBreach(`Azure stand-ins broke their contract:\n${breaches.join('\n')}`);
    },
  };
}
