// The contract itself: Google's discovery documents, and the generic validator the stand-ins use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOOGLE_APIS, loadContract } from './discovery.js';
import { GoogleError } from './google-error.js';

function refusal(f: () => unknown): GoogleError {
  try {
    f();
  } catch (err) {
    if (err instanceof GoogleError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('discovery documents', () => {
  it('loads every document the stand-ins are held to', () => {
    for (const api of GOOGLE_APIS) expect(loadContract(api).methods.size).toBeGreaterThan(0);
  });

  it('fails loudly when the documents are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-venv-'));
    try {
      expect(() => loadContract('iam.v1', empty)).toThrow(/discovery documents are missing.*provision\.sh/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('routes by HTTP method and path template', () => {
    const iam = loadContract('iam.v1');
    expect(iam.route('POST', '/v1/projects/p/serviceAccounts/a@p.iam.gserviceaccount.com:setIamPolicy')?.id).toBe('iam.projects.serviceAccounts.setIamPolicy');
    expect(iam.route('GET', '/v1/projects/p/serviceAccounts/a@p.iam.gserviceaccount.com')?.id).toBe('iam.projects.serviceAccounts.get');
    expect(iam.route('PUT', '/v1/projects/p/serviceAccounts/a@p.iam.gserviceaccount.com')?.id).toBe('iam.projects.serviceAccounts.update');
    expect(iam.route('GET', '/v1/projects/p/nothing')).toBeUndefined();
  });

  it('checks query parameters: type, repeated, unknown', () => {
    const iam = loadContract('iam.v1');
    const list = iam.method('iam.projects.locations.workloadIdentityPools.list');
    const path = '/v1/projects/p/locations/global/workloadIdentityPools';
    expect(iam.parameters(list, path, new URLSearchParams('pageSize=10&showDeleted=true'))).toMatchObject({ parent: 'projects/p/locations/global', pageSize: '10', showDeleted: 'true' });
    expect(refusal(() => iam.parameters(list, path, new URLSearchParams('showDeleted=yes'))).status).toBe('INVALID_ARGUMENT');
    expect(refusal(() => iam.parameters(list, path, new URLSearchParams('pageSize=1&pageSize=2'))).status).toBe('INVALID_ARGUMENT');
    expect(refusal(() => iam.parameters(list, path, new URLSearchParams('colour=blue'))).message).toContain('Unknown name "colour"');
  });

  it('checks bodies: types, enums, formats, nested unknown names', () => {
    const iam = loadContract('iam.v1');
    const create = iam.method('iam.projects.locations.workloadIdentityPools.create');
    expect(() => iam.checkRequest(create, { displayName: 'ok', disabled: false })).not.toThrow();
    expect(refusal(() => iam.checkRequest(create, { disabled: 'no' })).status).toBe('INVALID_ARGUMENT');
    expect(refusal(() => iam.checkRequest(create, { mode: 'EVERYTHING' })).message).toContain('must be one of');
    expect(refusal(() => iam.checkRequest(create, { expireTime: 'tomorrow' })).message).toContain('RFC 3339');
    const gat = loadContract('iamcredentials.v1').method('iamcredentials.projects.serviceAccounts.generateAccessToken');
    expect(refusal(() => loadContract('iamcredentials.v1').checkRequest(gat, { scope: ['x'], lifetime: '1h' })).message).toContain('duration');
    const set = iam.method('iam.projects.serviceAccounts.setIamPolicy');
    expect(refusal(() => iam.checkRequest(set, { policy: { bindings: [{ role: 'roles/x', members: ['user:a'], when: 'now' }] } })).message).toBe(
      'Invalid JSON payload received. Unknown name "when" at \'policy.bindings[0]\': Cannot find field.',
    );
  });

  it('treats an answer that breaks the response schema as a stand-in bug', () => {
    const iam = loadContract('iam.v1');
    const get = iam.method('iam.projects.serviceAccounts.get');
    expect(() => iam.checkResponse(get, { email: 'a@p.iam.gserviceaccount.com', disabled: false })).not.toThrow();
    expect(() => iam.checkResponse(get, { email: 7 })).toThrow(/^stand-in bug: the answer to iam\.projects\.serviceAccounts\.get breaks/);
    expect(() => iam.checkResponse(get, { emails: [] })).toThrow(/stand-in bug/);
  });
});
