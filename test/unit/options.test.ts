import { describe, expect, it } from 'vitest';
import { InputError, type InputProblem } from '../../src/errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, OPTION_SPECS, parseOptions, type CommandName, type RawOptions } from '../../src/options/options.js';
import { clusterTargets } from '../../src/targets.js';

const EKS_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const GOV_ISSUER = 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OPENSHIFT_ISSUER = 'https://my-oidc-bucket.s3.us-east-1.amazonaws.com';

/** The problems parseOptions reports, or fails the test when it does not throw an InputError. */
function problemsOf(command: CommandName, raw: RawOptions, env: Record<string, string | undefined> = {}): InputProblem[] {
  try {
    parseOptions(command, raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.exitCode).toBe(2);
    return e.problems;
  }
  expect.fail('parseOptions accepted invalid input');
}

const sources = (ps: InputProblem[]) => ps.map((p) => p.source).sort();

describe('parseOptions: defaults', () => {
  it('gives every default for init with no flags and no environment', () => {
    expect(parseOptions('init', {}, {})).toEqual({
      command: 'init',
      provider: undefined,
      namespace: undefined,
      clusterName: undefined,
      region: undefined,
      accountId: undefined,
      oidcIssuer: undefined,
      roleName: undefined,
      rolePath: '/',
      delegatedScanning: undefined,
      ecrRegistryId: undefined,
      ecrRegion: undefined,
      ecrRepositories: [],
      permissionsBoundary: undefined,
      context: undefined,
      centralContext: undefined,
      sensorContexts: [],
      rolePerCluster: false,
      kubeconfig: undefined,
      helmValuesOut: undefined,
      planFile: undefined,
      keepOidcProvider: false,
      allClusters: false,
      bucket: undefined,
      adoptBucket: false,
      setClusterIssuer: false,
      publishIssuer: undefined,
      attachPolicyArns: [],
      replaceRoleWiring: false,
      profile: undefined,
      dryRun: false,
      yes: false,
      output: 'text',
      offline: false,
      adoptRole: false,
      adoptOidcProvider: false,
      adoptServiceAccount: false,
      adoptCredentialsSecret: false,
      workloadIdentityPool: undefined,
      workloadIdentityProvider: undefined,
      garRepositories: [],
      adoptAssociation: false,
      restart: true,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      allowInsecureSkipTlsVerify: false,
      verbose: false,
      quiet: false,
      configureIntegration: undefined,
      centralEndpoint: undefined,
      useGeneratedAdminPassword: false,
      integrationName: undefined,
      adoptIntegration: false,
      ecrAssumeRole: undefined,
      ecrAssumeRoleExternalId: undefined,
      centralCredentials: { kind: 'none' },
      connectTo: [],
    });
  });

  it('reads RHACS_STS_CONNECT_TO (environment only) and names it when malformed', () => {
    expect(parseOptions('plan', {}, { RHACS_STS_CONNECT_TO: 'oidc.example.com:443:127.0.0.1:8443' }).connectTo)
      .toEqual([{ host: 'oidc.example.com', port: 443, toHost: '127.0.0.1', toPort: 8443 }]);
    expect(() => parseOptions('plan', {}, { RHACS_STS_CONNECT_TO: 'oidc.example.com:8443' })).toThrow(/RHACS_STS_CONNECT_TO: "oidc\.example\.com:8443" is not host:port:address:port/);
  });

  it('plan implies dryRun', () => {
    expect(parseOptions('plan', {}, {}).dryRun).toBe(true);
    expect(parseOptions('init', {}, {}).dryRun).toBe(false);
    expect(parseOptions('init', { dryRun: true }, {}).dryRun).toBe(true);
  });

  it('takes typed values from flags', () => {
    const o = parseOptions('init', {
      provider: 'openshift',
      namespace: 'rhacs',
      clusterName: 'prod',
      region: 'us-east-1',
      accountId: '111122223333',
      oidcIssuer: `${OPENSHIFT_ISSUER}/`,
      roleName: 'rhacs-ecr',
      rolePath: '/rhacs/',
      delegatedScanning: true,
      ecrRegistryId: '444455556666',
      ecrRegion: 'us-west-2',
      ecrRepository: ['team-b/app', 'team-a/*', 'team-b/app'],
      permissionsBoundary: 'arn:aws:iam::111122223333:policy/boundary',
      context: 'prod',
      kubeconfig: 'kube.yaml',
      profile: 'prod-admin',
      restart: false,
      timeout: '90s',
      yes: true,
      output: 'json',
      adoptRole: true,
      adoptOidcProvider: true,
      verbose: true,
    }, {});
    expect(o).toMatchObject({
      provider: 'openshift',
      namespace: 'rhacs',
      clusterName: 'prod',
      region: 'us-east-1',
      accountId: '111122223333',
      oidcIssuer: OPENSHIFT_ISSUER,
      roleName: 'rhacs-ecr',
      rolePath: '/rhacs/',
      delegatedScanning: true,
      ecrRegistryId: '444455556666',
      ecrRegion: 'us-west-2',
      ecrRepositories: ['team-b/app', 'team-a/*'],
      permissionsBoundary: 'arn:aws:iam::111122223333:policy/boundary',
      context: 'prod',
      kubeconfig: 'kube.yaml',
      profile: 'prod-admin',
      restart: false,
      timeoutMs: 90_000,
      yes: true,
      output: 'json',
      adoptRole: true,
      adoptOidcProvider: true,
      verbose: true,
    });
  });

  it('treats --ecr-region "*" as any region', () => {
    expect(parseOptions('init', { ecrRegion: '*' }, {}).ecrRegion).toBeUndefined();
  });

  it('trims surrounding white space', () => {
    expect(parseOptions('init', { region: ' eu-west-1 ' }, {}).region).toBe('eu-west-1');
  });
});

describe('parseOptions: environment variables', () => {
  it('derives each variable name from the option key', () => {
    const env = Object.fromEntries(OPTION_SPECS.map((s) => [s.key, s.env]));
    expect(env).toMatchObject({
      provider: 'RHACS_STS_PROVIDER',
      accountId: 'RHACS_STS_ACCOUNT_ID',
      oidcIssuer: 'RHACS_STS_OIDC_ISSUER',
      ecrRepository: 'RHACS_STS_ECR_REPOSITORY',
      delegatedScanning: 'RHACS_STS_DELEGATED_SCANNING',
      restart: 'RHACS_STS_RESTART',
      dryRun: 'RHACS_STS_DRY_RUN',
    });
  });

  it('reads values from RHACS_STS_* variables', () => {
    const o = parseOptions('init', {}, {
      RHACS_STS_PROVIDER: 'eks',
      RHACS_STS_REGION: 'eu-west-1',
      RHACS_STS_ACCOUNT_ID: '111122223333',
      RHACS_STS_OIDC_ISSUER: EKS_ISSUER,
      RHACS_STS_ROLE_NAME: 'from-env',
      RHACS_STS_ECR_REPOSITORY: 'team-a/*, team-b/app,,',
      RHACS_STS_TIMEOUT: '2m',
      RHACS_STS_OUTPUT: 'json',
    });
    expect(o).toMatchObject({
      provider: 'eks',
      region: 'eu-west-1',
      accountId: '111122223333',
      oidcIssuer: EKS_ISSUER,
      roleName: 'from-env',
      ecrRepositories: ['team-a/*', 'team-b/app'],
      timeoutMs: 120_000,
      output: 'json',
    });
  });

  it('lets flags beat the environment', () => {
    const o = parseOptions('init', { region: 'eu-west-1', roleName: 'from-flag', ecrRepository: ['flag-repo'], delegatedScanning: true }, {
      RHACS_STS_REGION: 'us-east-1',
      RHACS_STS_ROLE_NAME: 'from-env',
      RHACS_STS_ECR_REPOSITORY: 'env-repo',
      RHACS_STS_DELEGATED_SCANNING: 'false',
    });
    expect(o.region).toBe('eu-west-1');
    expect(o.roleName).toBe('from-flag');
    expect(o.ecrRepositories).toEqual(['flag-repo']);
    expect(o.delegatedScanning).toBe(true);
  });

  it('lets an explicit --no-restart beat RHACS_STS_RESTART=true', () => {
    expect(parseOptions('init', { restart: false }, { RHACS_STS_RESTART: 'true' }).restart).toBe(false);
  });

  it('uses the environment when commander left a negatable flag at its default', () => {
    expect(parseOptions('init', { restart: true }, { RHACS_STS_RESTART: 'false' }).restart).toBe(false);
  });

  it('does not let a bad environment value for a given flag matter', () => {
    expect(parseOptions('init', { accountId: '111122223333' }, { RHACS_STS_ACCOUNT_ID: 'nope' }).accountId).toBe('111122223333');
  });

  it.each([
    ['1', true], ['true', true], ['TRUE', true], ['yes', true], ['on', true], [' True ', true],
    ['0', false], ['false', false], ['no', false], ['off', false], ['', false], ['FALSE', false],
  ])('parses the boolean %j as %s', (text, want) => {
    const o = parseOptions('init', {}, { RHACS_STS_DELEGATED_SCANNING: text, RHACS_STS_YES: text, RHACS_STS_RESTART: text });
    expect(o.delegatedScanning).toBe(want);
    expect(o.yes).toBe(want);
    expect(o.restart).toBe(want);
  });

  it.each([
    ['RHACS_STS_DELEGATED_SCANNING', 'maybe'],
    ['RHACS_STS_YES', 'y'],
    ['RHACS_STS_RESTART', '2'],
    ['RHACS_STS_OFFLINE', 'sure'],
  ])('reports a bad boolean in %s by the variable name', (name, text) => {
    const ps = problemsOf('init', {}, { [name]: text });
    expect(ps).toEqual([{ source: name, message: expect.stringContaining(`"${text}" is not a boolean`) }]);
  });

  it('names the variable when an environment value is invalid', () => {
    const ps = problemsOf('init', {}, { RHACS_STS_ACCOUNT_ID: '1234', RHACS_STS_REGION: 'moon', RHACS_STS_ECR_REPOSITORY: 'Bad' });
    expect(sources(ps)).toEqual(['RHACS_STS_ACCOUNT_ID', 'RHACS_STS_ECR_REPOSITORY', 'RHACS_STS_REGION']);
  });

  it('ignores variables of options that the command does not have', () => {
    // --offline belongs to init and plan only: verify neither reads nor validates it.
    const o = parseOptions('verify', {}, { RHACS_STS_OFFLINE: 'not-a-boolean', RHACS_STS_DRY_RUN: 'true' });
    expect(o.offline).toBe(false);
    expect(o.dryRun).toBe(false);
  });

  it('ignores unrelated variables', () => {
    expect(parseOptions('init', {}, { AWS_REGION: 'us-east-1', RHACS_STS_UNKNOWN: 'x' }).region).toBeUndefined();
  });
});

describe('parseOptions: every problem at once', () => {
  it('reports each bad flag, each by its flag name', () => {
    const ps = problemsOf('init', {
      provider: 'k3s',
      namespace: 'Bad_NS',
      clusterName: '-prod',
      region: 'moon-1',
      accountId: '1234',
      oidcIssuer: 'http://oidc.example.com',
      roleName: 'a'.repeat(65),
      rolePath: 'rhacs',
      ecrRegistryId: 'abc',
      ecrRegion: 'mars',
      ecrRepository: ['UPPER', 'ok-repo', 'a'],
      permissionsBoundary: 'arn:aws:iam::111122223333:role/not-a-policy',
      profile: 'bad profile',
      timeout: 'soon',
      output: 'yaml',
    });
    expect(sources(ps)).toEqual([
      '--account-id',
      '--cluster-name',
      '--ecr-region',
      '--ecr-registry-id',
      '--ecr-repository',
      '--ecr-repository',
      '--namespace',
      '--oidc-issuer',
      '--output',
      '--permissions-boundary',
      '--profile',
      '--provider',
      '--region',
      '--role-name',
      '--role-path',
      '--timeout',
    ]);
    for (const p of ps) expect(p.message.length).toBeGreaterThan(5);
  });

  it('puts the count and a hint in the error', () => {
    try {
      parseOptions('plan', { accountId: '1', region: 'x' }, {});
      expect.fail('should throw');
    } catch (err) {
      const e = err as InputError;
      expect(e.message).toBe('Invalid input (2 problems)');
      expect(e.hint).toContain('rhacs-sts plan --help');
    }
  });

  it.each([
    [{ timeout: '0' }, '--timeout'],
    [{ timeout: '25h' }, '--timeout'],
    [{ output: '' }, '--output'],
    [{ region: '   ' }, '--region'],
    [{ ecrRepository: ['*', 'team-a/app'] }, '--ecr-repository'],
    [{ verbose: true, quiet: true }, '--quiet'],
  ])('rejects %j naming %s', (raw, source) => {
    expect(sources(problemsOf('init', raw))).toEqual([source]);
  });
});

describe('parseOptions: --offline', () => {
  it('names every missing fact', () => {
    expect(sources(problemsOf('plan', { offline: true }))).toEqual(['--account-id', '--oidc-issuer', '--provider', '--region']);
  });

  it('says why the facts are required', () => {
    const ps = problemsOf('plan', { offline: true, provider: 'eks', accountId: '111122223333', oidcIssuer: OPENSHIFT_ISSUER });
    expect(ps).toEqual([{ source: '--region', message: expect.stringContaining('required with --offline') }]);
  });

  it('derives the region and the provider from an EKS issuer', () => {
    const o = parseOptions('plan', { offline: true, accountId: '111122223333', oidcIssuer: EKS_ISSUER }, {});
    expect(o.region).toBe('eu-west-1');
    expect(o.provider).toBe('eks');
    expect(o.offline).toBe(true);
    expect(o.dryRun).toBe(true);
  });

  it('derives a GovCloud region from a GovCloud EKS issuer', () => {
    expect(parseOptions('plan', { offline: true, accountId: '111122223333', oidcIssuer: GOV_ISSUER }, {}).region).toBe('us-gov-west-1');
  });

  it('does not guess the provider from a non-EKS issuer', () => {
    const ps = problemsOf('plan', { offline: true, accountId: '111122223333', region: 'us-east-1', oidcIssuer: OPENSHIFT_ISSUER });
    expect(sources(ps)).toEqual(['--provider']);
  });

  it('accepts a complete OpenShift set of facts', () => {
    const o = parseOptions('plan', { offline: true, provider: 'openshift', accountId: '111122223333', region: 'us-east-1', oidcIssuer: OPENSHIFT_ISSUER }, {});
    expect(o).toMatchObject({ provider: 'openshift', region: 'us-east-1', oidcIssuer: OPENSHIFT_ISSUER, offline: true });
  });

  it('reports an invalid fact as invalid, not as missing', () => {
    const ps = problemsOf('plan', { offline: true, provider: 'eks', accountId: 'x', region: 'eu-west-1', oidcIssuer: EKS_ISSUER });
    expect(ps).toEqual([{ source: '--account-id', message: expect.stringContaining('not an AWS account id') }]);
  });

  it('takes offline facts from the environment', () => {
    const o = parseOptions('plan', {}, { RHACS_STS_OFFLINE: 'true', RHACS_STS_ACCOUNT_ID: '111122223333', RHACS_STS_OIDC_ISSUER: EKS_ISSUER });
    expect(o).toMatchObject({ offline: true, provider: 'eks', region: 'eu-west-1' });
  });

  it('requires nothing when not offline', () => {
    expect(() => parseOptions('plan', {}, {})).not.toThrow();
  });
});

describe('parseOptions: cross-field rules', () => {
  it('rejects a region that differs from the EKS issuer\'s', () => {
    const ps = problemsOf('plan', { region: 'us-east-1', oidcIssuer: EKS_ISSUER });
    expect(ps).toEqual([{ source: '--region', message: expect.stringMatching(/"us-east-1" does not match .*"eu-west-1"/) }]);
  });

  it('accepts any region with a non-EKS issuer', () => {
    expect(parseOptions('plan', { region: 'eu-central-1', oidcIssuer: OPENSHIFT_ISSUER }, {}).region).toBe('eu-central-1');
  });

  it.each([
    ['eu-west-1', 'arn:aws-us-gov:iam::111122223333:policy/boundary', 'aws-us-gov', 'aws'],
    ['us-gov-west-1', 'arn:aws:iam::111122223333:policy/boundary', 'aws', 'aws-us-gov'],
    ['cn-north-1', 'arn:aws:iam::aws:policy/PowerUserAccess', 'aws', 'aws-cn'],
  ])('rejects, in %s, the permissions boundary %s', (region, boundary, got, want) => {
    const ps = problemsOf('init', { region, permissionsBoundary: boundary });
    expect(ps).toEqual([{ source: '--permissions-boundary', message: `is in partition "${got}" but region ${region} is in "${want}"` }]);
  });

  it.each([
    ['us-gov-west-1', 'arn:aws-us-gov:iam::111122223333:policy/boundary'],
    ['cn-northwest-1', 'arn:aws-cn:iam::111122223333:policy/boundary'],
    ['eu-west-1', 'arn:aws:iam::aws:policy/PowerUserAccess'],
  ])('accepts, in %s, the permissions boundary %s', (region, boundary) => {
    expect(parseOptions('init', { region, permissionsBoundary: boundary }, {}).permissionsBoundary).toBe(boundary);
  });

  it('holds attached policies to the region\'s partition, as the boundary', () => {
    const ps = problemsOf('init', { region: 'eu-west-1', attachPolicyArn: ['arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] });
    expect(ps).toEqual([{ source: '--attach-policy-arn', message: '"arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess" is in partition "aws-cn" but region eu-west-1 is in "aws"' }]);
    expect(parseOptions('init', { region: 'cn-north-1', attachPolicyArn: ['arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess'] }, {}).attachPolicyArns).toHaveLength(1);
  });

  it('names the variable when the boundary came from the environment', () => {
    const ps = problemsOf('init', { region: 'eu-west-1' }, { RHACS_STS_PERMISSIONS_BOUNDARY: 'arn:aws-cn:iam::111122223333:policy/b' });
    expect(sources(ps)).toEqual(['RHACS_STS_PERMISSIONS_BOUNDARY']);
  });

  it.each([
    ['eu-west-1', 'cn-north-1'],
    ['us-gov-west-1', 'us-east-1'],
    ['cn-north-1', 'us-gov-east-1'],
  ])('rejects, in %s, the ECR region %s of another partition', (region, ecrRegion) => {
    const ps = problemsOf('init', { region, ecrRegion });
    expect(ps).toEqual([{ source: '--ecr-region', message: expect.stringContaining('another partition') }]);
  });

  it('accepts an ECR region in the same partition', () => {
    expect(parseOptions('init', { region: 'us-gov-west-1', ecrRegion: 'us-gov-east-1' }, {}).ecrRegion).toBe('us-gov-east-1');
  });
});

describe('regressions', () => {
  it('checks partitions against a region derived offline from the EKS issuer', () => {
    const err = (() => {
      try {
        parseOptions('plan', {
          offline: true, accountId: '111122223333', oidcIssuer: 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/ABC',
          permissionsBoundary: 'arn:aws:iam::111122223333:policy/b', ecrRegion: 'eu-west-1',
        }, {});
      } catch (e) {
        return e as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(err.problems.map((p) => p.source).sort()).toEqual(['--ecr-region', '--permissions-boundary']);
  });
  it('names the environment variable when the region from it contradicts the issuer', () => {
    const err = (() => {
      try {
        parseOptions('plan', { offline: true, accountId: '111122223333', oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC' }, { RHACS_STS_REGION: 'us-east-1' });
      } catch (e) {
        return e as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(err.problems.map((p) => p.source)).toEqual(['RHACS_STS_REGION']);
  });
});

describe('parseOptions: several secured clusters', () => {
  it('--sensor-context repeats; Central defaults to the current context', () => {
    const o = parseOptions('init', { sensorContext: ['spoke2', 'spoke3'] }, {});
    expect(o.sensorContexts).toEqual(['spoke2', 'spoke3']);
    expect(o.centralContext).toBeUndefined();
    expect(clusterTargets(o).map((t) => [t.key, t.role])).toEqual([['', 'central'], ['spoke2', 'sensor'], ['spoke3', 'sensor']]);
  });

  it('takes a list from the environment (comma-separated) and from the config file', () => {
    expect(parseOptions('init', {}, { RHACS_STS_SENSOR_CONTEXT: 'a, b' }).sensorContexts).toEqual(['a', 'b']);
    const config = { path: 'rhacs-sts.yaml', data: { 'sensor-context': ['x', 'y'], 'central-context': 'hub' } };
    const o = parseOptions('init', {}, {}, config);
    expect([o.centralContext, o.sensorContexts]).toEqual(['hub', ['x', 'y']]);
  });

  it('reports a repeated context, Central\'s context among the Sensors, and too many clusters, all at once', () => {
    const many = Array.from({ length: 21 }, (_, i) => `s${i}`);
    expect(problemsOf('init', { centralContext: 'hub', sensorContext: ['a', 'a', 'hub'] }).map((p) => p.message)).toEqual([
      'names the same context as --central-context; for one cluster use --context',
      'names a more than once',
    ]);
    expect(problemsOf('init', { sensorContext: many }).map((p) => p.message)).toEqual([expect.stringMatching(/names 21 clusters; at most 20/)]);
  });
});

describe('parseOptions: GKE', () => {
  const problemsOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as InputError).problems.map((p) => `${p.source}: ${p.message}`);
    }
    return [];
  };

  it('takes the GKE flags, and refuses bad ones all at once, each by its flag', () => {
    const o = parseOptions('init', { provider: 'gke', gcpProject: 'my-project', gcpServiceAccount: 'rhacs-prod@my-project.iam.gserviceaccount.com', garRepository: ['europe-west1/images', 'us/base'], adoptServiceAccount: true }, {});
    expect(o).toMatchObject({ provider: 'gke', gcpProject: 'my-project', gcpServiceAccount: 'rhacs-prod@my-project.iam.gserviceaccount.com', adoptServiceAccount: true });
    expect(o.garRepositories).toEqual([{ location: 'europe-west1', repository: 'images' }, { location: 'us', repository: 'base' }]);
    const bad = problemsOf(() => parseOptions('init', { gcpProject: 'My_Project', gcpServiceAccount: 'x', garRepository: ['images'] }, {}));
    expect(bad.map((p) => p.split(':')[0])).toEqual(['--gar-repository', '--gcp-project', '--gcp-service-account']);
    expect(bad.join('\n')).toMatch(/"x" must be 6–30 characters/);
  });

  it('takes --provider gke for init, plan, status, verify and uninstall', () => {
    expect(problemsOf(() => parseOptions('verify', { provider: 'gke' }, {}))).toEqual([]);
    expect(problemsOf(() => parseOptions('status', { provider: 'gke' }, {}))).toEqual([]);
    expect(problemsOf(() => parseOptions('uninstall', { provider: 'gke' }, {}))).toEqual([]);
    expect(problemsOf(() => parseOptions('plan', { provider: 'gke' }, {}))).toEqual([]);
  });
});

describe('parseOptions: --cloud', () => {
  it('takes aws for OpenShift, and leaves it out when not said', () => {
    expect(parseOptions('plan', { provider: 'openshift', cloud: 'aws' }, {}).cloud).toBe('aws');
    expect('cloud' in parseOptions('plan', { provider: 'openshift' }, {})).toBe(false);
    expect(parseOptions('plan', { provider: 'gke', cloud: 'gcp' }, {}).cloud).toBe('gcp');
  });

  it('refuses a cloud it does not know, naming the flag and the clouds', () => {
    const ps = problemsOf('plan', { cloud: 'ibm' });
    expect(ps.map((p) => [p.source, p.message])).toEqual([['--cloud', '"ibm" is not a cloud we support (aws, gcp or azure)']]);
  });

  it('takes gcp for OpenShift (OpenShift on Google Cloud), with the pool and provider ids checked by Google\'s rule, every problem at once', () => {
    const o = parseOptions('plan', { provider: 'openshift', cloud: 'gcp', workloadIdentityPool: 'rhacs-prod', workloadIdentityProvider: 'prod-east' }, {});
    expect([o.cloud, o.workloadIdentityPool, o.workloadIdentityProvider]).toEqual(['gcp', 'rhacs-prod', 'prod-east']);
    expect(problemsOf('plan', { provider: 'openshift', cloud: 'gcp', workloadIdentityPool: 'gcp-pool', workloadIdentityProvider: 'Ab' }).map((p) => p.source))
      .toEqual(['--workload-identity-pool', '--workload-identity-provider']);
    expect(parseOptions('status', { provider: 'openshift', cloud: 'azure' }, {}).cloud).toBe('azure');
  });

  it('refuses a managed platform on another cloud (from the environment too)', () => {
    expect(problemsOf('plan', { provider: 'gke', cloud: 'aws' }).map((p) => p.message)).toEqual(['gke runs on gcp, not aws: leave --cloud out (it is for OpenShift)']);
    expect(problemsOf('plan', {}, { RHACS_STS_PROVIDER: 'eks', RHACS_STS_CLOUD: 'azure' }).map((p) => p.source)).toEqual(['RHACS_STS_CLOUD']);
  });
});
