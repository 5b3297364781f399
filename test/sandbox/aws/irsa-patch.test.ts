// The IRSA webhook stand-in's patch rules, case by case as amazon-eks-pod-identity-webhook's
// handler.go and cache.go decide them (the integration test sends real pods through the API server).
import { describe, expect, it } from 'vitest';
import { podPatch, POD_IDENTITY_CREDENTIALS_URI, POD_IDENTITY_TOKEN_FILE, serviceAccountConfig, TOKEN_FILE, type PodLike } from './irsa-patch.js';

const ROLE = 'arn:aws:iam::123456789012:role/app';
const cfg = serviceAccountConfig({ 'eks.amazonaws.com/role-arn': ROLE })!;
const pod = (spec: PodLike['spec'], annotations?: Record<string, string>): PodLike => ({ metadata: { name: 'p', annotations }, spec });
const containersOf = (patch: ReturnType<typeof podPatch>['patch']) => patch.find((p) => p.path === '/spec/containers')!.value as { env?: unknown[]; volumeMounts?: unknown[] }[];

describe('service account annotations (cache.go)', () => {
  it('no role annotation: no mutation; defaults otherwise', () => {
    expect(serviceAccountConfig({})).toBeUndefined();
    expect(serviceAccountConfig(undefined)).toBeUndefined();
    expect(cfg).toEqual({ roleArn: ROLE, audience: 'sts.amazonaws.com', regionalSts: true, tokenExpiration: 86400 });
  });

  it('sts-regional-endpoints parses like Go ParseBool (invalid keeps the default); token-expiration at least 3600, invalid ignored', () => {
    const c = (a: Record<string, string>) => serviceAccountConfig({ 'eks.amazonaws.com/role-arn': ROLE, ...a })!;
    expect(c({ 'eks.amazonaws.com/sts-regional-endpoints': 'False' }).regionalSts).toBe(false);
    expect(c({ 'eks.amazonaws.com/sts-regional-endpoints': '0' }).regionalSts).toBe(false);
    expect(c({ 'eks.amazonaws.com/sts-regional-endpoints': 'no' }).regionalSts).toBe(true);
    expect(c({ 'eks.amazonaws.com/token-expiration': '100' }).tokenExpiration).toBe(3600);
    expect(c({ 'eks.amazonaws.com/token-expiration': '5000' }).tokenExpiration).toBe(5000);
    expect(c({ 'eks.amazonaws.com/token-expiration': '1h' }).tokenExpiration).toBe(86400);
    expect(c({ 'eks.amazonaws.com/audience': 'a.example' }).audience).toBe('a.example');
  });
});

describe('the patch (handler.go getPodSpecPatch)', () => {
  it('a pod without volumes gets /spec/volumes; with volumes, the token volume goes first; an existing one is kept', () => {
    const bare = podPatch(pod({ containers: [{ name: 'a' }] }), cfg, 'eu-west-1');
    expect(bare.changed).toBe(true);
    expect(bare.patch[0]).toEqual({ op: 'add', path: '/spec/volumes', value: [{ name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } }] });
    expect(podPatch(pod({ containers: [{ name: 'a' }], volumes: [{ name: 'x' }] }), cfg, 'eu-west-1').patch[0]!.path).toBe('/spec/volumes/0');
    const kept = podPatch(pod({ containers: [{ name: 'a' }], volumes: [{ name: 'aws-iam-token' }] }), cfg, 'eu-west-1');
    expect(kept.patch.map((p) => p.path)).toEqual(['/spec/containers']);
  });

  it('a container with the web identity, region and STS variables all set is left alone (no mount either)', () => {
    const env = [{ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/t' }, { name: 'AWS_DEFAULT_REGION', value: 'x' }, { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'legacy' }];
    const r = podPatch(pod({ containers: [{ name: 'a', env }], volumes: [{ name: 'aws-iam-token' }] }), cfg, 'eu-west-1');
    expect(r.changed).toBe(false);
    expect(containersOf(r.patch)).toEqual([{ name: 'a', env }]);
  });

  it('no region configured: no region variables; without regional STS: no STS variable', () => {
    const r = podPatch(pod({ containers: [{ name: 'a' }] }), { ...cfg, regionalSts: false }, '');
    expect(containersOf(r.patch)[0]!.env).toEqual([{ name: 'AWS_ROLE_ARN', value: ROLE }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: TOKEN_FILE }]);
  });

  it('windows pods get a C:\\ token path; the pod token-expiration annotation overrides the service account', () => {
    const r = podPatch(pod({ containers: [{ name: 'a' }], nodeSelector: { 'kubernetes.io/os': 'windows' } }, { 'eks.amazonaws.com/token-expiration': '7200' }), cfg, 'eu-west-1');
    expect(containersOf(r.patch)[0]!.env).toContainEqual({ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: 'C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token' });
    expect(JSON.stringify(r.patch[0])).toContain('"expirationSeconds":7200');
  });

  it('does not modify the pod it was given', () => {
    const p = pod({ containers: [{ name: 'a', env: [{ name: 'K', value: 'v' }] }] });
    const before = JSON.stringify(p);
    podPatch(p, cfg, 'eu-west-1');
    expect(JSON.stringify(p)).toBe(before);
  });
});

describe('EKS Pod Identity (container credentials)', () => {
  const podIdentity = { regionalSts: true };
  const envNames = (r: ReturnType<typeof podPatch>) => (containersOf(r.patch)[0]!.env as { name: string }[]).map((e) => e.name);

  it('an associated service account gets the credentials URI, the token file, the region and the token volume', () => {
    const r = podPatch(pod({ containers: [{ name: 'a' }] }), undefined, 'eu-west-1', podIdentity);
    expect(r.changed).toBe(true);
    expect(containersOf(r.patch)[0]!.env).toEqual([
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
      { name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' },
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_CREDENTIALS_URI },
      { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: POD_IDENTITY_TOKEN_FILE },
    ]);
    expect(containersOf(r.patch)[0]!.volumeMounts).toEqual([{ name: 'eks-pod-identity-token', readOnly: true, mountPath: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount' }]);
    expect(r.patch[0]).toEqual({
      op: 'add',
      path: '/spec/volumes',
      value: [{ name: 'eks-pod-identity-token', projected: { sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' } }] } }],
    });
  });

  it('with the IRSA annotation still there the pod carries both (the SDK then takes web identity)', () => {
    const r = podPatch(pod({ containers: [{ name: 'a' }] }), cfg, 'eu-west-1', podIdentity);
    expect(envNames(r)).toEqual(expect.arrayContaining(['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']));
    expect(envNames(r).filter((n) => n === 'AWS_REGION')).toHaveLength(1);
    const volumes = r.patch.filter((p) => p.path.startsWith('/spec/volumes')).map((p) => JSON.stringify(p.value));
    expect(volumes.join()).toContain('aws-iam-token');
    expect(volumes.join()).toContain('eks-pod-identity-token');
  });

  it('a container that sets its own container credentials keeps them; skip-containers is honoured', () => {
    const own = [{ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://mine' }];
    const r = podPatch(pod({ containers: [{ name: 'a', env: own }, { name: 'b' }] }, { 'eks.amazonaws.com/skip-containers': 'b' }), undefined, 'eu-west-1', podIdentity);
    const [a, b] = containersOf(r.patch) as { name: string; env?: { name: string; value?: string }[] }[];
    expect(a!.env!.filter((e) => e.name.startsWith('AWS_CONTAINER_'))).toEqual(own);
    expect(b!.env).toBeUndefined();
  });
});
