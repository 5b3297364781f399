// The --config file: YAML or JSON with the flags' names as keys. A flag beats an environment
// variable, which beats the file; a bad file is an input error (exit 2) that names the file and key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { loadConfigFile } from '../../src/options/config-file.js';
import { InputError, type InputProblem } from '../../src/errors.js';
import { configKey, OPTION_SPECS, parseOptions, type ConfigFile, type Options } from '../../src/options/options.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): InputProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    return (err as InputError).problems;
  }
  return expect.fail('expected an InputError');
}

const config = (data: Record<string, unknown>): ConfigFile => ({ path: 'rhacs.yaml', data });

describe('precedence: flag > environment > config file > default', () => {
  const cases: { key: keyof Options; flag: Record<string, unknown>; env: Record<string, string>; file: Record<string, unknown>; want: [unknown, unknown, unknown, unknown] }[] = [
    { key: 'roleName', flag: { roleName: 'from-flag' }, env: { RHACS_STS_ROLE_NAME: 'from-env' }, file: { 'role-name': 'from-file' }, want: ['from-flag', 'from-env', 'from-file', undefined] },
    { key: 'namespace', flag: { namespace: 'flag-ns' }, env: { RHACS_STS_NAMESPACE: 'env-ns' }, file: { namespace: 'file-ns' }, want: ['flag-ns', 'env-ns', 'file-ns', undefined] },
    { key: 'ecrRepositories', flag: { ecrRepository: ['flag/a'] }, env: { RHACS_STS_ECR_REPOSITORY: 'env/a,env/b' }, file: { 'ecr-repository': ['file/a', 'file/b'] }, want: [['flag/a'], ['env/a', 'env/b'], ['file/a', 'file/b'], []] },
    { key: 'delegatedScanning', flag: { delegatedScanning: true }, env: { RHACS_STS_DELEGATED_SCANNING: 'false' }, file: { 'delegated-scanning': true }, want: [true, false, true, undefined] },
    { key: 'restart', flag: { restart: false }, env: { RHACS_STS_RESTART: 'true' }, file: { restart: false }, want: [false, true, false, true] },
    { key: 'timeoutMs', flag: { timeout: '10s' }, env: { RHACS_STS_TIMEOUT: '20s' }, file: { timeout: '30s' }, want: [10_000, 20_000, 30_000, 300_000] },
  ];

  it.each(cases)('$key', ({ key, flag, env, file: data, want }) => {
    const all = parseOptions('init', flag, env, config(data));
    const envAndFile = parseOptions('init', {}, env, config(data));
    const fileOnly = parseOptions('init', {}, {}, config(data));
    const none = parseOptions('init', {}, {});
    expect([all[key], envAndFile[key], fileOnly[key], none[key]]).toEqual(want);
  });

  it('a config key is the flag without dashes, for every option but --config itself', () => {
    for (const s of OPTION_SPECS) {
      expect(configKey(s)).toMatch(/^[a-z][a-z-]*$/);
      expect(s.flags).toContain(s.kind === 'negatable' ? `--no-${configKey(s)}` : `--${configKey(s)}`);
    }
    expect(() => parseOptions('init', {}, {}, config({ config: 'other.yaml' }))).toThrow(InputError);
  });

  it('keys of options another command uses are ignored, so one file serves init and verify', () => {
    expect(parseOptions('verify', {}, {}, config({ yes: true, 'role-name': 'r' })).roleName).toBe('r');
  });
});

describe('loading files', () => {
  it('reads YAML and JSON', () => {
    const yaml = loadConfigFile(file('a.yaml', 'role-name: rhacs-ecr\nnamespace: rhacs\necr-repository:\n  - team/*\ndelegated-scanning: true\n'));
    expect(parseOptions('init', {}, {}, yaml)).toMatchObject({ roleName: 'rhacs-ecr', namespace: 'rhacs', ecrRepositories: ['team/*'], delegatedScanning: true });
    const json = loadConfigFile(file('a.json', JSON.stringify({ 'role-name': 'rhacs-ecr', 'account-id': 111122223333, restart: false })));
    expect(parseOptions('init', {}, {}, json)).toMatchObject({ roleName: 'rhacs-ecr', accountId: '111122223333', restart: false });
    expect(loadConfigFile(file('empty.yaml', '# nothing yet\n')).data).toEqual({});
  });

  it('names --config (or RHACS_STS_CONFIG) when the file cannot be read or parsed', () => {
    expect(problems(() => loadConfigFile(join(dir, 'missing.yaml')))).toEqual([{ source: '--config', message: expect.stringMatching(/cannot read .*missing\.yaml.*no such file/) }]);
    expect(problems(() => loadConfigFile(dir, 'RHACS_STS_CONFIG'))[0]).toMatchObject({ source: 'RHACS_STS_CONFIG', message: expect.stringMatching(/cannot read/) });
    expect(problems(() => loadConfigFile(file('bad.yaml', 'role-name: [unclosed\n')))[0]!.message).toMatch(/is not valid YAML or JSON/);
    expect(problems(() => loadConfigFile(file('dup.yaml', 'role-name: a\nrole-name: b\n')))[0]!.message).toMatch(/not valid YAML or JSON/);
    expect(problems(() => loadConfigFile(file('list.yaml', '- role-name\n')))[0]!.message).toMatch(/must hold a mapping/);
    expect(problems(() => loadConfigFile(file('scalar.json', '"rhacs"')))[0]!.message).toMatch(/must hold a mapping/);
  });

  it('reports every bad key and value at once, each named by file and key, with a suggestion for near misses', () => {
    const ps = problems(() => parseOptions('init', {}, {}, config({
      roleName: 'x', // camelCase instead of the flag's name
      'role-nmae': 'y',
      'delegated-scanning': 'yes', // a string, not a boolean
      'ecr-repository': [1, 2],
      namespace: { a: 1 },
      region: 'mars-1', // validated like the flag
    })));
    expect(ps).toEqual(expect.arrayContaining([
      { source: 'rhacs.yaml: roleName', message: expect.stringMatching(/did you mean "role-name"/) },
      { source: 'rhacs.yaml: role-nmae', message: expect.stringMatching(/is not an option/) },
      { source: 'rhacs.yaml: delegated-scanning', message: 'must be true or false' },
      { source: 'rhacs.yaml: ecr-repository', message: expect.stringMatching(/a name or a list of names/) },
      { source: 'rhacs.yaml: namespace', message: 'must be a single value' },
      { source: 'rhacs.yaml: region', message: expect.stringMatching(/not an AWS region/) },
    ]));
    expect(ps).toHaveLength(6);
  });
});

describe('through the command line', () => {
  /** The options a command would run with: buildProgram hands them to makeUi first. */
  const optionsOf = (argv: string[], env: Record<string, string> = {}) => new Promise<Options>((resolve, reject) => {
    const program = buildProgram({
      env,
      makeUi: (o) => {
        resolve(o as Options);
        throw new Error('stop');
      },
      writeOut: () => undefined,
      writeErr: () => undefined,
    });
    program.parseAsync(argv, { from: 'user' }).catch((err: unknown) => {
      if ((err as Error).message !== 'stop') reject(err);
    });
  });

  it('--config and RHACS_STS_CONFIG load the file; flags and variables still win', async () => {
    const cfg = file('cli.yaml', 'role-name: file-role\nnamespace: file-ns\ncluster-name: file-cluster\n');
    expect(await optionsOf(['plan', '--config', cfg, '--role-name', 'flag-role'], { RHACS_STS_NAMESPACE: 'env-ns' }))
      .toMatchObject({ roleName: 'flag-role', namespace: 'env-ns', clusterName: 'file-cluster' });
    expect(await optionsOf(['plan'], { RHACS_STS_CONFIG: cfg })).toMatchObject({ roleName: 'file-role', namespace: 'file-ns' });
  });

  it('every flag reaches its option, including those whose name differs from the key (--plan)', async () => {
    expect((await optionsOf(['init', '--plan', 'saved.json'])).planFile).toBe('saved.json');
    expect((await optionsOf(['init', '--helm-values-out', 'v.yaml', '--no-restart', '--ecr-repository', 'aa', '--ecr-repository', 'bb'])))
      .toMatchObject({ helmValuesOut: 'v.yaml', restart: false, ecrRepositories: ['aa', 'bb'] });
  });
});
