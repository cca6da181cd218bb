import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookEndpoint } from '../../../shared/config/index.ts';
import {
  createMemoryDeliveryLedger,
  createMemoryEndpointStateStore,
  type DeliverOptions,
  deliverEvent,
  isRetryable,
  type WebhookEvent,
} from '../../../shared/webhooks/index.ts';
import { newWebhookSecret, startReceiver, type TestReceiver, webhookHeadersOf } from './receiver.ts';

const event: WebhookEvent = {
  id: 'evt-42',
  type: 'tunedrop.v1.job.succeeded',
  time: '2025-05-01T12:00:00.000Z',
  data: { jobId: 'job-42', state: 'SUCCEEDED' },
};

let receiver: TestReceiver;
let secret: string;
let endpointState: ReturnType<typeof createMemoryEndpointStateStore>;
let options: DeliverOptions;

const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  url: receiver.url(),
  secrets: [secret],
  types: [],
  ...overrides,
});

beforeEach(async () => {
  receiver = await startReceiver();
  secret = newWebhookSecret();
  endpointState = createMemoryEndpointStateStore();
  options = {
    endpoints: [endpoint()],
    policy: { requireHttps: false, allowHosts: ['127.0.0.1'] },
    timeoutMs: 30_000,
    now: () => new Date(),
    endpointState,
    deliveries: createMemoryDeliveryLedger(),
  };
});

afterEach(() => receiver.close());

describe('delivering an event to webhook endpoints', () => {
  it('POSTs a signed JSON body that the receiver verifies with standardwebhooks', async () => {
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({
      result: 'delivered',
      status: 204,
      attempt: 1,
      host: `127.0.0.1:${receiver.port}`,
    });
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe('evt-42');
    const payload = new Webhook(secret).verify(request.body, webhookHeadersOf(request));
    expect(payload).toEqual({ type: event.type, timestamp: event.time, data: event.data });
  });

  it('sends only to endpoints whose types include the event type (none listed means all)', async () => {
    options.endpoints = [
      endpoint({ url: receiver.url('/all') }),
      endpoint({ url: receiver.url('/succeeded'), types: ['tunedrop.v1.job.succeeded'] }),
      endpoint({ url: receiver.url('/failed'), types: ['tunedrop.v1.job.failed'] }),
    ];
    const outcomes = await deliverEvent(event, options);
    expect(outcomes.map((outcome) => outcome.path)).toEqual(['/all', '/succeeded']);
    expect(receiver.requests.map((request) => request.path).sort()).toEqual(['/all', '/succeeded']);
  });

  it('reports a host that resolves to nothing in time as a retryable failure, not a delivery', async () => {
    const never = new Promise<never>(() => {});
    options.endpoints = [endpoint({ url: `http://slow-dns.example.test:${receiver.port}/` })];
    options.policy = { requireHttps: false, allowHosts: ['slow-dns.example.test'] };
    options.timeoutMs = 50;
    options.resolve = () => never;
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({
      result: 'failed',
      reason: 'unresolved',
      detail: 'slow-dns.example.test did not resolve (ETIMEOUT)',
    });
    expect(isRetryable(outcome!)).toBe(true);
    expect(receiver.requests).toHaveLength(0);
  });

  it('reports a resolver failure without an error code as a retryable failure too', async () => {
    options.endpoints = [endpoint({ url: `http://odd-dns.example.test:${receiver.port}/` })];
    options.policy = { requireHttps: false, allowHosts: ['odd-dns.example.test'] };
    options.resolve = async () => {
      throw new Error('resolver crashed');
    };
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'failed', reason: 'unresolved' });
    expect(isRetryable(outcome!)).toBe(true);
  });

  it('reports a 500 as a retryable failure', async () => {
    receiver.respond(500);
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'failed', reason: 'status', status: 500 });
    expect(isRetryable(outcome!)).toBe(true);
  });

  it('re-sends a failed delivery with the same webhook-id, then never again once it succeeded', async () => {
    receiver.respond(503);
    await deliverEvent(event, options);
    receiver.respond(200);
    const [second] = await deliverEvent(event, options);
    expect(second).toMatchObject({ result: 'delivered', attempt: 2 });
    const [third] = await deliverEvent(event, options);
    expect(third).toMatchObject({ result: 'already-delivered' });
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual(['evt-42', 'evt-42']);
    for (const request of receiver.requests) {
      expect(() => new Webhook(secret).verify(request.body, webhookHeadersOf(request))).not.toThrow();
    }
  });

  it('sends a replay again to an endpoint that already had the event, same webhook-id, marked replay', async () => {
    await deliverEvent(event, options);
    const [replayed] = await deliverEvent({ ...event, replay: true }, options);
    expect(replayed).toMatchObject({ result: 'delivered' });
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual(['evt-42', 'evt-42']);
    const payload = new Webhook(secret).verify(
      receiver.requests[1]!.body,
      webhookHeadersOf(receiver.requests[1]!),
    );
    expect(payload).toMatchObject({ type: event.type, replay: true });
  });

  it('on redelivery, skips endpoints that already got the event and retries the others', async () => {
    options.endpoints = [endpoint({ url: receiver.url('/ok') }), endpoint({ url: receiver.url('/flaky') })];
    receiver.respond((request, response) => {
      response.writeHead(request.path === '/ok' ? 200 : 502).end();
      return undefined;
    });
    const first = await deliverEvent(event, options);
    expect(first.map((outcome) => outcome.result)).toEqual(['delivered', 'failed']);
    receiver.respond(200);
    const second = await deliverEvent(event, options);
    expect(second.map((outcome) => outcome.result)).toEqual(['already-delivered', 'delivered']);
    expect(receiver.requests.map((request) => request.path).sort()).toEqual(['/flaky', '/flaky', '/ok']);
  });

  it('stops delivering to an endpoint that answered 410, until its configuration changes', async () => {
    receiver.respond(410);
    const [gone] = await deliverEvent(event, options);
    expect(gone).toMatchObject({ result: 'gone', status: 410, recorded: true });
    expect(isRetryable(gone!)).toBe(false);

    receiver.respond(200);
    const [skipped] = await deliverEvent({ ...event, id: 'evt-43' }, options);
    expect(skipped).toMatchObject({ result: 'skipped-gone' });
    expect(receiver.requests).toHaveLength(1);

    options.endpoints = [endpoint({ secrets: [newWebhookSecret()] })];
    const [resumed] = await deliverEvent({ ...event, id: 'evt-44' }, options);
    expect(resumed).toMatchObject({ result: 'delivered' });
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    receiver.respond(() => 'hang');
    options.timeoutMs = 150;
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'failed', reason: 'timeout' });
    expect(isRetryable(outcome!)).toBe(true);
  });

  it('does not follow a redirect and reports it as a failure', async () => {
    receiver.respond((_request, response) => {
      response.writeHead(302, { location: receiver.url('/elsewhere') }).end();
      return undefined;
    });
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'failed', reason: 'redirect', status: 302 });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks']);
  });

  it('reports a refused connection as a retryable network failure', async () => {
    const url = receiver.url();
    await receiver.close();
    options.endpoints = [endpoint({ url })];
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'failed', reason: 'network' });
    receiver = await startReceiver();
  });

  it('refuses a private address that is not allow-listed, permanently and without sending', async () => {
    options.policy = { requireHttps: false, allowHosts: [] };
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'refused', reason: '127.0.0.1 is a loopback address' });
    expect(isRetryable(outcome!)).toBe(false);
    expect(receiver.requests).toHaveLength(0);
  });

  it('connects to the address it checked, keeping the original Host header', async () => {
    options.endpoints = [endpoint({ url: `http://receiver.test:${receiver.port}/hooks` })];
    options.policy = { requireHttps: false, allowHosts: ['receiver.test'] };
    let lookups = 0;
    options.resolve = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ result: 'delivered', host: `receiver.test:${receiver.port}` });
    expect(lookups).toBe(1);
    expect(receiver.requests[0]?.headers.host).toBe(`receiver.test:${receiver.port}`);
  });

  it('does not send when the delivery state cannot be read, and asks for a retry', async () => {
    options.deliveries = {
      beginAttempt: async () => {
        throw new Error('firestore unavailable');
      },
      markDelivered: async () => {},
    };
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({
      result: 'failed',
      reason: 'state-store',
      detail: 'firestore unavailable',
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it('logs nothing secret: outcomes carry host and path, not the query string', async () => {
    // A token no hex digest or port number can contain by chance.
    options.endpoints = [endpoint({ url: `${receiver.url('/hooks')}?token=query-token-value` })];
    const [outcome] = await deliverEvent(event, options);
    expect(outcome).toMatchObject({ path: '/hooks' });
    expect(JSON.stringify(outcome)).not.toContain('query-token-value');
    expect(JSON.stringify(outcome)).not.toContain(secret.slice(6));
  });
});
