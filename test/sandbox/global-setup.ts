// vitest global setup for the `integration` project: provisions the sandbox if needed (so
// `vitest run --project integration` works on its own), starts ONE sandbox with four clusters,
// `eks`, `openshift`, `gke`, `aks`, `openshift-azure` (OpenShift whose Infrastructure says Azure) and `openshift-gcp` (says Google Cloud) (each with its real controller-manager, scheduler and kwok), seeds their
// flavours and the ECR registries, starts the stand-ins (start.ts: on EKS the IRSA webhook, which
// also injects EKS Pod Identity, and the Pod Identity Agent; on AKS the Azure stand-ins and the workload
// identity webhook; Central's API for every cluster), and
// provides the sandbox's description to the test files as `inject('sandbox')`.
// Anything that cannot start throws (with the failing process's output): the suite fails, never skips.
import type { TestProject } from 'vitest/node';
import type {} from './context.js'; // the ProvidedContext typing of 'sandbox'
import { isProvisioned, provision } from './provisioning.js';
import { OPENSHIFT_AZURE_CLUSTER, startWithStandIns } from './start.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (m: string) => process.stderr.write(`[sandbox] ${m}\n`);
  if (!isProvisioned()) {
    log('binaries or the moto virtualenv are missing: running test/sandbox/provision.sh');
    provision();
  }
  const { sandbox, stop } = await startWithStandIns({ sandbox: { clusters: [{ name: 'eks' }, { name: 'openshift' }, { name: 'gke' }, { name: 'aks' }, OPENSHIFT_AZURE_CLUSTER, { name: 'openshift-gcp', flavour: 'openshift', cloud: 'gcp' }] }, log });
  project.provide('sandbox', sandbox.info);
  return stop;
}
