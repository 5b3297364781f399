/**
 * A named AWS profile must exist before anything is asked of AWS: the SDK's own error for a
 * missing profile ("Could not resolve credentials using profile") reads like a credentials problem.
 * Profiles live in the shared config file (`[profile name]`, `[default]`) and the shared
 * credentials file (`[name]`), at AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE or under ~/.aws.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import type { AwsEnvironment } from './environment.js';

function sections(path: string, config: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$/.exec(line);
    if (!m) continue;
    const header = m[1]!;
    if (!config) names.push(header);
    else if (header === 'default') names.push('default');
    else if (/^profile\s+/.test(header)) names.push(header.replace(/^profile\s+/, ''));
  }
  return names;
}

/** The profiles the shared files define. */
export function knownProfiles(env: AwsEnvironment = {}): { profiles: string[]; files: string[] } {
  const home = env.home ?? homedir();
  const configFile = env.configFile || join(home, '.aws', 'config');
  const credentialsFile = env.sharedCredentialsFile || join(home, '.aws', 'credentials');
  return { profiles: [...new Set([...sections(configFile, true), ...sections(credentialsFile, false)])], files: [configFile, credentialsFile] };
}

/** Refuses a profile (from --profile or AWS_PROFILE) that no shared file defines. */
export function checkProfile(profile: string | undefined, fromFlag: boolean, env: AwsEnvironment = {}): void {
  if (!profile) return;
  const { profiles, files } = knownProfiles(env);
  if (profiles.includes(profile)) return;
  throw new InputError(
    [{
      source: fromFlag ? '--profile' : 'AWS_PROFILE',
      message: `the AWS profile "${profile}" is not defined in ${files.join(' or ')}${profiles.length ? ` (profiles there: ${profiles.join(', ')})` : ' (no profiles are defined there)'}`,
    }],
    'Name a profile that exists (aws configure list-profiles), or create it (aws configure --profile <name>, or aws configure sso).',
  );
}
