// Seed data for the sandbox API servers, one entry for the tests: the EKS and OpenShift flavours
// (kube/eks-flavour.ts, kube/openshift-flavour.ts), RHACS installs (central/rhacs-install.ts:
// operator, Helm or plain manifests; Central and/or Sensor), restricted users for permission errors
// (kube/restricted-users.ts), rollout helpers (kube/rollouts.ts; the real controller-manager,
// scheduler and kwok run the rollouts: kube/controllers.ts) and the generic helpers (kube/objects.ts).
export { apiStatus, applyCrds, ensureNamespace, mergePatch, uniqueNamespace, waitForCrds } from './kube/objects.js';
export * from './kube/eks-flavour.js';
export * from './kube/openshift-flavour.js';
export * from './central/rhacs-install.js';
export * from './kube/restricted-users.js';
export * from './kube/rollouts.js';
