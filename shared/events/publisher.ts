/**
 * Publishing CloudEvents to Pub/Sub: JSON body (structured mode), filterable attributes
 * (`pubsubAttributes`), ordering key = job id so one job's events arrive in order on subscriptions
 * with message ordering enabled. The `EventPublisher` interface is what the outbox needs, so tests
 * and the local stack can pass another implementation.
 */
import type { PubSub } from '@google-cloud/pubsub';
import { TransientError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { pubsubAttributes } from './build.ts';
import type { CloudEvent } from './schemas.ts';

export interface EventPublisher {
  /** Resolves with the broker's message id once the event is accepted; rejects otherwise. */
  publish(event: CloudEvent): Promise<string>;
}

export interface PubSubPublisherOptions {
  pubsub: PubSub;
  /** Topic name (`tuning-events`) or full resource name. */
  topic: string;
  logger: Logger;
}

export function createPubSubPublisher({ pubsub, topic, logger }: PubSubPublisherOptions): EventPublisher {
  const handle = pubsub.topic(topic, { messageOrdering: true });
  return {
    async publish(event) {
      const orderingKey = event.subject;
      try {
        return await handle.publishMessage({
          data: Buffer.from(JSON.stringify(event)),
          attributes: pubsubAttributes(event),
          orderingKey,
        });
      } catch (error) {
        // A failed publish pauses its ordering key; without this every later event of the job
        // would fail at once. The outbox keeps the failed event and re-publishes it first.
        handle.resumePublishing(orderingKey);
        logger.warn('pubsub publish failed', { topic, eventId: event.id, orderingKey, error });
        throw new TransientError(
          `publishing event ${event.id} to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`,
          'PUBLISH_FAILED',
          { cause: error },
        );
      }
    },
  };
}

/**
 * An in-memory publisher: keeps what it was given, in order. For unit tests of callers and for
 * runs without a broker; `failNext(n)` makes the next n publishes reject, to exercise retries.
 */
export function createMemoryPublisher(): EventPublisher & {
  published: CloudEvent[];
  failNext(count: number): void;
} {
  const published: CloudEvent[] = [];
  let failures = 0;
  return {
    published,
    failNext(count) {
      failures = count;
    },
    async publish(event) {
      if (failures > 0) {
        failures--;
        throw new TransientError(`publish of ${event.id} failed (injected)`, 'PUBLISH_FAILED');
      }
      published.push(structuredClone(event));
      return String(published.length);
    },
  };
}
