import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDeliverWebhooksHandler,
  type DeliverWebhooksDeps,
} from '../../../functions/deliver-webhooks/index.ts';
import { TransientError } from '../../../shared/errors/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import {
  createMemoryDeliveryLedger,
  createMemoryEndpointStateStore,
} from '../../../shared/webhooks/index.ts';
import { newWebhookSecret, startReceiver, type TestReceiver } from './receiver.ts';

const tunedropEvent = {
  specversion: '1.0',
  id: 'evt-7',
  source: '//tunedrop/projects/p',
  type: 'tunedrop.v1.job.failed',
  subject: 'job-7',
  time: '2025-05-01T12:00:00.000Z',
  datacontenttype: 'application/json',
  data: { jobId: 'job-7', state: 'FAILED', error: { message: 'quota' } },
};

/** What Eventarc sends for a Pub/Sub message: the CloudEvent JSON, base64, in data.message.data. */
function messagePublished(payload: unknown, publishTime = new Date()) {
  return {
    id: 'msg-1',
    data: {
      message: {
        data: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64'),
        attributes: { type: tunedropEvent.type, jobId: 'job-7', state: 'FAILED' },
        messageId: 'msg-1',
        publishTime: publishTime.toISOString(),
      },
      subscription: 'projects/p/subscriptions/deliver-webhooks',
    },
  };
}

let receiver: TestReceiver;
let secret: string;
let logger: ReturnType<typeof createMemoryLogger>;
let deps: DeliverWebhooksDeps;

beforeEach(async () => {
  receiver = await startReceiver();
  secret = newWebhookSecret();
  logger = createMemoryLogger();
  deps = {
    config: {
      eventMaxAgeMs: 24 * 60 * 60_000,
      webhooks: {
        endpoints: [{ url: receiver.url(), secrets: [secret], types: [] }],
        requireHttps: false,
        allowHosts: ['127.0.0.1'],
        timeoutMs: 30_000,
      },
    },
    logger,
    endpointState: createMemoryEndpointStateStore(),
    deliveries: createMemoryDeliveryLedger(),
    clock: () => new Date(),
  };
});

afterEach(() => receiver.close());

const messages = () => logger.entries.map((entry) => String(entry.message));

describe('the deliver-webhooks function', () => {
  it('delivers the CloudEvent carried by the Pub/Sub message and logs host, path, status and attempt', async () => {
    await createDeliverWebhooksHandler(deps)(messagePublished(tunedropEvent));
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      type: tunedropEvent.type,
      timestamp: tunedropEvent.time,
      data: tunedropEvent.data,
    });
    expect(logger.entries).toContainEqual(
      expect.objectContaining({
        severity: 'INFO',
        endpoint: `127.0.0.1:${receiver.port}/hooks`,
        status: 204,
        attempt: 1,
        eventId: 'evt-7',
        messageId: 'msg-1',
        jobId: 'job-7',
      }),
    );
  });

  it('fails with a transient error when an endpoint answers 500, so Pub/Sub redelivers', async () => {
    receiver.respond(500);
    const error = await createDeliverWebhooksHandler(deps)(messagePublished(tunedropEvent)).catch(
      (thrown: unknown) => thrown as Error,
    );
    expect(error).toBeInstanceOf(TransientError);
    // One line for the attempt, carried by the error the framework prints (its `stack`, no trace),
    // and nothing else logged for it.
    const lines = String(error?.stack).split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      severity: 'WARNING',
      reason: 'status',
      status: 500,
      attempt: 1,
      redelivered: true,
      message: expect.stringContaining('failed: HTTP 500; Pub/Sub redelivers the event'),
    });
    expect(logger.entries.filter((entry) => entry.severity === 'WARNING')).toEqual([]);
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN'])(
    'fails with a transient error when the host does not resolve (%s), never counting it delivered',
    async (code) => {
      const deliveries = createMemoryDeliveryLedger();
      let dnsUp = false;
      const handler = createDeliverWebhooksHandler({
        ...deps,
        deliveries,
        config: {
          ...deps.config,
          webhooks: {
            ...deps.config.webhooks,
            endpoints: [{ url: `http://hooks.example.test:${receiver.port}/`, secrets: [secret], types: [] }],
            allowHosts: ['hooks.example.test'],
          },
        },
        resolve: async (hostname) => {
          if (!dnsUp) throw Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code });
          return [{ address: '127.0.0.1', family: 4 }];
        },
      });
      const failure = await handler(messagePublished(tunedropEvent)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TransientError);
      expect(receiver.requests).toHaveLength(0);
      // The attempt's one log line travels as the thrown error's text (the Functions Framework
      // prints only that), as a structured WARNING with the reason.
      const line = String((failure as Error).stack);
      expect(line).toContain(`did not resolve (${code})`);
      expect(line).toContain('"reason":"unresolved"');
      expect(line).toContain('"severity":"WARNING"');
      expect(messages().some((message) => message.startsWith('webhook delivered'))).toBe(false);

      // The redelivery, once the name resolves again, is delivered: it was not recorded as delivered.
      dnsUp = true;
      await handler(messagePublished(tunedropEvent));
      expect(receiver.requests).toHaveLength(1);
      expect(logger.entries).toContainEqual(
        expect.objectContaining({ message: expect.stringContaining('webhook delivered'), attempt: 2 }),
      );
    },
  );

  it('acknowledges a 410 and says in the log that the receiver asked to stop', async () => {
    receiver.respond(410);
    const handler = createDeliverWebhooksHandler(deps);
    await handler(messagePublished(tunedropEvent));
    expect(messages().some((message) => message.includes('410 Gone: the receiver asked to stop'))).toBe(true);
    await handler(messagePublished({ ...tunedropEvent, id: 'evt-8' }));
    expect(receiver.requests).toHaveLength(1);
  });

  it('acknowledges an endpoint refused by the policy instead of retrying it forever', async () => {
    deps.config.webhooks.allowHosts = [];
    await createDeliverWebhooksHandler(deps)(messagePublished(tunedropEvent));
    expect(receiver.requests).toHaveLength(0);
    expect(logger.entries).toContainEqual(
      expect.objectContaining({
        severity: 'ERROR',
        message: expect.stringContaining('refused by the endpoint policy'),
      }),
    );
  });

  it.each([
    ['data that is not JSON', messagePublished('not json{')],
    ['JSON that is not a CloudEvent', messagePublished({ hello: 'world' })],
    [
      'a message without data',
      { id: 'msg-1', data: { message: { messageId: 'msg-1', publishTime: '2025-05-01T12:00:00Z' } } },
    ],
    ['an event that is not messagePublished', { id: 'msg-1', data: { bucket: 'b', name: 'o' } }],
  ])('acknowledges and logs a malformed message: %s', async (_name, cloudEvent) => {
    await expect(createDeliverWebhooksHandler(deps)(cloudEvent)).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(0);
    expect(logger.entries).toContainEqual(
      expect.objectContaining({
        severity: 'ERROR',
        messageId: 'msg-1',
        message: expect.stringContaining('malformed'),
      }),
    );
  });

  it('stops retrying a message older than the age limit', async () => {
    receiver.respond(503);
    const published = new Date(Date.now() - 25 * 60 * 60_000);
    await expect(
      createDeliverWebhooksHandler(deps)(messagePublished(tunedropEvent, published)),
    ).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(1);
    expect(messages().some((message) => message.includes('giving up'))).toBe(true);
  });

  it('uses the publish time as the body timestamp when the CloudEvent has no time', async () => {
    const { time: _time, ...untimed } = tunedropEvent;
    const published = new Date('2025-05-02T08:00:00.000Z');
    deps.config.eventMaxAgeMs = Number.MAX_SAFE_INTEGER;
    await createDeliverWebhooksHandler(deps)(messagePublished(untimed, published));
    expect(JSON.parse(receiver.requests[0]!.body).timestamp).toBe('2025-05-02T08:00:00.000Z');
  });

  it('never writes a secret or a signature to the log', async () => {
    receiver.respond(500);
    await createDeliverWebhooksHandler(deps)(messagePublished(tunedropEvent)).catch(() => undefined);
    const logged = JSON.stringify(logger.entries);
    expect(logged).not.toContain(secret.slice('whsec_'.length));
    const signature = String(receiver.requests[0]?.headers['webhook-signature']).slice(3);
    expect(logged).not.toContain(signature);
  });
});
