/**
 * The rule for the issuer's public hosts — the issuer, its `jwks_uri`, every redirect, the host
 * whose certificate gives the thumbprint: AWS fetches them from the internet, so rhacs-sts fetches
 * them only from public addresses too. A hostile issuer must not be able to make the CLI reach
 * loopback, link-local (incl. the cloud metadata addresses), private or unique-local addresses, and
 * put what it finds there into a plan. The check is made on the name and, at connect time, on
 * every address the name resolves to (so a public name that resolves to 127.0.0.1 is refused too).
 *
 * RHACS_STS_CONNECT_TO stays the only way to reach a local address: a host and port it names is
 * connected as the user said (see https.ts).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { privateIssuerHost } from '../validate.js';

/** Ranges never fetched from, by what they are (the first that matches names the address). */
const RANGES: [kind: string, net: string, prefix: number, type: 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local (cloud metadata)', '169.254.0.0', 16, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['shared (carrier-grade NAT, cloud metadata)', '100.64.0.0', 10, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['benchmarking', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['unique-local (incl. cloud metadata)', 'fc00::', 7, 'ipv6'],
  ['site-local', 'fec0::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];

const LISTS = RANGES.map(([kind, net, prefix, type]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { kind, list, type };
});

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or IPv4-compatible IPv6 address. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::|::)(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** What kind of non-public address `ip` is, or undefined for a public one (and for anything that is not an IP address). */
export function nonPublicAddress(ip: string): string | undefined {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(bare);
  if (version === 0) return undefined;
  if (version === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4) return nonPublicAddress(v4);
  }
  const type = version === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find((l) => l.type === type && l.list.check(bare, type))?.kind;
}

/**
 * Why rhacs-sts does not fetch from this host (a private or local name, or a non-public address
 * literal), or undefined. Names are checked again on their resolved addresses when connecting.
 */
export function nonPublicHost(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(host)) {
    const kind = nonPublicAddress(host);
    return kind ? `${host} is a ${kind} address` : undefined;
  }
  // The in-cluster and special-use names (kubernetes.default.svc, *.cluster.local, localhost, *.internal, …).
  return privateIssuerHost(host) ? `${host} is a private or local name` : undefined;
}

/** A refused connection: the name resolved to a non-public address. */
export class NonPublicAddressError extends Error {
  readonly code = 'ENONPUBLIC';
  constructor(readonly host: string, readonly address: string, readonly kind: string) {
    super(`${host} resolves to ${address}, a ${kind} address`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** A resolver shaped as dns.lookup with `all: true`. */
export type Resolver = (hostname: string, options: LookupOptions & { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `lookup` for net/tls/https that refuses a name when any address it resolves to is not public
 * (all of them are checked, so the address the connection picks cannot be a private one).
 */
export function publicOnlyLookup(resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, []);
      for (const a of list) {
        const kind = nonPublicAddress(a.address);
        if (kind) return callback(new NonPublicAddressError(hostname, a.address, kind) as unknown as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
