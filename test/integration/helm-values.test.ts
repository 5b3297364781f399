// --helm-values-out through the built binary against the sandbox (EKS, Helm install, Central and
// Sensor in their own releases): one single-document file per release, named after the given
// path and headed by the full "helm upgrade" command; --dry-run writes none and says so; uninstall
// writes the values that undo init's.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { awsMark, awsWrites, kubeConfigFor, kubeMark, kubeRequests } from '../sandbox/observe.js';

const sb = useSandbox();
const cli = (args: string[]) => runCli(sb, 'eks', args);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-helm-values-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one YAML document of a values file, and its header lines. */
function valuesFile(file: string): { header: string[]; values: unknown } {
  const text = readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text) as { toJS(): unknown }[];
  expect(docs).toHaveLength(1);
  return { header: text.split('\n').filter((l) => l.startsWith('#')), values: docs[0]!.toJS() };
}

describe('--helm-values-out', () => {
  it('init writes one file per release with its command; --dry-run writes none; uninstall writes the values that undo it', async () => {
    const kc = kubeConfigFor(sb, 'eks');
    const ns = uniqueNamespace('hv');
    await seedRhacs(kc, { namespace: ns, method: 'helm' });
    const common = ['--namespace', ns, '--role-name', 'hv-role', '--delegated-scanning'];
    const arn = `arn:aws:iam::${sb.accountId}:role/hv-role`;
    const out = join(dir, 'init', 'rhacs.yaml');
    const files = {
      central: join(dir, 'init', 'rhacs.stackrox-central-services.yaml'),
      sensor: join(dir, 'init', 'rhacs.stackrox-secured-cluster-services.yaml'),
    };
    const command = (release: string, chart: string, file: string) =>
      `helm upgrade ${release} rhacs/${chart} -n ${ns} --version 400.7.2 --reuse-values -f ${file}`;

    // A dry run writes nothing, and says so.
    const a0 = await awsMark(sb);
    const k0 = kubeMark(sb, 'eks');
    const dry = await cli(['init', '--dry-run', '--helm-values-out', out, ...common]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`Dry run: no Helm values were written. Without --dry-run, --helm-values-out would write ${files.central}, ${files.sensor}.`);
    expect(existsSync(join(dir, 'init'))).toBe(false);
    expect(await awsWrites(sb, a0)).toEqual([]);
    expect(await kubeRequests(sb, 'eks', k0, { namespace: ns, writesOnly: true })).toEqual([]);

    const init = await cli(['init', '--yes', '--output', 'json', '--helm-values-out', out, ...common]);
    expect(init.code, init.stderr).toBe(0);
    expect(readdirSync(join(dir, 'init')).sort()).toEqual(['rhacs.stackrox-central-services.yaml', 'rhacs.stackrox-secured-cluster-services.yaml']);
    const central = valuesFile(files.central);
    expect(central.header[1]).toBe(`#   ${command('stackrox-central-services', 'stackrox-central-services', files.central)}`);
    expect(central.values).toEqual({ customize: { other: { 'serviceaccount/central': { annotations: { 'eks.amazonaws.com/role-arn': arn } } } } });
    const sensor = valuesFile(files.sensor);
    expect(sensor.header[1]).toBe(`#   ${command('stackrox-secured-cluster-services', 'stackrox-secured-cluster-services', files.sensor)}`);
    expect(sensor.values).toEqual({ customize: { other: { 'serviceaccount/sensor': { annotations: { 'eks.amazonaws.com/role-arn': arn } } } } });
    // Where each went, in the result too.
    expect(JSON.parse(init.stdout).helmValuesFiles).toEqual([
      { release: 'stackrox-central-services', chart: 'stackrox-central-services', namespace: ns, file: files.central, command: command('stackrox-central-services', 'stackrox-central-services', files.central), written: true },
      { release: 'stackrox-secured-cluster-services', chart: 'stackrox-secured-cluster-services', namespace: ns, file: files.sensor, command: command('stackrox-secured-cluster-services', 'stackrox-secured-cluster-services', files.sensor), written: true },
    ]);
    for (const [release, file] of [['stackrox-central-services', files.central], ['stackrox-secured-cluster-services', files.sensor]]) {
      expect(init.stderr).toContain(`Wrote the Helm values for release ${release} to ${file}.`);
    }

    // Uninstall: its own files, whose values remove ours (null) at the next helm upgrade.
    const undoDir = join(dir, 'undo') + '/';
    const undo = await cli(['uninstall', '--yes', '--helm-values-out', undoDir, '--namespace', ns, '--role-name', 'hv-role']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(readdirSync(undoDir).sort()).toEqual(['stackrox-central-services.yaml', 'stackrox-secured-cluster-services.yaml']);
    const undone = valuesFile(join(undoDir, 'stackrox-central-services.yaml'));
    expect(undone.header[0]).toContain('Undoes rhacs-sts\'s values for release stackrox-central-services (null removes a key when Helm merges values)');
    expect(undone.header[1]).toBe(`#   ${command('stackrox-central-services', 'stackrox-central-services', join(undoDir, 'stackrox-central-services.yaml'))}`);
    expect(undone.values).toEqual({ customize: { other: { 'serviceaccount/central': { annotations: { 'eks.amazonaws.com/role-arn': null } } } } });
    expect(valuesFile(join(undoDir, 'stackrox-secured-cluster-services.yaml')).values)
      .toEqual({ customize: { other: { 'serviceaccount/sensor': { annotations: { 'eks.amazonaws.com/role-arn': null } } } } });

    // A dry-run uninstall names the files but writes none.
    const undoDry = join(dir, 'undo-dry.yaml');
    const dryUndo = await cli(['uninstall', '--dry-run', '--helm-values-out', undoDry, '--namespace', ns, '--role-name', 'hv-role']);
    expect(dryUndo.code, dryUndo.stderr).toBe(0);
    expect(dryUndo.stderr).toContain('Dry run: no Helm values were written.');
    expect(readdirSync(dir).filter((f) => f.startsWith('undo-dry'))).toEqual([]);
  });

  it('an install that is not Helm: nothing is written, and it says so', async () => {
    const ns = uniqueNamespace('hv-man');
    await seedRhacs(kubeConfigFor(sb, 'eks'), { namespace: ns, method: 'manifests', components: ['central'] });
    const out = join(dir, 'none.yaml');
    const r = await cli(['init', '--yes', '--no-restart', '--helm-values-out', out, '--namespace', ns, '--role-name', 'hv-man']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`RHACS was not installed with Helm here, so there are no Helm values to write to ${out}; nothing was written.`);
    expect(readdirSync(dir).filter((f) => f.startsWith('none'))).toEqual([]);
  });
});
