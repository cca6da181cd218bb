/**
 * deliver-webhooks on the real Pub/Sub and Firestore emulators: a CloudEvent is published to a
 * topic, pulled from a subscription, wrapped as the messagePublished CloudEvent Eventarc sends, and
 * handed to the handler; a thrown error nacks the message, as the platform would, and Pub/Sub
 * redelivers it. Delivery state lives in Firestore, so it survives across handler instances.
 */
import { Firestore } from '@google-cloud/firestore';
import { type Message, PubSub, type Subscription, type Topic } from '@google-cloud/pubsub';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverWebhooksHandler } from '../../functions/deliver-webhooks/index.ts';
import { TransientError } from '../../shared/errors/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import {
  createFirestoreDeliveryLedger,
  createFirestoreEndpointStateStore,
  deliveryIdOf,
  endpointIdOf,
  resolveWithDns,
} from '../../shared/webhooks/index.ts';
import { uniqueName } from '../support/names.ts';
import {
  newWebhookSecret,
  type ReceivedRequest,
  startReceiver,
  webhookHeadersOf,
} from '../unit/webhooks/receiver.ts';

const projectId = process.env.GOOGLE_CLOUD_PROJECT;
let pubsub: PubSub;
let firestore: Firestore;
let topic: Topic;

beforeAll(async () => {
  pubsub = new PubSub({ projectId });
  firestore = new Firestore({ projectId });
  [topic] = await pubsub.createTopic(uniqueName('tuning-events'));
});

afterAll(async () => {
  await pubsub.close();
  await firestore.terminate();
});

function cloudEventFor(id: string, jobId: string) {
  return {
    specversion: '1.0',
    id,
    source: `//tunedrop/projects/${projectId}`,
    type: 'tunedrop.v1.job.succeeded',
    subject: jobId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { jobId, state: 'SUCCEEDED', tunedModel: { model: 'projects/p/locations/l/models/1' } },
  };
}

async function publish(event: ReturnType<typeof cloudEventFor>) {
  await topic.publishMessage({
    json: event,
    attributes: { type: event.type, jobId: event.subject, state: 'SUCCEEDED' },
  });
}

/** The CloudEvent Eventarc builds around a Pub/Sub message for a messagePublished trigger. */
function asEventarcCloudEvent(message: Message, subscription: Subscription) {
  return {
    specversion: '1.0',
    id: message.id,
    source: `//pubsub.googleapis.com/${topic.name}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    time: message.publishTime.toISOString(),
    data: {
      message: {
        data: message.data.toString('base64'),
        attributes: message.attributes,
        messageId: message.id,
        publishTime: message.publishTime.toISOString(),
      },
      subscription: subscription.name,
    },
  };
}

type Handler = ReturnType<typeof createDeliverWebhooksHandler>;

/**
 * Subscribes (before anything is published, since a subscription only sees later messages) and
 * runs the handler on each message as the platform does: ack on success, nack on a throw, with
 * `onFailure` run before the nack. `done` settles once `count` messages were acknowledged.
 */
async function startConsumer(
  handler: Handler,
  count: number,
  onFailure: (error: TransientError) => Promise<void> = async () => {},
) {
  const [subscription] = await topic.createSubscription(uniqueName('deliver-webhooks'));
  let handled = 0;
  let acked = 0;
  const finished = new Promise<void>((resolve, reject) => {
    subscription.on('error', reject);
    subscription.on('message', async (message: Message) => {
      handled += 1;
      try {
        await handler(asEventarcCloudEvent(message, subscription));
        message.ack();
        acked += 1;
        if (acked === count) resolve();
      } catch (error) {
        if (!(error instanceof TransientError)) return reject(error);
        await onFailure(error);
        message.nack();
      }
    });
  });
  const done = finished.finally(() => subscription.close()).then(() => ({ handled }));
  return { done };
}

function createHandler(port: number, secret: string, collections: { endpoints: string; deliveries: string }) {
  return createDeliverWebhooksHandler({
    config: {
      eventMaxAgeMs: 60 * 60_000,
      webhooks: {
        endpoints: [{ url: `http://127.0.0.1:${port}/tunedrop`, secrets: [secret], types: [] }],
        requireHttps: false,
        allowHosts: ['127.0.0.1'],
        timeoutMs: 30_000,
      },
    },
    logger: createMemoryLogger(),
    endpointState: createFirestoreEndpointStateStore(firestore, collections.endpoints),
    deliveries: createFirestoreDeliveryLedger(firestore, { collection: collections.deliveries }),
    clock: () => new Date(),
  });
}

describe('deliver-webhooks on the Pub/Sub and Firestore emulators', () => {
  it('redelivers after the receiver answered 503, with the same webhook-id and a valid signature each time', async () => {
    const receiver = await startReceiver();
    const port = receiver.port;
    const secret = newWebhookSecret();
    const collections = { endpoints: uniqueName('endpoints'), deliveries: uniqueName('deliveries') };
    const handler = createHandler(port, secret, collections);
    const event = cloudEventFor(uniqueName('evt'), uniqueName('job'));

    // The receiver is down for the first delivery (503): the function throws, the message is
    // nacked, and the redelivered message is answered 204.
    receiver.respond((_request, response) => {
      response.writeHead(receiver.requests.length === 1 ? 503 : 204).end();
      return undefined;
    });
    const consumer = await startConsumer(handler, 1);
    await publish(event);
    const { handled } = await consumer.done;

    expect(handled).toBe(2);
    expect(receiver.requests).toHaveLength(2);
    const [first, second] = receiver.requests as [ReceivedRequest, ReceivedRequest];
    expect(first.headers['webhook-id']).toBe(event.id);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    const expectedPayload = { type: event.type, timestamp: event.time, data: event.data };
    for (const request of [first, second]) {
      // Each attempt is signed afresh: webhook-timestamp may differ, and each one verifies.
      expect(request.headers['webhook-timestamp']).toMatch(/^\d+$/);
      expect(new Webhook(secret).verify(request.body, webhookHeadersOf(request))).toEqual(expectedPayload);
    }
    const record = await firestore
      .collection(collections.deliveries)
      .doc(deliveryIdOf(event.id, endpointIdOf(`http://127.0.0.1:${port}/tunedrop`)))
      .get();
    expect(record.data()).toMatchObject({ delivered: true, attempts: 2, status: 204 });
    expect(record.get('expireAt')).toBeDefined();

    // The same event published again (an outbox re-publish) is not sent a second time.
    const again = await startConsumer(createHandler(port, secret, collections), 1);
    await publish(event);
    await again.done;
    expect(receiver.requests).toHaveLength(2);
    await receiver.close();
  });

  it('retries a delivery whose host did not resolve, and records it delivered only once it was', async () => {
    const receiver = await startReceiver();
    const secret = newWebhookSecret();
    const collections = { endpoints: uniqueName('endpoints'), deliveries: uniqueName('deliveries') };
    const url = `http://receiver.tunedrop.test:${receiver.port}/tunedrop`;
    const event = cloudEventFor(uniqueName('evt'), uniqueName('job'));
    const logger = createMemoryLogger();
    // The resolver is the system's: while "DNS is down" it is asked for a name in the reserved
    // .invalid domain (RFC 6761), which never resolves, so the error is the real getaddrinfo one.
    let dnsDown = true;
    const handler = createDeliverWebhooksHandler({
      config: {
        eventMaxAgeMs: 60 * 60_000,
        webhooks: {
          endpoints: [{ url, secrets: [secret], types: [] }],
          requireHttps: false,
          allowHosts: ['receiver.tunedrop.test'],
          timeoutMs: 30_000,
        },
      },
      logger,
      endpointState: createFirestoreEndpointStateStore(firestore, collections.endpoints),
      deliveries: createFirestoreDeliveryLedger(firestore, { collection: collections.deliveries }),
      clock: () => new Date(),
      resolve: (hostname) =>
        resolveWithDns(dnsDown ? `${hostname.replaceAll('.', '-')}.invalid` : 'localhost'),
    });
    const ledger = firestore
      .collection(collections.deliveries)
      .doc(deliveryIdOf(event.id, endpointIdOf(url)));
    const failures: string[] = [];
    const consumer = await startConsumer(handler, 1, async (error) => {
      // The failed attempt is counted, and the delivery is not recorded as done.
      expect((await ledger.get()).data()).toMatchObject({ delivered: false, attempts: 1 });
      // Its one log line travels as the error's text, which the Functions Framework prints.
      failures.push(String(error.stack));
      dnsDown = false;
    });
    await publish(event);
    const { handled } = await consumer.done;

    expect(handled).toBe(2);
    expect(receiver.requests).toHaveLength(1);
    expect((await ledger.get()).data()).toMatchObject({ delivered: true, attempts: 2, status: 204 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/did not resolve \((ENOTFOUND|EAI_AGAIN)\)/);
    expect(failures[0]).toContain('"reason":"unresolved"');
    await receiver.close();
  });

  it('remembers in Firestore that an endpoint answered 410 and sends it nothing more', async () => {
    const receiver = await startReceiver();
    receiver.respond(410);
    const secret = newWebhookSecret();
    const collections = { endpoints: uniqueName('endpoints'), deliveries: uniqueName('deliveries') };

    const first = await startConsumer(createHandler(receiver.port, secret, collections), 1);
    await publish(cloudEventFor(uniqueName('evt'), uniqueName('job')));
    await first.done;

    // A new handler instance (another function instance) reads the state from Firestore.
    receiver.respond(200);
    const second = await startConsumer(createHandler(receiver.port, secret, collections), 1);
    await publish(cloudEventFor(uniqueName('evt'), uniqueName('job')));
    await second.done;

    expect(receiver.requests).toHaveLength(1);
    const gone = await firestore
      .collection(collections.endpoints)
      .doc(endpointIdOf(`http://127.0.0.1:${receiver.port}/tunedrop`))
      .get();
    expect(gone.data()).toMatchObject({
      status: 'gone',
      host: `127.0.0.1:${receiver.port}`,
      path: '/tunedrop',
    });
    await receiver.close();
  });
});
