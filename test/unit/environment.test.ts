// The environment is read once at the entry (src/options/) and passed in: the rooms below act on the
// value they are given, not on the process's variables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProfile } from '../../src/clouds/aws/profile.js';
import { eksAuthEndpoint } from '../../src/clouds/aws/pod-identity.js';
import { loadKubeConfig } from '../../src/kube/client.js';
import { readEnvironment } from '../../src/options/environment.js';
import { parseOptions } from '../../src/options/options.js';

const dir = mkdtempSync(join(tmpdir(), 'rhacs-sts-env-'));

describe('environment', () => {
  it('reads the variables the rooms act on, and only those that are set', () => {
    expect(readEnvironment({
      KUBECONFIG: '/k', HOME: '/h', AWS_PROFILE: 'p', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', PATH: '/bin',
      GOOGLE_APPLICATION_CREDENTIALS: '/adc.json', CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM: 'https://127.0.0.1:2/', CLOUDSDK_AUTH_TOKEN_HOST: 'https://127.0.0.1:3/token',
      AZURE_TENANT_ID: 't', AZURE_SUBSCRIPTION_ID: 's', RHACS_STS_AZURE_ARM_ENDPOINT: 'https://127.0.0.1:4',
    })).toEqual({
      kube: { kubeconfig: '/k', home: '/h' },
      aws: { profile: 'p', home: '/h', endpointUrl: 'http://127.0.0.1:1' },
      gcp: { applicationCredentials: '/adc.json', home: '/h' },
      gcpEndpoints: { iam: 'https://127.0.0.1:2/', oauth2Token: 'https://127.0.0.1:3/token' },
      azure: { tenantId: 't', subscriptionId: 's', home: '/h' },
      azureEndpoints: { arm: 'https://127.0.0.1:4' },
    });
    expect(parseOptions('init', {}, { KUBECONFIG: '/k' }).environment).toEqual({ kube: { kubeconfig: '/k' }, aws: {}, gcp: {}, gcpEndpoints: {}, azure: {}, azureEndpoints: {} });
  });

  it('looks for the kubeconfig where the given environment says, not the process', () => {
    const files = [join(dir, 'a.yaml'), join(dir, 'b.yaml')];
    expect(() => loadKubeConfig({ environment: { kubeconfig: files.join(delimiter) } })).toThrow(`no file that KUBECONFIG names exists (${files.join(', ')})`);
    expect(() => loadKubeConfig({ environment: { home: dir } })).toThrow(`${join(dir, '.kube', 'config')} does not exist`);
  });

  it('finds AWS profiles in the files the given environment names', () => {
    const config = join(dir, 'config');
    writeFileSync(config, '[profile team]\nregion = eu-west-1\n');
    expect(() => checkProfile('team', false, { configFile: config, sharedCredentialsFile: join(dir, 'none') })).not.toThrow();
    expect(() => checkProfile('other', false, { configFile: config, sharedCredentialsFile: join(dir, 'none') })).toThrow(/"other" is not defined in .*config.* \(profiles there: team\)/);
  });

  it('takes the EKS Auth endpoint from the given environment', () => {
    expect(eksAuthEndpoint('eu-west-1', { endpointUrl: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9');
    expect(eksAuthEndpoint('eu-west-1', { endpointUrlEksAuth: 'http://127.0.0.1:8', endpointUrl: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:8');
    expect(eksAuthEndpoint('cn-north-1', {})).toBe('https://eks-auth.cn-north-1.api.amazonwebservices.com.cn');
  });
});
