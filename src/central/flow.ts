/**
 * Central's part of init, uninstall and verify: reach Central, check that it can use the container
 * IAM role for ECR (a managed Central cannot), plan the integration, and apply it only once
 * Central's own test passes — a test that runs in Central's pod, with Central's identity, so it
 * proves what nothing else can. The client (port-forward, TLS, credentials) is loaded lazily.
 */
import type { Sessions } from '../discover.js';
import { OperationError } from '../errors.js';
import type { KubeSession } from '../kube/session.js';
import type { Options } from '../options/options.js';
import type { ClusterFacts, Decisions, Facts, Plan } from '../plan/model.js';
import type { Ui } from '../ui/ui.js';
import type { CentralApiError, CentralClient } from './client.js';
import {
  explainTestFailure,
  INTEGRATION_RECORD_ANNOTATION,
  parseRecord,
  planIntegration,
  planIntegrationRemoval,
  type FailureContext,
  type ImageIntegration,
  type IntegrationAction,
  type IntegrationPlan,
  type IntegrationRecord,
  type IntegrationWanted,
} from './integration.js';
import { explainKindTestFailure } from './kind-failures.js';
import { holdsNoSecret, INTEGRATION_KINDS, integrationFor, kindOfType, sameRegistry, usesPodIdentity, type IntegrationKindId, type IntegrationKindSpec, type KindInputs } from './kinds.js';

export interface CentralTarget {
  cluster: ClusterFacts;
  kube: KubeSession;
}

/** The cluster that runs Central, with its Kubernetes session. */
export function centralTarget(facts: Facts, sessions: Sessions): CentralTarget | undefined {
  const cluster = facts.clusters.find((c) => c.components.includes('central'));
  if (!cluster) return undefined;
  const kube = sessions.kube.get(cluster.context ?? '') ?? (sessions.kube.size === 1 ? [...sessions.kube.values()][0] : undefined);
  return kube ? { cluster, kube } : undefined;
}

export function hasCentralCredentials(options: Options): boolean {
  return options.centralCredentials.kind !== 'none';
}

export async function connectCentral(options: Options, target: CentralTarget, ui: Ui): Promise<CentralClient> {
  const { openCentral } = await import('./client.js');
  return openCentral({ kube: target.kube, namespace: target.cluster.namespace, endpoint: options.centralEndpoint, credentials: options.centralCredentials, log: ui.debug, extraCaFile: options.extraCaCertsFile });
}

export interface CentralState {
  client: CentralClient;
  version?: string;
  integrations: ImageIntegration[];
  record?: IntegrationRecord;
}

/** The record of a kind's integration on Central's service account (each kind has its own annotation). */
export function recordOf(cluster: ClusterFacts, kind: IntegrationKindId = 'ecr'): IntegrationRecord | undefined {
  return parseRecord(cluster.current?.central?.serviceAccount?.annotations[INTEGRATION_KINDS[kind].recordAnnotation]);
}

/**
 * Pre-flight: Central's version, its integrations and the record of the kind's integration; for ECR,
 * that Central can use the container IAM role (not a managed Central: Central reports no such
 * capability for Google's and Azure's workload identity).
 */
export async function readCentral(options: Options, target: CentralTarget, ui: Ui, kind: IntegrationKindId = 'ecr'): Promise<CentralState> {
  const client = await connectCentral(options, target, ui);
  if (kind === 'ecr') await requireContainerIamRole(client);
  const [meta, integrations] = await Promise.all([client.metadata(), client.integrations()]);
  return { client, version: meta.version || undefined, integrations, record: recordOf(target.cluster, kind) };
}

/** A managed Central (RHACS Cloud Service) cannot use a container IAM role for ECR: it says so in its capabilities. */
async function requireContainerIamRole(client: CentralClient): Promise<void> {
  const caps = await client.capabilities();
  if (caps.centralScanningCanUseContainerIamRoleForEcr !== 'CapabilityAvailable') {
    throw new OperationError(
      `This Central cannot use a container IAM role for ECR (it reports centralScanningCanUseContainerIamRoleForEcr = ${String(caps.centralScanningCanUseContainerIamRoleForEcr ?? 'absent')}): it is a managed Central (RHACS Cloud Service), whose pods are not yours to give a role.`,
      { hint: 'Configure the ECR integration in RHACS with the credentials that service supports, and run rhacs-sts without --configure-integration.' },
    );
  }
}

/** What the integration should name: the registry the role may read, in one region (the cluster's when any region was given). */
export function wantedIntegration(options: Options, decisions: Decisions, facts: Facts): IntegrationWanted {
  const assumeRole = wantedAssumeRole(options, decisions);
  return {
    registryId: decisions.ecr.registryId,
    region: decisions.ecr.region ?? facts.region,
    name: options.integrationName,
    ...(assumeRole ? { assumeRole } : {}),
  };
}

/**
 * StackRox's useAssumeRole: from the flags, else from the role's permissions in place (the
 * sts:AssumeRole grant an earlier --ecr-assume-role wrote), so that a plain re-run keeps it. The
 * external ID lives only in the integration: planIntegration keeps the one in place.
 */
function wantedAssumeRole(options: Options, decisions: Decisions): IntegrationWanted['assumeRole'] {
  if (options.ecrAssumeRole) return { name: options.ecrAssumeRole, ...(options.ecrAssumeRoleExternalId ? { externalId: options.ecrAssumeRoleExternalId } : {}) };
  const arn = decisions.ecr.assumeRoleArn;
  const name = arn?.slice(arn.lastIndexOf('/') + 1);
  return name ? { name } : undefined;
}

/** Adds the integration action (and its blockers and notes) to an init plan. */
export function addIntegrationToPlan(plan: Plan, p: IntegrationPlan): void {
  plan.actions.push(p.action);
  plan.blockers.push(...p.blockers);
  plan.notes.push(...p.notes);
}

export function planForInit(options: Options, decisions: Decisions, facts: Facts, target: CentralTarget, state: CentralState): IntegrationPlan {
  return planIntegration({
    wanted: wantedIntegration(options, decisions, facts),
    integrations: state.integrations,
    record: state.record,
    adopt: options.adoptIntegration,
    ref: { context: target.cluster.context, namespace: target.cluster.namespace, name: 'central' },
  });
}

export function planForUninstall(target: CentralTarget, state: CentralState): IntegrationAction | undefined {
  if (!state.record) return undefined;
  return planIntegrationRemoval({ integrations: state.integrations, record: state.record, ref: { context: target.cluster.context, namespace: target.cluster.namespace, name: 'central' } });
}

const isCentralError = (err: unknown): err is CentralApiError => (err as { centralMessage?: unknown })?.centralMessage !== undefined;

/** Central's test failed: which link of the chain is broken, and the fix (by the integration's kind). */
function testFailed(err: unknown, ctx: FailureContext, integration: ImageIntegration): unknown {
  if (!isCentralError(err) || err.status !== 400) return err;
  const kind = kindOfType(integration.type);
  if (kind && kind.id !== 'ecr') {
    const k = explainKindTestFailure(kind.id, err.centralMessage, { namespace: ctx.cluster.namespace, identity: ctx.identity ?? ctx.roleArn, initCommand: ctx.initCommand });
    return new OperationError(`Central's test of the ${kind.title} failed — broken link: ${k.link}. ${k.detail}`, { hint: `${k.fix}   Nothing was saved in RHACS.` });
  }
  const f = explainTestFailure(err.centralMessage, ctx);
  return new OperationError(`Central's test of the ECR integration failed — broken link: ${f.link}. ${f.detail}`, { hint: `${f.fix}   Nothing was saved in RHACS.` });
}

/** Applies the integration action: Central tests first, then saves; the record on Central's service account follows. */
export async function applyIntegration(a: IntegrationAction, deps: { client: CentralClient; kube: KubeSession; failure: FailureContext }): Promise<boolean> {
  const { client } = deps;
  const withId = () => ({ ...a.integration, id: a.integrationId! });
  let record = a.record;
  switch (a.op) {
    case 'create': {
      try {
        await client.test(a.integration);
      } catch (err) {
        throw testFailed(err, deps.failure, a.integration);
      }
      const created = await client.create(a.integration);
      record = { id: created.id, created: true };
      break;
    }
    case 'update':
    case 'adopt': {
      // Ours on Google or Azure holds no secret: Central then lets it point elsewhere (a changed
      // endpoint or project) only with updatePassword=true, which loses nothing. ECR as before.
      const o = a.op === 'update' && a.integration.type !== 'ecr' && holdsNoSecret(a.integration) ? { updatePassword: true } : undefined;
      try {
        await (o ? client.testUpdated(withId(), o) : client.testUpdated(withId()));
      } catch (err) {
        throw testFailed(err, deps.failure, a.integration);
      }
      await (o ? client.update(withId(), o) : client.update(withId()));
      break;
    }
    case 'restore':
      await client.update(withId());
      break;
    case 'delete':
      await client.remove(a.integrationId!);
      break;
    case 'forget':
      break;
  }
  if (record !== undefined) {
    const { writeServiceAccountRecord } = await import('./client.js');
    // Each kind keeps its own record (ECR's annotation as it always was).
    const annotation = kindOfType(a.integration.type)?.recordAnnotation ?? INTEGRATION_RECORD_ANNOTATION;
    await writeServiceAccountRecord(deps.kube, a.ref.namespace, annotation, record ? JSON.stringify(record) : null);
  }
  return true;
}

/** verify's line: Central tests the integration (ours, else one for the registry, else the one init would create). */
export async function centralTestRow(options: Options, decisions: Decisions, facts: Facts, target: CentralTarget, ui: Ui, ctx: FailureContext) {
  const id = 'central-test';
  const check = "Central's ECR test";
  try {
    const state = await readCentral(options, target, ui);
    const wanted = wantedIntegration(options, decisions, facts);
    const ours = state.record ? state.integrations.find((i) => i.id === state.record!.id) : undefined;
    const same = ours ?? state.integrations.find((i) => i.type === 'ecr' && i.ecr?.useIam && i.ecr.registryId === wanted.registryId && i.ecr.region === wanted.region && !i.autogenerated);
    const plan = planIntegration({ wanted, integrations: state.integrations, record: state.record, adopt: true, ref: { context: target.cluster.context, namespace: target.cluster.namespace, name: 'central' } });
    const tested = same ?? plan.action.integration;
    try {
      if (same?.id) await state.client.testUpdated({ ...same, id: same.id });
      else await state.client.test(tested);
    } catch (err) {
      if (!isCentralError(err) || err.status !== 400) throw err;
      const f = explainTestFailure(err.centralMessage, ctx);
      return { id, check, result: 'fail' as const, detail: `Broken link: ${f.link}. ${f.detail}`, fix: f.fix };
    }
    return {
      id, check, result: 'pass' as const,
      detail: same
        ? `Central (${state.client.via}) tested the integration "${same.name}" as its pod: it got ECR credentials for ${wanted.registryId} in ${wanted.region}.`
        : `Central (${state.client.via}) tested an integration for ${wanted.registryId} in ${wanted.region} with the container IAM role (none is saved yet: rhacs-sts init --configure-integration saves it).`,
    };
  } catch (err) {
    const e = err as OperationError;
    return { id, check, result: 'fail' as const, detail: `Could not ask Central: ${e.message}`, fix: e.hint ?? 'Check that Central runs and the credentials (ROX_API_TOKEN or ROX_ADMIN_PASSWORD).' };
  }
}

/**
 * verify's line for an Artifact Registry or Azure integration: Central tests ours, else one for the
 * registry that uses its workload identity, else the one init would create.
 */
export async function centralKindTestRow<K extends Exclude<IntegrationKindId, 'ecr'>>(options: Options, kind: K, inputs: KindInputs[K], target: CentralTarget, ui: Ui, ctx: { identity: string; initCommand: string }) {
  const spec = INTEGRATION_KINDS[kind];
  const id = 'central-test';
  const check = `Central's ${spec.title.replace(/ integration$/, '')} test`;
  const registry = (spec as IntegrationKindSpec<K>).registry(inputs);
  try {
    const state = await readCentral(options, target, ui, kind);
    const wanted = integrationFor(kind, inputs);
    const ours = state.record ? state.integrations.find((i) => i.id === state.record!.id) : undefined;
    const same = ours ?? state.integrations.find((i) => sameRegistry(kind, i, wanted) && usesPodIdentity(kind, i) && !i.autogenerated);
    try {
      if (same?.id) await state.client.testUpdated({ ...same, id: same.id });
      else await state.client.test(wanted);
    } catch (err) {
      if (!isCentralError(err) || err.status !== 400) throw err;
      const f = explainKindTestFailure(kind, err.centralMessage, { namespace: target.cluster.namespace, ...ctx });
      return { id, check, result: 'fail' as const, detail: `Broken link: ${f.link}. ${f.detail}`, fix: f.fix };
    }
    return {
      id, check, result: 'pass' as const,
      detail: same
        ? `Central (${state.client.via}) tested the integration "${same.name}" as its pod: it reached ${registry} with its workload identity.`
        : `Central (${state.client.via}) tested an integration for ${registry} with its workload identity (none is saved yet: rhacs-sts init --configure-integration saves it).`,
    };
  } catch (err) {
    const e = err as OperationError;
    return { id, check, result: 'fail' as const, detail: `Could not ask Central: ${e.message}`, fix: e.hint ?? 'Check that Central runs and the credentials (ROX_API_TOKEN or ROX_ADMIN_PASSWORD).' };
  }
}

// --- init ---------------------------------------------------------------------------------------

export interface IntegrationContext {
  target: CentralTarget;
  state: CentralState;
  /** Adds the integration action to a freshly built plan (with the options as answered so far). */
  addTo(plan: Plan, decisions: Decisions, facts: Facts, options?: Options): void;
  /** The applier for applyPlan (ApplyDeps.central). */
  apply(plan: Plan): (a: IntegrationAction) => Promise<boolean>;
}

/**
 * Whether and how init converges the integration: with --configure-integration (credentials are
 * then required), or, at a terminal without a flag saying either way, after a question — asked only
 * when credentials are there and Central answers. Reads Central (pre-flight) once.
 */
export async function prepareIntegration(options: Options, facts: Facts, sessions: Sessions, ui: Ui): Promise<IntegrationContext | undefined> {
  let want = options.configureIntegration;
  if (want === false) return undefined;
  if (want === undefined && (!ui.interactive || options.dryRun || options.yes || !hasCentralCredentials(options))) return undefined;
  const target = centralTarget(facts, sessions);
  if (!target) {
    if (want) {
      throw new OperationError('--configure-integration: Central does not run in the cluster of this run, so its integration cannot be configured from here.', {
        hint: 'Point --context (or --central-context) at the cluster that runs Central.',
      });
    }
    return undefined;
  }
  let state: CentralState;
  try {
    state = await ui.spinner('Asking Central (its capabilities, version and image integrations)…', () => readCentral(options, target, ui));
  } catch (err) {
    if (want) throw err;
    ui.warn(`Central could not be asked (${(err as Error).message}); the ECR integration is left to you.`);
    return undefined;
  }
  if (want === undefined) {
    want = await ui.confirm("Configure RHACS's ECR integration to use the container IAM role, through Central's API? (Central tests it before it is saved)", true);
    if (!want) return undefined;
  }
  // The version decides what the charts mount; Central says it when the image tag did not.
  if (!target.cluster.version && state.version) target.cluster.version = state.version;
  return {
    target,
    state,
    addTo: (plan, decisions, f, o = options) => addIntegrationToPlan(plan, planForInit(o, decisions, f, target, state)),
    apply: (plan) => (a) => applyIntegration(a, {
      client: state.client,
      kube: target.kube,
      failure: { cluster: target.cluster, roleArn: plan.role.arn, wired: true, initCommand: `rhacs-sts init --configure-integration --namespace ${target.cluster.namespace} --role-name ${plan.role.name}` },
    }),
  };
}
