// Restricted users for permission errors: a client certificate from the sandbox CA, bound to only
// the rules a test grants.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { issueCert, pemData } from '../certs.js';
import { clusterInfo } from '../observe.js';
import type { SandboxInfo } from '../types.js';
import { createOrKeep, ensureNamespace } from './objects.js';

export interface RestrictedUserOptions {
  /** User name (certificate CN); not in system:masters. */
  name: string;
  /** Namespace of the Role/RoleBinding. */
  namespace: string;
  /** Namespaced rules (Role). */
  rules: V1PolicyRule[];
  /** Optional cluster-wide rules (ClusterRole + ClusterRoleBinding). */
  clusterRules?: V1PolicyRule[];
  /** Groups (certificate O); default none. */
  groups?: string[];
}

export interface RestrictedUser {
  name: string;
  kubeconfig: string;
  context: string;
}

/**
 * Creates a user that can do only `rules` in `namespace` (plus `clusterRules` cluster-wide): a client
 * certificate signed by the sandbox CA and a Role/RoleBinding. Returns a kubeconfig for it.
 */
export async function createRestrictedUser(
  sandbox: SandboxInfo | { info: SandboxInfo },
  cluster: string,
  opts: RestrictedUserOptions,
): Promise<RestrictedUser> {
  const info = 'info' in sandbox ? sandbox.info : sandbox;
  const c = clusterInfo(info, cluster);
  const admin = new KubeConfig();
  admin.loadFromFile(c.kubeconfig);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const roleName = `restricted-${opts.name}`.replace(/[^a-z0-9.-]/g, '-').slice(0, 63);
  await ensureNamespace(admin, opts.namespace);
  await createOrKeep(() =>
    rbac.createNamespacedRole({ namespace: opts.namespace, body: { metadata: { name: roleName }, rules: opts.rules } }),
  );
  await createOrKeep(() =>
    rbac.createNamespacedRoleBinding({
      namespace: opts.namespace,
      body: {
        metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.name }],
      },
    }),
  );
  if (opts.clusterRules?.length) {
    await createOrKeep(() => rbac.createClusterRole({ body: { metadata: { name: roleName }, rules: opts.clusterRules } }));
    await createOrKeep(() =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: roleName },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.name }],
        },
      }),
    );
  }
  const safe = opts.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const pair = issueCert({ cert: info.caCertPath, key: info.caKeyPath }, info.certDir, `user-${cluster}-${safe}`, {
    cn: opts.name,
    groups: opts.groups,
    usage: 'client',
  });
  const context = `${cluster}-${safe}`;
  const kubeconfig = join(info.workDir, `kubeconfig-${context}.yaml`);
  writeFileSync(
    kubeconfig,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster, cluster: { server: c.server, 'certificate-authority-data': pemData(info.caCertPath) } }],
      users: [{ name: safe, user: { 'client-certificate-data': pemData(pair.cert), 'client-key-data': pemData(pair.key) } }],
      contexts: [{ name: context, context: { cluster, user: safe, namespace: opts.namespace } }],
      'current-context': context,
    }),
    { mode: 0o600 },
  );
  return { name: opts.name, kubeconfig, context };
}
