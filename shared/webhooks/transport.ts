/**
 * One webhook POST over node:http(s), connected to the address the endpoint policy checked: the
 * `lookup` override hands that address to the socket, so no second DNS query happens, while the
 * Host header and TLS SNI (and certificate check) stay those of the URL's host. Redirects are never
 * followed (node:http does not), a fresh connection is used per request (no pooled socket to
 * another address), and the whole exchange up to the response headers (connect, TLS, sending the
 * body, a receiver that trickles its headers or sends endless 1xx) has one deadline. The response
 * body is never read, so its size and pace do not matter.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';

export interface PinnedRequest {
  url: URL;
  /** The checked address to connect to. */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export type TransportResult =
  | { kind: 'response'; status: number }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string; message: string };

/** Sends one request; never rejects: every failure is a result. Injectable for unit tests. */
export type Transport = (request: PinnedRequest) => Promise<TransportResult>;

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  // Node calls lookup with `all: true` when it races address families (autoSelectFamily).
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

export const httpTransport: Transport = (request) =>
  new Promise((resolve) => {
    let settled = false;
    const settle = (result: TransportResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const isHttps = request.url.protocol === 'https:';
    const host = request.url.hostname;
    const req = (isHttps ? https : http).request(request.url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      lookup: pinnedLookup(request.address, request.family),
      agent: false,
      // The receiver is untrusted: bound what it can make us parse (Node's default, pinned here so
      // a --max-http-header-size flag cannot raise it). Its body is never read at all (below).
      maxHeaderSize: 16 * 1024,
      insecureHTTPParser: false,
      // SNI must be a name, never an IP literal.
      ...(isHttps && isIP(host.replace(/^\[|\]$/g, '')) === 0 ? { servername: host } : {}),
    });
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' });
      req.destroy();
    }, request.timeoutMs);
    req.on('response', (res) => {
      settle({ kind: 'response', status: res.statusCode ?? 0 });
      // The body is not needed and never read: a receiver that streams gigabytes, or trickles a
      // byte a minute, costs nothing past its status line. The connection is not reused; close it.
      res.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      settle({ kind: 'network', code: error.code ?? error.name, message: error.message });
    });
    req.end(request.body);
  });
