/** Loads a --config file: YAML or JSON (YAML is a superset), a mapping of flag names to values. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { InputError } from '../errors.js';
import type { ConfigFile } from './options.js';

export function loadConfigFile(path: string, source = '--config'): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError([{ source, message: `cannot read "${path}" (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})` }]);
  }
  let data: unknown;
  try {
    data = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new InputError([{ source, message: `"${path}" is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}` }]);
  }
  if (data === null || data === undefined) return { path, data: {} };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError([{ source, message: `"${path}" must hold a mapping of option names to values (e.g. role-name: rhacs-ecr)` }]);
  }
  return { path, data: data as Record<string, unknown> };
}
