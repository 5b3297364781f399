// A normalised picture of what init leaves behind in the account and a namespace, for comparing
// runs (fault injection, concurrency): roles, OIDC providers, and the RHACS objects' wiring.
import {
  GetOpenIDConnectProviderCommand, GetRolePolicyCommand, IAMClient, ListOpenIDConnectProvidersCommand, ListRolePoliciesCommand, ListRolesCommand,
} from '@aws-sdk/client-iam';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { kubeConfigFor } from './observe.js';
import type { SandboxInfo } from './types.js';

/** The state init produces, with the namespace and timestamps normalised away. */
export async function snapshot(sb: SandboxInfo, cluster: string, ns: string) {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sb.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? [];
  const awsRoles = await Promise.all(roles.map(async (r) => {
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName! }))).PolicyNames ?? [];
    const policies = await Promise.all(names.map(async (n) => decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: r.RoleName!, PolicyName: n }))).PolicyDocument!)));
    return { name: r.RoleName, trust: decodeURIComponent(r.AssumeRolePolicyDocument!), policies, tags: (r.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort() };
  }));
  const providers = await Promise.all(((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map(async (p) => {
    const d = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: p.Arn! }));
    return { arn: p.Arn, clientIds: d.ClientIDList, tags: (d.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort() };
  }));
  const kc = kubeConfigFor(sb, cluster);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const kube = await Promise.all(['central', 'sensor'].map(async (name) => {
    const sa = await core.readNamespacedServiceAccount({ name, namespace: ns });
    const d = await apps.readNamespacedDeployment({ name, namespace: ns });
    const tpl = d.spec?.template.metadata?.annotations ?? {};
    return {
      name,
      saAnnotations: sa.metadata?.annotations,
      restarted: 'kubectl.kubernetes.io/restartedAt' in tpl,
      templateAnnotations: Object.keys(tpl).sort(),
      env: d.spec?.template.spec?.containers.map((c) => c.env),
      ready: d.status?.readyReplicas === d.spec?.replicas,
    };
  }));
  return JSON.parse(JSON.stringify({ awsRoles, providers, kube }).split(ns).join('NS'));
}

