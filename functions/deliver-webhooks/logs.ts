/**
 * Every log line deliver-webhooks writes, by name. Endpoints appear as host and path only (a query
 * string may carry a token) and no secret or signature is ever passed in.
 */
import type { Logger } from '../../shared/logging/index.ts';
import type { DeliveryOutcome, WebhookEvent } from '../../shared/webhooks/index.ts';

type EventRef = Pick<WebhookEvent, 'id' | 'type'> & { messageId: string; subject?: string };

const eventFields = (event: EventRef) => ({
  eventId: event.id,
  eventType: event.type,
  messageId: event.messageId,
  ...(event.subject ? { jobId: event.subject } : {}),
});

type Outcome<K extends DeliveryOutcome['result']> = Extract<DeliveryOutcome, { result: K }>;

// `outcome` (delivered, failed, gone, refused, skipped-gone, already-delivered) is what the
// delivery metrics count (terraform/monitoring.tf), with `eventType` and `jobId` from eventFields.
const endpointFields = (outcome: DeliveryOutcome) => ({
  endpoint: `${outcome.host}${outcome.path}`,
  endpointId: outcome.endpointId,
  outcome: outcome.result,
});

export function logMalformedMessage(logger: Logger, details: { messageId?: string; problem: string }): void {
  logger.error(`malformed Pub/Sub message acknowledged without delivery: ${details.problem}`, {
    messageId: details.messageId ?? 'unknown',
  });
}

export function logDelivered(logger: Logger, event: EventRef, outcome: Outcome<'delivered'>): void {
  logger.info(`webhook delivered to ${outcome.host}${outcome.path}`, {
    ...eventFields(event),
    ...endpointFields(outcome),
    status: outcome.status,
    latencyMs: outcome.latencyMs,
    attempt: outcome.attempt,
    ...(outcome.recorded ? {} : { warning: 'success not recorded; a redelivery may send it again' }),
  });
}

export function logEndpointGone(logger: Logger, event: EventRef, outcome: Outcome<'gone'>): void {
  logger.warn(
    `webhook endpoint ${outcome.host}${outcome.path} answered 410 Gone: the receiver asked to stop, so no further events will be sent to it until its configuration changes`,
    {
      ...eventFields(event),
      ...endpointFields(outcome),
      status: 410,
      latencyMs: outcome.latencyMs,
      attempt: outcome.attempt,
      ...(outcome.recorded ? {} : { warning: 'could not record the endpoint as gone' }),
    },
  );
}

export function logSkippedGoneEndpoint(
  logger: Logger,
  event: EventRef,
  outcome: Outcome<'skipped-gone'>,
): void {
  logger.info(
    `webhook not sent to ${outcome.host}${outcome.path}: it answered 410 Gone at ${outcome.goneAt}`,
    {
      ...eventFields(event),
      ...endpointFields(outcome),
    },
  );
}

export function logAlreadyDelivered(
  logger: Logger,
  event: EventRef,
  outcome: Outcome<'already-delivered'>,
): void {
  logger.info(`webhook already delivered to ${outcome.host}${outcome.path}; not sent again`, {
    ...eventFields(event),
    ...endpointFields(outcome),
  });
}

export function logRefusedByPolicy(logger: Logger, event: EventRef, outcome: Outcome<'refused'>): void {
  logger.error(
    `webhook endpoint ${outcome.host}${outcome.path} refused by the endpoint policy: ${outcome.reason}`,
    {
      ...eventFields(event),
      ...endpointFields(outcome),
    },
  );
}

const failedMessage = (outcome: Outcome<'failed'>, redelivered: boolean) =>
  `webhook delivery to ${outcome.host}${outcome.path} failed: ${outcome.detail}${
    redelivered ? '; Pub/Sub redelivers the event' : ''
  }`;

const failedFields = (event: EventRef, outcome: Outcome<'failed'>) => ({
  ...eventFields(event),
  ...endpointFields(outcome),
  reason: outcome.reason,
  ...(outcome.status === undefined ? {} : { status: outcome.status }),
  ...(outcome.latencyMs === undefined ? {} : { latencyMs: outcome.latencyMs }),
  ...(outcome.attempt === undefined ? {} : { attempt: outcome.attempt }),
});

export function logDeliveryFailed(logger: Logger, event: EventRef, outcome: Outcome<'failed'>): void {
  logger.warn(failedMessage(outcome, false), failedFields(event, outcome));
}

/**
 * The log line of a failed attempt whose message Pub/Sub will redeliver, as text: it becomes the
 * `stack` of the error thrown to the Functions Framework, which prints `stack` and nothing else.
 * So each attempt leaves exactly one structured line per failing endpoint in the log, never a
 * stack trace. Undefined when the logger cannot format (then it is logged the usual way).
 */
export function formatRedeliveredFailure(
  logger: Logger,
  event: EventRef,
  outcome: Outcome<'failed'>,
): string | undefined {
  return logger.format?.('WARNING', failedMessage(outcome, true), {
    ...failedFields(event, outcome),
    redelivered: true,
  });
}

export function logOutcome(logger: Logger, event: EventRef, outcome: DeliveryOutcome): void {
  switch (outcome.result) {
    case 'delivered':
      logDelivered(logger, event, outcome);
      return;
    case 'gone':
      logEndpointGone(logger, event, outcome);
      return;
    case 'skipped-gone':
      logSkippedGoneEndpoint(logger, event, outcome);
      return;
    case 'already-delivered':
      logAlreadyDelivered(logger, event, outcome);
      return;
    case 'refused':
      logRefusedByPolicy(logger, event, outcome);
      return;
    case 'failed':
      logDeliveryFailed(logger, event, outcome);
      return;
  }
}

export function logNoEndpointWants(logger: Logger, event: EventRef): void {
  logger.debug('no webhook endpoint wants this event type', eventFields(event));
}

export function logWillRetry(logger: Logger, event: EventRef, failed: number): void {
  logger.warn(`${failed} webhook deliveries failed; failing the function so Pub/Sub redelivers`, {
    ...eventFields(event),
    failed,
  });
}

export function logGaveUpTooOld(
  logger: Logger,
  event: EventRef,
  details: { failed: number; ageMs: number },
): void {
  logger.error(
    `giving up on ${details.failed} webhook deliveries: the message is older than the event age limit`,
    { ...eventFields(event), failed: details.failed, ageMs: details.ageMs },
  );
}
