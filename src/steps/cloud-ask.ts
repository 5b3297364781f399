/**
 * init at a terminal on a cloud other than AWS: the cloud's questions, only for what the flags and
 * detection left open, each with the default a script gets. Nothing is asked in a script, with
 * --yes, or for a plan (--dry-run, `plan`).
 */
import { loadCloud } from '../clouds/registry.js';
import type { Options } from '../options/options.js';
import type { ClusterFacts } from '../plan/model.js';
import type { Ui } from '../ui/ui.js';
import type { CloudRun } from './cloud-init.js';
import type { Step } from './run.js';

/** A cloud that asks (its `ask`: the answers as options). */
type AskingCloud = { ask?: (options: Options, clusters: ClusterFacts[], ui: Ui) => Promise<Partial<Options>> };

export const askOnCloud: Step<CloudRun> = async (r) => {
  const { answers: o, ui } = r;
  if (!ui.interactive || o.dryRun || o.yes || o.command !== 'init') return;
  const cloud = (await loadCloud(r.cloud)) as AskingCloud;
  if (!cloud.ask) return;
  r.answers = { ...o, ...(await cloud.ask(o, r.clusters!, ui)) };
};
