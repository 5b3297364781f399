/**
 * init's questions on GKE, at a terminal: only what the flags left open, each with the default a
 * script gets (the service account's name, delegated scanning where Sensor runs, the Artifact
 * Registry scope). A flag beats a question; in a script, or with --yes or --dry-run, nothing is asked.
 */
import type { ClusterFacts } from '../../plan/model.js';
import type { Ui } from '../../ui/ui.js';
import type { GcpRunOptions } from './facts.js';
import { parseGarRepositories } from './registry-grant.js';
import { accountIdProblems, defaultAccountId } from './service-account.js';

export type GcpAnswers = Partial<Pick<GcpRunOptions, 'gcpServiceAccount' | 'delegatedScanning' | 'garRepositories'>>;

export async function askGcp(o: GcpRunOptions & { sensorContexts: readonly string[] }, clusters: readonly ClusterFacts[], ui: Ui): Promise<GcpAnswers> {
  const out: GcpAnswers = {};
  const central = clusters.find((c) => c.components.includes('central')) ?? clusters[0];
  const project = o.gcpProject ?? central?.gke?.projectId;
  if (o.gcpServiceAccount === undefined) {
    out.gcpServiceAccount = await ui.input({
      message: 'Google service account RHACS acts as (its id; created and marked as rhacs-sts\'s if it does not exist)',
      default: defaultAccountId(o.clusterName ?? central?.gke?.name ?? central?.name ?? 'central'),
      validate: (v) => {
        const p = accountIdProblems(v.trim());
        return p.length ? `"${v.trim()}" ${p.join(', and ')}` : undefined;
      },
    });
    out.gcpServiceAccount = out.gcpServiceAccount.trim();
  }
  const sensorRuns = clusters.some((c) => c.components.includes('sensor'));
  if (o.delegatedScanning === undefined && o.sensorContexts.length === 0 && sensorRuns) {
    const onlySensor = clusters.some((c) => c.components.includes('sensor') && !c.components.includes('central'));
    out.delegatedScanning = await ui.confirm('Delegated scanning: should Sensor pull images from Artifact Registry too? (only if it is turned on in RHACS)', onlySensor);
  }
  if (o.garRepositories.length === 0) {
    const scope = await ui.select<'project' | 'repositories'>('Which Artifact Registry repositories may RHACS read?', [
      { value: 'project', name: `Every repository in project ${project ?? 'of the cluster'} (roles/artifactregistry.reader on the project)` },
      { value: 'repositories', name: 'Only the repositories I list (the role on each repository)' },
    ], 'project');
    if (scope === 'repositories') {
      const listed = await ui.input({
        message: 'Repositories (<location>/<repository>, separated by commas, e.g. europe-west1/rhacs)',
        validate: (v) => {
          const values = v.split(',').map((x) => x.trim()).filter(Boolean);
          if (!values.length) return 'name at least one repository';
          const { problems } = parseGarRepositories(values);
          return problems.length ? problems.map((p) => p.message).join('; ') : undefined;
        },
      });
      out.garRepositories = parseGarRepositories(listed.split(',').map((x) => x.trim()).filter(Boolean)).repositories;
    }
  }
  return out;
}
