// Google's discovery documents as google-api-python-client ships them (in the sandbox's virtualenv:
// googleapiclient/discovery_cache/documents/), the contract the Google stand-ins are held to, as the
// AWS gate is held to botocore's models. A request is routed to its discovery method (HTTP method +
// path template), its path parameters checked against their `pattern`, its query parameters against
// their types, enums and `repeated`, its JSON body against the request schema (types, enums, formats,
// unknown fields refused as Google refuses them); every answer a stand-in produces is checked against
// the response schema, and a stand-in answer that breaks it is a stand-in bug (thrown, never sent).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoogleError, badRequest } from './google-error.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface DiscoveryParameter {
  type: 'string' | 'integer' | 'boolean' | 'number';
  location: 'path' | 'query';
  required?: boolean;
  pattern?: string;
  repeated?: boolean;
  enum?: string[];
  format?: string;
}

export interface DiscoveryMethod {
  id: string;
  httpMethod: string;
  path: string;
  flatPath?: string;
  parameters?: Record<string, DiscoveryParameter>;
  request?: { $ref: string };
  response?: { $ref: string };
}

export interface DiscoverySchema {
  id?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'any';
  $ref?: string;
  properties?: Record<string, DiscoverySchema>;
  additionalProperties?: DiscoverySchema;
  items?: DiscoverySchema;
  enum?: string[];
  format?: string;
}

interface DiscoveryResource {
  methods?: Record<string, DiscoveryMethod>;
  resources?: Record<string, DiscoveryResource>;
}

export interface DiscoveryDocument {
  name: string;
  version: string;
  rootUrl: string;
  servicePath: string;
  parameters?: Record<string, DiscoveryParameter>;
  schemas: Record<string, DiscoverySchema>;
  resources?: Record<string, DiscoveryResource>;
  methods?: Record<string, DiscoveryMethod>;
}

/** The documents the Google stand-ins are held to. */
export const GOOGLE_APIS = ['iam.v1', 'sts.v1', 'iamcredentials.v1', 'cloudresourcemanager.v3', 'container.v1', 'artifactregistry.v1'] as const;
export type GoogleApi = (typeof GOOGLE_APIS)[number];

/** Where google-api-python-client keeps its discovery documents in the sandbox's virtualenv. */
export function discoveryDir(root = PROJECT_ROOT): string {
  const lib = join(root, '.sandbox', 'venv', 'lib');
  for (const py of existsSync(lib) ? readdirSync(lib) : []) {
    const d = join(lib, py, 'site-packages', 'googleapiclient', 'discovery_cache', 'documents');
    if (existsSync(d)) return d;
  }
  throw new Error(`Google's discovery documents are missing under ${lib} (google-api-python-client, pinned in test/sandbox/requirements.txt): run test/sandbox/provision.sh`);
}

interface Route {
  method: DiscoveryMethod;
  re: RegExp;
  names: string[];
}

/** One API's contract: its methods, routed by HTTP method and path, and its schemas. */
export class ApiContract {
  private readonly routes: Route[] = [];
  readonly methods = new Map<string, DiscoveryMethod>();

  constructor(readonly doc: DiscoveryDocument) {
    const walk = (r: DiscoveryResource): void => {
      for (const m of Object.values(r.methods ?? {})) this.add(m);
      for (const sub of Object.values(r.resources ?? {})) walk(sub);
    };
    walk({ methods: doc.methods, resources: doc.resources });
    // Literal segments win over parameters (`…/serviceAccounts/{id}` vs `…:getIamPolicy`).
    this.routes.sort((a, b) => b.method.path.replace(/\{[^}]+\}/g, '').length - a.method.path.replace(/\{[^}]+\}/g, '').length);
  }

  private add(m: DiscoveryMethod): void {
    this.methods.set(m.id, m);
    // flatPath names each segment (`v1/projects/{projectsId}/serviceAccounts/{serviceAccountsId}`);
    // the path parameter (`{+name}`) is those segments joined, checked against its pattern.
    const template = m.flatPath ?? m.path;
    const names: string[] = [];
    const source = template.replace(/\{(\+?)([^}]+)\}|[^{]+/g, (seg, plus: string | undefined, name: string | undefined) => {
      if (!name) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(name);
      return plus ? '(.+)' : '([^/:]+)';
    });
    this.routes.push({ method: m, re: new RegExp(`^/${this.doc.servicePath}${source}$`.replace('//', '/')), names });
  }

  method(id: string): DiscoveryMethod {
    const m = this.methods.get(id);
    if (!m) throw new Error(`${id} is not a method of ${this.doc.name}.${this.doc.version}`);
    return m;
  }

  /** The discovery method a request is for, or undefined (Google: 404 with an HTML page). */
  route(httpMethod: string, pathname: string): DiscoveryMethod | undefined {
    for (const r of this.routes) {
      if (r.method.httpMethod !== httpMethod) continue;
      if (r.re.test(pathname)) return r.method;
    }
    return undefined;
  }

  /**
   * The method's parameters from the request: path parameters (from the path template, each checked
   * against its pattern), query parameters (types, enums, repeated); unknown query parameters are
   * refused as Google refuses them. Throws INVALID_ARGUMENT listing every problem.
   */
  parameters(m: DiscoveryMethod, pathname: string, query: URLSearchParams): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    const problems: { field: string; description: string }[] = [];
    // The path template with `{+name}` taking the rest up to a literal suffix.
    const names: string[] = [];
    const source = m.path.replace(/\{(\+?)([^}]+)\}|[^{]+/g, (seg, plus: string | undefined, name: string | undefined) => {
      if (!name) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(name);
      return plus ? '(.+?)' : '([^/:]+)';
    });
    const match = new RegExp(`^/${this.doc.servicePath}${source}$`.replace('//', '/')).exec(pathname);
    if (!match) throw new Error(`${m.id}: ${pathname} does not fit ${m.path}`);
    names.forEach((n, i) => {
      out[n] = decodeURIComponent(match[i + 1]!);
    });
    const params = { ...this.doc.parameters, ...m.parameters };
    for (const [name, p] of Object.entries(m.parameters ?? {})) {
      if (p.location !== 'path') continue;
      const v = out[name] as string | undefined;
      if (v === undefined) problems.push({ field: name, description: 'required path parameter is missing' });
      else if (p.pattern && !new RegExp(p.pattern).test(v)) problems.push({ field: name, description: `"${v}" does not match ${p.pattern}` });
    }
    for (const name of new Set(query.keys())) {
      const p = params[name];
      // `$.xgafv`, `alt`, `prettyPrint`, `fields`… are the documents' own top-level parameters.
      if (!p || p.location !== 'query') {
        problems.push({ field: name, description: `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter.` });
        continue;
      }
      const values = query.getAll(name);
      if (values.length > 1 && !p.repeated) problems.push({ field: name, description: 'is not repeated but was given more than once' });
      for (const v of values) {
        const bad = scalarProblem(p, v);
        if (bad) problems.push({ field: name, description: `Invalid value "${v}": ${bad}` });
      }
      out[name] = p.repeated ? values : values[0]!;
    }
    for (const [name, p] of Object.entries(m.parameters ?? {})) {
      if (p.location === 'query' && p.required && !query.has(name)) problems.push({ field: name, description: 'required query parameter is missing' });
    }
    if (problems.length) {
      const unknown = problems.find((p) => p.description.startsWith('Invalid JSON payload'));
      throw new GoogleError('INVALID_ARGUMENT', unknown ? unknown.description : `Invalid request: ${problems.map((p) => `${p.field} ${p.description}`).join('; ')}`, [badRequest(problems)]);
    }
    return out;
  }

  /** Checks a request body against the method's request schema (INVALID_ARGUMENT, as Google words it). */
  checkRequest(m: DiscoveryMethod, body: unknown): void {
    if (!m.request) {
      if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid JSON payload received. ${m.id} takes no request body.`);
      }
      return;
    }
    const problems: Violation[] = [];
    this.check({ $ref: m.request.$ref }, body ?? {}, '', problems);
    if (problems.length === 0) return;
    const first = problems[0]!;
    const message = first.unknown
      ? `Invalid JSON payload received. Unknown name "${first.unknown}"${first.path.includes('.') ? ` at '${first.path.split('.').slice(0, -1).join('.')}'` : ''}: Cannot find field.`
      : `Invalid JSON payload received. ${problems.map((p) => `Invalid value at '${p.path}': ${p.message}`).join('; ')}`;
    throw new GoogleError('INVALID_ARGUMENT', message, [badRequest(problems.map((p) => ({ field: p.path, description: p.message })))]);
  }

  /** Checks a stand-in's answer against the method's response schema; a violation is a stand-in bug. */
  checkResponse(m: DiscoveryMethod, body: unknown): void {
    if (!m.response) return;
    const problems: Violation[] = [];
    this.check({ $ref: m.response.$ref }, body, '', problems);
    if (problems.length) {
      throw new Error(`stand-in bug: the answer to ${m.id} breaks ${this.doc.name}.${this.doc.version}'s ${m.response.$ref}: ${problems.map((p) => `${p.path || '(body)'} ${p.message}`).join('; ')}`);
    }
  }

  /** Checks a value against a named schema (for bodies outside a method, e.g. an operation's response). */
  checkSchema(ref: string, value: unknown): string[] {
    const problems: Violation[] = [];
    this.check({ $ref: ref }, value, '', problems);
    return problems.map((p) => `${p.path || '(value)'} ${p.message}`);
  }

  private check(s: DiscoverySchema, v: unknown, path: string, out: Violation[]): void {
    if (s.$ref) {
      const target = this.doc.schemas[s.$ref];
      if (!target) throw new Error(`schema ${s.$ref} is not in ${this.doc.name}.${this.doc.version}`);
      return this.check(target, v, path, out);
    }
    const bad = (message: string): void => {
      out.push({ path, message });
    };
    switch (s.type) {
      case 'any':
      case undefined:
        return;
      case 'object': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('Starting an object on a scalar field');
        for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
          const at = path ? `${path}.${k}` : k;
          const prop = s.properties?.[k] ?? s.additionalProperties;
          if (!prop) {
            // `@type` names the message of an Any (operation metadata and responses).
            if (k === '@type') continue;
            out.push({ path: at, message: `Unknown name "${k}": Cannot find field.`, unknown: k });
            continue;
          }
          if (val === null) continue;
          this.check(prop, val, at, out);
        }
        return;
      }
      case 'array':
        if (!Array.isArray(v)) return bad('Proto field is repeated but the value is not a list');
        v.forEach((item, i) => this.check(s.items ?? {}, item, `${path}[${i}]`, out));
        return;
      case 'boolean':
        if (typeof v !== 'boolean') bad(`Invalid value ${JSON.stringify(v)} for a boolean`);
        return;
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(`Invalid value ${JSON.stringify(v)} for an integer`);
        return;
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(`Invalid value ${JSON.stringify(v)} for a number`);
        return;
      case 'string': {
        // int64 and uint64 travel as strings; a number is accepted as Google's JSON parser does.
        if ((s.format === 'int64' || s.format === 'uint64') && typeof v === 'number' && Number.isInteger(v)) return;
        if (typeof v !== 'string') return bad(`Invalid value ${JSON.stringify(v)}: expected a string`);
        const problem = scalarProblem({ type: 'string', enum: s.enum, format: s.format }, v);
        if (problem) bad(problem);
        return;
      }
    }
  }
}

interface Violation {
  path: string;
  message: string;
  unknown?: string;
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** What is wrong with a scalar against its declared type, enum and format (undefined when fine). */
function scalarProblem(p: Pick<DiscoveryParameter, 'type' | 'enum' | 'format'>, v: string): string | undefined {
  if (p.type === 'integer' && !/^-?\d+$/.test(v)) return 'not an integer';
  if (p.type === 'boolean' && v !== 'true' && v !== 'false') return 'not a boolean';
  if (p.type === 'number' && !Number.isFinite(Number(v))) return 'not a number';
  if (p.enum && !p.enum.includes(v)) return `must be one of ${p.enum.join(', ')}`;
  switch (p.format) {
    case 'int32':
    case 'int64':
      return /^-?\d+$/.test(v) ? undefined : 'not an integer';
    case 'uint64':
    case 'uint32':
      return /^\d+$/.test(v) ? undefined : 'not an unsigned integer';
    case 'google-duration':
      return DURATION.test(v) ? undefined : 'not a duration (e.g. "3600s")';
    case 'google-datetime':
      return DATETIME.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : 'not an RFC 3339 timestamp';
    case 'byte':
      return /^[A-Za-z0-9+/_-]*={0,2}$/.test(v) ? undefined : 'not base64';
    default:
      return undefined;
  }
}

const contracts = new Map<string, ApiContract>();

/** Loads (once) one API's discovery document; fails loudly when it is missing. */
export function loadContract(api: GoogleApi, root?: string): ApiContract {
  const key = `${root ?? ''}|${api}`;
  const hit = contracts.get(key);
  if (hit) return hit;
  const file = join(discoveryDir(root), `${api}.json`);
  if (!existsSync(file)) throw new Error(`the discovery document ${api}.json is missing from ${dirname(file)}: google-api-python-client changed its layout; pin the version in test/sandbox/requirements.txt`);
  const contract = new ApiContract(JSON.parse(readFileSync(file, 'utf8')) as DiscoveryDocument);
  contracts.set(key, contract);
  return contract;
}
