// IAM Credentials (iamcredentials.v1 generateAccessToken): a short-lived token for a Google service
// account, for a caller holding `iam.serviceAccounts.getAccessToken` on it; and what the GKE metadata
// server asks of Google for a pod.
import { GoogleError } from './google-error.js';
import { decisionOf, str, TOKEN_LIFETIME_S, type GcpWorld, type Handler } from './world.js';

function generateAccessToken(w: GcpWorld, caller: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
  const { now, accountKey, allowed, project, issue } = w;
  const [, , ref] = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name) ?? [];
  const a = ref ? accountKey(ref) : undefined;
  const denied = new GoogleError('PERMISSION_DENIED', "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission: 'iam.serviceAccounts.getAccessToken' } },
  ]);
  if (!a) throw denied;
  // A new account is not yet known to the token service until it propagates.
  if (a.createdAt + w.delayMs > now()) throw new GoogleError('NOT_FOUND', `Not found; Gaia id not found for email ${a.email}`);
  if (a.disabled) throw new GoogleError('FAILED_PRECONDITION', `Service account ${a.email} is disabled.`);
  if (Array.isArray(body.delegates) && body.delegates.length) throw new GoogleError('INVALID_ARGUMENT', 'The sandbox does not follow delegation chains.');
  if (!allowed(caller, 'iam.serviceAccounts.getAccessToken', [a.policy, project(a.projectId).policy])) throw denied;
  const lifetime = typeof body.lifetime === 'string' ? Number(body.lifetime.replace(/s$/, '')) : TOKEN_LIFETIME_S;
  if (!(lifetime > 0 && lifetime <= 3600)) throw new GoogleError('INVALID_ARGUMENT', 'The lifetime must be at most 3600s.');
  if (!Array.isArray(body.scope) || body.scope.length === 0) throw new GoogleError('INVALID_ARGUMENT', 'Scope required.');
  return { accessToken: issue(`serviceAccount:${a.email}`, lifetime), expireTime: new Date(now() + lifetime * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
}

export function iamCredentialsHandlers(w: GcpWorld): Record<string, Handler> {
  return {
    'iamcredentials.projects.serviceAccounts.generateAccessToken': ({ params, body, caller }) => generateAccessToken(w, caller, str(params.name), body),
  };
}

/**
 * What the GKE metadata server asks of Google for a pod: a token for the Kubernetes service
 * account's principal (`serviceAccount:<pool>[ns/sa]`), or, with a Google service account to
 * act as, `generateAccessToken` through IAM Credentials' own checks (recorded like any call).
 */
export async function gkeWorkloadToken(w: GcpWorld, c: { projectId: string; location: string; name: string }, ns: string, ksa: string, gsa?: string): Promise<{ accessToken: string; expiresIn: number; principal: string }> {
  const { record, issue } = w;
  const principal = `serviceAccount:${c.projectId}.svc.id.goog[${ns}/${ksa}]`;
  if (!gsa) {
    record({ method: 'POST', path: '/sts/v1/token', methodId: 'sts.token', caller: principal, decision: 'allowed', status: 200, reason: 'GKE metadata server: the Kubernetes service account principal' });
    return { accessToken: issue(principal), expiresIn: TOKEN_LIFETIME_S, principal };
  }
  const path = `/iamcredentials/v1/projects/-/serviceAccounts/${gsa}:generateAccessToken`;
  try {
    const out = generateAccessToken(w, principal, `projects/-/serviceAccounts/${gsa}`, { scope: ['https://www.googleapis.com/auth/cloud-platform'] });
    record({ method: 'POST', path, methodId: 'iamcredentials.projects.serviceAccounts.generateAccessToken', caller: principal, decision: 'allowed', status: 200, reason: 'GKE metadata server' });
    return { accessToken: out.accessToken as string, expiresIn: TOKEN_LIFETIME_S, principal: `serviceAccount:${gsa}` };
  } catch (err) {
    if (err instanceof GoogleError) record({ method: 'POST', path, methodId: 'iamcredentials.projects.serviceAccounts.generateAccessToken', caller: principal, decision: decisionOf(err.httpStatus), status: err.httpStatus, reason: err.message });
    throw err;
  }
}
