import { describe, expect, it } from 'vitest';
import { clusterNameFromKubeconfig } from '../../src/kube/errors.js';

describe('cluster names from the kubeconfig', () => {
  it.each([
    ['arn:aws:eks:eu-west-1:111122223333:cluster/prod-hub', undefined, 'prod-hub'],
    ['arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/gov1', undefined, 'gov1'],
    ['admin@spoke2.eu-west-1.eksctl.io', { args: ['token', '-i', 'spoke2'] }, 'spoke2'],
    ['my-ctx', { args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'spoke3', '--output', 'json'] }, 'spoke3'],
    ['my-ctx', { args: ['eks', 'get-token', '--cluster-name=spoke4'] }, 'spoke4'],
    ['default/api-ocp-example-com:6443/kube:admin', undefined, undefined],
    ['arn:aws:eks:eu-west-1:111122223333:cluster/', undefined, undefined],
  ])('%s %j → %s', (context, exec, want) => {
    expect(clusterNameFromKubeconfig(context, exec)).toBe(want);
  });
});
