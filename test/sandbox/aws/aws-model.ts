// AWS service models as botocore ships them (service-2.json in the sandbox's virtualenv, the same
// models the AWS SDKs and CLI are generated from), for the gate's stand-ins of APIs moto lacks: a
// request is validated against its operation's input shape the way the service validates it
// (required members, types, string length and pattern, number range, list and map sizes), and the
// stand-in's own answers against the output shape, so a stand-in cannot drift from the real wire shape.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Shape {
  type: 'structure' | 'string' | 'integer' | 'long' | 'boolean' | 'map' | 'list' | 'timestamp' | 'blob' | 'double' | 'float';
  required?: string[];
  members?: Record<string, { shape: string; location?: string; locationName?: string }>;
  key?: { shape: string };
  value?: { shape: string };
  member?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  error?: { httpStatusCode: number };
}

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: { shape: string };
  output?: { shape: string };
  errors?: { shape: string }[];
}

export interface ServiceModel {
  metadata: { signingName?: string; endpointPrefix: string; protocol: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** Where botocore keeps its data in the sandbox's virtualenv. */
function botocoreData(): string {
  const lib = join(PROJECT_ROOT, '.sandbox', 'venv', 'lib');
  for (const py of existsSync(lib) ? readdirSync(lib) : []) {
    const d = join(lib, py, 'site-packages', 'botocore', 'data');
    if (existsSync(d)) return d;
  }
  throw new Error(`botocore's models are missing under ${lib}: run test/sandbox/provision.sh`);
}

const cache = new Map<string, ServiceModel>();

/** The newest API version of a service's model (`eks`, `eks-auth`). */
export function loadServiceModel(service: string): ServiceModel {
  const hit = cache.get(service);
  if (hit) return hit;
  const dir = join(botocoreData(), service);
  const version = readdirSync(dir).sort().at(-1);
  if (!version) throw new Error(`no model for ${service} in ${dir}`);
  const base = join(dir, version, 'service-2.json');
  const text = existsSync(`${base}.gz`) ? gunzipSync(readFileSync(`${base}.gz`)).toString('utf8') : readFileSync(base, 'utf8');
  const model = JSON.parse(text) as ServiceModel;
  cache.set(service, model);
  return model;
}

/** One way a value breaks its shape: the member path and what is wrong. */
export interface ShapeViolation {
  path: string;
  message: string;
}

function check(model: ServiceModel, shapeName: string, value: unknown, path: string, out: ShapeViolation[]): void {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`shape ${shapeName} is not in the model`);
  const bad = (message: string): void => {
    out.push({ path: path || '(input)', message });
  };
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('must be an object');
      const v = value as Record<string, unknown>;
      for (const r of shape.required ?? []) if (v[r] === undefined || v[r] === null) bad(`${path ? `${path}.` : ''}${r} is required`);
      for (const [name, m] of Object.entries(shape.members ?? {})) {
        if (v[name] !== undefined && v[name] !== null) check(model, m.shape, v[name], path ? `${path}.${name}` : name, out);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return bad('must be a string');
      const len = [...value].length;
      if (shape.min !== undefined && len < shape.min) bad(`must have at least ${shape.min} characters`);
      if (shape.max !== undefined && len > shape.max) bad(`must have at most ${shape.max} characters`);
      // Smithy patterns are not anchored unless they say so.
      if (shape.pattern && !new RegExp(shape.pattern, 'u').test(value)) bad(`must match ${shape.pattern}`);
      if (shape.enum && !shape.enum.includes(value)) bad(`must be one of ${shape.enum.join(', ')}`);
      return;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value) || ((shape.type === 'integer' || shape.type === 'long') && !Number.isInteger(value))) return bad(`must be ${shape.type === 'integer' || shape.type === 'long' ? 'an integer' : 'a number'}`);
      if (shape.min !== undefined && value < shape.min) bad(`must be at least ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) bad(`must be at most ${shape.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad('must be a boolean');
      return;
    case 'timestamp':
      if (typeof value !== 'number' && !(value instanceof Date) && typeof value !== 'string') bad('must be a timestamp');
      return;
    case 'blob':
      if (typeof value !== 'string') bad('must be base64 text');
      return;
    case 'list': {
      if (!Array.isArray(value)) return bad('must be a list');
      if (shape.min !== undefined && value.length < shape.min) bad(`must have at least ${shape.min} members`);
      if (shape.max !== undefined && value.length > shape.max) bad(`must have at most ${shape.max} members`);
      value.forEach((item, i) => check(model, shape.member!.shape, item, `${path}[${i}]`, out));
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('must be a map');
      const entries = Object.entries(value as Record<string, unknown>);
      if (shape.min !== undefined && entries.length < shape.min) bad(`must have at least ${shape.min} entries`);
      if (shape.max !== undefined && entries.length > shape.max) bad(`must have at most ${shape.max} entries`);
      for (const [k, v] of entries) {
        check(model, shape.key!.shape, k, `${path} key ${JSON.stringify(k)}`, out);
        check(model, shape.value!.shape, v, `${path}[${JSON.stringify(k)}]`, out);
      }
      return;
    }
  }
}

/** Violations of `shapeName` by `value` (empty when it conforms). */
export function validateShape(model: ServiceModel, shapeName: string, value: unknown): ShapeViolation[] {
  const out: ShapeViolation[] = [];
  check(model, shapeName, value, '', out);
  return out;
}

/** Members of an operation's input shape bound to the URI, the query string, or the body. */
export function inputBindings(model: ServiceModel, op: Operation): { name: string; location?: string; locationName?: string; shape: string }[] {
  const shape = op.input ? model.shapes[op.input.shape] : undefined;
  return Object.entries(shape?.members ?? {}).map(([name, m]) => ({ name, location: m.location, locationName: m.locationName, shape: m.shape }));
}

/** The HTTP status the model gives an error shape. */
export function errorStatus(model: ServiceModel, errorShape: string): number {
  const s = model.shapes[errorShape];
  if (!s?.error) throw new Error(`${errorShape} is not an error shape of the model`);
  return s.error.httpStatusCode;
}

/**
 * Matches a request to an operation by method and URI template (`/clusters/{name}/…`, greedy
 * `{resourceArn+}` too); returns the operation and the URI labels, decoded.
 */
export function matchOperation(model: ServiceModel, method: string, pathname: string): { op: Operation; labels: Record<string, string> } | undefined {
  for (const [name, op] of Object.entries(model.operations)) {
    if (op.http.method !== method) continue;
    const template = op.http.requestUri.split('?')[0]!;
    const names: string[] = [];
    const re = new RegExp(
      '^' +
        template.replace(/\{([^}+]+)(\+?)\}|[^{]+/g, (m, label: string | undefined, greedy: string | undefined) => {
          if (!label) return m.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          names.push(label);
          return greedy ? '(.+)' : '([^/]+)';
        }) +
        '$',
    );
    const m = re.exec(pathname);
    if (m) return { op: { ...op, name }, labels: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return undefined;
}
