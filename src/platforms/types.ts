/**
 * A platform: how a cluster is recognised, and how its pods receive a cloud identity, in which
 * durable place, and what makes the pods take it up. Cloud-neutral: the identity itself (an IAM role,
 * a Google service account, a managed identity) comes from a cloud as a `PodWiring`; the platform
 * says where that wiring goes. One folder per platform (src/platforms/<id>/), listed in ./registry.ts.
 */
import type { Component, InstallMethod, OperatorOverlay } from '../plan/model.js';

/** The platforms rhacs-sts knows (the registry lists each one's module). */
export type PlatformId = 'eks' | 'openshift' | 'gke' | 'aks';

/** What the pods of one component need to act as the cloud identity, as a cloud states it. */
export interface PodWiring {
  /** Annotations on the component's service account (EKS: role ARN; GKE: service account; AKS: client id). */
  serviceAccountAnnotations?: Record<string, string>;
  /** Labels on the pod template (AKS: `azure.workload.identity/use: "true"`, which the webhook selects on). */
  podLabels?: Record<string, string>;
  /** Environment of the component's container (OpenShift: AWS_ROLE_ARN, AZURE_CLIENT_ID, …). */
  env?: { name: string; value: string }[];
  /** A Secret the component reads (OpenShift on Google Cloud: `gcp-cloud-credentials`, an external_account file). */
  secret?: { name: string; data: Record<string, string> };
  /** A projected service-account token the pods need, mounted at the platform's token path. */
  token?: { audience: string; path: string; expirationSeconds: number };
}

/** One signal that a cluster is this platform (for the "why" of detection). */
export interface DetectionSignal {
  /**
   * Where it is read: the issuer, the API server host, a node's providerID, a node label (`key=value`),
   * an API group, a kubeconfig context or user (its name), or a kubeconfig user's exec plugin.
   */
  source: 'issuer' | 'api-server' | 'node-provider-id' | 'node-label' | 'api-group' | 'kubeconfig' | 'kubeconfig-exec';
  /** What it must look like. */
  pattern: RegExp | string;
}

/** How a restart makes the pods take up a changed wiring. */
export interface RestartRule {
  /** `restartedAt`: the pod-template marker (a webhook injects at pod creation); `rollout`: the change itself rolls the pods. */
  method: 'restartedAt' | 'rollout';
  /** Whether a changed wiring needs a restart at all (a watched Secret does not). */
  needed: (w: PodWiring) => boolean;
}

export interface Platform {
  id: PlatformId;
  /** For people ("EKS", "GKE", "OpenShift"). */
  title: string;
  /** The signals detection looks for, strongest first. */
  signals: readonly DetectionSignal[];
  /**
   * The audience of the token the pods present, by cloud (EKS's IRSA webhook: sts.amazonaws.com;
   * OpenShift's own projected token: openshift).
   */
  audience: (cloud: string) => string;
  /** Whether this platform runs a webhook that turns service-account annotations into pod credentials. */
  webhookWiring: boolean;
  /** The durable place of a wiring in a StackRox CR (spec.overlays, one object each). */
  operatorOverlays: (comp: Component, w: PodWiring) => OperatorOverlay[];
  /** The durable place of a wiring in the StackRox Helm values (the `customize` block). */
  helmValues: (comp: Component, w: PodWiring) => Record<string, unknown>;
  /** What makes the pods take the wiring up. */
  restart: RestartRule;
  /** Install methods whose changes it can keep (all three today; manifests only live). */
  durablePlaces: readonly InstallMethod[];
}
