/**
 * OpenShift on Google Cloud, from its Infrastructure object (config.openshift.io/v1, `cluster`):
 * `status.platformStatus.type: GCP` and `status.platformStatus.gcp` (`projectID`, `region`). Pure:
 * the object is read elsewhere and passed in.
 */
import { OperationError } from '../../errors.js';

/** The project and region the Infrastructure object's `platformStatus.gcp` names. */
export function openShiftGcpFacts(gcp: { projectID?: string; region?: string } | undefined): { projectId?: string; region?: string } {
  return { ...(gcp?.projectID ? { projectId: gcp.projectID } : {}), ...(gcp?.region ? { region: gcp.region } : {}) };
}

/**
 * OpenShift on Google Cloud whose Authentication object names no issuer: its tokens carry the
 * internal one. The provider's issuer must be the one the cluster names for its tokens.
 */
export function openShiftGcpWithoutIssuer(): OperationError {
  return new OperationError(
    'This OpenShift cluster on Google Cloud is not set up for short-lived credentials: authentication.config.openshift.io/cluster has no spec.serviceAccountIssuer, so its service-account tokens carry the internal issuer (https://kubernetes.default.svc).',
    { hint: 'Give the cluster its own issuer URL (spec.serviceAccountIssuer; ccoctl gcp create-all sets it at install time), wait for the kube-apiservers to roll out, then re-run. Its keys go to Google inline, so the issuer need not be reachable from the internet.' },
  );
}
