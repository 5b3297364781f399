// Every command can be tried in the playground (`npm run sandbox`): OpenShift without STS
// (--no-sts) with the Authentication operator stand-in running in the sandbox process, so that
// `plan` points at `issuer publish`, a published issuer is taken up by the cluster, and `init`
// proceeds; and on a cluster that already has a public issuer, `issuer publish --dry-run` says so
// instead of proposing a bucket.
import { CustomObjectsApi, KubeConfig, WellKnownApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../scripts/sandbox.js';
import { cli } from '../sandbox/cli.js';
import { mergePatch } from '../sandbox/fixtures.js';
import { useSandbox } from '../sandbox/context.js';
import { bucketIssuer, bucketState } from '../sandbox/issuers/issuer-bucket.js';
import { awsMark, awsWrites } from '../sandbox/observe.js';
import { defaultIssuerBucket, startSeededSandbox, type SeededSandbox } from '../sandbox/standalone.js';

const sb = useSandbox();

describe('issuer publish on a cluster that already has a public issuer', () => {
  it('--dry-run says so and proposes no bucket (the OpenShift cluster set up with STS by ccoctl)', async () => {
    const a = await awsMark(sb);
    const r = await cli(sb, 'openshift', ['issuer', 'publish', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('The cluster already has a public issuer');
    expect(r.stdout).toContain(sb.clusters.openshift!.issuer);
    expect(r.stdout).toMatch(/Nothing to publish/);
    expect(r.stdout).not.toMatch(/Create the bucket/);
    const json = await cli(sb, 'openshift', ['issuer', 'publish', '--dry-run', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ issuer: sb.clusters.openshift!.issuer, alreadyPublic: true, steps: [] });
    expect(await awsWrites(sb, a)).toEqual([]);
  });
});

describe('npm run sandbox -- --flavour openshift --no-sts', () => {
  let pg: SeededSandbox;
  const run = (args: string[]) => cli(pg.info, 'all', args, pg.env);

  beforeAll(async () => {
    pg = await startSeededSandbox({ ...parseArgs(['--flavour', 'openshift', '--no-sts', '--method', 'manifests']), log: () => undefined, sandbox: { handleSignals: false } });
  }, 180_000);
  afterAll(async () => pg?.stop(), 60_000);

  it('is parsed as OpenShift without STS, and --no-sts alone is refused by the script', () => {
    expect(parseArgs(['--flavour', 'openshift', '--no-sts'])).toEqual({ flavour: 'openshift', sts: false });
    expect(() => parseArgs(['--no-sts=yes'])).toThrow(/--no-sts takes no value/);
  });

  it('plan points at issuer publish; publishing and pointing the cluster at it lets plan go on', async () => {
    const plan = await run(['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/not configured for AWS STS/);
    expect(plan.stderr).toMatch(/rhacs-sts issuer publish/);

    const dry = await run(['issuer', 'publish', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`Create the bucket ${defaultIssuerBucket()}`));

    const pub = await run(['issuer', 'publish', '--yes']);
    expect(pub.code, pub.stderr).toBe(0);
    const issuer = bucketIssuer(defaultIssuerBucket(), pg.cluster.region);
    expect((await bucketState(pg.info, defaultIssuerBucket())).exists).toBe(true);

    // What --set-cluster-issuer writes after its second confirmation at a terminal; the
    // Authentication operator stand-in running in the sandbox process rolls the API server.
    const kc = new KubeConfig();
    kc.loadFromFile(pg.env.KUBECONFIG!);
    kc.setCurrentContext(pg.cluster.context);
    await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      { group: 'config.openshift.io', version: 'v1', plural: 'authentications', name: 'cluster', body: { spec: { serviceAccountIssuer: issuer } } },
      mergePatch(),
    );
    let seen = '';
    for (let i = 0; i < 120 && seen !== issuer; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const fresh = new KubeConfig();
      fresh.loadFromFile(pg.env.KUBECONFIG!);
      fresh.setCurrentContext(pg.cluster.context);
      seen = await fresh.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration()
        .then((d) => (typeof d === 'string' ? JSON.parse(d) : d).issuer as string, () => '');
      // The restarted API server serves the config.openshift.io objects again (as the kube-apiserver
      // operator's rollout has settled when --set-cluster-issuer stops waiting).
      if (seen === issuer) {
        seen = await fresh.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'config.openshift.io', version: 'v1', plural: 'infrastructures', name: 'cluster' })
          .then(() => seen, () => '');
      }
    }
    expect(seen).toBe(issuer);

    const again = await run(['plan']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(issuer);
    // And issuer publish now finds it published: nothing to change.
    const twice = await run(['issuer', 'publish', '--dry-run']);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).not.toMatch(/\+ Create the bucket/);
  }, 240_000);
});
