/**
 * The local stack's Pub/Sub wiring: the topic names the deployment uses, the push subscription
 * standing in for the deliver-webhooks trigger, and the pull subscriptions that hand each event
 * (and each dead letter) to the console.
 */
import type { Subscription } from '@google-cloud/pubsub';
import type { Logger } from '../shared/logging/index.ts';

export const eventsTopic = 'tuning-events';
export const deadLetterTopic = 'tuning-events-dead-letter';

/**
 * The push subscription standing in for the deliver-webhooks trigger, with the deployment's retry
 * and dead-letter policies (terraform/pubsub.tf). The Pub/Sub emulator honours the dead-letter
 * policy on push subscriptions: test/integration/local-stack-dead-letter.test.ts shows a message
 * its endpoint keeps refusing arriving on the dead-letter topic.
 */
export function deliverWebhooksSubscription(input: {
  pushEndpoint: string;
  deadLetterTopic: string;
  maxDeliveryAttempts?: number;
}) {
  return {
    pushConfig: { pushEndpoint: input.pushEndpoint },
    ackDeadlineSeconds: 30,
    retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 30 } },
    deadLetterPolicy: {
      deadLetterTopic: input.deadLetterTopic,
      maxDeliveryAttempts: input.maxDeliveryAttempts ?? 10,
    },
  };
}

/**
 * Hands every message of `subscription` to `deliver` as parsed JSON, acknowledged first: the
 * console is an observer, so an unreadable message is logged once and never redelivered.
 */
export function forwardMessages(
  subscription: Subscription,
  deliver: ((event: Record<string, unknown>) => void) | undefined,
  logger: Logger,
  unreadable: string,
): void {
  subscription.on('message', (message) => {
    message.ack();
    try {
      deliver?.(JSON.parse(message.data.toString()));
    } catch (error) {
      logger.warn(unreadable, { error });
    }
  });
}
