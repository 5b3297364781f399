/**
 * AWS as the pipeline sees it (src/clouds/types.ts): IAM roles trusted through OIDC providers (or EKS
 * Pod Identity associations), ECR read, STS and EKS Auth in verify, S3 for a published issuer, and
 * Central's `ecr` integration. Loaded through src/clouds/registry.ts, never for --help or --version.
 */
import type { Cloud } from '../types.js';
import type { Plan, Facts, Decisions, AwsState } from '../../plan/model.js';
import type { UninstallDecisions } from '../../plan/uninstall.js';
import type { Options } from '../../options/options.js';
import type { Discovered, Sessions } from '../../sessions.js';
import type { VerifyDeps, VerifyReport } from '../../verify/run.js';
import type { AwsEnvironment } from './environment.js';
import type { PublicNet } from './issuer/public.js';
import type * as IssuerPublishing from './issuer/publishing.js';
import { isAwsAction, type AwsAction, type AwsSession } from './session.js';
import { AWS_AUDIENCE, awsWiring, type AwsPlatform } from './wiring.js';
import { buildPlan } from '../../plan/build.js';
import { buildUninstallPlan } from '../../plan/uninstall.js';
import { readAwsState } from './state.js';

export type AwsCloud = Omit<Cloud<
  AwsAction, Plan, AwsSession, AwsEnvironment,
  [facts: Facts, decisions: Decisions, state: AwsState | undefined],
  [facts: Facts, decisions: Decisions, state: AwsState, uninstall: UninstallDecisions],
  [options: Options, sessions: Sessions, found: Discovered, deps: VerifyDeps],
  VerifyReport,
  [facts: Facts, decisions: Decisions, sessions: Sessions, net?: PublicNet],
  { aws: AwsState; warnings: string[] }
>, 'issuerPublishing'> & {
  /** Publishing an OpenShift cluster's issuer in S3 (with its OIDC provider), and removing it on uninstall. */
  issuerPublishing: () => Promise<typeof IssuerPublishing>;
};

export const aws: AwsCloud = {
  id: 'aws',
  title: 'AWS',
  platforms: ['eks', 'openshift'],
  audience: (platform) => AWS_AUDIENCE[platform as AwsPlatform],
  wiring: awsWiring,
  isAction: (a): a is AwsAction => isAwsAction(a as Plan['actions'][number]),
  openSession: async (i) => {
    const { createAwsSession } = await import('./client.js');
    return createAwsSession({
      log: i.log,
      ...(i.profile !== undefined ? { profile: i.profile } : {}),
      ...(i.region !== undefined ? { region: i.region } : {}),
      ...(i.warn ? { warn: i.warn } : {}),
      ...(i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {}),
      ...(i.environment ? { environment: i.environment } : {}),
    });
  },
  readState: readAwsState,
  plan: buildPlan,
  planUninstall: buildUninstallPlan,
  checks: async (...input) => (await import('../../verify/run.js')).runChecks(...input),
  integration: { type: 'ecr', identityField: 'ecr.useIam' },
  issuerPublishing: () => import('./issuer/publishing.js'),
};
