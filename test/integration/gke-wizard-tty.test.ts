// init on GKE at a real terminal (tmux): it asks only what the flags and detection left open — the
// Google service account, delegated scanning where Sensor runs, the Artifact Registry scope — each
// with its default, then shows the plan and applies after one confirmation; a flag given is not
// asked; in a script the same command asks nothing (applying needs --yes, naming it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../sandbox/cli.js';
import { useSandbox } from '../sandbox/context.js';
import { seedRhacs, uniqueNamespace } from '../sandbox/fixtures.js';
import { startGkeGoogle, type GkeGoogle } from '../sandbox/gcp/gke-google.js';
import { kubeConfigFor } from '../sandbox/observe.js';
import { Terminal } from '../sandbox/terminal.js';

const sb = useSandbox();
const PROJECT = 'sandbox-project';
const READER = 'roles/artifactregistry.reader';
const WI_USER = 'roles/iam.workloadIdentityUser';

let dir: string;
let google: GkeGoogle;
const terminals: Terminal[] = [];
// The GKE kubeconfig user runs gke-gcloud-auth-plugin: the sandbox's stand-in comes first on PATH.
const env = () => ({ ...google.env, KUBECONFIG: sb.clusters.gke!.kubeconfig, PATH: `${sb.awsCliDir}:${dirname(process.execPath)}:/usr/bin:/bin` });
const terminal = () => {
  const t = new Terminal(dir);
  terminals.push(t);
  return t;
};
const email = (id: string) => `${id}@${PROJECT}.iam.gserviceaccount.com`;
const members = (resource: Parameters<GkeGoogle['standins']['policy']>[0], role: string): string[] =>
  [...(google.standins.policy(resource).bindings ?? []).filter((b) => b.role === role && !b.condition).flatMap((b) => b.members ?? [])].sort();

beforeAll(async () => {
  execFileSync('tmux', ['-V']); // fails loudly if tmux is missing
  dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-gke-wizard-'));
  google = await startGkeGoogle(sb, sb.clusters.gke!);
});
afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
});
afterAll(async () => {
  await google?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rhacs-sts init on GKE at a terminal', () => {
  it('asks the service account, delegated scanning and the registry scope, then applies after one confirmation', { timeout: 120_000 }, async () => {
    const kc = kubeConfigFor(sb, 'gke');
    const ns = uniqueNamespace('gke-wiz');
    await seedRhacs(kc, { namespace: ns, method: 'manifests' });
    const repo = `images-${ns.slice(-6)}`;
    await google.standins.seedRepository({ projectId: PROJECT, location: 'europe-west1', repository: repo });
    const id = `rhacs-${ns.slice(-6)}`;

    const t = terminal();
    t.start(['init', '--namespace', ns], env());

    // The service account, with the default from the cluster's name; an invalid id is refused and asked again.
    await t.waitFor(/^\? Google service account RHACS acts as .*\(rhacs-gke\)/m);
    t.type('Bad_Name');
    t.keys('Enter');
    await t.waitFor(/must start with a lower-case letter/);
    t.keys('C-u');
    t.type(id);
    t.keys('Enter');

    await t.waitFor(/^\? Delegated scanning: should Sensor pull images from Artifact Registry too\?.*\(y\/N\)/m);
    t.type('y');
    t.keys('Enter');

    const scope = await t.waitFor(/^\? Which Artifact Registry repositories may RHACS read\?/m);
    expect(scope).toMatch(/Every repository in project sandbox-project/);
    t.keys('Down', 'Enter');
    await t.waitFor(/^\? Repositories \(<location>\/<repository>, separated by commas/m);
    t.type(`europe-west1/${repo}`);
    t.keys('Enter');

    const plan = await t.waitFor(/^\? Apply these (\d+) changes\?/m);
    expect(plan).toContain(`serviceAccount:${PROJECT}.svc.id.goog[${ns}/sensor]`);
    t.type('y');
    t.keys('Enter');
    expect(await t.exitCode(90_000)).toBe(0);

    expect(members({ kind: 'serviceAccount', email: email(id) }, WI_USER)).toEqual([
      `serviceAccount:${PROJECT}.svc.id.goog[${ns}/central]`, `serviceAccount:${PROJECT}.svc.id.goog[${ns}/sensor]`,
    ]);
    expect(members({ kind: 'repository', projectId: PROJECT, location: 'europe-west1', repository: repo }, READER)).toEqual([`serviceAccount:${email(id)}`]);
    expect(members({ kind: 'project', projectId: PROJECT }, READER)).not.toContain(`serviceAccount:${email(id)}`);
    const sa = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'sensor', namespace: ns });
    expect(sa.metadata?.annotations?.['iam.gke.io/gcp-service-account']).toBe(email(id));
  });

  it('a flag given is not asked; in a script nothing is asked and applying needs --yes', { timeout: 120_000 }, async () => {
    const kc = kubeConfigFor(sb, 'gke');
    const ns = uniqueNamespace('gke-wiz2');
    await seedRhacs(kc, { namespace: ns, method: 'manifests', components: ['central'] });
    const id = `rhacs-${ns.slice(-6)}`;

    const t = terminal();
    t.start(['init', '--namespace', ns, '--gcp-service-account', id], env());
    // Only Central runs here: no delegated scanning question; the service account was given.
    const screen = await t.waitFor(/^\? Which Artifact Registry repositories may RHACS read\?/m);
    expect(screen).not.toMatch(/Google service account RHACS acts as/);
    expect(screen).not.toMatch(/Delegated scanning/);
    t.keys('Enter');
    await t.waitFor(/^\? Apply these \d+ changes\?/m);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(members({ kind: 'project', projectId: PROJECT }, READER)).not.toContain(`serviceAccount:${email(id)}`);

    const mark = google.standins.mark();
    const script = await cli(sb, 'gke', ['init', '--namespace', ns], google.env);
    expect(script.code, script.stderr).toBe(2);
    expect(script.stderr).toContain('--yes');
    expect(google.standins.requests(mark).filter((r) => r.method !== 'GET' && !/getIamPolicy$/.test(r.methodId) && r.methodId !== 'oauth2.token')).toEqual([]);
  });
});
