// IAM and Resource Manager stand-ins driven by Google's own Node clients: service accounts, IAM
// policies (etag, version 3, conditions, concurrent writers), workload identity pools and providers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adc, bearer, clients, failure, type GoogleClients } from './clients.js';
import { startGcpStandins, type GcpStandins } from './standins.js';

const PROJECT = 'sandbox-project';
const NUMBER = '123456789012';

let s: GcpStandins;
let g: GoogleClients;
let clock = Date.parse('2026-12-07T12:00:00Z');

beforeAll(async () => {
  s = await startGcpStandins({ now: () => clock });
  g = clients(s, await adc(s, s.adminCredentials()));
});
afterAll(async () => {
  await s?.close();
});

async function createAccount(accountId: string): Promise<string> {
  const r = await g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId, serviceAccount: { displayName: 'RHACS' } } });
  return r.data.email!;
}

describe('service accounts', () => {
  it('creates one, and finds it by email and by unique id; a second create is 409', async () => {
    const email = await createAccount('rhacs-central');
    expect(email).toBe(`rhacs-central@${PROJECT}.iam.gserviceaccount.com`);
    const byEmail = await g.iam.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${email}` });
    const byId = await g.iam.projects.serviceAccounts.get({ name: `projects/${PROJECT}/serviceAccounts/${byEmail.data.uniqueId}` });
    expect(byId.data.email).toBe(email);
    const again = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'rhacs-central' } }));
    expect(again).toMatchObject({ status: 409, error: { status: 'ALREADY_EXISTS' } });
    const list = await g.iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` });
    expect(list.data.accounts?.map((a) => a.email)).toContain(email);
  });

  it.each([
    ['short', 'too short (5)'],
    ['a'.repeat(31), 'too long (31)'],
    ['1rhacs-central', 'starts with a digit'],
    ['rhacs-central-', 'ends with a hyphen'],
    ['rhacs_central', 'has an underscore'],
    ['Rhacs-central', 'has a capital'],
  ])('refuses the account id %j (%s)', async (accountId) => {
    const r = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId } }));
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('accepts the id limits: 6 and 30 characters', async () => {
    await createAccount('abcdef');
    await createAccount(`a${'b'.repeat(28)}c`);
  });

  it('refuses an unknown field in the body as Google does', async () => {
    const r = await failure(g.iam.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'unknown-field', serviceAccount: { displayName: 'x', labels: { a: 'b' } } as never } }));
    expect(r.status).toBe(400);
    expect(r.error.message).toMatch(/^Invalid JSON payload received\. Unknown name "labels" at 'serviceAccount': Cannot find field\.$/);
  });

  it('refuses a call without a token the stand-ins issued (401)', async () => {
    const r = await failure(clients(s, bearer(s, 'ya29.forged')).iam.projects.serviceAccounts.list({ name: `projects/${PROJECT}` }));
    expect(r).toMatchObject({ status: 401, error: { status: 'UNAUTHENTICATED' } });
  });
});
