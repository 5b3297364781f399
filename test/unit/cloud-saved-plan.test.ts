// Saved plans of a cloud other than AWS (GKE, AKS): the document's checks (every problem at once,
// naming --plan), the saved choices over the command line's (a flag that would change them is
// refused, naming it), the drift between the saved and the live plan, and the plan command the
// drift hint names.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { cloudOptionsFromPlan, cloudPlanCommand, cloudPlanDrift, parseSavedCloudPlan, type SavedCloudPlan } from '../../src/steps/cloud-saved-plan.js';
import type { AnyPlan } from '../../src/plan/model.js';
import { options } from './builders.js';

const ISSUER = 'https://container.googleapis.com/v1/projects/p/locations/europe-west1/clusters/prod';
const action = (over: Record<string, unknown> = {}) => ({ id: 'gcp-service-account', type: 'gcp-service-account', status: 'create', target: 'rhacs-prod@p.iam.gserviceaccount.com', summary: 's', desired: { email: 'rhacs-prod@p.iam.gserviceaccount.com' }, ...over });
const doc = (over: Record<string, unknown> = {}) => ({
  planVersion: 1, command: 'init', cloud: 'gcp', provider: 'gke', projectId: 'p', actions: [action()], blockers: [],
  inputs: { cloud: 'gcp', options: { namespace: 'stackrox', gcpServiceAccount: 'rhacs-prod', garRepositories: [{ location: 'europe-west1', repository: 'images' }] }, clusters: [{ kubeContext: 'gke_p_europe-west1_prod', issuer: ISSUER, namespace: 'stackrox', components: ['central'] }] },
  ...over,
});
const problems = (d: Record<string, unknown>): string[] => {
  try {
    parseSavedCloudPlan('p.json', d);
    return [];
  } catch (err) {
    return (err as InputError).problems.map((p) => `${p.source}: ${p.message}`);
  }
};

describe('a saved plan on GKE or AKS', () => {
  it('is checked as input: every problem at once, each naming --plan', () => {
    expect(problems(doc())).toEqual([]);
    const bad = problems(doc({ planVersion: 2, command: 'uninstall', applied: [], inputs: { cloud: 'gcp', options: { namespace: 'Not_A_Label', restart: 'no', roleName: 'x' }, clusters: [{ issuer: ISSUER, namespace: 'stackrox' }] } }));
    expect(bad).toEqual([
      '--plan: p.json: has planVersion 2; this version of rhacs-sts reads planVersion 1',
      '--plan: p.json: is a plan for "uninstall", not for init',
      '--plan: p.json: is the result of an init run, not a saved plan',
      expect.stringMatching(/^--plan: p\.json: inputs\.options\.namespace: /),
      '--plan: p.json: inputs.options.restart is not true or false',
      '--plan: p.json: inputs.options.roleName is not a choice a saved plan fixes',
    ]);
    expect(problems(doc({ inputs: { cloud: 'azure', options: {}, clusters: [] } }))).toEqual([expect.stringMatching(/no valid "inputs" section/)]);
  });

  it('its choices become the run\'s; a flag that would change one is refused naming it; flags about how to run stay', () => {
    const saved = parseSavedCloudPlan('p.json', doc());
    const o = cloudOptionsFromPlan(options({ yes: true, timeout: '90s' }), saved);
    expect(o).toMatchObject({ namespace: 'stackrox', gcpServiceAccount: 'rhacs-prod', garRepositories: [{ location: 'europe-west1', repository: 'images' }], yes: true, timeoutMs: 90_000, restart: true });
    // The same value as the plan's is no change; another one is refused.
    expect(cloudOptionsFromPlan(options({ namespace: 'stackrox' }), saved).namespace).toBe('stackrox');
    const err = (() => {
      try {
        cloudOptionsFromPlan(options({ gcpServiceAccount: 'rhacs-other', namespace: 'stackrox', restart: false }), saved);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems.map((p) => p.source)).toEqual(['--no-restart', '--gcp-service-account']);
  });

  it('drift: an action whose state changed, a new issuer, another project; none when the live plan is the saved one', () => {
    const saved: SavedCloudPlan = parseSavedCloudPlan('p.json', doc());
    const cluster = { context: undefined, issuer: ISSUER, namespace: 'stackrox', components: ['central'] } as never;
    const live = (over: Record<string, unknown> = {}, actions = [action()]) => ({ planVersion: 1, command: 'init', cloud: 'gcp', provider: 'gke', projectId: 'p', actions, blockers: [], notes: [], kubernetes: [], restarts: [], offline: false, ...over }) as unknown as AnyPlan;
    expect(cloudPlanDrift(saved, { plan: live(), clusters: [cluster], kubeContexts: ['gke_p_europe-west1_prod'] })).toEqual([]);
    expect(cloudPlanDrift(saved, { plan: live({ projectId: 'q' }, [action({ status: 'unchanged' })]), clusters: [{ ...(cluster as object), issuer: `${ISSUER}2` } as never], kubeContexts: ['other'] })).toEqual([
      'projectId: was "p", now "q"',
      'the current context: was "gke_p_europe-west1_prod", the kubeconfig now selects "other"',
      `the current context: the cluster's issuer was ${ISSUER}, now ${ISSUER}2`,
      'gcp-service-account rhacs-prod@p.iam.gserviceaccount.com: status was "create", now "unchanged"',
    ]);
  });

  it('the drift hint names the plan command with the same choices', () => {
    expect(cloudPlanCommand(parseSavedCloudPlan('p.json', doc()))).toBe('rhacs-sts plan --namespace stackrox --gcp-service-account rhacs-prod --gar-repository europe-west1/images');
  });
});
