#!/usr/bin/env node
// Derives the Central API contract the sandbox's Central stand-in validates requests against from
// StackRox's own generated OpenAPI (swagger 2.0) documents: keeps the paths, parameters, schemas,
// types, formats and enums, drops only the prose (`description`, `summary`, `title`).
//
//   node test/sandbox/central/stackrox-api/derive-stackrox-api.mjs <reference-dir>
//
// reference-dir must hold image_integration_service.swagger.json and metadata_service.swagger.json
// as copied from github.com/stackrox/stackrox (generated/api/v1/). See README.md here.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '../../../..');
const FILES = ['image_integration_service.swagger.json', 'metadata_service.swagger.json'];
const PROSE = new Set(['description', 'summary', 'title']);

/** The document without prose. Under `properties` and `definitions` the keys are names, not keywords. */
export function strip(node, keysAreNames = false) {
  if (Array.isArray(node)) return node.map((x) => strip(x));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (!keysAreNames && PROSE.has(key) && typeof value === 'string') continue;
    const names = !keysAreNames && ['properties', 'definitions', 'paths', 'responses'].includes(key);
    out[key] = key === 'enum' || key === 'default' ? value : strip(value, names);
  }
  return out;
}

function main() {
  if (!process.argv[2]) {
    process.stderr.write('usage: node test/sandbox/central/stackrox-api/derive-stackrox-api.mjs <dir with the StackRox swagger files>\n');
    process.exit(2);
  }
  const refDir = resolve(projectRoot, process.argv[2]);
  for (const name of FILES) {
    const doc = JSON.parse(readFileSync(join(refDir, name), 'utf8'));
    writeFileSync(join(here, name), JSON.stringify(strip(doc), null, 1) + '\n');
    console.log(`${join(refDir, name)} -> ${join(here, name)}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
