// An IAM OIDC provider that someone else creates between init's read and its write: moto has no
// concurrent creator, so a proxy on 127.0.0.1 in front of the sandbox's AWS endpoint creates the
// provider (untagged, with another audience) just before it forwards init's
// CreateOpenIDConnectProvider. The write re-checks ownership: refused without
// --adopt-oidc-provider, nothing tagged; with it, the provider is adopted (never deleted later).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateOpenIDConnectProviderCommand, GetOpenIDConnectProviderCommand, ListOpenIDConnectProviderTagsCommand, type IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor, resetAws } from '../sandbox/observe.js';
import { iamClient } from './verify-support.js';

const sb = useSandbox();
const issuer = sb.clusters.eks!.issuer;
const providerArn = `arn:aws:iam::${sb.accountId}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;
let iam: IAMClient;
let proxyUrl: string;
let server: http.Server;
/** Actions forwarded, in order. */
const forwarded: string[] = [];

beforeAll(async () => {
  iam = iamClient(sb);
  const upstream = new URL(sb.awsEndpoint);
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const action = new URLSearchParams(body.toString()).get('Action') ?? '';
      forwarded.push(action);
      if (action === 'CreateOpenIDConnectProvider') {
        // Someone else's provider for the same issuer, created a moment before ours would be.
        await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['someone-elses-app'] })).catch(() => undefined);
      }
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.writeHead(502).end());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(async () => {
  await resetAws(sb);
  forwarded.length = 0;
});

async function providerNow(): Promise<{ clientIds: string[]; ourTags: string[] }> {
  const p = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
  const tags = await iam.send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: providerArn }));
  return { clientIds: p.ClientIDList ?? [], ourTags: (tags.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).filter((t) => t.startsWith('rhacs-sts/')).sort() };
}

describe('an OIDC provider that appears between the read and the write', () => {
  it('is refused without --adopt-oidc-provider, and nothing is added to it', async () => {
    const ns = uniqueNamespace('race-oidc');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const r = await cli(sb, 'eks', ['init', '--yes', '--namespace', ns, '--role-name', 'rhacs-race'], { AWS_ENDPOINT_URL: proxyUrl });
    expect(forwarded).toContain('CreateOpenIDConnectProvider');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/The OIDC provider .* exists and was not created by rhacs-sts/);
    expect(r.stderr).toMatch(/--adopt-oidc-provider/);
    expect(forwarded).not.toContain('AddClientIDToOpenIDConnectProvider');
    expect(forwarded).not.toContain('TagOpenIDConnectProvider');
    expect(await providerNow()).toEqual({ clientIds: ['someone-elses-app'], ourTags: [] });
  });

  it('with --adopt-oidc-provider, is adopted: our audience added, marked adopted, so uninstall gives it back', async () => {
    const ns = uniqueNamespace('race-adopt');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests' });
    const r = await cli(sb, 'eks', ['init', '--yes', '--adopt-oidc-provider', '--no-restart', '--namespace', ns, '--role-name', 'rhacs-race'], { AWS_ENDPOINT_URL: proxyUrl });
    expect(r.code, r.stderr).toBe(0);
    const now = await providerNow();
    expect(now.clientIds).toEqual(['someone-elses-app', 'sts.amazonaws.com']);
    expect(now.ourTags).toEqual(expect.arrayContaining(['rhacs-sts/adopted=true', 'rhacs-sts/added-client-ids=sts.amazonaws.com', 'rhacs-sts/managed=true']));
  });
});
