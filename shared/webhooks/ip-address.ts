/**
 * Which IP addresses a webhook may be sent to. Public unicast only: everything that reaches this
 * machine, the VPC, the metadata server or a special-purpose network is refused, including the same
 * addresses written in IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4).
 */
import { isIPv4, isIPv6 } from 'node:net';

interface Range4 {
  base: number;
  bits: number;
  reason: string;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

const range4 = (cidr: string, reason: string): Range4 => {
  const [base = '', bits = '32'] = cidr.split('/');
  return { base: ipv4ToNumber(base), bits: Number(bits), reason };
};

// Order matters only for the reason reported: the metadata server before link-local.
const ipv4Refused: Range4[] = [
  range4('169.254.169.254/32', 'metadata server'),
  range4('0.0.0.0/8', 'unspecified ("this network")'),
  range4('10.0.0.0/8', 'private'),
  range4('100.64.0.0/10', 'shared address space (CGNAT)'),
  range4('127.0.0.0/8', 'loopback'),
  range4('169.254.0.0/16', 'link-local'),
  range4('172.16.0.0/12', 'private'),
  range4('192.0.0.0/24', 'IETF protocol assignments'),
  range4('192.0.2.0/24', 'documentation'),
  range4('192.88.99.0/24', '6to4 relay anycast (deprecated)'),
  range4('192.168.0.0/16', 'private'),
  range4('198.18.0.0/15', 'benchmarking'),
  range4('198.51.100.0/24', 'documentation'),
  range4('203.0.113.0/24', 'documentation'),
  range4('224.0.0.0/4', 'multicast'),
  range4('240.0.0.0/4', 'reserved (incl. broadcast)'),
];

function refusedIpv4(value: number): string | undefined {
  for (const range of ipv4Refused) {
    const size = 2 ** (32 - range.bits);
    if (Math.floor(value / size) === Math.floor(range.base / size)) return range.reason;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, embedded dotted quad converted). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = ipv4ToNumber(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const embeddedIpv4 = (high: number, low: number) => high * 65536 + low;

function refusedIpv6(groups: number[]): string | undefined {
  const g = (index: number) => groups[index] ?? 0;
  const zeroUpTo = (count: number) => groups.slice(0, count).every((group) => group === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g(7) === 1) return 'loopback';
  if (zeroUpTo(5) && g(5) === 0xffff) {
    const reason = refusedIpv4(embeddedIpv4(g(6), g(7)));
    return reason && `${reason} (IPv4-mapped)`;
  }
  // ::a.b.c.d, deprecated "IPv4-compatible": nothing legitimate uses it, so refuse the whole block.
  if (zeroUpTo(6)) return 'IPv4-compatible (deprecated)';
  // ::ffff:0:a.b.c.d, "IPv4-translated" (SIIT).
  if (zeroUpTo(4) && g(4) === 0xffff && g(5) === 0) return 'IPv4-translated';
  if (g(0) === 0x64 && g(1) === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) {
    const reason = refusedIpv4(embeddedIpv4(g(6), g(7)));
    return reason && `${reason} (NAT64)`;
  }
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 1) return 'local-use NAT64';
  if (g(0) === 0x2002) {
    const reason = refusedIpv4(embeddedIpv4(g(1), g(2)));
    return reason && `${reason} (6to4)`;
  }
  if (g(0) === 0x0100 && g(1) === 0 && g(2) === 0 && g(3) === 0) return 'discard-only';
  // Teredo hides the IPv4 server and client addresses (the client one obfuscated): refuse it all.
  if (g(0) === 0x2001 && g(1) === 0) return 'Teredo';
  if (g(0) === 0x2001 && g(1) === 0x0db8) return 'documentation';
  if ((g(0) & 0xfe00) === 0xfc00) return 'unique local';
  if ((g(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((g(0) & 0xffc0) === 0xfec0) return 'site-local (deprecated)';
  if ((g(0) & 0xff00) === 0xff00) return 'multicast';
  // Only global unicast (2000::/3) is the public internet; every other block is reserved. Checked
  // after the embedded-IPv4 forms above, which carry their own verdict.
  if ((g(0) & 0xe000) !== 0x2000) return 'reserved (not global unicast)';
  if (g(0) === 0x2001 && g(1) === 0x0002 && g(2) === 0) return 'benchmarking';
  // 2001::/23: Teredo, ORCHID, AS112 and the like; nothing a webhook receiver lives on.
  if (g(0) === 0x2001 && (g(1) & 0xfe00) === 0) return 'IETF protocol assignments';
  if (g(0) === 0x3fff && (g(1) & 0xf000) === 0) return 'documentation';
  return undefined;
}

/**
 * Why a webhook must not go to this address (private, loopback, link-local, metadata server...),
 * or undefined when it is public. Something that is not an IP address is refused too.
 */
export function refusedAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return refusedIpv4(ipv4ToNumber(bare));
  if (isIPv6(bare)) return refusedIpv6(ipv6Groups(bare));
  return 'not an IP address';
}
