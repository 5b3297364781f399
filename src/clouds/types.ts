/**
 * A cloud: the few functions the pipeline calls. Everything one cloud knows (credentials, account
 * facts, identity resources and their actions, apply and undo, checks, uninstall, issuer
 * publishing, the Central integration it configures) sits in its folder, src/clouds/<id>/, and is
 * reached through this interface and ./registry.ts. The pipeline (src/steps/, src/commands/) holds
 * values of these types without looking inside them: each cloud fills in its own session, facts,
 * state and actions (the type parameters), and the cloud-neutral plan (src/plan/model.ts) carries them.
 */
import type { PlatformId, PodWiring } from '../platforms/types.js';

import type { CloudId } from './ids.js';

export type { CloudId };

/** The common fields of every planned action; a cloud adds its own, `type` names the kind. */
export interface CloudAction {
  id: string;
  type: string;
  status: 'create' | 'update' | 'unchanged' | 'delete';
  target: string;
  summary: string;
  current?: unknown;
  desired?: unknown;
}

/** An open connection to a cloud (credentials resolved, clients bounded). */
export interface CloudSession<A extends CloudAction, P> {
  /** Applies one of the cloud's actions; re-reads and re-checks ownership before writing. True when it wrote. */
  apply(action: A, plan: P): Promise<boolean>;
}

/** What opening a session is given: flags and the environment, read at the entry point. */
export interface CloudSessionInput<E> {
  profile?: string;
  region?: string;
  environment?: E;
  timeoutMs?: number;
  log: (message: string) => void;
  warn?: (message: string) => void;
  /** A token for a Kubernetes service account of one of the run's clusters (by its context): a cloud proves new grants effective with it. */
  clusterToken?: (context: string | undefined, namespace: string, serviceAccount: string, audience: string) => Promise<string>;
  /** Progress of a long step (a wait), for people. */
  progress?: (message: string) => void;
  /** The most a wait of the cloud's may take (--timeout). */
  waitMs?: number;
}

/** The Central image integration a cloud configures. */
export interface CentralIntegrationKind {
  /** Central's integration `type` (`ecr`, `artifactregistry`, `azure`). */
  type: string;
  /** The field that makes Central use the pod's identity (`ecr.useIam`, `google.wifEnabled`, `azure.wifEnabled`). */
  identityField: string;
}

/**
 * One cloud. Its type parameters are its own: the session, the environment it reads, its actions,
 * and the inputs and results of its planning and checks.
 */
export interface Cloud<
  A extends CloudAction = CloudAction,
  P = unknown,
  S extends CloudSession<A, P> = CloudSession<A, P>,
  E = unknown,
  PlanInput extends unknown[] = unknown[],
  UninstallInput extends unknown[] = unknown[],
  CheckInput extends unknown[] = unknown[],
  Report = unknown,
  StateInput extends unknown[] = unknown[],
  State = unknown,
> {
  id: CloudId;
  /** For people ("AWS", "Google Cloud", "Azure"). */
  title: string;
  /** The platforms it pairs with: its managed one, then OpenShift on it. */
  platforms: readonly PlatformId[];
  /** The audience of the token a cluster of this platform presents to the cloud. */
  audience: (platform: PlatformId) => string;
  /** What the pods need to act as the identity (an IAM role ARN, a service account email, a client id), on a platform. */
  wiring: (platform: PlatformId, identity: string) => PodWiring;
  /** Which of a plan's actions are this cloud's (apply routes them to its session). */
  isAction: (action: { type: string }) => action is A;
  /** Credentials from the cloud's default chain. */
  openSession: (input: CloudSessionInput<E>) => Promise<S>;
  /** Reads what is in place in the cloud for a run (read-only): the input of `plan` and `planUninstall`. */
  readState?: (...input: StateInput) => Promise<State>;
  /** Pure: the actions it plans for the clusters and service accounts of a run (with the cluster side its wiring needs). */
  plan: (...input: PlanInput) => P;
  /** Pure: what undoes it (only what carries its record). */
  planUninstall: (...input: UninstallInput) => P;
  /** Its verify checks: the cluster's token → the cloud's exchange → a registry read, one row per link. */
  checks: (...input: CheckInput) => Promise<Report>;
  /** The Central integration it configures. */
  integration: CentralIntegrationKind;
  /** Publishing a cluster's issuer where the cloud reads it, when it must (AWS: S3); absent when keys go inline. */
  issuerPublishing?: () => Promise<unknown>;
}
