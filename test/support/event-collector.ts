/**
 * A fresh Pub/Sub topic on the emulator with a subscription that keeps every CloudEvent published
 * to it, in arrival order: what a test of the pipeline reads its events from.
 */
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { CloudEvent } from '../../shared/events/index.ts';
import { uniqueName } from './names.ts';

export interface EventCollector {
  topic: string;
  subscription: Subscription;
  received: CloudEvent[];
}

export async function collectEvents(pubsub: PubSub): Promise<EventCollector> {
  const topic = uniqueName('events');
  await pubsub.createTopic(topic);
  const [subscription] = await pubsub.topic(topic).createSubscription(uniqueName('sub'));
  const received: CloudEvent[] = [];
  subscription.on('message', (message: Message) => {
    message.ack();
    received.push(JSON.parse(message.data.toString('utf8')) as CloudEvent);
  });
  return { topic, subscription, received };
}
