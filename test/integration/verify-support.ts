// Shared by the verify-* and uninstall-* integration tests: running the built binary against the
// sandbox, an IAM client on moto, and snapshots of the AWS account and of the RHACS objects.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { IAMClient, ListOpenIDConnectProvidersCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import type { SandboxInfo } from '../sandbox/context.js';

export { cli, type Cluster, type Run, type Target } from '../sandbox/cli.js';

export function iamClient(sb: SandboxInfo): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
}

/** The account's roles (name, path, trust) and OIDC providers, sorted: what uninstall must give back. */
export async function awsSnapshot(iam: IAMClient): Promise<{ roles: { name: string; trust: string }[]; providers: string[] }> {
  const roles = (await iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? [];
  const providers = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  return {
    roles: roles.map((r) => ({ name: `${r.Path}${r.RoleName}`, trust: decodeURIComponent(r.AssumeRolePolicyDocument ?? '') })).sort((a, b) => a.name.localeCompare(b.name)),
    providers: providers.map((p) => p.Arn!).sort(),
  };
}

/** An object without what the server maintains (resourceVersion, generation, managedFields, status, …). */
function strip(o: unknown): unknown {
  const x = JSON.parse(JSON.stringify(o)) as { metadata?: Record<string, unknown>; status?: unknown };
  if (x.metadata) for (const k of ['resourceVersion', 'generation', 'managedFields']) delete x.metadata[k];
  // The deployment controller counts rollouts in this annotation: every restart moves it on.
  const annotations = x.metadata?.annotations as Record<string, string> | undefined;
  if (annotations) delete annotations['deployment.kubernetes.io/revision'];
  delete x.status;
  return x;
}

/** The RHACS objects rhacs-sts may touch in `namespace`: service accounts, deployments, StackRox CRs. */
export async function kubeSnapshot(kc: KubeConfig, namespace: string): Promise<Record<string, unknown>> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const out: Record<string, unknown> = {};
  for (const name of ['central', 'sensor']) {
    const sa = await core.readNamespacedServiceAccount({ name, namespace }).catch(() => null);
    if (sa) out[`serviceaccount/${name}`] = strip(sa);
    const d = await apps.readNamespacedDeployment({ name, namespace }).catch(() => null);
    if (d) out[`deployment/${name}`] = strip(d);
  }
  for (const plural of ['centrals', 'securedclusters']) {
    const list = await custom.listNamespacedCustomObject({ group: 'platform.stackrox.io', version: 'v1alpha1', namespace, plural }).catch(() => ({ items: [] }));
    for (const item of (list as { items: { metadata: { name: string } }[] }).items) out[`${plural}/${item.metadata.name}`] = strip(item);
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows of a verify JSON report by check name. */
export function checksOf(stdout: string): { id: string; check: string; result: string; detail: string; fix?: string }[] {
  return (JSON.parse(stdout) as { checks: { id: string; check: string; result: string; detail: string; fix?: string }[] }).checks;
}
