// `npm run bench`: start-up time against bare Node, time to a plan and to a finished init in the
// local sandbox (an EKS, a GKE and an AKS cluster, and an EKS fleet), and the API calls each command
// makes (counted at the sandbox: moto, the Google and Azure stand-ins, the API servers' audit logs). Prints a table on
// stderr and one JSON document on stdout. Not part of the test suite: timings are measurements,
// not assertions.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSeededSandbox, type SeededSandbox } from '../test/sandbox/standalone.js';
import { awsMark, awsRequests, isReadOnlyAwsAction, kubeMark, kubeRequests, setTrustPolicyQuota } from '../test/sandbox/observe.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
/** Runs of the wizard to its first question (each starts a terminal and detects anew). */
const PROMPT_RUNS = Number(process.env.BENCH_PROMPT_RUNS ?? 7);
/** The binary to measure (another build's, to compare). */
const BIN = process.env.BENCH_BIN ?? 'bin/rhacs-sts';
const log = (m: string) => process.stderr.write(`${m}\n`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeOnce(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env: env ?? process.env, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t;
}

function startup() {
  const cases: [string, string, string[]][] = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['rhacs-sts --version', BIN, ['--version']],
    ['rhacs-sts --help', BIN, ['--help']],
  ];
  const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (const [, cmd, args] of cases) timeOnce(cmd, args); // warm the file cache
  // Interleaved, so that background load affects every case alike.
  for (let i = 0; i < RUNS; i++) for (const [n, cmd, args] of cases) samples.get(n)!.push(timeOnce(cmd, args));
  const base = median(samples.get('node -e 0')!);
  return cases.map(([n]) => {
    const ms = median(samples.get(n)!);
    return { case: n, medianMs: Number(ms.toFixed(1)), ratio: Number((ms / base).toFixed(2)) };
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    execFile(BIN, args, { env, timeout: 120_000 }, (err) => resolve({ ms: performance.now() - t, code: err ? Number(err.code ?? 1) : 0 }));
  });
}

/**
 * Time from starting `rhacs-sts init` at a terminal (tmux) to its first question on the screen:
 * detection included. Polls the screen every 10 ms, for at most 30 s.
 */
async function timeToFirstPrompt(env: NodeJS.ProcessEnv): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-bench-'));
  const socket = `rhacs-sts-bench-${process.pid}`;
  const script = join(dir, 'run.sh');
  const vars = ['KUBECONFIG', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'PATH'];
  writeFileSync(script, `${vars.map((k) => `export ${k}='${env[k] ?? ''}'`).join('\n')}\nexec ${resolve(BIN)} init --role-name bench-prompt\n`);
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });
  // Polled without blocking: this process also runs the sandbox's AWS gate, which the wizard calls.
  const screen = () => new Promise<string>((resolve, reject) => {
    execFile('tmux', ['-L', socket, 'capture-pane', '-p', '-t', 'b'], { encoding: 'utf8', timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
  const t = performance.now();
  tmux('new-session', '-d', '-s', 'b', '-x', '200', '-y', '50', `sh ${script}`);
  try {
    const deadline = t + 30_000;
    while (performance.now() < deadline) {
      if (/^\? /m.test(await screen())) return performance.now() - t;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no prompt within 30 s:\n${await screen()}`);
  } finally {
    try { tmux('kill-server'); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Calls { cloud: Record<string, number>; kube: Record<string, number>; cloudReads: number; cloudWrites: number; kubeReads: number; kubeWrites: number }

type Flavour = 'eks' | 'gke' | 'aks';
const CLOUD_NAME: Record<Flavour, string> = { eks: 'AWS', gke: 'Google', aks: 'Azure' };

/** A cloud's calls as its stand-in recorded them after a mark: what each was, and whether it only read. */
interface CloudCalls {
  mark(): Promise<number>;
  since(mark: number): Promise<{ key: string; read: boolean }[]>;
}

function cloudCalls(flavour: Flavour, seeded: SeededSandbox): CloudCalls {
  if (flavour === 'gke') {
    const g = seeded.google!.standins;
    return {
      mark: async () => g.mark(),
      // Token grants and policy reads change nothing.
      since: async (m) => g.requests(m).map((q) => ({ key: q.methodId, read: q.method === 'GET' || /(getIamPolicy|testIamPermissions)$/.test(q.methodId) || q.methodId === 'oauth2.token' })),
    };
  }
  if (flavour === 'aks') {
    const az = seeded.azure!;
    return {
      mark: async () => az.mark(),
      // The workload identity webhook's calls come from the API server, not from rhacs-sts; Entra's and
      // the registry's token exchanges change nothing.
      since: async (m) => az.requests(m).filter((q) => q.service !== 'webhook').map((q) => ({ key: `${q.service}:${q.operationId}`, read: q.method === 'GET' || q.service !== 'arm' })),
    };
  }
  return {
    mark: () => awsMark(seeded.info),
    since: async (m) => (await awsRequests(seeded.info, m)).map((q) => ({ key: `${q.service ?? '?'}:${q.action ?? '?'}`, read: isReadOnlyAwsAction(q.action) })),
  };
}

/** The commands each flavour's rows run, after the wizard's first question (EKS only). */
function sandboxRuns(flavour: Flavour, seeded: SeededSandbox): [string, string[]][] {
  if (flavour === 'gke') {
    const id = ['--gcp-service-account', 'bench-gke'];
    return [['plan', ['plan', ...id]], ['init', ['init', '--yes', ...id]], ['init (re-run)', ['init', '--yes', ...id]]];
  }
  if (flavour === 'aks') {
    const id = ['--azure-identity', 'bench-aks', '--acr', seeded.info.azure!.registry.loginServer.split('.')[0]!];
    return [['plan', ['plan', ...id]], ['init', ['init', '--yes', ...id]], ['init (re-run)', ['init', '--yes', ...id]]];
  }
  return [
    ['plan', ['plan']],
    ['init (no restart)', ['init', '--yes', '--no-restart', '--role-name', 'bench-a']],
    // A second role for the same cluster: the wiring names bench-a, so replacing it is explicit.
    ['init', ['init', '--yes', '--role-name', 'bench-b', '--replace-role-wiring']],
    ['init (re-run)', ['init', '--yes', '--role-name', 'bench-b']],
    ['verify', ['verify', '--role-name', 'bench-b']],
  ];
}

async function sandboxFigures(flavour: Flavour) {
  const seeded = await startSeededSandbox({ flavour, method: 'helm', log: () => undefined });
  const { info } = seeded;
  const env = { ...process.env, ...seeded.env, NO_COLOR: '1' };
  const cluster = seeded.cluster.name;
  const cloud = cloudCalls(flavour, seeded);
  const counted = async (label: string, args: string[]) => {
    const a = await cloud.mark();
    const k = kubeMark(info, cluster);
    const r = await run(args, env);
    if (r.code !== 0 && !(label === 'verify' && r.code === 3)) throw new Error(`${flavour} ${label} exited ${r.code}`);
    const kube = await kubeRequests(info, cluster, k, { user: 'sandbox-admin' });
    const calls: Calls = { cloud: {}, kube: {}, cloudReads: 0, cloudWrites: 0, kubeReads: 0, kubeWrites: 0 };
    for (const q of await cloud.since(a)) {
      calls.cloud[q.key] = (calls.cloud[q.key] ?? 0) + 1;
      if (q.read) calls.cloudReads++; else calls.cloudWrites++;
    }
    for (const q of kube) {
      const key = `${q.verb} ${q.resource ?? q.uri}${q.subresource ? `/${q.subresource}` : ''}`;
      calls.kube[key] = (calls.kube[key] ?? 0) + 1;
      if (['get', 'list', 'watch'].includes(q.verb)) calls.kubeReads++; else calls.kubeWrites++;
    }
    return { label, ms: Number(r.ms.toFixed(0)), calls };
  };
  try {
    if (flavour === 'eks') {
      const prompts: number[] = [];
      for (let i = 0; i < PROMPT_RUNS; i++) prompts.push(await timeToFirstPrompt(env));
      firstPromptMs = Number(median(prompts).toFixed(0));
      log(`\nTime to the first question of the wizard (init at a terminal), median of ${PROMPT_RUNS}: ${firstPromptMs} ms (${prompts.map((x) => x.toFixed(0)).join(', ')})`);
    }
    const rows = [];
    for (const [label, args] of sandboxRuns(flavour, seeded)) rows.push(await counted(label, args));
    return rows;
  } finally {
    await seeded.stop();
  }
}

/**
 * A fleet (hub with Central, four spokes with Sensor): plan and init for one secured cluster, then
 * for four. Goal: four clusters cost at most 1.5× one in wall time (clusters are read and changed
 * concurrently), and the API calls per cluster stay constant.
 */
async function fleetFigures() {
  const seeded = await startSeededSandbox({ clusters: 5, method: 'manifests', log: () => undefined });
  const { info } = seeded;
  const env = { ...process.env, ...seeded.env, AWS_REGION: seeded.cluster.region, NO_COLOR: '1' };
  const ctx = (name: string) => seeded.fleet.find((f) => f.cluster.name === name)!.cluster.context;
  // Five issuers in one trust policy exceed the default quota of 2,048 characters.
  await setTrustPolicyQuota(info, 4096);
  const counted = async (label: string, spokes: string[], args: string[]) => {
    const clusters = ['hub', ...spokes];
    const a = await awsMark(info);
    const marks = clusters.map((c) => kubeMark(info, c));
    const r = await run([...args, '--central-context', ctx('hub'), ...spokes.flatMap((s) => ['--sensor-context', ctx(s)])], env);
    if (r.code !== 0) throw new Error(`${label} exited ${r.code}`);
    const aws = (await awsRequests(info, a)).length;
    let kube = 0;
    for (const [i, c] of clusters.entries()) kube += (await kubeRequests(info, c, marks[i], { user: 'sandbox-admin' })).length;
    return { label, clusters: clusters.length, ms: Number(r.ms.toFixed(0)), awsCalls: aws, kubeCalls: kube, callsPerCluster: Number(((aws + kube) / clusters.length).toFixed(1)) };
  };
  const four = ['spoke-1', 'spoke-2', 'spoke-3', 'spoke-4'];
  try {
    return [
      await counted('plan, 1 secured cluster', ['spoke-1'], ['plan', '--role-name', 'fleet-one']),
      await counted('plan, 4 secured clusters', four, ['plan', '--role-name', 'fleet-four']),
      await counted('init, 1 secured cluster', ['spoke-1'], ['init', '--yes', '--no-restart', '--role-name', 'fleet-one']),
      // The hub and spoke-1 now name fleet-one: moving them to fleet-four is explicit.
      await counted('init, 4 secured clusters', four, ['init', '--yes', '--no-restart', '--role-name', 'fleet-four', '--replace-role-wiring']),
    ];
  } finally {
    await seeded.stop();
  }
}

let firstPromptMs: number | undefined;
// BENCH_PARTS=startup,eks,gke,aks,fleet (default: all) runs only some parts; `sandbox` stands for eks, gke and aks.
const parts = new Set((process.env.BENCH_PARTS ?? 'startup,sandbox,fleet').split(',').flatMap((p) => (p === 'sandbox' ? ['eks', 'gke', 'aks'] : [p])));
const su = parts.has('startup') ? startup() : [];
if (su.length) {
  log('\nStart-up (median of ' + RUNS + ' runs, interleaved):');
  log('  case                   median    × node');
}
for (const r of su) log(`  ${r.case.padEnd(22)} ${`${r.medianMs} ms`.padStart(8)}   ${r.ratio.toFixed(2)}`);

const sandbox: Partial<Record<Flavour, Awaited<ReturnType<typeof sandboxFigures>>>> = {};
for (const flavour of ['eks', 'gke', 'aks'] as const) {
  if (!parts.has(flavour)) continue;
  const rows = await sandboxFigures(flavour);
  sandbox[flavour] = rows;
  const name = CLOUD_NAME[flavour];
  log(`\nIn the sandbox (${flavour.toUpperCase()} flavour, Helm install; one run each):`);
  log(`  command              wall ms   ${`${name} reads/writes`.padStart(19)}   Kubernetes reads/writes`);
  for (const r of rows) {
    log(`  ${r.label.padEnd(20)} ${String(r.ms).padStart(7)}   ${`${r.calls.cloudReads}/${r.calls.cloudWrites}`.padStart(19)}   ${`${r.calls.kubeReads}/${r.calls.kubeWrites}`.padStart(23)}`);
  }
  for (const r of rows) {
    log(`\n  ${r.label}:`);
    for (const [k, v] of Object.entries(r.calls.cloud)) log(`    ${name.toLowerCase().padEnd(6)} ${k} ×${v}`);
    for (const [k, v] of Object.entries(r.calls.kube)) log(`    kube   ${k} ×${v}`);
  }
}
const fleet = parts.has('fleet') ? await fleetFigures() : [];
if (fleet.length) {
  log('\nA fleet (hub + secured clusters, one role; one run each):');
  log('  command                      clusters   wall ms   AWS calls   Kubernetes calls   calls per cluster');
}
for (const r of fleet) {
  log(`  ${r.label.padEnd(28)} ${String(r.clusters).padStart(8)}   ${String(r.ms).padStart(7)}   ${String(r.awsCalls).padStart(9)}   ${String(r.kubeCalls).padStart(16)}   ${String(r.callsPerCluster).padStart(17)}`);
}
for (const verb of ['plan', 'init']) {
  const [one, four] = fleet.filter((r) => r.label.startsWith(verb));
  if (one && four) log(`  ${verb}: 4 secured clusters take ${(four!.ms / one!.ms).toFixed(2)}× the time of 1 (goal ≤ 1.5×)`);
}
process.stdout.write(`${JSON.stringify({ node: process.version, runs: RUNS, startup: su, firstPromptMs, sandbox, fleet }, null, 2)}\n`);
