/**
 * Helm values (pure): per release, what makes init's change durable across "helm upgrade", or
 * what undoes it (uninstall: null removes a key in Helm's merge of values). Helm reads only the
 * first YAML document of a values file, so each release gets a file of its own, named after the
 * path given with --helm-values-out, and headed by the full command that applies it.
 */
import { basename, dirname, extname, join } from 'node:path';
import { HELM_CHART, type ClusterFacts, type Component, type HelmValues } from './model.js';

/** The Helm repository alias the printed commands use (`helm repo add rhacs <charts URL>`). */
export const HELM_REPO_ALIAS = 'rhacs';

/** Collects values per release within one cluster. */
export class HelmValuesByRelease {
  private readonly byRelease = new Map<string, HelmValues>();

  constructor(private readonly cluster: ClusterFacts) {}

  add(comp: Component, values: Record<string, unknown>): void {
    const release = this.cluster.helmReleases?.[comp] ?? HELM_CHART[comp];
    const prev = this.byRelease.get(release);
    const chartVersion = prev?.chartVersion ?? this.cluster.helmChartVersions?.[comp];
    this.byRelease.set(release, {
      release,
      chart: prev?.chart ?? HELM_CHART[comp],
      ...(chartVersion ? { chartVersion } : {}),
      context: this.cluster.context,
      namespace: this.cluster.namespace,
      values: deepMerge(prev?.values ?? {}, values),
    });
  }

  list(): HelmValues[] {
    return [...this.byRelease.values()];
  }
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && v && typeof v === 'object' && !Array.isArray(v)
      ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that applies a values file to its release: the same chart version (without
 * --version, "helm upgrade" would also upgrade RHACS to the newest chart), the release's other
 * values kept (--reuse-values), and the kubeconfig context when known.
 */
export function helmUpgradeCommand(h: HelmValues, file = '<file>'): string {
  return [
    'helm upgrade', shellWord(h.release), `${HELM_REPO_ALIAS}/${h.chart}`, '-n', shellWord(h.namespace),
    ...(h.chartVersion ? ['--version', shellWord(h.chartVersion)] : []),
    '--reuse-values', '-f', file === '<file>' ? file : shellWord(file),
    ...(h.context ? ['--kube-context', shellWord(h.context)] : []),
  ].join(' ');
}

/**
 * Where each release's values go, from the path given with --helm-values-out: `values.yaml` →
 * `values.<release>.yaml` beside it, or `values.<context>.<release>.yaml` for a cluster named by a
 * context flag (the same release runs in every secured cluster: runs for different clusters, or
 * --role-per-cluster's runs, must not overwrite each other's); a directory (an existing one, or a
 * path ending in "/") → `<dir>/[<context>.]<release>.yaml`.
 */
export function helmValuesFileNames(values: HelmValues[], out: string, isDirectory: boolean): string[] {
  const label = (h: HelmValues) => [...(h.context ? [safeName(h.context)] : []), h.release].join('.');
  if (isDirectory || /[/\\]$/.test(out)) return values.map((h) => join(out, `${label(h)}.yaml`));
  const ext = extname(out);
  const stem = basename(out, ext);
  return values.map((h) => join(dirname(out), `${stem}.${label(h)}${ext || '.yaml'}`));
}

/** A context name as a file-name part (EKS contexts are ARNs: `arn:aws:eks:…:cluster/prod`). */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_');
}
