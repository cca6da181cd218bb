import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhooksSubscription } from '../../local/stack.ts';

// The Pub/Sub emulator the global setup started (PUBSUB_EMULATOR_HOST).
const pubsub = new PubSub({ projectId: 'tunedrop-test' });
let refusing: Server;
let attempts = 0;

beforeAll(async () => {
  refusing = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      attempts++;
      response.writeHead(500).end();
    });
  });
  await new Promise<void>((listening) => refusing.listen(0, '127.0.0.1', listening));
});

afterAll(async () => {
  await new Promise((closed) => refusing.close(closed));
  await pubsub.close();
});

describe('the local deliver-webhooks subscription', () => {
  it('moves a message its push endpoint keeps refusing to the dead-letter topic', async () => {
    const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const [topic] = await pubsub.createTopic(`dl-events-${suffix}`);
    const [deadLetter] = await pubsub.createTopic(`dl-dead-${suffix}`);
    const [inspect] = await deadLetter.createSubscription(`dl-inspect-${suffix}`);
    const { port } = refusing.address() as AddressInfo;
    await topic.createSubscription(
      `dl-push-${suffix}`,
      deliverWebhooksSubscription({
        pushEndpoint: `http://127.0.0.1:${port}/projects/tunedrop-test/topics/${topic.name}`,
        deadLetterTopic: deadLetter.name,
        maxDeliveryAttempts: 5,
      }),
    );

    const arrived = new Promise<{ data: string; attributes: Record<string, string> }>((resolve) => {
      inspect.on('message', (message) => {
        message.ack();
        resolve({ data: message.data.toString(), attributes: message.attributes });
      });
    });
    await topic.publishMessage({ data: Buffer.from('{"id":"evt-1"}'), attributes: { type: 'test' } });

    const message = await arrived;
    await inspect.close();
    expect(message.data).toBe('{"id":"evt-1"}');
    expect(message.attributes.type).toBe('test');
    // Dead-lettered only after the endpoint refused it the configured number of times.
    expect(attempts).toBeGreaterThanOrEqual(5);
  }, 300_000);
});
