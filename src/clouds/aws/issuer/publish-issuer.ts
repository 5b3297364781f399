/**
 * Publishing a cluster's issuer where AWS reads it ("issuer publish", and init's --publish-issuer):
 * ccoctl's layout in an S3 bucket of the cluster's region (./publish.ts plans and applies it), and
 * its IAM OIDC provider (audience openshift). What is read, the plan shown, the confirmation, then
 * the steps; pointing the cluster at the issuer is the caller's (`SetClusterIssuer`), asked a
 * second time at a terminal.
 */
import type { AwsSession } from '../session.js';
import { CancelledError, DeclinedError, InputError, OperationError, isRhacsStsError, ExitCode } from '../../../errors.js';
import { reportOnInterrupt, withInterruptHandling } from '../../../apply/interrupt.js';
import {
  applyPublish,
  bucketIssuerUrl,
  bucketOfIssuer,
  compareKeys,
  defaultBucketName,
  planPublish,
  readBucket,
  type PublishPlan,
  type PublishStepId,
} from './publish.js';
import { OPENSHIFT_DEFAULT_ISSUER, type OpenShiftIssuerState } from '../../../kube/openshift-issuer.js';
import type { Jwk, KubeSession } from '../../../kube/session.js';
import { fetchPublicIssuer, publicGetter } from './public.js';
import type { Options } from '../../../options/options.js';
import { MANAGED_TAG, oidcProviderArn } from '../policies.js';
import type { Ui } from '../../../ui/ui.js';

const AUDIENCE = 'openshift';

/** Points the cluster at the published issuer and waits for it to take (the platform's part, a cluster-wide change). */
export type SetClusterIssuer = (options: Options, ui: Ui, kube: KubeSession, issuer: string) => Promise<void>;

export interface PublishSessions {
  kube: KubeSession;
  aws: AwsSession;
}

export interface PublishOutcome {
  issuer: string;
  bucket: string;
  region: string;
  /** The cluster's tokens carry the published issuer now. */
  clusterIssuerSet: boolean;
}

interface ProviderStep {
  arn: string;
  status: 'create' | 'update' | 'unchanged';
  summary: string;
  addClientIds: string[];
  tags: Record<string, string>;
  blocker?: { message: string; hint: string };
}

export async function publishIssuer(options: Options, ui: Ui, s: PublishSessions, setClusterIssuer: SetClusterIssuer): Promise<PublishOutcome> {
  const read = await ui.spinner('Reading the cluster, the bucket and the AWS account…', () => readForPublish(options, ui, s));
  if ('alreadyPublic' in read && read.alreadyPublic) return alreadyPublished(options, ui, read.current, read.alreadyPublic);
  const { os, s3, plan, provider, current } = read;
  const clusterChange = current !== plan.issuer;

  // Text: the plan now, before any question. JSON: one document at the end, with what was applied.
  const json = options.output === 'json';
  const applied: string[] = [];
  if (!json) render(options, ui, plan, provider, os, read.apiIssuer);
  const blockers = [...plan.blockers, ...(provider.blocker ? [provider.blocker] : [])];
  if (blockers.length) {
    throw new OperationError(`Cannot publish: ${blockers.map((b) => b.message).join(' ')}`, { hint: blockers.map((b) => b.hint).filter(Boolean).join(' ') });
  }
  const outcome: PublishOutcome = { issuer: plan.issuer, bucket: plan.bucket, region: plan.region, clusterIssuerSet: !clusterChange };
  const finish = (o: PublishOutcome): PublishOutcome => {
    if (json) render(options, ui, plan, provider, os, read.apiIssuer, { applied, clusterIssuerSet: o.clusterIssuerSet });
    return o;
  };
  if (options.dryRun) return finish(outcome);

  const changes = plan.steps.filter((x) => x.status !== 'unchanged').length + (provider.status === 'unchanged' ? 0 : 1);
  if (changes > 0) {
    if (!options.yes) {
      if (!ui.interactive) {
        throw new InputError([{ source: '--yes', message: `is required to apply ${changes} change${changes === 1 ? '' : 's'} when not running at a terminal` }],
          'Review them with "rhacs-sts issuer publish --dry-run", then re-run with --yes.');
      }
      if (!(await ui.confirm(`Publish the issuer: apply ${changes === 1 ? 'this change' : `these ${changes} changes`}?`, false))) throw new DeclinedError();
    }
    // From here on something may have changed: Ctrl-C finishes the step in progress, or says what was done.
    await reportOnInterrupt(() => interruptedPublish(plan.bucket, applied), () => withInterruptHandling(ui, async (signal) => {
      await applyPublish(s3, plan, (summary) => ui.step(summary), signal, applied as PublishStepId[]);
      if (provider.status !== 'unchanged') {
        if (signal.aborted) {
          throw new CancelledError(`Interrupted: the step in progress was finished; the OIDC provider was not created. Done before the interruption: ${applied.join(', ')}.`,
            'Re-running "rhacs-sts issuer publish" resumes: every step checks what is already in place.');
        }
        ui.step(provider.summary);
        await s.aws.ensureOidcProvider!({
          id: `oidc-provider:${plan.issuer}`, type: 'oidc-provider', status: provider.status, target: provider.arn, summary: provider.summary,
          issuer: plan.issuer, arn: provider.arn, addClientIds: provider.addClientIds, tags: provider.tags, thumbprints: [],
        });
        applied.push('oidc-provider');
      }
    }));
    ui.info(`Published ${plan.issuer} (${changes} change${changes === 1 ? '' : 's'}).`);
  } else {
    ui.info(`The issuer ${plan.issuer} is published and matches the cluster's keys: nothing to change.`);
  }

  if (!clusterChange || !options.setClusterIssuer) return finish(outcome);
  ui.info('');
  return pointClusterAtIssuer(options, ui, s, setClusterIssuer, plan, applied, () => finish({ ...outcome, clusterIssuerSet: true }));
}

/** What publishing starts from: the cluster's issuer and keys, the bucket, the account's OIDC provider, and the plan. */
async function readForPublish(options: Options, ui: Ui, s: PublishSessions) {
  const os = s.kube.openShiftIssuer ? await s.kube.openShiftIssuer() : null;
  if (!os) {
    throw new InputError(
      [{ source: '--context', message: `context "${s.kube.contextName}" is not an OpenShift cluster (no authentications.config.openshift.io/cluster): only OpenShift without STS needs its issuer published (EKS publishes its own)` }],
      'Pass --context with the OpenShift cluster\'s context.',
    );
  }
  const target = bucketTarget(options, os, s.kube.contextName);
  const [docs, identity] = await Promise.all([s.kube.issuerDiscovery(), s.aws.identity(async () => target.region)]);
  const issuer = bucketIssuerUrl(target.bucket, target.region, identity.partition);
  const current = os.serviceAccountIssuer.replace(/\/+$/, '');
  // The cluster already names an issuer that is not the bucket asked for: if AWS can read it
  // (with the cluster's keys), it is set up; nothing to publish.
  if (current && current !== issuer && options.bucket === undefined) {
    const inPlace = await publishedIssuer(current, docs.keys, options);
    if (inPlace) return { alreadyPublic: inPlace, current } as const;
  }
  if (current && current !== issuer) {
    throw new OperationError(
      `The cluster already issues its tokens as ${current} (spec.serviceAccountIssuer of authentications.config.openshift.io/cluster): it is set up for STS with that issuer, and publishing ${issuer} would give AWS an issuer its tokens do not carry.`,
      {
        hint: bucketOfIssuer(current)
          ? `To re-publish that issuer's keys (after a key rotation), drop --bucket/--region: they are taken from it. To wire RHACS, run "rhacs-sts init".`
          : 'Run "rhacs-sts init": it uses the cluster\'s issuer.',
      },
    );
  }
  const { createIssuerBucketApi } = await import('./s3.js');
  const s3 = await createIssuerBucketApi({ region: target.region, profile: options.profile, log: ui.debug, timeoutMs: options.requestTimeoutMs });
  const state = await readBucket(s3, target.bucket);
  // The cluster's issuer is this bucket's URL, but the bucket is not in this account (ccoctl's,
  // or another account's): when AWS can read the issuer with the cluster's keys, it is published.
  if (current === issuer && state.access !== 'ok') {
    const inPlace = await publishedIssuer(current, docs.keys, options);
    if (inPlace) return { alreadyPublic: inPlace, current } as const;
  }
  const plan = planPublish(state, {
    bucket: target.bucket,
    region: target.region,
    partition: identity.partition,
    clusterName: options.clusterName ?? os.infrastructureName,
    clusterKeys: docs.keys,
    adopt: options.adoptBucket,
  });
  const arn = oidcProviderArn(identity.partition, identity.accountId, issuer);
  const provider = providerStep(arn, issuer, s.aws.oidcProvider ? await s.aws.oidcProvider(arn) : null, options.clusterName ?? os.infrastructureName);
  return { os, s3, plan, provider, current, apiIssuer: docs.issuer };
}

/**
 * Asked a second time, at a terminal: point the cluster at the published issuer (a cluster-wide
 * change). Declining, or Ctrl-C, leaves what is published in place and says so.
 */
async function pointClusterAtIssuer(
  options: Options, ui: Ui, s: PublishSessions, setClusterIssuer: SetClusterIssuer, plan: PublishPlan, applied: string[], done: () => PublishOutcome,
): Promise<PublishOutcome> {
  const inPlace = `the bucket ${plan.bucket} and the OIDC provider are in place`;
  return reportOnInterrupt(() => interruptedPublish(plan.bucket, applied), async () => {
    let sure: boolean;
    try {
      sure = await ui.confirm(
        `Set spec.serviceAccountIssuer of authentications.config.openshift.io/cluster to ${plan.issuer}? Every kube-apiserver rolls out, and every bound token issued from then on carries this issuer.`,
        false,
      );
    } catch (err) {
      // Ctrl-C at the second question: the issuer is published; only the cluster was left as it was.
      if (isRhacsStsError(err) && err.exitCode === ExitCode.Cancelled) {
        throw new CancelledError(`Cancelled: the cluster's issuer was not changed (${inPlace}${applied.length ? `; this run made: ${applied.join(', ')}` : ''}).`,
          'Re-run "rhacs-sts issuer publish --set-cluster-issuer" at a terminal to point the cluster at the published issuer.');
      }
      throw err;
    }
    if (!sure) throw new DeclinedError(`Not applied: the cluster's issuer was not changed (${inPlace}).`);
    await withInterruptHandling(ui, () => setClusterIssuer(options, ui, s.kube, plan.issuer));
    applied.push('cluster-issuer');
    return done();
  });
}

/** What an interrupted publish leaves: the steps done, and how to resume. */
function interruptedPublish(bucket: string, applied: string[]): string {
  return applied.length
    ? `the issuer's changes made so far stay (${applied.join(', ')}, bucket ${bucket}); the cluster's issuer was not changed. Re-running "rhacs-sts issuer publish" resumes.`
    : 'nothing was changed.'
}

/**
 * Whether `issuer` is public as AWS will fetch it: its discovery document names it and its keys
 * include every key the cluster signs with. Undefined when not (or not reachable from here).
 */
async function publishedIssuer(issuer: string, clusterKeys: Jwk[], options: Options): Promise<{ jwksUri: string; keys: number } | undefined> {
  const pub = await fetchPublicIssuer(issuer, { get: publicGetter({ connectTo: options.connectTo }) });
  if (!pub.reachable || pub.error || pub.issuer !== issuer || !pub.jwksUri || !pub.keys) return undefined;
  if (compareKeys(pub.keys, clusterKeys).missing.length) return undefined;
  return { jwksUri: pub.jwksUri, keys: clusterKeys.length };
}

/** The cluster has a public issuer already: say so, propose nothing. */
function alreadyPublished(options: Options, ui: Ui, issuer: string, found: { jwksUri: string; keys: number }): PublishOutcome {
  const where = bucketOfIssuer(issuer);
  if (options.output === 'json') {
    ui.result(JSON.stringify({ issuer, alreadyPublic: true, jwksUri: found.jwksUri, ...(where ?? {}), dryRun: options.dryRun, steps: [], applied: [] }, null, 2));
  } else {
    ui.result([
      ui.colors.bold(`Issuer ${issuer}`),
      `  = The cluster already has a public issuer: its tokens carry ${issuer} (spec.serviceAccountIssuer of authentications.config.openshift.io/cluster),`,
      `    and AWS can read its discovery document and keys (${found.jwksUri}), which include the ${found.keys === 1 ? 'key' : `${found.keys} keys`} the cluster signs with.`,
      `  Nothing to publish${where ? ` (the bucket ${where.bucket} is not in this AWS account: it was published elsewhere, e.g. by ccoctl)` : ''}.`,
    ].join('\n'));
    if (!options.dryRun) ui.info('Next: wire RHACS to AWS with "rhacs-sts init", then check the chain with "rhacs-sts verify".');
  }
  return { issuer, bucket: where?.bucket ?? '', region: where?.region ?? '', clusterIssuerSet: true };
}

/** The bucket and region: the flags, else the bucket the cluster's issuer already names, else defaults from the infrastructure. */
function bucketTarget(options: Options, os: OpenShiftIssuerState, context: string): { bucket: string; region: string } {
  const named = os.serviceAccountIssuer ? bucketOfIssuer(os.serviceAccountIssuer.replace(/\/+$/, '')) : undefined;
  const region = options.region ?? named?.region ?? os.region;
  if (!region) throw new InputError([{ source: '--region', message: `the OpenShift infrastructure of context "${context}" names no AWS region; say which region the bucket goes in` }]);
  const base = os.infrastructureName;
  const bucket = options.bucket ?? named?.bucket ?? (base ? defaultBucketName(base) : undefined);
  if (!bucket) throw new InputError([{ source: '--bucket', message: 'the cluster has no infrastructure name to name the bucket after; choose a bucket name' }]);
  return { bucket, region };
}

function providerStep(arn: string, issuer: string, current: { clientIds: string[]; tags: Record<string, string> } | null, clusterName?: string): ProviderStep {
  const tags: Record<string, string> = { [MANAGED_TAG]: 'true', ...(clusterName ? { 'rhacs-sts/cluster': clusterName } : {}) };
  if (!current) {
    return { arn, status: 'create', summary: `Create the IAM OIDC identity provider for ${issuer} (audience ${AUDIENCE})`, addClientIds: [AUDIENCE], tags };
  }
  const owned = current.tags[MANAGED_TAG] === 'true';
  const missing = current.clientIds.includes(AUDIENCE) ? [] : [AUDIENCE];
  if (missing.length && !owned) {
    return {
      arn, status: 'unchanged', summary: `OIDC provider ${arn} exists`, addClientIds: [], tags: {},
      blocker: { message: `The OIDC provider ${arn} exists, was not created by rhacs-sts, and lacks the audience ${AUDIENCE}.`, hint: 'Add it yourself (aws iam add-client-id-to-open-id-connect-provider), or let "rhacs-sts init --adopt-oidc-provider" do it.' },
    };
  }
  if (missing.length) return { arn, status: 'update', summary: `Add the audience ${AUDIENCE} to the OIDC provider ${arn}`, addClientIds: missing, tags: {} };
  return { arn, status: 'unchanged', summary: `OIDC provider for ${issuer} is in place${owned ? '' : ' (not ours: used, never changed)'}`, addClientIds: [], tags: {} };
}

const MARK = { create: '+', update: '~', unchanged: '=' } as const;

function render(options: Options, ui: Ui, plan: PublishPlan, provider: ProviderStep, os: OpenShiftIssuerState, apiIssuer?: string, done?: { applied: string[]; clusterIssuerSet: boolean }): void {
  const current = os.serviceAccountIssuer || '';
  const tokensCarry = apiIssuer ?? (current || OPENSHIFT_DEFAULT_ISSUER);
  if (options.output === 'json') {
    ui.result(JSON.stringify({
      issuer: plan.issuer,
      bucket: plan.bucket,
      region: plan.region,
      dryRun: options.dryRun,
      steps: plan.steps,
      keys: { published: plan.keys.keys.map((k) => k.kid), added: plan.keys.added, retained: plan.keys.kept, removed: plan.keys.dropped },
      oidcProvider: { arn: provider.arn, status: provider.status, summary: provider.summary },
      clusterIssuer: { current, tokensCarry, desired: plan.issuer, change: current !== plan.issuer, apply: options.setClusterIssuer && !options.dryRun, set: done?.clusterIssuerSet ?? false },
      blockers: [...plan.blockers, ...(provider.blocker ? [provider.blocker] : [])],
      applied: done?.applied ?? [],
    }, null, 2));
    return;
  }
  const c = ui.colors;
  const lines = [
    c.bold(`Issuer ${plan.issuer}`),
    ...plan.steps.map((x) => `  ${MARK[x.status]} ${x.summary}`),
    `  ${MARK[provider.status]} ${provider.summary}`,
    '',
    c.bold('The cluster'),
  ];
  if (current === plan.issuer) {
    lines.push(`  = spec.serviceAccountIssuer is ${plan.issuer}${tokensCarry !== plan.issuer ? ` (the kube-apiservers still issue ${tokensCarry}: they are rolling out)` : ''}`);
  } else {
    lines.push(
      `  spec.serviceAccountIssuer of authentications.config.openshift.io/cluster is ${current ? current : '"" (unset)'}: tokens carry ${tokensCarry}.`,
      `  ${options.setClusterIssuer ? '~' : ' '} ${options.setClusterIssuer ? 'Set' : 'To use the published issuer, set'} it to ${plan.issuer}. This is cluster-wide:`,
      '      - every bound service-account token the cluster issues from then on carries the new issuer;',
      '      - every kube-apiserver restarts, one after another (the kube-apiserver operator rolls a new revision);',
      '      - tokens of the old issuer stay accepted for about 24 hours, then only the new one is;',
      '      - anything that checks the old issuer (another OIDC provider for it, an external verifier) must follow.',
      options.setClusterIssuer
        ? '    You are asked to confirm it separately, after the bucket is published.'
        : '    Not changed: pass --set-cluster-issuer (at a terminal, asked twice) to do it.',
    );
  }
  if (plan.blockers.length || provider.blocker) {
    lines.push('', c.red('Blocked:'), ...[...plan.blockers, ...(provider.blocker ? [provider.blocker] : [])].map((b) => `  - ${b.message}${b.hint ? ` ${b.hint}` : ''}`));
  }
  ui.result(lines.join('\n'));
}

