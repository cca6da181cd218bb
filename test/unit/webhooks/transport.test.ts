/**
 * The transport against receivers that misbehave on purpose: it must answer with the status alone,
 * whatever the body, and give up on a receiver that never finishes its headers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpTransport, loggablePath } from '../../../shared/webhooks/index.ts';

let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise<void>((resolve) => running.close(() => resolve()));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const started = createServer(handler);
  server = started;
  await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(started.address() as AddressInfo).port}/hooks`);
}

const post = (url: URL, timeoutMs: number) =>
  httpTransport({ url, address: '127.0.0.1', family: 4, headers: {}, body: '{}', timeoutMs });

describe('sending one webhook request', () => {
  it('takes the status of a receiver that streams an endless body, without reading it', async () => {
    let written = 0;
    const url = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) written += chunk.length;
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    expect(await post(url, 10_000)).toEqual({ kind: 'response', status: 200 });
    // Far less than the unbounded stream the receiver would send: only socket buffers filled.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('takes the status of a receiver that trickles its body and never ends it', async () => {
    const url = await serve((_request, response) => {
      response.writeHead(202);
      response.write('x');
    });
    expect(await post(url, 10_000)).toEqual({ kind: 'response', status: 202 });
  });

  it('gives up on a receiver that starts its headers and never finishes them', async () => {
    const url = await serve((request) => {
      request.socket.write('HTTP/1.1 200 OK\r\nx-slow: 1\r\n');
    });
    expect(await post(url, 300)).toEqual({ kind: 'timeout' });
  });

  it('gives up on a receiver that answers only with endless 102 Processing', async () => {
    const url = await serve((request) => {
      request.socket.write('HTTP/1.1 102 Processing\r\n\r\n');
    });
    expect(await post(url, 300)).toEqual({ kind: 'timeout' });
  });

  it('fails on oversized response headers instead of buffering them', async () => {
    const url = await serve((request) => {
      request.socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    });
    expect(await post(url, 10_000)).toMatchObject({ kind: 'network' });
  });
});

describe('the endpoint path as logged', () => {
  it.each([
    ['/hooks', '/hooks'],
    ['/webhooks/tunedrop-notifications', '/webhooks/tunedrop-notifications'],
    ['/services/T0A1B2C3D/B0E4F5G6H/aB3dE6gH9jK2mN5pQ8rS1tU4', '/services/T0A1B2C3D/B0E4F5G6H/…'],
    ['/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz', '/api/webhooks/…/…'],
  ])('shows %s as %s', (path, shown) => {
    expect(loggablePath(path)).toBe(shown);
  });
});
