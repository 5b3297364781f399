import { describe, expect, it } from 'vitest';
import * as v from '../../src/validate.js';

describe('accountId', () => {
  it.each(['111122223333', '000000000000', '999999999999'])('accepts %s', (id) => {
    expect(v.accountId(id)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['11112222333', '11 digits'],
    ['1111222233334', '13 digits'],
    ['11112222333a', 'a letter'],
    ['1111-2222-3333', 'dashes'],
    [' 111122223333', 'leading space'],
    ['111122223333\n', 'trailing newline'],
  ])('rejects %j (%s)', (id) => {
    expect(v.accountId(id)).toMatch(/not an AWS account id.*12 digits/);
  });
});

describe('roleName', () => {
  it.each([
    ['r', 'one character'],
    ['a'.repeat(64), '64 characters'],
    ['rhacs-sts', 'dash'],
    ['Rhacs_Sts.role', 'mixed case, underscore and dot'],
    ['a+b=c,d.e@f_g-h', 'every allowed punctuation'],
    ['0123456789', 'digits only'],
  ])('accepts %j (%s)', (name) => {
    expect(v.roleName(name)).toBeUndefined();
  });

  it.each([
    ['', /1 to 64 characters.*got 0/],
    ['a'.repeat(65), /1 to 64 characters.*got 65/],
    ['a'.repeat(200), /got 200/],
  ])('rejects by length: %#', (name, msg) => {
    expect(v.roleName(name)).toMatch(msg);
  });

  it.each(['a b', 'a/b', 'a:b', 'a*b', 'rôle', 'a#b', 'a!b', 'a\tb'])('rejects the character set of %j', (name) => {
    expect(v.roleName(name)).toMatch(/characters IAM does not allow/);
  });
});

describe('rolePath', () => {
  it.each(['/', '/rhacs/', '/a/b/c/', '/with-dash_and.dot/', `/${'a'.repeat(510)}/`])('accepts %j', (p) => {
    expect(v.rolePath(p)).toBeUndefined();
  });

  it.each([
    ['rhacs/', /must start and end with "\/"/],
    ['/rhacs', /must start and end with "\/"/],
    ['', /must start and end with "\/"/],
    ['/a b/', /must start and end with "\/"/],
    ['//', /empty segment/],
    ['/a//b/', /empty segment/],
    [`/${'a'.repeat(511)}/`, /at most 512 characters.*got 513/],
    ['/*/', /"\*" and "\?" are wildcards in the role's ARN/],
    ['/team?/', /wildcards/],
  ])('rejects %j', (p, msg) => {
    expect(v.rolePath(p)).toMatch(msg);
  });
});

describe('region', () => {
  it.each([
    'us-east-1',
    'eu-west-1',
    'ap-southeast-5',
    'il-central-1',
    'ca-west-1',
    'us-gov-west-1',
    'us-gov-east-1',
    'cn-north-1',
    'cn-northwest-1',
    'us-iso-east-1',
    'us-isob-east-1',
    'eu-isoe-west-1',
    'us-isof-south-1',
  ])('accepts %s', (r) => {
    expect(v.region(r)).toBeUndefined();
  });

  it.each([
    '',
    'eu-west',
    'EU-WEST-1',
    'eu_west_1',
    'euwest1',
    'eu-west-123',
    'eu-west-1a',
    ' eu-west-1',
    'e-west-1',
    'us-foo-east-1-1',
    'eu-west-1 ',
    'moon-1',
  ])('rejects %j', (r) => {
    expect(v.region(r)).toMatch(/is not an AWS region/);
  });
});

describe('partitionOfRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('%s is in %s', (r, p) => {
    expect(v.partitionOfRegion(r)).toBe(p);
  });
});

describe('policyArn', () => {
  it.each([
    'arn:aws:iam::111122223333:policy/boundary',
    'arn:aws:iam::111122223333:policy/team/a/boundary',
    'arn:aws:iam::aws:policy/ReadOnlyAccess',
    'arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM',
    'arn:aws-us-gov:iam::111122223333:policy/boundary',
    'arn:aws-cn:iam::111122223333:policy/boundary',
    'arn:aws-iso:iam::111122223333:policy/boundary',
    'arn:aws-iso-b:iam::111122223333:policy/boundary',
    'arn:aws-eusc:iam::111122223333:policy/boundary',
    'arn:aws:iam::111122223333:policy/a+b=c,d.e@f_g-h',
  ])('accepts %s', (arn) => {
    expect(v.policyArn(arn)).toBeUndefined();
  });

  it.each([
    'arn:aws:iam::111122223333:role/boundary',
    'arn:aws:iam::1111:policy/boundary',
    'arn:aws:iam:us-east-1:111122223333:policy/boundary',
    'arn:aws:iam::111122223333:policy/',
    'arn:aws:iam::111122223333:policy/a b',
    'arn:aws:s3:::bucket',
    'boundary',
    '',
    'arn:aws:iam::azure:policy/boundary',
  ])('rejects %j as not a policy ARN', (arn) => {
    expect(v.policyArn(arn)).toMatch(/is not an IAM policy ARN/);
  });

  it.each(['arn:aws-moon:iam::111122223333:policy/b', 'arn:gcp:iam::111122223333:policy/b'])('rejects the unknown partition in %s', (arn) => {
    expect(v.policyArn(arn)).toMatch(/is not an AWS partition/);
  });
});

describe('partitionOfArn', () => {
  it.each([
    ['arn:aws:iam::111122223333:policy/b', 'aws'],
    ['arn:aws-us-gov:iam::111122223333:policy/b', 'aws-us-gov'],
    ['arn:aws-cn:iam::aws:policy/b', 'aws-cn'],
    ['arn:aws-moon:iam::111122223333:policy/b', undefined],
    ['not-an-arn', undefined],
  ])('%s → %s', (arn, p) => {
    expect(v.partitionOfArn(arn)).toBe(p);
  });
});

describe('normaliseIssuer', () => {
  const eks = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

  it.each([
    [eks, eks, 'already normal'],
    [`${eks}/`, eks, 'trailing slash removed'],
    [`${eks}///`, eks, 'several trailing slashes removed'],
    ['https://OIDC.EKS.EU-WEST-1.AMAZONAWS.COM/id/EXAMPLED539D4633E53DE1B71EXAMPLE', eks, 'host lower-cased, path case kept'],
    ['HTTPS://oidc.example.com/Path', 'https://oidc.example.com/Path', 'scheme case'],
    ['https://oidc.example.com', 'https://oidc.example.com', 'no path'],
    ['https://oidc.example.com/', 'https://oidc.example.com', 'root path'],
    ['https://oidc.example.com:443/a', 'https://oidc.example.com/a', 'default port dropped'],
    ['https://my-bucket.s3.us-east-1.amazonaws.com', 'https://my-bucket.s3.us-east-1.amazonaws.com', 'S3 issuer (OpenShift STS)'],
  ])('%s → %s (%s)', (input, want) => {
    expect(v.normaliseIssuer(input)).toEqual({ value: want });
    expect(v.issuerUrl(input)).toBeUndefined();
  });

  it.each([
    ['not a url', /is not a URL/],
    ['oidc.example.com/id/1', /is not a URL/],
    ['', /is not a URL/],
    ['http://oidc.example.com/id/1', /must use https:\/\//],
    ['ftp://oidc.example.com/id/1', /must use https:\/\//],
    ['https://oidc.example.com/id/1?x=1', /must not have a query string/],
    ['https://oidc.example.com/id/1?', /must not have a query string/],
    ['https://oidc.example.com/id/1#frag', /must not have a fragment/],
    ['https://oidc.example.com/id/1#', /must not have a fragment/],
    ['https://oidc.example.com:8443/id/1', /must not name a port/],
    ['https://user:secret@oidc.example.com/id/1', /must not contain a user name or password/],
    ['https://user@oidc.example.com/id/1', /must not contain a user name or password/],
    ['https://localhost/id/1', /"localhost" is a private or local name: AWS fetches .* cannot reach it/],
    ['https://10.0.0.1/id/1', /"10.0.0.1" is a private IP address/],
    ['https://-bad.example.com/', /not a valid DNS host name/],
    ['https://oidc.example.com/*', /"\*" is a wildcard in policies/],
    ['https://oidc.example.com/id/a*b', /"\*" is a wildcard/],
    ['https://oidc.example.com\\id\\1', /has a backslash/],
    ['https://oidc.example.com/id\\1', /has a backslash/],
    ['https://oidc.example.com/a/../b', /"\.\." path segment/],
    ['https://oidc.example.com/./b', /"\." or "\.\." path segment/],
    ['https://oidc.example.com/id/%41', /characters an issuer path cannot carry/],
    ['https://oidc.example.com/id/a b', /characters an issuer path cannot carry/],
    ['https://oidc.example.com//id', /empty path segment/],
  ])('rejects %j', (input, msg) => {
    const r = v.normaliseIssuer(input);
    expect(r.value).toBeUndefined();
    expect(r.error).toMatch(msg);
    expect(v.issuerUrl(input)).toBe(r.error);
  });

  // STS fetches the documents from the internet: names only the cluster's network resolves never work.
  it.each([
    ['https://kubernetes.default.svc', 'kubernetes.default.svc', /in-cluster name/],
    ['https://kubernetes.default.svc.cluster.local', 'kubernetes.default.svc.cluster.local', /in-cluster name/],
    ['https://KUBERNETES.DEFAULT.SVC/', 'kubernetes.default.svc', /in-cluster name/],
    ['https://kubernetes.default', 'kubernetes.default', /in-cluster name/],
    ['https://oidc.my-ns.svc/id/1', 'oidc.my-ns.svc', /in-cluster name/],
    ['https://keys.my-ns.svc.cluster.local', 'keys.my-ns.svc.cluster.local', /in-cluster name/],
    ['https://api.cluster.local', 'api.cluster.local', /in-cluster name/],
    ['https://issuer.local', 'issuer.local', /private or local name/],
    ['https://oidc.corp.internal', 'oidc.corp.internal', /private or local name/],
    ['https://oidc.localhost', 'oidc.localhost', /private or local name/],
    ['https://192.168.1.20', '192.168.1.20', /private IP address/],
    ['https://172.20.0.5/id/1', '172.20.0.5', /private IP address/],
    ['https://127.0.0.1', '127.0.0.1', /private IP address/],
    ['https://169.254.169.254', '169.254.169.254', /private IP address/],
    ['https://100.64.0.10', '100.64.0.10', /private IP address/],
    ['https://[fd00::1]/id/1', '[fd00::1]', /IP address: an issuer must be a public DNS name/],
    ['https://52.94.0.12', '52.94.0.12', /IP address: an issuer must be a public DNS name/],
  ])('refuses %s: AWS cannot reach it', (input, host, msg) => {
    const r = v.normaliseIssuer(input);
    expect(r.value).toBeUndefined();
    expect(r.error).toMatch(msg);
    expect(r.error).toContain(`"${host}"`);
  });

  it('lets uninstall name an unreachable issuer (to remove what an earlier run created for it)', () => {
    expect(v.normaliseIssuer('https://kubernetes.default.svc/', { allowPrivate: true })).toEqual({ value: 'https://kubernetes.default.svc' });
    expect(v.normaliseIssuer('http://kubernetes.default.svc', { allowPrivate: true }).error).toMatch(/must use https/);
  });

  it('names the real prerequisite for an in-cluster issuer', () => {
    expect(v.normaliseIssuer('https://kubernetes.default.svc').error).toMatch(/ccoctl aws create-identity-provider.*spec\.serviceAccountIssuer on authentications\.config\.openshift\.io\/cluster/);
  });

  it.each(['https://svc.example.com', 'https://oidc.cluster.example.com', 'https://local-issuer.example.com', 'https://my-svc.s3.eu-west-1.amazonaws.com'])(
    'accepts %s: the private suffixes only count as the last labels',
    (input) => {
      expect(v.normaliseIssuer(input)).toEqual({ value: input });
    },
  );

  it('accepts exactly 255 characters after https:// and rejects 256', () => {
    const host = 'oidc.example.com';
    const path = `/${'a'.repeat(255 - host.length - 1)}`;
    expect((host + path).length).toBe(255);
    expect(v.normaliseIssuer(`https://${host}${path}`)).toEqual({ value: `https://${host}${path}` });
    expect(v.normaliseIssuer(`https://${host}${path}b`).error).toMatch(/at most 255 characters.*got 256/);
  });

  it('measures the length after normalisation (a trailing slash does not count)', () => {
    const host = 'oidc.example.com';
    const path = `/${'a'.repeat(255 - host.length - 1)}`;
    expect(v.normaliseIssuer(`https://${host}${path}/`)).toEqual({ value: `https://${host}${path}` });
  });
});

describe('issuerHostPath', () => {
  it.each([
    ['https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', 'oidc.eks.eu-west-1.amazonaws.com/id/ABC'],
    ['https://oidc.example.com', 'oidc.example.com'],
  ])('%s → %s', (issuer, hp) => {
    expect(v.issuerHostPath(issuer)).toBe(hp);
  });
});

describe('dns1123Label', () => {
  it.each(['stackrox', 'a', '0', 'rhacs-operator', 'a1-b2', 'a'.repeat(63)])('accepts %j', (n) => {
    expect(v.dns1123Label(n)).toBeUndefined();
  });

  it.each([
    ['', /1 to 63 characters/],
    ['a'.repeat(64), /1 to 63 characters/],
    ['StackRox', /not a valid Kubernetes name/],
    ['-stackrox', /not a valid Kubernetes name/],
    ['stackrox-', /not a valid Kubernetes name/],
    ['stack_rox', /not a valid Kubernetes name/],
    ['stack.rox', /not a valid Kubernetes name/],
    ['stack rox', /not a valid Kubernetes name/],
  ])('rejects %j', (n, msg) => {
    expect(v.dns1123Label(n)).toMatch(msg);
  });
});

describe('dns1123Subdomain', () => {
  it.each(['central', 'a.b', 'a-b.c-d', 'a'.repeat(253)])('accepts %j', (n) => {
    expect(v.dns1123Subdomain(n)).toBeUndefined();
  });

  it.each([
    ['', /1 to 253 characters/],
    ['a'.repeat(254), /1 to 253 characters/],
    ['a..b', /not a valid Kubernetes name/],
    ['.a', /not a valid Kubernetes name/],
    ['a.', /not a valid Kubernetes name/],
    ['A.b', /not a valid Kubernetes name/],
  ])('rejects %j', (n, msg) => {
    expect(v.dns1123Subdomain(n)).toMatch(msg);
  });
});

describe('clusterName', () => {
  it.each(['prod', 'Prod-EKS_1', '1cluster', 'a', 'a'.repeat(100)])('accepts %j', (n) => {
    expect(v.clusterName(n)).toBeUndefined();
  });

  it.each(['', '-prod', '_prod', 'prod.eks', 'prod eks', 'prod/eks', 'a'.repeat(101)])('rejects %j', (n) => {
    expect(v.clusterName(n)).toMatch(/is not a valid cluster name/);
  });
});

describe('ecrRepository', () => {
  it.each([
    ['ab', 'two characters'],
    ['*', 'everything'],
    ['rhacs', 'plain name'],
    ['team-a/app', 'namespaced'],
    ['a/b/c', 'deep namespace'],
    ['my.app_v2-x', 'separators . _ -'],
    ['team-a/*', 'every repository under a namespace'],
    ['team*', 'name prefix'],
    ['team/app*', 'name prefix in a namespace'],
    ['a*', 'a prefix may be a single character'],
    ['a'.repeat(256), '256 characters'],
  ])('accepts %j (%s)', (name) => {
    expect(v.ecrRepository(name)).toBeUndefined();
  });

  it.each([
    ['a', /at least 2 characters/],
    ['a'.repeat(257), /at most 256 characters/],
    ['Rhacs', /not an ECR repository name/],
    ['a//b', /not an ECR repository name/],
    ['/ab', /not an ECR repository name/],
    ['ab/', /not an ECR repository name/],
    ['a__b', /not an ECR repository name/],
    ['a..b', /not an ECR repository name/],
    ['-ab', /not an ECR repository name/],
    ['a b', /not an ECR repository name/],
    ['a*b', /not an ECR repository name/],
    ['**', /not an ECR repository prefix/],
    ['team/**', /not an ECR repository prefix/],
    ['/*', /not an ECR repository prefix/],
    ['team--*', /not an ECR repository prefix/],
  ])('rejects %j', (name, msg) => {
    expect(v.ecrRepository(name)).toMatch(msg);
  });
});

describe('profileName', () => {
  it.each(['default', 'my-profile', 'sso:admin', 'team/prod', 'a.b@c'])('accepts %j', (p) => {
    expect(v.profileName(p)).toBeUndefined();
  });

  it.each(['', 'my profile', 'a'.repeat(129), 'p[1]'])('rejects %j', (p) => {
    expect(v.profileName(p)).toMatch(/not a valid AWS profile name/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h2m3s', 3_723_000],
    ['120', 120_000],
    ['0', 0],
  ])('%s → %d ms', (text, ms) => {
    expect(v.parseDuration(text)).toBe(ms);
  });

  it.each(['', '5x', 'm', '-5', '1.5m', '2m1h', '5 m', 'five'])('rejects %j', (text) => {
    expect(v.parseDuration(text)).toBeUndefined();
  });
});

describe('eksIssuerRegion', () => {
  it.each([
    ['https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', 'eu-west-1'],
    ['https://oidc.eks.us-gov-west-1.amazonaws.com/id/ABC123', 'us-gov-west-1'],
    ['https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC123', 'cn-north-1'],
  ])('%s → %s', (issuer, r) => {
    expect(v.eksIssuerRegion(issuer)).toBe(r);
  });

  it.each([
    'https://my-bucket.s3.us-east-1.amazonaws.com',
    'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC/extra',
    'https://oidc.eks.eu-west-1.amazonaws.com/',
    'http://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    'https://oidc.eks.eu-west-1.example.com/id/ABC',
    'https://rh-oidc.s3.us-east-1.amazonaws.com/abc',
  ])('%s is not an EKS issuer', (issuer) => {
    expect(v.eksIssuerRegion(issuer)).toBeUndefined();
  });
});

describe('regressions', () => {
  it('accepts the European Sovereign Cloud region form', () => {
    expect(v.region('eusc-de-east-1')).toBeUndefined();
    expect(v.partitionOfRegion('eusc-de-east-1')).toBe('aws-eusc');
  });
  it('accepts a prefix that ends in a separator', () => {
    expect(v.ecrRepository('team-a-*')).toBeUndefined();
    expect(v.ecrRepository('team-a/*')).toBeUndefined();
  });
});
