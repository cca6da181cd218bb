/**
 * The deployed path (terraform/pubsub.tf): a Pub/Sub push subscription POSTs its raw push body to
 * the function, and the Functions Framework turns it into the messagePublished CloudEvent that the
 * handler reads. A throw must become a non-2xx answer, which is what makes Pub/Sub retry.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverWebhooksHandler } from '../../../functions/deliver-webhooks/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import {
  createMemoryDeliveryLedger,
  createMemoryEndpointStateStore,
} from '../../../shared/webhooks/index.ts';
import { newWebhookSecret, startReceiver, type TestReceiver } from './receiver.ts';

let receiver: TestReceiver;
let server: Server;
let functionUrl: string;

beforeAll(async () => {
  receiver = await startReceiver();
  functions.cloudEvent(
    'deliverWebhooksUnderTest',
    createDeliverWebhooksHandler({
      config: {
        eventMaxAgeMs: 60 * 60_000,
        webhooks: {
          endpoints: [{ url: receiver.url(), secrets: [newWebhookSecret()], types: [] }],
          requireHttps: false,
          allowHosts: ['127.0.0.1'],
          timeoutMs: 30_000,
        },
      },
      logger: createMemoryLogger(),
      endpointState: createMemoryEndpointStateStore(),
      deliveries: createMemoryDeliveryLedger(),
      clock: () => new Date(),
    }),
  );
  server = getTestServer('deliverWebhooksUnderTest');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/projects/p/topics/tuning-events`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await receiver.close();
});

function pushBody(eventId: string) {
  const event = {
    specversion: '1.0',
    id: eventId,
    source: '//tunedrop/projects/p',
    type: 'tunedrop.v1.job.running',
    subject: 'job-1',
    time: new Date().toISOString(),
    data: { jobId: 'job-1', state: 'RUNNING' },
  };
  const publishTime = new Date().toISOString();
  return {
    message: {
      data: Buffer.from(JSON.stringify(event)).toString('base64'),
      attributes: { type: event.type, jobId: 'job-1', state: 'RUNNING' },
      messageId: `m-${eventId}`,
      message_id: `m-${eventId}`,
      publishTime,
      publish_time: publishTime,
    },
    subscription: 'projects/p/subscriptions/tunedrop-deliver-webhooks',
  };
}

const push = (body: unknown) =>
  fetch(functionUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('deliver-webhooks behind a Pub/Sub push subscription and the Functions Framework', () => {
  it('delivers the event and answers 2xx so Pub/Sub acknowledges', async () => {
    receiver.respond(200);
    const response = await push(pushBody('evt-push-1'));
    expect(response.status).toBeLessThan(300);
    expect(receiver.requests.at(-1)?.headers['webhook-id']).toBe('evt-push-1');
  });

  it('answers non-2xx when a receiver failed, so Pub/Sub retries', async () => {
    receiver.respond(500);
    const response = await push(pushBody('evt-push-2'));
    expect(response.status).toBeGreaterThanOrEqual(500);
  });
});
