/**
 * EKS Pod Identity associations through the EKS API (@aws-sdk/client-eks, loaded lazily with the
 * rest of the AWS session). One association per cluster, namespace and service account; ours carry
 * our tags, and one someone else made is changed only when adopted (the plan refuses otherwise).
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  paginateListPodIdentityAssociations,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import type { AssociationState, Action } from '../../plan/model.js';
import type { AssociationQuery } from './session.js';

type AssociationAction = Extract<Action, { type: 'pod-identity-association' }>;

export interface EksAssociations {
  read(queries: AssociationQuery[]): Promise<AssociationState[]>;
  /** Creates, updates, adopts or deletes one association; re-reads first, so a second run writes nothing. Returns true when it wrote. */
  apply(a: AssociationAction): Promise<boolean>;
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ResourceNotFoundException';
}

export function eksAssociations(client: (region: string) => EKSClient, call: <T>(doing: string, fn: () => Promise<T>) => Promise<T>): EksAssociations {
  async function find(clusterName: string, region: string, namespace: string, serviceAccount: string): Promise<AssociationState | null> {
    const eks = client(region);
    const ids: string[] = [];
    await call(`listing the Pod Identity associations of ${namespace}/${serviceAccount} in EKS cluster ${clusterName}`, async () => {
      for await (const page of paginateListPodIdentityAssociations({ client: eks }, { clusterName, namespace, serviceAccount })) {
        for (const s of page.associations ?? []) if (s.namespace === namespace && s.serviceAccount === serviceAccount && s.associationId) ids.push(s.associationId);
      }
    });
    if (!ids.length) return null;
    const out = await call(`reading the Pod Identity association ${ids[0]}`, () => eks.send(new DescribePodIdentityAssociationCommand({ clusterName, associationId: ids[0]! })));
    const a = out.association!;
    return {
      clusterName,
      region,
      namespace,
      serviceAccount,
      roleArn: a.roleArn ?? '',
      associationId: a.associationId!,
      associationArn: a.associationArn ?? '',
      tags: a.tags ?? {},
      ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
    };
  }

  return {
    async read(queries) {
      const found = await Promise.all(
        queries.flatMap((q) => q.serviceAccounts.map((sa) => find(q.clusterName, q.region, q.namespace, sa))),
      );
      return found.filter((a): a is AssociationState => a !== null);
    },

    async apply(a) {
      const eks = client(a.region);
      const current = await find(a.clusterName, a.region, a.namespace, a.serviceAccount);
      const where = `${a.namespace}/${a.serviceAccount} in EKS cluster ${a.clusterName}`;
      if (a.status === 'delete') {
        // Only the association this plan looked at, and only while it still names our role.
        if (!current || current.roleArn !== a.roleArn) return false;
        await call(`deleting the Pod Identity association of ${where}`, async () => {
          try {
            await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: a.clusterName, associationId: current.associationId }));
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        });
        return true;
      }
      if (!current) {
        await call(`creating the Pod Identity association of ${where}`, () =>
          eks.send(new CreatePodIdentityAssociationCommand({ clusterName: a.clusterName, namespace: a.namespace, serviceAccount: a.serviceAccount, roleArn: a.roleArn, tags: a.tags })),
        );
        return true;
      }
      let wrote = false;
      if (current.roleArn !== a.roleArn) {
        await call(`pointing the Pod Identity association of ${where} at ${a.roleArn}`, () =>
          eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: a.clusterName, associationId: current.associationId, roleArn: a.roleArn })),
        );
        wrote = true;
      }
      const missing = Object.fromEntries(Object.entries(a.tags).filter(([k, v]) => current.tags[k] !== v));
      if (Object.keys(missing).length) {
        await call(`tagging the Pod Identity association of ${where}`, () => eks.send(new TagResourceCommand({ resourceArn: current.associationArn, tags: missing })));
        wrote = true;
      }
      return wrote;
    },
  };
}
