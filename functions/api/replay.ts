/**
 * Re-publishing a job's events as they were first built: same CloudEvent, same id, in their
 * original order, so subscribers that deduplicate on the id see nothing new and those that lost an
 * event get it back. Each copy carries the `replay: true` extension attribute (and Pub/Sub
 * attribute), so consoles and subscribers can tell an operator's re-send from the original. The
 * outbox is not touched: an entry still pending is also published by the next flush, which is the
 * at-least-once delivery subscribers already handle.
 */
import { asReplay, CloudEventEnvelope } from '../../shared/events/index.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { logs } from './logs.ts';

export async function replayEvents(
  deps: ApiDeps,
  jobId: string,
): Promise<{ jobId: string; eventIds: string[] }> {
  const job = await deps.store.get(jobId);
  // A rejected upload's one event is kept on its record.
  const rejection = job ? undefined : await deps.rejections.get(jobId);
  if (!job && !rejection) throw new ApiError('NOT_FOUND', `job ${jobId} not found`);
  const stored = job ? job.outbox.map((entry) => entry.event) : [rejection!.event];
  const eventIds: string[] = [];
  for (const entry of stored) {
    const event = CloudEventEnvelope.parse(entry);
    try {
      await deps.publisher.publish(asReplay(event));
    } catch (error) {
      throw new ApiError(
        'UNAVAILABLE',
        `replayed ${eventIds.length} of ${stored.length} events; publishing ${event.id} failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    eventIds.push(event.id);
  }
  logs.eventsReplayed(deps.logger, jobId, eventIds);
  return { jobId, eventIds };
}
