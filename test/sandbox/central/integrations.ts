// Image integrations as Central stores them: secret fields scrubbed on the way out, and on an update
// without credentials (updatePassword=false) taken from the stored copy, where the fields they depend
// on may not change (StackRox's `scrub:"always"` / `scrub:"dependent"` storage tags).

export const SCRUBBED = '******';
/** Secret fields of the integration configs (`scrub:"always"` in StackRox's storage protos). */
const SECRET_FIELDS: Record<string, string[]> = {
  ecr: ['accessKeyId', 'secretAccessKey'],
  docker: ['password'],
  azure: ['password'],
  quay: ['oauthToken'],
  google: ['serviceAccount'],
  ibm: ['apiKey'],
};
/** Fields that may not change while the secrets are scrubbed (`scrub:"dependent"`): where the credentials go. */
const DEPENDENT_FIELDS: Record<string, string[]> = {
  ecr: ['registryId', 'region', 'endpoint'],
  docker: ['endpoint', 'username'],
  azure: ['endpoint', 'username'],
  quay: ['endpoint'],
  google: ['endpoint', 'project'],
  ibm: ['endpoint'],
};

export type Integration = Record<string, unknown> & { id: string; name: string; type: string };

/** An error Central answers with: HTTP status, gRPC code, message. */
export class Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new Failure(400, 3, message);

export function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** The config block of an integration (`ecr`, `docker`, …) and its key. */
export function configOf(i: Record<string, unknown>): [string, Record<string, unknown>] | undefined {
  for (const k of Object.keys(SECRET_FIELDS)) if (i[k] && typeof i[k] === 'object') return [k, i[k] as Record<string, unknown>];
  return undefined;
}

export function scrub(i: Integration): Integration {
  const out = clone(i);
  const c = configOf(out);
  if (c) for (const f of SECRET_FIELDS[c[0]]!) if (c[1][f]) c[1][f] = SCRUBBED;
  return out;
}

/** updatePassword=false: scrubbed secrets come from the stored integration; where they go may not change. */
export function reconcile(updated: Integration, stored: Integration): void {
  const u = configOf(updated);
  const s = configOf(stored);
  if (!u) throw invalid("the request doesn't have a valid integration config type");
  for (const f of SECRET_FIELDS[u[0]]!) {
    const v = u[1][f];
    if (v && v !== SCRUBBED) throw invalid(`non-zero or unmasked credential field 'ImageIntegration.${u[0]}.${f}'`);
    u[1][f] = s?.[0] === u[0] ? (s[1][f] ?? '') : '';
  }
  for (const f of DEPENDENT_FIELDS[u[0]]!) {
    const was = s?.[0] === u[0] ? s[1][f] : undefined;
    if ((u[1][f] ?? '') !== (was ?? '')) throw invalid(`credentials required to update field 'ImageIntegration.${u[0]}.${f}'`);
  }
}
