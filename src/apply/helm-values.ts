/**
 * --helm-values-out: writes each Helm release's values (init: what keeps the change; uninstall:
 * what undoes it) to a single-document file of its own, named after the given path (see
 * helmValuesFileNames), headed by the command that applies it, and says where each went. The
 * commands write them after the confirmation and before applying anything, so that a path that
 * cannot be written stops the run with nothing changed. A dry run writes nothing and says so.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OperationError } from '../errors.js';
import { helmUpgradeCommand, helmValuesFileNames } from '../plan/helm-values.js';
import type { AnyPlan as Plan } from '../plan/model.js';
import { helmValuesYaml } from '../render/plan-text.js';
import type { Ui } from '../ui/ui.js';

export interface HelmValuesFile {
  release: string;
  chart: string;
  namespace: string;
  context?: string;
  file: string;
  /** The command that applies the file. */
  command: string;
  /** False in a dry run: the file was not written. */
  written: boolean;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes (or, in a dry run, only names) the files; undefined without --helm-values-out. */
export function writeHelmValues(plan: Plan, options: { helmValuesOut?: string; dryRun?: boolean }, ui: Ui): HelmValuesFile[] | undefined {
  const out = options.helmValuesOut;
  if (!out) return undefined;
  const values = plan.helmValues ?? [];
  if (!values.length) {
    ui.info(`RHACS was not installed with Helm here, so there are no Helm values to write to ${out}; nothing was written.`);
    return [];
  }
  const names = helmValuesFileNames(values, out, isDirectory(out));
  const files: HelmValuesFile[] = values.map((h, i) => ({
    release: h.release, chart: h.chart, namespace: h.namespace, ...(h.context ? { context: h.context } : {}),
    file: names[i]!, command: helmUpgradeCommand(h, names[i]!), written: false,
  }));
  if (options.dryRun) {
    ui.info(`Dry run: no Helm values were written. Without --dry-run, --helm-values-out would write ${files.map((f) => f.file).join(', ')}.`);
    return files;
  }
  for (const [i, f] of files.entries()) {
    let replaced: boolean;
    try {
      mkdirSync(dirname(f.file), { recursive: true });
      replaced = writeReplacing(f.file, helmValuesYaml(values[i]!, plan.command, f.file));
    } catch (err) {
      throw new OperationError(`Cannot write the Helm values for release ${f.release} to ${f.file}: ${(err as Error).message}.`, {
        exitCode: 2,
        hint: 'Pass a writable path with --helm-values-out (nothing was changed: the files are written before anything is applied).',
      });
    }
    f.written = true;
    ui.info(`${replaced ? 'Replaced' : 'Wrote'} the Helm values for release ${f.release}${f.context ? ` (context ${f.context})` : ''} ${replaced ? 'in' : 'to'} ${f.file}${replaced ? ' (its previous content is gone)' : ''}. Apply them with: ${f.command}`);
  }
  return files;
}

/**
 * Writes `text` to `file` as a whole or not at all: a new file beside it (readable by its owner
 * only), renamed over it. A symbolic link is refused, not followed (it may point anywhere the user
 * can write). Returns whether a file was replaced.
 */
function writeReplacing(file: string, text: string): boolean {
  let replaced = false;
  try {
    const st = lstatSync(file);
    if (st.isSymbolicLink()) throw new Error('it is a symbolic link; rhacs-sts does not write through links (name the file itself)');
    if (!st.isFile()) throw new Error('it exists and is not a regular file');
    replaced = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return replaced;
}
