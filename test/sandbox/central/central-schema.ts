// Central's published API contract (StackRox's generated swagger, derived in stackrox-api/), and a
// validator for request bodies that does what Central's gateway does when it decodes JSON into its
// protobuf messages (protojson): an unknown field, a value of the wrong type, an enum value that
// does not exist or a malformed timestamp is refused (HTTP 400, gRPC code 3 InvalidArgument).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface SwaggerSchema {
  type?: string;
  format?: string;
  enum?: string[];
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: unknown;
  items?: SwaggerSchema;
  $ref?: string;
}

export interface SwaggerDocument {
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string; schema?: SwaggerSchema; type?: string }[] }>>;
  definitions: Record<string, SwaggerSchema>;
}

function load(name: string): SwaggerDocument {
  return JSON.parse(readFileSync(join(here, 'stackrox-api', name), 'utf8')) as SwaggerDocument;
}

export const IMAGE_INTEGRATION_API = load('image_integration_service.swagger.json');
export const METADATA_API = load('metadata_service.swagger.json');

/** The body schema of an operation, as the document declares it. */
export function bodySchema(doc: SwaggerDocument, path: string, method: string): SwaggerSchema | undefined {
  return doc.paths[path]?.[method]?.parameters?.find((p) => p.in === 'body')?.schema;
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
// RFC 3339, as protojson parses google.protobuf.Timestamp.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The problems of `value` against `schema` (empty: valid), as protojson words them. */
export function validate(doc: SwaggerDocument, schema: SwaggerSchema, value: unknown, path = ''): string[] {
  if (schema.$ref) {
    const def = doc.definitions[schema.$ref.replace('#/definitions/', '')];
    if (!def) return [`${path || 'body'}: unknown schema ${schema.$ref}`];
    return validate(doc, { ...def, ...schema, $ref: undefined }, value, path);
  }
  if (value === null) return []; // protojson: null is the field's default
  const at = path || 'body';
  if (schema.enum) {
    return typeof value === 'string' && schema.enum.includes(value)
      ? []
      : [`proto: invalid value for enum field ${at}: ${JSON.stringify(value)}`];
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`proto: invalid value for message field ${at}: ${JSON.stringify(value)}`];
      if (!schema.properties) return [];
      const problems: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const p = schema.properties[k];
        if (!p) {
          problems.push(`proto: unknown field "${k}"${path ? ` in ${path}` : ''}`);
          continue;
        }
        problems.push(...validate(doc, p, v, path ? `${path}.${k}` : k));
      }
      return problems;
    }
    case 'array':
      if (!Array.isArray(value)) return [`proto: invalid value for list field ${at}: ${JSON.stringify(value)}`];
      return value.flatMap((v, i) => validate(doc, schema.items ?? {}, v, `${at}[${i}]`));
    case 'string':
      if (typeof value !== 'string') return [`proto: invalid value for string field ${at}: ${JSON.stringify(value)}`];
      if (schema.format === 'date-time' && !TIMESTAMP.test(value)) return [`proto: invalid google.protobuf.Timestamp value for ${at}: ${JSON.stringify(value)}`];
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`proto: invalid value for bool field ${at}: ${JSON.stringify(value)}`];
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && n >= INT32.min && n <= INT32.max
        ? []
        : [`proto: invalid value for int32 field ${at}: ${JSON.stringify(value)}`];
    }
    default:
      return [];
  }
}
