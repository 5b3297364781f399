// IAM's service accounts (iam.v1 projects.serviceAccounts): create, get by email or unique id, list,
// delete (the account's grants become `deleted:serviceAccount:…?uid=…`), and their IAM policies.
import { randomBytes } from 'node:crypto';
import { GoogleError } from './google-error.js';
import { PolicyStore, type Policy } from './iam-policy.js';
import { iamPolicyRequest, str, type GcpWorld, type Handler, type ServiceAccount } from './world.js';

const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;

export function serviceAccountHandlers(w: GcpWorld): Record<string, Handler> {
  const { projects, accounts, repositories, now, project, accountKey, requirePermission } = w;
  const saBody = (a: ServiceAccount): Record<string, unknown> => ({
    name: `projects/${a.projectId}/serviceAccounts/${a.email}`,
    projectId: a.projectId,
    uniqueId: a.uniqueId,
    email: a.email,
    ...(a.displayName ? { displayName: a.displayName } : {}),
    ...(a.description ? { description: a.description } : {}),
    etag: 'MDEwMjE5MjA=',
    oauth2ClientId: a.uniqueId,
    ...(a.disabled ? { disabled: true } : {}),
  });
  /** `projects/P/serviceAccounts/EMAIL|UNIQUE_ID` (P may be `-`), as IAM resolves it. */
  const saByName = (name: string): ServiceAccount => {
    const [, p, ref] = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name) ?? [];
    const a = ref ? accountKey(ref) : undefined;
    if (!a || (p !== '-' && project(p!).projectId !== a.projectId)) throw new GoogleError('NOT_FOUND', `Unknown service account`);
    return a;
  };
  const rewriteDeletedMember = (a: ServiceAccount): void => {
    // What Google shows for a deleted account's grants: `deleted:serviceAccount:EMAIL?uid=ID`.
    const member = `serviceAccount:${a.email}`;
    const stores = [...projects.values()].map((p) => p.policy).concat([...accounts.values()].map((x) => x.policy), [...repositories.values()].map((r) => r.policy));
    for (const s of stores) {
      const p = s.read(3);
      if (!p.bindings?.some((b) => b.members.includes(member))) continue;
      s.write({ version: 3, etag: p.etag, bindings: p.bindings.map((b) => ({ ...b, members: b.members.map((m) => (m === member ? `deleted:${member}?uid=${a.uniqueId}` : m)) })) });
    }
  };

  return {
    'iam.projects.serviceAccounts.create': ({ params, body, caller }) => {
      const proj = project(str(params.name).replace(/^projects\//, ''));
      requirePermission(caller, 'iam.serviceAccounts.create', `projects/${proj.projectId}`, [proj.policy]);
      const accountId = String(body.accountId ?? '');
      if (accountId.length < 6 || accountId.length > 30 || !ACCOUNT_ID.test(accountId)) {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid account ID "${accountId}": it must be 6 to 30 characters, start with a lowercase letter, and contain only lowercase letters, digits and hyphens, ending in a letter or digit (${ACCOUNT_ID.source}).`);
      }
      const email = `${accountId}@${proj.projectId}.iam.gserviceaccount.com`;
      if (accounts.has(email)) throw new GoogleError('ALREADY_EXISTS', `Service account ${accountId} already exists within project projects/${proj.projectId}.`);
      const sa = (body.serviceAccount ?? {}) as { displayName?: string; description?: string };
      if ((sa.displayName?.length ?? 0) > 100) throw new GoogleError('INVALID_ARGUMENT', 'displayName must be at most 100 characters.');
      const a: ServiceAccount = {
        projectId: proj.projectId,
        email,
        uniqueId: `1${Array.from(randomBytes(20), (b) => String(b % 10)).join('')}`,
        displayName: sa.displayName,
        description: sa.description,
        disabled: false,
        createdAt: now(),
        policy: new PolicyStore(now),
        keys: new Map(),
      };
      accounts.set(email, a);
      return saBody(a);
    },
    'iam.projects.serviceAccounts.get': ({ params, caller }) => {
      const a = saByName(str(params.name));
      requirePermission(caller, 'iam.serviceAccounts.get', str(params.name), [a.policy, project(a.projectId).policy]);
      return saBody(a);
    },
    'iam.projects.serviceAccounts.list': ({ params, caller }) => {
      const proj = project(str(params.name).replace(/^projects\//, ''));
      requirePermission(caller, 'iam.serviceAccounts.list', `projects/${proj.projectId}`, [proj.policy]);
      const list = [...accounts.values()].filter((a) => a.projectId === proj.projectId).map(saBody);
      return list.length ? { accounts: list } : {};
    },
    'iam.projects.serviceAccounts.delete': ({ params, caller }) => {
      const a = saByName(str(params.name));
      requirePermission(caller, 'iam.serviceAccounts.delete', str(params.name), [a.policy, project(a.projectId).policy]);
      rewriteDeletedMember(a);
      accounts.delete(a.email);
      return {};
    },
    'iam.projects.serviceAccounts.getIamPolicy': (ctx) => {
      const a = saByName(str(ctx.params.resource));
      requirePermission(ctx.caller, 'iam.serviceAccounts.getIamPolicy', str(ctx.params.resource), [a.policy, project(a.projectId).policy]);
      return a.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'iam.projects.serviceAccounts.setIamPolicy': ({ params, body, caller }) => {
      const a = saByName(str(params.resource));
      requirePermission(caller, 'iam.serviceAccounts.setIamPolicy', str(params.resource), [a.policy, project(a.projectId).policy]);
      return a.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
  };
}
