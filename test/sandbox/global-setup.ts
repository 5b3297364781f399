// vitest global setup for the `integration` project: provisions the sandbox if needed (so
// `vitest run --project integration` works on its own), starts ONE sandbox with two clusters,
// `eks` and `openshift` (each with its real controller-manager, scheduler and kwok), seeds their
// flavours and the ECR registries, starts the Central API stand-ins (central-standin.ts), and provides the sandbox's description to the test files as
// `inject('sandbox')`. The EKS cluster also gets the IRSA webhook stand-in (irsa-webhook.ts), which also
// injects EKS Pod Identity, and the Pod Identity Agent stand-in (pod-identity-agent.ts).
// Anything that cannot start throws (with the failing process's output): the suite fails, never skips.
import type { TestProject } from 'vitest/node';
import type {} from './context.js'; // the ProvidedContext typing of 'sandbox'
import { seedEks, seedOpenShift } from './fixtures.js';
import { startIrsaWebhooks, type IrsaWebhook } from './aws/irsa-webhook.js';
import { startCentralStandIns, type CentralStandIns } from './central/central-standin.js';
import { startPodIdentityAgents, type PodIdentityAgent } from './aws/pod-identity-agent.js';
import { seedRegistries } from './aws/ecr-seed.js';
import { clusterInfo } from './observe.js';
import { isProvisioned, provision, startSandbox, type Sandbox } from './sandbox.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (m: string) => process.stderr.write(`[sandbox] ${m}\n`);
  if (!isProvisioned()) {
    log('binaries or the moto virtualenv are missing: running test/sandbox/provision.sh');
    provision();
  }
  let sandbox: Sandbox | undefined;
  let webhooks: IrsaWebhook[] = [];
  let centrals: CentralStandIns | undefined;
  let agents: PodIdentityAgent[] = [];
  const teardown = async () => {
    await centrals?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(webhooks.map((w) => w.stop()));
    await sandbox?.stop();
  };
  try {
    sandbox = await startSandbox({ clusters: [{ name: 'eks' }, { name: 'openshift' }], log });
    const eks = clusterInfo(sandbox.info, 'eks');
    const openshift = clusterInfo(sandbox.info, 'openshift');
    const t = Date.now();
    await seedEks(sandbox.kubeConfig('eks'), { region: eks.region });
    await seedOpenShift(sandbox.kubeConfig('openshift'), { issuer: openshift.issuer, region: openshift.region });
    webhooks = await startIrsaWebhooks(sandbox.info, { log });
    await seedRegistries({ motoUrl: sandbox.info.motoUrl, region: sandbox.info.awsEnv.AWS_REGION });
    agents = await startPodIdentityAgents(sandbox.info);
    centrals = await startCentralStandIns(sandbox.info, { log });
    sandbox.info.centralControlUrl = centrals.controlUrl;
    log(`seeded flavours and registries, started the IRSA webhook in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  project.provide('sandbox', sandbox.info);
  return teardown;
}
