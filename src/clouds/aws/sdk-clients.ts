/**
 * The SDK v3 clients an AwsSession sends through: STS (regional), IAM (global, in its partition's
 * region) and EKS (per region, loaded only when a run uses Pod Identity). Each has its own bounded
 * handler and call log (see http.ts); the SDK's retries stay as they are.
 */
import './sdk-env.js';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { InputError } from '../../errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../options/options.js';
import type { Partition } from '../../validate.js';
import type { EksAssociations } from './eks.js';
import type { AwsEnvironment } from './environment.js';
import { call } from './errors.js';
import { boundedRequests, watchCalls } from './http.js';

export interface AwsSessionOptions {
  profile?: string;
  /** Region for STS (IAM is global); the SDK's own default applies when unset. */
  region?: string;
  log: (message: string) => void;
  /** Warnings a person should read (the SDK's, put in our words). */
  warn?: (message: string) => void;
  /** Bound of each request attempt, connection to last byte (--request-timeout). */
  timeoutMs?: number;
  /** Pause between retries of IAM's eventual consistency (tests shorten it). */
  sleep?: (ms: number) => Promise<void>;
  /** AWS_PROFILE and the other variables read at the entry point (for messages). */
  environment?: AwsEnvironment;
}

export interface AwsClients {
  sts: STSClient;
  /** The IAM client, made on first use in the region of the partition known then. */
  iam(): IAMClient;
  /** The partition learnt from the caller or from an ARN; undefined keeps the one known. */
  usePartition(partition: Partition | undefined): void;
  /** The region the cluster names (EKS issuer, OpenShift infrastructure), for STS when none is configured. */
  useRegionHint(hint: (() => Promise<string | undefined>) | undefined): void;
  /** Pod Identity associations through the EKS API; its SDK client is loaded on first use. */
  eks(): Promise<EksAssociations>;
}

const IAM_REGION: Partial<Record<Partition, string>> = { aws: 'us-east-1', 'aws-us-gov': 'us-gov-west-1', 'aws-cn': 'cn-north-1' };

/**
 * One line for what the SDK hands its logger. Its logger middleware passes an object for a failed
 * call ({ clientName, commandName, input, error, metadata }): the client, the command and the error
 * are said, never the input (it may carry a token). Any other object is named by its fields only.
 */
export function sdkLogLine(args: readonly unknown[]): string {
  const part = (a: unknown): string => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    if (a === null || typeof a !== 'object') return String(a);
    const o = a as { clientName?: unknown; commandName?: unknown; error?: unknown; metadata?: { httpStatusCode?: unknown; requestId?: unknown } };
    if (typeof o.commandName === 'string') {
      const command = `${typeof o.clientName === 'string' ? `${o.clientName.replace(/Client$/, '')} ` : ''}${o.commandName.replace(/Command$/, '')}`;
      const e = o.error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown; requestId?: unknown } } | undefined;
      const meta = o.metadata ?? e?.$metadata;
      const about = [
        typeof meta?.httpStatusCode === 'number' ? `HTTP ${meta.httpStatusCode}` : undefined,
        typeof meta?.requestId === 'string' ? `request ${meta.requestId}` : undefined,
      ].filter(Boolean).join(', ');
      const error = e ? `${typeof e.name === 'string' ? e.name : 'error'}${typeof e.message === 'string' && e.message ? `: ${e.message}` : ''}` : 'no error given';
      return `${command} failed${about ? ` (${about})` : ''}: ${error}`;
    }
    if (typeof (a as { message?: unknown }).message === 'string') return (a as { message: string }).message;
    return `{${Object.keys(a).join(', ')}}`;
  };
  return `aws sdk: ${args.map(part).join(' ').split('\n')[0]}`;
}

/**
 * The SDK's own warnings go through us: the one about both AWS_PROFILE and static keys being set
 * becomes one plain sentence; the rest are diagnostics (--verbose).
 */
export function sdkLogger(o: Pick<AwsSessionOptions, 'log' | 'warn' | 'profile' | 'environment'>) {
  let warnedSources = false;
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => {
      const m = args.map(String).join(' ');
      if (/Multiple credential sources detected/.test(m)) {
        if (!warnedSources) o.warn?.(`Both a profile (${o.profile ?? o.environment?.profile}) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set: the profile's credentials are used. Unset one of them to make the choice explicit.`);
        warnedSources = true;
      } else o.log?.(sdkLogLine(args));
    },
    error: (...args: unknown[]) => o.log?.(sdkLogLine(args)),
  };
}

/**
 * STS is regional: --region, else the SDK's own chain (AWS_REGION, the profile), else the region
 * the cluster names, which identity() is given as a hint.
 */
function stsRegion(o: AwsSessionOptions, sdkRegion: () => Promise<string>, regionHint: () => (() => Promise<string | undefined>) | undefined) {
  return async (): Promise<string> => {
    if (o.region) return o.region;
    try {
      return await sdkRegion();
    } catch {
      /* no region configured: fall back to the cluster's */
    }
    const hinted = await regionHint()?.().catch(() => undefined);
    if (hinted) return hinted;
    throw new InputError(
      [{ source: '--region', message: 'no AWS region is configured (AWS_REGION, AWS_DEFAULT_REGION or the profile) and the cluster does not name one' }],
      'Pass --region with the AWS region the cluster runs in.',
    );
  };
}

export function createAwsClients(o: AwsSessionOptions): AwsClients {
  const timeoutMs = o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const base = { ...(o.profile ? { profile: o.profile } : {}), maxAttempts: 5, logger: sdkLogger(o) };
  // Each client its own bounded handler (see http.ts); the SDK's retries stay as they are.
  const common = () => ({ ...base, ...boundedRequests(timeoutMs) });
  const watched = <C>(client: C): C => {
    watchCalls(client, { timeoutMs, log: o.log });
    return client;
  };
  let regionHint: (() => Promise<string | undefined>) | undefined;
  const sdkRegion = new STSClient(base).config.region;
  const sts = watched(new STSClient({ ...common(), region: stsRegion(o, sdkRegion, () => regionHint) }));
  let iam: IAMClient | undefined;
  let partition: Partition = 'aws';
  let eksModule: Promise<EksAssociations> | undefined;
  const eks = () =>
    (eksModule ??= Promise.all([import('@aws-sdk/client-eks'), import('./eks.js')]).then(([sdk, mod]) => {
      const clients = new Map<string, InstanceType<typeof sdk.EKSClient>>();
      return mod.eksAssociations((region) => {
        let c = clients.get(region);
        if (!c) {
          c = watched(new sdk.EKSClient({ ...common(), region }));
          clients.set(region, c);
        }
        return c;
      }, call);
    }));
  return {
    sts,
    iam: () => (iam ??= watched(new IAMClient({ ...common(), region: IAM_REGION[partition] ?? o.region ?? 'us-east-1' }))),
    usePartition: (p) => {
      partition = p ?? partition;
    },
    useRegionHint: (hint) => {
      regionHint = hint;
    },
    eks,
  };
}
