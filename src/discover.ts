/**
 * Discovery: read-only facts from AWS (who am I, which partition) and from the cluster (provider,
 * issuer, region, RHACS install), then the current AWS state for the planned names. Independent
 * reads run concurrently. The SDK-backed sessions are imported lazily.
 */
import type { AwsSession } from './aws/session.js';
import { issuerThumbprint } from './aws/thumbprint.js';
import { decisionsFromOptions } from './decide.js';
import { InputError } from './errors.js';
import type { KubeSession } from './kube/session.js';
import type { Options } from './options.js';
import type { AwsState, Decisions, Facts } from './plan/model.js';
import type { Ui } from './ui/ui.js';

export interface Sessions {
  aws: AwsSession;
  /** By context name; '' for the current context. */
  kube: Map<string, KubeSession>;
}

export async function openSessions(options: Options, ui: Ui): Promise<Sessions> {
  const [{ createAwsSession }, { openKubeSession }] = await Promise.all([import('./aws/client.js'), import('./kube/client.js')]);
  const aws = createAwsSession({ profile: options.profile, region: options.region, log: ui.debug });
  const kube = new Map<string, KubeSession>();
  kube.set(options.context ?? '', await openKubeSession({ kubeconfig: options.kubeconfig, context: options.context }, ui.debug, { readOnly: options.dryRun }));
  return { aws, kube };
}

export interface Discovered {
  facts: Facts;
  decisions: Decisions;
  aws: AwsState;
  warnings: string[];
}

export async function discover(options: Options, sessions: Sessions, ui: Ui): Promise<Discovered> {
  const [identity, clusters] = await Promise.all([
    sessions.aws.identity(),
    Promise.all([...sessions.kube].map(async ([ctx, s]) => ({ ctx, d: await s.discover({
      namespace: options.namespace, provider: options.provider, oidcIssuer: options.oidcIssuer, region: options.region,
    }) }))),
  ]);
  ui.debug(`caller ${identity.arn} (account ${identity.accountId}, partition ${identity.partition})`);

  if (options.accountId && options.accountId !== identity.accountId) {
    throw new InputError([{
      source: '--account-id',
      message: `is ${options.accountId}, but your AWS credentials are for account ${identity.accountId}; the role and OIDC provider are created in the credentials' account`,
    }], 'Use --profile (or AWS_PROFILE) for a principal in the intended account, or drop --account-id.');
  }
  const region = options.region ?? clusters.map((c) => c.d.region).find(Boolean);
  if (!region) {
    throw new InputError([{ source: '--region', message: 'could not be detected from the cluster; say which AWS region the cluster runs in' }]);
  }
  const warnings = clusters.flatMap((c) => c.d.warnings);
  const facts: Facts = {
    partition: identity.partition,
    accountId: identity.accountId,
    region,
    clusterName: options.clusterName ?? clusters[0]?.d.clusterName,
    offline: false,
    clusters: clusters.map((c) => ({ ...c.d.facts, context: c.ctx || undefined })),
  };
  const decisions = decisionsFromOptions(options, facts);
  const issuers = [...new Set(facts.clusters.map((c) => c.issuer))];
  const aws = await sessions.aws.readState({ accountId: facts.accountId, partition: facts.partition, issuers, roleName: decisions.roleName });

  // Thumbprints only matter for a provider we are about to create.
  const missing = issuers.filter((i) => !aws.oidcProviders[i]);
  await Promise.all(missing.map(async (issuer) => {
    const r = await issuerThumbprint(issuer, { timeoutMs: 4000 });
    if ('thumbprint' in r) decisions.thumbprints[issuer] = [r.thumbprint];
    else warnings.push(`Could not compute the TLS thumbprint of ${issuer} (${r.error}); creating the OIDC provider without one (IAM trusts issuers with public CA certificates without it).`);
  }));
  return { facts, decisions, aws, warnings };
}
