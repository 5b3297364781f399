// Wraps the sandbox's CLI runner: each run's arguments, exit code, stdout and stderr are appended to
// $RECORD_OUT as one JSON line, with what differs from run to run (temporary paths, ports, unique
// namespaces, generated names, the sandbox's issuer id) replaced by placeholders.
import { appendFileSync } from 'node:fs';
import { vi } from 'vitest';

vi.mock('../../test/sandbox/cli.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../test/sandbox/cli.js')>();
  const normal = (s: string) => s
    .replace(/\/tmp\/rhacs-sts-[A-Za-z0-9-]+?-[A-Za-z0-9]{6}/g, '<dir>')
    .replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
    .replace(/\b([a-z0-9-]+)-[a-z0-9]{6,10}-[0-9a-f]{6}\b/g, '$1-<unique>')
    .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, '<time>')
    // The sandbox's EKS issuer id comes from its signing key, made anew at each start; the trust statement's Sid follows it.
    .replace(/\/id\/[0-9A-F]{32}\b/g, '/id/<issuer-id>')
    .replace(/RhacsStsWebIdentity[0-9a-f]{8}\b/g, 'RhacsStsWebIdentity<hash>')
    // Its certificates too, so the thumbprint of the issuer's CA.
    .replace(/\b[0-9a-f]{40}\b/g, '<sha1>');
  return {
    ...real,
    cli: async (...args: Parameters<typeof real.cli>) => {
      const r = await real.cli(...args);
      const [, cluster, argv, env = {}] = args;
      appendFileSync(process.env.RECORD_OUT!, `${JSON.stringify({
        cluster, args: argv.map(normal), env, code: r.code, stdout: normal(r.stdout), stderr: normal(r.stderr),
      })}\n`);
      return r;
    },
  };
});
