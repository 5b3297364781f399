/**
 * Validators for every input we accept. Each returns `undefined` when the value is valid, or a
 * sentence saying what is wrong and what a valid value looks like. Rules follow the services'
 * own documented limits (IAM, STS, ECR, Kubernetes API machinery).
 */

export type Check = (value: string) => string | undefined;

export const accountId: Check = (v) =>
  /^\d{12}$/.test(v) ? undefined : `"${v}" is not an AWS account id (exactly 12 digits, e.g. 111122223333)`;

// IAM: 1-64 characters of [A-Za-z0-9+=,.@_-].
export const roleName: Check = (v) => {
  if (v.length === 0 || v.length > 64) return `role names are 1 to 64 characters long (got ${v.length})`;
  if (!/^[\w+=,.@-]+$/.test(v)) return `"${v}" has characters IAM does not allow in a role name (allowed: letters, digits and + = , . @ _ -)`;
  return undefined;
};

// IAM: a path is "/" or "/segment/.../", printable ASCII without spaces, at most 512 characters.
export const rolePath: Check = (v) => {
  if (v.length > 512) return `role paths are at most 512 characters long (got ${v.length})`;
  if (!/^\/(?:[\x21-\x7e]*\/)?$/.test(v)) return `"${v}" is not an IAM path: it must start and end with "/", e.g. /rhacs/`;
  if (v.includes('//')) return `"${v}" is not an IAM path: it has an empty segment`;
  // IAM stores "*" and "?" in a path, but the path is part of the role's ARN, and in a policy
  // (a cross-account grant's Principal, an ARN condition) they are wildcards matching other roles.
  if (/[*?]/.test(v)) return `"${v}" is not usable as a role path: "*" and "?" are wildcards in the role's ARN wherever a policy names it`;
  return undefined;
};

// Commercial (us-east-1, eusc-de-east-1), GovCloud (us-gov-west-1), China (cn-north-1), ISO (us-iso-east-1).
const REGION = /^(?:[a-z]{2}(?:-(?:gov|iso|isob|isoe|isof))?|eusc-[a-z]{2})-[a-z]+-\d{1,2}$/;
export const region: Check = (v) => (REGION.test(v) ? undefined : `"${v}" is not an AWS region (e.g. eu-west-1, us-gov-west-1, cn-north-1)`);

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f' | 'aws-eusc';
export const PARTITIONS: readonly Partition[] = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'];

/** The partition a region belongs to. */
export function partitionOfRegion(r: string): Partition {
  if (r.startsWith('us-gov-')) return 'aws-us-gov';
  if (r.startsWith('cn-')) return 'aws-cn';
  if (r.startsWith('us-isob-')) return 'aws-iso-b';
  if (r.startsWith('us-iso-')) return 'aws-iso';
  if (/^[a-z]{2}-isoe-/.test(r)) return 'aws-iso-e';
  if (/^[a-z]{2}-isof-/.test(r)) return 'aws-iso-f';
  if (r.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

// An IAM managed policy ARN, as a permissions boundary takes: arn:<partition>:iam::<account|aws>:policy/<path/>name
export const policyArn: Check = (v) => {
  const m = /^arn:([a-z-]+):iam::(\d{12}|aws):policy\/((?:[\x21-\x7e]+\/)*)([\w+=,.@-]{1,128})$/.exec(v);
  if (!m) return `"${v}" is not an IAM policy ARN (e.g. arn:aws:iam::111122223333:policy/boundary)`;
  if (!PARTITIONS.includes(m[1] as Partition)) return `"${m[1]}" in "${v}" is not an AWS partition (${PARTITIONS.join(', ')})`;
  return undefined;
};

/** The partition named in an ARN, or undefined. */
export function partitionOfArn(arn: string): Partition | undefined {
  const p = /^arn:([a-z-]+):/.exec(arn)?.[1];
  return p && PARTITIONS.includes(p as Partition) ? (p as Partition) : undefined;
}

/**
 * Normalises an OIDC issuer URL: https only, no credentials, query or fragment, no trailing slash.
 * IAM limits the provider URL to 255 characters. A host AWS can never reach is refused, unless
 * `allowPrivate` (uninstall: removing what an earlier run created for such an issuer).
 */
export function normaliseIssuer(v: string, o: { allowPrivate?: boolean } = {}): { value?: string; error?: string } {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { error: `"${v}" is not a URL (e.g. https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE)` };
  }
  if (url.protocol !== 'https:') return { error: `"${v}" must use https:// (IAM only trusts https issuers)` };
  // A URL parser turns a backslash into "/" and resolves "." and ".." segments: the issuer would then not be
  // the text the cluster's tokens carry in "iss", which must match the provider exactly.
  if (v.includes('\\')) return { error: `"${v}" has a backslash: an issuer URL separates its path with "/" only` };
  if (/\/\.{1,2}(?:\/|$)/.test(v.replace(/^https:\/\/[^/]*/i, ''))) return { error: `"${v}" has a "." or ".." path segment: give the issuer exactly as the cluster's tokens name it` };
  if (url.username || url.password) return { error: `"${v}" must not contain a user name or password` };
  if (url.search || v.includes('?')) return { error: `"${v}" must not have a query string` };
  if (url.hash || v.includes('#')) return { error: `"${v}" must not have a fragment` };
  if (url.port) return { error: `"${v}" must not name a port: IAM only reaches issuers on port 443` };
  const host = url.hostname;
  const unreachable = o.allowPrivate ? undefined : privateIssuerHost(host);
  if (unreachable) return { error: unreachable };
  if (!/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i.test(host)) {
    return { error: `"${host}" is not a valid DNS host name for an issuer` };
  }
  const path = url.pathname.replace(/\/+$/, '');
  // IAM's provider URL and the trust policy's condition keys (<host/path>:sub) take plain path
  // characters; "*" and "?" are wildcards in a policy, and an encoded character never matches "iss".
  if (!/^[A-Za-z0-9._~\/-]*$/.test(path)) {
    return { error: `"${v}" has characters an issuer path cannot carry into IAM (allowed: letters, digits, ".", "_", "~", "-" and "/"; "*" is a wildcard in policies)` };
  }
  if (path.includes('//')) return { error: `"${v}" has an empty path segment` };
  const value = `https://${host.toLowerCase()}${path}`;
  if (value.length - 'https://'.length > 255) return { error: `issuer URLs are at most 255 characters after https:// (got ${value.length - 8})` };
  return { value };
}

export const issuerUrl: Check = (v) => normaliseIssuer(v).error;

// Names only a cluster's own network resolves: Kubernetes service names (kubernetes.default.svc,
// *.svc, *.cluster.local), and the special-use and private-use names of RFC 6761, RFC 6762 and
// ICANN's .internal. STS fetches the issuer's documents from the internet, so it never reaches them.
const IN_CLUSTER_NAME = /(?:^|\.)(?:svc|cluster\.local)$|^kubernetes\.default(?:\.|$)/;
const PRIVATE_NAME = /(?:^|\.)(?:localhost|local|internal|home\.arpa)$/;

/** IPv4 ranges STS cannot reach: private (RFC 1918), shared (RFC 6598), loopback, link-local, unspecified. */
function privateIpv4(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
    || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * Why AWS can never reach an issuer on this host, or undefined. STS fetches
 * `<issuer>/.well-known/openid-configuration` and the keys from the public internet.
 */
export function privateIssuerHost(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const why = 'AWS fetches the issuer\'s discovery document and keys from the internet, and cannot reach';
  if (IN_CLUSTER_NAME.test(host)) {
    return `"${host}" is an in-cluster name: ${why} it. Use the cluster's public issuer (on OpenShift: publish one with "rhacs-sts issuer publish --set-cluster-issuer", or with "ccoctl aws create-identity-provider" and set spec.serviceAccountIssuer on authentications.config.openshift.io/cluster to it)`;
  }
  if (PRIVATE_NAME.test(host)) return `"${host}" is a private or local name: ${why} it. Use a public https:// issuer`;
  if (host.startsWith('[') || host.includes(':')) return `"${host}" is an IP address: an issuer must be a public DNS name`;
  if (privateIpv4(host)) return `"${host}" is a private IP address: ${why} it. Use a public https:// issuer`;
  if (/^[\d.]+$/.test(host)) return `"${host}" is an IP address: an issuer must be a public DNS name`;
  return undefined;
}

/** What follows `https://` in an issuer: the OIDC provider's name in ARNs and condition keys. */
export function issuerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, '');
}

// Kubernetes DNS-1123 label (namespaces, most object names).
export const dns1123Label: Check = (v) => {
  if (v.length === 0 || v.length > 63) return `"${v}" must be 1 to 63 characters long`;
  if (!/^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/.test(v)) return `"${v}" is not a valid Kubernetes name: lower-case letters, digits and "-", starting and ending with a letter or digit`;
  return undefined;
};

// Kubernetes DNS-1123 subdomain (deployment and service account names).
export const dns1123Subdomain: Check = (v) => {
  if (v.length === 0 || v.length > 253) return `"${v}" must be 1 to 253 characters long`;
  if (!/^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/.test(v)) {
    return `"${v}" is not a valid Kubernetes name: lower-case letters, digits, "-" and "."`;
  }
  return undefined;
};

// EKS cluster names: 1-100 characters, start with a letter or digit, then letters, digits, - and _.
export const clusterName: Check = (v) =>
  /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(v)
    ? undefined
    : `"${v}" is not a valid cluster name (1 to 100 letters, digits, "-" or "_", starting with a letter or digit)`;

// ECR repository names: 2-256 characters, lower case, path segments separated by "/"; we also
// accept a trailing "*" so that a prefix such as "team-a/*" scopes the policy to a namespace.
const ECR_REPO = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const ecrRepository: Check = (v) => {
  if (v === '*') return undefined;
  if (v.length > 256) return `ECR repository names are at most 256 characters long`;
  if (v.endsWith('*')) {
    // A prefix: "team-a/*", "team-a*", "team-a-*". It must start like a name and not be empty.
    const base = v.slice(0, -1);
    if (/^[a-z0-9](?:[a-z0-9._/-]*)$/.test(base) && !base.includes('//') && !/[._-]{2}/.test(base)) return undefined;
    return `"${v}" is not an ECR repository prefix (a name's start followed by "*", e.g. team-a/*)`;
  }
  if (v.length < 2) return `ECR repository names are at least 2 characters long`;
  if (!ECR_REPO.test(v)) {
    return `"${v}" is not an ECR repository name (lower-case letters, digits, ".", "_", "-" and "/" between segments; a trailing "*" matches a prefix)`;
  }
  return undefined;
};

// Named AWS profile (config file section name).
export const profileName: Check = (v) =>
  /^[\w.@+=,:/-]{1,128}$/.test(v) ? undefined : `"${v}" is not a valid AWS profile name`;

/** Parses a duration such as 90s, 5m, 1m30s or a bare number of seconds into milliseconds. */
export function parseDuration(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (!m || v === '' || (!m[1] && !m[2] && !m[3])) return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** EKS issuers look like https://oidc.eks.<region>.amazonaws.com[.cn]/id/<ID>. */
export function eksIssuerRegion(issuer: string): string | undefined {
  return /^https:\/\/oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/id\/[A-Za-z0-9]+$/.exec(issuer)?.[1];
}

/** Central's API endpoint: an https URL without credentials, query or fragment. */
export const centralEndpoint: Check = (v) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `"${v}" is not a URL (e.g. https://central-stackrox.apps.example.com)`;
  }
  if (url.protocol !== 'https:') return `"${v}" must use https:// (Central serves TLS only)`;
  if (url.username || url.password) return `"${v}" must not contain a user name or password (use ROX_API_TOKEN or ROX_ADMIN_PASSWORD)`;
  if (url.search || url.hash) return `"${v}" must not have a query string or fragment`;
  if (url.pathname !== '/' && url.pathname !== '') return `"${v}" must not have a path: give Central's address only`;
  return undefined;
};

/** A name for an integration in RHACS: 1 to 128 printable characters. */
export const integrationName: Check = (v) =>
  v.length >= 1 && v.length <= 128 && /^[^\x00-\x1f\x7f]+$/.test(v) ? undefined : `"${v}" is not a valid integration name (1 to 128 printable characters)`;

// sts:AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:/-].
export const externalId: Check = (v) =>
  /^[\w+=,.@:/-]{2,1224}$/.test(v) ? undefined : `"${v}" is not a valid external ID (2 to 1224 letters, digits and + = , . @ : / - _)`;

/**
 * S3's naming rules for general purpose buckets, plus one of ours: no dots, because the issuer is
 * fetched over HTTPS at `<bucket>.s3.<region>…`, and S3's wildcard certificate does not cover a
 * name with a dot. Returns the problem, or undefined.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `"${name}" must be 3 to 63 characters long (S3 bucket naming rules)`;
  if (/[A-Z]/.test(name)) return `"${name}" has upper-case letters: S3 bucket names are lower case`;
  if (name.includes('.')) return `"${name}" has a dot: the issuer is fetched over HTTPS at <bucket>.s3.<region>.amazonaws.com, and S3's certificate does not cover names with dots`;
  if (!/^[a-z0-9-]+$/.test(name)) return `"${name}" may contain only lower-case letters, digits and hyphens`;
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return `"${name}" must begin and end with a letter or digit`;
  for (const p of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(p)) return `"${name}" must not begin with ${p} (reserved by S3)`;
  for (const s of ['-s3alias', '--ol-s3', '--x-s3', '--table-s3']) if (name.endsWith(s)) return `"${name}" must not end with ${s} (reserved by S3)`;
  return undefined;
}
