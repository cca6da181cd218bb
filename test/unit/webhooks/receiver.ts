/**
 * A real HTTP receiver on 127.0.0.1 for the webhook tests: records every request (headers and raw
 * body) and answers with whatever the test's responder says, including never answering.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers a request; returning 'hang' leaves it unanswered (for timeouts). */
export type Responder = (request: ReceivedRequest, response: ServerResponse) => 'hang' | undefined;

export interface TestReceiver {
  url: (path?: string) => string;
  port: number;
  requests: ReceivedRequest[];
  respond: (responder: Responder | number) => void;
  close: () => Promise<void>;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function startReceiver(port = 0): Promise<TestReceiver> {
  let responder: Responder = (_request, response) => {
    response.writeHead(204).end();
    return undefined;
  };
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      responder(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    url: (path = '/hooks') => `http://127.0.0.1:${actualPort}${path}`,
    requests,
    respond: (next) => {
      responder =
        typeof next === 'number'
          ? (_request, response) => {
              response.writeHead(next).end();
              return undefined;
            }
          : next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The headers a receiver hands to `standardwebhooks` (string values only). */
export function webhookHeadersOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([key, value]) =>
      typeof value === 'string' ? [[key, value]] : [],
    ),
  );
}
