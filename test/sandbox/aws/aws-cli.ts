// Stand-in for the `aws` CLI, only as far as kubeconfig exec plugins use it: `aws --region R eks
// get-token --cluster-name N --output json`, which `aws eks update-kubeconfig` writes into every EKS
// kubeconfig user. @kubernetes/client-node (like kubectl) runs an exec plugin whenever the user has
// one, so the sandbox puts this script first on PATH (in the test processes, the CLI runs and the
// printed `export PATH=…`).
//
// What it does, from the CLI's documented output: prints an ExecCredential
// (client.authentication.k8s.io/v1beta1) whose token has the real shape — `k8s-aws-v1.` and the
// base64url (unpadded) of a presigned STS GetCallerIdentity URL for the region — and an
// expirationTimestamp 14 minutes ahead. It is stricter than the real CLI in one way: it answers
// only for the sandbox's own clusters (region and name), so a kubeconfig pointing elsewhere fails
// instead of producing a token nobody checks. Any other command goes to the real aws CLI further
// down PATH, if there is one (people use it by hand against moto). Every call is recorded (JSON
// lines) for the tests.
//
// The token is sent but never what authenticates: the sandbox API servers know nothing of AWS IAM
// authentication; kube-apiserver tries the client certificate (also in the kubeconfig user) before
// bearer tokens, and the certificate is what grants access — the tests read the exec section, they
// never depend on the token.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AwsCliStandIn {
  /** Directory holding the `aws` script: put it first on PATH. */
  binDir: string;
  /** JSON lines, one per call: {time, args, answered}. */
  callLog: string;
}

/** The exec section `aws eks update-kubeconfig` writes for a cluster. */
export function eksExecSection(region: string, clusterName: string) {
  return {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: 'aws',
    args: ['--region', region, 'eks', 'get-token', '--cluster-name', clusterName, '--output', 'json'],
    env: null,
    interactiveMode: 'IfAvailable',
    provideClusterInfo: false,
  };
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'aws-cli-standin.sh');

/** Writes the stand-in under `workDir/bin` and the list of clusters it answers for. */
export function installAwsCliStandIn(workDir: string, eksClusters: { region: string; name: string }[]): AwsCliStandIn {
  const binDir = join(workDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const script = join(binDir, 'aws');
  copyFileSync(SCRIPT, script);
  chmodSync(script, 0o755);
  writeFileSync(join(binDir, 'eks-clusters'), eksClusters.map((c) => `${c.region} ${c.name}\n`).join(''));
  return { binDir, callLog: join(workDir, 'aws-cli-calls.jsonl') };
}

/** PATH with `binDir` first (once). */
export function pathWith(binDir: string, path = process.env.PATH ?? ''): string {
  const parts = path.split(delimiter).filter((p) => p && p !== binDir);
  return [binDir, ...parts].join(delimiter);
}

export interface AwsCliCall {
  time: string;
  args: string;
  region: string;
  cluster: string;
  answered: boolean;
}

/** The stand-in's calls so far (empty when it was never run). */
export function awsCliCalls(callLog: string): AwsCliCall[] {
  let text = '';
  try {
    text = readFileSync(callLog, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AwsCliCall);
}
