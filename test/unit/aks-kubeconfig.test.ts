// The kubeconfig's AKS signals as `az aks get-credentials` (and kubelogin's convert-kubeconfig) write them.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aksKubeconfigSignals } from '../../src/kube/aks-signals.js';
import { aksFactsFromSignals, isKubeloginExec } from '../../src/platforms/aks/index.js';

function kubeconfig(user: Record<string, unknown>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'prod', server: 'https://prod-dns-4f1c2a7e.hcp.westeurope.azmk8s.io:443', skipTLSVerify: false }],
    users: [{ name: 'clusterUser_rhacs-rg_prod', ...user }],
    contexts: [{ name: 'prod', cluster: 'prod', user: 'clusterUser_rhacs-rg_prod' }],
    currentContext: 'prod',
  });
  return kc;
}

describe('AKS signals from a kubeconfig', () => {
  it('reads the context, the clusterUser_<rg>_<cluster> user and the server', () => {
    const s = aksKubeconfigSignals(kubeconfig({ token: 'x' }));
    expect(s).toEqual({ contextName: 'prod', userName: 'clusterUser_rhacs-rg_prod', server: 'https://prod-dns-4f1c2a7e.hcp.westeurope.azmk8s.io:443' });
    expect(aksFactsFromSignals(s)).toMatchObject({ resourceGroup: 'rhacs-rg', clusterName: 'prod', region: 'westeurope' });
  });

  it('reads kubelogin\'s exec section after kubelogin convert-kubeconfig', () => {
    const s = aksKubeconfigSignals(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'kubelogin', args: ['get-token', '--login', 'azurecli', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630'], env: null } }));
    expect(s.exec?.command).toBe('kubelogin');
    expect(isKubeloginExec(s.exec!)).toBe(true);
  });
});
