// Issuers AWS can use, through the built binary against the sandbox. Before any IAM write, init and
// plan fetch the issuer's discovery document and keys from its public URL, as STS will (here from
// the public issuer stand-in, reached with RHACS_STS_CONNECT_TO and the stand-in's root CA, exactly
// as the internet would be): a reachable, correct issuer passes and gives the thumbprint of the
// jwks_uri host's intermediate CA; an unreachable one is a warning; a wrong one stops the run with
// nothing written. --oidc-issuer must be the issuer the cluster's tokens carry.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetOpenIDConnectProviderCommand, type IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueCert } from '../sandbox/certs.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests, publicMark, publicRequests, resetAws } from '../sandbox/observe.js';
import { checksOf, cli, iamClient, type Cluster } from './verify-support.js';

const sb = useSandbox();
let iam: IAMClient;
let dir: string;
beforeAll(() => {
  iam = iamClient(sb);
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-issuer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Each test starts without OIDC providers (the clusters' issuers are shared by the whole suite).
beforeEach(() => resetAws(sb));

const issuerOf = (c: Cluster) => new URL(sb.clusters[c]!.issuer);
const providerArn = (c: Cluster) => `arn:aws:iam::${sb.accountId}:oidc-provider/${sb.clusters[c]!.issuer.replace(/^https:\/\//, '')}`;
/** The thumbprint IAM defines: SHA-1 of the top intermediate CA in the chain of the connection that served the keys (the stand-in sends leaf + intermediate; the root comes from the trusted CAs). */
const intermediateThumbprint = () =>
  createHash('sha1').update(new X509Certificate(readFileSync(join(sb.certDir, 'public-intermediate.crt'))).raw).digest('hex');

async function seeded(cluster: Cluster, name: string): Promise<string> {
  const ns = uniqueNamespace(name);
  await seedRhacs(kubeConfigFor(sb, cluster), { namespace: ns, method: 'manifests', openshift: cluster === 'openshift' });
  return ns;
}

async function marks() {
  return { aws: await awsMark(sb), eks: kubeMark(sb, 'eks'), openshift: kubeMark(sb, 'openshift') };
}

async function writesSince(m: Awaited<ReturnType<typeof marks>>) {
  const kube = [...(await kubeRequests(sb, 'eks', m.eks, { writesOnly: true })), ...(await kubeRequests(sb, 'openshift', m.openshift, { writesOnly: true }))];
  return { aws: (await awsWrites(sb, m.aws)).map((r) => r.action), kube: kube.map((r) => `${r.verb} ${r.resource}/${r.name}`) };
}

const oidcAction = (planJson: string) =>
  (JSON.parse(planJson) as { actions: { type: string; status: string; desired?: { thumbprints?: string[] } }[] }).actions.find((a) => a.type === 'oidc-provider')!;

/** A port nothing listens on: connecting there is refused at once. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * An HTTPS server that answers for `host` as a misconfigured publisher would: `docs` by path. Its
 * certificate is from the sandbox's public root, so only the content is wrong.
 */
async function impostor(host: string, docs: Record<string, { status: number; body: unknown }>): Promise<{ port: number; close: () => Promise<void> }> {
  const root = { cert: sb.publicIssuers.caCertPath, key: join(dirname(sb.publicIssuers.caCertPath), 'ca.key') };
  const leaf = issueCert(root, dir, `impostor-${Object.keys(docs).length}-${Date.now()}`, { cn: host, usage: 'server', sans: [`DNS:${host}`] });
  const server = https.createServer({ key: readFileSync(leaf.key), cert: readFileSync(leaf.cert) }, (req, res) => {
    const d = docs[new URL(req.url ?? '/', 'https://x').pathname] ?? { status: 404, body: { message: 'Not Found' } };
    res.writeHead(d.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(d.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

describe('the issuer as AWS will fetch it, before any IAM write', () => {
  it('plan fetches the discovery document and keys from the issuer\'s public URLs; init creates the provider with the jwks_uri host\'s intermediate CA thumbprint', async () => {
    const ns = await seeded('eks', 'iss-ok');
    const issuer = issuerOf('eks');
    const p0 = await publicMark(sb);
    const plan = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'iss-ok', '--output', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).not.toMatch(/could not be reached|thumbprint/i);
    // Exactly the URLs STS fetches: <issuer>/.well-known/openid-configuration, then its jwks_uri.
    expect((await publicRequests(sb, p0)).map((r) => `${r.status} https://${r.host}${r.path}`)).toEqual([
      `200 ${issuer.href}/.well-known/openid-configuration`,
      `200 ${sb.clusters.eks!.jwksUri}`,
    ]);
    expect(oidcAction(plan.stdout)).toMatchObject({ status: 'create', desired: { thumbprints: [intermediateThumbprint()] } });

    const init = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'iss-ok', '--no-restart']);
    expect(init.code, init.stderr).toBe(0);
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn('eks') }));
    expect(provider.ThumbprintList).toEqual([intermediateThumbprint()]);
  });

  it('an issuer that cannot be reached from here is a warning: init goes on, creating the provider without a thumbprint', async () => {
    const ns = await seeded('eks', 'iss-far');
    const env = { RHACS_STS_CONNECT_TO: `${issuerOf('eks').hostname}:443:127.0.0.1:${await closedPort()}` };
    const plan = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'iss-far', '--output', 'json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(new RegExp(`warning: ${sb.clusters.eks!.issuer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/\\.well-known/openid-configuration could not be reached from here \\(ECONNREFUSED\\)\\. That is expected on a private network; AWS must reach it from the internet\\.`));
    expect(oidcAction(plan.stdout)).toMatchObject({ status: 'create', desired: { thumbprints: [] } });

    const init = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'iss-far', '--no-restart'], env);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toMatch(/could not be reached from here \(ECONNREFUSED\)/);
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn('eks') }));
    expect(provider.ThumbprintList ?? []).toEqual([]);
  });

  const eksIssuer = () => sb.clusters.eks!.issuer;
  const path = (p: string) => `${issuerOf('eks').pathname}${p}`;
  it.each([
    ['the discovery document names another issuer', () => ({
      [path('/.well-known/openid-configuration')]: { status: 200, body: { issuer: 'https://oidc.example.com/id/OTHER', jwks_uri: `${eksIssuer()}/keys` } },
      [path('/keys')]: { status: 200, body: { keys: [{ kty: 'RSA', kid: 'k' }] } },
    }), () => new RegExp(`The public discovery document names the issuer https://oidc\\.example\\.com/id/OTHER, not ${eksIssuer().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: AWS rejects the tokens`)],
    ['the key set has no keys', () => ({
      [path('/.well-known/openid-configuration')]: { status: 200, body: { issuer: eksIssuer(), jwks_uri: `${eksIssuer()}/keys` } },
      [path('/keys')]: { status: 200, body: { keys: [] } },
    }), () => /The public JWKS https:\/\/\S+\/keys has no keys: AWS cannot verify any token/],
    ['the jwks_uri is not https', () => ({
      [path('/.well-known/openid-configuration')]: { status: 200, body: { issuer: eksIssuer(), jwks_uri: `http://${issuerOf('eks').hostname}${path('/keys')}` } },
    }), () => /its jwks_uri http:\/\/\S+ is not https \(AWS fetches keys over HTTPS only\)/],
    ['nothing is published at the issuer URL', () => ({}), () => /answered HTTP 404/],
  ])('refuses an issuer that answers wrongly (%s): exit 1, nothing written anywhere', async (_what, docs, message) => {
    const ns = await seeded('eks', 'iss-bad');
    const server = await impostor(issuerOf('eks').hostname, docs());
    try {
      const m = await marks();
      const r = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'iss-bad'], { RHACS_STS_CONNECT_TO: `${issuerOf('eks').hostname}:443:127.0.0.1:${server.port}` });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: AWS cannot use the issuer, so nothing was changed:/m);
      expect(r.stderr).toMatch(message());
      expect(r.stderr).toMatch(/hint: EKS serves the issuer itself/);
      expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
    } finally {
      await server.close();
    }
  });

  it('verify reads the same public URLs: pass in the sandbox, a warning when they cannot be reached', async () => {
    const ns = await seeded('eks', 'iss-verify');
    const init = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'iss-verify']);
    expect(init.code, init.stderr).toBe(0);
    const row = async (env: Record<string, string> = {}) => {
      const r = await cli(sb, 'eks', ['verify', '--namespace', ns, '--role-name', 'iss-verify', '--skip-exchange', '--output', 'json'], env);
      return checksOf(r.stdout).find((c) => c.check === 'Issuer discovery (public URL)')!;
    };
    expect(await row()).toMatchObject({ result: 'pass', detail: `${sb.clusters.eks!.issuer}/.well-known/openid-configuration names the issuer; the public JWKS has 1 key, including every key the cluster serves.` });
    expect(await row({ RHACS_STS_CONNECT_TO: `${issuerOf('eks').hostname}:443:127.0.0.1:${await closedPort()}` }))
      .toMatchObject({ result: 'warn', detail: expect.stringMatching(/could not be reached from here \(ECONNREFUSED\)/) });
  });
});

describe('--oidc-issuer must be the issuer the cluster\'s tokens carry', () => {
  it('EKS: another issuer is refused, exit 2 naming --oidc-issuer, nothing written', async () => {
    const ns = await seeded('eks', 'iss-flag');
    const other = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
    const m = await marks();
    const r = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'iss-flag', '--oidc-issuer', other]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--oidc-issuer: is ${other}, but the tokens of context "${sb.clusters.eks!.context}" carry the issuer ${sb.clusters.eks!.issuer} (the API server's /.well-known/openid-configuration)`);
    expect(r.stderr).toMatch(/hint: Drop --oidc-issuer/);
    expect(r.stdout).toBe('');
    expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
    // The issuer the tokens carry, given explicitly, is fine.
    const same = await cli(sb, 'eks', ['plan', '--namespace', ns, '--role-name', 'iss-flag', '--oidc-issuer', `${sb.clusters.eks!.issuer}/`]);
    expect(same.code, same.stderr).toBe(0);
  });

  it('OpenShift: a public issuer the tokens do not carry is refused, naming the real prerequisite', async () => {
    const ns = await seeded('openshift', 'iss-ocp');
    const m = await marks();
    const r = await cli(sb, 'openshift', ['plan', '--namespace', ns, '--role-name', 'iss-ocp', '--oidc-issuer', 'https://another-bucket.s3.eu-west-1.amazonaws.com']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--oidc-issuer: is https:\/\/another-bucket\.s3\.eu-west-1\.amazonaws\.com, but the tokens of context ".*" carry the issuer https:\/\/rhacs-sts-oidc\.s3\.eu-west-1\.amazonaws\.com/);
    expect(r.stderr).toMatch(/hint: .*rhacs-sts issuer publish --set-cluster-issuer.*spec\.serviceAccountIssuer on authentications\.config\.openshift\.io\/cluster.*ccoctl aws create-identity-provider/);
    expect(await writesSince(m)).toEqual({ aws: [], kube: [] });
  });
});
