/**
 * The SSRF guard: decides whether a webhook URL may be called, and at which address. The host is
 * resolved once here and the request then connects to that very address (see transport.ts), so a
 * DNS answer that changes between the check and the connection (rebinding) cannot slip a private
 * address in. Every address the name resolves to must be public; one private answer refuses it.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusedAddressReason } from './ip-address.ts';

export interface EndpointPolicy {
  /** Refuse plain http (true when deployed). */
  requireHttps: boolean;
  /** Hosts exempt from the address check (lower-case names or IP literals): the local stack only. */
  allowHosts: string[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to; `dns.lookup` with `all` by default (uses /etc/hosts too). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const resolveWithDns: ResolveHost = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/** Names that reach the metadata server on Google Cloud without resolving through public DNS. */
const metadataHosts = new Set(['metadata', 'metadata.google.internal']);

export type EndpointCheck =
  /** Call `url` by connecting to `address`; Host and SNI stay the URL's host. */
  | { verdict: 'allowed'; url: URL; address: string; family: 4 | 6 }
  /** Permanent: this URL must not be called; retrying cannot change that. */
  | { verdict: 'refused'; reason: string }
  /** The name did not resolve (now): worth retrying. */
  | { verdict: 'unresolved'; reason: string };

/** A host as written in a URL, normalised for comparison: lower case, no brackets, no final dot. */
export function normaliseHost(host: string): string {
  const lower = host.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** How long a name may take to resolve before the check calls it unresolved (a retry). */
export const defaultResolveTimeoutMs = 10_000;

class ResolveTimeoutError extends Error {
  readonly code = 'ETIMEOUT';
}

/**
 * `resolve(host)`, given up on after `timeoutMs`: getaddrinfo cannot be cancelled and may take
 * long when a DNS server does not answer, and a delivery must fail (and be retried) rather than
 * wait for it.
 */
function resolveWithin(resolve: ResolveHost, host: string, timeoutMs: number): Promise<ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ResolveTimeoutError(`no DNS answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([resolve(host), timeout]).finally(() => clearTimeout(timer));
}

/**
 * A failure to resolve is always `unresolved` (transient: the delivery is retried), whatever the
 * resolver threw: ENOTFOUND, EAI_AGAIN, ESERVFAIL, a timeout, or an error with no code at all. Only
 * an answer can refuse an endpoint, never the lack of one.
 */
export async function checkEndpoint(
  rawUrl: string,
  policy: EndpointPolicy,
  resolve: ResolveHost = resolveWithDns,
  options: { resolveTimeoutMs?: number } = {},
): Promise<EndpointCheck> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { verdict: 'refused', reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { verdict: 'refused', reason: `scheme ${url.protocol} is not http(s)` };
  }
  if (policy.requireHttps && url.protocol !== 'https:') {
    return { verdict: 'refused', reason: 'https is required' };
  }
  // The WHATWG parser has already turned 2130706433, 0x7f.1 and the like into dotted quads.
  const host = normaliseHost(url.hostname);
  const allowListed = policy.allowHosts.map(normaliseHost).includes(host);
  if (!allowListed && metadataHosts.has(host)) return { verdict: 'refused', reason: 'metadata server host' };

  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolveWithin(resolve, host, options.resolveTimeoutMs ?? defaultResolveTimeoutMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      return { verdict: 'unresolved', reason: `${host} did not resolve (${code ?? String(error)})` };
    }
  }
  if (!Array.isArray(addresses)) return { verdict: 'unresolved', reason: `${host} resolved to no address` };
  const [first] = addresses;
  if (!first) return { verdict: 'unresolved', reason: `${host} resolved to no address` };
  if (!allowListed) {
    for (const { address } of addresses) {
      const reason = refusedAddressReason(address);
      if (reason) {
        const verb = literal !== 0 ? 'is' : 'resolves to';
        return { verdict: 'refused', reason: `${host} ${verb} a ${reason} address` };
      }
    }
  }
  return { verdict: 'allowed', url, address: first.address, family: first.family };
}
