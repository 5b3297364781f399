// The Central API stand-in (test/sandbox/central/central-standin.ts) holds rhacs-sts to Central's published
// contract: it is reached by port-forward through the real kube-apiserver, authenticates as Central
// does, validates every body against StackRox's swagger, and its /test takes Central's pod identity
// through the real TokenRequest API, the AWS gate's STS and ECR, so a broken chain fails there.
import { beforeAll, describe, expect, it } from 'vitest';
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { centralRequest, centralToken, centralIntegrations, centralMark, centralRequests } from '../sandbox/central/central-control.js';
import { cli, iamClient } from './verify-support.js';

const sb = useSandbox();
const kc = () => kubeConfigFor(sb, 'eks');
const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const ecr = (name: string, extra: Record<string, unknown> = {}) => ({
  name, type: 'ecr', categories: ['REGISTRY'],
  ecr: { registryId: sb.accountId, region: 'eu-west-1', useIam: true, ...extra },
});

let ns: string;
let password: string;
beforeAll(async () => {
  ns = uniqueNamespace('central-standin');
  const seeded = await seedRhacs(kc(), { namespace: ns, method: 'operator', components: ['central'] });
  password = seeded.adminPassword!;
});

describe('reaching Central', () => {
  it('answers through a port-forward to its pod, with its own certificate, the version of its image', async () => {
    const r = await centralRequest(kc(), ns, 'GET', '/v1/metadata', { headers: { authorization: basic(password) } });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ version: '4.7.2', licenseStatus: 'VALID' });
    const caps = await centralRequest(kc(), ns, 'GET', '/v1/central-capabilities', { headers: { authorization: basic(password) } });
    expect(caps.json().centralScanningCanUseContainerIamRoleForEcr).toBe('CapabilityAvailable');
  });

  it('reports the container IAM role unavailable on a managed Central', async () => {
    const managed = uniqueNamespace('central-managed');
    const s = await seedRhacs(kc(), { namespace: managed, method: 'helm', components: ['central'], managedCentral: true });
    const caps = await centralRequest(kc(), managed, 'GET', '/v1/central-capabilities', { headers: { authorization: basic(s.adminPassword!) } });
    expect(caps.status).toBe(200);
    expect(caps.json().centralScanningCanUseContainerIamRoleForEcr).toBe('CapabilityDisabled');
  });
});

describe('authentication', () => {
  it('takes a bearer token or the admin password, never both, never none, never a wrong one', async () => {
    const token = await centralToken(sb, 'eks', ns);
    const get = (headers: Record<string, string | string[]>) => centralRequest(kc(), ns, 'GET', '/v1/imageintegrations', { headers });
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get({ authorization: basic(password) })).status).toBe(200);
    const both = await get({ authorization: [`Bearer ${token}`, basic(password)] });
    expect(both.status).toBe(401);
    expect(both.json()).toMatchObject({ code: 16 });
    expect((await get({})).status).toBe(401);
    expect((await get({ authorization: basic('not-the-password') })).status).toBe(401);
    expect((await get({ authorization: 'Bearer not-a-token' })).status).toBe(401);
  });

  it('refuses a write with a read-only token (403)', async () => {
    const analyst = await centralToken(sb, 'eks', ns, 'Analyst');
    const r = await centralRequest(kc(), ns, 'POST', '/v1/imageintegrations/test', { body: ecr('ro'), headers: { authorization: `Bearer ${analyst}` } });
    expect(r.status).toBe(403);
    expect(r.json().code).toBe(7);
  });
});

describe('the contract', () => {
  it('refuses unknown fields and wrong types, naming them (400, InvalidArgument)', async () => {
    const h = { authorization: basic(password) };
    const unknown = await centralRequest(kc(), ns, 'POST', '/v1/imageintegrations', { body: { ...ecr('x'), ecr: { registryId: '1', region: 'eu-west-1', useIAM: true } }, headers: h });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 3, message: expect.stringContaining('unknown field "useIAM"') });
    const wrongType = await centralRequest(kc(), ns, 'POST', '/v1/imageintegrations', { body: { ...ecr('x'), ecr: { registryId: 1, region: 'eu-west-1', useIam: 'yes' } }, headers: h });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json().message).toMatch(/string field ecr\.registryId.*bool field ecr\.useIam/);
    const badEnum = await centralRequest(kc(), ns, 'POST', '/v1/imageintegrations', { body: { ...ecr('x'), categories: ['REGISTRIES'] }, headers: h });
    expect(badEnum.status).toBe(400);
    // The PUT body has no id (it is in the path).
    const put = await centralRequest(kc(), ns, 'PUT', '/v1/imageintegrations/abc', { body: { ...ecr('x'), id: 'abc' }, headers: h });
    expect(put.json().message).toContain('unknown field "id"');
    expect(await centralIntegrations(sb, 'eks', ns)).toEqual([]);
  });

  it("applies Central's ECR validation before testing", async () => {
    const r = await centralRequest(kc(), ns, 'POST', '/v1/imageintegrations/test', {
      body: { name: 'v', type: 'ecr', categories: ['REGISTRY'], ecr: { useAssumeRole: true } }, headers: { authorization: basic(password) },
    });
    expect(r.status).toBe(400);
    expect(r.json().message).toContain('[Registry ID must be specified], [Access Key ID must be specified if not using IAM]');
    expect(r.json().message).toContain('[AssumeRole ID must be set to use AssumeRole], [Region must be specified]');
  });
});

describe("Central's test of an ECR integration with the container IAM role", () => {
  it('fails without the wiring, passes once init wired the role, and fails again when the trust is broken', async () => {
    const t = uniqueNamespace('central-test');
    const seeded = await seedRhacs(kc(), { namespace: t, method: 'helm', components: ['central'] });
    const h = { authorization: basic(seeded.adminPassword!) };
    const test = () => centralRequest(kc(), t, 'POST', '/v1/imageintegrations/test', { body: ecr('prove'), headers: h });

    const before = await test();
    expect(before.status).toBe(400);
    expect(before.json().message).toContain('no EC2 IMDS role found');

    const role = `cst-${t.slice(-6)}`;
    const init = await cli(sb, 'eks', ['init', '--yes', '--namespace', t, '--role-name', role]);
    expect(init.code, init.stderr).toBe(0);
    const m = await centralMark(sb);
    const ok = await test();
    expect(ok.status, ok.body).toBe(200);
    expect((await centralRequests(sb, m, t)).map((r) => [r.method, r.path, r.auth, r.status])).toEqual([['POST', '/v1/imageintegrations/test', 'basic', 200]]);

    const iam = iamClient(sb);
    const hp = sb.clusters.eks!.issuer.replace(/^https:\/\//, '');
    await iam.send(new UpdateAssumeRolePolicyCommand({
      RoleName: role,
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${sb.accountId}:oidc-provider/${hp}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${hp}:sub`]: `system:serviceaccount:${t}:someone-else` } } }] }),
    }));
    const broken = await test();
    expect(broken.status).toBe(400);
    expect(broken.json().message).toMatch(/operation error STS: AssumeRoleWithWebIdentity, .*api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity/);
  });
});
