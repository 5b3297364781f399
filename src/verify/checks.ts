/**
 * The checks of `verify`, as pure functions from what was read to one row each: check, result
 * (pass, warn or fail), detail and, for anything not passing, the fix. The reading happens in
 * ./run.ts; nothing here does I/O, so every verdict is unit-tested.
 */
import type { IssuerDocuments, Jwk, PodState, WorkloadState } from '../kube/session.js';
import type { Provider } from '../options/options.js';
import {
  AUDIENCE,
  EKS_ROLE_ANNOTATION,
  OPENSHIFT_TOKEN_DIR,
  OPENSHIFT_TOKEN_FILE,
  RESTARTED_AT_ANNOTATION,
  type ClusterFacts,
  type Component,
  type ComponentState,
  type OidcProviderState,
  type RoleState,
} from '../plan/model.js';
import { sameOverlay, operatorOverlays } from '../plan/build.js';
import type { PublicIssuer } from '../clouds/aws/issuer/public.js';
import { bucketOfIssuer, compareKeys } from '../clouds/aws/issuer/publish.js';
import { evaluateTrust, type TokenClaims } from '../clouds/aws/verify/trust-eval.js';

export { row, plural, rowId, rowName, type CheckResult, type CheckRow, type Where } from './rows.js';
import { row, plural, rowId, rowName, type CheckRow, type Where } from './rows.js';
// IAM's rows are AWS's (src/clouds/aws/verify/); here, where the runner and the tests have found them.
export { expectedClaims, missingEcrActions, oidcProviderCheck, permissionsCheck, roleCheck, trustCheck, type BoundaryRead } from '../clouds/aws/verify/iam-checks.js';

function kids(keys: Jwk[]): string[] {
  return keys.map((k) => k.kid ?? '(no kid)');
}

// --- issuer --------------------------------------------------------------------------------

/** The issuer's discovery document and JWKS as the API server serves them. */
export function issuerApiCheck(w: Where, docs: IssuerDocuments | { error: string; hint?: string }): CheckRow {
  const id = rowId('issuer-discovery', w);
  const name = rowName('Issuer discovery (cluster API)', w);
  const expected = w.cluster.issuer;
  if ('error' in docs) {
    return row(id, name, 'fail', `Could not read /.well-known/openid-configuration and /openid/v1/jwks: ${docs.error}`,
      docs.hint ?? 'Check access to the cluster (kubectl get --raw /.well-known/openid-configuration).');
  }
  if (!docs.issuer) {
    return row(id, name, 'fail', 'The discovery document has no issuer.', 'Check the API server\'s --service-account-issuer setting.');
  }
  if (docs.issuer !== expected) {
    return row(id, name, 'fail',
      `The API server issues tokens as ${docs.issuer}, but the configuration uses ${expected}: AWS matches the token's iss against the OIDC provider, so it would reject them.`,
      w.cluster.provider === 'openshift'
        ? `Make authentication.config.openshift.io/cluster spec.serviceAccountIssuer and the issuer agree (a change takes effect when the kube-apiserver has rolled out), or re-run "rhacs-sts init --oidc-issuer ${docs.issuer}".`
        : `Re-run "rhacs-sts init" without --oidc-issuer (or with --oidc-issuer ${docs.issuer}).`);
  }
  if (docs.keys.length === 0) {
    return row(id, name, 'fail', `Issuer ${docs.issuer} matches, but the JWKS (/openid/v1/jwks) has no keys.`,
      'Check the API server\'s --service-account-key-file / signing key configuration.');
  }
  return row(id, name, 'pass', `Issuer ${docs.issuer} matches; the JWKS has ${plural(docs.keys.length, 'key')} (${kids(docs.keys).join(', ')}).`);
}

/**
 * The issuer as AWS fetches it: the public discovery document and JWKS. `signingKids`: the key ids
 * of tokens the cluster just signed (verify's token requests), when known: a signing key missing
 * from the public JWKS fails the check by name (the cluster rotated its key and the published keys
 * lag behind), where a key the cluster only lists is a warning.
 */
export function issuerPublicCheck(w: Where, pub: PublicIssuer, apiKeys: Jwk[] | undefined, signingKids: string[] = []): CheckRow {
  const id = rowId('issuer-public', w);
  const name = rowName('Issuer discovery (public URL)', w);
  const issuer = w.cluster.issuer;
  const inBucket = bucketOfIssuer(issuer);
  const publish = w.cluster.provider === 'eks'
    ? 'EKS serves the issuer itself: check that the cluster\'s OIDC issuer URL is the one configured.'
    : inBucket
      ? `Publish the cluster's current keys in the bucket ${inBucket.bucket}: rhacs-sts issuer publish --context <this cluster> (it adds new keys and keeps the old ones for a while).`
      : 'Publish the discovery document and keys where the issuer URL points (for OpenShift STS: the bucket ccoctl created, readable by everyone), e.g. with rhacs-sts issuer publish or ccoctl aws create-identity-provider.';
  if (!pub.reachable) {
    return row(id, name, 'warn',
      `${issuer}/.well-known/openid-configuration could not be reached from here (${pub.error}). That is expected on a private network; AWS must reach it from the internet.`,
      `From a machine with internet access: curl ${issuer}/.well-known/openid-configuration`);
  }
  if (pub.error) return row(id, name, 'fail', `The public issuer answered, but ${pub.error}: AWS cannot fetch the keys to verify the tokens.`, publish);
  if (pub.issuer !== issuer) {
    return row(id, name, 'fail', `The public discovery document names the issuer ${pub.issuer ?? '(none)'}, not ${issuer}: AWS rejects the tokens.`, publish);
  }
  const keys = pub.keys ?? [];
  if (keys.length === 0) return row(id, name, 'fail', `The public JWKS ${pub.jwksUri} has no keys: AWS cannot verify any token.`, publish);
  const missing = apiKeys ? compareKeys(keys, apiKeys).missing : [];
  const publishedKids = new Set(kids(keys));
  const signingMissing = [...new Set(signingKids)].filter((k) => !publishedKids.has(k) || missing.includes(k));
  if (signingMissing.length) {
    return row(id, name, 'fail',
      `The cluster signs its tokens with the key ${signingMissing.join(', ')}, which the public JWKS ${pub.jwksUri} lacks: AWS rejects every token it signs (the cluster's signing key was rotated and the published keys were not).`, publish);
  }
  if (apiKeys && missing.length === apiKeys.length && apiKeys.length > 0) {
    return row(id, name, 'fail', `The public JWKS ${pub.jwksUri} has none of the cluster's signing keys (${missing.join(', ')}): AWS cannot verify its tokens.`, publish);
  }
  if (missing.length) {
    return row(id, name, 'warn', `The public JWKS lacks some of the cluster's keys (${missing.join(', ')}); tokens signed with them will be rejected.`, publish);
  }
  return row(id, name, 'pass', `${pub.url} names the issuer; the public JWKS has ${plural(keys.length, 'key')}${apiKeys ? ', including every key the cluster serves' : ''}.`);
}

// --- Kubernetes ----------------------------------------------------------------------------

export interface ComponentInput {
  w: Where;
  comp: Component;
  roleArn: string;
  state: ComponentState | undefined;
}

/** True when the component's own configuration points at the role (annotation or env). */
export function isWired(i: ComponentInput): boolean {
  if (i.w.cluster.provider === 'eks') return i.state?.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] === i.roleArn;
  const env = i.state?.deployment?.env ?? [];
  const get = (n: string) => env.find((e) => e.name === n)?.value;
  return get('AWS_ROLE_ARN') === i.roleArn && get('AWS_WEB_IDENTITY_TOKEN_FILE') === OPENSHIFT_TOKEN_FILE;
}

export function wiringCheck(i: ComponentInput, initFix: string): CheckRow {
  const { w, comp, roleArn } = i;
  const ns = w.cluster.namespace;
  if (w.cluster.provider === 'eks') {
    const id = rowId('service-account', w, comp);
    const name = rowName(`Service account ${comp}`, w);
    const sa = i.state?.serviceAccount;
    const fix = `${initFix}   (or: kubectl -n ${ns} annotate serviceaccount ${comp} ${EKS_ROLE_ANNOTATION}=${roleArn} --overwrite)`;
    if (!sa) return row(id, name, 'fail', `Service account ${ns}/${comp} does not exist.`, 'Check the namespace (--namespace) and that RHACS is installed completely.');
    const cur = sa.annotations[EKS_ROLE_ANNOTATION];
    if (cur === undefined) return row(id, name, 'fail', `Service account ${ns}/${comp} has no ${EKS_ROLE_ANNOTATION} annotation: its pods get no AWS credentials.`, fix);
    if (cur !== roleArn) return row(id, name, 'fail', `Service account ${ns}/${comp} points at ${cur}, not ${roleArn}.`, fix);
    // The webhook gives the pods a token for this audience; the OIDC provider and the trust policy accept sts.amazonaws.com.
    const aud = sa.annotations[EKS_AUDIENCE_ANNOTATION];
    if (aud !== undefined && aud !== AUDIENCE.eks) {
      return row(id, name, 'fail',
        `Service account ${ns}/${comp} has ${EKS_AUDIENCE_ANNOTATION}=${aud}: its pods get tokens for ${aud}, but the OIDC provider and the trust policy accept ${AUDIENCE.eks}, so AWS refuses them.`,
        `kubectl -n ${ns} annotate serviceaccount ${comp} ${EKS_AUDIENCE_ANNOTATION}-   (then: kubectl -n ${ns} rollout restart deployment/${comp})`);
    }
    return row(id, name, 'pass', `${EKS_ROLE_ANNOTATION}=${roleArn}`);
  }
  const id = rowId('deployment-env', w, comp);
  const name = rowName(`Deployment ${comp} env`, w);
  const dep = i.state?.deployment;
  const fix = `${initFix}   (or: kubectl -n ${ns} set env deployment/${comp} -c ${comp} AWS_ROLE_ARN=${roleArn} AWS_WEB_IDENTITY_TOKEN_FILE=${OPENSHIFT_TOKEN_FILE})`;
  if (!dep) return row(id, name, 'fail', `Deployment ${ns}/${comp} (container ${comp}) was not found.`, 'Check the namespace (--namespace) and that RHACS is installed completely.');
  const get = (n: string) => dep.env.find((e) => e.name === n);
  const problems: string[] = [];
  const roleVar = get('AWS_ROLE_ARN');
  const fileVar = get('AWS_WEB_IDENTITY_TOKEN_FILE');
  if (!roleVar) problems.push('AWS_ROLE_ARN is not set');
  else if (roleVar.value !== roleArn) problems.push(`AWS_ROLE_ARN is ${roleVar.value ?? '(from a reference)'}, not ${roleArn}`);
  if (!fileVar) problems.push('AWS_WEB_IDENTITY_TOKEN_FILE is not set');
  else if (fileVar.value !== OPENSHIFT_TOKEN_FILE) problems.push(`AWS_WEB_IDENTITY_TOKEN_FILE is ${fileVar.value ?? '(from a reference)'}, not ${OPENSHIFT_TOKEN_FILE}`);
  if (problems.length) return row(id, name, 'fail', `In container ${dep.container}: ${problems.join('; ')}.`, fix);
  return row(id, name, 'pass', `AWS_ROLE_ARN=${roleArn}, AWS_WEB_IDENTITY_TOKEN_FILE=${OPENSHIFT_TOKEN_FILE}`);
}

/** OpenShift: the projected token (audience openshift) that AWS_WEB_IDENTITY_TOKEN_FILE reads. */
export function tokenVolumeCheck(i: ComponentInput, initFix: string): CheckRow | undefined {
  if (i.w.cluster.provider !== 'openshift') return undefined;
  const id = rowId('token-volume', i.w, i.comp);
  const name = rowName(`Token volume ${i.comp}`, i.w);
  const dep = i.state?.deployment;
  if (!dep) return row(id, name, 'fail', `Deployment ${i.w.cluster.namespace}/${i.comp} was not found.`, 'Check the namespace (--namespace).');
  if (!dep.hasTokenMount) {
    return row(id, name, 'fail', `Container ${dep.container} mounts no projected service-account token with audience openshift at ${OPENSHIFT_TOKEN_DIR}: the token file does not exist.`, initFix);
  }
  return row(id, name, 'pass', `A projected token (audience openshift) is mounted at ${OPENSHIFT_TOKEN_DIR}.`);
}

/** Operator installs: the CR carries our overlay, so the operator keeps the change. */
export function durabilityCheck(i: ComponentInput, initFix: string): CheckRow | undefined {
  const cr = i.w.cluster.operatorCrs?.[i.comp];
  if (i.w.cluster.installMethod !== 'operator' || !cr) return undefined;
  const id = rowId('operator-overlay', i.w, i.comp);
  const name = rowName(`Operator overlay ${i.comp}`, i.w);
  const wanted = operatorOverlays(i.w.cluster.provider, i.comp, i.roleArn);
  const present = wanted.every((o) => (cr.overlays ?? []).some((x) => sameOverlay(x, o)));
  if (!present) {
    return row(id, name, 'warn', `The ${cr.kind} resource ${cr.name} has no overlay of ours for ${i.comp}: the operator may undo the change on its next reconcile.`, initFix);
  }
  return row(id, name, 'pass', `The ${cr.kind} resource ${cr.name} carries the change as an overlay (durable).`);
}

export interface PodsInput extends ComponentInput {
  workload: WorkloadState | null | { error: string };
  /** EKS: when the role annotation was last set (undefined: unknown). */
  annotationSetAt?: Date;
}

const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');

export { EKS_AUDIENCE_ANNOTATION } from '../platforms/eks/constants.js';
import { EKS_AUDIENCE_ANNOTATION } from '../platforms/eks/constants.js';

/** The audience the EKS pod identity webhook gives the pods' token: the service account's annotation, else sts.amazonaws.com. */
export function eksPodAudience(i: ComponentInput): string {
  return i.state?.serviceAccount?.annotations[EKS_AUDIENCE_ANNOTATION] ?? AUDIENCE.eks;
}

/** What a running EKS pod carries, judged from the component's container. */
type Injection =
  | { kind: 'ok'; file: string; audience: string }
  | { kind: 'none' }
  | { kind: 'pod-identity' }
  | { kind: 'other-role'; arn: string }
  | { kind: 'role-from-reference' }
  | { kind: 'bad-token'; problem: string };

/**
 * Whether the pod identity webhook injected the role into the pod: AWS_ROLE_ARN is the role, and
 * AWS_WEB_IDENTITY_TOKEN_FILE names a projected service-account token with the expected audience.
 */
export function eksInjection(p: PodState, roleArn: string, audience: string): Injection {
  const get = (n: string) => p.env.find((e) => e.name === n);
  const role = get('AWS_ROLE_ARN');
  if (!role) return get('AWS_CONTAINER_CREDENTIALS_FULL_URI') ? { kind: 'pod-identity' } : { kind: 'none' };
  if (role.value === undefined) return { kind: 'role-from-reference' };
  if (role.value !== roleArn) return { kind: 'other-role', arn: role.value };
  const file = get('AWS_WEB_IDENTITY_TOKEN_FILE')?.value;
  if (!file) return { kind: 'bad-token', problem: 'no AWS_WEB_IDENTITY_TOKEN_FILE' };
  const mount = p.tokenMounts.find((m) => `${m.mountPath}/${m.path}` === file);
  if (!mount) return { kind: 'bad-token', problem: `no projected service-account token is mounted at ${file}` };
  if (mount.audience !== audience) return { kind: 'bad-token', problem: `the token at ${file} is for audience ${mount.audience || '(the API server)'}, not ${audience}` };
  return { kind: 'ok', file, audience };
}

/** EKS pods that run: each must carry the injected role, or the row names the pod, why it lacks it, and the fix. */
function eksPodsRow(i: PodsInput, live: PodState[], id: string, name: string): CheckRow {
  const { w, comp, roleArn } = i;
  const ns = w.cluster.namespace;
  const restart = `kubectl -n ${ns} rollout restart deployment/${comp}`;
  const audience = eksPodAudience(i);
  const setAt = i.annotationSetAt;
  const seen = live.map((p) => ({ p, inj: eksInjection(p, roleArn, audience) }));
  const of = <K extends Injection['kind']>(k: K) => seen.filter((x) => x.inj.kind === k) as { p: PodState; inj: Extract<Injection, { kind: K }> }[];
  const names = (xs: { p: PodState }[]) => xs.map((x) => x.p.name).join(', ');

  const other = of('other-role');
  if (other.length) {
    return row(id, name, 'fail', `Pod ${other[0]!.p.name} got AWS_ROLE_ARN=${other[0]!.inj.arn} when it started: it still uses the previous role.`, restart);
  }
  const podIdentity = of('pod-identity');
  if (podIdentity.length) {
    return row(id, name, 'fail',
      `${names(podIdentity)} get${podIdentity.length === 1 ? 's' : ''} credentials from an EKS Pod Identity association (AWS_CONTAINER_CREDENTIALS_FULL_URI), which takes precedence over the ${EKS_ROLE_ANNOTATION} annotation: ${podIdentity.length === 1 ? 'it does' : 'they do'} not use ${roleArn}.`,
      `Delete the association (aws eks list-pod-identity-associations --namespace ${ns} --service-account ${comp} --cluster-name <cluster>), then: ${restart}`);
  }
  const none = of('none');
  if (none.length) {
    // Start times and managedFields times have second precision: the same second is undecided.
    const sec = (d: Date) => Math.floor(d.getTime() / 1000);
    const older = setAt ? none.filter((x) => x.p.startTime && sec(x.p.startTime) < sec(setAt)) : [];
    const newer = setAt ? none.filter((x) => x.p.startTime && sec(x.p.startTime) > sec(setAt)) : [];
    if (older.length) {
      const p = older[0]!.p;
      return row(id, name, 'fail',
        `${plural(older.length, 'pod')} started before the role annotation was set (${iso(setAt!)}): ${p.name} started ${iso(p.startTime!)}. EKS injects credentials only when a pod starts, so ${older.length === 1 ? 'it runs' : 'they run'} without the role.`,
        restart);
    }
    if (newer.length) {
      const p = newer[0]!.p;
      const optOut = p.webhookOptOut;
      return row(id, name, 'fail',
        `Pod ${p.name} started ${iso(p.startTime!)}, after the role annotation was set (${iso(setAt!)}), but carries no AWS_ROLE_ARN or token: the EKS pod identity webhook did not mutate it${optOut ? ` (${optOut})` : ''}, so it runs without the role.`,
        optOut
          ? `Remove that from the pod template of deployment/${comp}, then: ${restart}`
          : `Check that the pods run as service account ${comp}. EKS runs the webhook itself; on a self-managed cluster install amazon-eks-pod-identity-webhook. Then: ${restart}`);
    }
    const p = none[0]!.p;
    return row(id, name, 'fail',
      `Pod ${p.name} carries no AWS_ROLE_ARN or token, so it runs without the role: it started before the role annotation was set, or the EKS pod identity webhook did not mutate it${p.webhookOptOut ? ` (${p.webhookOptOut})` : ''} (${setAt ? `it started in the same second as the annotation, ${iso(setAt)}` : 'no managedFields entry records when the annotation was set'}).`,
      `${restart}   (if a new pod still lacks AWS_ROLE_ARN, the webhook is not running: on a self-managed cluster install amazon-eks-pod-identity-webhook)`);
  }
  const bad = of('bad-token');
  if (bad.length) {
    return row(id, name, 'fail',
      `Pod ${bad[0]!.p.name} has AWS_ROLE_ARN=${roleArn} but ${bad[0]!.inj.problem}: the AWS SDK cannot read a web identity token for ${audience}.`,
      `If deployment/${comp} sets AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE itself, remove them (the webhook then injects both), then: ${restart}`);
  }
  const fromRef = of('role-from-reference');
  if (fromRef.length) {
    return row(id, name, 'warn', `AWS_ROLE_ARN of ${names(fromRef)} comes from a reference (valueFrom): which role the pods use cannot be read from here.`,
      `Check by hand: kubectl -n ${ns} exec ${fromRef[0]!.p.name} -- printenv AWS_ROLE_ARN`);
  }
  const ok = of('ok');
  const notReady = live.filter((p) => !p.ready);
  if (notReady.length) {
    return row(id, name, 'warn', `The pods carry the role, but ${names(notReady.map((p) => ({ p })))} ${notReady.length === 1 ? 'is' : 'are'} not ready yet.`, `kubectl -n ${ns} rollout status deployment/${comp}`);
  }
  const after = setAt && live.every((p) => p.startTime && Math.floor(p.startTime.getTime() / 1000) >= Math.floor(setAt.getTime() / 1000));
  const injected = `AWS_ROLE_ARN=${roleArn} and a token for ${audience} at ${ok[0]!.inj.file}`;
  return row(id, name, 'pass',
    after
      ? `${plural(live.length, 'pod')} started after the role annotation was set (${iso(setAt)}), with the role injected: ${injected}.`
      : `${plural(live.length, 'pod')} run${live.length === 1 ? 's' : ''} with the role injected: ${injected}.`);
}

/** The running pods use the configuration: EKS, they carry the role the webhook injected; OpenShift, they carry the env. */
export function podsCheck(i: PodsInput): CheckRow {
  const { w, comp, roleArn } = i;
  const ns = w.cluster.namespace;
  const id = rowId('pods', w, comp);
  const name = rowName(`Pods of ${comp} restarted`, w);
  const restart = `kubectl -n ${ns} rollout restart deployment/${comp}`;
  if (!isWired(i)) return row(id, name, 'warn', `Not checked: ${comp} is not configured for the role yet (see above).`);
  const wl = i.workload;
  if (wl === null) return row(id, name, 'fail', `Deployment ${ns}/${comp} was not found.`, 'Check the namespace (--namespace).');
  if ('error' in wl) return row(id, name, 'warn', `Could not read the deployment and its pods: ${wl.error}`, `Check by hand: kubectl -n ${ns} get pods -l app=${comp}`);
  const eks = w.cluster.provider === 'eks';
  const setAt = i.annotationSetAt;
  const live = (wl.pods ?? []).filter((p) => !p.terminating);
  const roleVar = (p: { env: { name: string; value?: string }[] }) => p.env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;

  if (live.length > 0) {
    if (eks) return eksPodsRow(i, live, id, name);
    const stale = live.filter((p) => roleVar(p) !== roleArn);
    if (stale.length) {
      return row(id, name, 'fail',
        `${plural(stale.length, 'pod')} run${stale.length === 1 ? 's' : ''} without AWS_ROLE_ARN=${roleArn} (started before the change): ${stale.map((p) => p.name).join(', ')}.`,
        wl.rollout.state === 'done' ? restart : `Wait for the rollout: kubectl -n ${ns} rollout status deployment/${comp}`);
    }
    const notReady = live.filter((p) => !p.ready);
    if (notReady.length) return row(id, name, 'warn', `The pods carry the role, but ${notReady.map((p) => p.name).join(', ')} ${notReady.length === 1 ? 'is' : 'are'} not ready yet.`, `kubectl -n ${ns} rollout status deployment/${comp}`);
    return row(id, name, 'pass', `${plural(live.length, 'pod')} run${live.length === 1 ? 's' : ''} with AWS_ROLE_ARN=${roleArn}.`);
  }

  // No pods to look at: judge by the deployment.
  const why = wl.pods === null ? `the pods cannot be listed (${wl.podsError ?? 'forbidden'})` : 'no pods are running';
  if (wl.rollout.state === 'failed') return row(id, name, 'fail', `The rollout of ${comp} failed (${wl.rollout.message}); ${why}.`, `kubectl -n ${ns} describe deployment/${comp}`);
  if (eks) {
    const marker = wl.podTemplateAnnotations[RESTARTED_AT_ANNOTATION];
    const restartedAt = marker ? new Date(marker) : undefined;
    if (!setAt) return row(id, name, 'warn', `Cannot tell when the role annotation was set, and ${why}.`, restart);
    // managedFields times have second precision.
    if (!restartedAt || !Number.isFinite(restartedAt.getTime()) || restartedAt.getTime() < Math.floor(setAt.getTime() / 1000) * 1000) {
      return row(id, name, 'fail', `The deployment was not restarted after the role annotation was set (${iso(setAt)})${marker ? `: last restart ${marker}` : ''}; ${why}.`, restart);
    }
    if (wl.rollout.state !== 'done') return row(id, name, 'warn', `Restarted at ${marker}, still rolling out (${wl.rollout.message}); ${why}.`, `kubectl -n ${ns} rollout status deployment/${comp}`);
    return row(id, name, 'pass', `Restarted at ${marker}, after the role annotation was set, and rolled out; ${why}.`);
  }
  if (wl.rollout.state !== 'done') return row(id, name, 'warn', `The rollout with the new environment is in progress (${wl.rollout.message}); ${why}.`, `kubectl -n ${ns} rollout status deployment/${comp}`);
  return row(id, name, 'pass', `The deployment has rolled out with the new environment; ${why}.`);
}

// --- end to end ----------------------------------------------------------------------------

export interface LocalExchangeInput {
  cluster: ClusterFacts;
  claims: TokenClaims;
  /** Key id of the token's signing key. */
  kid?: string;
  /** Whether the cluster's JWKS verifies the token: true, false, or undefined (not checked). */
  signatureVerified?: boolean;
  apiKeys?: Jwk[];
  publicIssuer?: PublicIssuer;
  provider: OidcProviderState | null | undefined;
  providerArn: string;
  role: RoleState | null;
}

/**
 * What AWS would object to in this token, checked here because a stand-in STS (or a bare
 * AccessDenied) would not say: issuer, audience against the OIDC provider, signing key
 * published, and the trust policy, each failure naming the exact condition.
 */
export function localExchangeFailures(i: LocalExchangeInput): string[] {
  const out: string[] = [];
  const iss = i.claims.iss?.replace(/\/+$/, '');
  if (iss !== i.cluster.issuer) out.push(`the token's iss is ${i.claims.iss}, but the OIDC provider is for ${i.cluster.issuer}`);
  if (!i.provider) out.push(`no IAM OIDC provider exists for ${i.cluster.issuer}`);
  else {
    const auds = Array.isArray(i.claims.aud) ? i.claims.aud : [i.claims.aud];
    if (!auds.some((a) => i.provider!.clientIds.includes(a))) {
      out.push(`the token's aud is ${auds.join(', ')}, but the OIDC provider accepts only ${i.provider.clientIds.join(', ') || 'no audience'}`);
    }
  }
  if (i.signatureVerified === false) out.push(`the token's signature does not verify with the cluster's JWKS key ${i.kid ?? ''}`.trim());
  if (i.kid && i.apiKeys && !i.apiKeys.some((k) => k.kid === i.kid)) out.push(`the token's signing key ${i.kid} is not in the cluster's JWKS`);
  const pub = i.publicIssuer;
  if (i.kid && pub?.reachable && !pub.error && pub.keys && !pub.keys.some((k) => k.kid === i.kid)) {
    out.push(`the token's signing key ${i.kid} is not published in the public JWKS ${pub.jwksUri}`);
  }
  if (!i.role) out.push('the role does not exist');
  else {
    const ev = evaluateTrust(i.role.trustPolicy, i.claims, i.providerArn);
    if (!ev.allowed) out.push(`the trust policy refuses it: ${ev.reason}`);
  }
  return out;
}
