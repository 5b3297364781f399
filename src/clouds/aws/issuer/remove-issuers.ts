// Uninstall's part of issuer publishing: the buckets "issuer publish" created go once nothing trusts their issuer.
import type { Options } from '../../../options/options.js';
import type { Plan } from '../../../plan/model.js';
import type { Discovered, Sessions } from '../../../sessions.js';
import type { Ui } from '../../../ui/ui.js';
import { oidcProviderArn } from '../policies.js';
import { applyUnpublish, bucketOfIssuer, isOurBucket, planUnpublish, readBucket } from './publish.js';

/**
 * Issuers rhacs-sts published in S3 ("issuer publish"): once nothing trusts their OIDC provider any
 * more (checked now, after the role is gone), the two documents and the bucket go — only a bucket
 * rhacs-sts created (tagged, not adopted), and only when it holds nothing else. Runs after the plan
 * (or, with --dry-run, says what it would do). The cluster keeps issuing its tokens as the bucket's
 * URL: setting spec.serviceAccountIssuer back is a cluster-wide change rhacs-sts leaves to people.
 */
export async function removePublishedIssuers(options: Options, ui: Ui, sessions: Sessions, found: Discovered, plan: Plan): Promise<void> {
  const issuers = [...new Set(found.facts.clusters.filter((c) => c.provider === 'openshift').map((c) => c.issuer))];
  for (const issuer of issuers) {
    const where = bucketOfIssuer(issuer);
    if (!where) continue;
    const { createIssuerBucketApi } = await import('./s3.js');
    const s3 = await createIssuerBucketApi({ region: where.region, profile: options.profile, log: ui.debug, timeoutMs: options.requestTimeoutMs });
    const state = await readBucket(s3, where.bucket);
    if (state.access === 'missing' || !isOurBucket(state.tags)) continue;
    const arn = oidcProviderArn(found.facts.partition, found.facts.accountId, issuer);
    const provider = sessions.aws.oidcProvider ? await sessions.aws.oidcProvider(arn) : null;
    // With --dry-run the role is still there: count the roles other than the one uninstall removes.
    const trusting = provider ? (await sessions.aws.rolesTrusting(arn)).filter((r) => !(options.dryRun && r === plan.role.name && plan.actions.some((a) => a.type === 'role' && a.status === 'delete'))) : [];
    const keptProvider = provider && options.keepOidcProvider && !options.dryRun;
    const un = keptProvider
      ? { deleteObjects: [], deleteBucket: false, notes: [`The bucket ${where.bucket} is kept with the OIDC provider (--keep-oidc-provider).`] }
      : planUnpublish(state, trusting);
    for (const n of un.notes) ui.info(n);
    if (!un.deleteObjects.length && !un.deleteBucket) continue;
    const what = `${un.deleteObjects.join(' and ')}${un.deleteBucket ? `${un.deleteObjects.length ? ', then ' : ''}the bucket ${where.bucket}` : ` from ${where.bucket}`}`;
    if (options.dryRun) {
      ui.info(`Would remove the published issuer ${issuer}: ${what}.`);
      continue;
    }
    await applyUnpublish(s3, where.bucket, un);
    ui.info(`Removed the published issuer ${issuer}: ${what}. The cluster still issues its tokens as ${issuer} (spec.serviceAccountIssuer of authentications.config.openshift.io/cluster); set it back yourself if nothing else uses it (cluster-wide: the kube-apiservers roll out).`);
  }
}
