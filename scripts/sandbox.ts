// `npm run sandbox [-- --flavour eks|openshift|gke|aks] [--cloud gcp|azure] [--no-sts] [--namespace NS] [--method operator|helm|manifests] [--clusters N]`
//
// Starts a local sandbox of real servers (kube-apiserver + etcd, kube-controller-manager,
// kube-scheduler and kwok for fake nodes, moto for IAM/STS/ECR behind the AWS gate) seeded as an EKS
// (default), OpenShift or AKS cluster (with the Azure stand-ins and the workload identity webhook) with a RHACS install, prints `export NAME=value` lines on stdout
// (everything else goes to stderr) and stays up until Ctrl-C.
// --clusters N: a fleet of N EKS clusters (one etcd, one moto, N API servers): a hub with Central
// and Sensor, N-1 spokes with Sensor only, each its own issuer; contexts `hub`, `spoke-1`, … (as
// after `kubectl config rename-context`; the cluster and user entries keep EKS's ARN names).
// --cloud azure (with --flavour openshift): OpenShift on Azure (its Infrastructure object says Azure),
// with the Azure stand-ins; the export lines carry the administrator's AZURE_* variables.
// --cloud gcp (with --flavour openshift): OpenShift on Google Cloud (its Infrastructure object says
// GCP, project sandbox-project) with the Google stand-ins running in this process.
// --no-sts (with --flavour openshift): OpenShift installed without STS, with the Authentication
// operator stand-in running in this process, so `rhacs-sts issuer publish` can be tried.
// Typical use:
//
//   npm run --silent sandbox > /tmp/sandbox.env     # in one terminal; Ctrl-C to stop
//   source /tmp/sandbox.env                         # in another; then kubectl / aws / rhacs-sts
import { pathToFileURL } from 'node:url';
import { MAX_FLEET, startSeededSandbox, type DemoFlavour, type SeededSandbox, type SeededSandboxOptions } from '../test/sandbox/standalone.js';
import type { InstallMethod } from '../test/sandbox/fixtures.js';
import { OPENSHIFT_AZURE_RESOURCE_GROUP } from '../test/sandbox/azure/aks-sandbox.js';

export { parseArgs, startSeededSandbox, type SeededSandbox, type SeededSandboxOptions };

const USAGE = `usage: npm run sandbox -- [--flavour eks|openshift|gke|aks] [--cloud gcp|azure] [--no-sts] [--namespace NAME] [--method operator|helm|manifests] [--clusters 1..${MAX_FLEET}]`;

function parseArgs(argv: string[]): SeededSandboxOptions {
  const opts: SeededSandboxOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--flavour':
      case '--flavor': {
        const v = value();
        if (v !== 'eks' && v !== 'openshift' && v !== 'gke' && v !== 'aks') throw new Error(`--flavour must be eks, openshift, gke or aks, not ${v}\n${USAGE}`);
        opts.flavour = v as DemoFlavour;
        break;
      }
      case '--cloud': {
        const v = value();
        if (v !== 'gcp' && v !== 'azure') throw new Error(`--cloud must be gcp (OpenShift on Google Cloud) or azure (OpenShift on Azure), not ${v}\n${USAGE}`);
        opts.cloud = v;
        break;
      }
      case '--namespace':
        opts.namespace = value();
        break;
      case '--no-sts':
        if (inline !== undefined) throw new Error(`--no-sts takes no value\n${USAGE}`);
        opts.sts = false;
        break;
      case '--method': {
        const v = value();
        if (!['operator', 'helm', 'manifests'].includes(v)) throw new Error(`--method must be operator, helm or manifests\n${USAGE}`);
        opts.method = v as InstallMethod;
        break;
      }
      case '--clusters': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_FLEET) throw new Error(`--clusters must be a whole number from 1 to ${MAX_FLEET}, not ${v}\n${USAGE}`);
        opts.clusters = Number(v);
        break;
      }
      case '-h':
      case '--help':
        process.stderr.write(`${USAGE}\n`);
        process.exit(0);
      // falls through (unreachable)
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.sts === false && opts.flavour !== 'openshift') throw new Error(`--no-sts seeds OpenShift without STS: add --flavour openshift\n${USAGE}`);
  const err = (m: string) => process.stderr.write(`${m}\n`);
  let sb: SeededSandbox | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      err(`[sandbox] ${signal} again: killing everything now`);
      process.exit(130); // the sandbox's exit handler kills the servers
    }
    stopping = true;
    err(`\n[sandbox] ${signal}: stopping…`);
    try {
      await sb?.stop();
      err('[sandbox] stopped; all servers are gone and the temp dir is deleted');
      process.exit(0);
    } catch (e) {
      err(`[sandbox] stop failed: ${(e as Error).message}`);
      process.exit(1);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));

  sb = await startSeededSandbox({ ...opts, sandbox: { handleSignals: false } });
  const keepAlive = setInterval(() => undefined, 1 << 30);
  err('');
  for (const { cluster: c, rhacs } of sb.fleet) {
    err(`[sandbox] ${c.flavour === 'eks' ? 'EKS' : c.flavour === 'gke' ? 'GKE' : c.flavour === 'aks' ? 'AKS' : 'OpenShift'} cluster "${c.name}" at ${c.server}`);
    err(`[sandbox]   context: ${c.context}`);
    err(`[sandbox]   service-account issuer: ${c.issuer}`);
    err(`[sandbox]   RHACS (${rhacs.method}) in namespace ${rhacs.namespace}: deployments ${rhacs.deployments.join(', ')}`);
  }
  err(`[sandbox] IAM/STS (moto, account ${sb.info.accountId}) at ${sb.info.awsEndpoint}`);
  if (sb.info.azure) {
    const az = sb.info.azure;
    err(`[sandbox] Azure stand-ins: Entra ID at ${az.authorityHost}, ARM at ${az.armUrl} (tenant ${az.tenantId}, subscription ${az.subscriptionId}, resource group ${az.resourceGroup}), registry ${az.registry.loginServer}`);
    if (opts.cloud === 'azure') err(`[sandbox]   OpenShift on Azure: the Infrastructure object names resource group ${OPENSHIFT_AZURE_RESOURCE_GROUP}; try rhacs-sts plan --acr ${az.registry.id} (the export lines carry the administrator's AZURE_* variables)`);
    else err('[sandbox]   the workload identity webhook mutates pods labelled azure.workload.identity/use: "true" (the export lines carry the administrator\'s AZURE_* variables)');
  }
  if (opts.cloud === 'gcp') err(`[sandbox] OpenShift on Google Cloud: Google stand-ins (project sandbox-project) with IAM at ${sb.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM}; try rhacs-sts plan --provider openshift --cloud gcp.`);
  if (opts.flavour === 'gke') err(`[sandbox] Google Cloud stand-ins (project sandbox-project): IAM at ${sb.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM}; try rhacs-sts plan, then rhacs-sts init.`);
  err('[sandbox] Rollouts run through the real controllers; kwok makes the pods ready (no container runs).');
  if (opts.sts === false) {
    err('[sandbox] OpenShift without STS: tokens carry https://kubernetes.default.svc. Publish its issuer from another terminal with');
    err('[sandbox]   rhacs-sts issuer publish --dry-run, then rhacs-sts issuer publish --set-cluster-issuer (the Authentication operator stand-in here rolls the API server).');
  }
  err('[sandbox] No AWS region is set: rhacs-sts takes it from the cluster (EKS issuer, OpenShift infrastructure); pass --region to override.');
  err('[sandbox] Point your shell at it with the export lines below (printed on stdout). Ctrl-C stops everything.');
  err('');
  process.stdout.write(sb.exportLines.join('\n') + '\n');
  void keepAlive;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`[sandbox] ${(e as Error).message ?? e}\n`);
    process.exit(1);
  });
}
