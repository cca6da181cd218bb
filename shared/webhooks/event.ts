/**
 * The part of a tunedrop CloudEvent that webhook delivery needs. Deliberately looser than the event
 * schemas in shared/events: the deliverer forwards whatever the topic carries, so a new event type
 * reaches the endpoints that asked for it without a change here.
 */
import { z } from 'zod';

export const DeliverableEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().optional(),
  /** RFC 3339; the body's `timestamp`. CloudEvents makes it optional, so the caller supplies a fallback. */
  time: z.string().optional(),
  datacontenttype: z.string().optional(),
  /** The CloudEvents `replay` extension: a copy re-published by `tunedrop jobs replay`. */
  replay: z.boolean().optional(),
  data: z.unknown(),
});
export type DeliverableEvent = z.infer<typeof DeliverableEvent>;
