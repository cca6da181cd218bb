/**
 * The Pub/Sub `messagePublished` CloudEvent that Eventarc delivers, and the tunedrop CloudEvent
 * inside it (base64 JSON in `data.message.data`). Eventarc sends both the camelCase and the
 * snake_case spelling of the message fields; either is accepted.
 */
import { z } from 'zod';
import { DeliverableEvent } from '../../shared/webhooks/index.ts';

const PubsubMessage = z
  .object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
    publishTime: z.string().optional(),
    publish_time: z.string().optional(),
  })
  .transform((message, context) => {
    const messageId = message.messageId ?? message.message_id;
    const publishTime = message.publishTime ?? message.publish_time;
    if (!messageId) context.addIssue({ code: 'custom', message: 'message id missing' });
    if (!publishTime || Number.isNaN(Date.parse(publishTime))) {
      context.addIssue({ code: 'custom', message: 'publish time missing or invalid' });
    }
    return {
      data: message.data,
      attributes: message.attributes ?? {},
      messageId: messageId ?? '',
      publishTime: publishTime ?? '',
    };
  });

export const MessagePublishedData = z.object({
  message: PubsubMessage,
  subscription: z.string().optional(),
});

export interface ReceivedEvent {
  messageId: string;
  publishTime: Date;
  attributes: Record<string, string>;
  event: DeliverableEvent & { time: string };
}

export type ParsedMessage =
  | { ok: true; value: ReceivedEvent }
  | { ok: false; messageId?: string; problem: string };

/** Never throws: a message that cannot be read is a permanent problem, reported by the caller. */
export function parseMessagePublished(cloudEventData: unknown): ParsedMessage {
  const envelope = MessagePublishedData.safeParse(cloudEventData);
  if (!envelope.success) {
    const raw = cloudEventData as { message?: { messageId?: unknown; message_id?: unknown } } | undefined;
    const id = raw?.message?.messageId ?? raw?.message?.message_id;
    return {
      ok: false,
      ...(typeof id === 'string' ? { messageId: id } : {}),
      problem: `not a Pub/Sub messagePublished event: ${z.prettifyError(envelope.error)}`,
    };
  }
  const { message } = envelope.data;
  const messageId = message.messageId;
  if (!message.data) return { ok: false, messageId, problem: 'the message has no data' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8'));
  } catch {
    return { ok: false, messageId, problem: 'the message data is not base64 JSON' };
  }
  const event = DeliverableEvent.safeParse(json);
  if (!event.success) {
    return {
      ok: false,
      messageId,
      problem: `the message data is not a CloudEvent: ${z.prettifyError(event.error)}`,
    };
  }
  return {
    ok: true,
    value: {
      messageId,
      publishTime: new Date(message.publishTime),
      attributes: message.attributes,
      // CloudEvents makes `time` optional; the publish time is stable across redeliveries too.
      event: { ...event.data, time: event.data.time ?? message.publishTime },
    },
  };
}
