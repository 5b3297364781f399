/**
 * What rhacs-sts manages in this account and these clusters, and whether each piece is healthy:
 * the OIDC providers, the role, the Pod Identity associations, the wiring (annotation or
 * environment, and the pods that carry it), the operator overlays and Central's integration
 * record. Pure: it reads the facts discovery gathered (the same reads as uninstall) and decides
 * nothing else.
 */
import { associationOf, isManaged, operatorOverlays, sameOverlay } from './plan/build.js';
import { AUDIENCE, EKS_ROLE_ANNOTATION, type AwsState, type ClusterFacts, type Component, type Facts } from './plan/model.js';
import { isOurStatement, PERMISSIONS_POLICY_NAME, POD_IDENTITY_PRINCIPAL, roleArn, trustSid } from './clouds/aws/policies.js';
import type { Discovered } from './sessions.js';
import { eksRestartNeeded } from './plan/restarts.js';
import { INTEGRATION_RECORD_ANNOTATION, parseRecord } from './central/integration.js';

export type Health = 'healthy' | 'unhealthy';

export interface StatusRow {
  /** What kind of thing it is: OIDC provider, IAM role, Pod Identity association, wiring, operator overlay, integration. */
  kind: string;
  /** Which one (an ARN, or [context: ]namespace/kind/name). */
  name: string;
  health: Health;
  detail: string;
  /** Unhealthy rows: what to do. */
  fix?: string;
}

export interface StatusReport {
  command: 'status';
  accountId: string;
  partition: string;
  region: string;
  role: { name: string; arn: string; managed: boolean };
  /** A fleet with a role per secured cluster (--role-per-cluster): each role, and the contexts whose pods use it (Central's first). */
  roles?: { name: string; arn: string; managed: boolean; contexts: (string | null)[] }[];
  clusters: { context: string | null; provider: string; namespace: string; components: Component[] }[];
  /** One row per thing rhacs-sts manages (nothing it did not create or adopt). */
  managed: StatusRow[];
  healthy: boolean;
}

const FIX_INIT = 'Run "rhacs-sts init" with the same flags to put it back (see "rhacs-sts plan" first), or "rhacs-sts verify" for the whole chain.';

/** The report for what discovery found: the role it read, else the one the decisions name. */
export function statusOfDiscovered(found: Discovered, multi?: boolean): StatusReport {
  const arn = found.aws.role?.arn ?? roleArn(found.facts.partition, found.facts.accountId, found.decisions.roleName, found.decisions.rolePath);
  return buildStatus(found.facts, found.aws, found.decisions.roleName, arn, multi);
}

export function buildStatus(facts: Facts, aws: AwsState, roleName: string, roleArn: string, multi = facts.clusters.length > 1): StatusReport {
  const rows: StatusRow[] = [];
  const role = aws.role && isManaged(aws.role.tags) ? aws.role : null;
  const where = (c: ClusterFacts) => `${multi && c.context ? `${c.context}: ` : ''}${c.namespace}/`;

  // --- OIDC providers: ours only ---
  for (const issuer of [...new Set(facts.clusters.map((c) => c.issuer))]) {
    const p = aws.oidcProviders[issuer];
    if (!p || !isManaged(p.tags)) continue;
    const audiences = [...new Set(facts.clusters.filter((c) => c.issuer === issuer).map((c) => AUDIENCE[c.provider]))];
    const missing = audiences.filter((a) => !p.clientIds.includes(a));
    rows.push(missing.length
      ? { kind: 'OIDC provider', name: p.arn, health: 'unhealthy', detail: `lacks the audience ${missing.join(', ')}: tokens for it are refused`, fix: FIX_INIT }
      : { kind: 'OIDC provider', name: p.arn, health: 'healthy', detail: `audience ${audiences.join(', ')}` });
  }

  // --- The role ---
  if (role) {
    const ours = role.trustPolicy.Statement.filter(isOurStatement);
    const sids = new Set(ours.map((s) => s.Sid));
    const problems: string[] = [];
    for (const c of facts.clusters) {
      const onPodIdentity = c.provider === 'eks' && facts.clusters.length > 0 && (c.components.some((comp) => associationOf(aws, c, c.region ?? facts.region, comp)?.roleArn === role.arn));
      const trusted = onPodIdentity
        ? role.trustPolicy.Statement.some((s) => JSON.stringify(s.Principal ?? '').includes(POD_IDENTITY_PRINCIPAL))
        : sids.has(trustSid(c.issuer));
      if (!trusted) problems.push(`its trust policy has no statement for ${onPodIdentity ? 'EKS Pod Identity' : c.issuer}`);
      else if (!onPodIdentity && !aws.oidcProviders[c.issuer]) problems.push(`the OIDC provider for ${c.issuer} is missing`);
    }
    if (!role.inlinePolicies[PERMISSIONS_POLICY_NAME]) problems.push(`its ECR read policy ${PERMISSIONS_POLICY_NAME} is missing`);
    rows.push(problems.length
      ? { kind: 'IAM role', name: role.arn, health: 'unhealthy', detail: problems.join('; '), fix: FIX_INIT }
      : { kind: 'IAM role', name: role.arn, health: 'healthy', detail: `${ours.length} trust statement${ours.length === 1 ? '' : 's'} of ours, ECR read policy ${PERMISSIONS_POLICY_NAME}` });
  }
  const arn = role?.arn ?? roleArn;

  for (const c of facts.clusters) {
    const region = c.region ?? facts.region;
    for (const comp of c.components) {
      const state = c.current?.[comp];
      // --- Pod Identity associations: ours only ---
      const assoc = c.provider === 'eks' ? associationOf(aws, c, region, comp) : undefined;
      const ourAssoc = assoc && isManaged(assoc.tags) ? assoc : undefined;
      if (ourAssoc) {
        const pods = Array.isArray(state?.pods) ? state!.pods : undefined;
        const without = pods?.filter((p) => !p.containerCredentials).length ?? 0;
        const problem = ourAssoc.roleArn !== arn || !role ? `names ${ourAssoc.roleArn}, which is not a role rhacs-sts manages here`
          : without ? `${without} running pod${without === 1 ? '' : 's'} of ${comp} started before it and get${without === 1 ? 's' : ''} no credentials (restart ${comp})` : undefined;
        rows.push({
          kind: 'Pod Identity association', name: `${where(c)}serviceaccount/${comp} (${ourAssoc.associationId})`,
          health: problem ? 'unhealthy' : 'healthy',
          detail: problem ?? `role ${ourAssoc.roleArn}`,
          ...(problem ? { fix: FIX_INIT } : {}),
        });
      }
      // --- Wiring that names our role ---
      const named = c.provider === 'eks'
        ? state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION]
        : state?.deployment?.env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;
      if (named !== undefined && named === arn && role) {
        const what = c.provider === 'eks' ? `serviceaccount/${comp}` : `deployment/${comp}`;
        const restart = c.provider === 'eks' && eksRestartNeeded(state, arn);
        const tokenMissing = c.provider === 'openshift' && state?.deployment && !state.deployment.hasTokenMount;
        const problem = restart ? `names the role, but running pods of ${comp} started before it and do not carry it` : tokenMissing ? `names the role, but ${comp} mounts no token with audience openshift` : undefined;
        rows.push({
          kind: 'Wiring', name: `${where(c)}${what}`,
          health: problem ? 'unhealthy' : 'healthy',
          detail: problem ?? (c.provider === 'eks' ? `annotation ${EKS_ROLE_ANNOTATION}; the pods carry the role` : 'AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE; the pods roll with them'),
          ...(problem ? { fix: restart ? `kubectl${c.context ? ` --context ${c.context}` : ''} -n ${c.namespace} rollout restart deployment/${comp}` : FIX_INIT } : {}),
        });
      }
      // --- Operator overlays (the durable copy) ---
      const cr = c.operatorCrs?.[comp];
      if (cr && role) {
        const wanted = operatorOverlays(c.provider, comp, arn);
        const present = (cr.overlays ?? []).filter((x) => wanted.some((o) => sameOverlay(x, o)));
        if (present.length) {
          const complete = wanted.every((o) => (cr.overlays ?? []).some((x) => sameOverlay(x, o)));
          rows.push({
            kind: 'Operator overlay', name: `${where(c)}${cr.kind.toLowerCase()}/${cr.name} (${comp})`,
            health: complete ? 'healthy' : 'unhealthy',
            detail: complete ? 'the operator keeps the wiring' : 'only part of the overlay is there: the operator may undo the wiring',
            ...(complete ? {} : { fix: FIX_INIT }),
          });
        }
      }
      // --- Central's ECR integration, as recorded on Central's service account ---
      if (comp === 'central') {
        const record = parseRecord(state?.serviceAccount?.annotations[INTEGRATION_RECORD_ANNOTATION]);
        if (record) {
          rows.push({
            kind: 'Central integration', name: `${where(c)}imageintegration/${record.id}`,
            health: 'healthy',
            detail: `${record.created ? 'created' : 'adopted'} by rhacs-sts (recorded on serviceaccount/central); "rhacs-sts verify" with Central credentials has Central test it`,
          });
        }
      }
    }
  }

  return {
    command: 'status',
    accountId: facts.accountId,
    partition: facts.partition,
    region: facts.region,
    role: { name: roleName, arn, managed: role !== null },
    clusters: facts.clusters.map((c) => ({ context: c.context ?? null, provider: c.provider, namespace: c.namespace, components: c.components })),
    managed: rows,
    healthy: rows.every((r) => r.health === 'healthy'),
  };
}

/**
 * One report for a fleet whose clusters use different roles (Central's, and one per secured
 * cluster): each part built for its own role, the rows together (an OIDC provider once).
 */
export function mergeStatus(parts: StatusReport[]): StatusReport {
  const seen = new Set<string>();
  const managed = parts.flatMap((p) => p.managed).filter((r) => {
    const key = `${r.kind}\n${r.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return {
    ...parts[0]!,
    roles: parts.map((p) => ({ ...p.role, contexts: p.clusters.map((c) => c.context) })),
    clusters: parts.flatMap((p) => p.clusters),
    managed,
    healthy: managed.every((r) => r.health === 'healthy'),
  };
}
