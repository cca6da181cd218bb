import type { Firestore } from '@google-cloud/firestore';
import { type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyTransition,
  type CloudEvent,
  createPubSubPublisher,
  type EventPublisher,
  flushAllPending,
  publishPending,
} from '../../shared/events/index.ts';
import {
  createFirestore,
  createFirestoreJobStore,
  type JobRecord,
  type JobStore,
} from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { uniqueName } from '../support/names.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';

const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test';
let firestore: Firestore;
let pubsub: PubSub;

beforeAll(() => {
  firestore = createFirestore({ project });
  pubsub = new PubSub({ projectId: project });
});
afterAll(async () => {
  await firestore.terminate();
  await pubsub.close();
});

const newStore = (): JobStore => createFirestoreJobStore({ firestore, collection: uniqueName('jobs') });

async function newTopic(): Promise<{ topic: string; subscription: Subscription }> {
  const topic = uniqueName('events');
  await pubsub.createTopic(topic);
  return { topic, subscription: await subscribe(topic) };
}

async function subscribe(topic: string): Promise<Subscription> {
  const [subscription] = await pubsub.topic(topic).createSubscription(uniqueName('sub'), {
    enableMessageOrdering: true,
  });
  return subscription;
}

/** Resolves with the first `count` messages the subscription delivers, acknowledged. */
function receive(subscription: Subscription, count: number): Promise<Message[]> {
  return new Promise((resolve) => {
    const messages: Message[] = [];
    const onMessage = (message: Message) => {
      message.ack();
      messages.push(message);
      if (messages.length === count) {
        subscription.off('message', onMessage);
        resolve(messages);
      }
    };
    subscription.on('message', onMessage);
  });
}

const body = (message: Message): CloudEvent => JSON.parse(message.data.toString('utf8'));

/** A running job that just succeeded: one pending job.succeeded in its outbox. */
function succeededJob(): JobRecord {
  return applyTransition(jobFixture('RUNNING'), 'SUCCEEDED', {
    now: new Date('2025-04-01T08:00:00.000Z'),
    project,
    patch: {
      result: {
        tunedModel: 'projects/p/locations/l/models/1',
        endpoint: 'projects/p/locations/l/endpoints/2',
      },
    },
  });
}

describe('the outbox and the Pub/Sub publisher', () => {
  it('publishes a pending event with its attributes and ordering key, then marks it published', async () => {
    const store = newStore();
    const { topic, subscription } = await newTopic();
    const logger = createMemoryLogger();
    const record = succeededJob();
    await store.create(record);
    const received = receive(subscription, 1);

    const outcome = await publishPending(
      store,
      createPubSubPublisher({ pubsub, topic, logger }),
      record.id,
      logger,
    );
    expect(outcome).toEqual({ published: 1, pending: 0 });

    const [message] = await received;
    const event = body(message!);
    expect(event.id).toBe(`${record.id}.v1.job.succeeded`);
    expect(event).toEqual(record.outbox[0]?.event);
    expect(message!.attributes).toEqual({
      type: 'tunedrop.v1.job.succeeded',
      jobId: record.id,
      state: 'SUCCEEDED',
      'content-type': 'application/cloudevents+json',
    });
    expect(message!.orderingKey).toBe(record.id);

    const stored = await store.get(record.id);
    expect(stored?.outbox[0]?.publishTime).toBeDefined();
    expect(stored?.outboxLease).toBeUndefined();
    expect(await store.listWithPendingEvents()).toEqual([]);
    await subscription.close();
  });

  it('keeps an event whose publish failed and publishes it, with the same id, on the next flush', async () => {
    const store = newStore();
    const logger = createMemoryLogger();
    const record = succeededJob();
    await store.create(record);
    // The topic does not exist yet: Pub/Sub answers NOT_FOUND, a real publish failure.
    const topic = uniqueName('events');
    const publisher = createPubSubPublisher({ pubsub, topic, logger });

    const failed = await flushAllPending(store, publisher, logger);
    expect(failed).toMatchObject({ jobs: 1, published: 0, pending: 1, failedJobs: 0 });
    expect((await store.listWithPendingEvents()).map((job) => job.id)).toEqual([record.id]);
    expect(
      logger.entries.some(
        (entry) => entry.message === 'event publish failed; it stays in the outbox for the next flush',
      ),
    ).toBe(true);

    await pubsub.createTopic(topic);
    const subscription = await subscribe(topic);
    const received = receive(subscription, 1);
    // Same publisher: the failure must not have left the job's ordering key paused.
    const recovered = await flushAllPending(store, publisher, logger);
    expect(recovered).toMatchObject({ jobs: 1, published: 1, pending: 0 });

    const [message] = await received;
    expect(body(message!).id).toBe(record.outbox[0]?.event.id);
    expect(message!.orderingKey).toBe(record.id);
    expect(await store.listWithPendingEvents()).toEqual([]);
    await subscription.close();
  });

  it('re-publishes with the same id after a crash between publishing and marking', async () => {
    const store = newStore();
    const { topic, subscription } = await newTopic();
    const logger = createMemoryLogger();
    const publisher = createPubSubPublisher({ pubsub, topic, logger });
    const record = succeededJob();
    await store.create(record);
    const received = receive(subscription, 2);

    // The "crashed" flusher got as far as publishing: the entry was never marked.
    await publisher.publish(record.outbox[0]!.event as CloudEvent);
    await flushAllPending(store, publisher, logger);

    const messages = await received;
    expect(messages.map((message) => body(message).id)).toEqual([
      record.outbox[0]?.event.id,
      record.outbox[0]?.event.id,
    ]);
    await subscription.close();
  });

  it("publishes one job's events in order, and only once when two flushes overlap", async () => {
    const store = newStore();
    const { topic, subscription } = await newTopic();
    const logger = createMemoryLogger();
    const pubsubPublisher = createPubSubPublisher({ pubsub, topic, logger });
    const now = new Date('2025-04-01T08:00:00.000Z');
    let record = applyTransition(jobFixture('QUEUED'), 'PENDING', { now, project });
    record = applyTransition(record, 'RUNNING', { now, project });
    record = applyTransition(record, 'FAILED', {
      now,
      project,
      patch: { error: { code: 13, message: 'internal' } },
    });
    await store.create(record);
    const received = receive(subscription, 3);

    // The first flusher is held inside its first publish, i.e. after it has claimed the outbox.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slowPublisher: EventPublisher = {
      async publish(event) {
        entered();
        await gate;
        return pubsubPublisher.publish(event);
      },
    };
    const first = publishPending(store, slowPublisher, record.id, logger);
    await inside;
    const second = await publishPending(store, pubsubPublisher, record.id, logger);
    expect(second).toEqual({ published: 0, pending: 0, leased: 3, skipped: 'leased' });
    release();
    expect(await first).toEqual({ published: 3, pending: 0 });

    const messages = await received;
    expect(messages.map((message) => message.attributes.type)).toEqual([
      'tunedrop.v1.job.started',
      'tunedrop.v1.job.running',
      'tunedrop.v1.job.failed',
    ]);
    expect(body(messages[2]!).data).toMatchObject({
      state: 'FAILED',
      error: { code: 13, message: 'internal' },
    });
    const stored = await store.get(record.id);
    expect(stored?.outbox.every((entry) => entry.publishTime)).toBe(true);
    expect(stored?.outboxLease).toBeUndefined();
    await subscription.close();
  });

  it('takes over the outbox of a flusher that died holding it, once its lease has run out', async () => {
    const store = newStore();
    const { topic, subscription } = await newTopic();
    const logger = createMemoryLogger();
    const publisher = createPubSubPublisher({ pubsub, topic, logger });
    const now = new Date('2025-04-01T08:00:00.000Z');
    const held = {
      ...succeededJob(),
      outboxLease: { owner: 'dead-flusher', until: '2025-04-01T08:02:00.000Z' },
    };
    await store.create(held);
    const received = receive(subscription, 1);

    const during = await publishPending(store, publisher, held.id, logger, { now: () => now });
    expect(during).toEqual({ published: 0, pending: 0, leased: 1, skipped: 'leased' });
    const after = await publishPending(store, publisher, held.id, logger, {
      now: () => new Date('2025-04-01T08:02:01.000Z'),
    });
    expect(after).toEqual({ published: 1, pending: 0 });
    expect(body((await received)[0]!).id).toBe(held.outbox[0]?.event.id);
    await subscription.close();
  });
});
