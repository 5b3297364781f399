#!/usr/bin/env node
// Derives the sandbox's StackRox CRDs from the real ones: keeps every CRD field and the whole
// structural schema (types, required, enums, formats, x-kubernetes-* markers, defaults), drops only
// the `description` prose (about 90% of the bytes). Output: one JSON file per CRD next to this script.
//
//   node test/sandbox/kube/crds/derive-stackrox-crds.mjs <reference-dir>
//
// reference-dir (relative to the project root, or absolute) must hold
// platform.stackrox.io_centrals.yaml and platform.stackrox.io_securedclusters.yaml as copied from
// github.com/stackrox/stackrox (operator/config/crd/bases/). See README.md here.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '../../../..');
const CRDS = ['platform.stackrox.io_centrals', 'platform.stackrox.io_securedclusters'];

/**
 * A schema without `description`. Under `properties` (and `patternProperties`) the keys are field
 * names, not keywords, so a field that happens to be called `description` stays.
 */
export function stripSchema(schema) {
  if (Array.isArray(schema)) return schema.map(stripSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description') continue;
    if ((key === 'properties' || key === 'patternProperties' || key === 'definitions') && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([field, s]) => [field, stripSchema(s)]));
    } else if (key === 'default' || key === 'example' || key === 'enum') {
      out[key] = value; // data, not schema
    } else {
      out[key] = stripSchema(value);
    }
  }
  return out;
}

/** The CRD with each version's openAPIV3Schema stripped; everything else as it is. */
export function deriveCrd(crd) {
  return {
    ...crd,
    spec: {
      ...crd.spec,
      versions: crd.spec.versions.map((v) => ({
        ...v,
        ...(v.schema ? { schema: { ...v.schema, openAPIV3Schema: stripSchema(v.schema.openAPIV3Schema) } } : {}),
      })),
    },
  };
}

function main() {
  if (!process.argv[2]) {
    process.stderr.write('usage: node test/sandbox/kube/crds/derive-stackrox-crds.mjs <dir with platform.stackrox.io_centrals.yaml and platform.stackrox.io_securedclusters.yaml>\n');
    process.exit(2);
  }
  const refDir = resolve(projectRoot, process.argv[2]);
  for (const name of CRDS) {
    const source = join(refDir, `${name}.yaml`);
    let crd;
    try {
      crd = parse(readFileSync(source, 'utf8'));
    } catch (err) {
      console.error(`cannot read ${source}: ${err.message}`);
      process.exit(1);
    }
    if (crd?.kind !== 'CustomResourceDefinition') {
      console.error(`${source} is not a CustomResourceDefinition`);
      process.exit(1);
    }
    const target = join(here, `${name}.json`);
    writeFileSync(target, JSON.stringify(deriveCrd(crd), null, 1) + '\n');
    console.log(`${source} -> ${target}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
