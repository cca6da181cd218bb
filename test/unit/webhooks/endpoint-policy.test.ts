import { describe, expect, it } from 'vitest';
import {
  checkEndpoint,
  type EndpointPolicy,
  type ResolveHost,
  refusedAddressReason,
} from '../../../shared/webhooks/index.ts';

describe('which addresses a webhook may reach', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared address space (CGNAT)'],
    ['100.127.255.254', 'shared address space (CGNAT)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.10.20', 'link-local'],
    ['169.254.169.254', 'metadata server'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved (incl. broadcast)'],
    ['192.88.99.1', '6to4 relay anycast (deprecated)'],
    ['198.18.0.1', 'benchmarking'],
  ])('refuses the IPv4 address %s (%s)', (address, reason) => {
    expect(refusedAddressReason(address)).toBe(reason);
  });

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd20:ce::254', 'unique local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4-mapped)'],
    ['::ffff:7f00:1', 'loopback (IPv4-mapped)'],
    ['::ffff:169.254.169.254', 'metadata server (IPv4-mapped)'],
    ['::ffff:10.0.0.1', 'private (IPv4-mapped)'],
    ['0:0:0:0:0:ffff:c0a8:101', 'private (IPv4-mapped)'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::a9fe:a9fe', 'metadata server (NAT64)'],
    ['64:ff9b::10.0.0.1', 'private (NAT64)'],
    ['2002:7f00:1::', 'loopback (6to4)'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['[::1]', 'loopback'],
    ['::ffff:100.64.0.1', 'shared address space (CGNAT) (IPv4-mapped)'],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['2001:20::1', 'IETF protocol assignments'],
    ['fec0::1', 'site-local (deprecated)'],
    ['4000::1', 'reserved (not global unicast)'],
    ['::ffff:0:a00:1', 'IPv4-translated'],
  ])('refuses the IPv6 address %s (%s)', (address, reason) => {
    expect(refusedAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '142.250.74.78',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.1.1',
    '2607:f8b0:4004:c07::64',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows the public address %s', (address) => {
    expect(refusedAddressReason(address)).toBeUndefined();
  });

  it('refuses something that is not an IP address', () => {
    expect(refusedAddressReason('example.com')).toBe('not an IP address');
  });
});

const deployed: EndpointPolicy = { requireHttps: true, allowHosts: [] };
const dnsOf =
  (answers: Record<string, string[]>): ResolveHost =>
  async (hostname) => {
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('the endpoint policy', () => {
  const dns = dnsOf({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'sneaky.example.com': ['93.184.216.34', '10.0.0.7'],
    'internal.example.com': ['192.168.0.10'],
    'v6only.example.com': ['::ffff:169.254.169.254'],
    'receiver.local': ['127.0.0.1'],
  });

  it('allows an https URL whose host resolves only to public addresses, pinned to the first one', async () => {
    const check = await checkEndpoint('https://hooks.example.com/tunedrop?x=1', deployed, dns);
    expect(check).toMatchObject({ verdict: 'allowed', address: '93.184.216.34', family: 4 });
  });

  it('refuses plain http when https is required, and allows it when it is not', async () => {
    expect(await checkEndpoint('http://hooks.example.com/', deployed, dns)).toEqual({
      verdict: 'refused',
      reason: 'https is required',
    });
    const local = { requireHttps: false, allowHosts: [] };
    expect((await checkEndpoint('http://hooks.example.com/', local, dns)).verdict).toBe('allowed');
  });

  it('refuses schemes other than http(s)', async () => {
    expect((await checkEndpoint('ftp://hooks.example.com/', deployed, dns)).verdict).toBe('refused');
    expect((await checkEndpoint('file:///etc/passwd', deployed, dns)).verdict).toBe('refused');
  });

  it('refuses a host when any one of its addresses is private', async () => {
    expect(await checkEndpoint('https://sneaky.example.com/', deployed, dns)).toEqual({
      verdict: 'refused',
      reason: 'sneaky.example.com resolves to a private address',
    });
  });

  it('refuses hosts that resolve to private or IPv4-mapped metadata addresses', async () => {
    expect((await checkEndpoint('https://internal.example.com/', deployed, dns)).verdict).toBe('refused');
    expect(await checkEndpoint('https://v6only.example.com/', deployed, dns)).toEqual({
      verdict: 'refused',
      reason: 'v6only.example.com resolves to a metadata server (IPv4-mapped) address',
    });
  });

  it('refuses IP literals in every spelling the URL parser accepts', async () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://2130706433/',
      'https://0x7f.0.0.1/',
      'https://169.254.169.254/computeMetadata/v1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fe80::1]/',
    ]) {
      expect((await checkEndpoint(url, deployed, dns)).verdict, url).toBe('refused');
    }
  });

  it('refuses the metadata server by name without resolving it', async () => {
    const failing: ResolveHost = async () => {
      throw new Error('must not resolve');
    };
    for (const url of [
      'https://metadata.google.internal/',
      'https://METADATA/',
      'https://metadata.google.internal./',
    ]) {
      expect(await checkEndpoint(url, deployed, failing), url).toEqual({
        verdict: 'refused',
        reason: 'metadata server host',
      });
    }
  });

  it('lets allow-listed hosts through to private addresses (the local stack)', async () => {
    const local = { requireHttps: false, allowHosts: ['receiver.local', '127.0.0.1', '::1'] };
    expect(await checkEndpoint('http://receiver.local:9000/hook', local, dns)).toMatchObject({
      verdict: 'allowed',
      address: '127.0.0.1',
    });
    expect(await checkEndpoint('http://127.0.0.1:9000/hook', local, dns)).toMatchObject({
      verdict: 'allowed',
    });
    expect(await checkEndpoint('http://[::1]:9000/hook', local, dns)).toMatchObject({
      verdict: 'allowed',
      address: '::1',
      family: 6,
    });
    // The allow-list names hosts, not addresses behind other names.
    expect((await checkEndpoint('http://internal.example.com/', local, dns)).verdict).toBe('refused');
  });

  it('reports a name that does not resolve as retryable, not refused', async () => {
    expect(await checkEndpoint('https://nowhere.example.com/', deployed, dns)).toEqual({
      verdict: 'unresolved',
      reason: 'nowhere.example.com did not resolve (ENOTFOUND)',
    });
  });
});
