/**
 * verify's IAM rows (pure): the OIDC provider and its audience, the role, the trust policy evaluated
 * for each expected service account, and the ECR permissions with the permissions boundary.
 */
import { AUDIENCE, type ClusterFacts, type Component, type OidcProviderState, type RoleState } from '../../../plan/model.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../../verify/rows.js';
import { ECR_READ_ACTIONS, isOurStatement, PERMISSIONS_POLICY_NAME, serviceAccountSubject, type PolicyDocument, type PolicyStatement } from '../policies.js';
import { isManaged } from '../plan.js';
import { notAllowed } from './permissions-eval.js';
import { evaluateTrust, type TokenClaims } from './trust-eval.js';


export function oidcProviderCheck(w: Where, arn: string, state: OidcProviderState | null | undefined, initFix: string): CheckRow {
  const id = rowId('oidc-provider', w);
  const name = rowName('IAM OIDC provider', w);
  const audience = AUDIENCE[w.cluster.provider];
  if (!state) return row(id, name, 'fail', `There is no IAM OIDC provider ${arn}: AWS does not know the issuer ${w.cluster.issuer}.`, initFix);
  if (!state.clientIds.includes(audience)) {
    return row(id, name, 'fail',
      `The OIDC provider's audiences (${state.clientIds.join(', ') || 'none'}) do not include ${audience}, the audience of the ${w.cluster.provider === 'eks' ? 'EKS' : 'OpenShift'} tokens.`,
      isManaged(state.tags)
        ? initFix
        : `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id ${audience} (or re-run init with --adopt-oidc-provider).`);
  }
  return row(id, name, 'pass', `${arn} exists with audience ${audience}${isManaged(state.tags) ? '' : ' (not created by rhacs-sts)'}.`);
}

export function roleCheck(name: string, arn: string, role: RoleState | null, initFix: string): CheckRow {
  if (!role) return row('role', 'IAM role', 'fail', `The role ${name} does not exist.`, initFix);
  return row('role', 'IAM role', 'pass', `${role.arn} exists${isManaged(role.tags) ? '' : ' (not tagged as managed by rhacs-sts)'}.`);
}

/** Claims a token for the component would carry. */
export function expectedClaims(cluster: ClusterFacts, comp: Component): TokenClaims {
  return { iss: cluster.issuer, sub: serviceAccountSubject(cluster.namespace, comp), aud: AUDIENCE[cluster.provider] };
}

/** The role trusts each expected service account of the cluster, with the cluster's audience. */
export function trustCheck(w: Where, role: RoleState | null, providerArn: string, components: Component[], initFix: string): CheckRow {
  const id = rowId('trust-policy', w);
  const name = rowName('Trust policy', w);
  if (!role) return row(id, name, 'fail', 'Not checked: the role does not exist.', initFix);
  const failures: string[] = [];
  const notOurs: string[] = [];
  for (const comp of components) {
    const claims = expectedClaims(w.cluster, comp);
    const ev = evaluateTrust(role.trustPolicy, claims, providerArn);
    if (!ev.allowed) failures.push(`${claims.sub}: ${ev.reason}`);
    else {
      const allowedBy = ev.statements.find((s) => s.effect === 'Allow' && s.matches);
      if (!role.trustPolicy.Statement.some((s) => isOurStatement(s) && s.Sid === allowedBy?.sid)) notOurs.push(`${claims.sub} (statement ${allowedBy?.sid ?? 'without Sid'})`);
    }
  }
  const subjects = components.map((c) => serviceAccountSubject(w.cluster.namespace, c)).join(', ');
  if (failures.length) return row(id, name, 'fail', `The role does not let ${failures.join('; ')}.`, initFix);
  return row(id, name, 'pass',
    `Trusts ${subjects} with audience ${AUDIENCE[w.cluster.provider]} through ${providerArn.replace(/^.*:oidc-provider\//, '')}${notOurs.length ? `; allowed by a statement rhacs-sts did not write for ${notOurs.join(', ')}` : ''}.`);
}

function globMatch(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(value);
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statementGrants(s: PolicyStatement, action: string, needsStar: boolean): boolean {
  if (!asList(s.Action as string | string[] | undefined).some((a) => globMatch(a, action))) return false;
  const resources = asList(s.Resource);
  return needsStar ? resources.some((r) => r === '*') : resources.length > 0;
}

/** The actions the inline policy does not grant (explicit denies count as not granted). */
export function missingEcrActions(policy: PolicyDocument | undefined): string[] {
  const wanted: [string, boolean][] = [['ecr:GetAuthorizationToken', true], ...ECR_READ_ACTIONS.map((a) => [a, false] as [string, boolean])];
  const st = policy?.Statement ?? [];
  return wanted
    .filter(([action, star]) => !st.some((s) => s.Effect === 'Allow' && statementGrants(s, action, star))
      || st.some((s) => s.Effect === 'Deny' && asList(s.Action as string | string[] | undefined).some((a) => globMatch(a, action))))
    .map(([a]) => a);
}

/** The role's permissions boundary as read for verify: its document (null: it does not exist), or why it could not be read. */
export type BoundaryRead = { arn: string; document: PolicyDocument | null } | { arn: string; error: string };

/** What the boundary must allow for the scope the inline policy grants: every read action there, and GetAuthorizationToken. */
function boundaryRow(boundary: BoundaryRead, resources: string[], granted: string): CheckRow {
  const name = 'ECR permissions';
  if ('error' in boundary) {
    return row('permissions-policy', name, 'warn', `${granted}, but the permissions boundary ${boundary.arn} could not be read (${boundary.error}), so whether it lets them through is not checked here.`,
      `Check by hand: aws iam get-policy-version --policy-arn ${boundary.arn} --version-id $(aws iam get-policy --policy-arn ${boundary.arn} --query Policy.DefaultVersionId --output text)`);
  }
  if (!boundary.document) {
    return row('permissions-policy', name, 'warn', `${granted}, but the role's permissions boundary ${boundary.arn} does not exist.`, `Check the role: aws iam get-role --role-name <role> --query Role.PermissionsBoundary`);
  }
  const wanted = [{ action: 'ecr:GetAuthorizationToken', resource: '*' }, ...ECR_READ_ACTIONS.flatMap((action) => resources.map((resource) => ({ action, resource })))];
  const refused = notAllowed(boundary.document, wanted);
  if (refused.length) {
    const shown = refused.slice(0, 3).map((r) => `${r.action} on ${r.resource}${r.verdict === 'deny' ? ' (denied explicitly)' : ''}`);
    return row('permissions-policy', name, 'fail',
      `${granted}, but the permissions boundary ${boundary.arn} does not allow ${shown.join(', ')}${refused.length > shown.length ? ` and ${refused.length - shown.length} more` : ''}: a role gets only what its policies and its boundary both allow, so ECR refuses these.`,
      `Have the boundary allow ${[...new Set(refused.map((r) => r.action))].join(', ')} on ${[...new Set(refused.map((r) => r.resource))].join(', ')} (its owner can), or give the role a boundary that does: rhacs-sts init --permissions-boundary <policy arn>.`);
  }
  return row('permissions-policy', name, 'pass', `${granted}; the permissions boundary ${boundary.arn} allows them too.`);
}

export function permissionsCheck(role: RoleState | null, initFix: string, boundary?: BoundaryRead): CheckRow {
  const name = 'ECR permissions';
  if (!role) return row('permissions-policy', name, 'fail', 'Not checked: the role does not exist.', initFix);
  const policy = role.inlinePolicies[PERMISSIONS_POLICY_NAME];
  const missing = missingEcrActions(policy);
  if (missing.length === 0) {
    const read = policy!.Statement.filter((s) => s.Effect === 'Allow' && asList(s.Action as string | string[]).some((a) => globMatch(a, 'ecr:BatchGetImage')));
    const resources = [...new Set(read.flatMap((s) => asList(s.Resource)))];
    const granted = `The inline policy ${PERMISSIONS_POLICY_NAME} grants ecr:GetAuthorizationToken and read access to ${resources.join(', ')}`;
    if (role.permissionsBoundary) return boundaryRow(boundary?.arn === role.permissionsBoundary ? boundary : { arn: role.permissionsBoundary, error: 'not read' }, resources, granted);
    return row('permissions-policy', name, 'pass', `${granted}.`);
  }
  const what = policy ? `The inline policy ${PERMISSIONS_POLICY_NAME} does not grant ${missing.join(', ')}` : `The role has no inline policy ${PERMISSIONS_POLICY_NAME}`;
  if (role.attachedPolicyArns.length) {
    return row('permissions-policy', name, 'warn',
      `${what}; the attached managed policies (${role.attachedPolicyArns.join(', ')}) may grant it but are not evaluated here (the end-to-end check calls ecr:GetAuthorizationToken).`,
      initFix);
  }
  return row('permissions-policy', name, 'fail', `${what}: RHACS cannot pull from ECR with the role.`, initFix);
}
