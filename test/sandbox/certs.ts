// Certificates for the sandbox, made with the openssl CLI: a throwaway CA, a serving certificate for
// the API servers on 127.0.0.1, client certificates (admin in system:masters, restricted users) and
// the service-account signing key pairs. Everything lives in the sandbox's temporary cert dir.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyPair {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd?: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

function ecKey(path: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

/** Subject string for openssl: `/O=g1/O=g2/CN=name` (slashes in values are escaped). */
function subject(cn: string, orgs: string[] = []): string {
  const esc = (v: string) => v.replace(/([/\\])/g, '\\$1');
  return [...orgs.map((o) => `/O=${esc(o)}`), `/CN=${esc(cn)}`].join('');
}

/** Creates (or reuses) the sandbox CA in `dir`. */
export function createCa(dir: string, cn = 'rhacs-sts-sandbox-ca'): KeyPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  ecKey(pair.key);
  openssl([
    'req', '-x509', '-new', '-key', pair.key, '-subj', subject(cn), '-days', '3650', '-out', pair.cert,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return pair;
}

/** An intermediate CA signed by `parent`, into `dir/<name>.crt` and `dir/<name>.key`. */
export function issueIntermediateCa(parent: KeyPair, dir: string, name: string, cn: string): KeyPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  ecKey(pair.key);
  openssl(['req', '-new', '-key', pair.key, '-subj', subject(cn), '-out', csr]);
  writeFileSync(ext, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n');
  openssl([
    'x509', '-req', '-in', csr, '-CA', parent.cert, '-CAkey', parent.key,
    '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '365', '-extfile', ext, '-out', pair.cert,
  ]);
  return pair;
}

export interface IssueOptions {
  /** Common name: the user name for client certificates. */
  cn: string;
  /** Organisations: the groups for client certificates. */
  groups?: string[];
  /** Subject alternative names for a serving certificate, e.g. `IP:127.0.0.1`, `DNS:localhost`. */
  sans?: string[];
  usage: 'server' | 'client';
}

/** Issues a certificate signed by `ca` into `dir/<name>.crt` and `dir/<name>.key`. */
export function issueCert(ca: KeyPair, dir: string, name: string, opts: IssueOptions): KeyPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  ecKey(pair.key);
  openssl(['req', '-new', '-key', pair.key, '-subj', subject(opts.cn, opts.groups), '-out', csr]);
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${opts.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
  ];
  if (opts.sans?.length) lines.push(`subjectAltName=${opts.sans.join(',')}`);
  writeFileSync(ext, lines.join('\n') + '\n');
  openssl([
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '365', '-extfile', ext, '-out', pair.cert,
  ]);
  return pair;
}

export interface ServiceAccountKeys {
  /** PEM RSA private key, for --service-account-signing-key-file. */
  privateKey: string;
  /** PEM public key, for --service-account-key-file. */
  publicKey: string;
}

/** RSA 2048 key pair for signing service-account tokens (RS256, as EKS and OpenShift use). */
export function createServiceAccountKeys(dir: string, name: string): ServiceAccountKeys {
  mkdirSync(dir, { recursive: true });
  const keys = { privateKey: join(dir, `${name}-sa.key`), publicKey: join(dir, `${name}-sa.pub`) };
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keys.privateKey]);
  openssl(['pkey', '-in', keys.privateKey, '-pubout', '-out', keys.publicKey]);
  return keys;
}

/** Base64 of a PEM file, for the `*-data` fields of a kubeconfig. */
export function pemData(path: string): string {
  return readFileSync(path).toString('base64');
}
