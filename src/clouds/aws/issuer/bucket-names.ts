/** The issuer bucket's names and URLs: ccoctl's layout, the issuer being the bucket's regional virtual-hosted URL. */
import { InputError } from '../../../errors.js';
import type { Partition } from '../../../validate.js';

const DNS_SUFFIX: Partial<Record<Partition, string>> = { aws: 'amazonaws.com', 'aws-us-gov': 'amazonaws.com', 'aws-cn': 'amazonaws.com.cn' };

/** A default bucket name from the cluster's infrastructure name (unique per install), within S3's rules. */
export function defaultBucketName(infrastructureName: string): string {
  const base = infrastructureName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'cluster';
  const suffix = '-rhacs-sts-oidc';
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** The issuer URL of a bucket: S3's regional virtual-hosted endpoint, as ccoctl writes it. */
export function bucketIssuerUrl(bucket: string, region: string, partition: Partition): string {
  const suffix = DNS_SUFFIX[partition];
  if (!suffix) throw new InputError([{ source: '--region', message: `publishing an issuer in S3 is not supported in the ${partition} partition` }]);
  return `https://${bucket}.s3.${region}.${suffix}`;
}

/** The bucket behind an issuer URL of that form, if it is one. */
export function bucketOfIssuer(issuer: string): { bucket: string; region: string } | undefined {
  const m = /^https:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.s3\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/?$/.exec(issuer);
  return m ? { bucket: m[1]!, region: m[2]! } : undefined;
}
