// `npm run demo [-- --flavour aks|gke]`: the whole story on one machine, no cloud account. Starts the local
// sandbox (an EKS-like cluster with RHACS installed by Helm, and moto for IAM/STS; with --flavour aks an
// AKS-like cluster with the workload identity webhook and the Azure stand-ins; with --flavour gke a
// GKE-like cluster with the Google stand-ins and a GKE metadata server per node), runs `rhacs-sts init
// --yes` against it, shows that a second run has nothing left to do, runs `rhacs-sts verify` (EKS, GKE;
// GKE: plan first, uninstall last), and stops the sandbox. Every step has a time limit; Ctrl-C stops everything (the sandbox cleans up after itself).
import { spawn } from 'node:child_process';
import { startSeededSandbox, type SeededSandbox } from '../test/sandbox/standalone.js';

const STEP_TIMEOUT_MS = 3 * 60_000;
const TOTAL_TIMEOUT_MS = 10 * 60_000;
const BIN = 'bin/rhacs-sts';

const say = (m: string) => process.stderr.write(`\n\x1b[1m[demo]\x1b[0m ${m}\n`);
const plainSay = (m: string) => process.stderr.write(`\n[demo] ${m}\n`);
const log = process.stderr.isTTY && !process.env.NO_COLOR ? say : plainSay;

interface Step { code: number | null; output: string }

/**
 * Runs rhacs-sts with the sandbox's environment. stdin is not a terminal, so it never asks. Its
 * output goes straight to ours (colours and live progress when ours is a terminal), or is kept
 * and also shown ('show'), or only kept ('quiet').
 */
function rhacsSts(args: string[], env: Record<string, string>, capture: 'no' | 'show' | 'quiet' = 'no'): Promise<Step> {
  log(`$ rhacs-sts ${args.join(' ')}`);
  const forward = capture !== 'quiet';
  // The caller's own RHACS_STS_* settings stay out; the sandbox's (its endpoints) go in.
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('RHACS_STS_')) delete childEnv[k];
  Object.assign(childEnv, env);
  // No region from the caller's shell either: on EKS rhacs-sts takes it from the cluster's issuer.
  for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const out = capture === 'no' ? 'inherit' : 'pipe';
    const child = spawn(BIN, args, { env: childEnv, stdio: ['ignore', out, out] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); if (forward) process.stdout.write(d); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); if (forward) process.stderr.write(d); });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      reject(new Error(`rhacs-sts ${args.join(' ')} did not finish within ${STEP_TIMEOUT_MS / 1000}s`));
    }, STEP_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** --flavour eks (the default), aks or gke. */
function flavourOf(argv: readonly string[]): 'eks' | 'aks' | 'gke' {
  const i = argv.indexOf('--flavour');
  const v = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--flavour='))?.slice('--flavour='.length);
  if (v === undefined || v === 'eks') return 'eks';
  if (v === 'aks' || v === 'gke') return v;
  throw new Error(`--flavour must be eks, aks or gke, not ${v}`);
}

/** GKE: plan, init (with Central's Artifact Registry integration), a re-run with nothing to do, verify, uninstall. */
async function demoGke(): Promise<number> {
  log('Starting the sandbox: kube-apiserver + etcd seeded as a GKE cluster with RHACS (Helm) in namespace stackrox, and Google stand-ins (IAM, STS, IAM Credentials, Resource Manager, GKE, Artifact Registry, a GKE metadata server per node)…');
  let sb: SeededSandbox | undefined;
  try {
    sb = await startSeededSandbox({ flavour: 'gke', method: 'helm', log: () => undefined });
    log(`Sandbox up: cluster ${sb.cluster.server} (issuer ${sb.cluster.issuer}).`);
    const env = sb.env;
    const steps: { say: string; args: string[]; capture?: 'show' | 'quiet'; expect?: RegExp }[] = [
      { say: '1. Look first: what init would do (reads only).', args: ['plan'] },
      { say: '2. Set it up: a Google service account, the reader role, workload identity for Central, the annotation, a restart; then Central\'s Artifact Registry integration, saved once Central\'s own test passes.', args: ['init', '--yes', '--configure-integration'] },
      { say: '3. Run it again: every step checks what is in place, so there is nothing left to do.', args: ['plan', '--configure-integration'], capture: 'quiet', expect: /Nothing to change/ },
      { say: '4. Check the whole chain: a token for Central\'s Kubernetes service account → Google STS → the service account → Artifact Registry, and Central\'s own test.', args: ['verify'], capture: 'show' },
      { say: '5. Take it all out again: only what rhacs-sts made.', args: ['uninstall', '--yes'] },
    ];
    for (const step of steps) {
      log(step.say);
      const r = await rhacsSts(step.args, env, step.capture ?? 'no');
      if (step.capture === 'quiet') process.stderr.write(`${r.output.split('\n').find((l) => /Nothing to change|changes? to apply/.test(l)) ?? r.output}\n`);
      if (r.code !== 0 || (step.expect && !step.expect.test(r.output))) {
        log(`rhacs-sts ${step.args[0]} did not go as expected (exit ${r.code}).`);
        return 1;
      }
    }
    log('Done.');
    return 0;
  } finally {
    log('Stopping the sandbox…');
    await sb?.stop();
  }
}

/** AKS: init with the sandbox's registry, then a plan that finds nothing to change. */
async function demoAks(): Promise<number> {
  log('Starting the sandbox: kube-apiserver + etcd seeded as an AKS cluster with RHACS (Helm) in namespace stackrox, the workload identity webhook, and Azure stand-ins (Entra ID, Resource Manager, Container Registry)…');
  let sb: SeededSandbox | undefined;
  try {
    sb = await startSeededSandbox({ flavour: 'aks', method: 'helm', log: () => undefined });
    const az = sb.info.azure!;
    const registry = az.registry.loginServer.split('.')[0]!;
    log(`Sandbox up: cluster ${sb.cluster.server} (issuer ${sb.cluster.issuer}); subscription ${az.subscriptionId}, registry ${az.registry.loginServer}.`);
    log('1. Set it up: a managed identity, a federated credential for Central, AcrPull on the registry, the annotation and the pod label the webhook needs.');
    const init = await rhacsSts(['init', '--yes', '--acr', registry], sb.env);
    if (init.code !== 0) {
      log(`init failed (exit ${init.code}).`);
      return 1;
    }
    log('2. Run it again: every step checks what is in place, so there is nothing left to do.');
    const again = await rhacsSts(['plan', '--acr', registry], sb.env, 'quiet');
    const verdict = again.output.split('\n').find((l) => /Nothing to change|changes? to apply/.test(l));
    process.stderr.write(`${verdict ?? again.output}\n`);
    if (again.code !== 0 || !/Nothing to change/.test(again.output)) {
      log(`the second run still found changes (exit ${again.code}).`);
      return 1;
    }
    log('Done. rhacs-sts verify does not cover AKS yet; in RHACS, the next step is an Azure Container Registry integration that uses workload identity.');
    return 0;
  } finally {
    log('Stopping the sandbox…');
    await sb?.stop();
  }
}

async function demo(): Promise<number> {
  const flavour = flavourOf(process.argv.slice(2));
  if (flavour === 'aks') return demoAks();
  if (flavour === 'gke') return demoGke();
  log('Starting the sandbox: kube-apiserver + etcd seeded as an EKS cluster with RHACS (Central and Sensor, installed by Helm) in namespace stackrox, and moto for IAM/STS…');
  let sb: SeededSandbox | undefined;
  try {
    sb = await startSeededSandbox({ flavour: 'eks', method: 'helm', log: () => undefined });
    const c = sb.cluster;
    log(`Sandbox up: cluster ${c.server} (service-account issuer ${c.issuer}); IAM/STS account ${sb.info.accountId} at ${sb.info.awsEndpoint}.`);
    const env = sb.env;

    log('1. Set it up. At a terminal, plain `rhacs-sts init` would ask a few questions; --yes takes every default.');
    const init = await rhacsSts(['init', '--yes', '--cluster-name', 'demo'], env);
    if (init.code !== 0) {
      log(`init failed (exit ${init.code}).`);
      return 1;
    }

    log('2. Run it again: every step checks what is in place, so there is nothing left to do.');
    const again = await rhacsSts(['plan', '--cluster-name', 'demo'], env, 'quiet');
    const verdict = again.output.split('\n').find((l) => /Nothing to change|changes? to apply/.test(l));
    process.stderr.write(`${verdict ?? again.output}\n`);
    if (again.code !== 0 || !/Nothing to change/.test(again.output)) {
      log(`the second run still found changes (exit ${again.code}).`);
      return 1;
    }

    log('3. Check the whole chain.');
    const verify = await rhacsSts(['verify', '--cluster-name', 'demo', '--role-name', 'rhacs-sts-demo'], env, 'show');
    if (verify.code !== 0) {
      if (/not implemented/.test(verify.output)) {
        log('`rhacs-sts verify` is not available in this version yet; the steps above show the result.');
      } else {
        log(`verify found a problem (exit ${verify.code}).`);
        return 1;
      }
    }
    log('Done. In a real cluster, the next step is in RHACS: enable "Use container IAM role" on the Amazon ECR integration.');
    return 0;
  } finally {
    log('Stopping the sandbox…');
    await sb?.stop();
  }
}

const overall = setTimeout(() => {
  process.stderr.write(`[demo] gave up after ${TOTAL_TIMEOUT_MS / 60_000} minutes\n`);
  // The sandbox's exit handler kills its servers and deletes its files.
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
overall.unref();

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`[demo] ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
).finally(() => clearTimeout(overall));
