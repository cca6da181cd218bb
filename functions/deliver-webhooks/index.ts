/**
 * deliver-webhooks: the Pub/Sub `messagePublished` adapter over shared/webhooks. A malformed
 * message is logged and acknowledged (retrying cannot fix it); a delivery that failed in a way a
 * retry could fix throws, so Pub/Sub redelivers with backoff and, after the configured attempts,
 * dead-letters it; a message older than `eventMaxAgeMs` is given up on instead of retried forever.
 */
import type { Config } from '../../shared/config/index.ts';
import { TransientError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import {
  type DeliveryLedger,
  deliverEvent,
  type EndpointStateStore,
  isRetryable,
  type ResolveHost,
  type Transport,
} from '../../shared/webhooks/index.ts';
import {
  formatRedeliveredFailure,
  logGaveUpTooOld,
  logMalformedMessage,
  logNoEndpointWants,
  logOutcome,
  logWillRetry,
} from './logs.ts';
import { parseMessagePublished } from './message.ts';

export interface DeliverWebhooksDeps {
  config: Pick<Config, 'webhooks' | 'eventMaxAgeMs'>;
  logger: Logger;
  endpointState: EndpointStateStore;
  deliveries: DeliveryLedger;
  clock: () => Date;
  /** node:http(s) pinned to the checked address unless given. */
  transport?: Transport;
  /** dns.lookup unless given. */
  resolve?: ResolveHost;
}

/** The subset of the Functions Framework's CloudEvent this handler reads. */
export interface IncomingCloudEvent {
  id?: string;
  data?: unknown;
}

export function createDeliverWebhooksHandler(deps: DeliverWebhooksDeps) {
  return async function deliverWebhooks(cloudEvent: IncomingCloudEvent): Promise<void> {
    const parsed = parseMessagePublished(cloudEvent.data);
    if (!parsed.ok) {
      logMalformedMessage(deps.logger, {
        messageId: parsed.messageId ?? cloudEvent.id,
        problem: parsed.problem,
      });
      return;
    }
    const { event, messageId, publishTime } = parsed.value;
    const ref = { id: event.id, type: event.type, messageId, subject: event.subject };

    const outcomes = await deliverEvent(event, {
      endpoints: deps.config.webhooks.endpoints,
      policy: {
        requireHttps: deps.config.webhooks.requireHttps,
        allowHosts: deps.config.webhooks.allowHosts,
      },
      timeoutMs: deps.config.webhooks.timeoutMs,
      now: deps.clock,
      endpointState: deps.endpointState,
      deliveries: deps.deliveries,
      transport: deps.transport,
      resolve: deps.resolve,
    });
    if (outcomes.length === 0) logNoEndpointWants(deps.logger, ref);

    const failures = outcomes.filter(isRetryable);
    const ageMs = deps.clock().getTime() - publishTime.getTime();
    const redeliver = failures.length > 0 && ageMs <= deps.config.eventMaxAgeMs;
    // A failure Pub/Sub will redeliver is told once, by the error the framework logs (below).
    const told = redeliver
      ? failures.map((outcome) =>
          outcome.result === 'failed' ? formatRedeliveredFailure(deps.logger, ref, outcome) : undefined,
        )
      : [];
    for (const outcome of outcomes) {
      if (redeliver && told[failures.indexOf(outcome)] !== undefined) continue;
      logOutcome(deps.logger, ref, outcome);
    }

    const failed = failures.length;
    if (failed === 0) return;
    if (!redeliver) {
      logGaveUpTooOld(deps.logger, ref, { failed, ageMs });
      return;
    }
    const error = new TransientError(
      `webhook delivery failed for ${failed} endpoint(s) of event ${event.id}`,
      'webhook-delivery-failed',
    );
    const lines = told.filter((line): line is string => line !== undefined);
    if (lines.length === failed) {
      // The framework prints `stack` alone: the attempt's log lines, no trace (an expected retry).
      Object.defineProperty(error, 'stack', { value: lines.join('\n') });
    } else {
      logWillRetry(deps.logger, ref, failed);
    }
    throw error;
  };
}
